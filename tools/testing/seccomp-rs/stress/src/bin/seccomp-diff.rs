// SPDX-License-Identifier: GPL-2.0

//! seccomp-diff: a seeded corpus of random filter chains and system calls,
//! whose outcomes are recorded case by case, so that the C and the Rust
//! kernel can be compared by digest.
//!
//! A case is one system call made under one filter chain.  Each child
//! process (ten cases) gets 1..4 filters, mostly valid structured programs
//! (loads of every `seccomp_data` word, ALU ops including division by a
//! zero X and shifts by 32 or more, every jump, scratch memory, returns of
//! every action with data, unknown actions) and some invalid or garbage
//! ones (bad codes, bad offsets, bad lengths, bad pointers), installed
//! with `seccomp()` or `prctl()` and random flags, sometimes strict mode,
//! sometimes on a second thread.  Each install is itself a system call
//! the filters already in place see.  The child then makes ten harmless
//! system calls with random arguments (their results do not depend on
//! timing or pids) and exits.
//!
//! Every step's outcome goes to shared memory, without system calls: its
//! return value, or the `SIGSYS` siginfo of a trap (the handler records it
//! and carries on with the next step, never returning), or nothing if the
//! process or thread died there (the parent reads the wait status; a
//! child whose exit call returned or trapped spins until the parent kills
//! it: `exit-failed`).  A second thread makes the steps in a fifth of the
//! children (the first thread waits in `clone(CLONE_VFORK)`, then exits
//! under whatever TSYNC gave it), so that KILL_THREAD and TSYNC differ
//! from KILL_PROCESS and plain installs.  For a third of the
//! single-threaded children the parent also reads the action cache
//! (`/proc/PID/seccomp_cache`) between the installs and the calls.
//!
//! Deterministic by construction: the child index seeds its own generator
//! (so any range of cases can be rerun alone), the pointers passed and the
//! system call instruction (whose address filters load and compare) sit
//! at fixed addresses, nothing depends on timing, and pid-valued results
//! are printed as PID/TID/PPID.
//!
//! The parent prints, per 1000 cases, a digest (FNV-1a) of the canonical
//! outcome lines and one of the action caches read, then a summary with
//! counts per outcome, per action the chain returned, per install result
//! and per way a child ended.  It also predicts every outcome with a model
//! of upstream 6.12 (the engine's checker and interpreter, `rust/engine`,
//! which on the C kernel this compares with upstream's own; eBPF length
//! for the path limit, action precedence, strict mode, action cache
//! emulation): a child the kernel and the model disagree on is printed
//! and fails the run; so does
//! an action cache that differs from upstream's (and if the kernel's
//! cache allows a call upstream's would filter, the model looks for data
//! on which the filters do not allow it: `UNSOUND-CACHE`).
//!
//! Usage: `seccomp-diff [--seed S] [--cases N] [--from I] [--count K]
//! [--verbose] [--cache-may-allow-more]`; `--verbose` prints every case's
//! canonical line, and each child's with its filter chain (`code jt jf k`
//! per instruction, hex).  `--cache-may-allow-more` is for the Rust
//! kernel, whose cache analysis proves more system calls constant-allowed
//! than upstream's emulator: its `seccomp_cache` may list more `ALLOW`
//! lines, each of which must still survive the counterexample search
//! (anything else stays a failure).
//! Prints `seccomp-diff: PASS` at the end if the kernel agreed with the
//! model on every case.  Run on the host, it compares the engine with the
//! running kernel (which lacks `seccomp_cache` unless built with
//! `CONFIG_SECCOMP_CACHE_DEBUG`: no cache is read then).

use std::fmt::Write as _;
use std::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

use libc::sock_filter;
use seccomp_engine::{DecodedProgram, Insn, SeccompData, SockFilter};
use seccomp_samples::bpf::{AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use seccomp_samples::{SigsysInfo, SYS_SECCOMP};
use seccomp_stress::abi::*;
use seccomp_stress::fuzzkit::{self, raw_syscall, raw_syscall_ip, ret_text, status_text, Counts, Fnv, Rng};

const USAGE: &str = "seccomp-diff [--seed S] [--cases N] [--from I] [--count K] [--verbose] [--cache-may-allow-more]";
/// Test calls per child process: a case is one of them.
const CALLS: usize = 10;
/// Cases per digest line.
const BLOCK: u64 = 1000;
const MAX_FILTERS: usize = 4;
const MAX_STEPS: usize = 24;
const MAX_INSNS: usize = 4096;
/// Most (eBPF) instructions on one evaluation path (`MAX_INSNS_PER_PATH`).
const MAX_PATH_INSNS: usize = 32768;
/// Where the shared arena is mapped in every run, so that pointers passed
/// to the kernel (which filters may compare) are the same on both kernels.
const ARENA_ADDR: usize = 0x1000_0000_0000;
/// Where the system call stub is copied, for the same reason: its address
/// is the instruction pointer filters see (and compare).
const STUB_ADDR: usize = 0x0fff_f000_0000;
const ALARM_SECONDS: u32 = 20;
/// Single-threaded children whose action cache is read: one in this many.
const CACHE_EVERY: u64 = 3;

// seccomp ABI values the libc crate has as c_ulong/c_uint; u32 here.
const FLAG_MASK: u32 = 63;

// Classic BPF opcodes (libc's BPF_* parts, combined).
const LD_W_ABS: u16 = 0x20;
const LD_W_LEN: u16 = 0x80;
const LDX_W_LEN: u16 = 0x81;
const LD_IMM: u16 = 0x00;
const LDX_IMM: u16 = 0x01;
const LD_MEM: u16 = 0x60;
const LDX_MEM: u16 = 0x61;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const TAX: u16 = 0x07;
const TXA: u16 = 0x87;
const JA: u16 = 0x05;
const JEQ: u16 = 0x15;
const JGT: u16 = 0x25;
const JGE: u16 = 0x35;
const JSET: u16 = 0x45;
const X_SRC: u16 = 0x08;
const RET_K: u16 = 0x06;
const RET_A: u16 = 0x16;
const ALU: u16 = 0x04;
const NEG: u16 = 0x84;
const ALU_OPS: [u16; 9] = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0]; // add sub mul div or and lsh rsh xor
const OP_DIV: u16 = 0x30;
const OP_LSH: u16 = 0x60;
const OP_RSH: u16 = 0x70;

const ENOSYS: i64 = libc::ENOSYS as i64;
const EINVAL: i64 = libc::EINVAL as i64;
const EFAULT: i64 = libc::EFAULT as i64;

// ---------------------------------------------------------------------
// The shared arena: what the parent sets up for a child and what the
// child reports back, at a fixed address.

const NOT_REACHED: u32 = 0;
const STARTED: u32 = 1;
const RETURNED: u32 = 2;
const TRAPPED: u32 = 3;

/// One step's outcome, written by the child.
#[repr(C)]
#[derive(Clone, Copy)]
struct Slot {
    state: u32,
    signo: i32,
    ret: i64,
    code: i32,
    errno: i32,
    syscall: i32,
    arch: u32,
    call_addr: u64,
}

/// One system call: `rax` and the six argument registers.
#[repr(C)]
#[derive(Clone, Copy)]
struct Step {
    nr: u64,
    args: [u64; 6],
}

/// `struct sock_fprog`, with the filter pointer as a number.
#[repr(C)]
#[derive(Clone, Copy)]
struct Fprog {
    len: u16,
    pad: [u16; 3],
    filter: u64,
}

#[repr(C)]
struct Arena {
    /// The step being made.
    cur: u32,
    nsteps: u32,
    /// Before this step the child stops until `go` (after the installs),
    /// so that the parent can read the action cache; `u32::MAX`: never.
    sync_at: u32,
    /// 1 once the child waits at `sync_at`.
    phase: u32,
    go: u32,
    /// 1 once the main thread of a threaded child makes its exit call.
    main_phase: u32,
    /// 1 once the child is stuck: its exit call returned or trapped.
    stuck: u32,
    /// The worker thread's id (set by `CLONE_PARENT_SETTID`).
    worker_tid: i32,
    pad: i32,
    main_slot: Slot,
    steps: [Step; MAX_STEPS],
    slots: [Slot; MAX_STEPS],
    fprogs: [Fprog; MAX_FILTERS],
    /// A `struct sock_fprog` at an odd address.
    fprog_odd: [[u8; 32]; MAX_FILTERS],
    /// What `SECCOMP_GET_ACTION_AVAIL` calls point to.
    action_words: [u32; 8],
    /// Where `SECCOMP_GET_NOTIF_SIZES` calls write.
    sizes: [u16; 8],
    insns: [[u8; MAX_INSNS * 8 + 64]; MAX_FILTERS],
}

const ARENA_LEN: usize = (std::mem::size_of::<Arena>() + 4095) & !4095;
/// A `PROT_NONE` page right after the arena.
const GUARD_ADDR: usize = ARENA_ADDR + ARENA_LEN;

fn arena() -> *mut Arena {
    ARENA_ADDR as *mut Arena
}

fn field_addr<T>(p: *const T) -> u64 {
    p as u64
}

// ---------------------------------------------------------------------
// The child: the steps, the SIGSYS handler, the worker thread.

/// Where a child ends up when its exit call returned or trapped: it says
/// so and waits for the parent to kill it.  (Dying of an exception, say
/// `ud2`, would make the kernel log the unhandled signal on the console,
/// among the digest lines.)
fn stuck() -> ! {
    // SAFETY: The arena is mapped for the whole run.
    unsafe { write_volatile(addr_of_mut!((*arena()).stuck), 1) };
    loop {
        std::hint::spin_loop();
    }
}

/// Makes steps `from..` in order, recording each one; then [`stuck`] (the
/// last step is an exit: reaching the end means it returned or trapped).
fn run_steps(from: usize) -> ! {
    let a = arena();
    // SAFETY: The arena is mapped for the whole run; only this thread
    // writes the slots and `cur` while it runs the steps.
    unsafe {
        let n = read_volatile(addr_of!((*a).nsteps)) as usize;
        for j in from..n {
            if j as u32 == read_volatile(addr_of!((*a).sync_at)) {
                write_volatile(addr_of_mut!((*a).phase), 1);
                while read_volatile(addr_of!((*a).go)) == 0 {
                    std::hint::spin_loop();
                }
            }
            write_volatile(addr_of_mut!((*a).cur), j as u32);
            write_volatile(addr_of_mut!((*a).slots[j].state), STARTED);
            let step = read_volatile(addr_of!((*a).steps[j]));
            let ret = raw_syscall(step.nr, step.args);
            write_volatile(addr_of_mut!((*a).slots[j].ret), ret);
            write_volatile(addr_of_mut!((*a).slots[j].state), RETURNED);
        }
    }
    stuck()
}

/// Records a trap of the current step and goes on with the next one,
/// nested in the handler: it never returns, so no `rt_sigreturn` (which
/// the filters would see) is made.
extern "C" fn sigsys_handler(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let a = arena();
    // SAFETY: `info` is the kernel's siginfo for this signal, whose SIGSYS
    // layout SigsysInfo describes; the arena is mapped.
    unsafe {
        let info = &*(info as *const SigsysInfo);
        let main = read_volatile(addr_of!((*a).main_phase)) == 1;
        let cur = read_volatile(addr_of!((*a).cur)) as usize;
        let slot = if main { addr_of_mut!((*a).main_slot) } else { addr_of_mut!((*a).slots[cur]) };
        write_volatile(
            slot,
            Slot {
                state: TRAPPED,
                signo: info.signo,
                ret: 0,
                code: info.code,
                errno: info.errno,
                syscall: info.syscall,
                arch: info.arch,
                call_addr: info.call_addr as u64,
            },
        );
        if main {
            stuck();
        }
        run_steps(cur + 1)
    }
}

extern "C" fn worker(_arg: *mut libc::c_void) -> libc::c_int {
    run_steps(0)
}

/// The child process: set up without any filter, then make the steps.
fn child_main(threaded: bool, nnp: bool, stack: *mut u8, stack_len: usize) -> ! {
    // SAFETY: Plain prctl/sigaction/alarm calls before any filter; the
    // handler only touches the arena and its own stack.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        if nnp {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        }
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = sigsys_handler as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
        libc::alarm(ALARM_SECONDS);
    }
    if !threaded {
        run_steps(0);
    }
    let a = arena();
    // SAFETY: The worker runs on its own stack (mapped by the parent, so
    // inherited) and uses nothing of the C library's per-thread state:
    // only raw system calls and the arena.  With CLONE_VFORK the main
    // thread waits inside clone(), whose entry no filter saw, until the
    // worker is gone, so that it makes no system call the worker's TSYNC
    // filters could catch meanwhile; then it exits itself.
    unsafe {
        let tidp = addr_of_mut!((*a).worker_tid);
        let flags = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_VFORK
            | libc::CLONE_PARENT_SETTID;
        let top = stack.add(stack_len - 64);
        let tid = libc::clone(worker, top.cast(), flags, std::ptr::null_mut(), tidp);
        if tid <= 0 {
            libc::_exit(99);
        }
        write_volatile(addr_of_mut!((*a).main_phase), 1);
        write_volatile(addr_of_mut!((*a).main_slot.state), STARTED);
        let ret = raw_syscall(NR_EXIT_GROUP, [0; 6]);
        write_volatile(addr_of_mut!((*a).main_slot.ret), ret);
        write_volatile(addr_of_mut!((*a).main_slot.state), RETURNED);
    }
    stuck()
}

// ---------------------------------------------------------------------
// The corpus.

/// A test call's kind: what its result would be if the filters let it run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Call {
    Getpid,
    Getppid,
    Gettid,
    /// getuid and friends: the parent's value.
    Id(u64),
    /// A call on a file descriptor that is not open: EBADF.
    BadFd(u64),
    SchedYield,
    Umask,
    /// A system call number with no system call: ENOSYS.
    NoSys,
    /// uretprobe (335) / uprobe (336): what a probe run without filters saw.
    Probe(u64),
    PrctlGetSeccomp,
    PrctlGetNnp,
    PrctlGetDumpable,
    Personality,
    Getpgid,
    SchedGetscheduler,
    ActionAvail,
    NotifSizes,
    /// seccomp() with an unknown op, strict mode with flags or a pointer,
    /// or a filter with bad flags or no program: EINVAL or EFAULT.
    SeccompBad,
}

/// Where a `sock_fprog` or its filter lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ptr {
    Ok,
    Null,
    Unmapped,
    Kernel,
    /// Valid memory at an odd address.
    Odd,
    /// Runs into the guard page (filter only).
    Partial,
}

struct Filter {
    via_prctl: bool,
    flags: u32,
    fprog: Ptr,
    filter: Ptr,
    /// `sock_fprog.len`.
    len: u16,
    insns: Vec<sock_filter>,
    /// How the generator made it.
    label: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum StepKind {
    Install(usize),
    /// Strict mode through seccomp() (false) or prctl() (true).
    Strict(bool),
    /// prctl(PR_SET_SECCOMP) with a mode neither strict nor filter.
    PrctlBadMode,
    Call(Call),
    /// The last step: exit_group, or exit on the worker thread.
    Exit,
}

struct Child {
    index: u64,
    threaded: bool,
    nnp: bool,
    sync: bool,
    filters: Vec<Filter>,
    steps: Vec<(StepKind, Step)>,
    action_words: [u32; 8],
}

/// Constants the generator compares with: the numbers and argument words
/// of this child's steps, and the system call instruction's address.
struct Ctx {
    nrs: Vec<u32>,
    words: Vec<u32>,
    ip: u64,
}

const ACTIONS: [u32; 8] =
    [RET_KILL_PROCESS, RET_KILL_THREAD, RET_TRAP, RET_ERRNO, RET_USER_NOTIF, RET_TRACE, RET_LOG, RET_ALLOW];
const UNKNOWN_ACTIONS: [u32; 12] = [
    0x0001_0000,
    0x0002_0000,
    0x0004_0000,
    0x0006_0000,
    0x7fe0_0000,
    0x7ffd_0000,
    0x7ffe_0000,
    0x7fc1_0000,
    0xc000_0000,
    0xffff_0000,
    0x8001_0000,
    0x7fbf_0000,
];

fn interesting64(rng: &mut Rng, ip: u64) -> u64 {
    match rng.below(16) {
        0 => 0,
        1 => rng.below(8),
        2 => rng.below(300),
        3 => u64::MAX,
        4 => 0xffff_ffff,
        5 => 0x1_0000_0000 | rng.below(4),
        6 => 0xffff_ffff_0000_0000,
        7 => rng.pick(&[0x8000_0000, 0x7fff_ffff, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff]),
        8 => (action(rng) as u64) << 32 | rng.below(4),
        9 => action(rng) as u64,
        10 => ip.wrapping_add(rng.below(3)).wrapping_sub(1),
        11 => rng.next_u32() as u64,
        _ => rng.next_u64(),
    }
}

fn interesting32(rng: &mut Rng) -> u32 {
    match rng.below(10) {
        0 => 0,
        1 => rng.below(8) as u32,
        2 => rng.range(30, 66) as u32,
        3 => u32::MAX,
        4 => rng.pick(&[0x8000_0000, 0x7fff_ffff, 0xffff, 0x10000, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386]),
        5 => action(rng),
        _ => rng.next_u32(),
    }
}

/// A return value for a filter: every action, with data, and unknown ones.
fn action(rng: &mut Rng) -> u32 {
    let data = |rng: &mut Rng| -> u32 {
        match rng.below(10) {
            0 => 0,
            1 => 4095,
            2 => 4096,
            3 => rng.range(4097, 0xffff) as u32,
            4 => 0xffff,
            _ => rng.range(1, 133) as u32,
        }
    };
    match rng.weighted(&[42, 3, 15, 10, 4, 4, 7, 5, 5, 6, 2]) {
        0 => RET_ALLOW,
        1 => RET_ALLOW | data(rng),
        2 => RET_ERRNO | data(rng),
        3 => RET_TRAP | data(rng),
        4 => RET_KILL_PROCESS | if rng.percent(20) { data(rng) } else { 0 },
        5 => RET_KILL_THREAD | if rng.percent(20) { data(rng) } else { 0 },
        6 => RET_LOG | if rng.percent(20) { data(rng) } else { 0 },
        7 => RET_TRACE | data(rng),
        8 => RET_USER_NOTIF | if rng.percent(20) { data(rng) } else { 0 },
        9 => rng.pick(&UNKNOWN_ACTIONS) | data(rng),
        _ => rng.next_u32(),
    }
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// What the accumulator holds, to pick constants to compare it with.
#[derive(Clone, Copy)]
enum Holds {
    Nr,
    Arch,
    Word,
    IpLo,
    IpHi,
    Other,
}

fn constant(rng: &mut Rng, ctx: &Ctx, holds: Holds) -> u32 {
    match holds {
        Holds::Nr if rng.percent(80) => {
            let nr = rng.pick(&ctx.nrs);
            if rng.percent(85) {
                nr
            } else {
                nr.wrapping_add(rng.below(3) as u32).wrapping_sub(1)
            }
        }
        Holds::Arch if rng.percent(85) => {
            if rng.percent(85) {
                AUDIT_ARCH_X86_64
            } else {
                AUDIT_ARCH_I386
            }
        }
        Holds::Word if rng.percent(60) => rng.pick(&ctx.words),
        Holds::IpLo if rng.percent(70) => (ctx.ip as u32).wrapping_add(rng.below(5) as u32).wrapping_sub(2),
        Holds::IpHi if rng.percent(70) => (ctx.ip >> 32) as u32,
        _ => {
            if rng.percent(30) {
                rng.pick(&ctx.words)
            } else {
                interesting32(rng)
            }
        }
    }
}

/// A jump offset from `pc` in a program of `len` instructions: at most
/// `len - pc - 2` (the last instruction), capped at `cap`.
fn offset(rng: &mut Rng, pc: usize, len: usize, cap: usize) -> usize {
    let max = (len - pc - 2).min(cap);
    if rng.percent(60) {
        rng.below(max.min(3) as u64 + 1) as usize
    } else {
        rng.below(max as u64 + 1) as usize
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Loads of nr and arch, constant jumps, AND: what the action cache
    /// can evaluate.
    NrOnly,
    Full,
    Long,
}

/// A valid program: forward jumps in range, scratch loads only from
/// cells stored on every path (tracked exactly as the kernel's
/// check_load_and_stores does), a return last.
fn gen_valid(rng: &mut Rng, ctx: &Ctx, style: Style) -> Vec<sock_filter> {
    let len = match style {
        Style::NrOnly => {
            let hi = 4 + rng.below(20);
            rng.range(2, hi) as usize
        }
        Style::Full => {
            let hi = 6 + rng.below(44);
            rng.range(2, hi) as usize
        }
        Style::Long if rng.percent(4) => MAX_INSNS,
        Style::Long => rng.range(200, 700) as usize,
    };
    let mut out = Vec::with_capacity(len);
    let mut masks = vec![0xffffu16; len];
    let mut memvalid: u16 = 0;
    let mut holds = Holds::Other;
    for pc in 0..len - 1 {
        memvalid &= masks[pc];
        let weights: &[u32] = match style {
            // ld-abs ld-len ld-imm ld-mem st alu-k alu-x neg tax/txa ja jcond-k jcond-x ret-k ret-a
            Style::NrOnly => &[33, 0, 0, 0, 0, 5, 0, 0, 0, 5, 40, 0, 15, 0],
            _ => &[18, 2, 6, 6, 5, 9, 5, 1, 5, 3, 22, 4, 8, 1],
        };
        let i = match rng.weighted(weights) {
            0 => {
                let k = match style {
                    Style::NrOnly => {
                        if rng.percent(80) {
                            0
                        } else {
                            4
                        }
                    }
                    _ => match rng.weighted(&[35, 10, 7, 5, 43]) {
                        0 => 0,
                        1 => 4,
                        2 => 8,
                        3 => 12,
                        _ => 16 + 4 * rng.below(12) as u32,
                    },
                };
                holds = match k {
                    0 => Holds::Nr,
                    4 => Holds::Arch,
                    8 => Holds::IpLo,
                    12 => Holds::IpHi,
                    _ => Holds::Word,
                };
                insn(LD_W_ABS, 0, 0, k)
            }
            1 => {
                holds = Holds::Other;
                insn(rng.pick(&[LD_W_LEN, LDX_W_LEN]), 0, 0, rng.next_u32())
            }
            2 => {
                let code = rng.pick(&[LD_IMM, LDX_IMM]);
                let k = if code == LD_IMM && rng.percent(40) {
                    action(rng)
                } else if rng.percent(30) {
                    rng.pick(&[0, 31, 32, 33, 63, 64, 0xffff_ffff])
                } else {
                    interesting32(rng)
                };
                if code == LD_IMM {
                    holds = Holds::Other;
                }
                insn(code, 0, 0, k)
            }
            3 if memvalid != 0 => {
                let cells: Vec<u32> = (0..16).filter(|c| memvalid & (1 << c) != 0).collect();
                let code = rng.pick(&[LD_MEM, LDX_MEM]);
                if code == LD_MEM {
                    holds = Holds::Other;
                }
                insn(code, 0, 0, rng.pick(&cells))
            }
            3 | 4 => {
                let k = rng.below(16) as u32;
                memvalid |= 1 << k;
                insn(rng.pick(&[ST, STX]), 0, 0, k)
            }
            5 => {
                let op = if style == Style::NrOnly && rng.percent(90) { 0x50 } else { rng.pick(&ALU_OPS) };
                let k = match op {
                    OP_DIV => {
                        let r = rng.next_u32() | 1;
                        rng.pick(&[1, 2, 3, 7, 0x10000, 0xffff_ffff, r])
                    }
                    OP_LSH | OP_RSH => rng.below(32) as u32,
                    _ => constant(rng, ctx, holds),
                };
                holds = Holds::Other;
                insn(ALU | op, 0, 0, k)
            }
            6 => {
                holds = Holds::Other;
                insn(ALU | X_SRC | rng.pick(&ALU_OPS), 0, 0, rng.next_u32())
            }
            7 => {
                holds = Holds::Other;
                insn(NEG, 0, 0, 0)
            }
            8 => {
                let code = rng.pick(&[TAX, TXA]);
                if code == TXA {
                    holds = Holds::Other;
                }
                insn(code, 0, 0, 0)
            }
            9 => {
                let k = offset(rng, pc, len, usize::MAX) as u32;
                masks[pc + 1 + k as usize] &= memvalid;
                memvalid = 0xffff;
                insn(JA, 0, 0, k)
            }
            10 | 11 => {
                let x = style != Style::NrOnly && rng.percent(15);
                let op = rng.pick(&[JEQ, JEQ, JEQ, JGT, JGE, JSET]);
                let code = if x { op | X_SRC } else { op };
                let jt = offset(rng, pc, len, 255);
                let jf = offset(rng, pc, len, 255);
                masks[pc + 1 + jt] &= memvalid;
                masks[pc + 1 + jf] &= memvalid;
                memvalid = 0xffff;
                let k = if x { rng.next_u32() } else { constant(rng, ctx, holds) };
                insn(code, jt as u8, jf as u8, k)
            }
            12 => insn(RET_K, 0, 0, action(rng)),
            _ => insn(RET_A, 0, 0, rng.next_u32()),
        };
        out.push(i);
    }
    if rng.percent(6) && style != Style::NrOnly {
        out.push(insn(RET_A, 0, 0, 0));
    } else {
        out.push(insn(RET_K, 0, 0, action(rng)));
    }
    out
}

/// Codes near valid ones that seccomp rejects, and a few valid ones.
const ODD_CODES: [u16; 26] = [
    0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x94, 0x9c, 0x0e, 0x21, 0x22, 0x62, 0x8c, 0x0f, 0x55, 0x65, 0x75, 0xc4, 0xd4,
    0xb4, 0xe4, 0x1e, 0x26, 0x81, 0x87, 0xa4,
];

/// Breaks a valid program in one way (which may leave it valid).
fn mutate(rng: &mut Rng, f: &mut Filter) {
    let n = f.insns.len();
    let at = rng.below(n as u64) as usize;
    let remaining = n - at - 1;
    f.label = match rng.below(19) {
        0 | 1 => {
            f.insns[at].code = if rng.percent(60) { rng.pick(&ODD_CODES) } else { rng.next_u32() as u16 };
            "bad-code"
        }
        2 => {
            let r = rng.next_u32();
            let k = rng.pick(&[1, 2, 3, 17, 62, 64, 68, 0x1000, 0xffff_f000, 0xffff_f004, r]);
            f.insns[at] = insn(LD_W_ABS, 0, 0, k);
            "bad-ld-abs"
        }
        3 => {
            f.insns[at] = insn(ALU | OP_DIV, 0, 0, 0);
            "div-k-0"
        }
        4 => {
            f.insns[at] = insn(ALU | rng.pick(&[OP_LSH, OP_RSH]), 0, 0, rng.range(32, 300) as u32);
            "shift-k-32"
        }
        5 => {
            f.insns[at] = insn(rng.pick(&[ST, STX, LD_MEM, LDX_MEM]), 0, 0, rng.range(16, 40) as u32);
            "mem-k-16"
        }
        6 => {
            f.insns[0] = insn(rng.pick(&[LD_MEM, LDX_MEM]), 0, 0, rng.below(16) as u32);
            "ld-mem-unset"
        }
        7 => {
            f.insns[at] = insn(JA, 0, 0, remaining as u32 + rng.below(3) as u32);
            "ja-range"
        }
        8 => {
            let far = (remaining + rng.below(3) as usize).min(255) as u8;
            f.insns[at] = insn(JEQ, far, rng.below(2) as u8, 0);
            "jcond-range"
        }
        9 => {
            f.insns[n - 1] = insn(rng.pick(&[LD_IMM, TAX, ALU]), 0, 0, 7);
            "no-ret"
        }
        10 => {
            f.len = rng.pick(&[0, 4097, 65535]);
            "bad-len"
        }
        11 => {
            f.len = rng.range(1, n as u64) as u16;
            "short-len"
        }
        12 => {
            f.fprog = rng.pick(&[Ptr::Null, Ptr::Unmapped, Ptr::Kernel]);
            "bad-fprog"
        }
        13 => {
            f.filter = rng.pick(&[Ptr::Null, Ptr::Unmapped, Ptr::Kernel, Ptr::Partial]);
            "bad-filter"
        }
        14 => {
            f.fprog = Ptr::Odd;
            f.filter = rng.pick(&[Ptr::Ok, Ptr::Odd]);
            "odd-ptrs"
        }
        15 => {
            f.insns[at] = insn(RET_K | X_SRC, 0, 0, 0);
            "ret-x"
        }
        16 => {
            f.insns[at] = insn(0xb1, 0, 0, rng.below(64) as u32);
            "ldx-msh"
        }
        17 => {
            f.insns[at].code = rng.pick(&[0x94, 0x9c]);
            f.insns[at].k |= 1;
            "mod"
        }
        _ => {
            for i in f.insns.iter_mut() {
                *i = insn(rng.next_u32() as u16, rng.next_u32() as u8, rng.next_u32() as u8, rng.next_u32());
            }
            "garbage"
        }
    };
}

/// Whether the program can return `SECCOMP_RET_USER_NOTIF`: a listener on
/// it could then block a call forever.
fn may_notify(insns: &[sock_filter]) -> bool {
    insns.iter().any(|i| i.code == RET_A || (i.code == RET_K && i.k & RET_ACTION_FULL == RET_USER_NOTIF))
}

fn gen_flags(rng: &mut Rng, listener_ok: bool) -> u32 {
    let f = match rng.weighted(&[52, 10, 5, 3, 4, 2, 2, 2, 3, 1, 1, 1, 2, 3]) {
        0 => 0,
        1 => FLAG_LOG,
        2 => FLAG_SPEC_ALLOW,
        3 => FLAG_LOG | FLAG_SPEC_ALLOW,
        4 => FLAG_TSYNC,
        5 => FLAG_TSYNC | FLAG_LOG,
        6 => FLAG_TSYNC_ESRCH,
        7 => FLAG_TSYNC | FLAG_TSYNC_ESRCH,
        8 => FLAG_NEW_LISTENER,
        9 => FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV,
        10 => FLAG_TSYNC | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH,
        11 => FLAG_TSYNC | FLAG_NEW_LISTENER,
        12 => FLAG_WAIT_KILLABLE_RECV,
        _ => (1u32 << rng.range(6, 31)) | (rng.below(8) as u32),
    };
    // A listener is created only if the rest of the install succeeds,
    // which the flags checks decide first for TSYNC without ESRCH.
    let creates_listener =
        f & FLAG_NEW_LISTENER != 0 && f & !FLAG_MASK == 0 && !(f & FLAG_TSYNC != 0 && f & FLAG_TSYNC_ESRCH == 0);
    if creates_listener && !listener_ok {
        0
    } else {
        f
    }
}

fn bad_fd(rng: &mut Rng) -> u64 {
    let low = match rng.below(4) {
        0 => 0xffff_ffff,
        1 => 0x8000_0000 | rng.next_u32() as u64,
        _ => rng.range(0x10000, 0x7fff_ffff),
    };
    let high = if rng.percent(30) { rng.next_u64() & !0xffff_ffff } else { 0 };
    high | low
}

/// Upper-half garbage for an argument the kernel reads as 32 bits.
fn garbage(rng: &mut Rng) -> u64 {
    if rng.percent(10) {
        rng.next_u64() << 32
    } else {
        0
    }
}

fn gen_call(rng: &mut Rng, ip: u64) -> (Call, Step) {
    let mut args = [0u64; 6];
    for a in args.iter_mut() {
        *a = interesting64(rng, ip);
    }
    let weights = [8, 5, 5, 6, 16, 4, 4, 8, 2, 1, 5, 2, 2, 2, 3, 3, 4, 2, 4];
    let (call, nr) = match rng.weighted(&weights) {
        0 => (Call::Getpid, NR_GETPID),
        1 => (Call::Getppid, NR_GETPPID),
        2 => (Call::Gettid, NR_GETTID),
        3 => {
            let nr = rng.pick(&[NR_GETUID, NR_GETEUID, NR_GETGID, NR_GETEGID]);
            (Call::Id(nr), nr)
        }
        4 => {
            let nr = rng.pick(&[NR_CLOSE, NR_DUP, NR_LSEEK, NR_FCNTL, NR_READ, NR_WRITE, NR_IOCTL, NR_FSTAT]);
            args[0] = bad_fd(rng);
            (Call::BadFd(nr), nr)
        }
        5 => (Call::SchedYield, NR_SCHED_YIELD),
        6 => (Call::Umask, NR_UMASK),
        7 => {
            let nr = match rng.below(6) {
                0 => rng.range(480, 511),
                1 => rng.range(512, 547),
                2 => rng.range(1000, 1100),
                3 => 0xffff_ffff,
                4 => {
                    // An x32 number (__X32_SYSCALL_BIT) past the x32 table
                    // (X32_NR_syscalls, 548): filters see the bit, and no
                    // system call runs, with or without X86_X32_ABI.
                    let r = 0x4000_0000 | rng.range(548, 1000);
                    rng.pick(&[0x7fff_ffff, 0x8000_0000, 0xffff_fffe, r])
                }
                _ => u64::MAX,
            };
            (Call::NoSys, nr)
        }
        8 => (Call::Probe(NR_URETPROBE), NR_URETPROBE),
        9 => (Call::Probe(NR_UPROBE), NR_UPROBE),
        10 => {
            args[0] = PR_GET_SECCOMP | garbage(rng);
            (Call::PrctlGetSeccomp, NR_PRCTL)
        }
        11 => {
            args[0] = PR_GET_NO_NEW_PRIVS | garbage(rng);
            if rng.percent(70) {
                args[1..5].fill(0);
            }
            (Call::PrctlGetNnp, NR_PRCTL)
        }
        12 => {
            args[0] = PR_GET_DUMPABLE | garbage(rng);
            (Call::PrctlGetDumpable, NR_PRCTL)
        }
        13 => {
            args[0] = 0xffff_ffff | garbage(rng);
            (Call::Personality, NR_PERSONALITY)
        }
        14 => {
            args[0] = garbage(rng)
                | if rng.percent(50) { rng.range(0x40_0000, 0x7fff_ffff) } else { rng.range(0x8000_0000, 0xffff_ffff) };
            (Call::Getpgid, NR_GETPGID)
        }
        15 => {
            args[0] = garbage(rng)
                | match rng.below(3) {
                    0 => 0,
                    1 => rng.range(0x40_0000, 0x7fff_ffff),
                    _ => rng.range(0x8000_0000, 0xffff_ffff),
                };
            (Call::SchedGetscheduler, NR_SCHED_GETSCHEDULER)
        }
        16 => {
            args[0] = 2 | garbage(rng);
            args[1] = if rng.percent(80) { garbage(rng) } else { rng.next_u64() | 1 };
            args[2] = if rng.percent(15) {
                0
            } else {
                // SAFETY: Only the address of an arena field is taken.
                field_addr(unsafe { addr_of!((*arena()).action_words[rng.below(8) as usize]) })
            };
            (Call::ActionAvail, NR_SECCOMP)
        }
        17 => {
            args[0] = 3 | garbage(rng);
            args[1] = if rng.percent(80) { garbage(rng) } else { rng.next_u64() | 1 };
            // SAFETY: Only the address of an arena field is taken.
            args[2] = if rng.percent(20) { 0 } else { field_addr(unsafe { addr_of!((*arena()).sizes) }) };
            (Call::NotifSizes, NR_SECCOMP)
        }
        _ => {
            match rng.below(5) {
                0 | 1 => {
                    let r = rng.next_u32().max(4) as u64;
                    args[0] = garbage(rng) | rng.pick(&[4, 5, 0x100, 0xffff_ffff, r]);
                }
                2 => {
                    args[0] = garbage(rng);
                    if rng.percent(50) {
                        args[1] |= 1;
                    } else {
                        args[2] |= 1;
                    }
                }
                3 => {
                    args[0] = 1 | garbage(rng);
                    args[1] = (1u64 << rng.range(6, 31)) | garbage(rng);
                }
                _ => {
                    args[0] = 1 | garbage(rng);
                    args[1] = garbage(rng) | rng.pick(&[0, FLAG_LOG as u64]);
                    args[2] = rng.pick(&[0, 0x1000, 0xffff_ffff_8100_0000]);
                }
            }
            (Call::SeccompBad, NR_SECCOMP)
        }
    };
    let nr = if matches!(call, Call::NoSys) { nr } else { nr | garbage(rng) };
    (call, Step { nr, args })
}

fn gen_child(seed: u64, index: u64, ip: u64) -> Child {
    let mut rng = Rng::stream(seed, index);
    let threaded = rng.percent(20);
    let nnp = rng.percent(90);
    let sync = !threaded && index % CACHE_EVERY == 0;
    let nfilters = rng.weighted(&[2, 30, 28, 20, 20]);
    let mut steps: Vec<(StepKind, Step)> = Vec::new();
    let calls: Vec<(Call, Step)> = (0..CALLS).map(|_| gen_call(&mut rng, ip)).collect();
    // Filters compare with the numbers and arguments of every step; the
    // install steps' own numbers and pointers are known in advance.
    let mut ctx =
        Ctx { nrs: vec![NR_SECCOMP as u32, NR_PRCTL as u32, NR_EXIT_GROUP as u32, NR_EXIT as u32], words: vec![], ip };
    for (_, s) in &calls {
        ctx.nrs.push(s.nr as u32);
        for a in s.args {
            ctx.words.push(a as u32);
            ctx.words.push((a >> 32) as u32);
        }
    }
    let mut filters = Vec::new();
    for i in 0..nfilters {
        let style = match rng.weighted(&[35, 57, 8]) {
            0 => Style::NrOnly,
            1 => Style::Full,
            _ => Style::Long,
        };
        let mut insns = gen_valid(&mut rng, &ctx, style);
        // Half the programs let seccomp() and prctl() through first, so
        // that later filters get installed more often.
        if style != Style::Long && rng.percent(50) {
            let nr = if rng.percent(85) { NR_SECCOMP } else { NR_PRCTL };
            let body = insns.len() as u8;
            insns.splice(0..0, [insn(LD_W_ABS, 0, 0, 0), insn(JEQ, body, 0, nr as u32)]);
            insns.push(insn(RET_K, 0, 0, RET_ALLOW));
        }
        let mut f = Filter {
            via_prctl: rng.percent(15),
            flags: 0,
            fprog: Ptr::Ok,
            filter: Ptr::Ok,
            len: insns.len() as u16,
            insns,
            label: match style {
                Style::NrOnly => "nr-only",
                Style::Full => "full",
                Style::Long => "long",
            },
        };
        if rng.percent(15) {
            mutate(&mut rng, &mut f);
        } else if rng.percent(3) {
            f.fprog = Ptr::Odd;
            f.filter = Ptr::Odd;
        }
        if !f.via_prctl {
            f.flags = gen_flags(&mut rng, !may_notify(&f.insns));
        }
        let fprog = match f.fprog {
            Ptr::Null => 0,
            Ptr::Unmapped => 0x1000 * rng.range(1, 15),
            Ptr::Kernel => 0xffff_8880_0000_0000 | (rng.below(1 << 20) << 4),
            // SAFETY: Only the addresses of arena fields are taken.
            Ptr::Odd => field_addr(unsafe { addr_of!((*arena()).fprog_odd[i]) }) + 1,
            // SAFETY: Likewise.
            _ => field_addr(unsafe { addr_of!((*arena()).fprogs[i]) }),
        };
        let step = if f.via_prctl {
            let mut args = [PR_SET_SECCOMP | garbage(&mut rng), 2, fprog, 0, 0, 0];
            args[3] = interesting64(&mut rng, ip);
            args[4] = interesting64(&mut rng, ip);
            Step { nr: NR_PRCTL, args }
        } else {
            let mut args = [1 | garbage(&mut rng), f.flags as u64 | garbage(&mut rng), fprog, 0, 0, 0];
            args[3] = interesting64(&mut rng, ip);
            Step { nr: NR_SECCOMP, args }
        };
        ctx.words.extend([fprog as u32, (fprog >> 32) as u32]);
        steps.push((StepKind::Install(i), step));
        filters.push(f);
    }
    // Now and then strict mode, or prctl() with a mode that is neither.
    let r = rng.below(100);
    if r < 3 {
        let at = rng.below(steps.len() as u64 + 1) as usize;
        let via_prctl = rng.percent(40);
        let step = if via_prctl {
            Step { nr: NR_PRCTL, args: [PR_SET_SECCOMP, 1, interesting64(&mut rng, ip), 0, 0, 0] }
        } else {
            Step { nr: NR_SECCOMP, args: [garbage(&mut rng), garbage(&mut rng), 0, 0, 0, 0] }
        };
        steps.insert(at, (StepKind::Strict(via_prctl), step));
    } else if r < 5 {
        let mode = rng.pick(&[0, 3, 4, 0x1_0000_0001, 0x1_0000_0002, u64::MAX]);
        let at = rng.below(steps.len() as u64 + 1) as usize;
        steps.insert(at, (StepKind::PrctlBadMode, Step { nr: NR_PRCTL, args: [PR_SET_SECCOMP, mode, 0, 0, 0, 0] }));
    }
    let mut action_words = [0u32; 8];
    for w in action_words.iter_mut() {
        *w = if rng.percent(70) { rng.pick(&ACTIONS) } else { action(&mut rng) };
    }
    for (call, step) in calls {
        steps.push((StepKind::Call(call), step));
    }
    let exit_nr = if threaded { NR_EXIT } else { NR_EXIT_GROUP };
    steps.push((StepKind::Exit, Step { nr: exit_nr, args: [0; 6] }));
    // Programs are generated before the calls' constants are final for the
    // install pointers; that only makes those comparisons rarer.
    Child { index, threaded, nnp, sync, filters, steps, action_words }
}

/// Writes the child's steps and programs to the arena.
fn load_arena(child: &Child) {
    let a = arena();
    // SAFETY: The arena is mapped and no child runs while it is loaded;
    // every write stays inside its field.
    unsafe {
        std::ptr::write_bytes(addr_of_mut!((*a).main_slot).cast::<u8>(), 0, std::mem::size_of::<Slot>());
        std::ptr::write_bytes(addr_of_mut!((*a).slots).cast::<u8>(), 0, std::mem::size_of::<[Slot; MAX_STEPS]>());
        (*a).cur = 0;
        (*a).phase = 0;
        (*a).go = 0;
        (*a).main_phase = 0;
        (*a).stuck = 0;
        (*a).worker_tid = 0;
        (*a).nsteps = child.steps.len() as u32;
        (*a).sync_at = if child.sync {
            child.steps.iter().position(|(k, _)| matches!(k, StepKind::Call(_))).unwrap() as u32
        } else {
            u32::MAX
        };
        for (j, (_, s)) in child.steps.iter().enumerate() {
            (*a).steps[j] = *s;
        }
        (*a).action_words = child.action_words;
        (*a).sizes = [0; 8];
        for (i, f) in child.filters.iter().enumerate() {
            let base = addr_of_mut!((*a).insns[i]).cast::<u8>();
            let at = if f.filter == Ptr::Odd { base.add(3) } else { base };
            for (n, insn) in f.insns.iter().enumerate() {
                std::ptr::write_unaligned(at.cast::<sock_filter>().add(n), *insn);
            }
            let filter = match f.filter {
                Ptr::Null => 0,
                Ptr::Unmapped => 0x2000,
                Ptr::Kernel => 0xffff_ffff_8100_0000,
                Ptr::Partial => (GUARD_ADDR - 8 * f.len.max(1) as usize + 4) as u64,
                _ => at as u64,
            };
            let fprog = Fprog { len: f.len, pad: [0; 3], filter };
            (*a).fprogs[i] = fprog;
            std::ptr::write_unaligned(addr_of_mut!((*a).fprog_odd[i]).cast::<u8>().add(1).cast::<Fprog>(), fprog);
        }
    }
}

// ---------------------------------------------------------------------
// The model: what upstream 6.12 does with each step.

/// What a filter reads for a call: `struct seccomp_data`.
type Data = SeccompData;

/// The instructions of a filter as the kernel copies them.
fn engine_insns(insns: &[sock_filter]) -> Vec<SockFilter> {
    insns.iter().map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k)).collect()
}

/// A checked program ready to run (the engine's translation).
struct Program(DecodedProgram<Vec<Insn>>);

impl Program {
    /// `insns` decoded, if the engine's checker accepts them (every
    /// filter the model runs was installed, so checked).
    fn new(insns: &[sock_filter]) -> Option<Self> {
        let raw = engine_insns(insns);
        let checked = seccomp_engine::check(&raw).ok()?;
        checked.decode_into(vec![Insn::default(); raw.len()]).ok().map(Self)
    }

    /// The program's return value for `d`, as the converted eBPF program
    /// computes it; a filter that does not check (which the model never
    /// runs) gives a value no action has.
    fn run(program: Option<&Self>, d: &Data) -> u32 {
        program.map_or(0xdead_0000, |p| p.0.run(d))
    }
}

/// Features of the filters a call ran, for the coverage counts: what
/// they contain, not what the call executed.
fn features(insns: &[sock_filter]) -> impl Iterator<Item = &'static str> + '_ {
    const FEATURES: [(fn(&sock_filter) -> bool, &str); 6] = [
        (|i| i.code == ALU | X_SRC | OP_DIV, "div-by-x"),
        (|i| i.code == ALU | X_SRC | OP_LSH || i.code == ALU | X_SRC | OP_RSH, "shift-by-x"),
        (|i| i.code == LD_MEM, "scratch-load"),
        (|i| i.code == RET_A, "ret-a"),
        (|i| i.code == LD_W_ABS && (i.k == 8 || i.k == 12), "ip-load"),
        (|i| i.code == LD_W_ABS && i.k >= 16 && i.k % 8 == 4, "arg-hi-load"),
    ];
    FEATURES.into_iter().filter(|(has, _)| insns.iter().any(has)).map(|(_, name)| name)
}

/// seccomp_is_const_allow: the action cache's emulation.
fn const_allow(insns: &[sock_filter], nr: i32, exempt: &[i32]) -> bool {
    if exempt.contains(&nr) {
        return true;
    }
    let mut reg = 0u32;
    let mut pc = 0usize;
    while pc < insns.len() {
        let i = insns[pc];
        match i.code {
            LD_W_ABS => match i.k {
                0 => reg = nr as u32,
                4 => reg = AUDIT_ARCH_X86_64,
                _ => return false,
            },
            RET_K => return i.k == RET_ALLOW,
            JA => pc += i.k as usize,
            JEQ | JGE | JGT | JSET => {
                let t = match i.code {
                    JEQ => reg == i.k,
                    JGE => reg >= i.k,
                    JGT => reg > i.k,
                    _ => reg & i.k != 0,
                };
                pc += if t { i.jt as usize } else { i.jf as usize };
            }
            c if c == ALU | 0x50 => reg &= i.k,
            _ => return false,
        }
        pc += 1;
    }
    false
}

/// A step's outcome, observed or predicted.
#[derive(Clone, PartialEq, Eq, Debug)]
enum Obs {
    NotReached,
    /// Never came back: the process or the thread ended there.
    Died,
    Ret(String),
    Trap {
        signo: i32,
        code: i32,
        errno: i32,
        syscall: i32,
        arch: u32,
        at_ip: bool,
    },
}

impl std::fmt::Display for Obs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Obs::NotReached => write!(f, "not-reached"),
            Obs::Died => write!(f, "died"),
            Obs::Ret(s) => write!(f, "{s}"),
            Obs::Trap { signo, code, errno, syscall, arch, at_ip } => write!(
                f,
                "TRAP(signo={signo},code={code},errno={errno},nr={syscall},arch={arch:#x},addr={})",
                if *at_ip { "ip" } else { "other" }
            ),
        }
    }
}

/// What the running process knows that the model needs.
struct Env {
    ip: u64,
    uid: [i64; 4],
    umask: u32,
    persona: i64,
    cap_sys_admin: bool,
    /// Lowest free file descriptor in a child: a listener's number.
    free_fd: i64,
    /// Numbers that bypass the filters through the action cache.
    exempt: Vec<i32>,
    /// uretprobe/uprobe without filters: a return value, or the signal
    /// that killed the probe process.
    probe: [(u64, Result<i64, i32>); 2],
}

/// The model's verdict on one system call.
enum Verdict {
    /// The call runs.
    Runs,
    Ret(i64),
    Trap(u32),
    /// SIGSYS for the thread only (KILL_THREAD with other threads alive).
    KillThread,
    KillProcess,
    /// Strict mode: do_exit(SIGKILL) of the thread.
    StrictKill,
}

#[derive(Clone)]
struct ModelFilter {
    index: usize,
    listener: bool,
}

struct Model<'a> {
    child: &'a Child,
    env: &'a Env,
    /// The child's filters decoded, by index (`None`: they do not check).
    programs: Vec<Option<Program>>,
    /// 0 disabled, 1 strict, 2 filter: the stepping thread's mode.
    mode: u8,
    filters: Vec<ModelFilter>,
    /// Filters the main thread of a threaded child got through TSYNC.
    main_filters: Vec<ModelFilter>,
    umask: u32,
}

impl Model<'_> {
    fn insns(&self, f: &ModelFilter) -> &[sock_filter] {
        let spec = &self.child.filters[f.index];
        &spec.insns[..spec.len as usize]
    }

    /// The action the chain `filters` returns for a call, and its name for
    /// the counts.
    fn verdict(&self, filters: &[ModelFilter], mode: u8, step: &Step, others_alive: bool) -> (Verdict, String) {
        let nr = step.nr as i32;
        if mode == 1 {
            let allowed = [NR_READ, NR_WRITE, NR_EXIT, NR_RT_SIGRETURN].contains(&(nr as u32 as u64))
                || self.env.exempt.contains(&nr);
            return if allowed {
                (Verdict::Runs, "strict-allowed".into())
            } else {
                (Verdict::StrictKill, "strict-kill".into())
            };
        }
        if filters.is_empty() {
            return (Verdict::Runs, "no-filter".into());
        }
        if self.env.exempt.contains(&nr) {
            return (Verdict::Runs, "cache-bypass".into());
        }
        let d = Data { nr, arch: AUDIT_ARCH_X86_64, instruction_pointer: self.env.ip, args: step.args };
        let mut ret = RET_ALLOW;
        let mut matched: Option<&ModelFilter> = None;
        for f in filters.iter().rev() {
            let r = Program::run(self.programs[f.index].as_ref(), &d);
            if ((r & RET_ACTION_FULL) as i32) < ((ret & RET_ACTION_FULL) as i32) {
                ret = r;
                matched = Some(f);
            }
        }
        let data = ret & 0xffff;
        match ret & RET_ACTION_FULL {
            RET_ERRNO => {
                (Verdict::Ret(-(data.min(4095) as i64)), if data > 4095 { "ERRNO>4095" } else { "ERRNO" }.into())
            }
            RET_TRAP => (Verdict::Trap(data), "TRAP".into()),
            RET_TRACE => (Verdict::Ret(-ENOSYS), "TRACE".into()),
            RET_USER_NOTIF => {
                // Listener filters never return USER_NOTIF (may_notify).
                let _ = matched.map(|m| m.listener);
                (Verdict::Ret(-ENOSYS), "USER_NOTIF".into())
            }
            RET_LOG => (Verdict::Runs, "LOG".into()),
            RET_ALLOW => (Verdict::Runs, "ALLOW".into()),
            RET_KILL_THREAD if others_alive => (Verdict::KillThread, "KILL_THREAD".into()),
            RET_KILL_THREAD => (Verdict::KillProcess, "KILL_THREAD".into()),
            RET_KILL_PROCESS => (Verdict::KillProcess, "KILL_PROCESS".into()),
            _ => (Verdict::KillProcess, "unknown-action".into()),
        }
    }

    /// An install that runs: its return value; attaches the filter.
    fn install(&mut self, index: usize, step: &Step) -> i64 {
        let f = &self.child.filters[index];
        let flags = if f.via_prctl { 0 } else { step.args[1] as u32 };
        if flags & !FLAG_MASK != 0 {
            return -EINVAL;
        }
        let listener = flags & FLAG_NEW_LISTENER != 0;
        if flags & FLAG_TSYNC != 0 && listener && flags & FLAG_TSYNC_ESRCH == 0 {
            return -EINVAL;
        }
        if flags & FLAG_WAIT_KILLABLE_RECV != 0 && !listener {
            return -EINVAL;
        }
        if matches!(f.fprog, Ptr::Null | Ptr::Unmapped | Ptr::Kernel) {
            return -EFAULT;
        }
        if f.len == 0 || f.len as usize > MAX_INSNS {
            return -EINVAL;
        }
        if !self.child.nnp && !self.env.cap_sys_admin {
            return -(libc::EACCES as i64);
        }
        match f.filter {
            Ptr::Null => return -EINVAL,
            Ptr::Unmapped | Ptr::Kernel | Ptr::Partial => return -EFAULT,
            _ => {}
        }
        // bpf_check_classic + seccomp_check_filter: the model's program
        // exists exactly when the engine's checker accepts the filter.
        if self.programs[index].is_none() {
            return -EINVAL;
        }
        if self.mode == 1 {
            return -EINVAL;
        }
        if listener && self.filters.iter().any(|f| f.listener) {
            return -(libc::EBUSY as i64);
        }
        let total: usize = fuzzkit::ebpf_len(&f.insns[..f.len as usize])
            + self.filters.iter().map(|g| fuzzkit::ebpf_len(self.insns(g)) + 4).sum::<usize>();
        if total > MAX_PATH_INSNS {
            return -(libc::ENOMEM as i64);
        }
        self.filters.push(ModelFilter { index, listener });
        self.mode = 2;
        if flags & FLAG_TSYNC != 0 && self.child.threaded {
            self.main_filters = self.filters.clone();
        }
        if listener {
            self.env.free_fd
        } else {
            0
        }
    }

    /// A call that runs: its canonical result, or the signal it kills the
    /// process with.
    fn real(&mut self, kind: StepKind, step: &Step) -> Result<String, i32> {
        let a = step.args;
        let r = match kind {
            StepKind::Install(i) => self.install(i, step),
            StepKind::Strict(_) => {
                if self.mode == 2 {
                    -EINVAL
                } else {
                    self.mode = 1;
                    0
                }
            }
            StepKind::PrctlBadMode => -EINVAL,
            StepKind::Exit => 0,
            StepKind::Call(call) => match call {
                Call::Getpid => return Ok("PID".into()),
                Call::Getppid => return Ok("PPID".into()),
                Call::Gettid => return Ok("TID".into()),
                Call::Id(nr) => {
                    self.env.uid[[NR_GETUID, NR_GETEUID, NR_GETGID, NR_GETEGID].iter().position(|&n| n == nr).unwrap()]
                }
                Call::BadFd(_) => -(libc::EBADF as i64),
                Call::SchedYield => 0,
                Call::Umask => {
                    let old = self.umask;
                    self.umask = a[0] as u32 & 0o777;
                    old as i64
                }
                Call::NoSys => -ENOSYS,
                Call::Probe(nr) => self.env.probe.iter().find(|p| p.0 == nr).unwrap().1?,
                Call::PrctlGetSeccomp => self.mode as i64,
                Call::PrctlGetNnp => {
                    if a[1..5].iter().any(|&v| v != 0) {
                        -EINVAL
                    } else {
                        self.child.nnp as i64
                    }
                }
                Call::PrctlGetDumpable => 0,
                Call::Personality => self.env.persona,
                Call::Getpgid => -(libc::ESRCH as i64),
                Call::SchedGetscheduler => match a[0] as i32 {
                    0 => 0,
                    p if p < 0 => -EINVAL,
                    _ => -(libc::ESRCH as i64),
                },
                Call::ActionAvail => {
                    if a[1] as u32 != 0 {
                        -EINVAL
                    } else if a[2] == 0 {
                        -EFAULT
                    } else {
                        let i = (a[2] as usize
                            - field_addr(
                                // SAFETY: Only the address of an arena field is taken.
                                unsafe { addr_of!((*arena()).action_words) },
                            ) as usize)
                            / 4;
                        if ACTIONS.contains(&self.child.action_words[i]) {
                            0
                        } else {
                            -(libc::EOPNOTSUPP as i64)
                        }
                    }
                }
                Call::NotifSizes => {
                    if a[1] as u32 != 0 {
                        -EINVAL
                    } else if a[2] == 0 {
                        -EFAULT
                    } else {
                        0
                    }
                }
                Call::SeccompBad => match a[0] as u32 {
                    0 => -EINVAL,
                    1 if a[1] as u32 & !FLAG_MASK != 0 => -EINVAL,
                    1 => -EFAULT,
                    _ => -EINVAL,
                },
            },
        };
        Ok(ret_text(r))
    }
}

/// A child's predicted or observed outcome.
#[derive(PartialEq, Eq)]
struct Outcome {
    steps: Vec<Obs>,
    /// The main thread's exit call, threaded children only.
    main: Option<Obs>,
    end: String,
}

/// Predicts the child's outcome; also returns the action names per step
/// and the filters installed when the calls begin (None if never).
fn predict(child: &Child, env: &Env) -> (Outcome, Vec<String>, Option<Vec<usize>>) {
    // A filter whose length is not its array's is never installed.
    let programs = child.filters.iter().map(|f| f.insns.get(..f.len as usize).and_then(Program::new)).collect();
    let mut m = Model { child, env, programs, mode: 0, filters: vec![], main_filters: vec![], umask: env.umask };
    let n = child.steps.len();
    let mut steps = vec![Obs::NotReached; n];
    let mut actions = vec!["not-reached".to_string(); n];
    let trap = |data: u32, step: &Step| Obs::Trap {
        signo: libc::SIGSYS,
        code: SYS_SECCOMP,
        errno: data as i32,
        syscall: step.nr as i32,
        arch: AUDIT_ARCH_X86_64,
        at_ip: true,
    };
    // How the stepping thread ended: None = the process died with the
    // signal in `end`; Some(true) = the worker thread ended (the main
    // thread then exits); Some(false) = steps ran to the end.
    let mut end: Option<String> = None;
    let mut thread_gone = false;
    let mut at_calls = None;
    for (j, (kind, step)) in child.steps.iter().enumerate() {
        if matches!(kind, StepKind::Call(_)) && at_calls.is_none() {
            at_calls = Some(m.filters.iter().map(|f| f.index).collect());
        }
        let (verdict, name) = m.verdict(&m.filters.clone(), m.mode, step, child.threaded);
        actions[j] = name;
        let last = *kind == StepKind::Exit;
        match verdict {
            Verdict::Runs if last => {
                steps[j] = Obs::Died;
                if child.threaded {
                    thread_gone = true;
                } else {
                    end = Some("exit(0)".into());
                }
                break;
            }
            Verdict::Runs => match m.real(*kind, step) {
                Ok(r) => steps[j] = Obs::Ret(r),
                Err(sig) => {
                    steps[j] = Obs::Died;
                    end = Some(fuzzkit::signal_name(sig));
                    break;
                }
            },
            Verdict::Ret(r) => steps[j] = Obs::Ret(ret_text(r)),
            Verdict::Trap(data) => steps[j] = trap(data, step),
            Verdict::KillThread | Verdict::StrictKill if child.threaded => {
                steps[j] = Obs::Died;
                thread_gone = true;
                break;
            }
            Verdict::StrictKill => {
                steps[j] = Obs::Died;
                end = Some("SIGKILL".into());
                break;
            }
            Verdict::KillThread | Verdict::KillProcess => {
                steps[j] = Obs::Died;
                end = Some("SIGSYS".into());
                break;
            }
        }
    }
    // Steps ran out: the exit call returned or trapped; stuck, killed.
    if end.is_none() && !thread_gone {
        end = Some("exit-failed".into());
    }
    let mut main = None;
    if child.threaded && end.is_none() {
        let step = Step { nr: NR_EXIT_GROUP, args: [0; 6] };
        let mode = if m.main_filters.is_empty() { 0 } else { 2 };
        let (verdict, _) = m.verdict(&m.main_filters.clone(), mode, &step, false);
        let (obs, e) = match verdict {
            Verdict::Runs => (Obs::Died, "exit(0)"),
            Verdict::Ret(r) => (Obs::Ret(ret_text(r)), "exit-failed"),
            Verdict::Trap(data) => (trap(data, &step), "exit-failed"),
            Verdict::StrictKill => (Obs::Died, "SIGKILL"),
            Verdict::KillThread | Verdict::KillProcess => (Obs::Died, "SIGSYS"),
        };
        main = Some(obs);
        end = Some(e.into());
    } else if child.threaded {
        main = Some(Obs::NotReached);
    }
    (Outcome { steps, main, end: end.unwrap() }, actions, at_calls)
}

/// The action cache the model expects once the installs are done (the
/// filters installed then, oldest first): allowed numbers below
/// `nr_count`; empty without filters.
fn predict_cache(child: &Child, installed: &[usize], env: &Env, nr_count: usize) -> Vec<bool> {
    if installed.is_empty() {
        return vec![];
    }
    (0..nr_count)
        .map(|nr| {
            installed.iter().all(|&i| {
                let f = &child.filters[i];
                const_allow(&f.insns[..f.len as usize], nr as i32, &env.exempt)
            })
        })
        .collect()
}

/// For a number the kernel's action cache allows but upstream's does
/// not: looks for `seccomp_data` with that number on which the chain
/// returns something else than ALLOW (the kernel would then skip filters
/// that do not allow the call).  Samples argument and instruction pointer
/// words among the programs' constants, their neighbours and the child's
/// own argument words; returns the data and the chain's result if found.
fn cache_counterexample(child: &Child, installed: &[usize], nr: usize) -> Option<(Data, u32)> {
    let progs: Vec<&[sock_filter]> =
        installed.iter().map(|&i| &child.filters[i].insns[..child.filters[i].len as usize]).collect();
    let mut words = vec![0u32, 1, u32::MAX, 0x8000_0000, 0x7fff_ffff];
    for p in &progs {
        for i in p.iter() {
            words.extend([i.k, i.k.wrapping_add(1), i.k.wrapping_sub(1), !i.k]);
        }
    }
    for (_, step) in &child.steps {
        for a in step.args {
            words.extend([a as u32, (a >> 32) as u32]);
        }
    }
    let programs: Vec<Option<Program>> = progs.iter().map(|p| Program::new(p)).collect();
    let mut rng = Rng::stream(child.index, nr as u64 ^ 0xcac4e);
    for _ in 0..400 {
        let mut q = || (rng.pick(&words) as u64) | (rng.pick(&words) as u64) << 32;
        let d = Data {
            nr: nr as i32,
            arch: AUDIT_ARCH_X86_64,
            instruction_pointer: q(),
            args: [q(), q(), q(), q(), q(), q()],
        };
        let mut ret = RET_ALLOW;
        for p in programs.iter().rev() {
            let r = Program::run(p.as_ref(), &d);
            if ((r & RET_ACTION_FULL) as i32) < ((ret & RET_ACTION_FULL) as i32) {
                ret = r;
            }
        }
        if ret & RET_ACTION_FULL != RET_ALLOW {
            return Some((d, ret));
        }
    }
    None
}

fn ranges(bits: &[bool]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < bits.len() {
        if bits[i] {
            let start = i;
            while i + 1 < bits.len() && bits[i + 1] {
                i += 1;
            }
            let _ = write!(s, "{}{}", if s.is_empty() { "" } else { "," }, start);
            if i > start {
                let _ = write!(s, "-{i}");
            }
        }
        i += 1;
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

// ---------------------------------------------------------------------
// Running a child and describing it.

/// What the parent saw of one child.
struct Seen {
    outcome: Outcome,
    /// `(syscall count, ALLOW bits)` from /proc, if read.
    cache: Option<(usize, Vec<bool>)>,
}

fn read_cache(pid: libc::pid_t) -> Option<(usize, Vec<bool>)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/seccomp_cache")).ok()?;
    let mut bits = vec![];
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("x86_64") {
            continue;
        }
        let nr: usize = w.next()?.parse().ok()?;
        if nr != bits.len() {
            return None;
        }
        bits.push(w.next() == Some("ALLOW"));
    }
    Some((bits.len(), bits))
}

fn run_child(child: &Child, stack: *mut u8, stack_len: usize) -> (Seen, libc::pid_t, i32) {
    load_arena(child);
    let (threaded, nnp) = (child.threaded, child.nnp);
    let stack_addr = stack as usize;
    let pid = seccomp_samples::fork_with(move || child_main(threaded, nnp, stack_addr as *mut u8, stack_len))
        .unwrap_or_else(|e| {
            println!("seccomp-diff: FAIL: fork: {e}");
            std::process::exit(1)
        });
    let a = arena();
    let mut status = 0;
    let mut cache = None;
    let mut reaped = false;
    if child.sync {
        loop {
            // SAFETY: The arena is mapped; the child writes `phase`.
            if unsafe { read_volatile(addr_of!((*a).phase)) } == 1 {
                cache = read_cache(pid);
                // SAFETY: Releases the child.
                unsafe { write_volatile(addr_of_mut!((*a).go), 1) };
                break;
            }
            // SAFETY: Polling our own child.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                reaped = true;
                break;
            }
            // Sleep rather than spin: the guest has two CPUs.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
    // Wait for the child to exit, or to be stuck (then kill it): poll its
    // pidfd, looking at the arena every millisecond.
    let mut killed = false;
    if !reaped {
        // SAFETY: pidfd_open of our own child.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
        loop {
            let mut pfd = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
            // SAFETY: One valid pollfd (or none to poll, if pidfd_open
            // failed: then this sleeps a millisecond).
            let n = unsafe { libc::poll(&mut pfd, if pidfd >= 0 { 1 } else { 0 }, 1) };
            // SAFETY: The arena is mapped; the child writes `stuck`.
            if n == 0 && unsafe { read_volatile(addr_of!((*a).stuck)) } == 1 {
                // SAFETY: Killing our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed = true;
            }
            // SAFETY: Polling our own child.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                break;
            }
        }
        // SAFETY: Our fd.
        unsafe { libc::close(pidfd) };
    }
    // SAFETY: The child is gone; its reports are in the arena.
    let (slots, main_slot, worker_tid) = unsafe { ((*a).slots, (*a).main_slot, (*a).worker_tid) };
    let obs = |s: &Slot, kind: Option<StepKind>| -> Obs {
        match s.state {
            NOT_REACHED => Obs::NotReached,
            STARTED => Obs::Died,
            RETURNED => Obs::Ret(match kind {
                Some(StepKind::Call(Call::Getpid)) if s.ret == pid as i64 => "PID".into(),
                Some(StepKind::Call(Call::Gettid))
                    if s.ret == if child.threaded { worker_tid as i64 } else { pid as i64 } =>
                {
                    "TID".into()
                }
                // SAFETY: getpid takes no arguments.
                Some(StepKind::Call(Call::Getppid)) if s.ret == unsafe { libc::getpid() } as i64 => "PPID".into(),
                _ => ret_text(s.ret),
            }),
            _ => Obs::Trap {
                signo: s.signo,
                code: s.code,
                errno: s.errno,
                syscall: s.syscall,
                arch: s.arch,
                at_ip: s.call_addr == raw_syscall_ip(),
            },
        }
    };
    let steps = child.steps.iter().enumerate().map(|(j, (k, _))| obs(&slots[j], Some(*k))).collect();
    let main = child.threaded.then(|| obs(&main_slot, None));
    let end = if killed { "exit-failed".to_string() } else { status_text(status) };
    (Seen { outcome: Outcome { steps, main, end }, cache }, pid, status)
}

fn ptr_text(p: Ptr) -> &'static str {
    match p {
        Ptr::Ok => "ok",
        Ptr::Null => "null",
        Ptr::Unmapped => "unmapped",
        Ptr::Kernel => "kernel",
        Ptr::Odd => "odd",
        Ptr::Partial => "partial",
    }
}

fn prog_hash(insns: &[sock_filter]) -> u64 {
    let mut h = Fnv::default();
    for i in insns {
        h.write(&i.code.to_le_bytes());
        h.write(&[i.jt, i.jf]);
        h.write(&i.k.to_le_bytes());
    }
    h.0
}

fn step_text(child: &Child, kind: StepKind, step: &Step, verbose: bool) -> String {
    let a = step.args;
    match kind {
        StepKind::Install(i) => {
            let f = &child.filters[i];
            let mut s = format!(
                "{}(op={:#x},flags={:#x},fprog={},filter={},len={},{},prog={:016x})",
                if f.via_prctl { "prctl" } else { "seccomp" },
                a[0],
                a[1],
                ptr_text(f.fprog),
                ptr_text(f.filter),
                f.len,
                f.label,
                prog_hash(&f.insns)
            );
            if verbose {
                s.push_str(" [");
                for (n, i) in f.insns.iter().enumerate() {
                    let _ = write!(s, "{}{:x} {} {} {:x}", if n > 0 { "|" } else { "" }, i.code, i.jt, i.jf, i.k);
                }
                s.push(']');
            }
            s
        }
        StepKind::Strict(true) => format!("prctl-strict({:#x},{:#x})", a[0], a[2]),
        StepKind::Strict(false) => format!("seccomp-strict({:#x},{:#x},{:#x})", a[0], a[1], a[2]),
        StepKind::PrctlBadMode => format!("prctl-set-seccomp(mode={:#x})", a[1]),
        StepKind::Exit => format!("exit(nr={})", step.nr),
        StepKind::Call(_) => {
            format!("nr={:#x}({:#x},{:#x},{:#x},{:#x},{:#x},{:#x})", step.nr, a[0], a[1], a[2], a[3], a[4], a[5])
        }
    }
}

/// The canonical lines of a child: one for the child (installs and end),
/// one per case.  With `verbose`, programs are spelled out.
fn lines(child: &Child, o: &Outcome, verbose: bool) -> (String, Vec<String>) {
    let mut head = format!(
        "child {} {} nnp={}:",
        child.index,
        if child.threaded { "threaded" } else { "single" },
        child.nnp as u8
    );
    let mut cases = vec![];
    let mut case = child.index * CALLS as u64;
    for (j, (kind, step)) in child.steps.iter().enumerate() {
        let text = step_text(child, *kind, step, verbose);
        if let StepKind::Call(call) = kind {
            cases.push(format!("case {case} [{j}] {call:?} {text} -> {}", o.steps[j]));
            case += 1;
        } else {
            let _ = write!(head, " [{j}] {text} -> {};", o.steps[j]);
        }
    }
    if let Some(m) = &o.main {
        let _ = write!(head, " main-exit -> {m};");
    }
    let _ = write!(head, " end={}", o.end);
    (head, cases)
}

/// The canonical line of a child's action cache (digested apart from the
/// outcomes).
fn cache_line(child: &Child, cache: &Option<(usize, Vec<bool>)>) -> Option<String> {
    cache.as_ref().map(|(n, bits)| format!("child {} cache[{n}] allow={}", child.index, ranges(bits)))
}

// ---------------------------------------------------------------------

fn probe(nr: u64) -> Result<i64, i32> {
    let a = arena();
    let pid = seccomp_samples::fork_with(|| {
        // SAFETY: A raw call in a throwaway child, reported in the arena.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            let r = raw_syscall(nr, [0; 6]);
            write_volatile(addr_of_mut!((*a).main_slot.ret), r);
        }
        0
    })
    .expect("fork");
    let mut status = 0;
    // SAFETY: Waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFSIGNALED(status) {
        Err(libc::WTERMSIG(status))
    } else {
        // SAFETY: The child wrote it before exiting.
        Ok(unsafe { read_volatile(addr_of!((*a).main_slot.ret)) })
    }
}

fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut it = release.trim().split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn main() {
    fuzzkit::reexec_without_aslr();
    let args = fuzzkit::Args::parse(&["seed", "cases", "from", "count", "verbose", "cache-may-allow-more"], USAGE);
    let seed = args.num("seed", 1);
    let cases = args.num("cases", 100_000);
    let from = args.num("from", 0);
    let count = args.num("count", cases.saturating_sub(from));
    let verbose = args.flag("verbose");
    let cache_may_allow_more = args.flag("cache-may-allow-more");
    let end_case = (from + count).min(cases);

    fuzzkit::relocate_raw_syscall(STUB_ADDR);
    let arena_ptr = fuzzkit::map_shared(ARENA_ADDR, ARENA_LEN + 4096);
    // SAFETY: The last page of our own mapping becomes the guard page.
    if unsafe { libc::mprotect(arena_ptr.add(ARENA_LEN).cast(), 4096, libc::PROT_NONE) } != 0 {
        println!("seccomp-diff: FAIL: mprotect: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    let stack_len = 1 << 20;
    let stack = fuzzkit::map_shared(0, stack_len);

    let (major, minor) = kernel_version();
    let mut exempt = vec![NR_URETPROBE as i32];
    if (major, minor) >= (6, 16) {
        exempt.push(NR_UPROBE as i32);
    }
    // SAFETY: Plain queries, and umask set back to what it was.
    let env = unsafe {
        let umask = libc::umask(0o22);
        libc::umask(umask);
        let fd = libc::dup(2);
        libc::close(fd);
        Env {
            ip: raw_syscall_ip(),
            uid: [libc::getuid() as i64, libc::geteuid() as i64, libc::getgid() as i64, libc::getegid() as i64],
            umask: umask as u32,
            persona: libc::personality(0xffff_ffff) as i64,
            cap_sys_admin: libc::geteuid() == 0,
            free_fd: fd as i64,
            exempt,
            probe: [(NR_URETPROBE, probe(NR_URETPROBE)), (NR_UPROBE, probe(NR_UPROBE))],
        }
    };
    println!(
        "seccomp-diff: seed {seed}, cases {from}..{end_case} of {cases} ({CALLS} per child), ip {:#x}, kernel {major}.{minor}",
        env.ip
    );

    let start = std::time::Instant::now();
    let mut total = Fnv::default();
    let mut block = Fnv::default();
    let mut total_cache = Fnv::default();
    let mut block_cache = Fnv::default();
    let mut block_start = from;
    let mut counts = Counts::default();
    let mut errnos = Counts::default();
    let mut actions = Counts::default();
    let mut installs = Counts::default();
    let mut ends = Counts::default();
    let mut events = Counts::default();
    let mut mismatches = 0u64;
    let mut cache_mismatches = Counts::default();
    let mut children = 0u64;
    let mut cache_checked = 0u64;
    let first_child = from / CALLS as u64;
    let last_child = end_case.div_ceil(CALLS as u64);
    for c in first_child..last_child {
        let child = gen_child(seed, c, env.ip);
        let (seen, pid, _) = run_child(&child, stack, stack_len);
        let (model, step_actions, at_calls) = predict(&child, &env);
        children += 1;

        if let Some((n, bits)) = &seen.cache {
            cache_checked += 1;
            let model_bits = predict_cache(&child, at_calls.as_deref().unwrap_or(&[]), &env, *n);
            if &model_bits != bits {
                let extra = bits.iter().zip(&model_bits).any(|(&k, &m)| k && !m) || model_bits.is_empty();
                let missing = bits.iter().zip(&model_bits).any(|(&k, &m)| !k && m) || bits.is_empty();
                let kind = match (extra, missing) {
                    (true, false) => "kernel-allows-more",
                    (false, true) => "kernel-allows-less",
                    _ => "kernel-allows-other",
                };
                cache_mismatches.add(kind);
                // Numbers the kernel allows from its cache where upstream
                // runs the filters: try to show that the chain does not
                // always allow them.
                let installed = at_calls.as_deref().unwrap_or(&[]);
                let extra: Vec<usize> =
                    (0..*n).filter(|&nr| bits[nr] && !model_bits.get(nr).copied().unwrap_or(false)).collect();
                for &nr in extra.iter().step_by(extra.len().div_ceil(8).max(1)) {
                    if let Some((d, ret)) = cache_counterexample(&child, installed, nr) {
                        cache_mismatches.add("unsound");
                        if cache_mismatches.get("unsound") <= 10 {
                            let (head, _) = lines(&child, &seen.outcome, true);
                            println!(
                                "seccomp-diff: UNSOUND-CACHE child {c}: the kernel allows nr {nr} without running \
                                 the filters, but they return {ret:#x} for ip={:#x} args={:#x?}\n  kernel: {head}",
                                d.instruction_pointer, d.args
                            );
                        }
                        break;
                    }
                }
                let n = cache_mismatches.get(kind);
                if n <= 5 {
                    let (head, _) = lines(&child, &seen.outcome, true);
                    println!("seccomp-diff: CACHE-MISMATCH ({kind}) child {c} (pid {pid}):\n  kernel: {head}");
                    println!("  kernel cache: {}\n  model cache:  {}", ranges(bits), ranges(&model_bits));
                }
            }
        }

        let (head, case_lines) = lines(&child, &seen.outcome, false);
        if seen.outcome != model {
            mismatches += 1;
            if mismatches <= 20 {
                let (vhead, vcases) = lines(&child, &seen.outcome, true);
                let (mhead, mcases) = lines(&child, &model, false);
                println!(
                    "seccomp-diff: MISMATCH child {c} (pid {pid}, first case {}) kernel vs model:",
                    c * CALLS as u64
                );
                println!("  kernel: {vhead}");
                println!("  model:  {mhead}");
                for (k, m) in vcases.iter().zip(&mcases) {
                    if k != m {
                        println!("  kernel: {k}\n  model:  {m}");
                    }
                }
            }
        }
        let call_steps: Vec<usize> = child
            .steps
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| matches!(k, StepKind::Call(_)))
            .map(|(j, _)| j)
            .collect();
        let mut head_done = false;
        for (idx, (line, &j)) in case_lines.iter().zip(&call_steps).enumerate() {
            let case = c * CALLS as u64 + idx as u64;
            if case < from || case >= end_case {
                continue;
            }
            // The child's line counts with its first case in the range.
            if !head_done {
                head_done = true;
                let cache = cache_line(&child, &seen.cache);
                if verbose {
                    println!("{}", lines(&child, &seen.outcome, true).0);
                    if let Some(l) = &cache {
                        println!("{l}");
                    }
                }
                block.line(&head);
                total.line(&head);
                if let Some(l) = &cache {
                    block_cache.line(l);
                    total_cache.line(l);
                }
            }
            if verbose {
                println!("{line}");
            }
            block.line(line);
            total.line(line);
            let o = &seen.outcome.steps[j];
            match o {
                Obs::Ret(r) if r.starts_with('E') => {
                    counts.add("errno");
                    errnos.add(r.clone());
                }
                Obs::Ret(_) => counts.add("returned"),
                Obs::Trap { .. } => counts.add("trapped"),
                Obs::Died => counts.add("died"),
                Obs::NotReached => counts.add("not-reached"),
            }
            if *o != Obs::NotReached {
                actions.add(step_actions[j].clone());
                let mut seen_features: Vec<&str> = Vec::new();
                for &i in at_calls.as_deref().unwrap_or(&[]) {
                    let f = &child.filters[i];
                    seen_features.extend(features(&f.insns[..f.len as usize]));
                }
                seen_features.sort_unstable();
                seen_features.dedup();
                for name in seen_features {
                    events.add(name);
                }
            }
            if (case + 1) % BLOCK == 0 || case + 1 == end_case {
                println!(
                    "seccomp-diff: cases {block_start}-{case} digest {:016x} cache-digest {:016x}",
                    block.0, block_cache.0
                );
                block = Fnv::default();
                block_cache = Fnv::default();
                block_start = case + 1;
            }
        }
        for (j, (kind, _)) in child.steps.iter().enumerate() {
            let what = match kind {
                StepKind::Install(_) => "install",
                StepKind::Strict(_) => "strict",
                StepKind::PrctlBadMode => "prctl-bad-mode",
                _ => continue,
            };
            // The call's own result when it ran, else the filters' action.
            let action = step_actions[j].as_str();
            if matches!(action, "no-filter" | "ALLOW" | "LOG" | "strict-allowed") {
                installs.add(format!("{what}:{}", seen.outcome.steps[j]));
            } else {
                installs.add(format!("{what}:{action}"));
            }
        }
        ends.add(format!("{}{}", if child.threaded { "threaded:" } else { "" }, seen.outcome.end));
    }
    let secs = start.elapsed().as_secs_f64();
    let ncases = end_case.saturating_sub(from);
    println!(
        "seccomp-diff: total cases {from}-{} digest {:016x} cache-digest {:016x}",
        end_case.saturating_sub(1),
        total.0,
        total_cache.0
    );
    println!("seccomp-diff: outcomes: {}", counts.text());
    println!("seccomp-diff: errnos: {}", errnos.text());
    println!("seccomp-diff: actions: {}", actions.text());
    println!("seccomp-diff: features of the filters calls ran: {}", events.text());
    println!("seccomp-diff: installs: {}", installs.text());
    println!("seccomp-diff: ends: {}", ends.text());
    println!(
        "seccomp-diff: {ncases} cases, {children} children ({cache_checked} action caches read) in {secs:.1} s \
         ({:.0} cases/s)",
        ncases as f64 / secs.max(1e-9)
    );
    if cache_mismatches.get("unsound") > 0 {
        println!(
            "seccomp-diff: FAIL: {} action caches allow calls their filters do not always allow",
            cache_mismatches.get("unsound")
        );
    }
    let judged: &[&str] = if cache_may_allow_more {
        &["kernel-allows-less", "kernel-allows-other"]
    } else {
        &["kernel-allows-more", "kernel-allows-less", "kernel-allows-other"]
    };
    let ncache: u64 = judged.iter().map(|k| cache_mismatches.get(k)).sum();
    if ncache > 0 {
        println!(
            "seccomp-diff: FAIL: {ncache} of {cache_checked} action caches differ from upstream's \
             (seccomp_cache_prepare): {}",
            cache_mismatches.text()
        );
    }
    if mismatches > 0 {
        println!("seccomp-diff: FAIL: {mismatches} children where the kernel and the model disagree");
    }
    if mismatches > 0 || ncache > 0 || cache_mismatches.get("unsound") > 0 {
        std::process::exit(1);
    }
    println!("seccomp-diff: PASS");
}
