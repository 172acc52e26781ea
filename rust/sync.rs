// SPDX-License-Identifier: GPL-2.0

//! [`InterruptibleMutex`]: a mutex whose waiters a signal can interrupt
//! (`mutex_lock_interruptible()`), as the listener's lock must be: its
//! ioctls return `-EINTR` and its poll `EPOLLERR` when interrupted while
//! waiting for it, as in C.  The 6.12 kernel crate's `Mutex` only locks
//! uninterruptibly.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use kernel::{bindings, prelude::*, str::CStr, types::Opaque};

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
