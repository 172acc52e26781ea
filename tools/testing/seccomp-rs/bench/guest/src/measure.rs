// SPDX-License-Identifier: GPL-2.0

//! Measurements, each in a fresh forked child so filters never accumulate
//! from one workload to the next.
//!
//! Once its filters are attached a child allocates nothing and makes only
//! the calls every filter here allows: the probed syscall,
//! `clock_gettime` (vDSO), `read`/`write` on its pipes and `exit_group`.
//! It reports fixed-size records through a pipe; the parent checks them
//! and the child's exit status.

use std::io;
use std::mem::size_of;

use libc::{c_long, sock_filter, sock_fprog};

/// The syscall a measurement makes in its loop, and what the workload's
/// filters must decide for it.  Every probe is harmless without a filter
/// too (the baseline makes it unfiltered): it takes no pointer, or one to
/// a word of its own, and the calls that could create something fail
/// first on an invalid argument.
#[derive(Clone, Copy)]
pub struct Probe {
    pub name: &'static str,
    nr: c_long,
    args: [c_long; 3],
    /// `None`: allowed, so the call gives what it gives without filters;
    /// `Some(errno)`: the filters fail it with that errno.
    denied_with: Option<i32>,
}

/// The futex word of the `futex` probe (a wake with no waiter).
static FUTEX_WORD: u32 = 0;

impl Probe {
    const fn new(name: &'static str, nr: c_long, args: [c_long; 3], denied_with: Option<i32>) -> Self {
        Probe { name, nr, args, denied_with }
    }

    /// The same call, failed with `errno` by the workload's filters.
    pub const fn denied(self, errno: i32) -> Self {
        Probe { denied_with: Some(errno), ..self }
    }

    /// `getppid()`: allowed, and the last entry of the linear allow-lists.
    pub const ALLOWED: Probe = Probe::new("allowed", libc::SYS_getppid, [0; 3], None);
    /// `acct(NULL)`: in no allow-list, so every filter returns EPERM for
    /// it.  Without a filter it is `sys_ni_syscall` here (no
    /// `CONFIG_BSD_PROCESS_ACCT`), as cheap a syscall as there is.
    pub const DENIED: Probe = Probe::new("denied", libc::SYS_acct, [0; 3], Some(libc::EPERM));
    /// `personality(0xffffffff)` (a query), allowed after comparing its
    /// argument.
    pub const ARGCHECK: Probe = Probe::new("argcheck", libc::SYS_personality, [0xffff_ffff, 0, 0], None);
    /// `fcntl(-1, F_GETFL)`: a command the policy lets through (EBADF).
    pub const FCNTL: Probe = Probe::new("fcntl", libc::SYS_fcntl, [-1, libc::F_GETFL as c_long, 0], None);
    /// `fcntl(-1, F_SETLEASE, 0)`: a command the policy refuses.
    pub const FCNTL_DENIED: Probe =
        Probe::new("fcntl-denied", libc::SYS_fcntl, [-1, libc::F_SETLEASE as c_long, 0], Some(libc::EPERM));
    /// `futex(&word, FUTEX_WAKE_PRIVATE, 0)`: an operation the policy lets
    /// through (nobody to wake).
    pub const FUTEX: Probe =
        Probe::new("futex", libc::SYS_futex, [0, (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as c_long, 0], None);
    /// `mprotect(NULL, 0, PROT_READ)`: a protection without PROT_EXEC.
    pub const MPROTECT: Probe = Probe::new("mprotect", libc::SYS_mprotect, [0, 0, libc::PROT_READ as c_long], None);
    /// `prctl(PR_GET_DUMPABLE)`: an option the policy lets through.
    pub const PRCTL: Probe = Probe::new("prctl", libc::SYS_prctl, [libc::PR_GET_DUMPABLE as c_long, 0, 0], None);
    /// `socket(AF_UNIX, -1, 0)`: an allowed family (then EINVAL).
    pub const SOCKET: Probe = Probe::new("socket", libc::SYS_socket, [libc::AF_UNIX as c_long, -1, 0], None);
    /// `socket(AF_PACKET, -1, 0)`: a family the policy refuses.
    pub const SOCKET_DENIED: Probe =
        Probe::new("socket-denied", libc::SYS_socket, [libc::AF_PACKET as c_long, -1, 0], Some(libc::EPERM));

    /// One call (the futex probe's first argument is its own word).
    fn call(&self) -> c_long {
        let mut args = self.args;
        if self.nr == libc::SYS_futex {
            args[0] = &FUTEX_WORD as *const u32 as c_long;
        }
        // SAFETY: The probes pass no pointer but the futex word, which is
        // valid for the program's life.
        unsafe { libc::syscall(self.nr, args[0], args[1], args[2], 0, 0, 0) }
    }

    /// Whether a call's outcome (`ret`, `errno`) is what the filters should
    /// have decided, `unfiltered` being the call's outcome without them.
    fn outcome_ok(&self, filtered: bool, unfiltered: (c_long, i32), ret: c_long, errno: i32) -> bool {
        match self.denied_with {
            Some(denied) if filtered => ret == -1 && errno == denied,
            _ => ret == unfiltered.0 && (ret != -1 || errno == unfiltered.1),
        }
    }
}

/// Nanoseconds of `CLOCK_MONOTONIC`.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Attaches `filter` to the calling thread; returns the errno on failure.
fn attach(filter: &[sock_filter]) -> Result<(), i32> {
    attach_with(filter, 0).map(drop)
}

fn set_no_new_privs() -> Result<(), i32> {
    // SAFETY: plain prctl.
    let ret = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if ret == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// What went wrong in a child, as it reports it.
const STATUS_OK: u64 = 0;
const STATUS_SETUP_FAILED: u64 = 1;
const STATUS_ATTACH_FAILED: u64 = 2;
const STATUS_WRONG_OUTCOME: u64 = 3;

/// One record a child sends: plain `u64`s, so no parsing can go wrong.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Record {
    status: u64,
    /// errno for a failure; the first call's return value for a probe.
    detail: u64,
    elapsed_ns: u64,
    count: u64,
}

impl Record {
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Record` is `repr(C)` plain data without padding.
        unsafe { std::slice::from_raw_parts(self as *const Record as *const u8, size_of::<Record>()) }
    }
}

fn write_all(fd: i32, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

/// Reads exactly one record, or `None` at end of file.
fn read_record(fd: i32) -> io::Result<Option<Record>> {
    let mut record = Record::default();
    // SAFETY: `Record` is plain data; any bytes make a valid value.
    let buf = unsafe { std::slice::from_raw_parts_mut(&mut record as *mut Record as *mut u8, size_of::<Record>()) };
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the rest of `buf` is valid for writing.
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        match n {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short record")),
            n if n < 0 => return Err(io::Error::last_os_error()),
            n => got += n as usize,
        }
    }
    Ok(Some(record))
}

fn child_exit(code: i32) -> ! {
    // SAFETY: `_exit` (exit_group) ends the child without running the
    // parent's atexit handlers or flushing its copied stdio buffers.
    unsafe { libc::_exit(code) }
}

struct Pipe {
    read: i32,
    write: i32,
}

fn pipe() -> io::Result<Pipe> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Pipe { read: fds[0], write: fds[1] })
}

fn close(fd: i32) {
    // SAFETY: closing a descriptor this process owns.
    unsafe { libc::close(fd) };
}

/// Forks; runs `child` in the child, which ends with `child_exit()` (and
/// exits with status 1 should it return).
fn fork(child: impl FnOnce()) -> io::Result<libc::pid_t> {
    // SAFETY: the program is single-threaded, so the child may run Rust
    // code; `child` only uses what it allocated before the fork.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            child();
            child_exit(1)
        }
        pid => Ok(pid),
    }
}

/// Waits for `pid`; an error unless it exited with status 0.
fn reap(pid: libc::pid_t, what: &str) -> Result<(), String> {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!("{what}: waitpid: {}", io::Error::last_os_error()));
    }
    if libc::WIFSIGNALED(status) {
        return Err(format!("{what}: child killed by signal {}", libc::WTERMSIG(status)));
    }
    match libc::WEXITSTATUS(status) {
        0 => Ok(()),
        code => Err(format!("{what}: child exited with status {code}")),
    }
}

fn check_record(record: &Record, what: &str) -> Result<(), String> {
    let detail = record.detail as i64;
    match record.status {
        STATUS_OK => Ok(()),
        STATUS_SETUP_FAILED => Err(format!("{what}: PR_SET_NO_NEW_PRIVS failed, errno {detail}")),
        STATUS_ATTACH_FAILED => Err(format!("{what}: seccomp(SET_MODE_FILTER) failed, errno {detail}")),
        STATUS_WRONG_OUTCOME => {
            Err(format!("{what}: the filter decided wrongly (returned {detail}, errno {})", record.elapsed_ns))
        }
        other => Err(format!("{what}: unknown status {other}")),
    }
}

/// Result of one probe: nanoseconds per call.
pub struct SyscallCost {
    pub probe: Probe,
    pub ns_per_call: f64,
}

/// The timed calls of a probe are split in this many batches, and the
/// median batch counts: a kernel background event landing in one batch
/// (a timer, a workqueue) does not move the figure.
const BATCHES: usize = 5;

/// Attaches `filters` in a fresh child, then times `iterations` calls of
/// each probe (after a short warm-up) with `CLOCK_MONOTONIC`: nanoseconds
/// per call of the median of `BATCHES` batches.
pub fn syscall_costs(
    filters: &[Vec<sock_filter>],
    probes: &[Probe],
    iterations: u64,
    what: &str,
) -> Result<Vec<SyscallCost>, String> {
    let pipe = pipe().map_err(|e| format!("{what}: pipe: {e}"))?;
    let filtered = !filters.is_empty();
    let pid = fork(|| {
        close(pipe.read);
        let fail = |status, detail: i64, extra: u64| -> ! {
            let record = Record { status, detail: detail as u64, elapsed_ns: extra, count: 0 };
            write_all(pipe.write, record.as_bytes());
            child_exit(1)
        };
        // What each probe gives without filters (allocated before the
        // filters, which may not allow the allocator's calls).
        let unfiltered: std::collections::HashMap<&str, (c_long, i32)> =
            probes.iter().map(|probe| (probe.name, (probe.call(), errno()))).collect();
        if let Err(e) = set_no_new_privs() {
            fail(STATUS_SETUP_FAILED, e.into(), 0);
        }
        for filter in filters {
            if let Err(e) = attach(filter) {
                fail(STATUS_ATTACH_FAILED, e.into(), 0);
            }
        }
        let warmup = (iterations / 20).max(100);
        for probe in probes {
            let first = probe.call();
            if !probe.outcome_ok(filtered, unfiltered[probe.name], first, errno()) {
                fail(STATUS_WRONG_OUTCOME, first, errno() as u64);
            }
            for _ in 0..warmup {
                probe.call();
            }
            let batch_len = (iterations / BATCHES as u64).max(1);
            let mut batch_ns = [0u64; BATCHES];
            for elapsed in batch_ns.iter_mut() {
                let start = now_ns();
                for _ in 0..batch_len {
                    probe.call();
                }
                *elapsed = now_ns() - start;
            }
            batch_ns.sort_unstable();
            let record =
                Record { status: STATUS_OK, detail: first as u64, elapsed_ns: batch_ns[BATCHES / 2], count: batch_len };
            write_all(pipe.write, record.as_bytes());
        }
        child_exit(0)
    })
    .map_err(|e| format!("{what}: fork: {e}"))?;
    close(pipe.write);

    let mut costs = Vec::new();
    let mut failure = None;
    for &probe in probes {
        match read_record(pipe.read) {
            Ok(Some(record)) => {
                if let Err(e) = check_record(&record, what) {
                    failure = Some(e);
                    break;
                }
                costs.push(SyscallCost { probe, ns_per_call: record.elapsed_ns as f64 / record.count as f64 });
            }
            Ok(None) => {
                failure = Some(format!("{what}: child sent no result for {}", probe.name));
                break;
            }
            Err(e) => {
                failure = Some(format!("{what}: reading results: {e}"));
                break;
            }
        }
    }
    close(pipe.read);
    let reaped = reap(pid, what);
    match failure {
        Some(e) => Err(e),
        None => reaped.map(|()| costs),
    }
}

/// Marks, for a debugger stopped at this function, that the next system
/// call the process makes is probe `label` (a NUL-terminated
/// `WORKLOAD/PROBE`): `make bench`'s instruction breakdown
/// (bench/breakdown.py) breaks here and at `__secure_computing`.
#[no_mangle]
#[inline(never)]
pub extern "C" fn seccomp_bench_trace_mark(label: *const libc::c_char) {
    std::hint::black_box(label);
}

/// For the breakdown: in a fresh child, `filters` attached (the last one
/// marked `WORKLOAD/attach`), then each probe once untraced, then marked
/// with [`seccomp_bench_trace_mark`] and made once more; every decision
/// is checked as when timing.
pub fn trace_probes(workload: &str, filters: &[Vec<sock_filter>], probes: &[Probe]) -> Result<(), String> {
    let labels: Vec<std::ffi::CString> = probes
        .iter()
        .map(|probe| std::ffi::CString::new(format!("{workload}/{}", probe.name)).unwrap_or_default())
        .collect();
    let attach_label = std::ffi::CString::new(format!("{workload}/attach")).unwrap_or_default();
    let pid = fork(|| {
        // As when timing: the outcomes without filters come from the child.
        let unfiltered: Vec<(c_long, i32)> = probes.iter().map(|probe| (probe.call(), errno())).collect();
        if set_no_new_privs().is_err() {
            child_exit(STATUS_SETUP_FAILED as i32)
        }
        for (i, filter) in filters.iter().enumerate() {
            if i + 1 == filters.len() {
                seccomp_bench_trace_mark(attach_label.as_ptr());
            }
            if attach(filter).is_err() {
                child_exit(STATUS_ATTACH_FAILED as i32)
            }
        }
        for ((probe, label), &before) in probes.iter().zip(&labels).zip(&unfiltered) {
            for traced in [false, true] {
                if traced {
                    seccomp_bench_trace_mark(label.as_ptr());
                }
                let ret = probe.call();
                if !probe.outcome_ok(!filters.is_empty(), before, ret, errno()) {
                    child_exit(STATUS_WRONG_OUTCOME as i32)
                }
            }
        }
        child_exit(0)
    })
    .map_err(|e| format!("{workload}: fork: {e}"))?;
    reap(pid, workload)
}

/// Kernel memory counters from /proc/meminfo, in bytes.
#[derive(Clone, Copy, Default)]
pub struct MemInfo {
    pub mem_free: i64,
    pub slab: i64,
    pub vmalloc_used: i64,
    pub percpu: i64,
}

pub fn meminfo() -> Result<MemInfo, String> {
    let text = std::fs::read_to_string("/proc/meminfo").map_err(|e| format!("/proc/meminfo: {e}"))?;
    let mut info = MemInfo::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(key), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(kib) = value.parse::<i64>() else {
            continue;
        };
        let field = match key {
            "MemFree:" => &mut info.mem_free,
            "Slab:" => &mut info.slab,
            "VmallocUsed:" => &mut info.vmalloc_used,
            "Percpu:" => &mut info.percpu,
            _ => continue,
        };
        *field = kib * 1024;
    }
    Ok(info)
}

/// Cost of attaching one filter and the kernel memory it holds.
pub struct AttachCost {
    /// Mean time of one `seccomp(SECCOMP_SET_MODE_FILTER)` call.
    pub ns_per_attach: f64,
    pub attached: usize,
    /// Growth of each counter per filter between `first` and `total`
    /// attached filters (the slope cancels what the child itself and the
    /// first filter's one-off allocations cost).
    pub bytes_per_filter: MemInfo,
    pub filters_in_slope: usize,
}

/// In a fresh child, attaches `first` copies of `filter`, lets the parent
/// read /proc/meminfo, attaches up to `total` copies (fewer if the kernel
/// refuses more with ENOMEM), lets it read again.
pub fn attach_cost(filter: &[sock_filter], first: usize, total: usize, what: &str) -> Result<AttachCost, String> {
    assert!(0 < first && first < total);
    let to_parent = pipe().map_err(|e| format!("{what}: pipe: {e}"))?;
    let to_child = pipe().map_err(|e| format!("{what}: pipe: {e}"))?;
    let pid = fork(|| {
        close(to_parent.read);
        close(to_child.write);
        let send = |record: Record| write_all(to_parent.write, record.as_bytes());
        let wait_for_parent = || {
            let mut byte = 0u8;
            // SAFETY: one-byte buffer.
            unsafe { libc::read(to_child.read, (&mut byte as *mut u8).cast(), 1) };
        };
        if let Err(e) = set_no_new_privs() {
            send(Record { status: STATUS_SETUP_FAILED, detail: e as u64, ..Default::default() });
            child_exit(1);
        }
        let mut elapsed_ns = 0;
        for batch_end in [first, total] {
            let mut attached = if batch_end == first { 0 } else { first };
            while attached < batch_end {
                let start = now_ns();
                let result = attach(filter);
                let end = now_ns();
                match result {
                    Ok(()) => {
                        elapsed_ns += end - start;
                        attached += 1;
                    }
                    // The task's instruction limit, counted on the kernel's
                    // own (converted, longer) programs: stop there.
                    Err(libc::ENOMEM) if attached > first => break,
                    Err(e) => {
                        send(Record { status: STATUS_ATTACH_FAILED, detail: e as u64, ..Default::default() });
                        child_exit(1);
                    }
                }
            }
            send(Record { status: STATUS_OK, detail: 0, elapsed_ns, count: attached as u64 });
            wait_for_parent();
        }
        child_exit(0)
    })
    .map_err(|e| format!("{what}: fork: {e}"))?;
    close(to_parent.write);
    close(to_child.read);

    let mut result = Err(String::new());
    let mut counters = Vec::new();
    for _ in 0..2 {
        match read_record(to_parent.read) {
            Ok(Some(record)) => {
                if let Err(e) = check_record(&record, what) {
                    result = Err(e);
                    break;
                }
                match meminfo() {
                    Ok(info) => counters.push(info),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
                result = Ok(record);
            }
            Ok(None) => {
                result = Err(format!("{what}: child sent no result"));
                break;
            }
            Err(e) => {
                result = Err(format!("{what}: reading results: {e}"));
                break;
            }
        }
        write_all(to_child.write, b"c");
    }
    close(to_child.write);
    close(to_parent.read);
    let reaped = reap(pid, what);
    let record = result?;
    reaped?;
    let stacked = record.count as usize;
    let slope = (stacked - first) as i64;
    let (before, after) = (counters[0], counters[1]);
    Ok(AttachCost {
        ns_per_attach: record.elapsed_ns as f64 / record.count as f64,
        attached: stacked,
        bytes_per_filter: MemInfo {
            mem_free: (before.mem_free - after.mem_free) / slope,
            slab: (after.slab - before.slab) / slope,
            vmalloc_used: (after.vmalloc_used - before.vmalloc_used) / slope,
            percpu: (after.percpu - before.percpu) / slope,
        },
        filters_in_slope: stacked - first,
    })
}

// --- operations: user notification, fork, TSYNC ----------------------------

/// `SECCOMP_RET_USER_NOTIF`.
const RET_USER_NOTIF: u32 = libc::SECCOMP_RET_USER_NOTIF as u32;
const SECCOMP_FILTER_FLAG_TSYNC: libc::c_ulong = libc::SECCOMP_FILTER_FLAG_TSYNC;
const SECCOMP_FILTER_FLAG_NEW_LISTENER: libc::c_ulong = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
const IOCTL_NOTIF_RECV: libc::c_ulong = libc::SECCOMP_IOCTL_NOTIF_RECV as libc::c_ulong;
const IOCTL_NOTIF_SEND: libc::c_ulong = libc::SECCOMP_IOCTL_NOTIF_SEND as libc::c_ulong;
const IOCTL_NOTIF_SET_FLAGS: libc::c_ulong = libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as libc::c_ulong;
/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (not in libc).
const USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;

/// Attaches `filter` with `flags`; the listener fd (NEW_LISTENER) or 0.
fn attach_with(filter: &[sock_filter], flags: libc::c_ulong) -> Result<i32, i32> {
    let prog = sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut sock_filter };
    // SAFETY: `prog` points at `filter`, which outlives the call.
    let ret =
        unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, flags, &prog as *const sock_fprog) };
    if ret < 0 {
        Err(errno())
    } else {
        Ok(ret as i32)
    }
}

/// Answers every notification of `listener` with 0 until the process ends.
fn supervise(listener: i32) -> ! {
    let mut notif = [0u64; 10];
    loop {
        notif.fill(0);
        // SAFETY: `notif` is a zeroed `struct seccomp_notif` (80 bytes).
        if unsafe { libc::ioctl(listener, IOCTL_NOTIF_RECV, notif.as_mut_ptr()) } != 0 {
            continue;
        }
        // struct seccomp_notif_resp { id, val, error, flags }: val 0.
        let resp = [notif[0], 0, 0];
        // SAFETY: `resp` is a `struct seccomp_notif_resp` (24 bytes).
        unsafe { libc::ioctl(listener, IOCTL_NOTIF_SEND, resp.as_ptr()) };
    }
}

/// The operations measured: each reports ns per operation.
#[derive(Clone, Copy)]
pub enum Operation {
    /// A trapped `getppid()` answered by a supervisor thread with
    /// `NOTIF_SEND`; with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` if `sync`.
    Notification { sync: bool },
    /// `fork()` of a child that exits at once, and the parent's `wait4()`,
    /// by a task holding `filters` filters.
    ForkExit { filters: usize },
    /// `seccomp(SET_MODE_FILTER, TSYNC)` in a process of `threads` threads.
    Tsync { threads: usize },
}

impl Operation {
    pub fn name(self) -> String {
        match self {
            Operation::Notification { sync: false } => "notify-roundtrip".into(),
            Operation::Notification { sync: true } => "notify-roundtrip-sync".into(),
            Operation::ForkExit { filters } => format!("fork-exit-{filters}"),
            Operation::Tsync { threads } => format!("tsync-{threads}"),
        }
    }
}

/// Times `count` of `operation` in a fresh child: ns per operation.
pub fn op_cost(operation: Operation, count: u64, what: &str) -> Result<f64, String> {
    let pipe = pipe().map_err(|e| format!("{what}: pipe: {e}"))?;
    let pid = fork(|| {
        close(pipe.read);
        let fail = |status, detail: i64| -> ! {
            let record = Record { status, detail: detail as u64, elapsed_ns: 0, count: 0 };
            write_all(pipe.write, record.as_bytes());
            child_exit(1)
        };
        if let Err(e) = set_no_new_privs() {
            fail(STATUS_SETUP_FAILED, e.into());
        }
        let deny_acct = crate::filters::one_syscall(libc::SYS_acct as u32, crate::filters::RET_ERRNO_EPERM);
        let elapsed = match operation {
            Operation::Notification { sync } => {
                // The supervisor is started before the filter, so it is
                // not under it.
                let trap = crate::filters::one_syscall(libc::SYS_getppid as u32, RET_USER_NOTIF);
                let (tx, rx) = std::sync::mpsc::channel::<i32>();
                std::thread::spawn(move || supervise(rx.recv().unwrap_or(-1)));
                let listener = match attach_with(&trap, SECCOMP_FILTER_FLAG_NEW_LISTENER) {
                    Ok(fd) => fd,
                    Err(e) => fail(STATUS_ATTACH_FAILED, e.into()),
                };
                if sync {
                    // SAFETY: the flag is passed by value.
                    unsafe { libc::ioctl(listener, IOCTL_NOTIF_SET_FLAGS, USER_NOTIF_FD_SYNC_WAKE_UP) };
                }
                let _ = tx.send(listener);
                // SAFETY: getppid takes no argument.
                if unsafe { libc::syscall(libc::SYS_getppid) } != 0 {
                    fail(STATUS_WRONG_OUTCOME, -1);
                }
                let start = now_ns();
                for _ in 0..count {
                    // SAFETY: as above.
                    unsafe { libc::syscall(libc::SYS_getppid) };
                }
                now_ns() - start
            }
            Operation::ForkExit { filters } => {
                for _ in 0..filters {
                    if let Err(e) = attach_with(&deny_acct, 0) {
                        fail(STATUS_ATTACH_FAILED, e.into());
                    }
                }
                let start = now_ns();
                for _ in 0..count {
                    // SAFETY: the child only calls _exit.
                    let child = unsafe { libc::fork() };
                    if child == 0 {
                        child_exit(0);
                    }
                    let mut status = 0;
                    // SAFETY: `status` is a valid int.
                    unsafe { libc::waitpid(child, &mut status, 0) };
                }
                now_ns() - start
            }
            Operation::Tsync { threads } => {
                for _ in 1..threads {
                    // Siblings wait for ever; exit_group ends them.
                    std::thread::spawn(|| loop {
                        std::thread::park();
                    });
                }
                let start = now_ns();
                for attached in 0..count {
                    if let Err(e) = attach_with(&deny_acct, SECCOMP_FILTER_FLAG_TSYNC) {
                        fail(STATUS_ATTACH_FAILED, (e as i64) << 32 | attached as i64);
                    }
                }
                now_ns() - start
            }
        };
        let record = Record { status: STATUS_OK, detail: 0, elapsed_ns: elapsed, count };
        write_all(pipe.write, record.as_bytes());
        child_exit(0)
    })
    .map_err(|e| format!("{what}: fork: {e}"))?;
    close(pipe.write);
    let record = read_record(pipe.read).map_err(|e| format!("{what}: reading results: {e}"));
    close(pipe.read);
    let reaped = reap(pid, what);
    let record = record?.ok_or(format!("{what}: child sent no result"))?;
    check_record(&record, what)?;
    reaped?;
    Ok(record.elapsed_ns as f64 / record.count as f64)
}
