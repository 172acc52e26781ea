// SPDX-License-Identifier: GPL-2.0

//! Translation of a checked program into [`Insn`]s and their evaluation.
//!
//! Evaluation has the semantics of the eBPF code the C implementation runs
//! (`bpf_convert_filter` followed by the eBPF interpreter or JIT): A, X and
//! the scratch memory start at zero, arithmetic is 32-bit and wrapping,
//! shift counts taken from X are masked to 0..31, and a division by an X
//! of zero ends the program with return value 0.

use core::num::{NonZeroU16, NonZeroU32};
use core::ops::{Deref, DerefMut};

use super::checker::CheckedProgram;
use super::data::{DataWords, SeccompData};
use super::insn::opcode::*;
use super::insn::{Insn, Skip, SockFilter};
use super::switch::{self, Case, NoCases};

/// Return value used when evaluation cannot continue, which a decoded
/// program never reaches: `SECCOMP_RET_KILL_THREAD`.
const FAIL_CLOSED: u32 = 0;

/// Why [`CheckedProgram::decode_into`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The storage does not have exactly one slot per instruction.
    LengthMismatch {
        /// Number of instructions of the checked program.
        expected: usize,
        /// Length of the storage supplied.
        actual: usize,
    },
}

/// A checked program translated into [`Insn`]s held in caller-provided
/// storage `S` (for instance a `KVec<Insn>` in the kernel, a `Vec<Insn>` or
/// `&mut [Insn]` elsewhere), and the cases of its switches in `C`
/// ([`DecodedProgram::compile`]; none before).
#[derive(Clone, Debug)]
pub struct DecodedProgram<S, C = NoCases> {
    insns: S,
    cases: C,
}

impl<'a> CheckedProgram<'a> {
    /// Translates the program into `storage`, which must have exactly
    /// [`CheckedProgram::len`] elements; its previous contents are
    /// overwritten.
    pub fn decode_into<S>(&self, mut storage: S) -> Result<DecodedProgram<S>, DecodeError>
    where
        S: DerefMut<Target = [Insn]>,
    {
        let raw = self.raw();
        if storage.len() != raw.len() {
            return Err(DecodeError::LengthMismatch {
                expected: raw.len(),
                actual: storage.len(),
            });
        }
        for (slot, insn) in storage.iter_mut().zip(raw) {
            *slot = decode_insn(insn);
        }
        Ok(DecodedProgram {
            insns: storage,
            cases: NoCases,
        })
    }
}

/// Forward distance of a jump over `offset` instructions, counted from the
/// jump itself. Checked offsets are below 4096 so the distance fits.
fn distance(offset: u32) -> NonZeroU16 {
    u16::try_from(offset)
        .ok()
        .and_then(|offset| NonZeroU16::new(offset.wrapping_add(1)))
        .unwrap_or(NonZeroU16::MAX)
}

/// Translates one instruction of a checked program. Combinations the
/// checker refuses decode to a kill so that the function is total.
fn decode_insn(insn: &SockFilter) -> Insn {
    let k = insn.k;
    // Slots, data word indices and shift counts are range-checked; the
    // masks only make the conversions total.
    let slot = (k & 15) as u8;
    let shift = (k & 31) as u8;
    let (jt, jf) = (Skip::new(insn.jt), Skip::new(insn.jf));
    match insn.code {
        c if c == BPF_LD | BPF_W | BPF_ABS => Insn::LdData(((k / 4) & 15) as u8),
        c if c == BPF_LD | BPF_W | BPF_LEN => Insn::LdImm(SeccompData::SIZE),
        c if c == BPF_LDX | BPF_W | BPF_LEN => Insn::LdxImm(SeccompData::SIZE),
        c if c == BPF_LD | BPF_IMM => Insn::LdImm(k),
        c if c == BPF_LDX | BPF_IMM => Insn::LdxImm(k),
        c if c == BPF_LD | BPF_MEM => Insn::LdMem(slot),
        c if c == BPF_LDX | BPF_MEM => Insn::LdxMem(slot),
        c if c == BPF_ST => Insn::St(slot),
        c if c == BPF_STX => Insn::Stx(slot),
        c if c == BPF_MISC | BPF_TAX => Insn::Tax,
        c if c == BPF_MISC | BPF_TXA => Insn::Txa,
        c if c == BPF_ALU | BPF_ADD | BPF_K => Insn::AddK(k),
        c if c == BPF_ALU | BPF_SUB | BPF_K => Insn::SubK(k),
        c if c == BPF_ALU | BPF_MUL | BPF_K => Insn::MulK(k),
        c if c == BPF_ALU | BPF_DIV | BPF_K => match NonZeroU32::new(k) {
            Some(divisor) => Insn::DivK(divisor),
            None => Insn::RetK(FAIL_CLOSED),
        },
        c if c == BPF_ALU | BPF_AND | BPF_K => Insn::AndK(k),
        c if c == BPF_ALU | BPF_OR | BPF_K => Insn::OrK(k),
        c if c == BPF_ALU | BPF_XOR | BPF_K => Insn::XorK(k),
        c if c == BPF_ALU | BPF_LSH | BPF_K => Insn::LshK(shift),
        c if c == BPF_ALU | BPF_RSH | BPF_K => Insn::RshK(shift),
        c if c == BPF_ALU | BPF_ADD | BPF_X => Insn::AddX,
        c if c == BPF_ALU | BPF_SUB | BPF_X => Insn::SubX,
        c if c == BPF_ALU | BPF_MUL | BPF_X => Insn::MulX,
        c if c == BPF_ALU | BPF_DIV | BPF_X => Insn::DivX,
        c if c == BPF_ALU | BPF_AND | BPF_X => Insn::AndX,
        c if c == BPF_ALU | BPF_OR | BPF_X => Insn::OrX,
        c if c == BPF_ALU | BPF_XOR | BPF_X => Insn::XorX,
        c if c == BPF_ALU | BPF_LSH | BPF_X => Insn::LshX,
        c if c == BPF_ALU | BPF_RSH | BPF_X => Insn::RshX,
        c if c == BPF_ALU | BPF_NEG => Insn::Neg,
        c if c == BPF_JMP | BPF_JA => Insn::Ja(distance(k)),
        c if c == BPF_JMP | BPF_JEQ | BPF_K => Insn::JeqK(k, jt, jf),
        c if c == BPF_JMP | BPF_JGT | BPF_K => Insn::JgtK(k, jt, jf),
        c if c == BPF_JMP | BPF_JGE | BPF_K => Insn::JgeK(k, jt, jf),
        c if c == BPF_JMP | BPF_JSET | BPF_K => Insn::JsetK(k, jt, jf),
        c if c == BPF_JMP | BPF_JEQ | BPF_X => Insn::JeqX(jt, jf),
        c if c == BPF_JMP | BPF_JGT | BPF_X => Insn::JgtX(jt, jf),
        c if c == BPF_JMP | BPF_JGE | BPF_X => Insn::JgeX(jt, jf),
        c if c == BPF_JMP | BPF_JSET | BPF_X => Insn::JsetX(jt, jf),
        c if c == BPF_RET | BPF_K => Insn::RetK(k),
        c if c == BPF_RET | BPF_A => Insn::RetA,
        _ => Insn::RetK(FAIL_CLOSED),
    }
}

impl<S, C> DecodedProgram<S, C> {
    /// The program `insns` with switch cases `cases`.
    pub(super) fn with_cases(insns: S, cases: C) -> Self {
        Self { insns, cases }
    }

    /// Gives the storage back, e.g. to free it.
    pub fn into_storage(self) -> S {
        self.insns
    }
}

impl<S: Deref<Target = [Insn]>, C: Deref<Target = [Case]>> DecodedProgram<S, C> {
    /// The decoded instructions.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false for a program built by
    /// [`CheckedProgram::decode_into`].
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The cases of its switches.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Evaluates the filter for one system call and returns its
    /// `SECCOMP_RET_*` value.
    ///
    /// Every jump moves forward, so this executes at most
    /// [`DecodedProgram::len`] instructions. Running off the end (which a
    /// checked program cannot do) returns `SECCOMP_RET_KILL_THREAD`.
    pub fn run(&self, data: &SeccompData) -> u32 {
        run_insns(&self.insns, &self.cases, 0, 0, 0, data)
    }

    /// Evaluates the filter for one system call from instruction `pc` with
    /// registers `a` and `x` and all-zero scratch memory (the state at
    /// entry is `pc = a = x = 0`).
    ///
    /// Total for any arguments: it executes at most
    /// [`DecodedProgram::len`] instructions, and a `pc` past the end
    /// returns `SECCOMP_RET_KILL_THREAD`. See [`super::resume`] for where
    /// starting elsewhere than 0 gives the same result as
    /// [`DecodedProgram::run`].
    #[inline]
    pub fn run_at(&self, pc: usize, a: u32, x: u32, data: &SeccompData) -> u32 {
        run_insns(&self.insns, &self.cases, pc, a, x, data)
    }

    /// [`DecodedProgram::run_at`] reading the data from `words`.
    ///
    /// Always inlined, as the loop it wraps: the kernel's chain loop runs
    /// the newest filter in its own frame, and older ones in another.
    #[inline(always)]
    pub fn run_words_at<D: DataWords>(&self, pc: usize, a: u32, x: u32, words: &D) -> u32 {
        run_insns(&self.insns, &self.cases, pc, a, x, words)
    }
}

/// Evaluates `insns`, whose switches have cases `cases`, from `pc` with
/// registers `a` and `x`; total for any instruction sequence, cases and
/// start state.
///
/// Always inlined: its callers are thin wrappers, and the kernel's chain
/// loop saves a call and the passing of seven arguments per filter.
///
/// The loop handles the instructions real filters are made of (the first
/// twelve [`Insn`] variants, so that telling them from the others takes one
/// compare), testing `JeqK`, `LdJeqK`, `LdSwitch` and `RetK` first; the
/// rest go through [`run_other`], out of line. The kernel's retpoline
/// build has no jump tables: a `match` over all 42 variants costs every
/// instruction a tree of about six compares.
#[inline(always)]
fn run_insns<D: DataWords>(
    insns: &[Insn],
    cases: &[Case],
    mut pc: usize,
    mut a: u32,
    mut x: u32,
    data: &D,
) -> u32 {
    // Scratch memory, zeroed when first used (by `run_other`): most
    // filters never use it.
    let mut mem = None;
    let branch = |taken: bool, jt: Skip, jf: Skip| usize::from(if taken { jt } else { jf }.get());
    // `pc < insns.len() <= isize::MAX` in the loop and steps are at most
    // `u16::MAX`, so the additions never wrap: `pc` strictly increases and
    // the loop runs at most `insns.len()` times.
    while let Some(&insn) = insns.get(pc) {
        // The `jeq`s of allow-lists and argument checks first, before the
        // others are told apart (without the `unlikely` hint LLVM merges
        // this test into the `match`).
        if let Insn::JeqK(k, jt, jf) = insn {
            pc = pc.wrapping_add(branch(a == k, jt, jf));
            continue;
        }
        // Then what an argument check runs after its resume point: the
        // fused loads and compares or switches, and the return. (Out of
        // the `unlikely` part, a switch also keeps the loop's registers:
        // that part saves some of them on entry.)
        if let Insn::LdJeqK(word, k, jt, jf) = insn {
            a = data.word(word);
            pc = pc.wrapping_add(1 + branch(a == k, jt, jf));
            continue;
        }
        // The load, then the switch of the next instruction (from there).
        if let Insn::LdSwitch(word, first, len, default) = insn {
            a = data.word(word);
            match switch::switch_step(cases, first, len, default, a) {
                Some(distance) => pc = pc.wrapping_add(1 + distance),
                None => return FAIL_CLOSED,
            }
            continue;
        }
        if let Insn::RetK(k) = insn {
            return k;
        }
        unlikely();
        let step = match insn {
            Insn::LdData(word) => {
                a = data.word(word);
                1
            }
            Insn::JgtK(k, jt, jf) => branch(a > k, jt, jf),
            Insn::JgeK(k, jt, jf) => branch(a >= k, jt, jf),
            Insn::JsetK(k, jt, jf) => branch(a & k != 0, jt, jf),
            Insn::Ja(distance) => usize::from(distance.get()),
            Insn::Switch(first, len, default) => {
                match switch::switch_step(cases, first, len, default, a) {
                    Some(distance) => distance,
                    None => return FAIL_CLOSED,
                }
            }
            Insn::AndK(k) => {
                a &= k;
                1
            }
            // The load and the `and` after it; then, without going
            // round the loop, the `jeq` after them, as usual.
            Insn::LdAndK(word, mask) => {
                a = data.word(word) & mask;
                match insns.get(pc.wrapping_add(2)) {
                    Some(&Insn::JeqK(k, jt, jf)) => 2 + branch(a == k, jt, jf),
                    _ => 2,
                }
            }
            // A stays in a register: `run_other` takes it and gives it
            // back rather than borrowing it.
            other => match run_other(other, a, &mut x, &mut mem) {
                (Other::Step(step), new_a) => {
                    a = new_a;
                    step
                }
                (Other::Return(value), _) => return value,
            },
        };
        pc = pc.wrapping_add(step);
    }
    FAIL_CLOSED
}

/// Marks the path calling it as unlikely (`core::hint::cold_path` needs
/// Rust 1.95).
#[cold]
fn unlikely() {}

/// What [`run_other`] did.
enum Other {
    /// Go on this many instructions further.
    Step(usize),
    /// The program returned this value.
    Return(u32),
}

/// Executes one instruction [`run_insns`] does not handle itself, with A
/// `a`: what to do next and the new A. `mem` is the scratch memory,
/// `None` until first used (all zeroes).
#[inline(never)]
fn run_other(insn: Insn, mut a: u32, x: &mut u32, mem: &mut Option<[u32; 16]>) -> (Other, u32) {
    let other = run_other_on(insn, &mut a, x, mem);
    (other, a)
}

/// [`run_other`] on A in `a`.
#[inline(always)]
fn run_other_on(insn: Insn, a: &mut u32, x: &mut u32, mem: &mut Option<[u32; 16]>) -> Other {
    let mem = mem.get_or_insert([0; BPF_MEMWORDS as usize]);
    let branch = |taken: bool, jt: Skip, jf: Skip| {
        Other::Step(usize::from(if taken { jt } else { jf }.get()))
    };
    match insn {
        Insn::LdImm(k) => *a = k,
        Insn::LdxImm(k) => *x = k,
        Insn::LdMem(slot) => *a = mem[usize::from(slot & 15)],
        Insn::LdxMem(slot) => *x = mem[usize::from(slot & 15)],
        Insn::St(slot) => mem[usize::from(slot & 15)] = *a,
        Insn::Stx(slot) => mem[usize::from(slot & 15)] = *x,
        Insn::Tax => *x = *a,
        Insn::Txa => *a = *x,
        Insn::AddK(k) => *a = a.wrapping_add(k),
        Insn::SubK(k) => *a = a.wrapping_sub(k),
        Insn::MulK(k) => *a = a.wrapping_mul(k),
        Insn::DivK(k) => *a /= k,
        Insn::OrK(k) => *a |= k,
        Insn::XorK(k) => *a ^= k,
        Insn::LshK(k) => *a = a.wrapping_shl(k.into()),
        Insn::RshK(k) => *a = a.wrapping_shr(k.into()),
        Insn::AddX => *a = a.wrapping_add(*x),
        Insn::SubX => *a = a.wrapping_sub(*x),
        Insn::MulX => *a = a.wrapping_mul(*x),
        Insn::DivX => match a.checked_div(*x) {
            Some(quotient) => *a = quotient,
            None => return Other::Return(0),
        },
        Insn::AndX => *a &= *x,
        Insn::OrX => *a |= *x,
        Insn::XorX => *a ^= *x,
        Insn::LshX => *a = a.wrapping_shl(*x),
        Insn::RshX => *a = a.wrapping_shr(*x),
        Insn::Neg => *a = a.wrapping_neg(),
        Insn::JeqX(jt, jf) => return branch(*a == *x, jt, jf),
        Insn::JgtX(jt, jf) => return branch(*a > *x, jt, jf),
        Insn::JgeX(jt, jf) => return branch(*a >= *x, jt, jf),
        Insn::JsetX(jt, jf) => return branch(*a & *x != 0, jt, jf),
        Insn::RetA => return Other::Return(*a),
        // Handled by `run_insns`; the same meaning here.
        Insn::JeqK(k, jt, jf) => return branch(*a == k, jt, jf),
        Insn::JgtK(k, jt, jf) => return branch(*a > k, jt, jf),
        Insn::JgeK(k, jt, jf) => return branch(*a >= k, jt, jf),
        Insn::JsetK(k, jt, jf) => return branch(*a & k != 0, jt, jf),
        Insn::Ja(distance) => return Other::Step(usize::from(distance.get())),
        Insn::RetK(k) => return Other::Return(k),
        Insn::AndK(k) => *a &= k,
        // Needs the data or the cases, which `run_insns` has: never here.
        Insn::LdData(_)
        | Insn::Switch(..)
        | Insn::LdJeqK(..)
        | Insn::LdSwitch(..)
        | Insn::LdAndK(..) => return Other::Return(FAIL_CLOSED),
    }
    Other::Step(1)
}
