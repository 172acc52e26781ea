// SPDX-License-Identifier: GPL-2.0

//! The C synchronisation primitives user notification needs and the 6.12
//! kernel crate does not wrap: [`InterruptibleMutex`], a mutex whose
//! waiters a signal can interrupt (`mutex_lock_interruptible()`), as the
//! listener's lock must be: its ioctls return `-EINTR` and its poll
//! `EPOLLERR` when interrupted while waiting for it, as in C (the crate's
//! `Mutex` only locks uninterruptibly); [`Completion`], on which a trapped
//! task waits for its answer; and [`WaitQueue`], a wait queue head with
//! poll keys, on which pollers and receivers wait for notifications.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use kernel::{
    alloc::flags::GFP_KERNEL, bindings, ffi::c_int, prelude::*, str::CStr, sync::Arc, types::Opaque,
};

/// A lockdep class for one kind of [`InterruptibleMutex`]; lives in a
/// `static`, as lockdep requires.
pub(crate) struct ClassKey(Opaque<bindings::lock_class_key>);

// SAFETY: Lockdep only reads the key's address; its content is its own.
unsafe impl Sync for ClassKey {}

impl ClassKey {
    /// A key for a `static`.
    pub(crate) const fn new() -> Self {
        Self(Opaque::uninit())
    }
}

/// A `struct mutex` and the data it protects.
///
/// # Invariants
///
/// `mutex` is initialised, and `data` is only reached through a [`Guard`],
/// which exists only while its thread holds `mutex`.
#[pin_data]
pub(crate) struct InterruptibleMutex<T> {
    #[pin]
    mutex: Opaque<bindings::mutex>,
    data: UnsafeCell<T>,
}

// SAFETY: The mutex serialises every access to `data`, so the lock can be
// sent and shared between threads whenever `T` can be sent.
unsafe impl<T: Send> Send for InterruptibleMutex<T> {}
// SAFETY: As above.
unsafe impl<T: Send> Sync for InterruptibleMutex<T> {}

impl<T> InterruptibleMutex<T> {
    /// A mutex named `name` for lockdep, of class `key`, protecting `data`.
    pub(crate) fn new(data: T, name: &'static CStr, key: &'static ClassKey) -> impl PinInit<Self> {
        pin_init!(Self {
            data: UnsafeCell::new(data),
            // SAFETY: `__mutex_init` initialises the mutex in place; `name`
            // and `key` are static.
            mutex <- Opaque::ffi_init(|slot| unsafe {
                bindings::__mutex_init(slot, name.as_char_ptr(), key.0.get())
            }),
        })
    }

    /// Waits for the mutex, whatever the signals.
    pub(crate) fn lock(&self) -> Guard<'_, T> {
        // SAFETY: The mutex is initialised (type invariant).
        unsafe { bindings::mutex_lock(self.mutex.get()) };
        // INVARIANT: This thread holds the mutex.
        Guard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Waits for the mutex unless a signal arrives first (`EINTR`).
    pub(crate) fn lock_interruptible(&self) -> Result<Guard<'_, T>> {
        // SAFETY: The mutex is initialised (type invariant).
        let ret = unsafe { bindings::mutex_lock_interruptible(self.mutex.get()) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: This thread holds the mutex.
        Ok(Guard {
            lock: self,
            _not_send: PhantomData,
        })
    }
}

/// Access to the data of an [`InterruptibleMutex`]; unlocks when dropped.
///
/// # Invariants
///
/// The thread that has the guard holds `lock`'s mutex.
pub(crate) struct Guard<'a, T> {
    lock: &'a InterruptibleMutex<T>,
    /// A mutex is released by the thread that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: We hold the mutex (type invariant): nobody else reaches
        // the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As for `deref`; the guard is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: We hold the mutex (type invariant) and give it back once.
        unsafe { bindings::mutex_unlock(self.lock.mutex.get()) };
    }
}

/// A C `struct completion`: one side waits, the other completes.
///
/// # Invariants
///
/// The completion is initialised before any method but
/// [`Completion::init`] is called: [`Completion::new`] does it, and a
/// [`Completion::uninit`] one is only used once its owner called
/// [`Completion::init`] where it stays.
pub(crate) struct Completion(Opaque<bindings::completion>);

// SAFETY: A completion is designed to be signalled and waited on from
// different tasks; all access goes through the C functions.
unsafe impl Send for Completion {}
// SAFETY: As above.
unsafe impl Sync for Completion {}

impl Completion {
    /// A completion to be initialised where it will stay ([`Completion::init`]).
    pub(crate) const fn uninit() -> Self {
        Completion(Opaque::uninit())
    }

    /// Initialises the completion at `this`, not yet completed.
    ///
    /// # Safety
    ///
    /// `this` is valid, will not move, and no one else uses it yet.
    pub(crate) unsafe fn init(this: *const Completion) {
        // SAFETY: As the function's safety requirements say.
        unsafe { bindings::init_completion(Opaque::raw_get(core::ptr::addr_of!((*this).0))) };
    }

    /// A new, not yet completed completion.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let this = Arc::new(Completion(Opaque::uninit()), GFP_KERNEL)?;
        // SAFETY: The completion is in its final place (an `Arc` never
        // moves its contents) and no one else can see it yet.
        unsafe { bindings::init_completion(this.0.get()) };
        Ok(this)
    }

    /// Wakes the waiter (on this CPU if `on_current_cpu`: the waker is
    /// about to sleep, `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`).
    pub(crate) fn complete(&self, on_current_cpu: bool) {
        // SAFETY: The completion is initialised (type invariant).
        unsafe {
            if on_current_cpu {
                bindings::complete_on_current_cpu(self.0.get())
            } else {
                bindings::complete(self.0.get())
            }
        }
    }

    /// Waits for a completion; `Err` (`ERESTARTSYS`) if a signal (any, or
    /// only fatal ones if `killable`) came first.
    pub(crate) fn wait(&self, killable: bool) -> Result {
        // SAFETY: The completion is initialised (type invariant); we may
        // sleep.
        let ret = unsafe {
            if killable {
                bindings::wait_for_completion_killable(self.0.get())
            } else {
                bindings::wait_for_completion_interruptible(self.0.get())
            }
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(ret))
        }
    }
}

/// A C `struct wait_queue_head` whose wake-ups carry poll keys
/// (`wake_up_poll()`), for tasks that wait for a condition and for
/// `poll()`.
///
/// # Invariants
///
/// The head is initialised (by [`WaitQueue::new`]) and does not move.
#[pin_data]
pub(crate) struct WaitQueue {
    #[pin]
    head: Opaque<bindings::wait_queue_head>,
}

// SAFETY: A wait queue is used from any task through the C wait-queue API,
// which does its own locking.
unsafe impl Send for WaitQueue {}
// SAFETY: As above.
unsafe impl Sync for WaitQueue {}

impl WaitQueue {
    /// The C head: what `Opaque::get` returns (`Opaque<T>` is
    /// `#[repr(transparent)]` over `T`'s storage, in an `UnsafeCell`),
    /// spelled out so that it is inlined: the kernel crate's own instance
    /// of `Opaque::<wait_queue_head>::get`, which this crate shares, is a
    /// call on every wake-up and wait.
    #[inline(always)]
    fn head(&self) -> *mut bindings::wait_queue_head {
        core::ptr::from_ref(&self.head).cast_mut().cast()
    }

    /// An empty wait queue.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `init_waitqueue_head` initialises the head in place.
            head <- Opaque::ffi_init(|p| unsafe { bindings::seccomp_init_waitqueue_head(p) }),
        })
    }

    /// Wakes the waiters with poll key `mask`; on this CPU if `sync` (the
    /// waker is about to sleep).
    pub(crate) fn wake_poll(&self, mask: u32, sync: bool) {
        // SAFETY: The head is initialised (type invariant).
        unsafe {
            if sync {
                bindings::wake_up_poll_on_current_cpu(self.head(), mask)
            } else {
                bindings::wake_up_poll(self.head(), mask)
            }
        }
    }

    /// Adds the queue to poll table `table` of `file` (`poll_wait()`).
    ///
    /// # Safety
    ///
    /// `file` and `table` are those of a `poll` file operation being run.
    pub(crate) unsafe fn poll_wait(
        &self,
        file: *mut bindings::file,
        table: *mut bindings::poll_table,
    ) {
        // SAFETY: `file` and `table` are valid (function safety
        // requirement), the head is initialised and does not move (type
        // invariant).
        unsafe { bindings::poll_wait(file, self.head(), table) };
    }

    /// Sleeps interruptibly on the queue until `condition` holds, checked
    /// after each wake-up (`wait_event_interruptible()`); `Err`
    /// (`ERESTARTSYS`) if a signal came first.
    pub(crate) fn wait_interruptible_until(&self, mut condition: impl FnMut() -> bool) -> Result {
        let mut entry = core::mem::MaybeUninit::<bindings::wait_queue_entry>::uninit();
        let entry = entry.as_mut_ptr();
        // SAFETY: Initialises the entry in place; it does not move until
        // `finish_wait` below removed it from the queue.
        unsafe { bindings::init_wait(entry) };
        let result = loop {
            // SAFETY: The head (type invariant) and the entry are
            // initialised and stay put.
            let ret = unsafe {
                bindings::prepare_to_wait_event(
                    self.head(),
                    entry,
                    bindings::TASK_INTERRUPTIBLE as c_int,
                )
            };
            if condition() {
                break Ok(());
            }
            if ret != 0 {
                break Err(Error::from_errno(ret as c_int));
            }
            // SAFETY: Sleeping is allowed here.
            unsafe { bindings::schedule() };
        };
        // SAFETY: As for `prepare_to_wait_event`.
        unsafe { bindings::finish_wait(self.head(), entry) };
        result
    }
}
