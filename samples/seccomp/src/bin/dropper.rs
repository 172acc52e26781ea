// SPDX-License-Identifier: GPL-2.0

//! dropper: run a program with one system call taken away.
//!
//! ```text
//! dropper <syscall_nr> <arch> <errno> <prog> [<args>...]
//! ```
//!
//! installs a filter that fails system call `syscall_nr` made with audit
//! architecture `arch` with `errno` (without running it), or kills the
//! process if `errno` is -1, and lets everything else through; then it
//! sets no_new_privs and `execv()`s `prog` with `args` (`prog` is a path,
//! not looked up in `$PATH`).  Filters survive `execve`, so `prog` runs
//! under it.  Numbers are decimal or hex (`0x...`).  Note the argument
//! order: the system call comes first, then the architecture.
//!
//! The filter, built with `seccomp_samples::bpf`:
//!
//! ```text
//!     A = arch;  if A != <arch> goto allow
//!     A = nr;    if A != <syscall_nr> goto allow
//!     return ERRNO(<errno>)          (or KILL_PROCESS for -1)
//! allow:
//!     return ALLOW
//! ```
//!
//! Demonstrations with busybox (x86_64 is `0xc000003e`, i386
//! `0x40000003`); the lines after `->` are the exact output:
//!
//! ```text
//! $ ./dropper 83 0xc000003e 1 /bin/busybox mkdir /tmp/dropped; echo "mkdir exit=$?"
//! -> mkdir: can't create directory '/tmp/dropped': Operation not permitted
//! -> mkdir exit=1
//! $ ./dropper 83 0x40000003 1 /bin/busybox mkdir /tmp/kept; echo "mkdir exit=$?"
//! -> mkdir exit=0                 (the rule is for i386 calls: nothing dropped)
//! $ ./dropper 63 0xc000003e -1 /bin/busybox uname; echo "uname exit=$?"
//! -> Bad system call              (busybox sh reports the SIGSYS death)
//! -> uname exit=159               (128 + SIGSYS: killed at uname(2))
//! $ ./dropper 59 0xc000003e 13 /bin/busybox true; echo "exec exit=$?"
//! -> dropper: execv /bin/busybox: Permission denied (os error 13)
//! -> exec exit=255                (execve itself is dropped)
//! ```
//!
//! (83 is `mkdir`, 63 `uname`, 59 `execve` on x86_64; busybox's own
//! `mkdir` calls `mkdir(2)`, not `mkdirat(2)`.)

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use seccomp_samples::bpf::{set_no_new_privs, BuildError, Program, ProgramBuilder, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};

/// Largest errno `SECCOMP_RET_ERRNO` can return (`MAX_ERRNO`).
const MAX_ERRNO: i64 = 4095;

/// The filter: fail `nr` of `arch` with `errno`, or kill if `errno` is -1.
fn filter(nr: u32, arch: u32, errno: i32) -> Result<Program, BuildError> {
    let mut b = ProgramBuilder::new();
    b.load_arch().jne(arch, "allow").load_syscall_nr().jne(nr, "allow");
    if errno == -1 {
        b.kill();
    } else {
        b.errno(errno);
    }
    b.label("allow").allow();
    b.resolve()
}

/// Parses decimal or `0x` hex, with an optional leading minus.
fn parse_num(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if neg { -value } else { value })
}

fn usage() -> ! {
    eprintln!(
        "Usage:\n\
         dropper <syscall_nr> <arch> <errno> <prog> [<args>]\n\
         Hint:\tAUDIT_ARCH_I386: {AUDIT_ARCH_I386:#X}\n\
         \tAUDIT_ARCH_X86_64: {AUDIT_ARCH_X86_64:#X}\n\
         \terrno == -1 means SECCOMP_RET_KILL_PROCESS\n"
    );
    std::process::exit(1);
}

fn die(what: &str) -> ! {
    eprintln!("dropper: {what}");
    std::process::exit(1);
}

fn main() {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if args.len() < 4 {
        usage();
    }
    let num = |i: usize, what: &str| -> i64 {
        args[i].to_str().and_then(parse_num).unwrap_or_else(|| die(&format!("bad {what}: {:?}", args[i])))
    };
    let nr = num(0, "system call number");
    let arch = num(1, "architecture");
    let errno = num(2, "errno");
    let nr = u32::try_from(nr).unwrap_or_else(|_| die(&format!("system call number {nr} out of range")));
    let arch = u32::try_from(arch).unwrap_or_else(|_| die(&format!("architecture {arch:#x} out of range")));
    if errno != -1 && !(0..=MAX_ERRNO).contains(&errno) {
        die(&format!("errno {errno} is not -1 or 0..={MAX_ERRNO}"));
    }
    let filter = filter(nr, arch, errno as i32).unwrap_or_else(|e| die(&format!("filter: {e}")));

    // Everything execv needs is prepared before the filter goes in, so
    // dropping, say, brk or mmap cannot break dropper itself.
    let argv: Vec<CString> = args[3..]
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_else(|_| die("argument with a NUL byte")))
        .collect();
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());

    if let Err(e) = set_no_new_privs() {
        die(&format!("prctl(PR_SET_NO_NEW_PRIVS): {e}"));
    }
    if let Err(e) = filter.install(0) {
        die(&format!("seccomp(SECCOMP_SET_MODE_FILTER): {e}"));
    }
    // SAFETY: `argv_ptrs` is a NULL-terminated array of pointers to
    // NUL-terminated strings that outlive the call.
    unsafe { libc::execv(argv_ptrs[0], argv_ptrs.as_ptr()) };
    eprintln!("dropper: execv {}: {}", args[3].to_string_lossy(), std::io::Error::last_os_error());
    std::process::exit(255);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_num("83"), Some(83));
        assert_eq!(parse_num("0xc000003e"), Some(0xc000_003e));
        assert_eq!(parse_num("0XC000003E"), Some(0xc000_003e));
        assert_eq!(parse_num("-1"), Some(-1));
        assert_eq!(parse_num("x"), None);
        assert_eq!(parse_num(""), None);
    }

    #[test]
    fn filter_shape() {
        let p = filter(83, AUDIT_ARCH_X86_64, 1).unwrap();
        let got: Vec<_> = p.instructions().iter().map(|i| (i.jt, i.jf, i.k)).collect();
        assert_eq!(
            got,
            vec![
                (0, 0, 4),
                (0, 3, AUDIT_ARCH_X86_64),
                (0, 0, 0),
                (0, 1, 83),
                (0, 0, libc::SECCOMP_RET_ERRNO | 1),
                (0, 0, libc::SECCOMP_RET_ALLOW),
            ]
        );
        let kill = filter(63, AUDIT_ARCH_X86_64, -1).unwrap();
        assert_eq!(kill.instructions()[4].k, libc::SECCOMP_RET_KILL_PROCESS);
    }
}
