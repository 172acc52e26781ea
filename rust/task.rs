// SPDX-License-Identifier: GPL-2.0

//! A task's siglock and the seccomp state it guards.
//!
//! [`Siglock`] holds `task->sighand->siglock`, taken the way the caller's
//! situation calls for; while it is held, [`Locked`] reads and writes what
//! seccomp keeps in the locked task (and, through
//! [`Siglock::other_threads`], in the other threads of its group, which
//! share the lock): the mode and the filter chain pointer.
//!
//! # The chain pointer
//!
//! `task_struct::seccomp.filter` is NULL or comes from `Arc::into_raw` of
//! a [`Filter`], and owns one reference and one user of that filter (see
//! `filter`'s module docs).  It is written only here, under the siglock,
//! and a live task's pointer is only ever replaced by a newer chain that
//! runs through the old one (attaching a filter, TSYNC): the old chain
//! stays alive as long as the task's chain does, so the task itself reads
//! its pointer without the lock ([`Current::running_chain`]) and may use
//! what it found for as long as it runs.  Only an exiting task's pointer
//! is cleared ([`Siglock::of_exiting`]): it makes no more system calls, and
//! `do_exit()` never returns to a caller that still borrows its chain.

use core::marker::PhantomData;
use core::sync::atomic::Ordering;

use kernel::{
    bindings,
    ffi::c_ulong,
    sync::{Arc, ArcBorrow},
};

use crate::current::{Current, Mode};
use crate::filter::Filter;

/// `task->sighand->siglock`, held with interrupts disabled.
///
/// # Invariants
///
/// `task` is valid for `'a` and its siglock is held from the creation of
/// this value to its drop, which releases it as it was taken: with
/// `lock_task_sighand()`, whose saved interrupt flags `saved` holds, or
/// else with `spin_lock_irq()`.  `exiting` is true only if the task is
/// exiting (`PF_EXITING`).
pub(crate) struct Siglock<'a> {
    task: *mut bindings::task_struct,
    saved: Option<c_ulong>,
    exiting: bool,
    _task: PhantomData<&'a bindings::task_struct>,
}

impl<'a> Siglock<'a> {
    /// Takes `current`'s siglock.
    pub(crate) fn of_current(current: &'a Current) -> Self {
        // SAFETY: `current` is valid while it runs, and a running task has
        // its sighand.
        unsafe { Self::of_task(current.as_ptr()) }
    }

    /// Takes the siglock of `task`.
    ///
    /// # Safety
    ///
    /// `task` is valid for `'a` and has its sighand meanwhile: `current`,
    /// or a task stopped under `current`'s ptrace.
    pub(crate) unsafe fn of_task(task: *mut bindings::task_struct) -> Self {
        // SAFETY: `task` is valid and has its sighand (function safety
        // requirements); the lock is released by `drop`.
        unsafe { bindings::spin_lock_irq(siglock(task)) };
        // INVARIANT: `task` is valid for `'a` and we took its siglock.
        Self {
            task,
            saved: None,
            exiting: false,
            _task: PhantomData,
        }
    }

    /// Takes the siglock of `task` if it is exiting (`PF_EXITING`), so
    /// that its chain may be cleared (`seccomp_filter_release()`).
    ///
    /// # Safety
    ///
    /// `task` is valid for `'a` and has its sighand meanwhile (it is
    /// `current`, in `do_exit()`).
    pub(crate) unsafe fn of_exiting(task: *mut bindings::task_struct) -> Option<Self> {
        // SAFETY: `task` is valid (function safety requirement).
        if unsafe { (*task).flags } & bindings::PF_EXITING == 0 {
            return None;
        }
        // SAFETY: As required by `of_task`, the function's own.
        let mut lock = unsafe { Self::of_task(task) };
        // INVARIANT: the task is exiting. (The guard itself is returned: a
        // copy of its fields would leave it to unlock on its own drop.)
        lock.exiting = true;
        Some(lock)
    }

    /// Takes the siglock of `task` unless it has lost its sighand, being
    /// reaped (`lock_task_sighand()`).
    ///
    /// # Safety
    ///
    /// `task` is valid for `'a` (the caller holds a reference to it).
    pub(crate) unsafe fn try_of_task(task: *mut bindings::task_struct) -> Option<Self> {
        let mut flags: c_ulong = 0;
        // SAFETY: `task` is valid (function safety requirement); NULL means
        // the task has no sighand any more and nothing was locked.
        if unsafe { bindings::seccomp_lock_task_sighand(task, &mut flags) }.is_null() {
            return None;
        }
        // INVARIANT: `task` is valid for `'a` and we took its siglock.
        Some(Self {
            task,
            saved: Some(flags),
            exiting: false,
            _task: PhantomData,
        })
    }

    /// The locked task.
    pub(crate) fn task(&mut self) -> Locked<'_> {
        // INVARIANT: the task is valid and its siglock held while `self`
        // is borrowed.
        Locked {
            task: self.task,
            exiting: self.exiting,
            _lock: PhantomData,
        }
    }

    /// The threads of the locked task's group other than itself, but
    /// exiting ones (which may have released their chain already).
    pub(crate) fn other_threads(&mut self) -> impl Iterator<Item = Locked<'_>> + '_ {
        let me = self.task;
        // SAFETY: `me` is valid and its siglock (held) keeps the group's
        // thread list stable.
        let first = unsafe { bindings::seccomp_first_thread(me) };
        core::iter::successors((!first.is_null()).then_some(first), |&t| {
            // SAFETY: `t` is a thread of the group, valid under the siglock.
            let next = unsafe { bindings::__next_thread(t) };
            (!next.is_null()).then_some(next)
        })
        .filter(move |&t| {
            // SAFETY: `t` is valid under the siglock.
            t != me && unsafe { (*t).flags } & bindings::PF_EXITING == 0
        })
        // INVARIANT: each thread is valid and shares the held siglock (one
        // sighand per group), for as long as `self` is borrowed; each is
        // handed out once, and running.
        .map(|task| Locked {
            task,
            exiting: false,
            _lock: PhantomData,
        })
    }
}

impl Drop for Siglock<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the task is valid and we hold its
        // siglock, taken the way `saved` tells.
        unsafe {
            match self.saved {
                Some(mut flags) => bindings::seccomp_unlock_task_sighand(self.task, &mut flags),
                None => bindings::spin_unlock_irq(siglock(self.task)),
            }
        }
    }
}

/// The siglock of `task`.
///
/// # Safety
///
/// `task` is valid and has its sighand.
unsafe fn siglock(task: *mut bindings::task_struct) -> *mut bindings::spinlock_t {
    // SAFETY: As the function requires.
    unsafe { core::ptr::addr_of_mut!((*(*task).sighand).siglock) }
}

/// A task whose siglock is held: its seccomp mode and filter chain.
///
/// # Invariants
///
/// `task` is valid and its siglock held for `'a`; no other [`Locked`] of
/// the same task exists meanwhile.  `exiting` is true only if the task is
/// exiting (`PF_EXITING`).
pub(crate) struct Locked<'a> {
    task: *mut bindings::task_struct,
    exiting: bool,
    _lock: PhantomData<&'a mut ()>,
}

impl<'a> Locked<'a> {
    /// `task`, whose siglock the caller holds.
    ///
    /// # Safety
    ///
    /// `task` is valid and its siglock held for `'a` (`copy_seccomp()`
    /// holds `current`'s), and no other [`Locked`] of it exists meanwhile.
    pub(crate) unsafe fn assume_locked(task: *mut bindings::task_struct) -> Self {
        // INVARIANT: As the function requires.
        Self {
            task,
            exiting: false,
            _lock: PhantomData,
        }
    }
}

impl Locked<'_> {
    /// Whether this is the task `current` runs.
    pub(crate) fn is(&self, current: &Current) -> bool {
        self.task == current.as_ptr()
    }

    /// The task's seccomp mode.
    pub(crate) fn mode(&self) -> Mode {
        // SAFETY: By the type invariants the task is valid.  Its mode's
        // writers hold the siglock, but for a task marking itself dead on
        // its way out: the read is volatile, as the task's own.
        Mode::from_raw(unsafe { core::ptr::addr_of!((*self.task).seccomp.mode).read_volatile() })
    }

    /// Whether the task may enter `mode`: a mode, once set, only ever
    /// allows itself again (strict cannot become filter and vice versa;
    /// `seccomp_may_assign_mode()`).
    pub(crate) fn may_assign_mode(&self, mode: Mode) -> bool {
        let now = self.mode();
        now == Mode::Disabled || now == mode
    }

    /// Puts the task in `mode` and turns on its syscall-entry hook
    /// (`seccomp_assign_mode()`).  Unless `SECCOMP_FILTER_FLAG_SPEC_ALLOW`
    /// is in `flags`, the task also gets the architecture's
    /// speculative-execution mitigations.
    pub(crate) fn assign_mode(&mut self, mode: Mode, flags: u32) {
        let task = self.task;
        // SAFETY: By the type invariants `task` is valid and we hold its
        // siglock, which serialises writers of the mode; the write is
        // volatile because the task reads it without the lock.
        unsafe { core::ptr::addr_of_mut!((*task).seccomp.mode).write_volatile(mode as i32) };
        // The hook must not see SYSCALL_WORK_SECCOMP before the mode.
        // SAFETY: A memory barrier has no preconditions.
        unsafe { bindings::smp_mb__before_atomic() };
        if flags & bindings::SECCOMP_FILTER_FLAG_SPEC_ALLOW == 0 {
            // SAFETY: `task` is valid.
            unsafe { bindings::arch_seccomp_spec_mitigate(task) };
        }
        // SAFETY: `task` is valid.
        unsafe { bindings::set_task_syscall_work_seccomp(task) };
    }

    /// Stops the task from reading the time-stamp counter, where the
    /// architecture can trap it (strict mode's historical promise), if it
    /// is `current` (the only task that can do it to itself).
    pub(crate) fn disable_tsc(&mut self, current: &Current) {
        if self.is(current) {
            // SAFETY: Acts on `current`, whose siglock we hold (type
            // invariant).
            unsafe { bindings::seccomp_disable_tsc() };
        }
    }

    /// Sets the task's `no_new_privs`.
    pub(crate) fn set_no_new_privs(&mut self) {
        // SAFETY: By the type invariants the task is valid.
        unsafe { bindings::task_set_no_new_privs(self.task) };
    }

    /// The task's thread ID in `current`'s PID namespace (0 if it has
    /// none there).
    pub(crate) fn tid(&self) -> i32 {
        // SAFETY: By the type invariants the task is valid.
        unsafe { bindings::task_pid_vnr(self.task) }
    }

    /// The task's filter chain, if any.  (Not `chain`: the by-value
    /// `Init::chain` every type has would be found first.)
    pub(crate) fn filter_chain(&self) -> Option<ArcBorrow<'_, Filter>> {
        // SAFETY: By the type invariants the task is valid and its siglock
        // held: the pointer stays put while `self` is borrowed, and the
        // task's reference keeps the chain alive (module docs).
        let chain = unsafe { chain_of(self.task) }?;
        // SAFETY: The chain comes from `Arc::into_raw` (module docs), and
        // the task's reference keeps it alive while `self` is borrowed.
        Some(unsafe { ArcBorrow::from_raw(chain) })
    }

    /// Makes `chain`, which brings a reference and a user, the task's
    /// chain, returning the old one with the task's reference and user;
    /// or, if `chain` does not run through the old chain (which the task
    /// may be running right now), gives `chain` back unchanged.
    pub(crate) fn replace_chain(
        &mut self,
        chain: Arc<Filter>,
    ) -> core::result::Result<Option<Arc<Filter>>, Arc<Filter>> {
        let descends = match self.filter_chain() {
            None => true,
            Some(old) => chain.chain().any(|f| core::ptr::eq(f, &*old)),
        };
        if !descends {
            return Err(chain);
        }
        // SAFETY: By the type invariants the task is valid and we hold its
        // siglock; `chain` runs through the old chain (module docs).
        Ok(unsafe { swap_chain(self.task, Some(chain)) })
    }

    /// Clears the chain of an exiting task, returning it with the task's
    /// reference and user; `None` (and nothing changed) if the task is not
    /// exiting.
    pub(crate) fn take_exiting_chain(&mut self) -> Option<Arc<Filter>> {
        if !self.exiting {
            return None;
        }
        // SAFETY: By the type invariants the task is valid, we hold its
        // siglock, and it is exiting: it runs no filter again (module docs).
        unsafe { swap_chain(self.task, None) }
    }

    /// Gives the copy of the chain pointer a child forked from this task
    /// receives (`copy_seccomp()` copies the task's fields after this)
    /// its own reference and user.
    pub(crate) fn share_chain_with_child(&self) {
        if let Some(chain) = self.filter_chain() {
            chain.get_user();
            let child: Arc<Filter> = chain.into();
            // The child's pointer owns this reference from now on.
            let _ = Arc::into_raw(child);
        }
    }

    /// The number of filters of the task's chain (`seccomp.filter_count`,
    /// which `/proc/<pid>/status` shows).
    pub(crate) fn filter_count(&self) -> i32 {
        // SAFETY: By the type invariants the task is valid.
        unsafe { bindings::atomic_read(core::ptr::addr_of!((*self.task).seccomp.filter_count)) }
    }

    /// Sets [`Locked::filter_count`].
    pub(crate) fn set_filter_count(&mut self, count: i32) {
        // SAFETY: By the type invariants the task is valid; the count is
        // only written under the siglock.
        unsafe {
            bindings::atomic_set(
                core::ptr::addr_of_mut!((*self.task).seccomp.filter_count),
                count,
            )
        };
    }
}

/// The chain `task` points to, if any.
///
/// # Safety
///
/// `task` is valid and its pointer cannot be cleared while the borrow
/// lives (module docs: the task runs, or its siglock is held).
unsafe fn chain_of<'a>(task: *mut bindings::task_struct) -> Option<&'a Filter> {
    // SAFETY: `task` is valid (function safety requirement); the pointer is
    // read once, as `READ_ONCE()` would.
    let ptr = unsafe { core::ptr::addr_of!((*task).seccomp.filter).read_volatile() };
    // SAFETY: A non-NULL chain pointer comes from `Arc::into_raw` of a
    // `Filter` (module docs), which the task's reference keeps alive for
    // the borrow (function safety requirement).
    unsafe { ptr.cast::<Filter>().cast_const().as_ref() }
}

/// Points `task` at `chain` (which brings a reference and a user),
/// returning what it pointed at before (with its reference and user).
///
/// # Safety
///
/// `task` is valid, its siglock is held, and `chain` runs through the old
/// chain or the task is exiting.
unsafe fn swap_chain(
    task: *mut bindings::task_struct,
    chain: Option<Arc<Filter>>,
) -> Option<Arc<Filter>> {
    let new = chain.map_or(core::ptr::null_mut(), |c| {
        Arc::into_raw(c)
            .cast_mut()
            .cast::<bindings::seccomp_filter>()
    });
    // SAFETY: `task` is valid and its siglock held (function safety
    // requirement).  The store is a release, so the task reading its
    // pointer without the lock sees the filter's contents
    // (`smp_store_release()` in C).
    let old = unsafe {
        let field = core::ptr::addr_of_mut!((*task).seccomp.filter);
        let old = field.read();
        core::sync::atomic::fence(Ordering::Release);
        field.write_volatile(new);
        old
    };
    if old.is_null() {
        return None;
    }
    // SAFETY: A non-NULL chain pointer comes from `Arc::into_raw`, and the
    // reference it owned is handed to the caller.
    Some(unsafe { Arc::from_raw(old.cast::<Filter>().cast_const()) })
}

impl Current {
    /// The chain the running task's filters start from, read without the
    /// siglock at syscall entry: while the task runs, its chain pointer is
    /// only replaced by chains that keep this one alive (module docs).
    #[inline]
    pub(crate) fn running_chain(&self) -> Option<&Filter> {
        // SAFETY: `self` is `current`, which is valid and runs for as long
        // as `self` lives (type invariant), so its pointer is not cleared.
        unsafe { chain_of(self.as_ptr()) }
    }
}
