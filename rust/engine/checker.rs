// SPDX-License-Identifier: GPL-2.0

//! Validation of a user-supplied classic-BPF program for seccomp, and the
//! attach-time length accounting of a filter chain.
//!
//! The rules and the order in which they are applied mirror the C
//! implementation, so that every program is accepted or refused exactly as
//! before and refused programs report the same errno:
//!
//! 1. length `1..=BPF_MAXINSNS` (`seccomp_prepare_filter` and
//!    `bpf_check_basics_ok`);
//! 2. per instruction, in program order, the classic rules
//!    (`bpf_check_classic`, `chk_code_allowed`): known opcode, no constant
//!    division by zero, constant shifts below 32, scratch slots below 16,
//!    jumps inside the program, no unknown ancillary load;
//! 3. the last instruction is a return (`bpf_check_classic`);
//! 4. no scratch slot is read unless it was stored on every path reaching
//!    the read (`check_load_and_stores`);
//! 5. per instruction, in program order, the seccomp restrictions
//!    (`seccomp_check_filter`): only the opcodes listed in
//!    [`is_seccomp_opcode`], and word loads from `struct seccomp_data` that
//!    are 4-byte aligned and inside the structure.
//!
//! Every failure is `EINVAL`. The only other errno, `ENOMEM`, comes from
//! the chain length limit of `seccomp_attach_filter`, see
//! [`check_chain_length`].

use super::data::SeccompData;
use super::insn::opcode::*;
use super::insn::SockFilter;

/// `EINVAL`, returned for every program the checker refuses.
pub const EINVAL: i32 = 22;
/// `ENOMEM`, returned when a filter chain would exceed
/// [`MAX_INSNS_PER_PATH`].
pub const ENOMEM: i32 = 12;

/// Why a program was refused. Every variant maps to `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The program is empty or longer than `BPF_MAXINSNS`.
    InvalidLength {
        /// Number of instructions supplied.
        len: usize,
    },
    /// The opcode does not exist in classic BPF.
    UnknownOpcode {
        /// Index of the offending instruction.
        pc: usize,
        /// Its opcode.
        code: u16,
    },
    /// Division by the constant zero (`BPF_ALU|BPF_DIV|BPF_K`, `BPF_MOD`).
    DivisionByZero {
        /// Index of the offending instruction.
        pc: usize,
    },
    /// Shift by a constant of 32 or more.
    ShiftTooLarge {
        /// Index of the offending instruction.
        pc: usize,
    },
    /// Scratch memory slot index of 16 or more.
    ScratchSlotOutOfRange {
        /// Index of the offending instruction.
        pc: usize,
    },
    /// A jump target lies beyond the last instruction.
    JumpOutOfRange {
        /// Index of the offending instruction.
        pc: usize,
    },
    /// An absolute load from the socket-filter ancillary area that is not
    /// a known extension.
    UnknownAncillaryLoad {
        /// Index of the offending instruction.
        pc: usize,
    },
    /// The last instruction is not `BPF_RET`.
    MissingFinalReturn,
    /// A scratch slot may be read before being stored on some path.
    UninitializedScratchRead {
        /// Index of the offending load.
        pc: usize,
    },
    /// A classic-BPF opcode seccomp does not support.
    OpcodeNotAllowed {
        /// Index of the offending instruction.
        pc: usize,
        /// Its opcode.
        code: u16,
    },
    /// A word load from `struct seccomp_data` that is misaligned or out of
    /// bounds.
    InvalidDataOffset {
        /// Index of the offending instruction.
        pc: usize,
    },
}

impl CheckError {
    /// The (positive) errno the system call reports for this failure.
    pub const fn errno(&self) -> i32 {
        EINVAL
    }
}

/// A program that passed [`check`]: every rule of the module documentation
/// holds for the borrowed instructions.
#[derive(Clone, Copy, Debug)]
pub struct CheckedProgram<'a> {
    insns: &'a [SockFilter],
}

impl<'a> CheckedProgram<'a> {
    /// The raw instructions, e.g. to keep for `PTRACE_SECCOMP_GET_FILTER`.
    pub fn raw(&self) -> &'a [SockFilter] {
        self.insns
    }

    /// Number of classic instructions (`1..=4096`).
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false: a checked program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Number of eBPF instructions the C implementation's translation of this
    /// program has (`bpf_convert_filter` as called by
    /// `bpf_migrate_filter`), i.e. the `prog->len` that
    /// `seccomp_attach_filter` charges against [`MAX_INSNS_PER_PATH`].
    ///
    /// The translation has a three-instruction prologue (clear A, clear X,
    /// save the context pointer); each classic instruction then becomes:
    ///
    /// * `BPF_RET|BPF_K`: two (move the constant into R0, exit);
    /// * `BPF_ALU|BPF_DIV|BPF_X`: five (zero-extend X, skip unless X is
    ///   zero, clear A, exit, divide);
    /// * a conditional jump: one, plus one to materialise a constant with
    ///   the sign bit set (eBPF immediates are sign-extended), plus one
    ///   unconditional jump unless the false branch falls through or the
    ///   true branch falls through and the condition can be inverted
    ///   (`JEQ`, `JGT`, `JGE`, not `JSET`);
    /// * everything else: one.
    ///
    /// This is the length without `bpf_jit_harden` constant blinding,
    /// which seccomp's accounting does not see.
    pub fn converted_len(&self) -> usize {
        const PROLOGUE: usize = 3;
        self.insns
            .iter()
            .fold(PROLOGUE, |total, insn| total + converted_insn_len(insn))
    }

    /// Number of eBPF instructions of the translation once the JIT has
    /// blinded its constants (`bpf_jit_blind_constants`, when
    /// `net.core.bpf_jit_enable` is on and `net.core.bpf_jit_harden`
    /// applies to the caller): the program C then runs, and the
    /// `prog->len` it charges against [`MAX_INSNS_PER_PATH`].
    ///
    /// Blinding turns each instruction with a constant operand into three
    /// (load the constant xor a random value into a scratch register, xor
    /// it back, use the register): the moves of a nonzero constant (`ret
    /// k`, `ld #k`, `ldx #k`, the length loads, the sign-bit constants of
    /// jumps), the 32-bit `add`, `sub`, `and`, `or`, `xor`, `mul` and `div`
    /// with a constant (not the shifts), and every conditional jump on a
    /// constant (that of `div x`'s zero check too).  A move of zero
    /// becomes a single `xor`.
    pub fn blinded_len(&self) -> usize {
        self.insns.iter().fold(self.converted_len(), |total, insn| {
            total + 2 * blinded_insns(insn)
        })
    }
}

/// How many of the eBPF instructions `bpf_convert_filter` emits for one
/// checked seccomp instruction `bpf_jit_blind_insn` rewrites into three.
fn blinded_insns(insn: &SockFilter) -> usize {
    let code = insn.code;
    let nonzero = usize::from(insn.k != 0);
    match class(code) {
        // mov32 r0, k (exit has no constant).
        BPF_RET if code == BPF_RET | BPF_K => nonzero,
        // mov32 a|x, k; the length loads move 64.
        BPF_LD | BPF_LDX if mode(code) == BPF_IMM => nonzero,
        BPF_LD | BPF_LDX if mode(code) == BPF_LEN => 1,
        // The zero check of `div x` jumps on a constant.
        BPF_ALU if code == BPF_ALU | BPF_DIV | BPF_X => 1,
        BPF_ALU if source(code) == BPF_K => usize::from(matches!(
            operation(code),
            BPF_ADD | BPF_SUB | BPF_AND | BPF_OR | BPF_XOR | BPF_MUL | BPF_DIV
        )),
        // A jump on a constant, or the move of a constant with the sign
        // bit set into a register that the jump then compares.
        BPF_JMP if code != BPF_JMP | BPF_JA => usize::from(source(code) == BPF_K),
        _ => 0,
    }
}

/// eBPF instructions `bpf_convert_filter` emits for one checked seccomp
/// instruction.
fn converted_insn_len(insn: &SockFilter) -> usize {
    let code = insn.code;
    match class(code) {
        BPF_RET if code == BPF_RET | BPF_K => 2,
        BPF_ALU if code == BPF_ALU | BPF_DIV | BPF_X => 5,
        BPF_JMP if code != BPF_JMP | BPF_JA => {
            let is_constant = source(code) == BPF_K;
            let widen_constant = usize::from(is_constant && insn.k >= 0x8000_0000);
            let op = operation(code);
            let invertible = matches!(op, BPF_JEQ | BPF_JGT | BPF_JGE);
            let single_jump = insn.jf == 0 || (insn.jt == 0 && invertible);
            widen_constant + if single_jump { 1 } else { 2 }
        }
        _ => 1,
    }
}

/// Validates `filter` as a seccomp program; see the module documentation
/// for the rules and their order.
pub fn check(filter: &[SockFilter]) -> Result<CheckedProgram<'_>, CheckError> {
    let len = filter.len();
    // seccomp_prepare_filter() and bpf_check_basics_ok().
    if len == 0 || len > BPF_MAXINSNS {
        return Err(CheckError::InvalidLength { len });
    }
    // bpf_check_classic(): per-instruction rules.
    for (pc, insn) in filter.iter().enumerate() {
        check_classic_insn(pc, insn, len)?;
    }
    // bpf_check_classic(): the program ends with a return.
    match filter.last() {
        Some(last) if last.code == BPF_RET | BPF_K || last.code == BPF_RET | BPF_A => {}
        _ => return Err(CheckError::MissingFinalReturn),
    }
    // check_load_and_stores().
    check_scratch_reads(filter)?;
    // seccomp_check_filter().
    for (pc, insn) in filter.iter().enumerate() {
        check_seccomp_insn(pc, insn)?;
    }
    Ok(CheckedProgram { insns: filter })
}

/// Whether `code` is an opcode of classic BPF at all (`chk_code_allowed`):
/// the seccomp opcodes plus those only meaningful for packet filters.
pub fn is_classic_opcode(code: u16) -> bool {
    is_seccomp_opcode(code)
        || [
            BPF_ALU | BPF_MOD | BPF_K,
            BPF_ALU | BPF_MOD | BPF_X,
            BPF_LD | BPF_H | BPF_ABS,
            BPF_LD | BPF_B | BPF_ABS,
            BPF_LD | BPF_W | BPF_IND,
            BPF_LD | BPF_H | BPF_IND,
            BPF_LD | BPF_B | BPF_IND,
            BPF_LDX | BPF_B | BPF_MSH,
        ]
        .contains(&code)
}

/// Whether seccomp accepts opcode `code` (`seccomp_check_filter`): word
/// loads from the data and its length, arithmetic except `BPF_MOD`,
/// immediates, scratch memory, register transfers, jumps and returns.
pub fn is_seccomp_opcode(code: u16) -> bool {
    let index = usize::from(code);
    match SECCOMP_OPCODES.get(index / 64) {
        Some(bits) => bits & (1 << (index % 64)) != 0,
        None => false,
    }
}

/// The opcodes [`is_seccomp_opcode`] accepts, one bit each (all are below
/// 256), computed at compile time from the lists below.
const SECCOMP_OPCODES: [u64; 4] = {
    const ALU_OPS: [u16; 9] = [
        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
    ];
    const JUMP_CONDITIONS: [u16; 4] = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET];
    const OTHERS: [u16; 15] = [
        BPF_ALU | BPF_NEG,
        BPF_LD | BPF_W | BPF_ABS,
        BPF_LD | BPF_W | BPF_LEN,
        BPF_LDX | BPF_W | BPF_LEN,
        BPF_LD | BPF_IMM,
        BPF_LDX | BPF_IMM,
        BPF_LD | BPF_MEM,
        BPF_LDX | BPF_MEM,
        BPF_ST,
        BPF_STX,
        BPF_MISC | BPF_TAX,
        BPF_MISC | BPF_TXA,
        BPF_RET | BPF_K,
        BPF_RET | BPF_A,
        BPF_JMP | BPF_JA,
    ];
    const fn set(mut bits: [u64; 4], code: u16) -> [u64; 4] {
        let index = code as usize;
        bits[index / 64] |= 1 << (index % 64);
        bits
    }
    let mut bits = [0u64; 4];
    let mut i = 0;
    while i < ALU_OPS.len() {
        bits = set(bits, BPF_ALU | ALU_OPS[i] | BPF_K);
        bits = set(bits, BPF_ALU | ALU_OPS[i] | BPF_X);
        i += 1;
    }
    i = 0;
    while i < JUMP_CONDITIONS.len() {
        bits = set(bits, BPF_JMP | JUMP_CONDITIONS[i] | BPF_K);
        bits = set(bits, BPF_JMP | JUMP_CONDITIONS[i] | BPF_X);
        i += 1;
    }
    i = 0;
    while i < OTHERS.len() {
        bits = set(bits, OTHERS[i]);
        i += 1;
    }
    bits
};

/// Whether an absolute load at `k` addresses a known socket-filter
/// extension (`bpf_anc_helper`): `SKF_AD_OFF + n` for the sixteen defined
/// `SKF_AD_*` values, which are the multiples of four below `SKF_AD_MAX`.
fn is_known_ancillary_offset(k: u32) -> bool {
    let n = k.wrapping_sub(SKF_AD_OFF);
    k >= SKF_AD_OFF && n < SKF_AD_MAX && n & 3 == 0
}

/// The per-instruction rules of `bpf_check_classic`.
fn check_classic_insn(pc: usize, insn: &SockFilter, len: usize) -> Result<(), CheckError> {
    let code = insn.code;
    if !is_classic_opcode(code) {
        return Err(CheckError::UnknownOpcode { pc, code });
    }
    // Instructions after `pc`; jump distances must stay below it.
    let remaining = len - pc - 1;
    let ok = match code {
        c if c == BPF_ALU | BPF_DIV | BPF_K || c == BPF_ALU | BPF_MOD | BPF_K => {
            if insn.k == 0 {
                return Err(CheckError::DivisionByZero { pc });
            }
            true
        }
        c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => {
            if insn.k >= 32 {
                return Err(CheckError::ShiftTooLarge { pc });
            }
            true
        }
        c if c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM || c == BPF_ST || c == BPF_STX => {
            if insn.k >= BPF_MEMWORDS {
                return Err(CheckError::ScratchSlotOutOfRange { pc });
            }
            true
        }
        c if c == BPF_JMP | BPF_JA => u32::try_from(remaining).is_ok_and(|r| insn.k < r),
        c if class(c) == BPF_JMP => {
            usize::from(insn.jt) < remaining && usize::from(insn.jf) < remaining
        }
        c if class(c) == BPF_LD && mode(c) == BPF_ABS => {
            if insn.k >= SKF_AD_OFF && !is_known_ancillary_offset(insn.k) {
                return Err(CheckError::UnknownAncillaryLoad { pc });
            }
            true
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(CheckError::JumpOutOfRange { pc })
    }
}

/// The per-instruction rules of `seccomp_check_filter`.
fn check_seccomp_insn(pc: usize, insn: &SockFilter) -> Result<(), CheckError> {
    let code = insn.code;
    if !is_seccomp_opcode(code) {
        return Err(CheckError::OpcodeNotAllowed { pc, code });
    }
    if code == BPF_LD | BPF_W | BPF_ABS && (insn.k >= SeccompData::SIZE || insn.k & 3 != 0) {
        return Err(CheckError::InvalidDataOffset { pc });
    }
    Ok(())
}

/// Mirrors `check_load_and_stores`: a scratch slot may only be read when
/// it holds a stored value on every path to the read.
///
/// The C version keeps a 16-bit mask per instruction. To stay allocation
/// free, this runs the same forward data flow once per slot that is read
/// anywhere, with one bit per instruction (512 bytes of stack), and
/// reports the lowest failing instruction over all slots, which is the one
/// the C version stops at.
fn check_scratch_reads(filter: &[SockFilter]) -> Result<(), CheckError> {
    let read_slots = filter
        .iter()
        .filter(|insn| insn.code == BPF_LD | BPF_MEM || insn.code == BPF_LDX | BPF_MEM)
        .fold(0u16, |slots, insn| slots | 1u16.wrapping_shl(insn.k));
    let first_bad = (0..BPF_MEMWORDS)
        .filter(|&slot| read_slots & (1 << slot) != 0)
        .filter_map(|slot| first_uninitialized_read(filter, slot))
        .min();
    match first_bad {
        Some(pc) => Err(CheckError::UninitializedScratchRead { pc }),
        None => Ok(()),
    }
}

/// One bit per possible instruction index (indexes past `BPF_MAXINSNS`
/// are never set).
pub(super) struct InsnBitSet([u64; BPF_MAXINSNS / 64]);

impl InsnBitSet {
    /// The empty set.
    pub(super) const fn new() -> Self {
        Self([0; BPF_MAXINSNS / 64])
    }

    pub(super) fn set(&mut self, index: usize) {
        if let Some(word) = self.0.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    pub(super) fn contains(&self, index: usize) -> bool {
        self.0
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
}

/// Index reached by a jump at `pc` over `distance` instructions
/// (saturating, so out-of-range distances give an out-of-range index).
fn jump_target(pc: usize, distance: u32) -> usize {
    usize::try_from(distance)
        .unwrap_or(usize::MAX)
        .saturating_add(pc)
        .saturating_add(1)
}

/// The data flow of `check_load_and_stores` restricted to `slot`.
///
/// `stored` is whether the slot holds a value when falling through to the
/// current instruction; `unstored_on_entry` marks instructions that some
/// jump reaches without the slot stored. Like the C version, the state
/// after a jump is "stored" (a jump never falls through) and the state
/// after a return carries over to the next instruction.
fn first_uninitialized_read(filter: &[SockFilter], slot: u32) -> Option<usize> {
    let mut unstored_on_entry = InsnBitSet::new();
    let mut stored = false;
    for (pc, insn) in filter.iter().enumerate() {
        if unstored_on_entry.contains(pc) {
            stored = false;
        }
        let code = insn.code;
        if code == BPF_ST || code == BPF_STX {
            stored |= insn.k == slot;
        } else if code == BPF_LD | BPF_MEM || code == BPF_LDX | BPF_MEM {
            if insn.k == slot && !stored {
                return Some(pc);
            }
        } else if code == BPF_JMP | BPF_JA {
            if !stored {
                unstored_on_entry.set(jump_target(pc, insn.k));
            }
            stored = true;
        } else if class(code) == BPF_JMP {
            if !stored {
                unstored_on_entry.set(jump_target(pc, insn.jt.into()));
                unstored_on_entry.set(jump_target(pc, insn.jf.into()));
            }
            stored = true;
        }
    }
    None
}

/// Largest total eBPF length of a filter chain (`MAX_INSNS_PER_PATH`,
/// 256 KiB worth of 8-byte instructions).
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// Extra instructions charged per already attached filter.
pub const PER_FILTER_PENALTY: usize = 4;

/// Attaching a filter would make the chain exceed [`MAX_INSNS_PER_PATH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTooLong {
    /// The total the chain would have had (saturating).
    pub total: usize,
}

impl ChainTooLong {
    /// The (positive) errno the system call reports: `ENOMEM`.
    pub const fn errno(&self) -> i32 {
        ENOMEM
    }
}

/// The chain length rule of `seccomp_attach_filter`: the new filter's
/// [`CheckedProgram::converted_len`] plus, for every filter already
/// attached, its converted length and [`PER_FILTER_PENALTY`], must not
/// exceed [`MAX_INSNS_PER_PATH`]. Returns the total on success.
pub fn check_chain_length<I>(new_converted_len: usize, attached: I) -> Result<usize, ChainTooLong>
where
    I: IntoIterator<Item = usize>,
{
    let total = attached.into_iter().fold(new_converted_len, |total, len| {
        total.saturating_add(len).saturating_add(PER_FILTER_PENALTY)
    });
    if total > MAX_INSNS_PER_PATH {
        Err(ChainTooLong { total })
    } else {
        Ok(total)
    }
}
