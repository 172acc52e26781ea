// SPDX-License-Identifier: GPL-2.0

//! Seeded generator of random seccomp programs and inputs (host only).
//!
//! Programs are biased towards what real filters do and what the checker
//! accepts (loads of `nr`/`arch`/arguments, arithmetic, jumps inside the
//! program, scratch memory stored before being read, returns of every
//! action kind), with a controlled share of rule violations.

use std::sync::OnceLock;

use seccomp_engine::action::*;
use seccomp_engine::cache::AUDIT_ARCH_X86_64;
use seccomp_engine::checker::{is_classic_opcode, is_seccomp_opcode};
use seccomp_engine::data::SeccompData;
use seccomp_engine::insn::opcode::*;
use seccomp_engine::SockFilter;

pub use seccomp_testkit::Rng;

/// System call numbers random inputs favour (harmless ones, as a live
/// run would make): getpid, getuid, getgid, getppid, gettid and an
/// unassigned number.
pub const TEST_SYSCALLS: [i32; 6] = [39, 102, 104, 110, 186, 1000];

/// Values programs compare against and inputs use, so that comparisons
/// are sometimes true.
pub const INTERESTING: [u32; 12] = [
    0,
    1,
    4,
    39,
    110,
    1000,
    AUDIT_ARCH_X86_64,
    0x4000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Generation options.
#[derive(Clone, Copy, Debug)]
pub struct GenOptions {
    /// Allow loads of the instruction pointer.
    pub read_ip: bool,
    /// Percentage of instructions deliberately breaking a rule.
    pub invalid_percent: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        Self {
            read_ip: true,
            invalid_percent: 2,
        }
    }
}

/// A random return value: every action kind, plus unknown ones, with data.
pub fn random_ret(rng: &mut Rng) -> u32 {
    let action = rng.pick(&[
        SECCOMP_RET_KILL_PROCESS,
        SECCOMP_RET_KILL_THREAD,
        SECCOMP_RET_TRAP,
        SECCOMP_RET_ERRNO,
        SECCOMP_RET_ERRNO,
        SECCOMP_RET_USER_NOTIF,
        SECCOMP_RET_TRACE,
        SECCOMP_RET_LOG,
        SECCOMP_RET_ALLOW,
        SECCOMP_RET_ALLOW,
        0x0001_0000,
        0x7ffe_0000,
        0x8123_0000,
    ]);
    let data = match rng.below(4) {
        0 => 0,
        1 => rng.below(200) as u32,
        2 => rng.pick(&[4095, 4096, 0xffff]),
        _ => rng.next_u32() & SECCOMP_RET_DATA,
    };
    action | data
}

fn interesting_or_random(rng: &mut Rng) -> u32 {
    if rng.percent(70) {
        rng.pick(&INTERESTING)
    } else {
        rng.next_u32()
    }
}

fn data_offset(rng: &mut Rng, opts: &GenOptions) -> u32 {
    loop {
        let offset = match rng.below(10) {
            0..=2 => SeccompData::NR_OFFSET,
            3 => SeccompData::ARCH_OFFSET,
            _ => 4 * rng.below(16) as u32,
        };
        if opts.read_ip || !(8..16).contains(&offset) {
            return offset;
        }
    }
}

/// Forward jump distance from `pc` in a program of `len` instructions,
/// inside the program unless `invalid`.
fn distance(rng: &mut Rng, pc: usize, len: usize, max: u64, invalid: bool) -> u32 {
    let room = (len - pc - 1) as u64; // instructions after pc
    if invalid || room == 0 {
        return room as u32 + rng.below(3) as u32;
    }
    let limit = room.min(max);
    if rng.percent(60) {
        rng.below(limit.min(4)) as u32
    } else {
        rng.below(limit) as u32
    }
}

/// Generates one program; see the module documentation.
pub fn random_program(rng: &mut Rng, opts: &GenOptions) -> Vec<SockFilter> {
    let len = match rng.below(100) {
        0..=59 => 1 + rng.below(12) as usize,
        60..=89 => 1 + rng.below(60) as usize,
        90..=98 => 1 + rng.below(400) as usize,
        _ => 1 + rng.below(BPF_MAXINSNS as u64 + 2) as usize,
    };
    let mut prog = Vec::with_capacity(len);
    // Slots stored so far on the straight-line path; reads prefer them.
    let mut stored: u16 = 0;
    for pc in 0..len {
        let invalid = rng.percent(opts.invalid_percent);
        let insn = if pc + 1 == len && !rng.percent(opts.invalid_percent) {
            if rng.percent(60) {
                SockFilter::stmt(BPF_RET | BPF_K, random_ret(rng))
            } else {
                SockFilter::stmt(BPF_RET | BPF_A, 0)
            }
        } else if invalid {
            random_invalid_insn(rng, pc, len)
        } else {
            random_valid_insn(rng, opts, pc, len, &mut stored)
        };
        prog.push(insn);
    }
    // Give X-operand arithmetic interesting operands (shift counts past
    // 31, zero divisors) by loading X right before it.
    for pc in 1..prog.len() {
        if prog[pc].code & 0x0f == (BPF_ALU | BPF_X) && rng.percent(40) {
            prog[pc - 1] = SockFilter::stmt(BPF_LDX | BPF_IMM, rng.below(70) as u32);
        }
    }
    // Make the final value of A observable: keep 16 of its bits as the
    // data of a trap or errno return.
    let observable = prog.len() >= 4 && prog.last().is_some_and(|i| i.code == BPF_RET | BPF_A);
    if observable && rng.percent(80) {
        let n = prog.len();
        let (select, action) = match rng.below(4) {
            0 => (
                SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, 0xfff),
                SECCOMP_RET_ERRNO,
            ),
            1 => (
                SockFilter::stmt(BPF_ALU | BPF_RSH | BPF_K, 16),
                SECCOMP_RET_TRAP,
            ),
            _ => (
                SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, 0xffff),
                SECCOMP_RET_TRAP,
            ),
        };
        prog[n - 3] = select;
        prog[n - 2] = SockFilter::stmt(BPF_ALU | BPF_OR | BPF_K, action);
    }
    prog
}

fn random_valid_insn(
    rng: &mut Rng,
    opts: &GenOptions,
    pc: usize,
    len: usize,
    stored: &mut u16,
) -> SockFilter {
    let alu_ops = [
        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
    ];
    let jmp_ops = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET];
    match rng.below(100) {
        0..=21 => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, data_offset(rng, opts)),
        22..=27 => {
            let class = rng.pick(&[BPF_LD, BPF_LDX]);
            if rng.percent(15) {
                SockFilter::stmt(class | BPF_W | BPF_LEN, 0)
            } else {
                SockFilter::stmt(class | BPF_IMM, interesting_or_random(rng))
            }
        }
        28..=43 => {
            let op = rng.pick(&alu_ops);
            if rng.percent(30) {
                SockFilter::stmt(BPF_ALU | op | BPF_X, 0)
            } else {
                let k = match op {
                    BPF_LSH | BPF_RSH => rng.below(32) as u32,
                    BPF_DIV => 1 + rng.below(0xffff) as u32,
                    _ => interesting_or_random(rng),
                };
                SockFilter::stmt(BPF_ALU | op | BPF_K, k)
            }
        }
        44..=45 => SockFilter::stmt(BPF_ALU | BPF_NEG, 0),
        46..=48 => SockFilter::stmt(BPF_MISC | rng.pick(&[BPF_TAX, BPF_TXA]), 0),
        49..=54 => {
            let slot = rng.below(16) as u32;
            *stored |= 1 << slot;
            SockFilter::stmt(rng.pick(&[BPF_ST, BPF_STX]), slot)
        }
        55..=58 => {
            // Prefer a slot stored on the straight-line path.
            let slot = if *stored != 0 && rng.percent(85) {
                let candidates: Vec<u32> = (0..16).filter(|s| *stored & (1 << s) != 0).collect();
                rng.pick(&candidates)
            } else {
                rng.below(16) as u32
            };
            SockFilter::stmt(rng.pick(&[BPF_LD, BPF_LDX]) | BPF_MEM, slot)
        }
        59..=62 => SockFilter::stmt(
            BPF_JMP | BPF_JA,
            distance(rng, pc, len, u32::MAX as u64, false),
        ),
        63..=89 => {
            let op = rng.pick(&jmp_ops);
            let src = if rng.percent(20) { BPF_X } else { BPF_K };
            let jt = distance(rng, pc, len, 256, false) as u8;
            let jf = distance(rng, pc, len, 256, false) as u8;
            SockFilter::jump(BPF_JMP | op | src, interesting_or_random(rng), jt, jf)
        }
        90..=97 => SockFilter::stmt(BPF_RET | BPF_K, random_ret(rng)),
        _ => SockFilter::stmt(BPF_RET | BPF_A, 0),
    }
}

/// The opcodes of classic BPF seccomp refuses (`BPF_MOD`, the packet
/// loads), found by enumeration. The host kernel, not the checker, judges
/// the programs they go into.
fn packet_filter_opcodes() -> &'static [u16] {
    static CODES: OnceLock<Vec<u16>> = OnceLock::new();
    CODES.get_or_init(|| {
        (0..=u16::MAX)
            .filter(|&code| is_classic_opcode(code) && !is_seccomp_opcode(code))
            .collect()
    })
}

fn random_invalid_insn(rng: &mut Rng, pc: usize, len: usize) -> SockFilter {
    match rng.below(11) {
        0 => SockFilter::stmt(BPF_ALU | BPF_DIV | BPF_K, 0),
        1 => SockFilter::stmt(
            BPF_ALU | rng.pick(&[BPF_LSH, BPF_RSH]) | BPF_K,
            32 + rng.below(40) as u32,
        ),
        2 => SockFilter::stmt(
            rng.pick(&[BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX]),
            16 + rng.below(20) as u32,
        ),
        3 => SockFilter::stmt(BPF_JMP | BPF_JA, distance(rng, pc, len, 0, true)),
        4 => SockFilter::jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            0,
            distance(rng, pc, len, 0, true) as u8,
            0,
        ),
        5 => SockFilter::stmt(
            BPF_LD | BPF_W | BPF_ABS,
            rng.pick(&[
                1,
                2,
                3,
                64,
                65,
                0x1000,
                SKF_AD_OFF,
                SKF_AD_OFF + 4,
                SKF_AD_OFF + 5,
                SKF_AD_OFF + 64,
                0xffff_ffff,
            ]),
        ),
        // Classic opcodes only packet filters may use, and two that are
        // no classic opcodes at all.
        6 => SockFilter::stmt(
            match rng.below(5) {
                0 => rng.pick(&[BPF_RET | BPF_X, BPF_LDX | BPF_W | BPF_ABS]),
                _ => rng.pick(packet_filter_opcodes()),
            },
            rng.below(8) as u32,
        ),
        7 => SockFilter::stmt(rng.next_u32() as u16, rng.next_u32()),
        8 => SockFilter::stmt(rng.below(256) as u16, rng.below(70) as u32),
        9 => SockFilter::stmt(rng.pick(&[BPF_LD, BPF_LDX]) | BPF_MEM, rng.below(16) as u32),
        _ => SockFilter::stmt(
            BPF_LD | BPF_W | BPF_ABS,
            0x1000_0000 | (rng.below(64) as u32 * 4),
        ),
    }
}

/// A random input for system call `nr` on x86-64; `ip` is the instruction
/// pointer the kernel will report.
pub fn random_data(rng: &mut Rng, nr: i32, ip: u64) -> SeccompData {
    let mut args = [0u64; 6];
    for arg in &mut args {
        *arg = match rng.below(4) {
            0 => 0,
            1 => u64::from(rng.pick(&INTERESTING)),
            2 => u64::from(rng.pick(&INTERESTING)) << 32 | u64::from(rng.pick(&INTERESTING)),
            _ => rng.next_u64(),
        };
    }
    SeccompData {
        nr,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: ip,
        args,
    }
}

/// A random allow-list in the shape libseccomp and container runtimes
/// emit, for the resume-point tests: architecture prologue, optionally a
/// known X or a store to scratch memory, a linear `jeq nr` chain with
/// random verdicts, then a few argument-checked numbers whose bodies
/// compare argument words (sometimes after arithmetic, sometimes against
/// X or a stored slot), and a random default. Always accepted by the
/// checker. Numbers are drawn from `0..500`.
pub fn random_profile(rng: &mut Rng) -> Vec<SockFilter> {
    let stmt = SockFilter::stmt;
    let jump = SockFilter::jump;
    let mut prog = vec![
        stmt(BPF_LD | BPF_W | BPF_ABS, SeccompData::ARCH_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, random_ret(rng)),
    ];
    if rng.percent(30) {
        prog.push(stmt(BPF_LDX | BPF_IMM, interesting_or_random(rng)));
    }
    prog.push(stmt(BPF_LD | BPF_W | BPF_ABS, SeccompData::NR_OFFSET));
    let stored = rng.percent(15);
    if stored {
        prog.push(stmt(BPF_ST, 5));
    }
    for _ in 0..rng.below(60) {
        prog.push(jump(BPF_JMP | BPF_JEQ | BPF_K, rng.below(500) as u32, 0, 1));
        prog.push(stmt(BPF_RET | BPF_K, random_ret(rng)));
    }
    for _ in 0..rng.below(5) {
        let nr = rng.below(500) as u32;
        let word = if rng.percent(10) {
            2 + rng.below(2) as u32 // instruction pointer
        } else {
            4 + rng.below(12) as u32
        };
        let mut body = vec![stmt(BPF_LD | BPF_W | BPF_ABS, 4 * word)];
        if rng.percent(30) {
            body.push(stmt(BPF_ALU | BPF_AND | BPF_K, interesting_or_random(rng)));
        }
        if stored && rng.percent(30) {
            body.push(stmt(BPF_LDX | BPF_MEM, 5));
        }
        for _ in 0..1 + rng.below(3) {
            let op = rng.pick(&[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);
            let src = if rng.percent(20) { BPF_X } else { BPF_K };
            body.push(jump(BPF_JMP | op | src, interesting_or_random(rng), 0, 1));
            body.push(stmt(BPF_RET | BPF_K, random_ret(rng)));
        }
        body.push(stmt(BPF_RET | BPF_K, random_ret(rng)));
        // jeq nr, else skip the body and the reload of nr.
        prog.push(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, body.len() as u8 + 1));
        prog.extend(body);
        prog.push(stmt(BPF_LD | BPF_W | BPF_ABS, SeccompData::NR_OFFSET));
    }
    prog.push(stmt(BPF_RET | BPF_K, random_ret(rng)));
    prog
}

/// A program made mostly of chains of `jeq`s (on words loaded from the
/// input, with constants from a small pool so that equal ones recur),
/// their not-taken branches mostly to the next instruction, sometimes
/// through `ja`s or past a few instructions, their taken ones anywhere
/// forward: what [`seccomp_engine::DecodedProgram::compile`]
/// compiles. Always accepted by the checker.
pub fn random_jeq_chains(rng: &mut Rng) -> Vec<SockFilter> {
    let len = match rng.below(10) {
        0..=6 => 2 + rng.below(60),
        7..=8 => 2 + rng.below(400),
        _ => 2 + rng.below(BPF_MAXINSNS as u64 - 2),
    } as usize;
    let pool: Vec<u32> = (0..1 + rng.below(30))
        .map(|_| interesting_or_random(rng))
        .collect();
    let opts = GenOptions {
        read_ip: true,
        invalid_percent: 0,
    };
    let mut prog = Vec::with_capacity(len);
    for pc in 0..len {
        // Instructions after this one: every jump stays inside.
        let room = (len - pc - 1) as u64;
        let insn = match rng.below(100) {
            _ if room == 0 => SockFilter::stmt(BPF_RET | BPF_K, random_ret(rng)),
            0..=74 => {
                let jt = rng.below(room.min(256)) as u8;
                let jf = if rng.percent(85) {
                    0
                } else {
                    rng.below(room.min(4)) as u8
                };
                SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, rng.pick(&pool), jt, jf)
            }
            75..=79 => SockFilter::stmt(BPF_JMP | BPF_JA, rng.below(room.min(3)) as u32),
            80..=89 => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, data_offset(rng, &opts)),
            90..=92 => SockFilter::stmt(BPF_ALU | BPF_ADD | BPF_K, rng.pick(&[0, 1])),
            93 => SockFilter::stmt(BPF_MISC | BPF_TAX, 0),
            94 => SockFilter::jump(
                BPF_JMP | BPF_JEQ | BPF_X,
                0,
                0,
                rng.below(room.min(4)) as u8,
            ),
            _ => SockFilter::stmt(BPF_RET | BPF_K, random_ret(rng)),
        };
        prog.push(insn);
    }
    prog
}

/// An input for a program of [`random_jeq_chains`]: nr, arch and
/// arguments mostly equal to constants the program compares with.
pub fn random_jeq_chains_data(rng: &mut Rng, prog: &[SockFilter]) -> SeccompData {
    let constants: Vec<u32> = prog
        .iter()
        .filter(|insn| insn.code == BPF_JMP | BPF_JEQ | BPF_K)
        .map(|insn| insn.k)
        .collect();
    let word = |rng: &mut Rng| {
        if !constants.is_empty() && rng.percent(80) {
            rng.pick(&constants)
        } else {
            rng.next_u32()
        }
    };
    let mut args = [0u64; 6];
    for arg in &mut args {
        *arg = u64::from(word(rng)) | u64::from(word(rng)) << 32;
    }
    SeccompData {
        nr: word(rng) as i32,
        arch: word(rng),
        instruction_pointer: u64::from(word(rng)) | u64::from(word(rng)) << 32,
        args,
    }
}
