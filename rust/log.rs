// SPDX-License-Identifier: GPL-2.0

//! Which seccomp decisions are logged (`kernel.seccomp.actions_logged`)
//! and the audit record emitted for them.

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{
    bindings,
    ffi::{c_int, c_long, c_ulong},
};

/// Bits of [`ACTIONS_LOGGED`], one per action (the sysctls' names).
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

/// One action, as logging, the sysctls and `SECCOMP_GET_ACTION_AVAIL`
/// know it.
pub(crate) struct ActionInfo {
    /// `SECCOMP_RET_*`.
    pub(crate) ret: u32,
    /// Its name in `kernel.seccomp.actions_avail` and `actions_logged`.
    pub(crate) name: &'static str,
    /// Its bit in [`ACTIONS_LOGGED`].
    pub(crate) log_bit: u32,
    /// Logged only when the filter that decided asked for it
    /// (`SECCOMP_FILTER_FLAG_LOG`); the others whenever their bit is set.
    pub(crate) when_requested: bool,
}

/// Every action this kernel knows, in the order the sysctls list them.
pub(crate) const ACTIONS: [ActionInfo; 8] = [
    ActionInfo {
        ret: bindings::SECCOMP_RET_KILL_PROCESS,
        name: "kill_process",
        log_bit: bit::KILL_PROCESS,
        when_requested: false,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_KILL_THREAD,
        name: "kill_thread",
        log_bit: bit::KILL_THREAD,
        when_requested: false,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_TRAP,
        name: "trap",
        log_bit: bit::TRAP,
        when_requested: true,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_ERRNO,
        name: "errno",
        log_bit: bit::ERRNO,
        when_requested: true,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_USER_NOTIF,
        name: "user_notif",
        log_bit: bit::USER_NOTIF,
        when_requested: true,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_TRACE,
        name: "trace",
        log_bit: bit::TRACE,
        when_requested: true,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_LOG,
        name: "log",
        log_bit: bit::LOG,
        when_requested: false,
    },
    ActionInfo {
        ret: bindings::SECCOMP_RET_ALLOW,
        name: "allow",
        log_bit: bit::ALLOW,
        when_requested: false,
    },
];

/// The index in [`ACTIONS`] of `action`: a `match`, not a search, for it
/// runs for every system call a filter does not allow.
#[inline(always)]
const fn action_index(action: u32) -> Option<usize> {
    Some(match action {
        bindings::SECCOMP_RET_KILL_PROCESS => 0,
        bindings::SECCOMP_RET_KILL_THREAD => 1,
        bindings::SECCOMP_RET_TRAP => 2,
        bindings::SECCOMP_RET_ERRNO => 3,
        bindings::SECCOMP_RET_USER_NOTIF => 4,
        bindings::SECCOMP_RET_TRACE => 5,
        bindings::SECCOMP_RET_LOG => 6,
        bindings::SECCOMP_RET_ALLOW => 7,
        _ => return None,
    })
}

// `action_index` finds every entry of `ACTIONS` where it is.
const _: () = {
    let mut i = 0;
    while i < ACTIONS.len() {
        assert!(matches!(action_index(ACTIONS[i].ret), Some(j) if j == i));
        i += 1;
    }
};

/// The entry of `action` (`SECCOMP_RET_ACTION_FULL` bits), if it is known.
#[inline(always)]
pub(crate) fn action_info(action: u32) -> Option<&'static ActionInfo> {
    match action_index(action) {
        Some(i) => ACTIONS.get(i),
        None => None,
    }
}

// The engine's action values are the uapi's.
const _: () = {
    use crate::engine::action as engine;
    assert!(engine::SECCOMP_RET_KILL_PROCESS == bindings::SECCOMP_RET_KILL_PROCESS);
    assert!(engine::SECCOMP_RET_KILL_THREAD == bindings::SECCOMP_RET_KILL_THREAD);
    assert!(engine::SECCOMP_RET_TRAP == bindings::SECCOMP_RET_TRAP);
    assert!(engine::SECCOMP_RET_ERRNO == bindings::SECCOMP_RET_ERRNO);
    assert!(engine::SECCOMP_RET_USER_NOTIF == bindings::SECCOMP_RET_USER_NOTIF);
    assert!(engine::SECCOMP_RET_TRACE == bindings::SECCOMP_RET_TRACE);
    assert!(engine::SECCOMP_RET_LOG == bindings::SECCOMP_RET_LOG);
    assert!(engine::SECCOMP_RET_ALLOW == bindings::SECCOMP_RET_ALLOW);
    assert!(engine::SECCOMP_RET_ACTION_FULL == bindings::SECCOMP_RET_ACTION_FULL);
    assert!(engine::SECCOMP_RET_DATA == bindings::SECCOMP_RET_DATA);
};

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
#[inline(always)]
pub(crate) fn log_action(nr: i32, signr: c_long, action: u32, requested: bool) {
    // Unknown actions are carried out, and logged, as KILL_PROCESS.
    let info = action_info(action).unwrap_or(&ACTIONS[0]);
    let log = info.ret != bindings::SECCOMP_RET_ALLOW
        && (requested || !info.when_requested)
        && ACTIONS_LOGGED.load(Ordering::Relaxed) & info.log_bit != 0;
    if log {
        // The syscall number is passed on as the unsigned long C uses.
        // SAFETY: FFI call without preconditions.
        unsafe { bindings::audit_seccomp(nr as c_ulong, signr, action as c_int) };
    }
}
