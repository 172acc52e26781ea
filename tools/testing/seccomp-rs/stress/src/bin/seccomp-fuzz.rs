// SPDX-License-Identifier: GPL-2.0

//! seccomp-fuzz: hostile input to every seccomp interface, for a bounded
//! number of iterations; checks that each call fails only with an errno
//! upstream's `kernel/seccomp.c` (and the ptrace/prctl paths into it) can
//! return for that call.
//!
//! Each iteration runs in a forked child, since installs accumulate and
//! strict mode kills, and makes a random sequence of:
//!
//! - `seccomp()` with every op and unknown ones, random flags (valid,
//!   conflicting, unknown bits), NULL, unmapped, kernel, non-canonical,
//!   misaligned and partially mapped (ending at a `PROT_NONE` page)
//!   pointers, `sock_fprog`s with bad filter pointers and lengths 0, 4096,
//!   4097, 65535, valid, truncated and garbage programs; sometimes enough
//!   4096-instruction filters to hit the per-path limit (ENOMEM);
//!   `SECCOMP_GET_ACTION_AVAIL` and `SECCOMP_GET_NOTIF_SIZES` with bad
//!   pointers and flags;
//! - `prctl(PR_SET_SECCOMP)` / `prctl(PR_GET_SECCOMP)` with random modes
//!   and arguments;
//! - the notification ioctls on a real listener, with a thread of the
//!   child trapping into it on demand: RECV, SEND, ID_VALID (both
//!   directions), ADDFD (every size, flag and fd combination), SET_FLAGS
//!   and unknown commands, with random ids, flags, pad and pointers;
//! - ptrace against a stopped grandchild with filters:
//!   `PTRACE_SECCOMP_GET_FILTER` with random indexes and buffers,
//!   `PTRACE_SECCOMP_GET_METADATA` with random sizes and `filter_off`,
//!   `PTRACE_SETOPTIONS` with `PTRACE_O_SUSPEND_SECCOMP` (whose effect on
//!   the grandchild's next call is checked) and random options;
//!
//! sometimes without `CAP_SYS_ADMIN` and no_new_privs (EACCES/EPERM), and
//! sometimes ending in strict mode.  Where the result is fully determined
//! (action availability, notification sizes, the mode, a received
//! notification's data, the answer the trapped thread gets, the filters
//! and metadata ptrace reads back, a suspended filter) it is checked
//! exactly.
//!
//! The child logs every call and result in shared memory; the parent
//! checks them against the per-call errno table and prints a digest of
//! the (call, result) sequence: the C and the Rust kernel must print the
//! same digests for the same seed.
//!
//! Usage: `seccomp-fuzz [--seed S] [--iterations N] [--verbose]`; prints
//! `seccomp-fuzz: PASS` at the end, with counts per call and errno.

use std::fmt::Write as _;
use std::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use std::sync::atomic::{AtomicU32, Ordering};

use libc::{seccomp_notif as Notif, seccomp_notif_addfd as NotifAddfd, seccomp_notif_resp as NotifResp};
use seccomp_stress::abi::*;
use seccomp_stress::fuzzkit::{self, errno_name, raw_syscall, Counts, Fnv, Rng};

const USAGE: &str = "seccomp-fuzz [--seed S] [--iterations N] [--verbose]";
const ARENA_ADDR: usize = 0x1100_0000_0000;
const MAX_RECORDS: usize = 256;
const TEXT: usize = 232;
const PROG_INSNS: usize = 4096;
const ALARM_SECONDS: u32 = 60;
/// The system call the notification filter traps (no such call exists).
const NR_TRAPPED: u64 = 1010;
/// Digest lines: one per this many iterations.
const DIGEST_EVERY: u64 = 100;

const PTRACE_TRACEME: u64 = libc::PTRACE_TRACEME as u64;
const PTRACE_CONT: u64 = libc::PTRACE_CONT as u64;
const PTRACE_SETOPTIONS: u64 = libc::PTRACE_SETOPTIONS as u64;
const PTRACE_SECCOMP_GET_FILTER: u64 = 0x420c;
const PTRACE_SECCOMP_GET_METADATA: u64 = 0x420d;
const PTRACE_O_MASK: u64 = libc::PTRACE_O_MASK as u64;
const PTRACE_O_SUSPEND_SECCOMP: u64 = libc::PTRACE_O_SUSPEND_SECCOMP as u64;

const KNOWN_ACTIONS: [u32; 8] =
    [0x8000_0000, 0, 0x0003_0000, RET_ERRNO, RET_USER_NOTIF, 0x7ff0_0000, 0x7ffc_0000, RET_ALLOW];
/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`.
const NOTIF_CONTINUE: u32 = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32;
/// `SECCOMP_ADDFD_FLAG_SETFD`.
const ADDFD_SETFD: u32 = libc::SECCOMP_ADDFD_FLAG_SETFD as u32;
/// `SECCOMP_ADDFD_FLAG_SEND`.
const ADDFD_SEND: u32 = libc::SECCOMP_ADDFD_FLAG_SEND as u32;

/// `_IOC(dir, '!', nr, size)`.
const fn ioc(dir: u64, nr: u64, size: u64) -> u64 {
    (dir << 30) | (size << 16) | (0x21 << 8) | nr
}
/// `SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR`, the `_IOR` number old
/// headers had, which the kernel still accepts.
const ID_VALID_WRONG_DIR: u64 = ioc(2, 2, 8);
const RECV: u64 = libc::SECCOMP_IOCTL_NOTIF_RECV;
const SEND: u64 = libc::SECCOMP_IOCTL_NOTIF_SEND;
const ID_VALID: u64 = libc::SECCOMP_IOCTL_NOTIF_ID_VALID;
const SET_FLAGS: u64 = libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS;

// ---------------------------------------------------------------------
// The calls and what upstream can return for each.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    SeccompStrict,
    SeccompFilter,
    SeccompActionAvail,
    SeccompNotifSizes,
    SeccompBadOp,
    PrctlSetStrict,
    PrctlSetFilter,
    PrctlSetBadMode,
    PrctlGetSeccomp,
    NotifRecv,
    NotifSend,
    NotifIdValid,
    NotifSetFlags,
    NotifAddfd,
    NotifBadCmd,
    /// The trapped thread's result for one of its calls.
    NotifTarget,
    PtraceGetFilter,
    PtraceGetMetadata,
    PtraceSetOptions,
    /// The traced grandchild's call under its (maybe suspended) filter.
    PtraceTracee,
    /// An exact check: 0 passed, 1 failed.
    Check,
    /// A step of the scenario, for the log: nothing to check.
    Note,
}

const KINDS: [Kind; 22] = [
    Kind::SeccompStrict,
    Kind::SeccompFilter,
    Kind::SeccompActionAvail,
    Kind::SeccompNotifSizes,
    Kind::SeccompBadOp,
    Kind::PrctlSetStrict,
    Kind::PrctlSetFilter,
    Kind::PrctlSetBadMode,
    Kind::PrctlGetSeccomp,
    Kind::NotifRecv,
    Kind::NotifSend,
    Kind::NotifIdValid,
    Kind::NotifSetFlags,
    Kind::NotifAddfd,
    Kind::NotifBadCmd,
    Kind::NotifTarget,
    Kind::PtraceGetFilter,
    Kind::PtraceGetMetadata,
    Kind::PtraceSetOptions,
    Kind::PtraceTracee,
    Kind::Check,
    Kind::Note,
];

use libc::{
    E2BIG, EACCES, EBADF, EBUSY, EFAULT, EINPROGRESS, EINVAL, EMEDIUMTYPE, EMFILE, ENFILE, ENOENT, ENOMEM, EOPNOTSUPP,
    EPERM, ESRCH,
};

/// The errnos upstream can return for `kind` (from `kernel/seccomp.c`,
/// `net/core/filter.c`, `kernel/ptrace.c`, `kernel/sys.c` and the fd
/// helpers they call), and whether a non-negative result is possible.
fn table(kind: Kind) -> (&'static [i32], bool) {
    match kind {
        // do_seccomp(SET_MODE_STRICT): flags or uargs; mode already set.
        Kind::SeccompStrict | Kind::PrctlSetStrict => (&[EINVAL], true),
        // seccomp_set_mode_filter: flags, copy, length, no_new_privs,
        // checker, allocation and path length, duplicate listener, TSYNC
        // (ESRCH; a thread id is positive), listener fd.
        Kind::SeccompFilter => (&[EINVAL, EFAULT, EACCES, ENOMEM, EBUSY, ESRCH, EMFILE, ENFILE], true),
        Kind::PrctlSetFilter => (&[EINVAL, EFAULT, EACCES, ENOMEM, EBUSY], true),
        Kind::SeccompActionAvail => (&[EINVAL, EFAULT, EOPNOTSUPP], true),
        Kind::SeccompNotifSizes => (&[EINVAL, EFAULT], true),
        Kind::SeccompBadOp | Kind::PrctlSetBadMode => (&[EINVAL], false),
        Kind::PrctlGetSeccomp => (&[], true),
        // check_zeroed_user, the wait, no notification, copy out.
        Kind::NotifRecv => (&[EINVAL, EFAULT, ENOENT], true),
        Kind::NotifSend => (&[EFAULT, EINVAL, ENOENT, EINPROGRESS], true),
        Kind::NotifIdValid => (&[EFAULT, ENOENT], true),
        Kind::NotifSetFlags => (&[EINVAL], true),
        // Size, copy_struct_from_user, flags, srcfd, id, state, pending
        // addfd with SEND, then receive_fd/replace_fd in the target.
        Kind::NotifAddfd => {
            (&[EINVAL, E2BIG, EFAULT, EBADF, ENOENT, EINPROGRESS, EBUSY, EMFILE, ENFILE, ESRCH, ENOMEM], true)
        }
        Kind::NotifBadCmd => (&[EINVAL], false),
        // seccomp_get_filter: capability/own mode, mode, index, cBPF, copy;
        // ptrace_check_attach.
        Kind::PtraceGetFilter => (&[EACCES, EINVAL, ENOENT, EMEDIUMTYPE, EFAULT, ESRCH], true),
        Kind::PtraceGetMetadata => (&[EACCES, EINVAL, EFAULT, ENOENT, ESRCH], true),
        // check_ptrace_options.
        Kind::PtraceSetOptions => (&[EINVAL, EPERM, ESRCH], true),
        Kind::NotifTarget | Kind::PtraceTracee | Kind::Check | Kind::Note => (&[], true),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::SeccompStrict => "seccomp-strict",
        Kind::SeccompFilter => "seccomp-filter",
        Kind::SeccompActionAvail => "seccomp-action-avail",
        Kind::SeccompNotifSizes => "seccomp-notif-sizes",
        Kind::SeccompBadOp => "seccomp-bad-op",
        Kind::PrctlSetStrict => "prctl-set-strict",
        Kind::PrctlSetFilter => "prctl-set-filter",
        Kind::PrctlSetBadMode => "prctl-set-bad-mode",
        Kind::PrctlGetSeccomp => "prctl-get-seccomp",
        Kind::NotifRecv => "notif-recv",
        Kind::NotifSend => "notif-send",
        Kind::NotifIdValid => "notif-id-valid",
        Kind::NotifSetFlags => "notif-set-flags",
        Kind::NotifAddfd => "notif-addfd",
        Kind::NotifBadCmd => "notif-bad-cmd",
        Kind::NotifTarget => "notif-target",
        Kind::PtraceGetFilter => "ptrace-get-filter",
        Kind::PtraceGetMetadata => "ptrace-get-metadata",
        Kind::PtraceSetOptions => "ptrace-setoptions",
        Kind::PtraceTracee => "ptrace-tracee",
        Kind::Check => "check",
        Kind::Note => "note",
    }
}

// ---------------------------------------------------------------------
// Shared memory: the child's log, buffers the calls point to, and the
// trapped thread's mailbox.  Fixed address, so pointers are the same on
// every run.

/// One logged call.
#[repr(C)]
#[derive(Clone, Copy)]
struct Record {
    /// `Kind` as u8; 0xff while the call is in flight.
    kind: u8,
    done: u8,
    len: u16,
    pad: u32,
    ret: i64,
    text: [u8; TEXT],
}

#[repr(C)]
struct Arena {
    nrecords: u32,
    /// The grandchild's pid while it lives (the parent kills leftovers).
    g_pid: i32,
    w_tid: i32,
    /// The trapped thread makes call `k` once `w_go` > `k`...
    w_go: AtomicU32,
    /// ... and bumps `w_done` when it returns.
    w_done: AtomicU32,
    /// The grandchild's getppid result.
    g_result: i64,
    w_results: [i64; 64],
    records: [Record; MAX_RECORDS],
    /// Where valid pointers point.
    buf: [u8; 8192],
    /// Programs.
    prog: [libc::sock_filter; PROG_INSNS + 8],
    fprog: [u8; 64],
}

const ARENA_LEN: usize = (std::mem::size_of::<Arena>() + 4095) & !4095;
/// Readable and writable, right before the guard page: partially mapped
/// buffers end here.
const TAIL_ADDR: usize = ARENA_ADDR + ARENA_LEN;
const GUARD_ADDR: usize = TAIL_ADDR + 4096;
/// A read-only page: copies to it fail.
const RO_ADDR: usize = GUARD_ADDR + 4096;
const MAP_LEN: usize = ARENA_LEN + 3 * 4096;

fn arena() -> *mut Arena {
    ARENA_ADDR as *mut Arena
}

fn buf_addr() -> u64 {
    // SAFETY: Only the address is taken.
    unsafe { addr_of!((*arena()).buf) as u64 }
}

/// A `fmt::Write` into a fixed buffer, for logging without allocating.
struct Text {
    buf: [u8; TEXT],
    len: usize,
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(TEXT - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Logs a call about to be made; returns its record index.
fn begin(kind: Kind, args: std::fmt::Arguments<'_>) -> usize {
    let mut t = Text { buf: [0; TEXT], len: 0 };
    let _ = t.write_fmt(args);
    let a = arena();
    // SAFETY: Only this thread of the child writes records.
    unsafe {
        let i = (*a).nrecords as usize;
        if i >= MAX_RECORDS {
            return MAX_RECORDS - 1;
        }
        let r = Record { kind: kind as u8, done: 0, len: t.len as u16, pad: 0, ret: 0, text: t.buf };
        write_volatile(addr_of_mut!((*a).records[i]), r);
        write_volatile(addr_of_mut!((*a).nrecords), i as u32 + 1);
        i
    }
}

fn end(i: usize, ret: i64) -> i64 {
    let a = arena();
    // SAFETY: As for `begin`.
    unsafe {
        write_volatile(addr_of_mut!((*a).records[i].ret), ret);
        write_volatile(addr_of_mut!((*a).records[i].done), 1);
    }
    ret
}

/// Logs and makes a system call.
fn call(kind: Kind, nr: u64, args: [u64; 6], text: std::fmt::Arguments<'_>) -> i64 {
    let i = begin(kind, text);
    // SAFETY: The callers pass pointers into the arena, NULL, or
    // addresses that are not mapped or not user memory; the calls only
    // read or write through them.
    end(i, unsafe { raw_syscall(nr, args) })
}

fn check(ok: bool, what: std::fmt::Arguments<'_>) {
    let i = begin(Kind::Check, what);
    end(i, if ok { 0 } else { 1 });
}

fn note(what: std::fmt::Arguments<'_>, value: i64) {
    let i = begin(Kind::Note, what);
    end(i, value);
}

// ---------------------------------------------------------------------
// Pointers.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ptr {
    Valid,
    Null,
    Low,
    Kernel,
    NonCanonical,
    Odd,
    /// `size` bytes ending inside the guard page.
    Partial,
    ReadOnly,
    Random,
}

impl Ptr {
    fn pick(rng: &mut Rng, valid_percent: u64) -> Ptr {
        if rng.percent(valid_percent) {
            return Ptr::Valid;
        }
        rng.pick(&[
            Ptr::Null,
            Ptr::Low,
            Ptr::Kernel,
            Ptr::NonCanonical,
            Ptr::Odd,
            Ptr::Partial,
            Ptr::ReadOnly,
            Ptr::Random,
        ])
    }

    /// The address for an object of `size` bytes whose valid copy is at
    /// `valid`.
    fn addr(self, rng: &mut Rng, valid: u64, size: usize) -> u64 {
        match self {
            Ptr::Valid => valid,
            Ptr::Null => 0,
            Ptr::Low => 0x1000 * rng.range(1, 15),
            Ptr::Kernel => rng.pick(&[0xffff_ffff_8100_0000, 0xffff_8880_0000_0000, 0xffff_ffff_ffff_f000]),
            Ptr::NonCanonical => rng.pick(&[0x8000_0000_0000_0000, 0x0000_8000_0000_0000, 0x1234_5678_9abc_def0]),
            Ptr::Odd => valid + rng.range(1, 7),
            Ptr::Partial => (GUARD_ADDR - size.max(2) / 2) as u64,
            Ptr::ReadOnly => RO_ADDR as u64,
            Ptr::Random => rng.next_u64(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ptr::Valid => "valid",
            Ptr::Null => "null",
            Ptr::Low => "low",
            Ptr::Kernel => "kernel",
            Ptr::NonCanonical => "noncanonical",
            Ptr::Odd => "odd",
            Ptr::Partial => "partial",
            Ptr::ReadOnly => "readonly",
            Ptr::Random => "random",
        }
    }
}

/// Copies `bytes` to where `addr` points if that is inside our writable
/// memory (the arena or the tail page), so that odd and partial pointers
/// see the intended contents.
fn place(addr: u64, bytes: &[u8]) {
    let (lo, hi) = (ARENA_ADDR as u64, GUARD_ADDR as u64);
    for (i, b) in bytes.iter().enumerate() {
        let p = addr.wrapping_add(i as u64);
        if p >= lo && p < hi {
            // SAFETY: `p` is inside our own writable mapping.
            unsafe { write_volatile(p as *mut u8, *b) };
        }
    }
}

fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: Any initialized value can be viewed as bytes.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

// ---------------------------------------------------------------------
// The child's state.

struct State {
    /// 0 disabled, 1 strict, 2 filter.
    mode: u8,
    /// Installed filters' eBPF lengths (for the path limit), in this thread.
    installed: Vec<usize>,
    cap: bool,
    nnp: bool,
    /// A listener made by a filter install, if any.
    listener: Option<i64>,
    /// The trapped thread runs (it keeps the process from entering strict
    /// mode cleanly).
    thread: bool,
}

fn allow_prog(len: usize) -> Vec<libc::sock_filter> {
    vec![libc::sock_filter { code: 0x06, jt: 0, jf: 0, k: RET_ALLOW }; len]
}

/// `ld nr; jeq NR_TRAPPED, 0, 1; ret USER_NOTIF; ret ALLOW`.
fn notif_prog() -> Vec<libc::sock_filter> {
    let s = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    vec![s(0x20, 0, 0, 0), s(0x15, 0, 1, NR_TRAPPED as u32), s(0x06, 0, 0, RET_USER_NOTIF), s(0x06, 0, 0, RET_ALLOW)]
}

/// `ld nr; jeq getppid, 0, 1; ret ERRNO(77); ret ALLOW`, padded to `len`.
fn errno_prog(len: usize) -> Vec<libc::sock_filter> {
    let s = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let mut p = vec![s(0x20, 0, 0, 0)];
    for _ in 4..len.max(4) {
        p.push(s(0x00, 0, 0, 7)); // ld #7, overwritten by the next load
        p.push(s(0x20, 0, 0, 0));
    }
    p.extend([s(0x15, 0, 1, NR_GETPPID as u32), s(0x06, 0, 0, RET_ERRNO | 77), s(0x06, 0, 0, RET_ALLOW)]);
    p
}

/// Random instructions, mostly invalid for seccomp.
fn garbage_prog(rng: &mut Rng, len: usize) -> Vec<libc::sock_filter> {
    (0..len)
        .map(|_| libc::sock_filter {
            code: rng.next_u32() as u16,
            jt: rng.next_u32() as u8,
            jf: rng.next_u32() as u8,
            k: rng.next_u32(),
        })
        .collect()
}

/// Writes `prog` to the program buffer and a `sock_fprog` describing
/// `len` instructions at a `filter` pointer of the given kind; returns the
/// `sock_fprog` pointer of kind `fprog` and a description.
fn setup_fprog(rng: &mut Rng, prog: &[libc::sock_filter], len: u16, filter: Ptr, fprog: Ptr) -> (u64, String) {
    let a = arena();
    // SAFETY: Only the addresses are taken.
    let (prog_addr, fprog_addr) = unsafe { (addr_of!((*a).prog) as u64, addr_of!((*a).fprog) as u64) };
    let size = len as usize * 8;
    let faddr = match filter {
        Ptr::Partial => (GUARD_ADDR - size.max(16) / 2) as u64,
        other => other.addr(rng, prog_addr, size),
    };
    // SAFETY: The program buffer is ours; zeroed past the program so that
    // longer lengths read zeros (`ld #0`, never a final return).
    unsafe {
        std::ptr::write_bytes(addr_of_mut!((*a).prog).cast::<u8>(), 0, std::mem::size_of_val(&(*a).prog));
    }
    let bytes: Vec<u8> = prog.iter().flat_map(|i| as_bytes(i).to_vec()).collect();
    place(faddr, &bytes);
    let mut raw = [0u8; 16];
    raw[..2].copy_from_slice(&len.to_le_bytes());
    raw[8..].copy_from_slice(&faddr.to_le_bytes());
    let paddr = fprog.addr(rng, fprog_addr, 16);
    place(paddr, &raw);
    (paddr, format!("fprog={} len={len} filter={}", fprog.name(), filter.name()))
}

/// The arguments of a filter install: program, length, pointers.
/// Returns the `sock_fprog` pointer, a description and the program's
/// eBPF length, should it be installed.
fn gen_fprog(rng: &mut Rng) -> (u64, String, usize) {
    let (prog, what) = match rng.weighted(&[50, 25, 10, 15]) {
        0 => (allow_prog(rng.range(1, 8) as usize), "allow"),
        1 => {
            let n = rng.range(1, 12) as usize;
            (garbage_prog(rng, n), "garbage")
        }
        2 => (allow_prog(PROG_INSNS), "allow-4096"),
        _ => {
            let mut p = allow_prog(rng.range(2, 8) as usize);
            let at = rng.below(p.len() as u64) as usize;
            p[at] = garbage_prog(rng, 1)[0];
            (p, "almost")
        }
    };
    let len = match rng.weighted(&[70, 5, 5, 5, 5, 5, 5]) {
        0 => prog.len() as u16,
        1 => 0,
        2 => 4096,
        3 => 4097,
        4 => 65535,
        5 => rng.range(1, prog.len() as u64) as u16,
        _ => rng.next_u32() as u16,
    };
    let filter = Ptr::pick(rng, 85);
    let fprog = Ptr::pick(rng, 85);
    let (p, text) = setup_fprog(rng, &prog, len, filter, fprog);
    // What the kernel reads if it accepts it: the program, zeros past it.
    let mut read = prog.clone();
    read.resize(len as usize, libc::sock_filter { code: 0, jt: 0, jf: 0, k: 0 });
    read.truncate(len as usize);
    (p, format!("{what} {text}"), fuzzkit::ebpf_len(&read))
}

fn gen_flags(rng: &mut Rng) -> u64 {
    match rng.weighted(&[30, 8, 5, 4, 4, 3, 3, 2, 3, 3, 5, 5]) {
        0 => 0,
        1 => u64::from(FLAG_LOG),
        2 => u64::from(FLAG_SPEC_ALLOW),
        3 => u64::from(FLAG_TSYNC),
        4 => u64::from(FLAG_TSYNC | FLAG_TSYNC_ESRCH),
        5 => u64::from(FLAG_TSYNC_ESRCH),
        6 => u64::from(FLAG_NEW_LISTENER),
        7 => u64::from(FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV),
        8 => u64::from(FLAG_WAIT_KILLABLE_RECV),
        9 => u64::from(FLAG_TSYNC | FLAG_NEW_LISTENER),
        10 => 1 << rng.range(6, 63),
        _ => rng.next_u64(),
    }
}

/// Upper-half garbage for an argument the kernel reads as 32 bits.
fn garbage(rng: &mut Rng) -> u64 {
    if rng.percent(15) {
        rng.next_u64() << 32
    } else {
        0
    }
}

// ---------------------------------------------------------------------
// Group A: seccomp() and prctl().

/// Tracks a filter install: any non-negative result but a TSYNC failure
/// (the id of the thread that could not sync) attached the filter.
fn install_result(st: &mut State, ret: i64, flags: u64, len: usize) {
    // SAFETY: Set by the trapped thread before the main thread goes on.
    let w_tid = unsafe { read_volatile(addr_of!((*arena()).w_tid)) } as i64;
    if ret >= 0 && !(flags & u64::from(FLAG_TSYNC) != 0 && w_tid != 0 && ret == w_tid) {
        st.mode = 2;
        st.installed.push(len);
        if flags & u64::from(FLAG_NEW_LISTENER) != 0 {
            st.listener = Some(ret);
        }
    }
}

fn call_a(rng: &mut Rng, st: &mut State) {
    match rng.weighted(&[40, 10, 12, 6, 8, 4, 5, 5]) {
        0 => {
            let flags = gen_flags(rng) | garbage(rng) & !0xffff_ffff;
            let (p, text, len) = gen_fprog(rng);
            let ret = call(
                Kind::SeccompFilter,
                NR_SECCOMP,
                [1 | garbage(rng), flags, p, rng.next_u64(), 0, 0],
                format_args!("seccomp(FILTER, flags={flags:#x}, {text})"),
            );
            install_result(st, ret, flags, len);
        }
        1 => {
            let (p, text, len) = gen_fprog(rng);
            let ret = call(
                Kind::PrctlSetFilter,
                NR_PRCTL,
                [PR_SET_SECCOMP | garbage(rng), 2, p, rng.next_u64(), rng.next_u64(), 0],
                format_args!("prctl(SET_SECCOMP, FILTER, {text})"),
            );
            install_result(st, ret, 0, len);
        }
        2 => {
            let flags = if rng.percent(80) { garbage(rng) } else { rng.next_u64() | 1 };
            let action = if rng.percent(60) { rng.pick(&KNOWN_ACTIONS) } else { rng.next_u32() & 0xffff_0000 };
            let ptr = Ptr::pick(rng, 70);
            let p = ptr.addr(rng, buf_addr(), 4);
            place(p, &action.to_le_bytes());
            let ret = call(
                Kind::SeccompActionAvail,
                NR_SECCOMP,
                [2 | garbage(rng), flags, p, 0, 0, 0],
                format_args!("seccomp(GET_ACTION_AVAIL, flags={flags:#x}, {}={action:#x})", ptr.name()),
            );
            if flags as u32 == 0 && matches!(ptr, Ptr::Valid | Ptr::Odd) {
                let want = if KNOWN_ACTIONS.contains(&action) { 0 } else { -(EOPNOTSUPP as i64) };
                check(ret == want, format_args!("action {action:#x} availability {ret} == {want}"));
            }
        }
        3 => {
            let flags = if rng.percent(80) { garbage(rng) } else { rng.next_u64() | 1 };
            let ptr = Ptr::pick(rng, 70);
            let p = ptr.addr(rng, buf_addr(), 6);
            place(p, &[0xa5; 6]);
            let ret = call(
                Kind::SeccompNotifSizes,
                NR_SECCOMP,
                [3 | garbage(rng), flags, p, 0, 0, 0],
                format_args!("seccomp(GET_NOTIF_SIZES, flags={flags:#x}, {})", ptr.name()),
            );
            if ret == 0 && matches!(ptr, Ptr::Valid | Ptr::Odd) {
                // SAFETY: The kernel wrote 6 bytes at `p`, inside the arena.
                let sizes: [u16; 3] = unsafe { std::ptr::read_unaligned(p as *const [u16; 3]) };
                check(sizes == [80, 24, 64], format_args!("notif sizes {sizes:?} == [80, 24, 64]"));
            }
        }
        4 => {
            let op = {
                let r0 = (rng.next_u32() | 4) as u64;
                rng.pick(&[4, 5, 6, 0x100, 0xffff_ffff, r0])
            } | garbage(rng);
            call(
                Kind::SeccompBadOp,
                NR_SECCOMP,
                [op, rng.next_u64(), rng.next_u64(), 0, 0, 0],
                format_args!("seccomp(op={:#x})", op as u32),
            );
        }
        5 => {
            // Strict mode with flags or a pointer: always EINVAL.
            let (flags, p) = if rng.percent(50) { (rng.next_u64() | 1, 0) } else { (0, rng.next_u64() | 1) };
            call(
                Kind::SeccompStrict,
                NR_SECCOMP,
                [garbage(rng), flags, p, 0, 0, 0],
                format_args!(
                    "seccomp(STRICT, flags={:#x}, uargs={})",
                    flags as u32,
                    if p == 0 { "null" } else { "set" }
                ),
            );
        }
        6 => {
            let ret = call(
                Kind::PrctlGetSeccomp,
                NR_PRCTL,
                [PR_GET_SECCOMP | garbage(rng), rng.next_u64(), rng.next_u64(), 0, 0, 0],
                format_args!("prctl(GET_SECCOMP)"),
            );
            check(ret == st.mode as i64, format_args!("mode {ret} == {}", st.mode));
        }
        _ => {
            let mode = {
                let r0 = rng.next_u64() | 4;
                rng.pick(&[0, 3, 4, 0x1_0000_0001, 0x1_0000_0002, u64::MAX, r0])
            };
            call(
                Kind::PrctlSetBadMode,
                NR_PRCTL,
                [PR_SET_SECCOMP, mode, rng.next_u64(), 0, 0, 0],
                format_args!("prctl(SET_SECCOMP, mode={mode:#x})"),
            );
        }
    }
}

/// Installs 4096-instruction filters until the per-path limit refuses
/// one: the 4th, since the limit counts eBPF instructions, 8195 for each
/// of these (8195 + 3 * (8195 + 4) > 32768).
fn path_limit(rng: &mut Rng, st: &mut State) {
    let prog = allow_prog(PROG_INSNS);
    let len = fuzzkit::ebpf_len(&prog);
    for n in 1..=5 {
        let (p, _) = setup_fprog(rng, &prog, PROG_INSNS as u16, Ptr::Valid, Ptr::Valid);
        let ret = call(Kind::SeccompFilter, NR_SECCOMP, [1, 0, p, 0, 0, 0], format_args!("path limit: filter {n}"));
        let before: usize = st.installed.iter().map(|l| l + 4).sum();
        let want = if len + before > 32768 { -(ENOMEM as i64) } else { 0 };
        check(ret == want, format_args!("path limit filter {n}: {ret} == {want}"));
        install_result(st, ret, 0, len);
    }
}

// ---------------------------------------------------------------------
// Group B: the notification ioctls.

/// The trapped thread: makes call `k` when told to, records the result.
fn trapper(own_filter: bool) {
    let a = arena();
    // SAFETY: Raw calls; the arena's atomics and results are shared with
    // the main thread, which reads a result only after `w_done` moved.
    unsafe {
        if own_filter {
            let prog = allow_prog(1);
            let fprog = libc::sock_fprog { len: 1, filter: prog.as_ptr() as *mut _ };
            raw_syscall(NR_SECCOMP, [1, 0, &fprog as *const _ as u64, 0, 0, 0]);
        }
        write_volatile(addr_of_mut!((*a).w_tid), raw_syscall(186, [0; 6]) as i32);
        let mut k = 0u32;
        loop {
            loop {
                let go = (*a).w_go.load(Ordering::Acquire);
                if go > k {
                    break;
                }
                raw_syscall(202, [addr_of!((*a).w_go) as u64, libc::FUTEX_WAIT as u64, go as u64, 0, 0, 0]);
            }
            let r = raw_syscall(NR_TRAPPED, [k as u64, 0x5eed, 0, 0, 0, 0]);
            (*a).w_results[k as usize % 64] = r;
            (*a).w_done.store(k + 1, Ordering::Release);
            k += 1;
        }
    }
}

/// Waits until the trapped thread finished `n` calls (or ten seconds).
fn wait_done(n: u32) -> bool {
    for _ in 0..100_000 {
        // SAFETY: An atomic in the arena.
        if unsafe { (*arena()).w_done.load(Ordering::Acquire) } >= n {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    false
}

fn ioctl(kind: Kind, fd: i64, cmd: u64, arg: u64, text: std::fmt::Arguments<'_>) -> i64 {
    call(kind, NR_IOCTL, [fd as u64, cmd, arg, 0, 0, 0], text)
}

/// Where the trapped thread's current call is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// No call in flight.
    Idle,
    /// Trapped, not received yet.
    Queued,
    /// Received with this id.
    Sent(u64),
}

struct Notifs {
    fd: i64,
    issued: u32,
    pending: Pending,
    last_id: u64,
    /// An ADDFD copied the listener itself into the process: closing our
    /// fd then does not release it.
    dups: bool,
}

impl Notifs {
    fn pick_id(&self, rng: &mut Rng) -> (u64, &'static str) {
        let current = match self.pending {
            Pending::Sent(id) => id,
            _ => self.last_id,
        };
        match rng.weighted(&[60, 10, 10, 10, 10]) {
            0 => (current, "current"),
            1 => (current.wrapping_add(1), "current+1"),
            2 => (current.wrapping_sub(1), "current-1"),
            3 => (0, "0"),
            _ => (rng.next_u64(), "random"),
        }
    }

    /// The trapped thread's call `k` came back with `ret`: log it and,
    /// if what it should be is known, check it.
    fn target_returned(&mut self, want: Option<i64>) {
        let k = self.issued - 1;
        if !wait_done(self.issued) {
            note(format_args!("trapped call {k} did not return"), -1);
            check(false, format_args!("trapped call {k} returns"));
            return;
        }
        // SAFETY: Written before `w_done` moved.
        let r = unsafe { (*arena()).w_results[k as usize % 64] };
        let i = begin(Kind::NotifTarget, format_args!("trapped call {k} returned"));
        end(i, r);
        if let Some(w) = want {
            check(r == w, format_args!("trapped call {k}: {r} == {w}"));
        }
        self.pending = Pending::Idle;
    }
}

fn notif_scenario(rng: &mut Rng, st: &mut State) {
    let flags =
        u64::from(if rng.percent(30) { FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV } else { FLAG_NEW_LISTENER });
    let (p, _) = setup_fprog(rng, &notif_prog(), 4, Ptr::Valid, Ptr::Valid);
    let fd = call(Kind::SeccompFilter, NR_SECCOMP, [1, flags, p, 0, 0, 0], format_args!("listener, flags={flags:#x}"));
    if fd < 0 {
        return;
    }
    install_result(st, fd, flags, fuzzkit::ebpf_len(&notif_prog()));
    let own_filter = rng.percent(20);
    std::thread::spawn(move || trapper(own_filter));
    st.thread = true;
    // Wait for the thread to be set up (its own filter installed), so
    // that a TSYNC later sees the same threads on every run.
    // SAFETY: Written once by the thread.
    while unsafe { read_volatile(addr_of!((*arena()).w_tid)) } == 0 {
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    let mut n = Notifs { fd, issued: 0, pending: Pending::Idle, last_id: 0, dups: false };
    let ops = rng.range(10, 40);
    for _ in 0..ops {
        notif_op(rng, &mut n);
    }
    // Leave: answer, or close the listener under a waiting call (ENOSYS).
    if n.pending != Pending::Idle && !n.dups && rng.percent(50) {
        call(Kind::Note, 3, [fd as u64, 0, 0, 0, 0, 0], format_args!("close listener"));
        n.target_returned(Some(-(libc::ENOSYS as i64)));
    }
}

fn notif_op(rng: &mut Rng, n: &mut Notifs) {
    let a = arena();
    let fd = n.fd;
    match rng.weighted(&[14, 14, 6, 18, 8, 6, 16, 6]) {
        // Let the thread trap: it then waits in the kernel.
        0 => {
            if n.pending != Pending::Idle {
                return;
            }
            n.issued += 1;
            // SAFETY: An atomic in the arena; wakes the thread's futex.
            unsafe {
                (*a).w_go.store(n.issued, Ordering::Release);
                libc::syscall(libc::SYS_futex, addr_of!((*a).w_go), libc::FUTEX_WAKE, 1);
            }
            let mut pfd = libc::pollfd { fd: fd as i32, events: libc::POLLIN, revents: 0 };
            // SAFETY: One valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, 10_000) };
            note(format_args!("trap call {}: poll", n.issued - 1), if r == 1 { pfd.revents as i64 } else { -1 });
            check(r == 1 && pfd.revents & libc::POLLIN != 0, format_args!("listener readable after a trap"));
            n.pending = Pending::Queued;
        }
        // RECV.
        1 => {
            // Not a random address: if it happened to be mapped and zero,
            // the call would wait.
            let ptr = match Ptr::pick(rng, 60) {
                Ptr::Random => Ptr::Kernel,
                p => p,
            };
            let size = std::mem::size_of::<Notif>();
            let dirty = rng.percent(25);
            // A zeroed buffer (the read-only page is) waits for a
            // notification: only with one queued.
            let waits = ptr == Ptr::ReadOnly || (!dirty && matches!(ptr, Ptr::Valid | Ptr::Odd));
            if waits && n.pending != Pending::Queued {
                return;
            }
            let p = ptr.addr(rng, buf_addr(), size);
            let mut bytes = vec![0u8; size];
            if dirty {
                let at = rng.below(size as u64) as usize;
                bytes[at] = rng.range(1, 255) as u8;
            }
            if ptr != Ptr::ReadOnly {
                place(p, &bytes);
            }
            let ret = ioctl(Kind::NotifRecv, fd, RECV, p, format_args!("RECV {} dirty={dirty}", ptr.name()));
            if ret == 0 && matches!(ptr, Ptr::Valid | Ptr::Odd) {
                // SAFETY: The kernel wrote a struct seccomp_notif at `p`.
                let got: Notif = unsafe { std::ptr::read_unaligned(p as *const Notif) };
                let k = n.issued as u64 - 1;
                check(
                    got.data.nr == NR_TRAPPED as i32
                        && got.data.arch == seccomp_samples::bpf::AUDIT_ARCH_X86_64
                        && got.data.args[0] == k
                        && got.data.args[1] == 0x5eed
                        && got.flags == 0,
                    format_args!(
                        "received call {k}: nr {} args {:#x},{:#x}",
                        got.data.nr, got.data.args[0], got.data.args[1]
                    ),
                );
                n.pending = Pending::Sent(got.id);
                n.last_id = got.id;
            }
        }
        // ID_VALID, both directions.
        2 => {
            let (id, which) = n.pick_id(rng);
            let ptr = Ptr::pick(rng, 80);
            let p = ptr.addr(rng, buf_addr(), 8);
            place(p, &id.to_le_bytes());
            let cmd = if rng.percent(70) { ID_VALID } else { ID_VALID_WRONG_DIR };
            let ret =
                ioctl(Kind::NotifIdValid, fd, cmd, p, format_args!("ID_VALID cmd={cmd:#x} id={which} {}", ptr.name()));
            if matches!(ptr, Ptr::Valid | Ptr::Odd) {
                let valid = matches!(n.pending, Pending::Sent(cur) if cur == id);
                check(ret == if valid { 0 } else { -(ENOENT as i64) }, format_args!("id {which} valid={valid}: {ret}"));
            }
        }
        // SEND.
        3 => {
            let (id, which) = n.pick_id(rng);
            let flags = match rng.weighted(&[70, 15, 15]) {
                0 => 0,
                1 => NOTIF_CONTINUE,
                _ => rng.next_u32() | 2,
            };
            let (val, error) = if flags == NOTIF_CONTINUE && rng.percent(70) {
                (0, 0)
            } else {
                match rng.below(4) {
                    0 => (rng.next_u64() as i64, 0),
                    1 => (rng.below(1000) as i64, 0),
                    2 => (0, -(rng.range(1, 4095) as i32)),
                    _ => (rng.next_u64() as i64, rng.next_u32() as i32),
                }
            };
            let resp = NotifResp { id, val, error, flags };
            let ptr = Ptr::pick(rng, 80);
            let p = ptr.addr(rng, buf_addr(), 24);
            place(p, as_bytes(&resp));
            let ret = ioctl(
                Kind::NotifSend,
                fd,
                SEND,
                p,
                format_args!("SEND id={which} val={val:#x} error={error} flags={flags:#x} {}", ptr.name()),
            );
            if ret == 0 {
                let want = if flags == NOTIF_CONTINUE {
                    -(libc::ENOSYS as i64)
                } else if error != 0 {
                    error as i64
                } else {
                    val
                };
                n.target_returned(Some(want));
            }
        }
        // SET_FLAGS.
        4 => {
            let flags = {
                let r0 = rng.next_u64();
                rng.pick(&[0, 1, 2, 3, r0])
            };
            let ret = ioctl(Kind::NotifSetFlags, fd, SET_FLAGS, flags, format_args!("SET_FLAGS {flags:#x}"));
            check(
                ret == if flags & !1 == 0 { 0 } else { -(EINVAL as i64) },
                format_args!("set flags {flags:#x}: {ret}"),
            );
        }
        // Unknown commands.
        5 => {
            let nr = {
                let r0 = rng.below(256);
                rng.pick(&[0, 1, 2, 4, 5, 6, 0x80, r0])
            };
            let size = {
                let r0 = rng.below(1 << 14);
                rng.pick(&[0, 8, 24, 80, 4096, r0])
            };
            let dir = rng.below(4);
            let mut cmd = ioc(dir, nr, size);
            if rng.percent(10) {
                cmd = ioc(rng.below(4), rng.below(256), rng.below(1 << 14)) ^ (rng.below(256) << 8);
                cmd = (cmd & !0xff00) | 0x2100;
            }
            let exact = [RECV, SEND, ID_VALID, ID_VALID_WRONG_DIR, SET_FLAGS];
            let addfd_like = cmd & !(3 << 30 | 0x3fff << 16) == ioc(0, 3, 0);
            if exact.contains(&cmd) || addfd_like {
                return;
            }
            ioctl(Kind::NotifBadCmd, fd, cmd, buf_addr(), format_args!("ioctl cmd={cmd:#x}"));
        }
        // ADDFD.
        6 => {
            let (id, which) = n.pick_id(rng);
            let flags = {
                let r0 = rng.next_u32();
                rng.pick(&[0, 0, 0, 0, ADDFD_SETFD, ADDFD_SEND, ADDFD_SEND, ADDFD_SETFD | ADDFD_SEND, 4, r0])
            };
            let srcfd = rng.pick(&[0, 1, 2, fd as u32, u32::MAX, 9999]);
            let newfd = if flags & ADDFD_SETFD != 0 || rng.percent(20) {
                {
                    let r0 = rng.range(100, 200) as u32;
                    rng.pick(&[0, r0, 0x7fff_ffff, 1 << 20])
                }
            } else {
                0
            };
            let newfd_flags = {
                let r0 = rng.next_u32();
                rng.pick(&[0, 0, 0, 0, libc::O_CLOEXEC as u32, r0])
            };
            let addfd = NotifAddfd { id, flags, srcfd, newfd, newfd_flags };
            let size = {
                let r0 = rng.below(1 << 14);
                rng.pick(&[24, 24, 24, 24, 24, 24, 16, 23, 32, 64, 4095, 4096, r0])
            };
            let tail_dirty = size > 24 && rng.percent(30);
            let ptr = Ptr::pick(rng, 85);
            let p = ptr.addr(rng, buf_addr(), size as usize);
            let mut bytes = vec![0u8; (size as usize).min(8192)];
            let head = 24.min(bytes.len());
            bytes[..head].copy_from_slice(&as_bytes(&addfd)[..head]);
            if tail_dirty {
                let at = rng.range(24, bytes.len() as u64 - 1) as usize;
                bytes[at] = 1;
            }
            place(p, &bytes);
            let cmd = ioc(1, 3, size) | if rng.percent(10) { 2 << 30 } else { 0 };
            let ret = ioctl(
                Kind::NotifAddfd,
                fd,
                cmd,
                p,
                format_args!(
                    "ADDFD size={size} id={which} flags={flags:#x} srcfd={srcfd:#x} newfd={newfd:#x} \
                     newfd_flags={newfd_flags:#x} tail_dirty={tail_dirty} {}",
                    ptr.name()
                ),
            );
            if ret >= 0 && srcfd as i64 == fd {
                n.dups = true;
            }
            if ret >= 0 && flags & ADDFD_SEND != 0 {
                n.target_returned(Some(ret));
            }
        }
        // Answer whatever is pending, to move on.
        _ => {
            if let Pending::Sent(id) = n.pending {
                let resp = NotifResp { id, val: 42, error: 0, flags: 0 };
                place(buf_addr(), as_bytes(&resp));
                let ret = ioctl(Kind::NotifSend, fd, SEND, buf_addr(), format_args!("SEND current 42"));
                check(ret == 0, format_args!("answer current: {ret}"));
                if ret == 0 {
                    n.target_returned(Some(42));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------
// Group C: ptrace.

fn ptrace(kind: Kind, req: u64, pid: i32, addr: u64, data: u64, text: std::fmt::Arguments<'_>) -> i64 {
    call(kind, NR_PTRACE, [req, pid as u64, addr, data, 0, 0], text)
}

fn ptrace_scenario(rng: &mut Rng, st: &State) {
    let a = arena();
    let nfilters = rng.below(4) as usize;
    let logs: Vec<bool> = (0..nfilters).map(|_| rng.percent(50)).collect();
    let lens: Vec<usize> = (0..nfilters).map(|j| errno_prog(4 + 2 * j).len()).collect();
    // Built before the fork: the grandchild of a process that may have
    // threads must not allocate.
    let progs: Vec<Vec<libc::sock_filter>> = (0..nfilters).map(|j| errno_prog(4 + 2 * j)).collect();
    let fprogs: Vec<(libc::sock_fprog, u64)> = progs
        .iter()
        .zip(&logs)
        .map(|(p, &log)| {
            (
                libc::sock_fprog { len: p.len() as u16, filter: p.as_ptr() as *mut _ },
                if log { u64::from(FLAG_LOG) } else { 0 },
            )
        })
        .collect();
    // SAFETY: Reset before the grandchild exists.
    unsafe { write_volatile(addr_of_mut!((*a).g_result), i64::MIN) };
    let pid = seccomp_samples::fork_with(|| {
        // SAFETY: Raw calls only, on memory prepared before the fork.
        unsafe {
            raw_syscall(NR_PRCTL, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0]);
            for (fprog, flags) in &fprogs {
                if raw_syscall(NR_SECCOMP, [1, *flags, fprog as *const _ as u64, 0, 0, 0]) != 0 {
                    return 3;
                }
            }
            raw_syscall(NR_PTRACE, [PTRACE_TRACEME, 0, 0, 0, 0, 0]);
            let me = raw_syscall(NR_GETPID, [0; 6]);
            raw_syscall(NR_KILL, [me as u64, libc::SIGSTOP as u64, 0, 0, 0, 0]);
            let r = raw_syscall(NR_GETPPID, [0; 6]);
            write_volatile(addr_of_mut!((*arena()).g_result), r);
        }
        0
    });
    let Ok(pid) = pid else {
        note(format_args!("fork failed"), -1);
        return;
    };
    // SAFETY: Recorded for the parent, which kills leftovers.
    unsafe { write_volatile(addr_of_mut!((*a).g_pid), pid) };
    let mut status = 0;
    // SAFETY: Waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    let stopped = libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGSTOP;
    check(stopped, format_args!("tracee stopped ({nfilters} filters)"));
    if !stopped {
        return;
    }
    let privileged = st.cap && st.mode == 0;
    let mut suspended = false;
    for _ in 0..rng.range(4, 16) {
        match rng.weighted(&[40, 35, 25]) {
            0 => {
                let index = {
                    let r0 = rng.next_u64();
                    rng.pick(&[0, 1, 2, 3, 4, r0, u64::MAX])
                };
                let ptr = if rng.percent(30) { Ptr::Null } else { Ptr::pick(rng, 70) };
                let want_len = (index as usize) < nfilters;
                let size = if want_len { lens[index as usize] * 8 } else { 64 };
                let p = ptr.addr(rng, buf_addr(), size);
                place(p, &vec![0xee; size]);
                let ret = ptrace(
                    Kind::PtraceGetFilter,
                    PTRACE_SECCOMP_GET_FILTER,
                    pid,
                    index,
                    p,
                    format_args!("GET_FILTER index={index:#x} {}", ptr.name()),
                );
                let want = if !privileged {
                    -(EACCES as i64)
                } else if nfilters == 0 {
                    -(EINVAL as i64)
                } else if !want_len {
                    -(ENOENT as i64)
                } else {
                    match ptr {
                        Ptr::Null | Ptr::Valid | Ptr::Odd => lens[index as usize] as i64,
                        Ptr::Random => ret,
                        _ => -(EFAULT as i64),
                    }
                };
                check(ret == want, format_args!("get filter {index:#x}: {ret} == {want}"));
                if ret > 0 && matches!(ptr, Ptr::Valid | Ptr::Odd) {
                    let prog = errno_prog(4 + 2 * index as usize);
                    let bytes: Vec<u8> = prog.iter().flat_map(|i| as_bytes(i).to_vec()).collect();
                    // SAFETY: The kernel wrote `ret` instructions at `p`.
                    let got = unsafe { std::slice::from_raw_parts(p as *const u8, bytes.len()) };
                    check(got == bytes.as_slice(), format_args!("filter {index} read back"));
                }
            }
            1 => {
                let size = {
                    let r0 = rng.next_u64();
                    rng.pick(&[0, 1, 7, 8, 9, 15, 16, 17, 4096, r0])
                };
                let off = {
                    let r0 = rng.next_u64();
                    rng.pick(&[0, 1, 2, 3, 4, r0])
                };
                let ptr = Ptr::pick(rng, 75);
                let p = ptr.addr(rng, buf_addr(), 16);
                let mut md = [0u8; 16];
                md[..8].copy_from_slice(&off.to_le_bytes());
                md[8..].copy_from_slice(&u64::MAX.to_le_bytes());
                place(p, &md);
                let ret = ptrace(
                    Kind::PtraceGetMetadata,
                    PTRACE_SECCOMP_GET_METADATA,
                    pid,
                    size,
                    p,
                    format_args!("GET_METADATA size={size:#x} filter_off={off:#x} {}", ptr.name()),
                );
                let clamped = size.min(16) as i64;
                if ret == clamped && ret >= 16 && matches!(ptr, Ptr::Valid | Ptr::Odd) {
                    // SAFETY: The kernel wrote 16 bytes at `p`.
                    let got: [u64; 2] = unsafe { std::ptr::read_unaligned(p as *const [u64; 2]) };
                    let want_flags = if logs[off as usize] { u64::from(FLAG_LOG) } else { 0 };
                    check(got == [off, want_flags], format_args!("metadata {got:x?} == [{off:#x}, {want_flags:#x}]"));
                }
                if privileged && size >= 8 && nfilters > 0 && (off as usize) < nfilters && ptr == Ptr::Valid {
                    check(ret == clamped, format_args!("metadata size {size:#x}: {ret} == {clamped}"));
                }
            }
            _ => {
                let opts = match rng.weighted(&[30, 20, 15, 15, 20]) {
                    0 => PTRACE_O_SUSPEND_SECCOMP,
                    1 => 0,
                    2 => PTRACE_O_SUSPEND_SECCOMP | rng.next_u64() & PTRACE_O_MASK,
                    3 => rng.next_u64() & PTRACE_O_MASK,
                    _ => rng.next_u64(),
                };
                let ret = ptrace(
                    Kind::PtraceSetOptions,
                    PTRACE_SETOPTIONS,
                    pid,
                    0,
                    opts,
                    format_args!("SETOPTIONS {opts:#x}"),
                );
                let want = if opts & !PTRACE_O_MASK != 0 {
                    -(EINVAL as i64)
                } else if opts & PTRACE_O_SUSPEND_SECCOMP != 0 && !privileged {
                    -(EPERM as i64)
                } else {
                    0
                };
                check(ret == want, format_args!("setoptions {opts:#x}: {ret} == {want}"));
                if ret == 0 {
                    suspended = opts & PTRACE_O_SUSPEND_SECCOMP != 0;
                }
            }
        }
    }
    // Let the tracee make its getppid, which its filters fail with 77
    // unless suspended; follow it through any stop its options ask for.
    ptrace(Kind::Note, PTRACE_CONT, pid, 0, 0, format_args!("CONT"));
    for _ in 0..8 {
        // SAFETY: Waiting for our own child.
        if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } != pid || !libc::WIFSTOPPED(status) {
            break;
        }
        ptrace(Kind::Note, PTRACE_CONT, pid, 0, 0, format_args!("CONT after stop"));
    }
    // SAFETY: Written by the tracee before exiting.
    let r = unsafe { read_volatile(addr_of!((*a).g_result)) };
    // SAFETY: getpid takes no arguments.
    let me = unsafe { libc::getpid() } as i64;
    let i = begin(Kind::PtraceTracee, format_args!("tracee getppid, suspended={suspended}"));
    end(i, if r == me { 0x7070_7070 } else { r });
    let want = if nfilters > 0 && !suspended { -77 } else { me };
    // Pids differ from kernel to kernel: the log names ours.
    let name = |v: i64| if v == me { "PPID".to_string() } else { v.to_string() };
    check(
        r == want,
        format_args!("tracee getppid {} == {} (suspended={suspended}, {nfilters} filters)", name(r), name(want)),
    );
    // SAFETY: Reaped.
    unsafe { write_volatile(addr_of_mut!((*a).g_pid), 0) };
}

// ---------------------------------------------------------------------

/// Drops CAP_SYS_ADMIN (effective and permitted); returns whether it is
/// gone.
fn drop_caps() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    let h = Header { version: 0x2008_0522, pid: 0 };
    // Effective, permitted and inheritable sets, two 32-bit words each.
    let mut data = [[0u32; 3]; 2];
    // SAFETY: capget/capset with a v3 header and two data words.
    unsafe {
        if libc::syscall(libc::SYS_capget, &h, data.as_mut_ptr()) != 0 {
            return false;
        }
        data[0][0] &= !(1 << 21);
        data[0][1] &= !(1 << 21);
        libc::syscall(libc::SYS_capset, &h, data.as_ptr()) == 0
    }
}

/// One iteration, in its own process.
fn iteration(seed: u64, iter: u64) -> ! {
    let mut rng = Rng::stream(seed, iter);
    // SAFETY: Plain calls in the child.
    unsafe { libc::alarm(ALARM_SECONDS) };
    let mut cap = true;
    if rng.percent(15) {
        cap = !drop_caps();
    }
    let nnp = rng.percent(80);
    if nnp {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    }
    note(format_args!("caps={cap} nnp={nnp}"), 0);
    let mut st = State { mode: 0, installed: vec![], cap, nnp, listener: None, thread: false };
    let _ = (st.nnp, st.listener);
    let notif = rng.percent(50);
    let trace = rng.percent(40);
    // Tracing first, unfiltered, then again later (filtered, mostly).
    if trace && rng.percent(60) {
        ptrace_scenario(&mut rng, &st);
    }
    if (cap || nnp) && rng.percent(4) {
        path_limit(&mut rng, &mut st);
    }
    for _ in 0..rng.range(4, 20) {
        call_a(&mut rng, &mut st);
    }
    if notif {
        notif_scenario(&mut rng, &mut st);
    }
    if trace {
        ptrace_scenario(&mut rng, &st);
    }
    for _ in 0..rng.below(6) {
        call_a(&mut rng, &mut st);
    }
    // Strict mode last: then only read, write, exit and sigreturn.
    if !st.thread && rng.percent(5) {
        let ret = if rng.percent(50) {
            call(Kind::SeccompStrict, NR_SECCOMP, [0, 0, 0, 0, 0, 0], format_args!("seccomp(STRICT)"))
        } else {
            call(
                Kind::PrctlSetStrict,
                NR_PRCTL,
                [PR_SET_SECCOMP, 1, 0, 0, 0, 0],
                format_args!("prctl(SET_SECCOMP, STRICT)"),
            )
        };
        let want = if st.mode == 2 { -(EINVAL as i64) } else { 0 };
        check(ret == want, format_args!("strict: {ret} == {want}"));
        // SAFETY: exit is allowed in strict mode; exit_group is not.
        unsafe { raw_syscall(NR_EXIT, [0; 6]) };
    }
    // SAFETY: Leaves the child, threads and all.
    unsafe { libc::_exit(0) }
}

fn main() {
    fuzzkit::reexec_without_aslr();
    let args = fuzzkit::Args::parse(&["seed", "iterations", "verbose", "from"], USAGE);
    let seed = args.num("seed", 1);
    let iterations = args.num("iterations", 500);
    let from = args.num("from", 0);
    let verbose = args.flag("verbose");

    let base = fuzzkit::map_shared(ARENA_ADDR, MAP_LEN);
    // SAFETY: Pages of our own mapping: the guard page and the read-only
    // page.
    unsafe {
        libc::mprotect(base.add(GUARD_ADDR - ARENA_ADDR).cast(), 4096, libc::PROT_NONE);
        libc::mprotect(base.add(RO_ADDR - ARENA_ADDR).cast(), 4096, libc::PROT_READ);
        // Orphaned grandchildren come to us, to be reaped.
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    println!("seccomp-fuzz: seed {seed}, iterations {from}..{}", from + iterations);
    let start = std::time::Instant::now();
    let a = arena();
    let mut total = Fnv::default();
    let mut block = Fnv::default();
    let mut calls = Counts::default();
    let mut results = Counts::default();
    let mut fails = 0u64;
    let mut checks = 0u64;
    for iter in from..from + iterations {
        // SAFETY: No child runs: reset the log and the mailboxes.
        unsafe {
            std::ptr::write_bytes(a.cast::<u8>(), 0, ARENA_LEN);
            std::ptr::write_bytes((TAIL_ADDR) as *mut u8, 0, 4096);
        }
        let pid = seccomp_samples::fork_with(|| iteration(seed, iter)).unwrap_or_else(|e| {
            println!("seccomp-fuzz: FAIL: fork: {e}");
            std::process::exit(1)
        });
        let mut status = 0;
        // SAFETY: Waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        // SAFETY: The child is gone; kill and reap a grandchild it left.
        unsafe {
            let g = read_volatile(addr_of!((*a).g_pid));
            if g > 0 {
                libc::kill(g, libc::SIGKILL);
                libc::waitpid(g, std::ptr::null_mut(), libc::__WALL);
            }
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG | libc::__WALL) > 0 {}
        }
        let mut lines = vec![];
        let mut bad = vec![];
        // SAFETY: The child is gone; its log is in the arena.
        let n = unsafe { (*a).nrecords as usize }.min(MAX_RECORDS);
        for i in 0..n {
            // SAFETY: As above.
            let r = unsafe { (*a).records[i] };
            let kind = KINDS[r.kind as usize];
            let text = String::from_utf8_lossy(&r.text[..r.len as usize]).into_owned();
            let name = kind_name(kind);
            if r.done == 0 {
                lines.push(format!("{name}: {text} -> (no return)"));
                bad.push(format!("call did not return: {name}: {text}"));
                continue;
            }
            // SAFETY: As above.
            let w_tid = unsafe { (*a).w_tid } as i64;
            let res = if (-4095..0).contains(&r.ret) {
                errno_name(-r.ret)
            } else if kind == Kind::SeccompFilter && w_tid != 0 && r.ret == w_tid {
                // TSYNC failed on the trapped thread.
                "TID".into()
            } else {
                r.ret.to_string()
            };
            lines.push(format!("{name}: {text} -> {res}"));
            let (errnos, success) = table(kind);
            match kind {
                Kind::Check => {
                    checks += 1;
                    if r.ret != 0 {
                        bad.push(format!("check failed: {text}"));
                    }
                }
                Kind::Note | Kind::NotifTarget | Kind::PtraceTracee => {}
                _ => {
                    calls.add(name);
                    let ok = if r.ret < 0 { errnos.contains(&(-r.ret as i32)) } else { success };
                    let class = if r.ret < 0 {
                        errno_name(-r.ret)
                    } else if r.ret == 0 {
                        "0".into()
                    } else {
                        ">0".into()
                    };
                    results.add(format!("{name}:{class}"));
                    if !ok {
                        bad.push(format!("{name}: {text} -> {res}: not a result upstream returns for this call"));
                    }
                }
            }
        }
        let end = fuzzkit::status_text(status);
        if end != "exit(0)" {
            bad.push(format!("iteration ended with {end}"));
        }
        lines.push(format!("end {end}"));
        for l in &lines {
            let line = format!("iter {iter}: {l}");
            block.line(&line);
            total.line(&line);
            if verbose {
                println!("{line}");
            }
        }
        for b in &bad {
            fails += 1;
            println!("seccomp-fuzz: FAIL: seed {seed} iteration {iter}: {b}");
        }
        if !bad.is_empty() && !verbose {
            for l in &lines {
                println!("    {l}");
            }
        }
        if (iter + 1 - from) % DIGEST_EVERY == 0 || iter + 1 == from + iterations {
            println!("seccomp-fuzz: iterations {}-{iter} digest {:016x}", iter - (iter - from) % DIGEST_EVERY, block.0);
            block = Fnv::default();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("seccomp-fuzz: total iterations {from}-{} digest {:016x}", from + iterations - 1, total.0);
    println!("seccomp-fuzz: calls: {}", calls.text());
    let mut by_call: std::collections::BTreeMap<String, String> = Default::default();
    for (k, v) in results.text().split(' ').filter_map(|kv| kv.split_once('=')) {
        if let Some((call, class)) = k.split_once(':') {
            let e = by_call.entry(call.to_string()).or_default();
            let _ = write!(e, "{}{class}={v}", if e.is_empty() { "" } else { " " });
        }
    }
    for (call, res) in by_call {
        println!("seccomp-fuzz: results {call}: {res}");
    }
    println!("seccomp-fuzz: {iterations} iterations, {} calls, {checks} exact checks in {secs:.1} s", {
        let mut t = 0;
        for k in KINDS {
            t += calls.get(kind_name(k));
        }
        t
    });
    if fails > 0 {
        println!("seccomp-fuzz: FAIL: {fails} failures");
        std::process::exit(1);
    }
    println!("seccomp-fuzz: PASS");
}
