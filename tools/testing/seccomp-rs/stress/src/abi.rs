// SPDX-License-Identifier: GPL-2.0

//! The x86-64 ABI values the programs pass to raw system calls, from the
//! libc crate where it has them: system call numbers and `prctl()`
//! operations as the `u64` arguments of [`crate::fuzzkit::raw_syscall`],
//! and `seccomp()`'s filter flags and filter return values as the 32-bit
//! fields they are.

/// System call numbers.
pub const NR_READ: u64 = libc::SYS_read as u64;
pub const NR_WRITE: u64 = libc::SYS_write as u64;
pub const NR_CLOSE: u64 = libc::SYS_close as u64;
pub const NR_FSTAT: u64 = libc::SYS_fstat as u64;
pub const NR_LSEEK: u64 = libc::SYS_lseek as u64;
pub const NR_RT_SIGRETURN: u64 = libc::SYS_rt_sigreturn as u64;
pub const NR_IOCTL: u64 = libc::SYS_ioctl as u64;
pub const NR_SCHED_YIELD: u64 = libc::SYS_sched_yield as u64;
pub const NR_DUP: u64 = libc::SYS_dup as u64;
pub const NR_GETPID: u64 = libc::SYS_getpid as u64;
pub const NR_EXIT: u64 = libc::SYS_exit as u64;
pub const NR_KILL: u64 = libc::SYS_kill as u64;
pub const NR_FCNTL: u64 = libc::SYS_fcntl as u64;
pub const NR_UMASK: u64 = libc::SYS_umask as u64;
pub const NR_PTRACE: u64 = libc::SYS_ptrace as u64;
pub const NR_GETUID: u64 = libc::SYS_getuid as u64;
pub const NR_GETGID: u64 = libc::SYS_getgid as u64;
pub const NR_GETEUID: u64 = libc::SYS_geteuid as u64;
pub const NR_GETEGID: u64 = libc::SYS_getegid as u64;
pub const NR_GETPPID: u64 = libc::SYS_getppid as u64;
pub const NR_GETPGID: u64 = libc::SYS_getpgid as u64;
pub const NR_PERSONALITY: u64 = libc::SYS_personality as u64;
pub const NR_SCHED_GETSCHEDULER: u64 = libc::SYS_sched_getscheduler as u64;
pub const NR_PRCTL: u64 = libc::SYS_prctl as u64;
pub const NR_GETTID: u64 = libc::SYS_gettid as u64;
pub const NR_EXIT_GROUP: u64 = libc::SYS_exit_group as u64;
pub const NR_SECCOMP: u64 = libc::SYS_seccomp as u64;
/// `uretprobe` and `uprobe` (6.11, 6.16 onwards), not in libc yet.
pub const NR_URETPROBE: u64 = 335;
pub const NR_UPROBE: u64 = 336;

/// `prctl()` operations.
pub const PR_GET_DUMPABLE: u64 = libc::PR_GET_DUMPABLE as u64;
pub const PR_GET_SECCOMP: u64 = libc::PR_GET_SECCOMP as u64;
pub const PR_SET_SECCOMP: u64 = libc::PR_SET_SECCOMP as u64;
pub const PR_GET_NO_NEW_PRIVS: u64 = libc::PR_GET_NO_NEW_PRIVS as u64;

/// `SECCOMP_FILTER_FLAG_*`: `seccomp()`'s `unsigned int flags`.
pub const FLAG_TSYNC: u32 = libc::SECCOMP_FILTER_FLAG_TSYNC as u32;
pub const FLAG_LOG: u32 = libc::SECCOMP_FILTER_FLAG_LOG as u32;
pub const FLAG_SPEC_ALLOW: u32 = libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32;
pub const FLAG_NEW_LISTENER: u32 = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;
pub const FLAG_TSYNC_ESRCH: u32 = libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH as u32;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;

/// `SECCOMP_RET_*`: filter return values.
pub const RET_KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS as u32;
pub const RET_KILL_THREAD: u32 = libc::SECCOMP_RET_KILL_THREAD as u32;
pub const RET_TRAP: u32 = libc::SECCOMP_RET_TRAP as u32;
pub const RET_ERRNO: u32 = libc::SECCOMP_RET_ERRNO as u32;
pub const RET_USER_NOTIF: u32 = libc::SECCOMP_RET_USER_NOTIF as u32;
pub const RET_TRACE: u32 = libc::SECCOMP_RET_TRACE as u32;
pub const RET_LOG: u32 = libc::SECCOMP_RET_LOG as u32;
pub const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW as u32;
pub const RET_ACTION_FULL: u32 = libc::SECCOMP_RET_ACTION_FULL as u32;
