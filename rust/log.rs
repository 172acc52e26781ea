// SPDX-License-Identifier: GPL-2.0

//! Which seccomp decisions are logged (`kernel.seccomp.actions_logged`)
//! and the audit record emitted for them.

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{
    bindings,
    ffi::{c_int, c_long, c_ulong},
};

/// Bits of [`ACTIONS_LOGGED`], one per action (the sysctl's names).
pub(crate) mod bit {
    /// `kill_process`
    pub(crate) const KILL_PROCESS: u32 = 1 << 0;
    /// `kill_thread`
    pub(crate) const KILL_THREAD: u32 = 1 << 1;
    /// `trap`
    pub(crate) const TRAP: u32 = 1 << 2;
    /// `errno`
    pub(crate) const ERRNO: u32 = 1 << 3;
    /// `trace`
    pub(crate) const TRACE: u32 = 1 << 4;
    /// `log`
    pub(crate) const LOG: u32 = 1 << 5;
    /// `allow` (never logged: the sysctl refuses it)
    pub(crate) const ALLOW: u32 = 1 << 6;
    /// `user_notif`
    pub(crate) const USER_NOTIF: u32 = 1 << 7;
}

/// The actions whose decisions are logged: all but `allow` by default.
pub(crate) static ACTIONS_LOGGED: AtomicU32 = AtomicU32::new(
    bit::KILL_PROCESS
        | bit::KILL_THREAD
        | bit::TRAP
        | bit::ERRNO
        | bit::USER_NOTIF
        | bit::TRACE
        | bit::LOG,
);

/// Logs a seccomp decision if policy asks for it.
///
/// Kills and `SECCOMP_RET_LOG` are logged whenever their bit is set in
/// [`ACTIONS_LOGGED`]; the other actions only when the filter that decided
/// was installed with `SECCOMP_FILTER_FLAG_LOG` (`requested`); `ALLOW` is
/// never logged.
pub(crate) fn log_action(nr: i32, signr: c_long, action: u32, requested: bool) {
    let logged = ACTIONS_LOGGED.load(Ordering::Relaxed);
    let wanted = |bit: u32| logged & bit != 0;
    let log = match action {
        bindings::SECCOMP_RET_ALLOW => false,
        bindings::SECCOMP_RET_TRAP => requested && wanted(bit::TRAP),
        bindings::SECCOMP_RET_ERRNO => requested && wanted(bit::ERRNO),
        bindings::SECCOMP_RET_TRACE => requested && wanted(bit::TRACE),
        bindings::SECCOMP_RET_USER_NOTIF => requested && wanted(bit::USER_NOTIF),
        bindings::SECCOMP_RET_LOG => wanted(bit::LOG),
        bindings::SECCOMP_RET_KILL_THREAD => wanted(bit::KILL_THREAD),
        _ => wanted(bit::KILL_PROCESS),
    };
    if log {
        // The syscall number is passed on as the unsigned long C uses.
        // SAFETY: FFI call without preconditions.
        unsafe { bindings::audit_seccomp(nr as c_ulong, signr, action as c_int) };
    }
}
