// SPDX-License-Identifier: GPL-2.0

//! The user's program, given back from the compiled one.
//!
//! `PTRACE_SECCOMP_GET_FILTER` must return a filter exactly as it was
//! attached, bit for bit. Keeping a copy of it (as C does) costs 8 bytes an
//! instruction beside the decoded program, which already says almost all
//! of it: [`Insn::encode`] writes each decoded instruction back in its
//! canonical `struct sock_filter` form. What it cannot give back (a switch
//! head, whose `jeq` lives on in its cases; the bits the checker lets
//! through unused, such as `jt`/`jf` of an instruction that does not jump;
//! `BPF_LEN` loads, decoded as the constant they read) is kept as a
//! [`Divergence`]: its index and the user's instruction.
//!
//! [`DecodedProgram::divergences`] lists them once the program is
//! compiled; [`DecodedProgram::original`] takes the list and gives the
//! user's program back. Both read the same instructions through the same
//! encoding, so the program given back is the user's whatever
//! [`Insn::encode`] writes: the encoding only decides how short the list
//! is (empty for what libseccomp and the kernel's samples generate, but
//! one entry for each switch).

use core::ops::Deref;

use super::insn::opcode::*;
use super::insn::{Insn, SockFilter};
use super::interp::DecodedProgram;
use super::switch::Case;

/// An instruction of the user's program that [`Insn::encode`] does not
/// give back from the compiled program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Divergence {
    /// Its index in the program (below [`BPF_MAXINSNS`]).
    pub pc: u16,
    /// The user's instruction.
    pub insn: SockFilter,
}

impl Insn {
    /// The canonical `struct sock_filter` of this instruction: the one
    /// that decodes to it, with the fields the instruction does not use
    /// zero. A fused load gives its load back; a switch, whose `jeq` is no
    /// longer known, a `ret` of 0.
    pub fn encode(self) -> SockFilter {
        let jump = |code: u16, k: u32, jt: super::insn::Skip, jf: super::insn::Skip| {
            SockFilter::jump(BPF_JMP | code, k, jt.offset(), jf.offset())
        };
        let stmt = SockFilter::stmt;
        match self {
            Insn::LdData(word)
            | Insn::LdJeqK(word, ..)
            | Insn::LdSwitch(word, ..)
            | Insn::LdAndK(word, _) => stmt(BPF_LD | BPF_W | BPF_ABS, u32::from(word) * 4),
            Insn::LdImm(k) => stmt(BPF_LD | BPF_IMM, k),
            Insn::LdxImm(k) => stmt(BPF_LDX | BPF_IMM, k),
            Insn::LdMem(slot) => stmt(BPF_LD | BPF_MEM, u32::from(slot)),
            Insn::LdxMem(slot) => stmt(BPF_LDX | BPF_MEM, u32::from(slot)),
            Insn::St(slot) => stmt(BPF_ST, u32::from(slot)),
            Insn::Stx(slot) => stmt(BPF_STX, u32::from(slot)),
            Insn::Tax => stmt(BPF_MISC | BPF_TAX, 0),
            Insn::Txa => stmt(BPF_MISC | BPF_TXA, 0),
            Insn::AddK(k) => stmt(BPF_ALU | BPF_ADD | BPF_K, k),
            Insn::SubK(k) => stmt(BPF_ALU | BPF_SUB | BPF_K, k),
            Insn::MulK(k) => stmt(BPF_ALU | BPF_MUL | BPF_K, k),
            Insn::DivK(k) => stmt(BPF_ALU | BPF_DIV | BPF_K, k.get()),
            Insn::AndK(k) => stmt(BPF_ALU | BPF_AND | BPF_K, k),
            Insn::OrK(k) => stmt(BPF_ALU | BPF_OR | BPF_K, k),
            Insn::XorK(k) => stmt(BPF_ALU | BPF_XOR | BPF_K, k),
            Insn::LshK(k) => stmt(BPF_ALU | BPF_LSH | BPF_K, u32::from(k)),
            Insn::RshK(k) => stmt(BPF_ALU | BPF_RSH | BPF_K, u32::from(k)),
            Insn::AddX => stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
            Insn::SubX => stmt(BPF_ALU | BPF_SUB | BPF_X, 0),
            Insn::MulX => stmt(BPF_ALU | BPF_MUL | BPF_X, 0),
            Insn::DivX => stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
            Insn::AndX => stmt(BPF_ALU | BPF_AND | BPF_X, 0),
            Insn::OrX => stmt(BPF_ALU | BPF_OR | BPF_X, 0),
            Insn::XorX => stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
            Insn::LshX => stmt(BPF_ALU | BPF_LSH | BPF_X, 0),
            Insn::RshX => stmt(BPF_ALU | BPF_RSH | BPF_X, 0),
            Insn::Neg => stmt(BPF_ALU | BPF_NEG, 0),
            Insn::Ja(distance) => stmt(BPF_JMP | BPF_JA, u32::from(distance.get()) - 1),
            Insn::JeqK(k, jt, jf) => jump(BPF_JEQ | BPF_K, k, jt, jf),
            Insn::JgtK(k, jt, jf) => jump(BPF_JGT | BPF_K, k, jt, jf),
            Insn::JgeK(k, jt, jf) => jump(BPF_JGE | BPF_K, k, jt, jf),
            Insn::JsetK(k, jt, jf) => jump(BPF_JSET | BPF_K, k, jt, jf),
            Insn::JeqX(jt, jf) => jump(BPF_JEQ | BPF_X, 0, jt, jf),
            Insn::JgtX(jt, jf) => jump(BPF_JGT | BPF_X, 0, jt, jf),
            Insn::JgeX(jt, jf) => jump(BPF_JGE | BPF_X, 0, jt, jf),
            Insn::JsetX(jt, jf) => jump(BPF_JSET | BPF_X, 0, jt, jf),
            Insn::RetK(k) => stmt(BPF_RET | BPF_K, k),
            Insn::RetA => stmt(BPF_RET | BPF_A, 0),
            Insn::Switch(..) => stmt(BPF_RET | BPF_K, 0),
        }
    }
}

impl<S: Deref<Target = [Insn]>, C: Deref<Target = [Case]>> DecodedProgram<S, C> {
    /// The instructions of `raw`, the user's program this one was decoded
    /// (and perhaps compiled) from, that [`DecodedProgram::original`]
    /// needs besides it, in order.
    pub fn divergences<'a>(&'a self, raw: &'a [SockFilter]) -> Divergences<'a> {
        Divergences {
            insns: self.insns(),
            raw,
            pc: 0,
        }
    }

    /// The user's program, from this one and its
    /// [`DecodedProgram::divergences`] (sorted by index, as that gives
    /// them).
    pub fn original<'a>(&'a self, divergences: &'a [Divergence]) -> Original<'a> {
        Original {
            insns: self.insns(),
            divergences,
            pc: 0,
        }
    }
}

// The two iterators below are one loop each rather than chains of
// adapters, which the kernel's size-optimised build does not inline (a
// call per adapter and instruction, on the attach path).

/// The [`Divergence`]s of a program ([`DecodedProgram::divergences`]).
pub struct Divergences<'a> {
    insns: &'a [Insn],
    raw: &'a [SockFilter],
    pc: usize,
}

impl Iterator for Divergences<'_> {
    type Item = Divergence;

    fn next(&mut self) -> Option<Divergence> {
        while let (Some(insn), Some(&user)) = (self.insns.get(self.pc), self.raw.get(self.pc)) {
            let pc = self.pc;
            self.pc += 1;
            if insn.encode() != user {
                // A checked program has at most 4096 instructions: every
                // index fits.
                return Some(Divergence {
                    pc: u16::try_from(pc).ok()?,
                    insn: user,
                });
            }
        }
        None
    }
}

/// The user's program, instruction by instruction
/// ([`DecodedProgram::original`]).
pub struct Original<'a> {
    insns: &'a [Insn],
    /// The divergences not reached yet.
    divergences: &'a [Divergence],
    pc: usize,
}

impl Iterator for Original<'_> {
    type Item = SockFilter;

    fn next(&mut self) -> Option<SockFilter> {
        let insn = self.insns.get(self.pc)?;
        let pc = self.pc;
        self.pc += 1;
        if let Some((divergence, rest)) = self.divergences.split_first() {
            if usize::from(divergence.pc) == pc {
                self.divergences = rest;
                return Some(divergence.insn);
            }
        }
        Some(insn.encode())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.insns.len().saturating_sub(self.pc);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Original<'_> {}
