// SPDX-License-Identifier: GPL-2.0

//! audit-check: the audit records (`AUDIT_SECCOMP`, type 1326) seccomp
//! emits for each action, and the `AUDIT_CONFIG_CHANGE` records of
//! `kernel.seccomp.actions_logged`, on a kernel with `AUDITSYSCALL` booted
//! with `audit=1`.
//!
//! Each case is a child whose filter answers the probe call (`getppid`
//! with [`PROBE`] as its first argument) with one action; the filters are
//! installed with `SECCOMP_FILTER_FLAG_LOG` unless said otherwise.  Once all
//! ran, the records are read back from `/dev/kmsg`, normalised (time
//! stamps, pids and addresses removed) and printed as `audit-check:
//! record ...` lines, which `make test` compares between the kernels.  What
//! upstream logs is checked here too:
//!
//! - ERRNO, TRAP, TRACE (with no tracer: `ENOSYS`), USER_NOTIF (answered
//!   with an error), LOG, KILL_THREAD and KILL_PROCESS are logged, each
//!   once, with their action (without its data) as `code`; ERRNO without
//!   the flag and ALLOW are not;
//! - a call a tracer cancels at its `SECCOMP_RET_TRACE` stop (number set
//!   to -1) is logged as `syscall=-1`;
//! - an ia32 call (`int $0x80`) is logged with `arch=40000003` and
//!   `compat=1`;
//! - writing `actions_logged` emits a record with the old and new lists,
//!   and ERRNO is no longer logged once `errno` is not in the list.
//!
//! Prints `audit-check: PASS` on success, else `audit-check: FAIL: <what>`.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::fd::FromRawFd;

use libc::{seccomp_notif_resp, SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND};
use seccomp_samples::bpf::{set_no_new_privs, ProgramBuilder, AUDIT_ARCH_I386};
use seccomp_samples::empty_notif;
use seccomp_samples::{fork_with, recv_fd, send_fd, wait, Ended};
use seccomp_stress::ia32;

/// The first argument that makes `getppid` the probe.
const PROBE: u32 = 0x00a0_d17c;
/// `kernel.seccomp.actions_logged`.
const ACTIONS_LOGGED: &str = "/proc/sys/kernel/seccomp/actions_logged";
/// The kernel's audit records reach the console through printk's rate
/// limit; the cases' records must all get through.
const PRINTK_BURST: &str = "/proc/sys/kernel/printk_ratelimit_burst";
/// Offset of `orig_rax` in `struct user_regs_struct`.
const ORIG_RAX: usize = 15 * 8;

/// One case: its name, the action the filter returns for the probe, the
/// filter flags, and whether upstream logs it.
struct Case {
    name: &'static str,
    ret: u32,
    flags: u32,
    logged: bool,
}

const LOG: u32 = libc::SECCOMP_FILTER_FLAG_LOG as u32;
const LISTENER: u32 = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;

const CASES: &[Case] = &[
    Case { name: "errno", ret: libc::SECCOMP_RET_ERRNO | 7, flags: LOG, logged: true },
    Case { name: "errno-unflagged", ret: libc::SECCOMP_RET_ERRNO | 6, flags: 0, logged: false },
    Case { name: "trap", ret: libc::SECCOMP_RET_TRAP | 8, flags: LOG, logged: true },
    Case { name: "trace-untraced", ret: libc::SECCOMP_RET_TRACE | 9, flags: LOG, logged: true },
    Case { name: "trace-cancelled", ret: libc::SECCOMP_RET_TRACE | 10, flags: LOG, logged: true },
    Case { name: "log", ret: libc::SECCOMP_RET_LOG, flags: 0, logged: true },
    Case { name: "user-notif", ret: libc::SECCOMP_RET_USER_NOTIF, flags: LOG | LISTENER, logged: true },
    Case { name: "allow", ret: libc::SECCOMP_RET_ALLOW, flags: LOG, logged: false },
    Case { name: "kill-thread", ret: libc::SECCOMP_RET_KILL_THREAD | 11, flags: 0, logged: true },
    Case { name: "kill-process", ret: libc::SECCOMP_RET_KILL_PROCESS | 12, flags: 0, logged: true },
];

/// The filter: `ret` for the probe (native) and for ia32 `getpid`, ALLOW
/// for everything else.
fn filter(ret: u32) -> Result<seccomp_samples::bpf::Program, String> {
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jeq(AUDIT_ARCH_I386, "ia32")
        .load_syscall_nr()
        .jne(libc::SYS_getppid as u32, "allow")
        .load_arg_low(0)
        .jeq(PROBE, "act")
        .goto("allow")
        .label("ia32")
        .load_syscall_nr()
        .jeq(ia32::GETPID, "act")
        .label("allow")
        .allow()
        .label("act")
        .ret(ret);
    b.resolve().map_err(|e| format!("filter: {e}"))
}

fn probe() -> i64 {
    // SAFETY: getppid ignores its argument.
    unsafe { libc::syscall(libc::SYS_getppid, PROBE as libc::c_long) }
}

extern "C" fn ignore_sigsys(_: libc::c_int) {}

/// Runs `case` in a child; the child's filter is installed after the
/// tracer (`trace-cancelled`) or supervisor (`user-notif`) is in place.
fn run(case: &Case) -> Result<(), String> {
    let prog = filter(case.ret)?;
    let mut sv = [0; 2];
    // SAFETY: `sv` has room for two descriptors.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) } != 0 {
        return Err(format!("socketpair: {}", io::Error::last_os_error()));
    }
    let traced = case.name == "trace-cancelled";
    let child = fork_with(|| {
        // SAFETY: Plain system calls in the single-threaded child.
        unsafe {
            let zero = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
            libc::signal(libc::SIGSYS, ignore_sigsys as extern "C" fn(libc::c_int) as libc::sighandler_t);
            if traced {
                libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
                libc::raise(libc::SIGSTOP);
            }
        }
        if set_no_new_privs().is_err() {
            return 2;
        }
        match prog.install(case.flags) {
            Ok(fd) if case.flags & LISTENER != 0 => {
                if send_fd(sv[1], fd as libc::c_int).is_err() {
                    return 3;
                }
            }
            Ok(_) => {}
            Err(_) => return 4,
        }
        probe();
        0
    })
    .map_err(|e| format!("fork: {e}"))?;
    if traced {
        trace_and_cancel(child)?;
    }
    if case.flags & LISTENER != 0 {
        answer_with_error(recv_fd(sv[0]).map_err(|e| format!("{}: recv_fd: {e}", case.name))?)?;
    }
    // SAFETY: Our own descriptors.
    unsafe {
        libc::close(sv[0]);
        libc::close(sv[1]);
    }
    let ended = wait(child).map_err(|e| format!("wait: {e}"))?;
    let killed = case.name.starts_with("kill");
    match ended {
        Ended::Signaled(libc::SIGSYS) if killed => Ok(()),
        Ended::Exited(0) if !killed => Ok(()),
        other => Err(format!("{}: the child ended {other:?}", case.name)),
    }
}

/// Traces `child` from its first stop and cancels its probe at the
/// `SECCOMP_RET_TRACE` stop by setting its system call number to -1.
fn trace_and_cancel(child: libc::pid_t) -> Result<(), String> {
    let mut status = 0;
    let stop = |status: &mut libc::c_int| {
        // SAFETY: `status` is a valid out-pointer.
        (unsafe { libc::waitpid(child, status, 0) }) == child && libc::WIFSTOPPED(*status)
    };
    if !stop(&mut status) {
        return Err("trace-cancelled: no initial stop".into());
    }
    // SAFETY: ptrace requests on our stopped tracee, integer arguments.
    unsafe {
        libc::ptrace(libc::PTRACE_SETOPTIONS, child, 0, libc::PTRACE_O_TRACESECCOMP);
        libc::ptrace(libc::PTRACE_CONT, child, 0, 0);
    }
    if !stop(&mut status) || status >> 8 != (libc::SIGTRAP | (libc::PTRACE_EVENT_SECCOMP << 8)) {
        return Err(format!("trace-cancelled: no seccomp stop (status {status:#x})"));
    }
    // SAFETY: As above; POKEUSER writes orig_rax, a register slot.
    unsafe {
        if libc::ptrace(libc::PTRACE_POKEUSER, child, ORIG_RAX, -1i64) != 0 {
            return Err(format!("trace-cancelled: POKEUSER: {}", io::Error::last_os_error()));
        }
        libc::ptrace(libc::PTRACE_DETACH, child, 0, 0);
    }
    Ok(())
}

/// Receives the one notification on `listener` and answers it with
/// `EPERM`.
fn answer_with_error(listener: libc::c_int) -> Result<(), String> {
    let mut req = empty_notif();
    // SAFETY: RECV fills a `struct seccomp_notif`; SEND reads a response.
    unsafe {
        if libc::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &mut req) != 0 {
            return Err(format!("user-notif: RECV: {}", io::Error::last_os_error()));
        }
        let mut resp = seccomp_notif_resp { id: req.id, val: 0, error: -libc::EPERM, flags: 0 };
        if libc::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &mut resp) != 0 {
            return Err(format!("user-notif: SEND: {}", io::Error::last_os_error()));
        }
        libc::close(listener);
    }
    Ok(())
}

/// An ia32 `getpid` answered with ERRNO(5) by a logging filter.
fn run_ia32() -> Result<(), String> {
    let prog = filter(libc::SECCOMP_RET_ERRNO | 5)?;
    let child = fork_with(|| {
        if set_no_new_privs().is_err() || prog.install(LOG).is_err() {
            return 2;
        }
        if ia32::int80(ia32::GETPID, 0, 0, 0) != -5 {
            return 3;
        }
        0
    })
    .map_err(|e| format!("fork: {e}"))?;
    match wait(child).map_err(|e| format!("wait: {e}"))? {
        Ended::Exited(0) => Ok(()),
        other => Err(format!("ia32: the child ended {other:?}")),
    }
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))
}

/// The seccomp audit records in the kernel log, normalised: no time stamp,
/// pid, session or address.
fn records() -> Result<Vec<String>, String> {
    // SAFETY: A plain open of a path we own the string of.
    let fd = unsafe { libc::open(c"/dev/kmsg".as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK) };
    if fd < 0 {
        return Err(format!("/dev/kmsg: {}", io::Error::last_os_error()));
    }
    // SAFETY: `fd` is ours.
    let mut kmsg = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let line = String::from_utf8_lossy(&buf[..n]);
                let text = line.split_once(';').map_or("", |(_, t)| t).trim_end();
                // Our own records only: other programs of the same boot
                // may have been killed by their filters too.
                let ours = text.contains("type=1326") && text.contains(" comm=\"audit-check\" ");
                if ours || (text.contains("type=1305") && text.contains("op=seccomp-logging")) {
                    out.push(normalise(text));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue, // overwritten
            Err(e) => return Err(format!("/dev/kmsg: {e}")),
        }
    }
    Ok(out)
}

/// The `code=` field of an `AUDIT_SECCOMP` record for return value `ret`.
fn code(ret: u32) -> String {
    format!("code={:#x}", ret & libc::SECCOMP_RET_ACTION_FULL)
}

fn normalise(text: &str) -> String {
    text.split(' ')
        .filter(|w| !w.starts_with("audit(") && !w.starts_with("pid=") && !w.starts_with("ses="))
        .map(|w| if w.starts_with("ip=") { "ip=*" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn check() -> Result<Vec<String>, String> {
    write_file(PRINTK_BURST, "10000")?;
    let default_logged = std::fs::read_to_string(ACTIONS_LOGGED).map_err(|e| format!("{ACTIONS_LOGGED}: {e}"))?;
    for case in CASES {
        run(case)?;
    }
    run_ia32()?;
    // Without `errno` in the list, ERRNO is not logged even when asked.
    write_file(ACTIONS_LOGGED, "kill_process kill_thread trap")?;
    run(&CASES[0])?;
    write_file(ACTIONS_LOGGED, default_logged.trim())?;
    // kauditd prints asynchronously.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let records = records()?;
    // The record's `code` is the action, without its data.  Native calls:
    // one record per logged case (the ERRNO case run again once `errno`
    // left the list must not add one).
    let native_codes = |r: &&String| r.contains(" arch=c000003e ");
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for case in CASES.iter().filter(|c| c.logged) {
        *want.entry(code(case.ret)).or_default() += 1;
    }
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for r in records.iter().filter(native_codes) {
        if let Some(c) = r.split(' ').find(|w| w.starts_with("code=")) {
            *got.entry(c.to_string()).or_default() += 1;
        }
    }
    if got != want {
        return Err(format!("records per action {got:?}, expected {want:?}"));
    }
    let traced = code(libc::SECCOMP_RET_TRACE);
    if !records.iter().any(|r| r.contains(&traced) && r.contains(" syscall=-1 ")) {
        return Err("trace-cancelled: not logged as syscall=-1".into());
    }
    if !records.iter().any(|r| r.contains("arch=40000003 syscall=20 compat=1")) {
        return Err("ia32: no record with arch=40000003 syscall=20 compat=1".into());
    }
    if records.iter().filter(|r| r.contains("op=seccomp-logging")).count() != 2 {
        return Err("actions_logged: not two configuration records".into());
    }
    Ok(records)
}

fn main() {
    // SAFETY: Arms our own alarm: a hang fails the run.
    unsafe { libc::alarm(60) };
    match check() {
        Ok(records) => {
            for r in records {
                println!("audit-check: record {r}");
            }
            println!("audit-check: PASS");
        }
        Err(what) => {
            println!("audit-check: FAIL: {what}");
            std::process::exit(1);
        }
    }
}
