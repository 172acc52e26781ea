// SPDX-License-Identifier: GPL-2.0

//! The running task's seccomp state.
//!
//! [`Mode`] is a task's seccomp mode; [`Current`] is the one door to
//! `current->seccomp` and the few other task fields seccomp reads;
//! [`SighandGuard`] is the lock under which a task's seccomp mode may
//! change.

use kernel::bindings;

/// A task's seccomp mode, as stored in `task_struct::seccomp.mode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(i32)]
pub(crate) enum Mode {
    /// No seccomp (`SECCOMP_MODE_DISABLED`).
    Disabled = bindings::SECCOMP_MODE_DISABLED as i32,
    /// Fixed allow-list (`SECCOMP_MODE_STRICT`).
    Strict = bindings::SECCOMP_MODE_STRICT as i32,
    /// BPF filters (`SECCOMP_MODE_FILTER`).
    Filter = bindings::SECCOMP_MODE_FILTER as i32,
    /// Killed by seccomp and on its way out (`SECCOMP_MODE_DEAD` in C).
    Dead = bindings::SECCOMP_MODE_FILTER as i32 + 1,
}

impl Mode {
    /// Interprets the raw field; a value that is no mode fails closed to
    /// [`Mode::Dead`], which kills the task on its next system call.
    pub(crate) fn from_raw(raw: i32) -> Self {
        match raw {
            r if r == Self::Disabled as i32 => Self::Disabled,
            r if r == Self::Strict as i32 => Self::Strict,
            r if r == Self::Filter as i32 => Self::Filter,
            _ => Self::Dead,
        }
    }
}

/// The task executing this code.
///
/// # Invariants
///
/// `task` is `current`, so it stays valid for as long as this value exists:
/// the value is neither `Send` nor `Sync` (it holds a raw pointer), so it
/// never reaches another task.
pub(crate) struct Current {
    task: *mut bindings::task_struct,
}

impl Current {
    /// Returns the task executing this code.
    pub(crate) fn get() -> Self {
        // SAFETY: `get_current()` has no preconditions and never returns NULL.
        let task = unsafe { bindings::get_current() };
        // INVARIANT: `task` is `current`.
        Self { task }
    }

    /// The task `task`, which the caller knows to be `current` (the
    /// syscall-entry hook, given it by C).
    ///
    /// # Safety
    ///
    /// `task` is `current`.
    #[inline]
    pub(crate) unsafe fn from_raw(task: *mut bindings::task_struct) -> Self {
        // INVARIANT: `task` is `current` (function safety requirement).
        Self { task }
    }

    /// The task as a raw pointer, for the filter-chain functions.
    pub(crate) fn as_ptr(&self) -> *mut bindings::task_struct {
        self.task
    }

    /// Whether the task runs with `no_new_privs`.
    pub(crate) fn no_new_privs(&self) -> bool {
        // SAFETY: By the type invariant `self.task` is valid.
        unsafe { bindings::task_no_new_privs(self.task) }
    }

    /// Whether the task has `CAP_SYS_ADMIN` in its user namespace (without
    /// an audit record of the check).
    pub(crate) fn ns_capable_sys_admin(&self) -> bool {
        // SAFETY: FFI calls on `current`'s credentials, which stay valid
        // for the call.
        unsafe {
            bindings::ns_capable_noaudit(
                bindings::current_user_ns(),
                bindings::CAP_SYS_ADMIN as i32,
            )
        }
    }

    /// The seccomp mode of the task.
    ///
    /// Only the task itself (or, later, a thread synchronising its filters
    /// while holding the siglock) writes the mode, so a racy read sees
    /// either the old or the new mode, as in C.
    pub(crate) fn mode(&self) -> Mode {
        // SAFETY: By the type invariant `self.task` is valid; the read is
        // volatile because another thread of the group may write the field
        // under the siglock.
        let raw = unsafe { core::ptr::addr_of!((*self.task).seccomp.mode).read_volatile() };
        Mode::from_raw(raw)
    }

    /// Whether a tracer suspended seccomp for this task
    /// (`PTRACE_O_SUSPEND_SECCOMP`, checkpoint/restore only).
    pub(crate) fn seccomp_suspended(&self) -> bool {
        if !cfg!(CONFIG_CHECKPOINT_RESTORE) {
            return false;
        }
        // SAFETY: By the type invariant `self.task` is valid.
        let ptrace = unsafe { (*self.task).ptrace };
        ptrace & bindings::PT_SUSPEND_SECCOMP != 0
    }

    /// The number of the system call the task is entering.
    pub(crate) fn syscall_nr(&self) -> i32 {
        // SAFETY: FFI calls without preconditions beyond a valid task,
        // which the type invariant provides; `current_pt_regs()` is the
        // register frame of `current`.
        unsafe { bindings::syscall_get_nr(self.task, bindings::current_pt_regs()) }
    }

    /// Whether the system call being entered uses the compat ABI.
    #[cfg(CONFIG_COMPAT)]
    pub(crate) fn in_compat_syscall(&self) -> bool {
        // SAFETY: FFI call without preconditions.
        unsafe { bindings::in_compat_syscall() }
    }

    /// Takes the task's `sighand->siglock` with interrupts disabled.
    pub(crate) fn lock_sighand(&self) -> SighandGuard<'_> {
        // SAFETY: By the type invariant `self.task` is valid, and a running
        // task always has its `sighand` (it is only cleared once the task
        // is dead).
        let lock = unsafe { core::ptr::addr_of_mut!((*(*self.task).sighand).siglock) };
        // SAFETY: `lock` is a valid, initialised spinlock; it is released
        // by `SighandGuard::drop`.
        unsafe { bindings::spin_lock_irq(lock) };
        // INVARIANT: the lock is held until the guard is dropped.
        SighandGuard {
            current: self,
            lock,
        }
    }

    /// Ends the task with `SIGKILL` (`do_exit()`), never returning.
    pub(crate) fn exit_killed(&self) -> ! {
        self.exit(bindings::SIGKILL as kernel::ffi::c_long)
    }

    /// Ends the task (`do_exit(code)`), never returning.
    pub(crate) fn exit(&self, code: kernel::ffi::c_long) -> ! {
        // SAFETY: `do_exit()` may be called from syscall entry of `current`.
        unsafe { bindings::do_exit(code) }
    }

    /// Marks the task as having been killed by seccomp, so that no later
    /// syscall entry can mistake it for a live sandboxed task.
    pub(crate) fn set_dead(&self) {
        // SAFETY: By the type invariant `self.task` is valid; only the task
        // itself writes its mode outside of the siglock, and it is about
        // to exit.
        unsafe {
            core::ptr::addr_of_mut!((*self.task).seccomp.mode).write_volatile(Mode::Dead as i32)
        };
    }
}

/// Proof that `current->sighand->siglock` is held: the seccomp mode of the
/// thread group may only change under it (`seccomp_may_assign_mode()` and
/// `seccomp_assign_mode()` in C).
///
/// # Invariants
///
/// `lock` is `current.task->sighand->siglock` and is held, with interrupts
/// disabled, until this guard is dropped.
pub(crate) struct SighandGuard<'a> {
    current: &'a Current,
    lock: *mut bindings::spinlock_t,
}

impl SighandGuard<'_> {
    /// Whether the task may enter `mode`: a mode, once set, only ever
    /// allows itself again (strict cannot become filter and vice versa).
    pub(crate) fn may_assign_mode(&self, mode: Mode) -> bool {
        let now = self.current.mode();
        now == Mode::Disabled || now == mode
    }

    /// Puts the task in `mode` and turns on the syscall-entry hook.
    ///
    /// Unless `SECCOMP_FILTER_FLAG_SPEC_ALLOW` is in `flags`, the task also
    /// gets the architecture's speculative-execution mitigations.
    pub(crate) fn assign_mode(&self, mode: Mode, flags: u32) {
        // SAFETY: By the type invariants the task is valid and we hold its
        // siglock.
        unsafe { assign_mode(self.current.task, mode, flags) };
    }

    /// Stops the task from reading the time-stamp counter, where the
    /// architecture can trap it (strict mode's historical promise).
    pub(crate) fn disable_tsc(&self) {
        // SAFETY: Acts on `current`, which holds its siglock (type invariant).
        unsafe { bindings::seccomp_disable_tsc() };
    }
}

impl Drop for SighandGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held by us.
        unsafe { bindings::spin_unlock_irq(self.lock) };
    }
}

/// Puts `task` in `mode` and turns on its syscall-entry hook
/// (`seccomp_assign_mode`); see [`SighandGuard::assign_mode`].
///
/// # Safety
///
/// `task` is valid and the caller holds its group's siglock, which
/// serialises writers of the mode.
pub(crate) unsafe fn assign_mode(task: *mut bindings::task_struct, mode: Mode, flags: u32) {
    // SAFETY: `task` is valid and the mode's writers are serialised
    // (function safety requirements).
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
