// SPDX-License-Identifier: GPL-2.0

//! Strict mode (mode 1).
//!
//! Strict mode lets a task make only the system calls of a fixed list;
//! anything else kills it with `SIGKILL`.

use kernel::{bindings, ffi::c_long};

use crate::current::{Current, Mode};
use crate::log;
use crate::task::Siglock;

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
    let mut siglock = Siglock::of_current(current);
    let mut task = siglock.task();
    if !task.may_assign_mode(Mode::Strict) {
        return Err(kernel::error::code::EINVAL);
    }
    task.disable_tsc(current);
    task.assign_mode(Mode::Strict, 0);
    Ok(())
}
