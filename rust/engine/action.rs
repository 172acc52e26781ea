// SPDX-License-Identifier: GPL-2.0

//! Filter return values (`SECCOMP_RET_*` from `include/uapi/linux/seccomp.h`),
//! their decoding into an [`Action`], and the evaluation of a filter chain
//! with seccomp's precedence rule (`seccomp_run_filters`).

use core::ops::Deref;

use super::data::SeccompData;
use super::insn::Insn;
use super::interp::DecodedProgram;

/// Kill the whole process.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// Kill the calling thread.
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
/// Deliver `SIGSYS` to the thread.
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// Fail the system call with the errno in the data bits.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// Forward the system call to a user-space supervisor.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// Hand the system call to a ptrace tracer.
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// Allow the system call and log it.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// Allow the system call.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// Bits of a return value selecting the action, including the sign bit.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// Action bits without the sign bit (legacy mask).
pub const SECCOMP_RET_ACTION: u32 = 0x7fff_0000;
/// Bits of a return value carrying action-specific data.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// Largest errno a system call can return (`MAX_ERRNO`).
pub const MAX_ERRNO: u16 = 4095;

/// What to do with a system call, decoded from a filter (chain) return
/// value at the time the action is taken (`__seccomp_filter`).
///
/// Data bits are kept for the actions that use them: `SIGSYS` delivery
/// reports them in `si_errno` for traps and kills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Kill the process with `SIGSYS`. Return values with an unknown action
    /// decode to this too, as the C implementation's `default:` case does.
    KillProcess(u16),
    /// Kill the calling thread with `SIGSYS`.
    KillThread(u16),
    /// Send `SIGSYS` with the data in `si_errno`.
    Trap(u16),
    /// Fail with this errno, already capped at [`MAX_ERRNO`]; 0 means the
    /// system call is skipped and returns 0.
    Errno(u16),
    /// Ask the user-space supervisor (`ENOSYS` without one).
    UserNotif,
    /// Notify the tracer with this event message (`ENOSYS` without one).
    Trace(u16),
    /// Allow and log.
    Log,
    /// Allow.
    Allow,
}

impl Action {
    /// Decodes a `SECCOMP_RET_*` value.
    ///
    /// Always inlined: the syscall-entry hook tests one action at once.
    #[inline(always)]
    pub const fn from_ret(ret: u32) -> Self {
        let data = (ret & SECCOMP_RET_DATA) as u16;
        match ret & SECCOMP_RET_ACTION_FULL {
            SECCOMP_RET_KILL_THREAD => Action::KillThread(data),
            SECCOMP_RET_TRAP => Action::Trap(data),
            SECCOMP_RET_ERRNO => Action::Errno(if data > MAX_ERRNO { MAX_ERRNO } else { data }),
            SECCOMP_RET_USER_NOTIF => Action::UserNotif,
            SECCOMP_RET_TRACE => Action::Trace(data),
            SECCOMP_RET_LOG => Action::Log,
            SECCOMP_RET_ALLOW => Action::Allow,
            _ => Action::KillProcess(data),
        }
    }

    /// Whether the system call proceeds (possibly after logging).
    pub const fn allows(&self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }
}

/// The precedence key of a return value: lower keys win
/// (`ACTION_ONLY` in C, the action bits as a signed number, so that
/// `SECCOMP_RET_KILL_PROCESS` is the most restrictive).
pub const fn precedence(ret: u32) -> i32 {
    (ret & SECCOMP_RET_ACTION_FULL) as i32
}

/// One step of the chain evaluation: `candidate`, the result of the next
/// (older) filter, replaces the result so far only if its [`precedence`]
/// is strictly lower.
pub const fn chain_step(so_far: u32, candidate: u32) -> u32 {
    if precedence(candidate) < precedence(so_far) {
        candidate
    } else {
        so_far
    }
}

/// The result of a chain made of a filter returning `newer` attached on
/// top of a chain whose [`run_chain`] result is `older_chain`.
///
/// As in [`run_chain`], evaluation starts from `SECCOMP_RET_ALLOW`, so a
/// newest filter returning `SECCOMP_RET_ALLOW` with data bits yields the
/// plain `SECCOMP_RET_ALLOW`.
pub const fn combine_with_older_chain(newer: u32, older_chain: u32) -> u32 {
    chain_step(chain_step(SECCOMP_RET_ALLOW, newer), older_chain)
}

/// Result of evaluating a filter chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainVerdict {
    /// The winning `SECCOMP_RET_*` value.
    pub ret: u32,
    /// Position, in iteration order, of the filter that produced
    /// [`ChainVerdict::ret`]; `None` when every filter allowed with the
    /// plain `SECCOMP_RET_ALLOW` action or the chain is empty.
    pub matched: Option<usize>,
}

/// Evaluates a filter chain the way `seccomp_run_filters` does.
///
/// `filters` must yield the newest filter first. Starting from
/// `SECCOMP_RET_ALLOW`, a filter's result replaces the current one only if
/// its [`precedence`] is strictly lower, so among equally restrictive
/// results the newest filter's full value (with its data) wins. An empty
/// chain fails closed with `SECCOMP_RET_KILL_PROCESS`.
pub fn run_chain<'a, S, I>(filters: I, data: &SeccompData) -> ChainVerdict
where
    S: Deref<Target = [Insn]> + 'a,
    I: IntoIterator<Item = &'a DecodedProgram<S>>,
{
    let mut verdict = ChainVerdict {
        ret: SECCOMP_RET_ALLOW,
        matched: None,
    };
    let mut empty = true;
    for (position, filter) in filters.into_iter().enumerate() {
        empty = false;
        let ret = filter.run(data);
        if chain_step(verdict.ret, ret) != verdict.ret {
            verdict = ChainVerdict {
                ret,
                matched: Some(position),
            };
        }
    }
    if empty {
        verdict.ret = SECCOMP_RET_KILL_PROCESS;
    }
    verdict
}
