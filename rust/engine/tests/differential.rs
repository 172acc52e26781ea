// SPDX-License-Identifier: GPL-2.0

//! Differential test against the running kernel's seccomp.
//!
//! For each case a child process sets `no_new_privs`, installs the program
//! with `seccomp(SECCOMP_SET_MODE_FILTER)` and, if that worked, performs a
//! harmless system call with chosen arguments. The parent compares the
//! install errno with our checker (and chain length rule) and the outcome
//! of the system call (return value, `SIGSYS` trap data, death by
//! `SIGSYS`) with our interpreter and action decoding. Mismatches are
//! shrunk to a small reproducer and fail the test.
//!
//! Environment: `SECCOMP_DIFF_SEED` (default: time based, always printed),
//! `SECCOMP_DIFF_CASES` (random programs, default 10000),
//! `SECCOMP_DIFF_CHAIN_CASES` (chain-limit cases, default 300).
//!
//! Runs without the libtest harness (`harness = false`): the process is
//! single-threaded, so forking is safe.

mod common;

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::gen::{random_data, random_program, random_ret, GenOptions, Rng, TEST_SYSCALLS};
use common::shapes::kernel_tables;
use seccomp_engine::action::{
    chain_step, run_chain, Action, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_TRAP,
};
use seccomp_engine::cache::{AUDIT_ARCH_X86_64, X86_64_NR_SYSCALLS};
use seccomp_engine::checker::{check, check_chain_length};
use seccomp_engine::insn::opcode::*;
use seccomp_engine::{DecodedProgram, Insn, PlainMask, SeccompData, SockFilter};

const MAX_PRIORS: usize = 4;
const ENOSYS: i64 = 38;
const CHILD_TIMEOUT: Duration = Duration::from_secs(5);

/// What the child reports through shared memory.
#[repr(C)]
struct Shared {
    /// 1 once the child has reported everything it will.
    done: AtomicU32,
    /// 1 while the test system call is in progress.
    in_test_syscall: AtomicU32,
    prior_errnos: [AtomicI32; MAX_PRIORS],
    install_errno: AtomicI32,
    ret: AtomicI64,
    trapped: AtomicU32,
    trap_errno: AtomicI32,
    trap_syscall: AtomicI32,
    trap_call_addr: AtomicU64,
}

static SHARED: AtomicPtr<Shared> = AtomicPtr::new(std::ptr::null_mut());

fn shared() -> &'static Shared {
    // SAFETY: set once in main() to a MAP_SHARED mapping that is never unmapped.
    unsafe { &*SHARED.load(Ordering::Relaxed) }
}

/// Executes a system call; the only `syscall` instruction the child uses
/// after installing a filter, so its address is the reported
/// `instruction_pointer`.
#[inline(never)]
fn raw_syscall(nr: i64, args: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the caller picks system calls that do not touch our memory
    // in unexpected ways (prctl, seccomp, getpid-like calls, exit_group).
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let s = shared();
    if s.in_test_syscall.load(Ordering::SeqCst) == 1 {
        // SAFETY: the kernel passes a valid siginfo; for SIGSYS the
        // union holds _call_addr at offset 16 and _syscall at offset 24.
        let (errno, call_addr, syscall) = unsafe {
            let base = info as *const u8;
            (
                (*info).si_errno,
                *(base.add(16) as *const u64),
                *(base.add(24) as *const i32),
            )
        };
        s.trap_errno.store(errno, Ordering::SeqCst);
        s.trap_call_addr.store(call_addr, Ordering::SeqCst);
        s.trap_syscall.store(syscall, Ordering::SeqCst);
        s.trapped.store(1, Ordering::SeqCst);
        s.done.store(1, Ordering::SeqCst);
    }
    // Returning needs rt_sigreturn, which the filter may refuse: wait to
    // be killed by the parent instead.
    loop {
        std::hint::spin_loop();
    }
}

fn install(prog: &[libc::sock_filter]) -> i64 {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    raw_syscall(
        libc::SYS_seccomp,
        [
            libc::SECCOMP_SET_MODE_FILTER as u64,
            0,
            &fprog as *const _ as u64,
            0,
            0,
            0,
        ],
    )
}

/// Body of the forked child; never returns.
fn child(priors: &[Vec<libc::sock_filter>], prog: &[libc::sock_filter], data: &SeccompData) -> ! {
    let s = shared();
    raw_syscall(
        libc::SYS_prctl,
        [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0],
    );
    raw_syscall(
        libc::SYS_prctl,
        [libc::PR_SET_DUMPABLE as u64, 0, 0, 0, 0, 0],
    );
    // SAFETY: plain sigaction setup with a handler of the right type.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
    for (slot, prior) in s.prior_errnos.iter().zip(priors) {
        slot.store(-install(prior) as i32, Ordering::SeqCst);
    }
    let r = install(prog);
    s.install_errno.store(-r as i32, Ordering::SeqCst);
    if r == 0 {
        s.in_test_syscall.store(1, Ordering::SeqCst);
        let ret = raw_syscall(i64::from(data.nr), data.args);
        s.in_test_syscall.store(0, Ordering::SeqCst);
        s.ret.store(ret, Ordering::SeqCst);
    }
    s.done.store(1, Ordering::SeqCst);
    loop {
        raw_syscall(libc::SYS_exit_group, [0; 6]);
    }
}

/// Outcome of one case, observed or predicted.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// Installing a prior filter or the program failed with these errnos
    /// (0 = success).
    InstallFailed { priors: Vec<i32>, errno: i32 },
    /// The system call returned this raw value.
    Returned(i64),
    /// `SIGSYS` was delivered with this data and system call number.
    Trapped {
        data: i32,
        syscall: i32,
        call_addr: u64,
    },
    /// The child died from this signal.
    Killed(i32),
    /// Anything else (unexpected exit, hang).
    Other(String),
}

struct Case {
    priors: Vec<Vec<SockFilter>>,
    prog: Vec<SockFilter>,
    data: SeccompData,
}

fn to_libc(prog: &[SockFilter]) -> Vec<libc::sock_filter> {
    prog.iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

fn observe(case: &Case) -> Outcome {
    let s = shared();
    // SAFETY: no child is running; reset the report area.
    unsafe { std::ptr::write_bytes(SHARED.load(Ordering::Relaxed), 0, 1) };
    let priors: Vec<_> = case.priors.iter().map(|p| to_libc(p)).collect();
    let prog = to_libc(&case.prog);
    // SAFETY: single-threaded process; the child only uses raw system
    // calls and atomics.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        child(&priors, &prog, &case.data);
    }
    let start = Instant::now();
    let mut status = 0;
    let mut spins = 0u32;
    let exited = loop {
        if s.done.load(Ordering::SeqCst) == 1 {
            break false;
        }
        // SAFETY: waiting for our own child.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            break true;
        }
        if start.elapsed() > CHILD_TIMEOUT {
            break false;
        }
        spins += 1;
        if spins > 64 {
            std::thread::sleep(Duration::from_micros(20));
        } else {
            std::thread::yield_now();
        }
    };
    if !exited {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
    }
    let prior_errnos: Vec<i32> = s
        .prior_errnos
        .iter()
        .take(case.priors.len())
        .map(|e| e.load(Ordering::SeqCst))
        .collect();
    if s.done.load(Ordering::SeqCst) == 1 {
        let errno = s.install_errno.load(Ordering::SeqCst);
        if errno != 0 || prior_errnos.iter().any(|&e| e != 0) {
            return Outcome::InstallFailed {
                priors: prior_errnos,
                errno,
            };
        }
        if s.trapped.load(Ordering::SeqCst) == 1 {
            return Outcome::Trapped {
                data: s.trap_errno.load(Ordering::SeqCst),
                syscall: s.trap_syscall.load(Ordering::SeqCst),
                call_addr: s.trap_call_addr.load(Ordering::SeqCst),
            };
        }
        return Outcome::Returned(s.ret.load(Ordering::SeqCst));
    }
    if libc::WIFSIGNALED(status) && start.elapsed() <= CHILD_TIMEOUT {
        if prior_errnos.iter().any(|&e| e != 0) {
            return Outcome::InstallFailed {
                priors: prior_errnos,
                errno: -1,
            };
        }
        return Outcome::Killed(libc::WTERMSIG(status));
    }
    Outcome::Other(format!("status {status:#x} after {:?}", start.elapsed()))
}

/// Environment the predictions need.
struct Host {
    parent_pid: i64,
    uid: i64,
    gid: i64,
    ip: u64,
}

fn decode(prog: &[SockFilter]) -> Option<seccomp_engine::DecodedProgram<Vec<Insn>>> {
    let checked = check(prog).ok()?;
    checked.decode_into(vec![Insn::default(); prog.len()]).ok()
}

/// Our prediction; `child_pid` is only known after the fact, so the
/// result of getpid/gettid is matched separately.
fn predict(host: &Host, case: &Case, child_pid_hint: Option<i64>) -> Outcome {
    let mut prior_errnos = Vec::new();
    let mut attached: Vec<usize> = Vec::new();
    let mut chain = Vec::new();
    for prior in &case.priors {
        let errno = match check(prior) {
            Err(e) => e.errno(),
            Ok(c) => match check_chain_length(c.converted_len(), attached.iter().copied()) {
                Err(e) => e.errno(),
                Ok(_) => {
                    attached.push(c.converted_len());
                    chain.push(decode(prior).expect("checked"));
                    0
                }
            },
        };
        prior_errnos.push(errno);
    }
    let errno = match check(&case.prog) {
        Err(e) => e.errno(),
        Ok(c) => match check_chain_length(c.converted_len(), attached.iter().copied()) {
            Err(e) => e.errno(),
            Ok(_) => 0,
        },
    };
    if errno != 0 || prior_errnos.iter().any(|&e| e != 0) {
        return Outcome::InstallFailed {
            priors: prior_errnos,
            errno,
        };
    }
    chain.push(decode(&case.prog).expect("checked"));
    let verdict = run_chain(chain.iter().rev(), &case.data);
    // The attach-time analysis of the long padded programs of the chain
    // cases would dominate the run time; the property tests cover them.
    let short = chain.iter().map(|prog| prog.len()).sum::<usize>() <= 1024;
    assert!(
        !short || kernel_path_ret(&chain, &case.data) == verdict.ret,
        "constant table and resume points disagree with run_chain for {:?}",
        case.data
    );
    let nr = case.data.nr;
    match Action::from_ret(verdict.ret) {
        Action::KillProcess(_) | Action::KillThread(_) => Outcome::Killed(libc::SIGSYS),
        Action::Trap(data) => Outcome::Trapped {
            data: i32::from(data),
            syscall: nr,
            call_addr: host.ip,
        },
        Action::Errno(errno) => Outcome::Returned(-i64::from(errno)),
        Action::UserNotif | Action::Trace(_) => Outcome::Returned(-ENOSYS),
        Action::Log | Action::Allow => Outcome::Returned(match nr {
            39 | 186 => child_pid_hint.unwrap_or(-1),
            102 => host.uid,
            104 => host.gid,
            110 => host.parent_pid,
            _ => -ENOSYS,
        }),
    }
}

/// The chain's verdict computed the way the kernel glue does: the chain's
/// constant table, else each filter from its own resume entry. `chain` is
/// oldest first. The tables only cover the numbers up to `data.nr`, which
/// is all that is looked up (and keeps long chains cheap).
fn kernel_path_ret(chain: &[DecodedProgram<Vec<Insn>>], data: &SeccompData) -> u32 {
    let len = usize::try_from(data.nr)
        .ok()
        .filter(|&nr| nr < X86_64_NR_SYSCALLS)
        .map_or(0, |nr| nr + 1);
    // Packed resume tables and chain tables, as each filter keeps them.
    let tables = kernel_tables(AUDIT_ARCH_X86_64, chain, len);
    if let Some((resume, constants)) = tables.last() {
        let constant = constants.entry_masked::<PlainMask>(data.arch, data.nr, resume.indexes());
        if let Some(ret) = constant.get() {
            return ret;
        }
    }
    let mut ret = SECCOMP_RET_ALLOW;
    for (prog, (resume, _)) in chain.iter().zip(&tables).rev() {
        // The kernel runs the program with its chains of `jeq`s compiled.
        let cases = vec![seccomp_engine::Case::default(); prog.switch_cases()];
        let compiled = prog.clone().compile(cases).unwrap();
        let entry = resume.entry_masked::<PlainMask, _, _>(prog, data.arch, data.nr);
        ret = chain_step(ret, compiled.run_from(entry, data));
    }
    ret
}

/// Whether `observed` matches our prediction for `case`.
fn matches(host: &Host, case: &Case, observed: &Outcome) -> bool {
    // getpid/gettid return the child's pid, which we cannot know in
    // advance: accept any positive value where the pid is expected.
    let hint = match observed {
        Outcome::Returned(v) if *v > 0 => Some(*v),
        _ => None,
    };
    let predicted = predict(host, case, hint);
    if matches!(case.data.nr, 39 | 186) {
        if let (Outcome::Returned(p), Outcome::Returned(o)) = (&predicted, observed) {
            return p == o && (*o != host.parent_pid || case.data.nr == 110);
        }
    }
    predicted == *observed
}

fn format_program(prog: &[SockFilter]) -> String {
    let mut out = String::from("[\n");
    for (pc, i) in prog.iter().enumerate() {
        out += &format!(
            "    SockFilter::new({:#06x}, {}, {}, {:#x}), // {pc}\n",
            i.code, i.jt, i.jf, i.k
        );
    }
    out + "]"
}

/// Greedily simplifies a mismatching case while it still mismatches.
fn shrink(host: &Host, mut case: Case) -> Case {
    let still_fails = |c: &Case| !matches(host, c, &observe(c));
    let mut budget = 3000;
    loop {
        let mut improved = false;
        // Drop instructions.
        let mut i = 0;
        while i < case.prog.len() && budget > 0 {
            budget -= 1;
            let mut candidate = Case {
                priors: case.priors.clone(),
                prog: case.prog.clone(),
                data: case.data,
            };
            candidate.prog.remove(i);
            if !candidate.prog.is_empty() && still_fails(&candidate) {
                case = candidate;
                improved = true;
            } else {
                i += 1;
            }
        }
        // Simplify operands.
        for i in 0..case.prog.len() {
            for simplify in 0..3 {
                if budget == 0 {
                    break;
                }
                let mut candidate = Case {
                    priors: case.priors.clone(),
                    prog: case.prog.clone(),
                    data: case.data,
                };
                let insn = &mut candidate.prog[i];
                match simplify {
                    0 if insn.k != 0 => insn.k = 0,
                    1 if insn.jt != 0 => insn.jt = 0,
                    2 if insn.jf != 0 => insn.jf = 0,
                    _ => continue,
                }
                budget -= 1;
                if still_fails(&candidate) {
                    case = candidate;
                    improved = true;
                }
            }
        }
        // Simplify the input.
        for a in 0..6 {
            if case.data.args[a] != 0 && budget > 0 {
                budget -= 1;
                let mut candidate = Case {
                    priors: case.priors.clone(),
                    prog: case.prog.clone(),
                    data: case.data,
                };
                candidate.data.args[a] = 0;
                if still_fails(&candidate) {
                    case = candidate;
                    improved = true;
                }
            }
        }
        if !improved || budget == 0 {
            return case;
        }
    }
}

fn report(host: &Host, label: &str, case: Case) {
    let original_len = case.prog.len();
    let case = shrink(host, case);
    let observed = observe(&case);
    let hint = match observed {
        Outcome::Returned(v) if v > 0 => Some(v),
        _ => None,
    };
    println!(
        "MISMATCH ({label}), shrunk from {original_len} to {} instructions",
        case.prog.len()
    );
    for (n, prior) in case.priors.iter().enumerate() {
        println!("prior filter {n}: {} instructions", prior.len());
    }
    println!("program = {}", format_program(&case.prog));
    println!("data = {:?}", case.data);
    println!("ours   = {:?}", predict(host, &case, hint));
    println!("kernel = {observed:?}");
}

/// A valid program allowing everything (ending with `final_ret`) whose
/// eBPF translation has exactly `target` instructions (when reachable),
/// built from blocks with different translation costs.
fn padded_program(rng: &mut Rng, target: usize, final_ret: u32) -> Option<Vec<SockFilter>> {
    let kill = SockFilter::stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    let ld0 = SockFilter::stmt(BPF_LD | BPF_IMM, 0);
    let blocks: [(usize, Vec<SockFilter>); 6] = [
        (5, vec![SockFilter::stmt(BPF_ALU | BPF_DIV | BPF_X, 0)]),
        (3, vec![SockFilter::stmt(BPF_JMP | BPF_JA, 1), kill]),
        (
            5,
            vec![
                SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, 0x8000_0000, 1, 1),
                kill,
            ],
        ),
        (
            3,
            vec![SockFilter::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1), ld0],
        ),
        (
            2,
            vec![SockFilter::jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), ld0],
        ),
        (1, vec![ld0]),
    ];
    // Prologue 3, `ldx #1` 1, final return 2.
    let mut remaining = target.checked_sub(3 + 1 + 2)?;
    let mut prog = vec![SockFilter::stmt(BPF_LDX | BPF_IMM, 1)];
    while remaining > 0 {
        let room = BPF_MAXINSNS - 1 - prog.len();
        let (cost, block) = if remaining >= 5 && remaining > 5 * room.saturating_sub(2) {
            blocks[0].clone()
        } else {
            let fitting: Vec<_> = blocks
                .iter()
                .filter(|(c, b)| *c <= remaining && b.len() <= room)
                .collect();
            (*fitting.get(rng.below(fitting.len().max(1) as u64) as usize)?).clone()
        };
        if block.len() > room {
            return None;
        }
        prog.extend(block);
        remaining -= cost;
    }
    prog.push(SockFilter::stmt(BPF_RET | BPF_K, final_ret));
    Some(prog)
}

fn chain_case(rng: &mut Rng, host: &Host) -> Option<Case> {
    let prior_count = 1 + rng.below(3) as usize;
    let mut priors = Vec::new();
    let mut used = 0;
    for _ in 0..prior_count {
        let target = 200 + rng.below(20_000) as usize;
        let prior = padded_program(rng, target, SECCOMP_RET_ALLOW)?;
        used += check(&prior).ok()?.converted_len() + 4;
        priors.push(prior);
    }
    let target = (32768 + rng.below(9) as usize).checked_sub(used + 4)?;
    let final_ret = if rng.percent(50) {
        SECCOMP_RET_ALLOW
    } else {
        random_ret(rng)
    };
    let prog = padded_program(rng, target, final_ret)?;
    let nr = rng.pick(&TEST_SYSCALLS);
    Some(Case {
        priors,
        prog,
        data: random_data(rng, nr, host.ip),
    })
}

/// Learns the instruction pointer the kernel reports for [`raw_syscall`]
/// (and whether seccomp filtering works at all) from a trapped call.
fn learn_instruction_pointer(parent_pid: i64) -> Result<u64, String> {
    let probe_nr = 1000;
    let prog = vec![
        SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, probe_nr as u32, 0, 1),
        SockFilter::stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 0x42),
        SockFilter::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ];
    let data = SeccompData {
        nr: probe_nr,
        arch: AUDIT_ARCH_X86_64,
        ..Default::default()
    };
    let case = Case {
        priors: vec![],
        prog,
        data,
    };
    let _ = parent_pid;
    match observe(&case) {
        Outcome::Trapped {
            data: 0x42,
            syscall,
            call_addr,
        } if syscall == probe_nr => Ok(call_addr),
        other => Err(format!("{other:?}")),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn main() {
    // `cargo test` passes libtest arguments; honour only a name filter
    // that excludes us.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"differential".contains(a.as_str()))
    {
        println!("differential: filtered out");
        return;
    }
    // SAFETY: anonymous shared mapping for child-to-parent reports.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<Shared>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(map, libc::MAP_FAILED);
    SHARED.store(map.cast(), Ordering::Relaxed);

    // SAFETY: plain queries.
    let (parent_pid, uid, gid) = unsafe {
        (
            libc::getpid() as i64,
            libc::getuid() as i64,
            libc::getgid() as i64,
        )
    };
    // SAFETY: PR_GET_SECCOMP only reads our mode.
    let seccomp_mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
    if seccomp_mode < 0 {
        println!("##################################################################");
        println!(
            "SKIPPED: seccomp is not available on this kernel (PR_GET_SECCOMP: {})",
            std::io::Error::last_os_error()
        );
        println!("##################################################################");
        println!("0 passed, 0 failed, 1 skipped");
        return;
    }
    let ip = match learn_instruction_pointer(parent_pid) {
        Ok(ip) => ip,
        Err(e) => {
            println!("##################################################################");
            println!("SKIPPED: seccomp filtering does not work here (probe: {e})");
            println!("##################################################################");
            println!("0 passed, 0 failed, 1 skipped");
            return;
        }
    };
    let host = Host {
        parent_pid,
        uid,
        gid,
        ip,
    };

    let seed = env_u64("SECCOMP_DIFF_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let cases = env_u64("SECCOMP_DIFF_CASES").unwrap_or(10_000);
    let chain_cases = env_u64("SECCOMP_DIFF_CHAIN_CASES").unwrap_or(300);
    println!("differential: seed {seed} (SECCOMP_DIFF_SEED), {cases} programs, {chain_cases} chain cases, ip {ip:#x}");

    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut stats = std::collections::BTreeMap::<&str, u64>::new();
    let mut mismatches = 0u64;
    for n in 0..cases {
        let opts = GenOptions {
            read_ip: true,
            invalid_percent: if rng.percent(70) { 0 } else { 3 },
        };
        let prog = random_program(&mut rng, &opts);
        let nr = rng.pick(&TEST_SYSCALLS);
        let case = Case {
            priors: vec![],
            prog,
            data: random_data(&mut rng, nr, host.ip),
        };
        let observed = observe(&case);
        *stats
            .entry(match &observed {
                Outcome::InstallFailed { .. } => "refused",
                Outcome::Returned(_) => "returned",
                Outcome::Trapped { .. } => "trapped",
                Outcome::Killed(_) => "killed",
                Outcome::Other(_) => "other",
            })
            .or_default() += 1;
        if !matches(&host, &case, &observed) {
            mismatches += 1;
            if mismatches <= 3 {
                report(&host, &format!("program {n}"), case);
            }
        }
    }
    let mut limit_hits = 0;
    let mut done_chain = 0;
    while done_chain < chain_cases {
        let Some(case) = chain_case(&mut rng, &host) else {
            continue;
        };
        done_chain += 1;
        let observed = observe(&case);
        if matches!(observed, Outcome::InstallFailed { errno, .. } if errno == libc::ENOMEM) {
            limit_hits += 1;
        }
        if !matches(&host, &case, &observed) {
            mismatches += 1;
            if mismatches <= 3 {
                report(&host, &format!("chain case {done_chain}"), case);
            }
        }
    }
    println!(
        "differential: outcomes {stats:?}; chain cases {done_chain} ({limit_hits} over the limit); {:.1?}",
        started.elapsed()
    );
    let total = cases + chain_cases;
    println!("{} passed, {} failed", total - mismatches, mismatches);
    if mismatches > 0 {
        println!("reproduce with SECCOMP_DIFF_SEED={seed}");
        std::process::exit(1);
    }
}
