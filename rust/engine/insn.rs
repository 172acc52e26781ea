// SPDX-License-Identifier: GPL-2.0

//! Instruction formats: the raw classic-BPF `struct sock_filter` as user
//! space supplies it, the opcode encoding (`include/uapi/linux/filter.h`,
//! `include/uapi/linux/bpf_common.h`), and the decoded [`Insn`] form the
//! interpreter executes.

use core::num::{NonZeroU16, NonZeroU32};

/// One classic-BPF instruction exactly as in `struct sock_filter`.
///
/// The checker works on slices of this type; the kernel keeps the original
/// array around for `PTRACE_SECCOMP_GET_FILTER`. The layout is that of the
/// C structure, so a user array can be copied into `[SockFilter]` as is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct SockFilter {
    /// Opcode: class, size/operation, mode/source bits.
    pub code: u16,
    /// Relative jump distance when a conditional jump is taken.
    pub jt: u8,
    /// Relative jump distance when a conditional jump is not taken.
    pub jf: u8,
    /// Generic operand: immediate, offset, scratch slot or jump distance.
    pub k: u32,
}

impl SockFilter {
    /// Size of one `struct sock_filter` in bytes.
    pub const SIZE: usize = 8;

    /// Builds an instruction from its fields.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Self {
        Self { code, jt, jf, k }
    }

    /// Builds a non-jump instruction (`BPF_STMT` in C).
    pub const fn stmt(code: u16, k: u32) -> Self {
        Self::new(code, 0, 0, k)
    }

    /// Builds a jump instruction (`BPF_JUMP` in C).
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Self::new(code, jt, jf, k)
    }

    /// Decodes the little-endian in-memory layout of `struct sock_filter`.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self {
            code: u16::from_le_bytes([bytes[0], bytes[1]]),
            jt: bytes[2],
            jf: bytes[3],
            k: u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        }
    }

    /// Encodes the instruction in the little-endian `struct sock_filter`
    /// layout; the inverse of [`SockFilter::from_bytes`].
    pub const fn to_bytes(self) -> [u8; 8] {
        let code = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [code[0], code[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }
}

/// Opcode bits of classic BPF, as defined by the user-space ABI.
pub mod opcode {
    /// Instruction class: load into A.
    pub const BPF_LD: u16 = 0x00;
    /// Instruction class: load into X.
    pub const BPF_LDX: u16 = 0x01;
    /// Instruction class: store A into scratch memory.
    pub const BPF_ST: u16 = 0x02;
    /// Instruction class: store X into scratch memory.
    pub const BPF_STX: u16 = 0x03;
    /// Instruction class: arithmetic on A.
    pub const BPF_ALU: u16 = 0x04;
    /// Instruction class: jumps.
    pub const BPF_JMP: u16 = 0x05;
    /// Instruction class: return.
    pub const BPF_RET: u16 = 0x06;
    /// Instruction class: register transfers.
    pub const BPF_MISC: u16 = 0x07;

    /// Load size: 32-bit word.
    pub const BPF_W: u16 = 0x00;
    /// Load size: 16-bit half word.
    pub const BPF_H: u16 = 0x08;
    /// Load size: byte.
    pub const BPF_B: u16 = 0x10;

    /// Load mode: immediate.
    pub const BPF_IMM: u16 = 0x00;
    /// Load mode: absolute offset into the input.
    pub const BPF_ABS: u16 = 0x20;
    /// Load mode: offset relative to X.
    pub const BPF_IND: u16 = 0x40;
    /// Load mode: scratch memory slot.
    pub const BPF_MEM: u16 = 0x60;
    /// Load mode: length of the input.
    pub const BPF_LEN: u16 = 0x80;
    /// Load mode: IP header length helper (packet filters only).
    pub const BPF_MSH: u16 = 0xa0;

    /// ALU operation: addition.
    pub const BPF_ADD: u16 = 0x00;
    /// ALU operation: subtraction.
    pub const BPF_SUB: u16 = 0x10;
    /// ALU operation: multiplication.
    pub const BPF_MUL: u16 = 0x20;
    /// ALU operation: unsigned division.
    pub const BPF_DIV: u16 = 0x30;
    /// ALU operation: bitwise or.
    pub const BPF_OR: u16 = 0x40;
    /// ALU operation: bitwise and.
    pub const BPF_AND: u16 = 0x50;
    /// ALU operation: left shift.
    pub const BPF_LSH: u16 = 0x60;
    /// ALU operation: logical right shift.
    pub const BPF_RSH: u16 = 0x70;
    /// ALU operation: two's complement negation.
    pub const BPF_NEG: u16 = 0x80;
    /// ALU operation: unsigned remainder (not allowed by seccomp).
    pub const BPF_MOD: u16 = 0x90;
    /// ALU operation: bitwise exclusive or.
    pub const BPF_XOR: u16 = 0xa0;

    /// Jump: unconditional.
    pub const BPF_JA: u16 = 0x00;
    /// Jump: if A equals the operand.
    pub const BPF_JEQ: u16 = 0x10;
    /// Jump: if A is greater than the operand (unsigned).
    pub const BPF_JGT: u16 = 0x20;
    /// Jump: if A is greater than or equal to the operand (unsigned).
    pub const BPF_JGE: u16 = 0x30;
    /// Jump: if A and the operand have a common set bit.
    pub const BPF_JSET: u16 = 0x40;

    /// Operand source: the immediate `k`.
    pub const BPF_K: u16 = 0x00;
    /// Operand source: register X.
    pub const BPF_X: u16 = 0x08;
    /// Return value source: register A.
    pub const BPF_A: u16 = 0x10;

    /// Register transfer: X = A.
    pub const BPF_TAX: u16 = 0x00;
    /// Register transfer: A = X.
    pub const BPF_TXA: u16 = 0x80;

    /// Maximum number of instructions of one classic program (`BPF_MAXINSNS`).
    pub const BPF_MAXINSNS: usize = 4096;
    /// Number of 32-bit scratch memory slots (`BPF_MEMWORDS`).
    pub const BPF_MEMWORDS: u32 = 16;
    /// Base offset of the socket-filter ancillary loads (`SKF_AD_OFF`).
    pub const SKF_AD_OFF: u32 = 0xffff_f000;
    /// Size of the ancillary load area (`SKF_AD_MAX`).
    pub const SKF_AD_MAX: u32 = 64;

    /// Returns the class bits of an opcode (`BPF_CLASS`).
    pub const fn class(code: u16) -> u16 {
        code & 0x07
    }

    /// Returns the load size bits of an opcode (`BPF_SIZE`).
    pub const fn size(code: u16) -> u16 {
        code & 0x18
    }

    /// Returns the load mode bits of an opcode (`BPF_MODE`).
    pub const fn mode(code: u16) -> u16 {
        code & 0xe0
    }

    /// Returns the ALU or jump operation bits of an opcode (`BPF_OP`).
    pub const fn operation(code: u16) -> u16 {
        code & 0xf0
    }

    /// Returns the operand source bit of an opcode (`BPF_SRC`).
    pub const fn source(code: u16) -> u16 {
        code & 0x08
    }
}

/// Operation of an arithmetic instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// `A + operand` (wrapping).
    Add,
    /// `A - operand` (wrapping).
    Sub,
    /// `A * operand` (wrapping).
    Mul,
    /// `A / operand` (unsigned).
    Div,
    /// `A | operand`.
    Or,
    /// `A & operand`.
    And,
    /// `A << operand`.
    Lsh,
    /// `A >> operand` (logical).
    Rsh,
    /// `A ^ operand`.
    Xor,
}

/// One decoded seccomp instruction.
///
/// Decoded instructions are only produced from a checked program, so their
/// operands are already validated: scratch slots are `< 16`, data words are
/// `< 16`, constant divisors are non-zero, constant shifts are `< 32`.
/// Jumps store the forward distance to the target counted from the jump
/// itself (a [`Skip`] or a [`NonZeroU16`]), so evaluation strictly
/// advances whatever the storage holds and always terminates.
///
/// An instruction takes 8 bytes, as a `struct sock_filter` does.
///
/// The default value is `RetK(0)`, i.e. `SECCOMP_RET_KILL_THREAD`, so
/// storage that was never filled fails closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    /// Conditional jump on `A == k`, (taken, not taken). First so that
    /// its discriminant is 0: the interpreter tests for it before anything
    /// else (the `jeq nr` chains of allow-lists). The ten variants after
    /// it are the other ones real filters run most; the interpreter keeps
    /// the rest out of its loop.
    JeqK(u32, Skip, Skip),
    /// `A = seccomp_data word` at byte offset `4 * index`.
    LdData(u8),
    /// Conditional jump on `A > k`.
    JgtK(u32, Skip, Skip),
    /// Conditional jump on `A >= k`.
    JgeK(u32, Skip, Skip),
    /// Conditional jump on `A & k != 0`.
    JsetK(u32, Skip, Skip),
    /// Unconditional jump forward by the given distance.
    Ja(NonZeroU16),
    /// A compiled chain of `jeq`s on A ([`super::switch`]): jump forward
    /// by the distance of the case equal to A among the program's cases
    /// `first..first + len` (sorted by constant), else by the last
    /// distance. Only [`super::DecodedProgram::compile`] writes
    /// it.
    Switch(u16, u16, NonZeroU16),
    /// Return the constant `k`.
    RetK(u32),
    /// `A = A & k`.
    AndK(u32),
    /// `A = seccomp_data word` (as [`Insn::LdData`]), then the `jeq` that
    /// follows: `A == k` jumps as that `jeq` would, distances counted from
    /// it. Only [`super::DecodedProgram::compile`] writes it, over an
    /// `LdData` followed by a `JeqK`.
    LdJeqK(u8, u32, Skip, Skip),
    /// `A = seccomp_data word`, then the [`Insn::Switch`] that follows
    /// (same fields), its distances counted from it. Only
    /// [`super::DecodedProgram::compile`] writes it.
    LdSwitch(u8, u16, u16, NonZeroU16),
    /// `A = seccomp_data word & k`: a load and the `and` that follows it
    /// (a masked argument check of libseccomp's), going on after the
    /// `and`. Only [`super::DecodedProgram::compile`] writes it.
    LdAndK(u8, u32),
    /// `A = k` (also used for `BPF_LD|BPF_W|BPF_LEN`, which reads 64).
    LdImm(u32),
    /// `X = k` (also used for `BPF_LDX|BPF_W|BPF_LEN`).
    LdxImm(u32),
    /// `A = M[slot]`.
    LdMem(u8),
    /// `X = M[slot]`.
    LdxMem(u8),
    /// `M[slot] = A`.
    St(u8),
    /// `M[slot] = X`.
    Stx(u8),
    /// `X = A`.
    Tax,
    /// `A = X`.
    Txa,
    /// `A = A + k`.
    AddK(u32),
    /// `A = A - k`.
    SubK(u32),
    /// `A = A * k`.
    MulK(u32),
    /// `A = A / k`, `k` known to be non-zero.
    DivK(NonZeroU32),
    /// `A = A | k`.
    OrK(u32),
    /// `A = A ^ k`.
    XorK(u32),
    /// `A = A << k`, `k < 32`.
    LshK(u8),
    /// `A = A >> k`, `k < 32`.
    RshK(u8),
    /// `A = A + X`.
    AddX,
    /// `A = A - X`.
    SubX,
    /// `A = A * X`.
    MulX,
    /// `A = A / X`; the program returns 0 if `X == 0`.
    DivX,
    /// `A = A & X`.
    AndX,
    /// `A = A | X`.
    OrX,
    /// `A = A ^ X`.
    XorX,
    /// `A = A << (X & 31)`.
    LshX,
    /// `A = A >> (X & 31)`.
    RshX,
    /// `A = -A`.
    Neg,
    /// Conditional jump on `A == X`.
    JeqX(Skip, Skip),
    /// Conditional jump on `A > X`.
    JgtX(Skip, Skip),
    /// Conditional jump on `A >= X`.
    JgeX(Skip, Skip),
    /// Conditional jump on `A & X != 0`.
    JsetX(Skip, Skip),
    /// Return A.
    RetA,
}

// One instruction in 8 bytes, as `struct sock_filter`: decoded programs
// take no more memory than the user's.
const _: () = assert!(core::mem::size_of::<Insn>() == 8);

/// How far a conditional jump goes when its condition says so: the
/// `jt`/`jf` offset of `struct sock_filter`, which counts the instructions
/// skipped. The target is that many instructions after the next one, so
/// the distance from the jump, [`Skip::get`], is never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Skip(u8);

impl Skip {
    /// The jump over `offset` instructions after the next one.
    pub const fn new(offset: u8) -> Self {
        Self(offset)
    }

    /// Forward distance from the jump to its target: `offset + 1`, 1 to
    /// 256.
    #[inline(always)]
    pub const fn get(self) -> u16 {
        self.0 as u16 + 1
    }

    /// The `jt`/`jf` offset itself: the instructions skipped.
    pub const fn offset(self) -> u8 {
        self.0
    }
}

impl Default for Insn {
    fn default() -> Self {
        Insn::RetK(0)
    }
}

impl Insn {
    /// Applies an arithmetic operation with the semantics of the seccomp
    /// runtime (32-bit wrapping, shift counts masked to 0..31), except
    /// division by zero, which callers handle (it yields `None`).
    pub fn alu(op: AluOp, a: u32, operand: u32) -> Option<u32> {
        Some(match op {
            AluOp::Add => a.wrapping_add(operand),
            AluOp::Sub => a.wrapping_sub(operand),
            AluOp::Mul => a.wrapping_mul(operand),
            AluOp::Div => a.checked_div(operand)?,
            AluOp::Or => a | operand,
            AluOp::And => a & operand,
            AluOp::Lsh => a.wrapping_shl(operand),
            AluOp::Rsh => a.wrapping_shr(operand),
            AluOp::Xor => a ^ operand,
        })
    }
}
