// SPDX-License-Identifier: GPL-2.0

//! bpf-fancy: a seccomp filter written with symbolic labels instead of
//! hand-counted jump offsets, using the small builder in
//! `seccomp_samples::bpf`, and exercised action by action.
//!
//! The parent makes a non-blocking pipe and builds the filter:
//!
//! * the architecture must be x86_64, anything else is killed;
//! * `write` is allowed to fds 1 and 2 only; any other fd fails with
//!   `EPERM` (the low 32 bits of argument 0 are checked: the kernel reads
//!   the fd as an `unsigned int`);
//! * `read` is allowed from the pipe's read end only (its fd number is
//!   only known at run time, which a builder handles easily);
//! * `getpid` raises `SIGSYS` (`SECCOMP_RET_TRAP`, data 0x5ec), which a
//!   handler answers with a made-up pid, 4242;
//! * `rt_sigreturn` (to leave that handler), `exit` and `exit_group` are
//!   allowed, and every other system call kills the process.
//!
//! A forked child installs the filter and then uses nothing but raw
//! system calls (no stdio, no allocation: the Rust and C runtimes would
//! need calls the filter forbids).  It checks each rule and prints one
//! line per check; a failed check ends the child with status 1.  When
//! every check held it calls `getppid`, which the filter does not allow,
//! so the child dying of `SIGSYS` is what the parent counts as a pass.
//!
//! Run: `./bpf-fancy` (add `--dump` to print the resolved instructions).
//! Expected output, every line stable:
//!
//! ```text
//! bpf-fancy: filter of 20 instructions, 5 labels resolved
//! child: filter installed, raw system calls only from here on
//! child: write(1, <this line>) allowed
//! child: write(2, "", 0) = 0 (stderr is writable too)
//! child: write(pipe, "x", 1) = -1 EPERM (only fds 1 and 2 are writable)
//! child: read(pipe, 1) = -1 EAGAIN (the pipe is empty: the refused write never ran)
//! child: getpid() = 4242 (trapped: SIGSYS with data 0x5ec, answered by the handler)
//! child: every check held; calling getppid(), which the filter forbids
//! parent: child was killed by SIGSYS
//! bpf-fancy: PASS
//! ```

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicI32, Ordering};

use seccomp_samples::bpf::{set_no_new_privs, Program, ProgramBuilder, AUDIT_ARCH_X86_64};
use seccomp_samples::{fork_with, wait, Ended, SigsysInfo, SYS_SECCOMP};

/// Data returned with the `getpid` trap; the handler sees it in `si_errno`.
const TRAP_DATA: u16 = 0x5ec;
/// What the handler makes the trapped `getpid` return.
const EMULATED_PID: i64 = 4242;

/// The filter; `pipe_r` is the only fd `read` may use.
fn build_filter(pipe_r: libc::c_int) -> ProgramBuilder {
    use libc::*;
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jne(AUDIT_ARCH_X86_64, "kill")
        .load_syscall_nr()
        .on_syscall(SYS_write, "write")
        .on_syscall(SYS_read, "read")
        .on_syscall(SYS_getpid, "trap")
        .on_syscall(SYS_rt_sigreturn, "allow")
        .on_syscall(SYS_exit, "allow")
        .on_syscall(SYS_exit_group, "allow")
        .goto("kill")
        // write(fd, ...): stdout and stderr only.
        .label("write")
        .load_arg_low(0)
        .jeq(STDOUT_FILENO as u32, "allow")
        .jeq(STDERR_FILENO as u32, "allow")
        .errno(EPERM)
        // read(fd, ...): the pipe only.
        .label("read")
        .load_arg_low(0)
        .jeq(pipe_r as u32, "allow")
        .goto("kill")
        .label("trap")
        .trap(TRAP_DATA)
        .label("allow")
        .allow()
        .label("kill")
        .kill();
    b
}

// ---- the SIGSYS handler -------------------------------------------------

/// What the last seccomp trap reported: system call and data.
static TRAPPED_NR: AtomicI32 = AtomicI32::new(-1);
static TRAPPED_DATA: AtomicI32 = AtomicI32::new(-1);

/// Records the trap and answers `getpid` with [`EMULATED_PID`] (anything
/// else with `ENOSYS`) by setting the return register the interrupted
/// system call will see.
extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: The kernel passes a valid siginfo and ucontext to an
    // SA_SIGINFO handler; SIGSYS fills the `_sigsys` member.
    let (info, context) = unsafe { (&*(info as *const SigsysInfo), &mut *(context as *mut libc::ucontext_t)) };
    if info.code != SYS_SECCOMP || info.arch != AUDIT_ARCH_X86_64 {
        return;
    }
    TRAPPED_NR.store(info.syscall, Ordering::Relaxed);
    TRAPPED_DATA.store(info.errno, Ordering::Relaxed);
    context.uc_mcontext.gregs[libc::REG_RAX as usize] =
        if info.syscall == libc::SYS_getpid as libc::c_int { EMULATED_PID } else { -(libc::ENOSYS as i64) };
}

// ---- output without allocation ------------------------------------------

/// A line formatted on the stack and written with one raw `write(1)`.
struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Line { buf: [0; 256], len: 0 }
    }

    /// Writes the line and a newline to stdout; the return value of
    /// `write`, or the errno.
    fn emit(mut self) -> Result<i64, i32> {
        let _ = self.write_str("\n");
        sys(libc::SYS_write, 1, self.buf.as_ptr() as usize, self.len)
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = Line::new();
        let _ = write!(line, $($arg)*);
        line.emit()
    }};
}

/// A raw system call with up to three arguments: its return value, or
/// the errno it failed with.
fn sys(nr: libc::c_long, a: usize, b: usize, c: usize) -> Result<i64, i32> {
    // SAFETY: Each caller passes arguments valid for `nr`: integers, or
    // pointers to buffers of the given lengths.
    let ret = unsafe { libc::syscall(nr, a, b, c) };
    if ret == -1 {
        // SAFETY: errno is thread-local and always valid to read.
        Err(unsafe { *libc::__errno_location() })
    } else {
        Ok(ret)
    }
}

/// Shows a system call result as `n` or `-1 ENAME`.
struct Shown(Result<i64, i32>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = match self.0 {
            Ok(n) => return write!(f, "{n}"),
            Err(e) => e,
        };
        let name = match e {
            libc::EPERM => "EPERM",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOSYS => "ENOSYS",
            _ => return write!(f, "-1 errno {e}"),
        };
        write!(f, "-1 {name}")
    }
}

/// Prints `child: CALL = GOT (WHY)` if `got` is `want`, else a FAIL line;
/// tells whether it held.
fn expect(call: &str, got: Result<i64, i32>, want: Result<i64, i32>, why: &str) -> bool {
    let held = got == want;
    let _ = if held {
        say!("child: {call} = {} ({why})", Shown(got))
    } else {
        say!("child: {call} = {}, expected {} -- FAIL", Shown(got), Shown(want))
    };
    held
}

// ---- the child ----------------------------------------------------------

/// Installs the handler and the filter; the usual runtime is still fine
/// here.
fn confine(filter: &Program) -> std::io::Result<()> {
    // A process killed by seccomp dumps core; there is nothing to see.
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: A valid rlimit, and a zeroed sigaction with a valid
    // SA_SIGINFO handler.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigsys as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        if libc::sigaction(libc::SIGSYS, &action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    set_no_new_privs()?;
    filter.install(0).map(drop)
}

fn child(filter: &Program, pipe_r: libc::c_int, pipe_w: libc::c_int) -> libc::c_int {
    if let Err(e) = confine(filter) {
        eprintln!("child: installing the filter failed: {e}");
        return 1;
    }
    // From here on: raw system calls only.
    let mut ok = say!("child: filter installed, raw system calls only from here on").is_ok();

    let mut line = Line::new();
    let _ = write!(line, "child: write(1, <this line>) allowed");
    let len = line.len as i64 + 1;
    ok &= line.emit() == Ok(len);

    let empty = b"";
    ok &= expect(
        "write(2, \"\", 0)",
        sys(libc::SYS_write, 2, empty.as_ptr() as usize, 0),
        Ok(0),
        "stderr is writable too",
    );
    ok &= expect(
        "write(pipe, \"x\", 1)",
        sys(libc::SYS_write, pipe_w as usize, b"x".as_ptr() as usize, 1),
        Err(libc::EPERM),
        "only fds 1 and 2 are writable",
    );
    let mut byte = 0u8;
    ok &= expect(
        "read(pipe, 1)",
        sys(libc::SYS_read, pipe_r as usize, &mut byte as *mut u8 as usize, 1),
        Err(libc::EAGAIN),
        "the pipe is empty: the refused write never ran",
    );
    let pid = sys(libc::SYS_getpid, 0, 0, 0);
    let trapped = (TRAPPED_NR.load(Ordering::Relaxed), TRAPPED_DATA.load(Ordering::Relaxed));
    if trapped == (libc::SYS_getpid as i32, TRAP_DATA as i32) {
        ok &= expect("getpid()", pid, Ok(EMULATED_PID), "trapped: SIGSYS with data 0x5ec, answered by the handler");
    } else {
        let _ = say!("child: getpid() = {}, trap saw nr {} data {:#x} -- FAIL", Shown(pid), trapped.0, trapped.1);
        ok = false;
    }

    if !ok {
        let _ = say!("child: a check failed; not testing the kill");
        return 1;
    }
    let _ = say!("child: every check held; calling getppid(), which the filter forbids");
    let _ = sys(libc::SYS_getppid, 0, 0, 0);
    let _ = say!("child: still alive after getppid() -- FAIL");
    2
}

// ---- the parent ---------------------------------------------------------

fn main() {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        eprintln!("bpf-fancy: pipe: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    let [pipe_r, pipe_w] = fds;
    let filter = match build_filter(pipe_r).resolve() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("bpf-fancy: the filter does not resolve: {e}");
            std::process::exit(1);
        }
    };
    println!("bpf-fancy: filter of {} instructions, {} labels resolved", filter.len(), filter.labels());
    if std::env::args().any(|a| a == "--dump") {
        print!("{filter}");
    }

    let ended = fork_with(|| child(&filter, pipe_r, pipe_w)).and_then(|pid| {
        for fd in fds {
            // SAFETY: Closing the parent's copies of the pipe.
            unsafe { libc::close(fd) };
        }
        wait(pid)
    });
    let ok = match ended {
        Ok(Ended::Signaled(libc::SIGSYS)) => {
            println!("parent: child was killed by SIGSYS");
            true
        }
        Ok(other) => {
            println!("parent: child ended unexpectedly: {other:?}");
            false
        }
        Err(e) => {
            println!("parent: fork/wait failed: {e}");
            false
        }
    };
    println!("bpf-fancy: {}", if ok { "PASS" } else { "FAIL" });
    std::process::exit(if ok { 0 } else { 1 });
}
