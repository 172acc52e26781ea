// SPDX-License-Identifier: GPL-2.0

//! Strict mode (seccomp mode 1), shown end to end.
//!
//! A child enters strict mode, proves that `read`/`write` still work, then
//! makes a forbidden system call (`getpid`) and is killed with `SIGKILL`.
//! The parent shows the child's `Seccomp:` line in `/proc/<pid>/status`
//! while it is confined, and both ways in: `prctl(PR_SET_SECCOMP)` and
//! `seccomp(SECCOMP_SET_MODE_STRICT)`.  The output is checked by the tests.

use seccomp_samples::{check, fork_with, raw_read_byte, raw_write, wait, Ended};
use std::io;

#[derive(Clone, Copy)]
enum Entry {
    Prctl,
    SeccompSyscall,
}

/// Child: enter strict mode, signal the parent, wait for its go, write,
/// then call getpid(), which strict mode punishes with SIGKILL.
fn child(entry: Entry, to_parent: libc::c_int, from_parent: libc::c_int) -> libc::c_int {
    // SAFETY: Plain system calls with integer arguments.
    let ret = unsafe {
        match entry {
            Entry::Prctl => libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_STRICT) as libc::c_long,
            Entry::SeccompSyscall => {
                libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_STRICT, 0, std::ptr::null::<u8>())
            }
        }
    };
    if ret != 0 {
        raw_write(2, b"child: entering strict mode failed\n");
        return 1;
    }
    raw_write(to_parent, b"s");
    let _ = raw_read_byte(from_parent);
    raw_write(1, b"child: in strict mode, write() still works\n");
    raw_write(1, b"child: calling getpid(), which strict mode forbids\n");
    // SAFETY: getpid has no arguments.
    unsafe { libc::syscall(libc::SYS_getpid) };
    raw_write(1, b"child: still alive after getpid() -- strict mode is broken\n");
    2
}

fn pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) } as libc::c_long)?;
    Ok((fds[0], fds[1]))
}

fn seccomp_line(pid: libc::pid_t) -> io::Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status.lines().find(|l| l.starts_with("Seccomp:")).unwrap_or("Seccomp: (missing)").replace('\t', " "))
}

fn demo(entry: Entry, how: &str) -> io::Result<bool> {
    println!("== strict mode via {how}");
    let (to_parent_r, to_parent_w) = pipe()?;
    let (from_parent_r, from_parent_w) = pipe()?;
    let pid = fork_with(|| child(entry, to_parent_w, from_parent_r))?;
    let entered = raw_read_byte(to_parent_r).is_some();
    println!("parent: child {pid} {}", if entered { "entered strict mode" } else { "failed" });
    println!("parent: /proc/<child>/status: {}", seccomp_line(pid)?);
    raw_write(from_parent_w, b"g");
    let ended = wait(pid)?;
    let killed = ended == Ended::Signaled(libc::SIGKILL);
    println!(
        "parent: child {}",
        match ended {
            Ended::Signaled(libc::SIGKILL) => "was killed by SIGKILL".to_string(),
            other => format!("ended unexpectedly: {other:?}"),
        }
    );
    for fd in [to_parent_r, to_parent_w, from_parent_r, from_parent_w] {
        // SAFETY: Closing fds we own.
        unsafe { libc::close(fd) };
    }
    Ok(entered && killed)
}

fn main() -> io::Result<()> {
    // SAFETY: prctl(PR_GET_SECCOMP) takes no pointers.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
    println!("parent: PR_GET_SECCOMP = {mode}");
    let ok = demo(Entry::Prctl, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)")?
        & demo(Entry::SeccompSyscall, "seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL)")?;
    println!("strict-demo: {}", if ok { "PASS" } else { "FAIL" });
    std::process::exit(if ok { 0 } else { 1 });
}
