// SPDX-License-Identifier: GPL-2.0

//! bpf-direct: a seccomp filter written directly in classic BPF.
//!
//! The filter traps every `write()` to standard error (`SECCOMP_RET_TRAP`,
//! which raises `SIGSYS` before the system call runs) and allows the rest.
//! The `SIGSYS` handler emulates the trapped write onto standard output
//! with an `[ERR] ` prefix and sets its return value, so the program goes
//! on as if the write had happened: its error messages show up on stdout
//! even with stderr sent to /dev/null.
//!
//! Run: `echo Ada | ./bpf-direct 2>/dev/null`

use std::io::{self, BufRead, Write};

use seccomp_samples::{SigsysInfo, SYS_SECCOMP};

/// Data returned with the trap, checked by the handler (`si_errno`).
const TRAP_DATA: u32 = 0x42;
/// `AUDIT_ARCH_X86_64`.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Offsets into `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
const ARG0_OFFSET: u32 = 16;

const fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

const fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}

/// The filter, instruction by instruction.
fn filter() -> [libc::sock_filter; 9] {
    use libc::*;
    [
        // Only the x86_64 system call ABI is expected; anything else dies.
        stmt(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        // write(2, ...) traps; everything else is allowed.
        stmt(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_write as u32, 0, 3),
        stmt(BPF_LD | BPF_W | BPF_ABS, ARG0_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, STDERR_FILENO as u32, 0, 1),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP | TRAP_DATA),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ]
}

/// Emulates the trapped `write(2, buf, len)` as `write(1, "[ERR] " + buf)`.
extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: The kernel passes a valid siginfo and ucontext to an
    // SA_SIGINFO handler; SIGSYS fills the `_sigsys` member.
    let (info, context) = unsafe { (&*(info as *const SigsysInfo), &mut *(context as *mut libc::ucontext_t)) };
    let regs = &mut context.uc_mcontext.gregs;
    if info.code != SYS_SECCOMP
        || info.syscall != libc::SYS_write as libc::c_int
        || info.arch != AUDIT_ARCH_X86_64
        || info.errno != TRAP_DATA as libc::c_int
    {
        // Not our trap: fail the write.
        regs[libc::REG_RAX as usize] = -(libc::EPERM as i64);
        return;
    }
    let buf = regs[libc::REG_RSI as usize] as *const u8;
    let len = regs[libc::REG_RDX as usize] as usize;
    let prefix = b"[ERR] ";
    // SAFETY: Raw writes of valid buffers: the prefix, and the caller's
    // buffer of `len` bytes (it was about to be written anyway).  fd 1 is
    // not trapped, so this does not recurse.
    let written = unsafe {
        libc::syscall(libc::SYS_write, 1, prefix.as_ptr(), prefix.len());
        libc::syscall(libc::SYS_write, 1, buf, len)
    };
    // The trapped system call returns what the emulation did.
    regs[libc::REG_RAX as usize] = written;
}

fn install() -> io::Result<()> {
    // SAFETY: A zeroed sigaction with a valid SA_SIGINFO handler.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigsys as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        if libc::sigaction(libc::SIGSYS, &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // Unprivileged tasks must promise not to gain privileges first.
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let insns = filter();
    let prog = libc::sock_fprog { len: insns.len() as u16, filter: insns.as_ptr() as *mut _ };
    // SAFETY: `prog` points to `insns`, which outlives the call.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn main() {
    if let Err(e) = install() {
        eprintln!("bpf-direct: installing the filter failed: {e}");
        std::process::exit(1);
    }
    println!("bpf-direct: filter installed, write(2, ...) now traps");
    eprintln!("What is your name?");
    let mut name = String::new();
    if io::stdin().lock().read_line(&mut name).is_err() || name.trim().is_empty() {
        eprintln!("no name on stdin");
        std::process::exit(1);
    }
    println!("Hello, {}!", name.trim());
    eprintln!("this went to stderr, and seccomp put it on stdout");
    let _ = io::stdout().flush();
}
