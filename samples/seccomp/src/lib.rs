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

/// Passes file descriptors over a unix socket (`SCM_RIGHTS`), as a
/// sandbox hands its listener fd to its supervisor.
///
/// The message carries one data byte and, in its control part, one fd.
fn fd_message(byte: &mut u8, iov: &mut libc::iovec, control: &mut [u8; 64]) -> libc::msghdr {
    *iov = libc::iovec { iov_base: (byte as *mut u8).cast(), iov_len: 1 };
    // SAFETY: An all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    msg
}

/// Sends `fd` over the unix socket `sock`.
pub fn send_fd(sock: libc::c_int, fd: libc::c_int) -> io::Result<()> {
    let (mut byte, mut control) = (0u8, [0u8; 64]);
    let mut iov = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 };
    let mut msg = fd_message(&mut byte, &mut iov, &mut control);
    // SAFETY: `msg` points to `iov` and `control`, which outlive the call;
    // the control buffer has room for one fd's header and data.
    unsafe {
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>(), fd);
        check(libc::sendmsg(sock, &msg, 0) as libc::c_long)?;
    }
    Ok(())
}

/// Receives an fd sent with [`send_fd`].
pub fn recv_fd(sock: libc::c_int) -> io::Result<libc::c_int> {
    let (mut byte, mut control) = (0u8, [0u8; 64]);
    let mut iov = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 };
    let mut msg = fd_message(&mut byte, &mut iov, &mut control);
    // SAFETY: As for `send_fd`, receiving into our buffers.
    unsafe {
        if libc::recvmsg(sock, &mut msg, 0) <= 0 {
            return Err(io::Error::last_os_error());
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err(io::Error::other("no fd received"));
        }
        Ok(std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>()))
    }
}

/// The SIGSYS part of `siginfo_t` (`_sigsys` in the kernel's union), which
/// the `libc` crate does not expose.
#[repr(C)]
pub struct SigsysInfo {
    /// `si_signo`.
    pub signo: libc::c_int,
    /// `si_errno`: the data of a `SECCOMP_RET_TRAP`.
    pub errno: libc::c_int,
    /// `si_code`: [`SYS_SECCOMP`] for a seccomp trap.
    pub code: libc::c_int,
    _pad: libc::c_int,
    /// `si_call_addr`: the address of the system call instruction.
    pub call_addr: *mut libc::c_void,
    /// `si_syscall`: the trapped system call's number.
    pub syscall: libc::c_int,
    /// `si_arch`: its `AUDIT_ARCH_*`.
    pub arch: libc::c_uint,
}

/// `si_code` of a seccomp `SIGSYS`.
pub const SYS_SECCOMP: libc::c_int = 1;

/// A `struct seccomp_notif` of zeroes, the buffer
/// `SECCOMP_IOCTL_NOTIF_RECV` wants.
pub fn empty_notif() -> libc::seccomp_notif {
    let data = libc::seccomp_data { nr: 0, arch: 0, instruction_pointer: 0, args: [0; 6] };
    libc::seccomp_notif { id: 0, pid: 0, flags: 0, data }
}
