// SPDX-License-Identifier: GPL-2.0

//! compat-check: the ia32 and x32 system call ABIs as seccomp sees them
//! when a 64-bit process uses them, on a kernel with `IA32_EMULATION` and
//! `X86_X32_ABI`:
//!
//! 1. `strict`: in strict mode, the ia32 `write` through `int $0x80` is
//!    allowed and the ia32 `getpid` kills with `SIGKILL` (the ia32 list,
//!    not the native numbers).
//! 2. `filter`: a filter sees `int $0x80` calls with `AUDIT_ARCH_I386` and
//!    the ia32 number (the "32/64 syscall hole" of 2009: a filter that
//!    checks only numbers would confuse ia32 `mkdir`, 39, with native
//!    `getpid`): it answers each with `ERRNO(nr)`, so the call returns
//!    its own number.
//! 3. `x32`: an x32 call reaches the filter with `AUDIT_ARCH_X86_64` and
//!    `__X32_SYSCALL_BIT` in the number; without a filter it runs.
//! 4. `cache`: `/proc/self/seccomp_cache` has an ia32 section after the
//!    x86_64 one, in the C implementation's format, with the constant
//!    verdicts of a filter that treats the two ABIs differently.  Its
//!    digest is printed so that `make test` compares the kernels.
//!
//! Prints `compat-check: PASS` on success; else `compat-check: FAIL: <what>`
//! and exits 1.

use std::io;

use seccomp_samples::bpf::{set_no_new_privs, ProgramBuilder, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use seccomp_samples::{fork_with, raw_exit, wait, Ended};
use seccomp_stress::fuzzkit::Fnv;
use seccomp_stress::ia32::{self, int80};

/// `__X32_SYSCALL_BIT`.
const X32_SYSCALL_BIT: i64 = 0x4000_0000;
/// `IA32_NR_syscalls` and `NR_syscalls` of Linux 6.12 on x86_64.
const IA32_NR_SYSCALLS: usize = 463;
const X86_64_NR_SYSCALLS: usize = 463;
/// `BPF_ALU | BPF_OR | BPF_K` and `BPF_RET | BPF_A`.
const ALU_OR_K: u32 = 0x44;
const RET_A: u32 = 0x16;

fn strict(buf: &mut [u8]) -> Result<(), String> {
    let pid = fork_with(|| {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_STRICT, 0, 0, 0) } != 0 {
            return 2;
        }
        if ia32::write(buf, 1, b"compat-check: strict: ia32 write allowed\n") <= 0 {
            raw_exit(3);
        }
        int80(ia32::GETPID, 0, 0, 0);
        4 // not killed
    })
    .map_err(|e| format!("fork: {e}"))?;
    match wait(pid).map_err(|e| format!("wait: {e}"))? {
        Ended::Signaled(libc::SIGKILL) => Ok(()),
        other => Err(format!("strict: the ia32 getpid did not kill with SIGKILL: {other:?}")),
    }
}

/// The filter of `filter` and `x32`: ia32 calls get `ERRNO(nr)`; native
/// calls numbered `X32_SYSCALL_BIT | SYS_getpid` get `ERRNO(77)`; the
/// rest is allowed.
fn abi_probe_filter() -> Result<seccomp_samples::bpf::Program, String> {
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jeq(AUDIT_ARCH_I386, "ia32")
        .jne(AUDIT_ARCH_X86_64, "kill")
        .load_syscall_nr()
        .jeq((X32_SYSCALL_BIT | libc::SYS_getpid) as u32, "x32-getpid")
        .allow()
        .label("x32-getpid")
        .errno(77)
        .label("ia32")
        .load_syscall_nr()
        .stmt(ALU_OR_K, libc::SECCOMP_RET_ERRNO)
        .stmt(RET_A, 0)
        .label("kill")
        .kill();
    b.resolve().map_err(|e| format!("filter: {e}"))
}

fn x32_getpid() -> i64 {
    // SAFETY: getpid through the x32 ABI takes no arguments.
    unsafe { libc::syscall(X32_SYSCALL_BIT | libc::SYS_getpid) }
}

/// Cases 2 and 3 in one child with the probe filter.
fn filter_and_x32() -> Result<(), String> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as i64;
    if x32_getpid() != pid {
        return Err(format!("x32: getpid through the x32 ABI gave {} (X86_X32_ABI off?)", x32_getpid()));
    }
    let prog = abi_probe_filter()?;
    let child = fork_with(|| {
        if set_no_new_privs().is_err() || prog.install(0).is_err() {
            return 2;
        }
        // ERRNO(nr): the call returns -nr.
        if int80(ia32::GETPID, 0, 0, 0) != -(ia32::GETPID as i32) {
            return 3;
        }
        if int80(ia32::MKDIR, 0, 0, 0) != -(ia32::MKDIR as i32) {
            return 4;
        }
        let (ret, errno) = (x32_getpid(), io::Error::last_os_error().raw_os_error());
        if ret != -1 || errno != Some(77) {
            return 5;
        }
        // Native calls pass.
        // SAFETY: getpid has no preconditions.
        if unsafe { libc::getpid() } <= 0 {
            return 6;
        }
        0
    })
    .map_err(|e| format!("fork: {e}"))?;
    match wait(child).map_err(|e| format!("wait: {e}"))? {
        Ended::Exited(0) => Ok(()),
        Ended::Exited(2) => Err("filter: could not install the filter".into()),
        Ended::Exited(3) => Err("filter: int $0x80 getpid was not seen as ia32 nr 20".into()),
        Ended::Exited(4) => Err("filter: int $0x80 mkdir was not seen as ia32 nr 39".into()),
        Ended::Exited(5) => Err("x32: the filter did not see __X32_SYSCALL_BIT|getpid on x86_64".into()),
        other => Err(format!("filter: child ended {other:?}")),
    }
}

/// Case 4: the child's `/proc/self/seccomp_cache` with a filter that
/// allows every native call and every ia32 call but `getpid` and `mkdir`.
fn cache() -> Result<u64, String> {
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jne(AUDIT_ARCH_I386, "allow")
        .load_syscall_nr()
        .jeq(ia32::GETPID, "deny")
        .jeq(ia32::MKDIR, "deny")
        .label("allow")
        .allow()
        .label("deny")
        .errno(libc::EPERM);
    let prog = b.resolve().map_err(|e| format!("cache filter: {e}"))?;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", io::Error::last_os_error()));
    }
    let [rd, wr] = fds;
    let child = fork_with(|| {
        if set_no_new_privs().is_err() || prog.install(0).is_err() {
            return 2;
        }
        match std::fs::read("/proc/self/seccomp_cache") {
            Ok(text) => {
                seccomp_samples::raw_write(wr, &text);
                0
            }
            Err(_) => 3,
        }
    })
    .map_err(|e| format!("fork: {e}"))?;
    // SAFETY: Our copy of the write end.
    unsafe { libc::close(wr) };
    let mut text = Vec::new();
    // SAFETY: `rd` is the pipe's read end, ours to own.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(rd) };
    io::Read::read_to_end(&mut file, &mut text).map_err(|e| format!("read: {e}"))?;
    match wait(child).map_err(|e| format!("wait: {e}"))? {
        Ended::Exited(0) => {}
        other => return Err(format!("cache: child ended {other:?}")),
    }
    let text = String::from_utf8(text).map_err(|_| "cache: not text".to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    let want = X86_64_NR_SYSCALLS + IA32_NR_SYSCALLS;
    if lines.len() != want {
        return Err(format!("cache: {} lines, {want} expected (x86_64 then ia32)", lines.len()));
    }
    for (i, line) in lines.iter().enumerate() {
        let (abi, nr) = if i < X86_64_NR_SYSCALLS { ("x86_64", i) } else { ("ia32", i - X86_64_NR_SYSCALLS) };
        let denied = abi == "ia32" && (nr == ia32::GETPID as usize || nr == ia32::MKDIR as usize);
        let expect = format!("{abi} {nr} {}", if denied { "FILTER" } else { "ALLOW" });
        if *line != expect {
            return Err(format!("cache: line {}: '{line}', expected '{expect}'", i + 1));
        }
    }
    let mut digest = Fnv::default();
    digest.write(text.as_bytes());
    Ok(digest.0)
}

fn main() {
    // SAFETY: Arms our own alarm: a hang fails the run.
    unsafe { libc::alarm(60) };
    let result = ia32::low_buffer()
        .map_err(|e| format!("mmap(MAP_32BIT): {e}"))
        .and_then(strict)
        .and_then(|()| filter_and_x32())
        .and_then(|()| cache());
    match result {
        Ok(digest) => {
            println!("compat-check: strict, filter, x32: as expected");
            println!("compat-check: seccomp_cache: x86_64 and ia32 sections as expected, digest {digest:016x}");
            println!("compat-check: PASS");
        }
        Err(what) => {
            println!("compat-check: FAIL: {what}");
            std::process::exit(1);
        }
    }
}
