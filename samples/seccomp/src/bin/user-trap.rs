// SPDX-License-Identifier: GPL-2.0

//! user-trap: a supervisor handles system calls on a sandboxed child's
//! behalf through a seccomp user-notification listener.
//!
//! The child installs a filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER`
//! that returns `SECCOMP_RET_USER_NOTIF` for `mkdir` and `openat`, hands
//! the listener fd to its parent over a socket, and then:
//!
//! 1. `mkdir("/tmp/user-trap")`: the supervisor reads the path from the
//!    child's memory, checks it is under /tmp, creates it itself and
//!    replies success;
//! 2. `mkdir("/user-trap")`: refused by the supervisor with `EPERM`;
//! 3. `openat("/virtual/greeting")`: the supervisor makes a pipe, writes
//!    a greeting into it and installs the read end into the child with
//!    `SECCOMP_IOCTL_NOTIF_ADDFD` + `SECCOMP_ADDFD_FLAG_SEND`, which also
//!    answers the system call with the new fd.
//!
//! The child reports what each call returned; the output is checked.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;

use libc::{
    seccomp_notif_addfd, seccomp_notif_resp, SECCOMP_ADDFD_FLAG_SEND, SECCOMP_IOCTL_NOTIF_ADDFD as NOTIF_ADDFD,
    SECCOMP_IOCTL_NOTIF_ID_VALID as NOTIF_ID_VALID, SECCOMP_IOCTL_NOTIF_RECV as NOTIF_RECV,
    SECCOMP_IOCTL_NOTIF_SEND as NOTIF_SEND,
};
use seccomp_samples::{check, empty_notif, fork_with, recv_fd, send_fd, wait, Ended};

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const GREETING: &[u8] = b"hello from the supervisor\n";

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}

/// Installs the filter and returns the listener fd.
fn install_filter() -> io::Result<libc::c_int> {
    use libc::*;
    let insns = [
        stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir as u32, 1, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat as u32, 0, 1),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ];
    let prog = sock_fprog { len: insns.len() as u16, filter: insns.as_ptr() as *mut _ };
    // SAFETY: prctl and seccomp with valid arguments; `prog` outlives the call.
    unsafe {
        check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as c_long)?;
        let fd = check(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog))?;
        Ok(fd as c_int)
    }
}

/// The child: install the filter, hand over the listener, make the calls.
fn child(sock: libc::c_int) -> libc::c_int {
    let listener = match install_filter() {
        Ok(fd) => fd,
        Err(e) => {
            println!("child: installing the filter failed: {e}");
            return 1;
        }
    };
    if send_fd(sock, listener).is_err() {
        return 1;
    }
    // SAFETY: Closing our copy of the listener.
    unsafe { libc::close(listener) };

    let report = |what: &str, ret: libc::c_long| {
        let err = io::Error::last_os_error();
        if ret < 0 {
            println!("child: {what} = -1 ({})", err.kind());
        } else {
            println!("child: {what} = {ret}");
        }
    };
    // SAFETY: Raw system calls with NUL-terminated path literals.
    unsafe {
        let ret = libc::syscall(libc::SYS_mkdir, c"/tmp/user-trap".as_ptr(), 0o755);
        report("mkdir(\"/tmp/user-trap\")", ret);
        let ret = libc::syscall(libc::SYS_mkdir, c"/user-trap".as_ptr(), 0o755);
        report("mkdir(\"/user-trap\")", ret);
        let fd = libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c"/virtual/greeting".as_ptr(), libc::O_RDONLY);
        if fd < 0 {
            report("openat(\"/virtual/greeting\")", fd);
            return 1;
        }
        println!("child: openat(\"/virtual/greeting\") gave an fd");
        let mut buf = [0u8; 64];
        let n = libc::read(fd as libc::c_int, buf.as_mut_ptr().cast(), buf.len());
        if n > 0 {
            print!("child: read: {}", String::from_utf8_lossy(&buf[..n as usize]));
        }
    }
    0
}

/// Reads a NUL-terminated path at `addr` in `pid`'s memory.
fn read_path(pid: u32, addr: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem"))?;
    let mut buf = vec![0u8; 4096];
    let n = mem.read_at(&mut buf, addr)?;
    buf.truncate(n);
    let end = buf.iter().position(|&b| b == 0).ok_or_else(|| io::Error::other("path too long"))?;
    buf.truncate(end);
    Ok(buf)
}

fn ioctl<T>(fd: libc::c_int, cmd: libc::Ioctl, arg: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `arg` is the structure `cmd` expects.
    check(unsafe { libc::ioctl(fd, cmd, arg as *mut T) } as libc::c_long)
}

/// Answers one notification; returns false when the child is gone.
fn supervise_one(listener: libc::c_int) -> io::Result<bool> {
    let mut req = empty_notif();
    if let Err(e) = ioctl(listener, NOTIF_RECV, &mut req) {
        return if e.raw_os_error() == Some(libc::ENOENT) { Ok(true) } else { Err(e) };
    }
    let mut resp = seccomp_notif_resp { id: req.id, val: 0, error: 0, flags: 0 };
    let path_arg = if req.data.nr == libc::SYS_mkdir as i32 { req.data.args[0] } else { req.data.args[1] };
    let path = read_path(req.pid, path_arg)?;
    // The child could have changed its memory while we read it: only trust
    // the path if the notification is still the one we received.
    let mut id = req.id;
    ioctl(listener, NOTIF_ID_VALID, &mut id)?;
    let shown = String::from_utf8_lossy(&path).into_owned();
    if req.data.nr == libc::SYS_mkdir as i32 {
        if path.starts_with(b"/tmp/") && !path.windows(2).any(|w| w == b"..") {
            let c = CString::new(std::ffi::OsStr::from_bytes(&path).as_bytes())?;
            // SAFETY: mkdir with a NUL-terminated path.
            let ret = unsafe { libc::mkdir(c.as_ptr(), req.data.args[1] as libc::mode_t) };
            resp.error = if ret == 0 { 0 } else { -io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) };
            println!("supervisor: mkdir(\"{shown}\") for pid {}: done on its behalf", req.pid);
        } else {
            resp.error = -libc::EPERM;
            println!("supervisor: mkdir(\"{shown}\") for pid {}: refused", req.pid);
        }
        ioctl(listener, NOTIF_SEND, &mut resp)?;
    } else if path == b"/virtual/greeting" {
        let mut pipe = [0; 2];
        // SAFETY: pipe/write/close on our own descriptors.
        unsafe {
            check(libc::pipe(pipe.as_mut_ptr()) as libc::c_long)?;
            libc::write(pipe[1], GREETING.as_ptr().cast(), GREETING.len());
            libc::close(pipe[1]);
        }
        let mut addfd = seccomp_notif_addfd {
            id: req.id,
            flags: SECCOMP_ADDFD_FLAG_SEND as u32,
            srcfd: pipe[0] as u32,
            newfd: 0,
            newfd_flags: 0,
        };
        let fd = ioctl(listener, NOTIF_ADDFD, &mut addfd)?;
        println!("supervisor: openat(\"{shown}\") for pid {}: installed a pipe as its fd {fd}", req.pid);
        // SAFETY: Our copy of the read end.
        unsafe { libc::close(pipe[0]) };
    } else {
        resp.error = -libc::ENOENT;
        ioctl(listener, NOTIF_SEND, &mut resp)?;
    }
    Ok(true)
}

fn main() -> io::Result<()> {
    let mut socks = [0; 2];
    // SAFETY: socketpair with a valid output array.
    check(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, socks.as_mut_ptr()) } as libc::c_long)?;
    let pid = fork_with(|| child(socks[1]))?;
    let listener = recv_fd(socks[0])?;
    println!("supervisor: got listener fd from child {pid}");
    for _ in 0..3 {
        supervise_one(listener)?;
    }
    let ended = wait(pid)?;
    let made = std::path::Path::new("/tmp/user-trap").is_dir();
    println!("supervisor: /tmp/user-trap {}", if made { "exists" } else { "is missing" });
    let ok = ended == Ended::Exited(0) && made;
    println!("user-trap: {}", if ok { "PASS" } else { "FAIL" });
    std::process::exit(if ok { 0 } else { 1 });
}
