// SPDX-License-Identifier: GPL-2.0

//! Builders of typical seccomp filter shapes (host only).

use seccomp_engine::action::{SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO};
use seccomp_engine::cache::AUDIT_ARCH_X86_64;
use seccomp_engine::cache::{ChainTable, Constant};
use seccomp_engine::data::SeccompData;
use seccomp_engine::insn::opcode::*;
use seccomp_engine::{
    check, DecodedProgram, Insn, PackedResumeTable, ResumeEntry, ResumeTable, SockFilter,
};

/// The instruction constructors and the shapes the in-kernel self-tests
/// build too.
pub use seccomp_engine::selftest::{jeq, jge, ld_abs, ret, EPERM};
use seccomp_engine::selftest::{push_arch_prologue, push_argument_filter, push_linear_allowlist};

/// `prog`, which must be accepted, checked and decoded.
pub fn decoded(prog: &[SockFilter]) -> DecodedProgram<Vec<Insn>> {
    check(prog)
        .unwrap()
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap()
}

/// `table` packed into storage of the sizes it asks for (filled with
/// other values first: packing overwrites them).
pub fn packed_table(
    table: &ResumeTable<Vec<ResumeEntry>>,
) -> PackedResumeTable<Vec<u8>, Vec<ResumeEntry>> {
    table
        .pack(
            |indexes| Ok::<_, ()>(vec![0xff; indexes]),
            |entries| Ok(vec![ResumeEntry::Return(7); entries]),
        )
        .unwrap()
        .expect("storage of the sizes asked for")
}

/// A filter's packed resume table and the constant table of the chain it
/// ends, as the kernel keeps them.
pub type KernelTables = (
    PackedResumeTable<Vec<u8>, Vec<ResumeEntry>>,
    ChainTable<Vec<Constant>>,
);

/// The tables the kernel keeps for each filter of `chain` (oldest first)
/// for the numbers below `numbers` of `arch`.
pub fn kernel_tables(
    arch: u32,
    chain: &[DecodedProgram<Vec<Insn>>],
    numbers: usize,
) -> Vec<KernelTables> {
    let mut tables: Vec<KernelTables> = Vec::new();
    for prog in chain {
        let resume = packed_table(&ResumeTable::build(
            arch,
            vec![ResumeEntry::START; numbers],
            prog,
        ));
        let older = tables.last().map(|(r, c)| (c, r.indexes()));
        let constants = ChainTable::build(
            arch,
            vec![Constant::UNKNOWN; resume.entries().len()],
            &resume,
            older,
            || vec![Constant::UNKNOWN; numbers],
        );
        tables.push((resume, constants));
    }
    tables
}

/// A call of `nr` on x86-64 with arguments the shapes' checks look at
/// (the benchmarks' input).
pub fn bench_input(nr: i32) -> SeccompData {
    SeccompData {
        nr,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: 0x7f00_0000_1234,
        args: [0x0120_0011, 0x5401, 2, 0, 0, 0],
    }
}

/// `ja k`.
pub fn ja(k: u32) -> SockFilter {
    SockFilter::stmt(BPF_JMP | BPF_JA, k)
}

/// A filter that allows everything.
pub fn allow_all() -> Vec<SockFilter> {
    vec![ret(SECCOMP_RET_ALLOW)]
}

/// The usual prologue: kill foreign architectures and x32 numbers, then
/// load the system call number into A.
pub fn arch_prologue() -> Vec<SockFilter> {
    let mut prog = Vec::new();
    push_arch_prologue(&mut prog);
    prog
}

/// libseccomp-style allow-list: prologue, one `jeq nr` per allowed
/// system call, default `ERRNO(EPERM)`.
pub fn linear_allowlist(syscalls: &[u32]) -> Vec<SockFilter> {
    let mut prog = Vec::new();
    push_linear_allowlist(&mut prog, syscalls);
    prog
}

/// Allow-list as a binary search tree of `jge` splits over the sorted
/// numbers, with short linear leaves; default `ERRNO(EPERM)`.
pub fn tree_allowlist(syscalls: &[u32]) -> Vec<SockFilter> {
    let mut sorted = syscalls.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut prog = arch_prologue();
    prog.extend(tree_node(&sorted));
    prog
}

fn tree_node(sorted: &[u32]) -> Vec<SockFilter> {
    if sorted.len() <= 4 {
        let mut leaf = Vec::new();
        for &nr in sorted {
            leaf.push(jeq(nr, 0, 1));
            leaf.push(ret(SECCOMP_RET_ALLOW));
        }
        leaf.push(ret(SECCOMP_RET_ERRNO | EPERM));
        return leaf;
    }
    let (low, high) = sorted.split_at(sorted.len() / 2);
    let low_code = tree_node(low);
    let high_code = tree_node(high);
    // jge split -> ja over the low half to the high half; else low half.
    let mut node = vec![jge(high[0], 0, 1), ja(low_code.len() as u32)];
    node.extend(low_code);
    node.extend(high_code);
    node
}

/// Allow-list where each `(nr, arg, forbidden_bits)` entry allows `nr`
/// only when the low word of argument `arg` has none of `forbidden_bits`
/// (e.g. `openat` without `O_WRONLY|O_RDWR`), else `ERRNO(EPERM)`.
pub fn argument_filter(plain: &[u32], checked: &[(u32, u32, u32)]) -> Vec<SockFilter> {
    let mut prog = Vec::new();
    push_argument_filter(&mut prog, plain, checked);
    prog
}

/// A 4096-instruction program whose every path executes all of it:
/// arithmetic mixed with conditional jumps that always land on the next
/// instruction, ending in `RET A`.
pub fn worst_case_4096() -> Vec<SockFilter> {
    let mut prog = vec![ld_abs(SeccompData::NR_OFFSET)];
    let mut i = 0u32;
    while prog.len() < BPF_MAXINSNS - 2 {
        prog.push(match i % 4 {
            0 => SockFilter::stmt(BPF_ALU | BPF_ADD | BPF_K, i),
            1 => SockFilter::jump(BPF_JMP | BPF_JSET | BPF_K, i, 0, 0),
            2 => SockFilter::stmt(BPF_ALU | BPF_XOR | BPF_K, i.wrapping_mul(2_654_435_761)),
            _ => SockFilter::jump(BPF_JMP | BPF_JGT | BPF_K, i, 0, 0),
        });
        i += 1;
    }
    prog.push(SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, 0));
    prog.push(SockFilter::stmt(BPF_RET | BPF_A, 0));
    prog
}

/// The first `count` x86-64 system call numbers of a typical service
/// allow-list (spread over the table, sorted).
pub fn sample_syscalls(count: usize) -> Vec<u32> {
    let mut out: Vec<u32> = (0..count as u32)
        .map(|i| (i * 457 / count.max(1) as u32) % 457)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// System calls whose verdict depends on an argument in
/// [`container_profile`]: clone, socket, personality, ioctl.
pub const CONTAINER_ARG_CHECKED: [u32; 4] = [56, 41, 135, 16];

/// A container-runtime-like profile (the shape of Docker's default
/// profile as libseccomp emits it): architecture check, load of the
/// number, about 300 `jeq nr` allowing plain system calls in one linear
/// chain, then argument checks for clone (namespace flags refused), socket
/// (`AF_VSOCK` refused), personality (a few personas allowed) and ioctl
/// (`TIOCSTI` refused), default `ERRNO(EPERM)`.
pub fn container_profile() -> Vec<SockFilter> {
    let plain: Vec<u32> = sample_syscalls(304)
        .into_iter()
        .filter(|nr| !CONTAINER_ARG_CHECKED.contains(nr))
        .take(300)
        .collect();
    let errno = SECCOMP_RET_ERRNO | EPERM;
    let mut prog = arch_prologue();
    for &nr in &plain {
        prog.push(jeq(nr, 0, 1));
        prog.push(ret(SECCOMP_RET_ALLOW));
    }
    let jset = |k, jt, jf| SockFilter::jump(BPF_JMP | BPF_JSET | BPF_K, k, jt, jf);
    // (nr, argument, body after the argument load; the body returns on
    // every path).
    let checks: [(u32, u32, Vec<SockFilter>); 4] = [
        // clone: no CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP.
        (
            56,
            0,
            vec![jset(0x7e02_0000, 0, 1), ret(errno), ret(SECCOMP_RET_ALLOW)],
        ),
        // socket: anything but AF_VSOCK.
        (
            41,
            0,
            vec![jeq(40, 0, 1), ret(errno), ret(SECCOMP_RET_ALLOW)],
        ),
        // personality: PER_LINUX, UNAME26, PER_LINUX32, query.
        (
            135,
            0,
            vec![
                jeq(0, 4, 0),
                jeq(0x0002_0000, 3, 0),
                jeq(8, 2, 0),
                jeq(0xffff_ffff, 1, 0),
                ret(errno),
                ret(SECCOMP_RET_ALLOW),
            ],
        ),
        // ioctl: anything but TIOCSTI.
        (
            16,
            1,
            vec![jeq(0x5412, 0, 1), ret(errno), ret(SECCOMP_RET_ALLOW)],
        ),
    ];
    for (nr, arg, body) in checks {
        // jeq nr, else skip the load, the body and reload nr.
        prog.push(jeq(nr, 0, body.len() as u8 + 2));
        prog.push(ld_abs(SeccompData::arg_low_offset(arg)));
        prog.extend(body);
        prog.push(ld_abs(SeccompData::NR_OFFSET));
    }
    prog.push(ret(errno));
    prog
}
