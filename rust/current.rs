// SPDX-License-Identifier: GPL-2.0

//! The running task's seccomp state.
//!
//! [`Mode`] is a task's seccomp mode; [`Current`] is the one door to
//! `current->seccomp` and the few other task fields seccomp reads (what
//! the siglock guards is in `task`).

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
