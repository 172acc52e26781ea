// SPDX-License-Identifier: GPL-2.0

//! Seccomp modes and strict mode (mode 1).
//!
//! Strict mode lets a task make only the system calls of a fixed list;
//! anything else kills it with `SIGKILL`.

use kernel::{bindings, ffi::c_long};

use crate::current::Current;
use crate::log;

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

/// The system calls strict mode allows on the native ABI.
const STRICT_NATIVE: &[u32] = &[
    bindings::__NR_read,
    bindings::__NR_write,
    bindings::__NR_exit,
    bindings::__NR_rt_sigreturn,
    // uretprobes return through this syscall; the task cannot call it by
    // itself (it fails unless issued from the uretprobe trampoline).
    bindings::__NR_uretprobe,
];

/// The system calls strict mode allows on the compat (ia32) ABI.
#[cfg(CONFIG_COMPAT)]
const STRICT_COMPAT: &[u32] = &[
    bindings::__NR_ia32_read,
    bindings::__NR_ia32_write,
    bindings::__NR_ia32_exit,
    bindings::__NR_ia32_sigreturn,
];

/// Whether strict mode allows system call `nr` (of the ABI in use).
fn strict_allows(current: &Current, nr: i32) -> bool {
    #[cfg(CONFIG_COMPAT)]
    let allowed = if current.in_compat_syscall() {
        STRICT_COMPAT
    } else {
        STRICT_NATIVE
    };
    #[cfg(not(CONFIG_COMPAT))]
    let allowed = {
        let _ = current;
        STRICT_NATIVE
    };
    u32::try_from(nr).is_ok_and(|nr| allowed.contains(&nr))
}

/// Syscall-entry check in strict mode: returns if `nr` is allowed, else
/// logs and kills the task.
pub(crate) fn strict_check(current: &Current, nr: i32) {
    if strict_allows(current, nr) {
        return;
    }
    current.set_dead();
    log::log_action(
        nr,
        bindings::SIGKILL as c_long,
        bindings::SECCOMP_RET_KILL_THREAD,
        true,
    );
    current.exit_killed();
}

/// `seccomp(SECCOMP_SET_MODE_STRICT)`: enters strict mode, which is final.
pub(crate) fn set_mode_strict(current: &Current) -> kernel::error::Result {
    let guard = current.lock_sighand();
    if !guard.may_assign_mode(Mode::Strict) {
        return Err(kernel::error::code::EINVAL);
    }
    guard.disable_tsc();
    guard.assign_mode(Mode::Strict, 0);
    Ok(())
}
