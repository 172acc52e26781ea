// SPDX-License-Identifier: GPL-2.0

//! Shared by the stress programs, mostly `seccomp-diff` and `seccomp-fuzz`:
//! the seeded PRNG (the test kit's, which the engine's tests use too),
//! FNV-1a digests, a raw system call whose return address is known, errno
//! names, the no-ASLR re-exec, argument parsing, shared mappings and the
//! eBPF length the kernel's instruction limit counts.
//!
//! Both programs must behave identically on the C and the Rust kernel for
//! the same seed, so nothing here reads the clock or depends on addresses
//! the kernel randomizes.

use std::fmt::Write as _;

pub use seccomp_testkit::Rng;

/// FNV-1a, 64 bits.
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Mixes `bytes` in.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Mixes a line in (its bytes and a newline).
    pub fn line(&mut self, line: &str) {
        self.write(line.as_bytes());
        self.write(b"\n");
    }
}

// The raw system call every tested call goes through: `raw_syscall(nr,
// a0..a5)` returns the kernel's `rax` unchanged (a negative errno on
// failure; no libc errno, so it is usable on any thread).  Its `syscall`
// instruction has one fixed address, so `seccomp_data.instruction_pointer`
// and a trap's `si_call_addr` are the same for every call:
// `raw_syscall_ip()`.
std::arch::global_asm!(
    ".pushsection .text.fuzzkit_raw_syscall,\"ax\",@progbits",
    ".globl fuzzkit_raw_syscall",
    ".type fuzzkit_raw_syscall,@function",
    "fuzzkit_raw_syscall:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "mov r10, r8",
    "mov r8, r9",
    "mov r9, [rsp + 8]",
    "syscall",
    ".globl fuzzkit_raw_syscall_ret",
    "fuzzkit_raw_syscall_ret:",
    "ret",
    ".size fuzzkit_raw_syscall, . - fuzzkit_raw_syscall",
    ".popsection",
);

extern "C" {
    fn fuzzkit_raw_syscall(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64;
    static fuzzkit_raw_syscall_ret: u8;
}

type RawSyscall = unsafe extern "C" fn(u64, u64, u64, u64, u64, u64, u64) -> i64;

/// Where `raw_syscall` runs: 0 for the stub in the binary, else the
/// address of a copy (see [`relocate_raw_syscall`]).
static RAW_SYSCALL_AT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes system call `nr` (the whole `rax`, upper half included) with six
/// arguments; returns `rax` (negative errno on failure).
///
/// # Safety
///
/// The call must be harmless to the calling program: pointer arguments
/// must be valid for what the call does with them, or point nowhere the
/// kernel would write.
#[inline(always)]
pub unsafe fn raw_syscall(nr: u64, a: [u64; 6]) -> i64 {
    let at = RAW_SYSCALL_AT.load(std::sync::atomic::Ordering::Relaxed);
    let f: RawSyscall = if at == 0 {
        fuzzkit_raw_syscall
    } else {
        // SAFETY: `relocate_raw_syscall` put a copy of the stub there and
        // made it executable.
        unsafe { std::mem::transmute::<usize, RawSyscall>(at) }
    };
    // SAFETY: The caller vouches for the call; the stub only moves the
    // registers and clobbers what the C ABI lets it clobber (rcx and r11
    // by `syscall`).
    unsafe { f(nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

/// The address just after `raw_syscall`'s `syscall` instruction: the
/// `instruction_pointer` filters see and the `si_call_addr` of its traps.
pub fn raw_syscall_ip() -> u64 {
    let stub = fuzzkit_raw_syscall as *const () as u64;
    let ret = std::ptr::addr_of!(fuzzkit_raw_syscall_ret) as u64;
    match RAW_SYSCALL_AT.load(std::sync::atomic::Ordering::Relaxed) {
        0 => ret,
        at => at as u64 + (ret - stub),
    }
}

/// Copies the `raw_syscall` stub (position-independent: register moves,
/// `syscall`, `ret`) to an executable page at `addr` and uses that copy
/// from now on, so that the instruction pointer filters see does not
/// move when the program is rebuilt: a corpus whose filters compare it
/// stays the same.  Exits on failure.
pub fn relocate_raw_syscall(addr: usize) {
    let stub = fuzzkit_raw_syscall as *const () as usize;
    let len = std::ptr::addr_of!(fuzzkit_raw_syscall_ret) as usize - stub + 1;
    let p = map_shared(addr, 4096);
    // SAFETY: Copies the stub's bytes into our fresh page, then makes the
    // page read-only and executable.
    unsafe {
        std::ptr::copy_nonoverlapping(stub as *const u8, p, len);
        if libc::mprotect(p.cast(), 4096, libc::PROT_READ | libc::PROT_EXEC) != 0 {
            eprintln!("mprotect: {}", std::io::Error::last_os_error());
            std::process::exit(2);
        }
    }
    RAW_SYSCALL_AT.store(addr, std::sync::atomic::Ordering::Relaxed);
}

/// Re-executes the program with address-space randomization off, once, so
/// that code addresses (which filters may load and compare) are the same
/// on every run and on both kernels.  Returns if already so.
pub fn reexec_without_aslr() {
    // SAFETY: personality(0xffffffff) only queries.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    if persona < 0 || persona & libc::ADDR_NO_RANDOMIZE != 0 {
        return;
    }
    // SAFETY: Sets our own personality flags.
    if unsafe { libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong) } < 0 {
        return;
    }
    let args: Vec<std::ffi::CString> =
        std::env::args_os().map(|a| std::ffi::CString::new(a.into_encoded_bytes()).unwrap()).collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: argv is a NULL-terminated array of C strings that outlive
    // the call; execv only returns on failure.
    unsafe { libc::execv(c"/proc/self/exe".as_ptr(), argv.as_ptr()) };
    eprintln!("warning: re-exec without ASLR failed: {}", std::io::Error::last_os_error());
}

/// The length of a checked seccomp program once converted to eBPF
/// (`bpf_convert_filter`), which is what the per-path limit of 32768
/// instructions (`MAX_INSNS_PER_PATH`) counts: a 3-instruction prologue;
/// 2 per `ret #k`; 5 per division by X (the divide-by-zero check);
/// conditional jumps take 1, plus 1 when they need both branches
/// (except `jeq`/`jgt`/`jge` whose true branch falls through, inverted),
/// plus 1 when `k` is negative as an int (loaded into a register);
/// 1 for the rest.
pub fn ebpf_len(insns: &[libc::sock_filter]) -> usize {
    3 + insns
        .iter()
        .map(|i| match i.code {
            0x3c | 0x9c => 5,
            0x06 => 2,
            c if c & 0x07 == 0x05 && c != 0x05 => {
                let op = c & 0xf0;
                let one = i.jf == 0 || (i.jt == 0 && op != 0x40);
                let neg = c & 0x08 == 0 && (i.k as i32) < 0;
                (if one { 1 } else { 2 }) + neg as usize
            }
            _ => 1,
        })
        .sum::<usize>()
}

/// The symbolic name of errno `e` (positive), or `E#<n>`.
pub fn errno_name(e: i64) -> String {
    const NAMES: [&str; 134] = [
        "0",
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
        "E#41",
        "ENOMSG",
        "EIDRM",
        "ECHRNG",
        "EL2NSYNC",
        "EL3HLT",
        "EL3RST",
        "ELNRNG",
        "EUNATCH",
        "ENOCSI",
        "EL2HLT",
        "EBADE",
        "EBADR",
        "EXFULL",
        "ENOANO",
        "EBADRQC",
        "EBADSLT",
        "E#58",
        "EBFONT",
        "ENOSTR",
        "ENODATA",
        "ETIME",
        "ENOSR",
        "ENONET",
        "ENOPKG",
        "EREMOTE",
        "ENOLINK",
        "EADV",
        "ESRMNT",
        "ECOMM",
        "EPROTO",
        "EMULTIHOP",
        "EDOTDOT",
        "EBADMSG",
        "EOVERFLOW",
        "ENOTUNIQ",
        "EBADFD",
        "EREMCHG",
        "ELIBACC",
        "ELIBBAD",
        "ELIBSCN",
        "ELIBMAX",
        "ELIBEXEC",
        "EILSEQ",
        "ERESTART",
        "ESTRPIPE",
        "EUSERS",
        "ENOTSOCK",
        "EDESTADDRREQ",
        "EMSGSIZE",
        "EPROTOTYPE",
        "ENOPROTOOPT",
        "EPROTONOSUPPORT",
        "ESOCKTNOSUPPORT",
        "EOPNOTSUPP",
        "EPFNOSUPPORT",
        "EAFNOSUPPORT",
        "EADDRINUSE",
        "EADDRNOTAVAIL",
        "ENETDOWN",
        "ENETUNREACH",
        "ENETRESET",
        "ECONNABORTED",
        "ECONNRESET",
        "ENOBUFS",
        "EISCONN",
        "ENOTCONN",
        "ESHUTDOWN",
        "ETOOMANYREFS",
        "ETIMEDOUT",
        "ECONNREFUSED",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "EALREADY",
        "EINPROGRESS",
        "ESTALE",
        "EUCLEAN",
        "ENOTNAM",
        "ENAVAIL",
        "EISNAM",
        "EREMOTEIO",
        "EDQUOT",
        "ENOMEDIUM",
        "EMEDIUMTYPE",
        "ECANCELED",
        "ENOKEY",
        "EKEYEXPIRED",
        "EKEYREVOKED",
        "EKEYREJECTED",
        "EOWNERDEAD",
        "ENOTRECOVERABLE",
        "ERFKILL",
        "EHWPOISON",
    ];
    match usize::try_from(e) {
        Ok(i) if i < NAMES.len() => NAMES[i].to_string(),
        _ => format!("E#{e}"),
    }
}

/// A system call's return value as text: `E<NAME>` for -1..-4095, the
/// number otherwise.
pub fn ret_text(ret: i64) -> String {
    if (-4095..0).contains(&ret) {
        errno_name(-ret)
    } else {
        ret.to_string()
    }
}

/// The name of signal `sig`.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("SIG#{sig}"),
    };
    name.to_string()
}

/// How a wait status reads: `exit(N)` or `SIGNAME` (`+core` if a core was
/// dumped).
pub fn status_text(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit({})", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        let core = if libc::WCOREDUMP(status) { "+core" } else { "" };
        format!("{}{core}", signal_name(libc::WTERMSIG(status)))
    } else {
        format!("status({status:#x})")
    }
}

/// `--name value` options of the command line, with defaults.
pub struct Args(Vec<(String, String)>);

impl Args {
    /// Parses `--name value` pairs and bare `--flag`s (value "1"); exits
    /// with `usage` on anything else or on a name not in `known`.
    pub fn parse(known: &[&str], usage: &str) -> Self {
        let mut out = Vec::new();
        let mut it = std::env::args().skip(1).peekable();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else { Self::usage(usage) };
            if !known.contains(&name) {
                Self::usage(usage);
            }
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap(),
                _ => "1".to_string(),
            };
            out.push((name.to_string(), value));
        }
        Args(out)
    }

    fn usage(usage: &str) -> ! {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }

    /// The number given for `name` (decimal or 0x hex), or `default`.
    pub fn num(&self, name: &str, default: u64) -> u64 {
        match self.0.iter().rev().find(|(n, _)| n == name) {
            None => default,
            Some((_, v)) => {
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                parsed.unwrap_or_else(|_| {
                    eprintln!("--{name}: not a number: {v}");
                    std::process::exit(2)
                })
            }
        }
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// Counters by name, printed sorted: `name=count name=count ...`.
#[derive(Default)]
pub struct Counts(std::collections::BTreeMap<String, u64>);

impl Counts {
    /// Adds one to `name`.
    pub fn add(&mut self, name: impl Into<String>) {
        *self.0.entry(name.into()).or_default() += 1;
    }

    /// The count of `name`.
    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// `name=count` pairs, space separated.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.0 {
            let _ = write!(s, "{}{k}={v}", if s.is_empty() { "" } else { " " });
        }
        s
    }
}

/// Maps `len` bytes of shared anonymous memory, at `addr` exactly if not
/// null (`MAP_FIXED_NOREPLACE`); exits on failure.
pub fn map_shared(addr: usize, len: usize) -> *mut u8 {
    let flags = libc::MAP_SHARED | libc::MAP_ANONYMOUS | if addr != 0 { libc::MAP_FIXED_NOREPLACE } else { 0 };
    // SAFETY: A fresh anonymous mapping, at an address nothing else uses.
    let p = unsafe { libc::mmap(addr as *mut _, len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if p == libc::MAP_FAILED || (addr != 0 && p as usize != addr) {
        eprintln!("mmap {addr:#x}+{len:#x}: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    p.cast()
}
