// SPDX-License-Identifier: GPL-2.0

//! Small helpers shared by the seccomp samples: raw system calls and
//! fork/wait plumbing, kept minimal so each sample reads top to bottom.

use std::io;

pub mod bpf;

/// Returns the last OS error if `ret` is negative, else `ret`.
pub fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Writes all of `buf` to `fd` with the raw `write` system call (no stdio
/// buffering, nothing but `write`: safe to use under strict mode).
pub fn raw_write(fd: libc::c_int, buf: &[u8]) {
    let mut rest = buf;
    while !rest.is_empty() {
        // SAFETY: `rest` is a valid buffer of `rest.len()` bytes.
        let n = unsafe { libc::syscall(libc::SYS_write, fd, rest.as_ptr(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = &rest[n as usize..];
    }
}

/// Reads one byte from `fd` with the raw `read` system call.
pub fn raw_read_byte(fd: libc::c_int) -> Option<u8> {
    let mut b = 0u8;
    // SAFETY: `b` is a valid one-byte buffer.
    let n = unsafe { libc::syscall(libc::SYS_read, fd, &mut b as *mut u8, 1) };
    (n == 1).then_some(b)
}

/// Leaves the calling thread with the raw `exit` system call, which strict
/// mode allows (the C library's `exit()` uses `exit_group`, which it
/// does not).
pub fn raw_exit(code: libc::c_int) -> ! {
    // SAFETY: `exit` never returns.
    unsafe { libc::syscall(libc::SYS_exit, code) };
    unreachable!("exit returned")
}

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Exited with this status.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

/// Waits for `pid` and tells how it ended.
pub fn wait(pid: libc::pid_t) -> io::Result<Ended> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(io::Error::last_os_error());
    }
    Ok(if libc::WIFSIGNALED(status) {
        Ended::Signaled(libc::WTERMSIG(status))
    } else {
        Ended::Exited(libc::WEXITSTATUS(status))
    })
}

/// Forks; runs `child` in the child, which leaves with the raw `exit`
/// system call if `child` returns, and returns the child's pid in the
/// parent.
pub fn fork_with(child: impl FnOnce() -> libc::c_int) -> io::Result<libc::pid_t> {
    // SAFETY: The samples are single-threaded, so the child may run
    // arbitrary code after fork.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => raw_exit(child()),
        pid => Ok(pid),
    }
}
