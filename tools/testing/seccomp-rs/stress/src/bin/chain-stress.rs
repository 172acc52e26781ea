// SPDX-License-Identifier: GPL-2.0

//! chain-stress: filter chains shared by process trees, filled to the
//! instruction limit, synchronised across racing threads, and read through
//! ptrace; checks the verdict each chain gives and that every filter is
//! freed once the processes are reaped.
//!
//! The filters let everything through but `getppid` calls whose first
//! argument (ignored by the kernel) carries a probe marker: for those they
//! return `SECCOMP_RET_ERRNO` with an errno naming the filter, or
//! `SECCOMP_RET_TRACE`.  A probe thus shows which filter of the chain
//! decided, which checks the precedence rules: the lowest action wins, and
//! of equal actions the newest filter's.
//!
//! Cases (`chain-stress [all|fork-storm|insn-limit|tsync|ptrace|jit-harden|cve|1-6]...`):
//!
//! 1. `fork-storm`: a tree of processes (depth [`DEPTH`], fan-out
//!    [`FANOUT`]), each stacking two filters on the chain it inherited
//!    before forking its children; every node checks the verdict of every
//!    level's filters, and runs a thread that stacks a filter of its own and
//!    exits while the node goes on.
//! 2. `insn-limit`: chains filled to the 32768-instruction limit of a path
//!    (`MAX_INSNS_PER_PATH`: each filter counts the length of its eBPF
//!    translation plus 4), through differently sized filters on branches
//!    of one process: one instruction more fails with `ENOMEM`, the exact
//!    fit succeeds; children on the full chains run system calls through
//!    them.
//! 3. `tsync`: threads racing `SECCOMP_FILTER_FLAG_TSYNC`, against a thread
//!    whose chain diverges (the others' TSYNC must fail naming it, or with
//!    `ESRCH`), threads exiting, and a thread calling `execve`; afterwards all
//!    threads must have the same, expected, number of filters.
//! 4. `ptrace`: a tracer suspends the filters of a tracee
//!    (`PTRACE_O_SUSPEND_SECCOMP`), reads its chain back with
//!    `PTRACE_SECCOMP_GET_FILTER` and `PTRACE_SECCOMP_GET_METADATA`, gets its
//!    `SECCOMP_RET_TRACE` stops, and keeps asking while the tracee exits.
//! 5. `jit-harden`: with the JIT on and `net.core.bpf_jit_harden` blinding
//!    constants (2, or 1 for a caller without `CAP_BPF`), each filter is
//!    charged the length of its blinded program, as C runs it: fewer
//!    one-instruction filters fit a path than without.
//! 6. `cve`: the patterns of known seccomp bugs: `PTRACE_O_SUSPEND_SECCOMP`
//!    refused to a tracer without `CAP_SYS_ADMIN` or under seccomp itself
//!    (CVE-2022-30594); a system call a tracer rewrites at its TRACE stop
//!    judged again (CVE-2019-2054); `TSYNC` failing on a sibling with
//!    `NEW_LISTENER` leaving no filter and no fd; a `fork()` refused by
//!    `RLIMIT_NPROC` leaving no filter.
//!
//! Each case runs [`Case::rounds`] times between two readings of the leak
//! meter (`seccomp_stress::leak`), after a warm-up run if the meter is
//! the `/proc/meminfo` estimate.  Every process arms an alarm, so a hang
//! fails the run instead of blocking it.  Prints
//! `chain-stress: PASS` on success, `chain-stress: FAIL: <what>` and exits 1
//! otherwise; processes of a case that find a problem print
//! `chain-stress: <case>: <detail>` first.

use std::ffi::CStr;
use std::io;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use seccomp_samples::bpf::{set_no_new_privs, Cmp, Program, ProgramBuilder, AUDIT_ARCH_X86_64};
use seccomp_samples::{fork_with, raw_read_byte, raw_write, wait, Ended};
use seccomp_stress::fuzzkit;
use seccomp_stress::leak::Meter;

/// Seconds any process of a case may live.
const CASE_TIMEOUT: u32 = 120;
/// The argument that makes the image `execve`d by the tsync case exit at once.
const EXEC_ARG: &str = "--exec-exit";
/// Its exit status if it found its filters as expected.
const EXEC_OK: i32 = 77;

// ---- probes ----------------------------------------------------------------

/// The system call the filters act on; its arguments are ignored, so they
/// can carry markers.
const PROBE_NR: libc::c_long = libc::SYS_getppid;
/// Matched by no filter: the call runs.
const PROBE_NONE: u32 = 0x5ec0_0000;
/// Failed by every filter with its own errno: the newest must win.
const PROBE_SHARED: u32 = 0x5ec0_0001;
/// Failed by the oldest filter, traced by newer ones: ERRNO must win.
const PROBE_OLD: u32 = 0x5ec0_0002;
/// Failed by the tsync case's base filter.
const PROBE_BASE: u32 = 0x5ec0_0003;
/// Failed by the ptrace case's oldest filter.
const PROBE_DENY: u32 = 0x5ec0_0004;
/// Traced by the ptrace case's second filter.
const PROBE_TRACE: u32 = 0x5ec0_0005;

/// Failed by the fork storm's filters of tree level `level`.
const fn probe_level(level: usize) -> u32 {
    0x5ec0_0100 + level as u32
}

/// Errno of `PROBE_OLD`'s oldest filter.
const E_OLD: i32 = 999;

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Makes the probe call: what it returned, or its errno.
fn probe(marker: u32) -> Result<i64, i32> {
    // SAFETY: getppid ignores its arguments.
    let r = unsafe { libc::syscall(PROBE_NR, marker as libc::c_long) };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r)
    }
}

fn show(r: Result<i64, i32>) -> String {
    match r {
        Ok(v) => format!("returned {v}"),
        Err(e) => format!("failed with errno {e}"),
    }
}

/// Checks the probe with `marker` gives `want`.
fn expect(marker: u32, want: Result<i64, i32>) -> Result<(), String> {
    let got = probe(marker);
    if got == want {
        Ok(())
    } else {
        Err(format!("probe {marker:#x} {}, expected: {}", show(got), show(want)))
    }
}

fn errno_action(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | e as u32
}

fn trace_action(data: u32) -> u32 {
    libc::SECCOMP_RET_TRACE | (data & libc::SECCOMP_RET_DATA)
}

/// A probe filter: kill foreign architectures, allow all but the probe
/// call, and for the probe call run the padding (`units` blocks of assorted
/// instructions ([`mixed_unit`]), then `loads` loads) and return each rule's
/// `action` if the first argument is its `marker`, else allow.  The padding
/// only runs for the probe call, so the filters' verdict is constant for
/// every other call and both kernels' per-system-call caches can skip them.
fn probe_filter(rules: &[(u32, u32)], units: usize, loads: usize) -> Program {
    assert!(!rules.is_empty());
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jeq(AUDIT_ARCH_X86_64, "native")
        .kill()
        .label("native")
        .load_syscall_nr()
        .on_syscall(PROBE_NR, "probe")
        .allow()
        .label("probe");
    for u in 0..units {
        mixed_unit(&mut b, u);
    }
    for _ in 0..loads {
        b.load_syscall_nr();
    }
    b.load_arg_low(0);
    for (i, &(marker, _)) in rules.iter().enumerate() {
        b.jeq(marker, &format!("rule{i}"));
    }
    b.allow();
    for (i, &(_, action)) in rules.iter().enumerate() {
        b.label(&format!("rule{i}")).ret(action);
    }
    b.resolve().expect("filter resolves")
}

/// [`probe_filter`] padded with `loads` loads.
fn filter(rules: &[(u32, u32)], loads: usize) -> Program {
    probe_filter(rules, 0, loads)
}

/// An all-allow filter of `len` instructions: `len - 1` loads and a return.
fn tiny(len: usize) -> Program {
    let mut b = ProgramBuilder::new();
    for _ in 1..len {
        b.load_syscall_nr();
    }
    b.allow();
    b.resolve().expect("filter resolves")
}

/// 15 instructions of padding that exercise every way a classic instruction can grow when
/// the kernel translates it to eBPF (see [`converted_len`]), leaving no
/// state the rest of the filter reads.
fn mixed_unit(b: &mut ProgramBuilder, u: usize) {
    use libc::{BPF_ALU, BPF_DIV, BPF_IMM, BPF_LD, BPF_LDX, BPF_MEM, BPF_MISC, BPF_ST, BPF_TAX, BPF_TXA, BPF_X};
    let l = |n: usize| format!("mixed{u}.{n}");
    b.stmt(BPF_LD | BPF_IMM, 7)
        .stmt(BPF_MISC | BPF_TAX, 0)
        .stmt(BPF_LDX | BPF_IMM, 3)
        .stmt(BPF_ALU | BPF_DIV | BPF_X, 0)
        .stmt(BPF_ST, 1)
        .stmt(BPF_LD | BPF_MEM, 1)
        .stmt(BPF_MISC | BPF_TXA, 0)
        // Both branches taken somewhere: a jump and a `ja`; the constant
        // has the sign bit set: one more to load it.
        .jump_if(Cmp::Set, 0x8000_0000, Some(&l(1)), Some(&l(1)))
        .stmt(BPF_LD | BPF_IMM, 1)
        .label(&l(1))
        // Falls through when true: inverted into one jump.
        .jne(5, &l(2))
        .stmt(BPF_LD | BPF_IMM, 2)
        .label(&l(2))
        // Falls through when true, but JSET cannot be inverted.
        .jump_if(Cmp::Set, 1, None, Some(&l(3)))
        .stmt(BPF_LD | BPF_IMM, 3)
        .label(&l(3))
        .jgt(0x9000_0000, &l(4))
        .stmt(BPF_LD | BPF_IMM, 4)
        .label(&l(4));
}

/// Length of the eBPF program the kernel translates `p` into: what
/// `seccomp_attach_filter()` counts as `prog->len` against the path limit
/// (see [`fuzzkit::ebpf_len`]).
fn converted_len(p: &Program) -> usize {
    fuzzkit::ebpf_len(p.instructions())
}

/// A probe filter whose translation is exactly `conv` instructions long,
/// half of its padding in assorted blocks if `mixed`.
fn sized(rules: &[(u32, u32)], conv: usize, mixed: bool) -> Program {
    let unit = converted_len(&probe_filter(rules, 1, 0)) - converted_len(&probe_filter(rules, 0, 0));
    let extra = conv.checked_sub(converted_len(&probe_filter(rules, 0, 0))).expect("filter too short for its rules");
    let units = if mixed { extra / 2 / unit } else { 0 };
    let p = probe_filter(rules, units, extra - units * unit);
    assert_eq!(converted_len(&p), conv);
    assert!(p.len() <= BPF_MAXINSNS, "{conv} eBPF instructions take more than {BPF_MAXINSNS} classic ones");
    p
}

// ---- plumbing --------------------------------------------------------------

/// Filters attached by the measured runs of a case, counted in a shared
/// page every process of the case inherits.
static ATTACHED: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

fn attached() -> &'static AtomicU64 {
    // SAFETY: main() maps the counter before any case runs and never
    // unmaps it; it is page-aligned and zero-initialised.
    unsafe { &*ATTACHED.load(Relaxed) }
}

fn map_attached_counter() {
    ATTACHED.store(fuzzkit::map_shared(0, 4096).cast(), Relaxed);
}

/// Installs `p` on the calling thread; counts it if it was attached.
fn install(p: &Program, flags: libc::c_ulong) -> io::Result<libc::c_long> {
    let r = p.install(flags as libc::c_uint);
    if let Ok(0) = r {
        attached().fetch_add(1, Relaxed);
    }
    r
}

/// Installs `p`, which must succeed.
fn must_install(p: &Program, flags: libc::c_ulong) -> Result<(), String> {
    match install(p, flags) {
        Ok(0) => Ok(()),
        r => Err(format!("installing a {}-instruction filter (flags {flags:#x}): {r:?}", p.len())),
    }
}

/// Prints a detail of a failure (raw `write`: callable from any process
/// and thread).
fn say(msg: &str) {
    raw_write(1, format!("chain-stress: {msg}\n").as_bytes());
}

/// Forks a process of a case running `f`, with its own alarm; it exits 0
/// if `f` succeeds, else prints why and exits 1.
fn spawn(what: &str, f: impl FnOnce() -> Result<(), String>) -> Result<libc::pid_t, String> {
    fork_with(|| {
        // SAFETY: Arms this process's alarm.
        unsafe { libc::alarm(CASE_TIMEOUT) };
        match f() {
            Ok(()) => 0,
            Err(e) => {
                say(&format!("{what}: {e}"));
                // SAFETY: Ends the whole process, whatever its threads do.
                unsafe { libc::_exit(1) }
            }
        }
    })
    .map_err(|e| format!("fork ({what}): {e}"))
}

fn describe(ended: &Ended) -> String {
    match ended {
        Ended::Exited(n) => format!("exited with {n}"),
        Ended::Signaled(libc::SIGALRM) => "killed by SIGALRM (timeout)".into(),
        Ended::Signaled(s) => format!("killed by signal {s}"),
    }
}

/// Waits for `pid`, which must end as `want`.
fn reap_as(pid: libc::pid_t, what: &str, want: Ended) -> Result<(), String> {
    match wait(pid) {
        Ok(ended) if ended == want => Ok(()),
        Ok(ended) => Err(format!("{what} {}", describe(&ended))),
        Err(e) => Err(format!("waiting for {what}: {e}")),
    }
}

fn reap(pid: libc::pid_t, what: &str) -> Result<(), String> {
    reap_as(pid, what, Ended::Exited(0))
}

/// A number from a `/proc/.../status` line `<field>:\t<n>`.
fn status_field(path: &str, field: &str) -> Result<i64, String> {
    let s = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().parse().ok())
        .ok_or_else(|| format!("{path}: no {field}"))
}

/// Checks the calling thread is in filter mode with `n` filters.
fn expect_filters(n: usize) -> Result<(), String> {
    let path = "/proc/thread-self/status";
    let (mode, count) = (status_field(path, "Seccomp")?, status_field(path, "Seccomp_filters")?);
    if (mode, count) == (2, n as i64) {
        Ok(())
    } else {
        Err(format!("Seccomp {mode}, Seccomp_filters {count}; expected 2 and {n}"))
    }
}

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

fn getpid() -> i64 {
    // SAFETY: getpid has no arguments.
    unsafe { libc::getpid() as i64 }
}

fn no_new_privs() -> Result<(), String> {
    set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))
}

fn pipe() -> Result<[libc::c_int; 2], String> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two fds.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", io::Error::last_os_error()));
    }
    Ok(fds)
}

fn close(fds: &[libc::c_int]) {
    for &fd in fds {
        // SAFETY: Closing fds we own.
        unsafe { libc::close(fd) };
    }
}

/// What a case gets to know.
struct Ctx {
    /// The exact filter count before the case, when the kernel has one.
    live_base: Option<u64>,
    meter: Meter,
}

impl Ctx {
    /// Checks the exact count shows at least `n` filters on top of the
    /// baseline (so a leak check on it means something).
    fn expect_live(&self, n: usize) -> Result<(), String> {
        let (Some(base), Some(live)) = (self.live_base, self.meter.live_filters()) else { return Ok(()) };
        if live >= base + n as u64 {
            Ok(())
        } else {
            Err(format!("live_filters {live} while {n} filters are attached on top of {base}"))
        }
    }
}

// ---- 1. fork storm ---------------------------------------------------------

/// Levels below the root of the fork storm's tree.
const DEPTH: usize = 4;
/// Children of each inner node.
const FANOUT: usize = 4;
/// Errno of the filter a node's thread stacks.
const E_THREAD: i32 = 1500;

/// Errno of filter `i` of the node that is child `child` of its parent at
/// tree level `level`.
fn storm_errno(level: usize, child: usize, i: usize) -> i32 {
    (1000 + 100 * level + 10 * child + i) as i32
}

/// A node's two filters: the first fails its level's probe, and the
/// oldest (root's) one `PROBE_OLD`; both fail `PROBE_SHARED`.
fn storm_filters(level: usize, child: usize) -> [Program; 2] {
    let e0 = storm_errno(level, child, 0);
    let e1 = storm_errno(level, child, 1);
    let old = if level == 0 { errno_action(E_OLD) } else { trace_action(level as u32) };
    [
        filter(&[(probe_level(level), errno_action(e0)), (PROBE_SHARED, errno_action(e0)), (PROBE_OLD, old)], level),
        filter(&[(PROBE_SHARED, errno_action(e1)), (PROBE_OLD, trace_action(100 + level as u32))], 2 * level),
    ]
}

/// Checks a node's verdicts: each level's probe fails with the filter of
/// the node's ancestor at that level, and deeper levels' probes pass.
fn storm_check(level: usize, path: &[usize], ppid: i64, thread: bool) -> Result<(), String> {
    // `path` names the child index of the node and its ancestors, one per
    // level down to `level`.
    for l in 0..=DEPTH {
        let want = path.get(l).map_or(Ok(ppid), |&child| Err(storm_errno(l, child, 0)));
        expect(probe_level(l), want)?;
    }
    let newest = if thread { E_THREAD } else { storm_errno(level, path[level], 1) };
    expect(PROBE_SHARED, Err(newest))?;
    expect(PROBE_OLD, Err(E_OLD))?;
    expect(PROBE_NONE, Ok(ppid))?;
    expect_filters(2 * (level + 1) + thread as usize)
}

fn path_name(path: &[usize]) -> String {
    path.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(".")
}

fn storm_node(level: usize, path: Vec<usize>) -> Result<(), String> {
    let ppid = probe(PROBE_NONE).map_err(|e| format!("getppid: errno {e}"))?;
    if level == 0 {
        no_new_privs()?;
    }
    for f in storm_filters(level, path[level]) {
        must_install(&f, 0)?;
    }
    storm_check(level, &path, ppid, false)?;
    // A thread stacking a filter of its own, which must show neither in the
    // node nor in the children forked meanwhile, and is freed when the
    // thread exits while the node goes on.  The children are forked while
    // the thread waits in read(): Rust's standard library is not fork-safe
    // while a thread starts or exits (it then holds a lock for its stack
    // overflow bookkeeping, which a child would inherit held).
    let (ready, go) = (pipe()?, pipe()?);
    let thread = {
        let path = path.clone();
        std::thread::spawn(move || -> Result<(), String> {
            let own = filter(&[(PROBE_SHARED, errno_action(E_THREAD))], level + 1);
            let r = must_install(&own, 0).and_then(|()| storm_check(level, &path, ppid, true));
            raw_write(ready[1], b"r");
            raw_read_byte(go[0]);
            r.and_then(|()| storm_check(level, &path, ppid, true)).map_err(|e| format!("thread: {e}"))
        })
    };
    if raw_read_byte(ready[0]).is_none() {
        return Err("thread did not get ready".into());
    }
    let mut children = Vec::new();
    if level < DEPTH {
        for child in 0..FANOUT {
            let mut p = path.clone();
            p.push(child);
            let what = format!("fork-storm: node {}", path_name(&p));
            children.push(spawn(&what, move || {
                close(&[ready[0], ready[1], go[0], go[1]]);
                storm_node(level + 1, p)
            })?);
        }
    }
    raw_write(go[1], b"g");
    close(&[ready[0], ready[1], go[0], go[1]]);
    storm_check(level, &path, ppid, false)?;
    let mut result = Ok(());
    for pid in children {
        // Children print their own details.
        if let Err(e) = reap(pid, "child") {
            result = Err(e);
        }
    }
    thread.join().map_err(|_| "thread panicked".to_string())??;
    result
}

fn fork_storm(_ctx: &Ctx) -> Result<(), String> {
    let pid = spawn("fork-storm: node 0", || storm_node(0, vec![0]))?;
    reap(pid, "tree")
}

// ---- 2. instruction limit --------------------------------------------------

/// `MAX_INSNS_PER_PATH` in kernel/seccomp.c: `(1 << 18) / sizeof(struct
/// sock_filter)`.  `seccomp_attach_filter()` refuses a new filter with
/// `ENOMEM` if its `prog->len` plus that of every filter already on the
/// chain, each plus a penalty of 4, exceeds it.  `prog->len` is the length
/// of the eBPF translation ([`converted_len`]), not of the classic program.
const MAX_INSNS_PER_PATH: usize = 32768;
const PENALTY: usize = 4;
const BPF_MAXINSNS: usize = libc::BPF_MAXINSNS as usize;

/// How a filter of the insn-limit case looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Probe rules, padded with loads.
    Plain,
    /// Probe rules, padded half with assorted instructions.
    Mixed,
    /// No rules: loads and ALLOW.
    Tiny,
}

/// A chain as the kernel should account it.
#[derive(Clone)]
struct Chain {
    /// Instructions counted against the limit: sum of (eBPF length + 4).
    used: usize,
    filters: usize,
    /// Filters with rules so far: numbers their errno.
    rich: usize,
}

impl Chain {
    fn new() -> Self {
        Chain { used: 0, filters: 0, rich: 0 }
    }

    fn rich_errno(j: usize) -> i32 {
        2000 + j as i32
    }

    fn room(&self) -> usize {
        MAX_INSNS_PER_PATH.saturating_sub(self.used)
    }

    /// The next filter of `kind` whose translation has `conv` instructions.
    fn next(&self, kind: Kind, conv: usize) -> Program {
        let j = self.rich;
        let old = if j == 0 { errno_action(E_OLD) } else { trace_action(j as u32) };
        let rules = [(PROBE_SHARED, errno_action(Self::rich_errno(j))), (PROBE_OLD, old)];
        match kind {
            Kind::Plain => sized(&rules, conv, false),
            Kind::Mixed => sized(&rules, conv, true),
            Kind::Tiny => {
                let p = tiny(conv - converted_len(&tiny(1)) + 1);
                assert_eq!(converted_len(&p), conv);
                p
            }
        }
    }

    /// Installs the next filter of `kind` with `conv` eBPF instructions,
    /// and checks the kernel agrees with the accounting on whether it fits:
    /// if not, it must fail with `ENOMEM`.
    fn push(&mut self, kind: Kind, conv: usize) -> Result<(), String> {
        let p = self.next(kind, conv);
        let fits = conv + self.used <= MAX_INSNS_PER_PATH;
        match install(&p, 0) {
            Ok(0) if fits => {
                self.used += conv + PENALTY;
                self.filters += 1;
                self.rich += (kind != Kind::Tiny) as usize;
                Ok(())
            }
            Err(e) if !fits && e.raw_os_error() == Some(libc::ENOMEM) => Ok(()),
            r => Err(format!(
                "a {kind:?} filter of {} instructions ({conv} in eBPF) on {} filters counting {} of {MAX_INSNS_PER_PATH}: \
                 {r:?}, expected {}",
                p.len(),
                self.filters,
                self.used,
                if fits { "success" } else { "ENOMEM" }
            )),
        }
    }

    /// Fills the chain exactly with a filter of `kind`: one instruction too
    /// many fails, the exact fit succeeds, and then even the shortest
    /// filter fails.
    fn fill(&mut self, kind: Kind) -> Result<(), String> {
        let room = self.room();
        self.push(kind, room + 1)?;
        self.push(kind, room)?;
        self.push(Kind::Tiny, converted_len(&tiny(1)))?;
        assert_eq!(self.used, MAX_INSNS_PER_PATH + PENALTY);
        Ok(())
    }

    /// Checks the chain's verdicts and length.
    fn check(&self, ppid: i64) -> Result<(), String> {
        expect(PROBE_SHARED, Err(Self::rich_errno(self.rich - 1)))?;
        expect(PROBE_OLD, Err(E_OLD))?;
        expect(PROBE_NONE, Ok(ppid))?;
        expect_filters(self.filters)
    }
}

/// How a branch of the insn-limit case fills the room its chain has left.
#[derive(Clone, Copy, Debug)]
enum Tail {
    /// Two 2000-instruction filters, then the exact fit.
    Big,
    /// 500-instruction filters with assorted padding, then the exact fit.
    Medium,
    /// One-instruction filters, then the exact fit.
    Tiny,
}

/// A process on a full chain: its calls go through it, another filter
/// fails, and so do its thread's.
fn on_full_chain(chain: Chain, ppid: i64) -> Result<(), String> {
    chain.check(ppid)?;
    chain.clone().push(Kind::Tiny, converted_len(&tiny(1)))?;
    let thread = {
        let chain = chain.clone();
        std::thread::spawn(move || -> Result<(), String> {
            chain.check(ppid)?;
            chain.clone().push(Kind::Plain, 100)
        })
    };
    for _ in 0..10 {
        getpid();
        // SAFETY: getuid has no arguments.
        unsafe { libc::getuid() };
        std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
        chain.check(ppid)?;
    }
    thread.join().map_err(|_| "thread panicked".to_string())?
}

/// A branch: fills its chain with `tail` and forks children on it.
fn insn_branch(mut chain: Chain, tail: Tail) -> Result<(), String> {
    let ppid = probe(PROBE_NONE).map_err(|e| format!("getppid: errno {e}"))?;
    let kind = match tail {
        Tail::Big => {
            chain.push(Kind::Plain, 2000)?;
            chain.push(Kind::Plain, 2000)?;
            Kind::Plain
        }
        Tail::Medium => {
            while chain.room() >= 2 * (500 + PENALTY) {
                chain.push(Kind::Mixed, 500)?;
            }
            Kind::Mixed
        }
        Tail::Tiny => {
            let one = converted_len(&tiny(1));
            while chain.room() >= 2 * (one + PENALTY) {
                chain.push(Kind::Tiny, one)?;
            }
            Kind::Tiny
        }
    };
    chain.fill(kind)?;
    chain.check(ppid)?;
    let me = getpid();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let chain = chain.clone();
            spawn(&format!("insn-limit: {tail:?} branch, child {i}"), move || on_full_chain(chain, me))
        })
        .collect::<Result<_, _>>()?;
    for pid in children {
        reap(pid, "child")?;
    }
    Ok(())
}

fn insn_root(ctx: &Ctx) -> Result<(), String> {
    let ppid = probe(PROBE_NONE).map_err(|e| format!("getppid: errno {e}"))?;
    no_new_privs()?;
    let mut chain = Chain::new();
    // 7 x (4000 + 4) = 28028: 4740 instructions of room left.
    for i in 0..7 {
        chain.push(if i % 2 == 0 { Kind::Plain } else { Kind::Mixed }, 4000)?;
    }
    chain.check(ppid)?;
    let branches: Vec<_> = [Tail::Big, Tail::Medium, Tail::Tiny]
        .into_iter()
        .map(|tail| {
            let chain = chain.clone();
            spawn(&format!("insn-limit: {tail:?} branch"), move || insn_branch(chain, tail))
        })
        .collect::<Result<_, _>>()?;
    // Limits are per path: the branches' filters leave this process's
    // room alone.
    chain.fill(Kind::Mixed)?;
    chain.check(ppid)?;
    ctx.expect_live(chain.filters)?;
    let me = getpid();
    let children: Vec<_> = (0..2)
        .map(|i| {
            let chain = chain.clone();
            spawn(&format!("insn-limit: root's child {i}"), move || on_full_chain(chain, me))
        })
        .collect::<Result<_, _>>()?;
    for pid in branches.into_iter().chain(children) {
        reap(pid, "child")?;
    }
    Ok(())
}

fn insn_limit(ctx: &Ctx) -> Result<(), String> {
    let pid = spawn("insn-limit: root", || insn_root(ctx))?;
    reap(pid, "root")
}

// ---- 3. TSYNC races --------------------------------------------------------

const TSYNC_THREADS: usize = 8;
const TSYNC_ITERS: usize = 20;
const ROGUE_ITERS: usize = 20;
/// Short-lived threads started (three at a time) during the race.
const EPHEMERAL: usize = 24;
const EXEC_ROUNDS: usize = 6;
/// TSYNC calls of each thread in an exec round (before the exec ends them).
const EXEC_ITERS: usize = 30;
const E_BASE: i32 = 3999;
const E_FINAL: i32 = 3998;

fn tsync_flags(iter: usize) -> libc::c_ulong {
    if iter % 2 == 0 {
        libc::SECCOMP_FILTER_FLAG_TSYNC
    } else {
        libc::SECCOMP_FILTER_FLAG_TSYNC | libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    }
}

fn tsync_filter(errno: i32, loads: usize) -> Program {
    filter(&[(PROBE_SHARED, errno_action(errno))], loads)
}

fn base_filter() -> Program {
    filter(&[(PROBE_BASE, errno_action(E_BASE)), (PROBE_SHARED, errno_action(E_BASE))], 0)
}

/// Installs `p` with `flags`; whether it was attached.  A TSYNC install
/// may only fail naming `rogue` (the one thread whose chain may diverge;
/// 0: none), or with `ESRCH` if it asked for that.
fn tsync_install(p: &Program, flags: libc::c_ulong, rogue: i32) -> Result<bool, String> {
    let esrch = flags & libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0;
    match install(p, flags) {
        Ok(0) => Ok(true),
        Ok(tid) if !esrch && rogue != 0 && tid == rogue as libc::c_long => Ok(false),
        Err(e) if esrch && rogue != 0 && e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
        r => Err(format!("TSYNC (flags {flags:#x}) returned {r:?}; the diverging thread is {rogue}")),
    }
}

struct Race {
    /// Successful TSYNC installs: each put one filter on every chain.
    synced: AtomicUsize,
    /// Installs of the rogue thread without TSYNC.
    rogue_installs: AtomicUsize,
    rogue: AtomicI32,
    errors: Mutex<Vec<String>>,
    start: Barrier,
    done: Barrier,
    synced_all: Barrier,
    checked: Barrier,
}

impl Race {
    fn record(&self, r: Result<(), String>, who: &str) {
        if let Err(e) = r {
            self.errors.lock().unwrap().push(format!("{who}: {e}"));
        }
    }

    /// The end of every long-lived thread: wait for the rogue's final
    /// TSYNC, check it shows, wait for the main thread's check.
    fn finish(&self, who: &str) {
        self.done.wait();
        self.synced_all.wait();
        self.record(expect(PROBE_SHARED, Err(E_FINAL)), who);
        self.checked.wait();
    }
}

fn tsync_worker(race: &Race, i: usize) -> Result<(), String> {
    race.start.wait();
    let rogue = race.rogue.load(SeqCst);
    for it in 0..TSYNC_ITERS {
        let p = tsync_filter(3000 + (100 * i + it) as i32, it % 5);
        if tsync_install(&p, tsync_flags(it + i), rogue)? {
            race.synced.fetch_add(1, SeqCst);
        }
        expect(PROBE_BASE, Err(E_BASE))?;
    }
    Ok(())
}

/// Diverges from the others (install without TSYNC), then TSYNCs, which
/// must succeed: the others' chains are all ancestors of its own.
fn tsync_rogue(race: &Race) -> Result<(), String> {
    race.start.wait();
    for it in 0..ROGUE_ITERS {
        let e = 3900 + it as i32;
        must_install(&tsync_filter(e, 1), 0)?;
        race.rogue_installs.fetch_add(1, SeqCst);
        // No TSYNC can succeed while this thread diverges: its newest
        // filter stays its own.
        expect(PROBE_SHARED, Err(e))?;
        if !tsync_install(&tsync_filter(3950 + it as i32, 3), tsync_flags(it), 0)? {
            return Err("rogue's TSYNC failed".into());
        }
        race.synced.fetch_add(1, SeqCst);
    }
    Ok(())
}

/// Starts threads three at a time; each checks its chain, TSYNCs once and
/// exits while the others go on.
fn tsync_spawner(race: &Arc<Race>) -> Result<(), String> {
    race.start.wait();
    let rogue = race.rogue.load(SeqCst);
    for batch in 0..EPHEMERAL / 3 {
        let threads: Vec<_> = (0..3)
            .map(|k| {
                let race = race.clone();
                std::thread::spawn(move || {
                    let r = expect(PROBE_BASE, Err(E_BASE)).and_then(|()| {
                        let p = tsync_filter(3800 + (3 * batch + k) as i32, 0);
                        if tsync_install(&p, tsync_flags(batch + k), rogue)? {
                            race.synced.fetch_add(1, SeqCst);
                        }
                        Ok(())
                    });
                    race.record(r, "short-lived thread");
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "short-lived thread panicked".to_string())?;
        }
    }
    Ok(())
}

/// Every thread's filter count, from /proc/self/task/*/status.
fn task_filter_counts() -> Result<Vec<(String, i64)>, String> {
    let dir = std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
    let mut counts = Vec::new();
    for entry in dir {
        let tid = entry.map_err(|e| e.to_string())?.file_name().to_string_lossy().into_owned();
        counts.push((tid.clone(), status_field(&format!("/proc/self/task/{tid}/status"), "Seccomp_filters")?));
    }
    Ok(counts)
}

/// The race: workers TSYNC, the rogue diverges and TSYNCs, short-lived
/// threads come and go; then the rogue TSYNCs a last time, after which
/// every thread must have the whole chain.
fn tsync_race() -> Result<(), String> {
    no_new_privs()?;
    must_install(&base_filter(), 0)?;
    let parties = TSYNC_THREADS + 3;
    let race = Arc::new(Race {
        synced: AtomicUsize::new(0),
        rogue_installs: AtomicUsize::new(0),
        rogue: AtomicI32::new(0),
        errors: Mutex::new(Vec::new()),
        start: Barrier::new(parties),
        done: Barrier::new(parties),
        synced_all: Barrier::new(parties),
        checked: Barrier::new(parties),
    });
    let mut threads = Vec::new();
    {
        let race = race.clone();
        threads.push(std::thread::spawn(move || {
            race.rogue.store(gettid(), SeqCst);
            let r = tsync_rogue(&race);
            race.record(r, "rogue");
            race.done.wait();
            let last = tsync_install(&tsync_filter(E_FINAL, 0), libc::SECCOMP_FILTER_FLAG_TSYNC, 0);
            match last {
                Ok(true) => {
                    race.synced.fetch_add(1, SeqCst);
                }
                Ok(false) => unreachable!("no diverging thread given"),
                Err(e) => race.record(Err(format!("final {e}")), "rogue"),
            }
            race.synced_all.wait();
            race.record(expect(PROBE_SHARED, Err(E_FINAL)), "rogue");
            race.checked.wait();
        }));
    }
    // The rogue's tid must be known before the others start.
    while race.rogue.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    for i in 0..TSYNC_THREADS {
        let race = race.clone();
        threads.push(std::thread::spawn(move || {
            let r = tsync_worker(&race, i);
            race.record(r, &format!("worker {i}"));
            race.finish(&format!("worker {i}"));
        }));
    }
    {
        let race = race.clone();
        threads.push(std::thread::spawn(move || {
            let r = tsync_spawner(&race);
            race.record(r, "spawner");
            race.finish("spawner");
        }));
    }
    race.start.wait();
    race.done.wait();
    race.synced_all.wait();
    let want = 1 + race.synced.load(SeqCst) + race.rogue_installs.load(SeqCst);
    let counts = task_filter_counts();
    race.checked.wait();
    for t in threads {
        t.join().map_err(|_| "thread panicked".to_string())?;
    }
    let errors = race.errors.lock().unwrap();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let counts = counts?;
    if counts.len() != parties || counts.iter().any(|&(_, n)| n != want as i64) {
        return Err(format!("after the last TSYNC: filters per thread (tid, count) {counts:?}, expected {want} each"));
    }
    Ok(())
}

/// Replaces the process with a fresh image of this program that checks
/// its filters survived and exits with `EXEC_OK`.
fn exec_self() -> ! {
    let exe: &CStr = c"/proc/self/exe";
    let argv = [c"chain-stress".as_ptr(), c"--exec-exit".as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    // SAFETY: NUL-terminated strings and arrays, which outlive the call.
    unsafe { libc::execve(exe.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    say(&format!("tsync: execve: {}", io::Error::last_os_error()));
    // SAFETY: Ends the whole process.
    unsafe { libc::_exit(3) }
}

/// The image `exec_self` starts: single-threaded, no_new_privs, with the
/// filters of the thread that called `execve`.
fn exec_image() -> ! {
    // SAFETY: Arms this process's alarm.
    unsafe { libc::alarm(CASE_TIMEOUT) };
    // SAFETY: prctl with integer arguments.
    let nnp = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) };
    let r = (|| -> Result<(), String> {
        if nnp != 1 {
            return Err(format!("no_new_privs {nnp} after execve"));
        }
        expect(PROBE_BASE, Err(E_BASE))?;
        let threads = status_field("/proc/self/status", "Threads")?;
        let filters = status_field("/proc/self/status", "Seccomp_filters")?;
        if threads != 1 || filters < 1 {
            return Err(format!("{threads} threads, {filters} filters after execve"));
        }
        Ok(())
    })();
    let code = match r {
        Ok(()) => EXEC_OK,
        Err(e) => {
            say(&format!("tsync: new image: {e}"));
            EXEC_OK + 1
        }
    };
    // SAFETY: Ends the process.
    unsafe { libc::_exit(code) }
}

/// TSYNC calls of one thread in an exec round; any failure ends the
/// process with status 2 (no thread diverges here).
fn exec_round_tsyncs(i: usize, iters: usize) {
    for it in 0..iters {
        let p = tsync_filter(3700 + i as i32, it % 3);
        if let Err(e) = tsync_install(&p, tsync_flags(it), 0) {
            say(&format!("tsync: exec round, thread {i}: {e}"));
            // SAFETY: Ends the whole process.
            unsafe { libc::_exit(2) };
        }
    }
}

/// Threads TSYNC while one of them (the main one or another) calls execve.
fn tsync_exec(round: usize) -> Result<(), String> {
    no_new_privs()?;
    must_install(&base_filter(), 0)?;
    for i in 0..TSYNC_THREADS {
        std::thread::spawn(move || {
            exec_round_tsyncs(i, EXEC_ITERS);
            // Wait for the execve to end this thread.
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        });
    }
    let spin = [0, 1, 3, 7, 15, 2][round % 6];
    if round % 2 == 0 {
        exec_round_tsyncs(TSYNC_THREADS, spin);
        exec_self();
    }
    let t = std::thread::spawn(move || {
        exec_round_tsyncs(TSYNC_THREADS, spin);
        exec_self();
    });
    let _ = t.join();
    Err("joined the thread that should have called execve".into())
}

fn tsync(_ctx: &Ctx) -> Result<(), String> {
    let pid = spawn("tsync: race", tsync_race)?;
    reap(pid, "race")?;
    for round in 0..EXEC_ROUNDS {
        let pid = spawn(&format!("tsync: exec round {round}"), move || tsync_exec(round))?;
        reap_as(pid, &format!("exec round {round}"), Ended::Exited(EXEC_OK))?;
    }
    Ok(())
}

// ---- 4. ptrace -------------------------------------------------------------

const PT_FILTERS: usize = 40;
const PT_ROUNDS: usize = 6;
/// `SECCOMP_RET_TRACE` data of `PROBE_TRACE`.
const PT_TRACE_DATA: u32 = 0x77;
const PTRACE_SECCOMP_GET_FILTER: libc::c_long = 0x420c;
const PTRACE_SECCOMP_GET_METADATA: libc::c_long = 0x420d;

fn pt_logged(i: usize) -> bool {
    i % 5 == 4
}

/// The tracee's filter `i` (0 is the oldest), and whether it is installed
/// with `SECCOMP_FILTER_FLAG_LOG` (those allow everything: nothing to log).
fn pt_filter(i: usize) -> (Program, bool) {
    if pt_logged(i) {
        return (tiny(3 + i), true);
    }
    let mut rules = vec![(PROBE_SHARED, errno_action(4000 + i as i32))];
    match i {
        0 => rules.push((PROBE_DENY, errno_action(libc::EPERM))),
        1 => rules.push((PROBE_TRACE, trace_action(PT_TRACE_DATA))),
        _ => {}
    }
    (filter(&rules, i), false)
}

fn pt_chain() -> Vec<(Program, bool)> {
    (0..PT_FILTERS).map(pt_filter).collect()
}

fn ptrace(req: libc::c_long, pid: libc::pid_t, addr: usize, data: usize) -> Result<libc::c_long, i32> {
    // SAFETY: The requests used here take integers, or pointers to buffers
    // of the size the caller checked.
    let r = unsafe { libc::syscall(libc::SYS_ptrace, req, pid as libc::c_long, addr, data) };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// The tracee: installs the chain, then makes the probe calls the tracer
/// asks for over `cmd`, answering over `rep`.
fn tracee(cmd: libc::c_int, rep: libc::c_int) -> Result<(), String> {
    no_new_privs()?;
    for (p, log) in pt_chain() {
        must_install(&p, if log { libc::SECCOMP_FILTER_FLAG_LOG } else { 0 })?;
    }
    raw_write(rep, b"R");
    loop {
        let marker = match raw_read_byte(cmd) {
            Some(b'd') => PROBE_DENY,
            Some(b's') => PROBE_SHARED,
            Some(b't') => PROBE_TRACE,
            _ => return Ok(()),
        };
        let v = probe(marker).unwrap_or_else(|e| -(e as i64));
        raw_write(rep, &v.to_ne_bytes());
    }
}

struct Tracer {
    pid: libc::pid_t,
    cmd: libc::c_int,
    rep: libc::c_int,
    seize: bool,
    chain: Vec<(Program, bool)>,
}

impl Tracer {
    fn send(&self, c: u8) {
        raw_write(self.cmd, &[c]);
    }

    fn reply(&self) -> Result<Result<i64, i32>, String> {
        let mut b = [0u8; 8];
        for byte in &mut b {
            *byte = raw_read_byte(self.rep).ok_or("tracee went away")?;
        }
        let v = i64::from_ne_bytes(b);
        Ok(if v < 0 { Err(-v as i32) } else { Ok(v) })
    }

    /// Has the tracee make probe `c` and checks the outcome.
    fn ask(&self, c: u8, want: Result<i64, i32>, when: &str) -> Result<(), String> {
        self.send(c);
        let got = self.reply()?;
        if got == want {
            Ok(())
        } else {
            Err(format!("{when}: probe '{}' {}, expected: {}", c as char, show(got), show(want)))
        }
    }

    fn wait_stop(&self) -> Result<i32, String> {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        if unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) } != self.pid {
            return Err(format!("waitpid: {}", io::Error::last_os_error()));
        }
        if !libc::WIFSTOPPED(status) {
            return Err(format!("tracee did not stop: status {status:#x}"));
        }
        Ok(status)
    }

    fn attach(&self, options: libc::c_int) -> Result<(), String> {
        if self.seize {
            ptrace(libc::PTRACE_SEIZE as _, self.pid, 0, options as usize)
                .map_err(|e| format!("PTRACE_SEIZE: errno {e}"))?;
        } else {
            ptrace(libc::PTRACE_ATTACH as _, self.pid, 0, 0).map_err(|e| format!("PTRACE_ATTACH: errno {e}"))?;
            let status = self.wait_stop()?;
            if libc::WSTOPSIG(status) != libc::SIGSTOP {
                return Err(format!("attach stop with status {status:#x}"));
            }
            ptrace(libc::PTRACE_SETOPTIONS as _, self.pid, 0, options as usize)
                .map_err(|e| format!("PTRACE_SETOPTIONS: errno {e}"))?;
            self.cont()?;
        }
        Ok(())
    }

    /// Puts the running tracee in a ptrace stop.
    fn stop(&self) -> Result<(), String> {
        if self.seize {
            ptrace(libc::PTRACE_INTERRUPT as _, self.pid, 0, 0).map_err(|e| format!("PTRACE_INTERRUPT: errno {e}"))?;
        } else {
            // SAFETY: Signals our own child.
            unsafe { libc::kill(self.pid, libc::SIGSTOP) };
        }
        self.wait_stop().map(drop)
    }

    fn cont(&self) -> Result<(), String> {
        ptrace(libc::PTRACE_CONT as _, self.pid, 0, 0).map(drop).map_err(|e| format!("PTRACE_CONT: errno {e}"))
    }

    /// `PTRACE_SECCOMP_GET_FILTER` and `_METADATA` for filter `off`:
    /// `Ok(())` if they match the chain, else the errno both gave.
    fn query(&self, off: usize) -> Result<Result<(), i32>, String> {
        let len = match ptrace(PTRACE_SECCOMP_GET_FILTER, self.pid, off, 0) {
            Ok(len) => len as usize,
            Err(e) => {
                let md = self.metadata(off, 16);
                return if md == Err(e) {
                    Ok(Err(e))
                } else {
                    Err(format!("filter {off}: GET_FILTER errno {e} but GET_METADATA {md:?}"))
                };
            }
        };
        let Some((prog, log)) = self.chain.get(off) else {
            return Err(format!("filter {off} of {}: GET_FILTER gave length {len}", self.chain.len()));
        };
        let want = prog.instructions();
        if len != want.len() {
            return Err(format!("filter {off}: length {len}, installed {}", want.len()));
        }
        let mut buf = vec![libc::sock_filter { code: 0, jt: 0, jf: 0, k: 0 }; len];
        match ptrace(PTRACE_SECCOMP_GET_FILTER, self.pid, off, buf.as_mut_ptr() as usize) {
            Ok(n) if n as usize == len => {}
            // The tracee may have been killed in between.
            Err(libc::ESRCH) => return Ok(Err(libc::ESRCH)),
            r => return Err(format!("filter {off}: GET_FILTER into a buffer: {r:?}")),
        }
        let same = buf.iter().zip(want).all(|(a, b)| (a.code, a.jt, a.jf, a.k) == (b.code, b.jt, b.jf, b.k));
        if !same {
            return Err(format!("filter {off}: GET_FILTER returned other instructions than installed"));
        }
        let flags = if *log { libc::SECCOMP_FILTER_FLAG_LOG } else { 0 };
        match self.metadata(off, 16) {
            Ok(f) if f == flags => Ok(Ok(())),
            Err(libc::ESRCH) => Ok(Err(libc::ESRCH)),
            r => Err(format!("filter {off}: GET_METADATA {r:?}, expected flags {flags:#x}")),
        }
    }

    /// `PTRACE_SECCOMP_GET_METADATA` with a buffer of `size` bytes: the
    /// flags.
    fn metadata(&self, off: usize, size: usize) -> Result<u64, i32> {
        let mut md = [off as u64, u64::MAX];
        let n = ptrace(PTRACE_SECCOMP_GET_METADATA, self.pid, size, md.as_mut_ptr() as usize)?;
        if n as usize != size.min(16) {
            return Err(-1000 - n as i32);
        }
        Ok(md[1])
    }

    /// Reads the whole chain from the stopped tracee, and what lies past
    /// its end.
    fn dump(&self) -> Result<(), String> {
        for off in 0..self.chain.len() {
            self.query(off)?.map_err(|e| format!("filter {off}: errno {e} from a stopped tracee"))?;
        }
        for off in [self.chain.len(), self.chain.len() + 1, 1 << 40] {
            if self.query(off)? != Err(libc::ENOENT) {
                return Err(format!("filter {off} past the end of {}: not ENOENT", self.chain.len()));
            }
        }
        match self.metadata(0, 4) {
            Err(libc::EINVAL) => Ok(()),
            r => Err(format!("GET_METADATA with 4 bytes: {r:?}, expected EINVAL")),
        }
    }

    /// Asks for filters while the tracee dies: a stopped one answers, a
    /// running or dead one gives `ESRCH`.  Returns how many gave ESRCH.
    fn query_while_dying(&self, times: usize) -> Result<usize, String> {
        let mut esrch = 0;
        for i in 0..times {
            let off = i % (self.chain.len() + 2);
            match self.query(off)? {
                Ok(()) => {}
                Err(libc::ESRCH) => esrch += 1,
                Err(libc::ENOENT) if off >= self.chain.len() => {}
                Err(e) => return Err(format!("filter {off} of a dying tracee: errno {e}")),
            }
        }
        Ok(esrch)
    }
}

/// One tracee's life.  `round` picks the attach call (SEIZE or ATTACH) and
/// how the tracee ends: exiting through a `PTRACE_EVENT_EXIT` stop, killed
/// while stopped, or exiting while running.
fn ptrace_round(ctx: &Ctx, round: usize) -> Result<(), String> {
    let (cmd, rep) = (pipe()?, pipe()?);
    let pid = spawn(&format!("ptrace: tracee {round}"), move || {
        close(&[cmd[1], rep[0]]);
        tracee(cmd[0], rep[1])
    })?;
    close(&[cmd[0], rep[1]]);
    let t = Tracer { pid, cmd: cmd[1], rep: rep[0], seize: round % 2 == 0, chain: pt_chain() };
    let r = ptrace_life(ctx, &t, round);
    close(&[cmd[1], rep[0]]);
    if r.is_err() {
        // SAFETY: Signals our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = wait(pid);
        return r;
    }
    // The tracee was reaped: nothing left to ask.
    match t.query(0)? {
        Err(libc::ESRCH) => Ok(()),
        q => Err(format!("filter 0 of a reaped tracee: {q:?}, expected ESRCH")),
    }
}

fn ptrace_life(ctx: &Ctx, t: &Tracer, round: usize) -> Result<(), String> {
    let me = getpid();
    // The newest filter with rules fails PROBE_SHARED.
    let newest = Err(4000 + (0..PT_FILTERS).rev().find(|&i| !pt_logged(i)).unwrap_or(0) as i32);
    if raw_read_byte(t.rep) != Some(b'R') {
        return Err("tracee did not get ready".into());
    }
    ctx.expect_live(PT_FILTERS)?;
    t.ask(b'd', Err(libc::EPERM), "untraced")?;
    t.ask(b's', newest, "untraced")?;
    t.ask(b't', Err(libc::ENOSYS), "untraced")?;
    // Suspended: no filter runs.
    t.attach(libc::PTRACE_O_SUSPEND_SECCOMP)?;
    for c in [b'd', b's', b't'] {
        t.ask(c, Ok(me), "seccomp suspended")?;
    }
    t.stop()?;
    for _ in 0..3 {
        t.dump()?;
    }
    ptrace(libc::PTRACE_DETACH as _, t.pid, 0, 0).map_err(|e| format!("PTRACE_DETACH: errno {e}"))?;
    t.ask(b'd', Err(libc::EPERM), "detached")?;
    t.ask(b's', newest, "detached")?;
    t.ask(b't', Err(libc::ENOSYS), "detached")?;
    // Traced: SECCOMP_RET_TRACE stops for the tracer, then the call runs.
    let ending = round % 3;
    let exit_stop = if ending == 0 { libc::PTRACE_O_TRACEEXIT } else { 0 };
    t.attach(libc::PTRACE_O_TRACESECCOMP | exit_stop)?;
    t.send(b't');
    let status = t.wait_stop()?;
    if status >> 8 != libc::SIGTRAP | (libc::PTRACE_EVENT_SECCOMP << 8) {
        return Err(format!("expected a seccomp stop, got status {status:#x}"));
    }
    let mut msg: libc::c_ulong = 0;
    ptrace(libc::PTRACE_GETEVENTMSG as _, t.pid, 0, &mut msg as *mut _ as usize)
        .map_err(|e| format!("PTRACE_GETEVENTMSG: errno {e}"))?;
    if msg != PT_TRACE_DATA as libc::c_ulong {
        return Err(format!("seccomp stop with data {msg:#x}, expected {PT_TRACE_DATA:#x}"));
    }
    t.dump()?;
    t.cont()?;
    match t.reply()? {
        Ok(v) if v == me => {}
        r => return Err(format!("traced probe 't' {} after the seccomp stop, expected: returned {me}", show(r))),
    }
    t.ask(b'd', Err(libc::EPERM), "traced")?;
    match ending {
        0 => {
            t.send(b'q');
            let status = t.wait_stop()?;
            if status >> 8 != libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8) {
                return Err(format!("expected an exit stop, got status {status:#x}"));
            }
            // Still attached to its filters until it is reaped.
            t.dump()?;
            t.cont()?;
            t.query_while_dying(50)?;
            reap(t.pid, "tracee")
        }
        1 => {
            t.stop()?;
            t.dump()?;
            // SAFETY: Signals our own child.
            unsafe { libc::kill(t.pid, libc::SIGKILL) };
            if t.query_while_dying(50)? == 0 {
                return Err("a tracee killed by SIGKILL still answers".into());
            }
            reap_as(t.pid, "tracee", Ended::Signaled(libc::SIGKILL))
        }
        _ => {
            t.send(b'q');
            t.query_while_dying(50)?;
            reap(t.pid, "tracee")
        }
    }
}

fn ptrace_case(ctx: &Ctx) -> Result<(), String> {
    // The tracer must not be filtered itself (for GET_FILTER and
    // SUSPEND_SECCOMP): it is a fork of main(), which never is.
    let pid = spawn("ptrace: tracer", || (0..PT_ROUNDS).try_for_each(|round| ptrace_round(ctx, round)))?;
    reap(pid, "tracer")
}

// ---- 5. jit-harden -----------------------------------------------------------

/// `net.core.bpf_jit_enable` and `net.core.bpf_jit_harden`.
const JIT_ENABLE: &str = "/proc/sys/net/core/bpf_jit_enable";
const JIT_HARDEN: &str = "/proc/sys/net/core/bpf_jit_harden";

/// How many one-instruction `ret ALLOW` filters one path takes: each is
/// charged its eBPF length (5, or 7 once the JIT blinded the constant of
/// its `mov32 r0, k`) plus 4 per older filter, up to 32768.
fn one_insn_filters_fitting(blinded: bool) -> usize {
    let len = if blinded { 7 } else { 5 };
    (MAX_INSNS_PER_PATH - len) / (len + 4) + 1
}

/// Stacks one-instruction filters until the kernel refuses one, which must
/// be with `ENOMEM` after exactly `want` of them.
fn stack_until_full(want: usize, drop_caps: bool) -> Result<(), String> {
    no_new_privs()?;
    if drop_caps {
        // Without CAP_BPF (nor CAP_SYS_ADMIN), bpf_jit_harden=1 blinds.
        drop_capabilities()?;
    }
    let mut b = ProgramBuilder::new();
    b.allow();
    let p = b.resolve().map_err(|e| e.to_string())?;
    for n in 0.. {
        match install(&p, 0) {
            Ok(0) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) && n == want => return Ok(()),
            r => return Err(format!("filter {}: {r:?}, expected ENOMEM after {want}", n + 1)),
        }
    }
    Ok(())
}

fn jit_harden(_: &Ctx) -> Result<(), String> {
    let set = |path: &str, value: &str| std::fs::write(path, value).map_err(|e| format!("{path}: {e}"));
    // (bpf_jit_enable, bpf_jit_harden, capabilities dropped, blinded)
    let cases = [
        ("0", "2", false, false), // no JIT, nothing to blind
        ("1", "0", false, false),
        ("1", "1", false, false), // root has CAP_BPF
        ("1", "1", true, true),
        ("1", "2", false, true),
    ];
    for (enable, harden, drop_caps, blinded) in cases {
        set(JIT_ENABLE, enable)?;
        set(JIT_HARDEN, harden)?;
        let want = one_insn_filters_fitting(blinded);
        let what = format!("jit-harden: enable={enable} harden={harden} caps dropped={drop_caps}");
        let pid = spawn(&what, || stack_until_full(want, drop_caps))?;
        reap(pid, &what)?;
    }
    set(JIT_HARDEN, "0")?;
    set(JIT_ENABLE, "0")
}

// ---- 6. cve ---------------------------------------------------------------------

/// Denied by the cve case's filters.
const PROBE_CVE_DENY: u32 = 0x5ec0_0006;
/// Traced by the cve case's filters.
const PROBE_CVE_TRACE: u32 = 0x5ec0_0007;
/// Offset of `orig_rax` in `struct user_regs_struct`.
const ORIG_RAX: usize = 15 * 8;

/// capset(2) to no capability at all, for the calling thread.
fn drop_capabilities() -> Result<(), String> {
    let header = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, self
    let data = [0u32; 6];
    // SAFETY: capset reads the header and two data structs.
    if unsafe { libc::syscall(libc::SYS_capset, header.as_ptr(), data.as_ptr()) } != 0 {
        return Err(format!("capset: {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// CVE-2022-30594: `PTRACE_O_SUSPEND_SECCOMP` through `PTRACE_SEIZE` is
/// refused (`EPERM`) to a tracer without `CAP_SYS_ADMIN` and to a tracer
/// under seccomp itself, and the tracee's filters stay in force.
fn cve_suspend_seccomp() -> Result<(), String> {
    let [cmd_r, cmd_w] = pipe()?;
    let [rep_r, rep_w] = pipe()?;
    let tracee = spawn("cve: suspend: tracee", || {
        no_new_privs()?;
        must_install(&filter(&[(PROBE_CVE_DENY, errno_action(libc::EPERM))], 0), 0)?;
        raw_write(rep_w, b"R");
        raw_read_byte(cmd_r).ok_or("no command")?;
        expect(PROBE_CVE_DENY, Err(libc::EPERM))
    })?;
    raw_read_byte(rep_r).ok_or("cve: suspend: the tracee did not start")?;
    let unprivileged = |what: &'static str, prepare: fn() -> Result<(), String>| {
        spawn(what, move || {
            prepare()?;
            match ptrace(libc::PTRACE_SEIZE as _, tracee, 0, libc::PTRACE_O_SUSPEND_SECCOMP as usize) {
                Err(libc::EPERM) => Ok(()),
                r => Err(format!("PTRACE_SEIZE with PTRACE_O_SUSPEND_SECCOMP: {r:?}, expected EPERM")),
            }
        })
        .and_then(|pid| reap(pid, what))
    };
    unprivileged("cve: suspend: tracer without CAP_SYS_ADMIN", drop_capabilities)?;
    unprivileged("cve: suspend: tracer under seccomp", || {
        no_new_privs()?;
        must_install(&tiny(1), 0)
    })?;
    raw_write(cmd_w, b"p");
    reap(tracee, "cve: suspend: tracee")
}

/// CVE-2019-2054: a system call a tracer rewrites at its
/// `SECCOMP_RET_TRACE` stop is judged again by the filters: the new
/// number, denied, fails.
fn cve_rewritten_syscall() -> Result<(), String> {
    let mut b = ProgramBuilder::new();
    b.load_arch()
        .jne(AUDIT_ARCH_X86_64, "kill")
        .load_syscall_nr()
        .on_syscall(libc::SYS_gettid, "deny")
        .on_syscall(PROBE_NR, "probe")
        .allow()
        .label("probe")
        .load_arg_low(0)
        .jeq(PROBE_CVE_TRACE, "trace")
        .allow()
        .label("trace")
        .ret(trace_action(1))
        .label("deny")
        .errno(libc::EPERM)
        .label("kill")
        .kill();
    let prog = b.resolve().map_err(|e| e.to_string())?;
    let tracee = spawn("cve: rewrite: tracee", || {
        // SAFETY: Requests tracing by our parent, then stops for it.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
        }
        no_new_privs()?;
        must_install(&prog, 0)?;
        expect(PROBE_CVE_TRACE, Err(libc::EPERM))
    })?;
    let mut status = 0;
    let mut stopped = || {
        // SAFETY: `status` is a valid out-pointer.
        (unsafe { libc::waitpid(tracee, &mut status, 0) }) == tracee && libc::WIFSTOPPED(status)
    };
    if !stopped() {
        return Err("cve: rewrite: no initial stop".into());
    }
    ptrace(libc::PTRACE_SETOPTIONS as _, tracee, 0, libc::PTRACE_O_TRACESECCOMP as usize)
        .and_then(|_| ptrace(libc::PTRACE_CONT as _, tracee, 0, 0))
        .map_err(|e| format!("cve: rewrite: SETOPTIONS/CONT: errno {e}"))?;
    if !stopped() || status >> 8 != (libc::SIGTRAP | (libc::PTRACE_EVENT_SECCOMP << 8)) {
        return Err(format!("cve: rewrite: no seccomp stop (status {status:#x})"));
    }
    ptrace(libc::PTRACE_POKEUSER as _, tracee, ORIG_RAX, libc::SYS_gettid as usize)
        .and_then(|_| ptrace(libc::PTRACE_DETACH as _, tracee, 0, 0))
        .map_err(|e| format!("cve: rewrite: POKEUSER/DETACH: errno {e}"))?;
    reap(tracee, "cve: rewrite: tracee")
}

/// A `TSYNC` that fails on a sibling while asking for a listener
/// (`TSYNC_ESRCH` with `NEW_LISTENER`) attaches nothing and leaves no fd.
fn cve_tsync_listener() -> Result<(), String> {
    let pid = spawn("cve: tsync listener", || {
        no_new_privs()?;
        let fds = || std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0);
        let before = fds();
        let barrier = Arc::new(Barrier::new(2));
        let sibling = {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let r = must_install(&tiny(2), 0);
                barrier.wait(); // diverged
                barrier.wait(); // the main thread tried
                r
            })
        };
        barrier.wait();
        let flags = libc::SECCOMP_FILTER_FLAG_TSYNC
            | libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
            | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        let mut b = ProgramBuilder::new();
        b.ret(libc::SECCOMP_RET_USER_NOTIF);
        let r = install(&b.resolve().map_err(|e| e.to_string())?, flags);
        let after = fds();
        barrier.wait();
        sibling.join().map_err(|_| "sibling panicked")??;
        match r {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) && after == before => Ok(()),
            r => Err(format!(
                "TSYNC|TSYNC_ESRCH|NEW_LISTENER: {r:?} with {before} -> {after} fds; expected ESRCH, no new fd"
            )),
        }
    })?;
    reap(pid, "cve: tsync listener")
}

/// A `fork()` that fails (`RLIMIT_NPROC` of an unprivileged user) in a
/// process with filters: `EAGAIN`, and the leak meter sees no filter left.
fn cve_failed_fork() -> Result<(), String> {
    let pid = spawn("cve: failed fork", || {
        no_new_privs()?;
        must_install(&tiny(3), 0)?;
        let one = libc::rlimit { rlim_cur: 1, rlim_max: 1 };
        // SAFETY: Plain system calls on this process's credentials.
        unsafe {
            if libc::setresgid(65534, 65534, 65534) != 0 || libc::setresuid(65534, 65534, 65534) != 0 {
                return Err(format!("setresuid: {}", io::Error::last_os_error()));
            }
            libc::setrlimit(libc::RLIMIT_NPROC, &one);
            match libc::fork() {
                -1 if errno() == libc::EAGAIN => Ok(()),
                -1 => Err(format!("fork: errno {}, expected EAGAIN", errno())),
                0 => libc::_exit(0),
                child => {
                    libc::waitpid(child, std::ptr::null_mut(), 0);
                    Err("fork succeeded past RLIMIT_NPROC".into())
                }
            }
        }
    })?;
    reap(pid, "cve: failed fork")
}

fn cve(_: &Ctx) -> Result<(), String> {
    cve_suspend_seccomp()?;
    cve_rewritten_syscall()?;
    cve_tsync_listener()?;
    cve_failed_fork()
}

// ---- main ------------------------------------------------------------------

struct Case {
    name: &'static str,
    run: fn(&Ctx) -> Result<(), String>,
    /// Measured runs.
    rounds: usize,
    /// Whether the slab and vmalloc estimate (a kernel without the exact
    /// count) can judge the case's leaks: not when the case itself keeps
    /// unrelated kernel memory (credentials and user accounting of another
    /// uid, deferred file frees).  Such a case is leak-checked by the
    /// exact count, or by kmemleak in `make test-debug`.
    estimate_judges: bool,
}

const CASES: [Case; 6] = [
    Case { name: "fork-storm", run: fork_storm, rounds: 1, estimate_judges: true },
    Case { name: "insn-limit", run: insn_limit, rounds: 1, estimate_judges: true },
    Case { name: "tsync", run: tsync, rounds: 2, estimate_judges: true },
    Case { name: "ptrace", run: ptrace_case, rounds: 2, estimate_judges: true },
    Case { name: "jit-harden", run: jit_harden, rounds: 1, estimate_judges: true },
    Case { name: "cve", run: cve, rounds: 2, estimate_judges: false },
];

fn run_case(case: &Case, meter: Meter) -> Result<(), String> {
    let start = Instant::now();
    let live_base = meter.live_filters();
    let ctx = Ctx { live_base, meter };
    let mut runs = Vec::new();
    let mut run = || -> Result<(), String> {
        let t = Instant::now();
        (case.run)(&ctx)?;
        runs.push(format!("{:.1}", t.elapsed().as_secs_f64()));
        Ok(())
    };
    // On the slab meter, a warm-up run first: it grows the slab caches to
    // what the measured runs need.  The exact count and kmemleak need none.
    if meter.needs_warm_up() {
        run()?;
    }
    let before = meter.baseline();
    attached().store(0, SeqCst);
    for _ in 0..case.rounds {
        run()?;
    }
    let verdict = meter.check(before, attached().load(SeqCst));
    let judged = meter != Meter::Meminfo || case.estimate_judges;
    println!(
        "chain-stress: {}: {:.1} s (runs {} s); {verdict}{}",
        case.name,
        start.elapsed().as_secs_f64(),
        runs.join(" + "),
        if judged {
            ""
        } else {
            " (not judged: the estimate cannot tell this case's own memory from a leak; kmemleak in make test-debug does)"
        }
    );
    if verdict.ok || !judged {
        Ok(())
    } else {
        Err("filters leaked".into())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(EXEC_ARG) {
        exec_image();
    }
    let mut selected = Vec::new();
    for a in if args.is_empty() { vec!["all".to_string()] } else { args } {
        match CASES.iter().position(|c| c.name == a).or_else(|| a.parse::<usize>().ok().and_then(|n| n.checked_sub(1)))
        {
            _ if a == "all" => selected.extend(0..CASES.len()),
            Some(i) if i < CASES.len() => selected.push(i),
            _ => {
                let names: Vec<_> = CASES.iter().map(|c| c.name).collect();
                println!("usage: chain-stress [all|{}|1-{}]...", names.join("|"), CASES.len());
                std::process::exit(2);
            }
        }
    }
    map_attached_counter();
    let meter = Meter::detect();
    println!("chain-stress: leak meter: {}", meter.describe());
    for i in selected {
        let case = &CASES[i];
        // SAFETY: Arms our own alarm, well after the cases' processes'.
        unsafe { libc::alarm(3 * CASE_TIMEOUT) };
        if let Err(e) = run_case(case, meter) {
            println!("chain-stress: FAIL: {}: {e}", case.name);
            std::process::exit(1);
        }
    }
    println!("chain-stress: PASS");
}
