// SPDX-License-Identifier: GPL-2.0

//! Runs of `jeq` comparisons of one value, compiled into lookups.
//!
//! Filters test a value against many constants one `jeq` at a time: the
//! allowed `ioctl` requests, `fcntl` commands or socket families after
//! loading an argument, and often hundreds of constants in a row. Each
//! `jeq` leaves A alone, so a chain of them (each one's not-taken branch
//! leading, perhaps through `ja`s, to the next) compares one value with
//! every constant of the chain in turn and jumps to the taken target of
//! the first that is equal, or past the chain when none is.
//!
//! [`DecodedProgram::compile`] replaces the first `jeq` of each
//! chain of at least [`MIN_SWITCH_LEN`] with an [`Insn::Switch`]: the
//! chain's distinct constants (the first of equal ones kept, as the chain
//! would match it), each with its target, in a hash table when the chain
//! has at most [`HASH_MAX`] `jeq`s and a multiplier spreads the constants
//! ([`HashPlan`]: one multiply, one shift, one compare whatever the
//! number of cases), else sorted for a binary search. Only the head
//! changes: a jump into the middle of a chain still runs the `jeq`s from
//! there, and every instruction keeps its meaning, so anything computed
//! on the program before (resume points) stays valid.
//!
//! Chains comparing the system call number are left alone: the resume
//! tables already skip them for every number they cover.
//!
//! Then each load of a data word followed by a `jeq`, a switch or an `and`
//! becomes one [`Insn::LdJeqK`], [`Insn::LdSwitch`] or [`Insn::LdAndK`],
//! the instruction after it unchanged: an argument check of libseccomp's
//! (load the high word, `jeq 0`, load the low word, compare) takes three
//! steps of the interpreter instead of five, a masked one (load, `and`,
//! `jeq`, for each half) three instead of seven.
//!
//! Every instruction is in at most one switch's chain, and a chain of `n`
//! `jeq`s takes at most `4n` cases (a hash table at most four times as
//! large as its constants, and its header), and a program's switches at
//! most four cases per instruction: 32 bytes per instruction at worst,
//! which only a program made of short chains reaches.

use core::num::NonZeroU16;
use core::ops::{Deref, DerefMut};

use super::cache::follow_nr;
use super::checker::InsnBitSet;
use super::insn::opcode::BPF_MAXINSNS;
use super::insn::{Insn, Skip};
use super::interp::{DecodeError, DecodedProgram};

/// Shortest chain worth a switch: below it, the `jeq`s cost about as
/// much as the search.
pub const MIN_SWITCH_LEN: usize = 4;

/// Chains of at most this many `jeq`s get a hash table if a multiplier
/// that spreads their constants is found ([`HashPlan`]).
pub const HASH_MAX: usize = 64;

/// Flag of a switch's length: its cases are a hash table ([`HashPlan`]).
pub const HASHED: u16 = 0x8000;

/// Multipliers tried for each table size, in this order.
const HASH_TRIES: u32 = 32;

/// One constant of a switch and where a value equal to it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    /// The constant.
    pub k: u32,
    /// Forward distance from the switch to the taken target.
    pub distance: NonZeroU16,
}

impl Default for Case {
    /// A case whose target is out of any program: a switch that used it
    /// would fail closed.
    fn default() -> Self {
        Self {
            k: 0,
            distance: NonZeroU16::MAX,
        }
    }
}

/// The (empty) cases of a program without switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoCases;

impl Deref for NoCases {
    type Target = [Case];

    fn deref(&self) -> &[Case] {
        &[]
    }
}

/// Index of the instruction a jump to `pc` really reaches: `pc` after any
/// `ja`s (which only move forward, so this ends).
fn through_ja(insns: &[Insn], mut pc: usize) -> usize {
    while let Some(Insn::Ja(distance)) = insns.get(pc) {
        pc = pc.saturating_add(usize::from(distance.get()));
    }
    pc
}

/// The chain of `jeq`s starting at `pc`: each `jeq`'s index, in order of
/// execution, then the index its last not-taken branch reaches.
struct Chain<'a> {
    insns: &'a [Insn],
    pc: usize,
}

impl Iterator for Chain<'_> {
    type Item = (usize, u32, Skip);

    fn next(&mut self) -> Option<Self::Item> {
        let here = self.pc;
        let Some(&Insn::JeqK(k, jt, jf)) = self.insns.get(here) else {
            return None;
        };
        self.pc = through_ja(self.insns, here.saturating_add(usize::from(jf.get())));
        Some((here, k, jt))
    }
}

fn chain(insns: &[Insn], head: usize) -> Chain<'_> {
    Chain { insns, pc: head }
}

/// The `jeq`s that are no heads: those another one's not-taken branch
/// leads to, and those comparing the system call number (which the resume
/// tables skip: a switch there would only cost attach time and memory).
fn continued(insns: &[Insn]) -> InsnBitSet {
    let mut continued = InsnBitSet::new();
    let only_compared = follow_nr(insns, |pc, _| {
        continued.set(pc);
        true
    });
    if only_compared != Some(true) {
        // The number escapes somewhere: the resume tables may not skip its
        // comparisons, so they keep their switches.
        continued = InsnBitSet::new();
    }
    for (pc, &insn) in insns.iter().enumerate() {
        if let Insn::JeqK(_, _, jf) = insn {
            let next = through_ja(insns, pc.saturating_add(usize::from(jf.get())));
            if matches!(insns.get(next), Some(Insn::JeqK(..))) {
                continued.set(next);
            }
        }
    }
    continued
}

/// The switch of a chain: its length and, when its constants spread over
/// a hash table, that table's plan.
#[derive(Clone, Copy)]
struct SwitchShape {
    len: usize,
    plan: Option<HashPlan>,
}

impl SwitchShape {
    /// The cases the switch takes: its hash table, or one per `jeq`.
    fn size(self) -> usize {
        self.plan.map_or(self.len, HashPlan::size)
    }
}

/// The switch of the chain at `head`, if it gets one, `total` cases being
/// taken already: a head, at least [`MIN_SWITCH_LEN`] long, and room for
/// its cases within four per instruction of the program.
fn switch_shape(
    insns: &[Insn],
    continued: &InsnBitSet,
    head: usize,
    total: usize,
) -> Option<SwitchShape> {
    if insns.len() > BPF_MAXINSNS
        || !matches!(insns.get(head), Some(Insn::JeqK(..)))
        || continued.contains(head)
    {
        return None;
    }
    let room = (4 * insns.len()).checked_sub(total)?;
    let len = chain(insns, head).take(insns.len()).count();
    if len < MIN_SWITCH_LEN {
        return None;
    }
    let shape = SwitchShape {
        len,
        plan: HashPlan::for_chain(insns, head),
    };
    (shape.size() <= room).then_some(shape)
}

/// The smallest `b` with `2^b >= n`.
const fn ceil_log2(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// A hash table for the constants of a chain: constant `k` is in slot
/// `k.wrapping_mul(multiplier) >> (32 - bits)` of `2^bits` slots, each
/// holding its constant and target (the first of equal constants' target,
/// as the chain would match it). The switch's first case holds the
/// multiplier and the shift, `32 - bits`, and an empty slot a copy of a case, whose
/// constant never hashes there. One multiply, one shift and one compare
/// find the case of a value, or that it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HashPlan {
    multiplier: u32,
    bits: u32,
}

impl HashPlan {
    /// A table for the constants of the chain at `head`, if it has at most
    /// [`HASH_MAX`] `jeq`s and one of the [`HASH_TRIES`] multipliers
    /// spreads them over twice as many slots as the next power of two (at
    /// most half of them taken: the first multipliers usually do for up to
    /// a dozen random constants, and for runs of consecutive ones, as the
    /// allowed values of an argument often are, up to the limit). At most
    /// `4n` cases for `n` `jeq`s.
    fn for_chain(insns: &[Insn], head: usize) -> Option<Self> {
        let mut keys = [0u32; HASH_MAX];
        let mut len = 0;
        for (_, k, _) in chain(insns, head) {
            *keys.get_mut(len)? = k;
            len += 1;
        }
        let keys = keys.get(..len)?;
        let mut held = [0u32; 2 * HASH_MAX];
        let bits = ceil_log2(len) + 1;
        // Odd multipliers from a fixed sequence (SplitMix's increment), so
        // that sizing and compiling choose the same.
        let mut multiplier = 0x9e37_79b9u32;
        for _ in 0..HASH_TRIES {
            let plan = HashPlan { multiplier, bits };
            if plan.spreads(keys, &mut held) {
                return Some(plan);
            }
            multiplier = multiplier.wrapping_add(0x7f4a_7c16) | 1;
        }
        None
    }

    /// The cases the switch takes: the header and the slots.
    fn size(self) -> usize {
        1 + (1 << self.bits)
    }

    /// The slot of `k`.
    #[inline(always)]
    fn slot(self, k: u32) -> usize {
        (k.wrapping_mul(self.multiplier) >> (32 - self.bits)) as usize
    }

    /// Whether distinct `keys` all have slots of their own; `held` is
    /// scratch space for the key of each slot (read only where this call
    /// wrote).
    fn spreads(self, keys: &[u32], held: &mut [u32; 2 * HASH_MAX]) -> bool {
        let mut taken = 0u128;
        keys.iter().all(|&k| {
            let slot = self.slot(k);
            let bit = 1u128.checked_shl(slot as u32).unwrap_or(0);
            match held.get_mut(slot) {
                Some(key) if taken & bit == 0 => {
                    taken |= bit;
                    *key = k;
                    true
                }
                Some(key) => *key == k,
                None => false,
            }
        })
    }

    /// Fills `slots` (of [`HashPlan::size`]) for the chain at `head`.
    fn fill(self, insns: &[Insn], head: usize, slots: &mut [Case]) {
        let Some((header, table)) = slots.split_first_mut() else {
            return;
        };
        *header = Case {
            k: self.multiplier,
            distance: NonZeroU16::new((32 - self.bits) as u16).unwrap_or(NonZeroU16::MIN),
        };
        let mut filled = [false; 2 * HASH_MAX];
        let mut first = None;
        for (pc, k, jt) in chain(insns, head) {
            let case = Case {
                k,
                distance: distance(head, pc + usize::from(jt.get())).unwrap_or(NonZeroU16::MAX),
            };
            let slot = self.slot(k);
            if let (Some(entry), Some(done)) = (table.get_mut(slot), filled.get_mut(slot)) {
                if !*done {
                    *entry = case;
                    *done = true;
                }
            }
            first.get_or_insert(case);
        }
        for (entry, _) in table.iter_mut().zip(filled).filter(|(_, done)| !done) {
            *entry = first.unwrap_or_default();
        }
    }
}

impl<S: DerefMut<Target = [Insn]>> DecodedProgram<S> {
    /// Number of [`Case`]s [`DecodedProgram::compile`] needs.
    pub fn switch_cases(&self) -> usize {
        let insns = self.insns();
        let continued = continued(insns);
        (0..insns.len()).fold(0, |total, head| {
            total + switch_shape(insns, &continued, head, total).map_or(0, SwitchShape::size)
        })
    }

    /// Replaces the head of each long enough chain of `jeq`s with a
    /// [`Insn::Switch`] whose cases go in `cases`, which must have
    /// [`DecodedProgram::switch_cases`] elements (its contents are
    /// overwritten), then fuses each load of a data word with the `jeq` or
    /// switch after it ([`Insn::LdJeqK`], [`Insn::LdSwitch`]). The program
    /// gives the same result as before for every input, from every
    /// instruction.
    ///
    /// The switches are found as [`DecodedProgram::switch_cases`] finds
    /// them, in the pass that fills them; `cases` of another length is an
    /// error (and the program is lost).
    pub fn compile<C>(self, mut cases: C) -> Result<DecodedProgram<S, C>, DecodeError>
    where
        C: DerefMut<Target = [Case]>,
    {
        let mut insns = self.into_storage();
        let continued = continued(&insns);
        // Chains never pass through another chain's head, so compiling a
        // head does not change the chains after it.
        let mut total = 0;
        for head in 0..insns.len() {
            let Some(shape) = switch_shape(&insns, &continued, head, total) else {
                continue;
            };
            let size = shape.size();
            let Some(slot) = cases.get_mut(total..total + size) else {
                // Too few cases: only count the rest, for the error.
                total += size;
                continue;
            };
            let kept = match shape.plan {
                Some(plan) => {
                    plan.fill(&insns, head, slot);
                    size | usize::from(HASHED)
                }
                None => sort_cases(&insns, head, slot),
            };
            let mut walk = chain(&insns, head);
            walk.by_ref().for_each(drop);
            // A switch the fields cannot describe stays a `jeq`: the same
            // result, only slower.
            if let (Ok(first), Ok(kept), Some(default)) = (
                u16::try_from(total),
                u16::try_from(kept),
                distance(head, walk.pc),
            ) {
                if let Some(insn) = insns.get_mut(head) {
                    *insn = Insn::Switch(first, kept, default);
                }
            }
            total += size;
        }
        if cases.len() != total {
            return Err(DecodeError::LengthMismatch {
                expected: total,
                actual: cases.len(),
            });
        }
        fuse_loads(&mut insns);
        Ok(DecodedProgram::with_cases(insns, cases))
    }
}

/// Replaces each `LdData` followed by a `JeqK`, a [`Insn::Switch`] or an
/// `AndK` with an [`Insn::LdJeqK`], [`Insn::LdSwitch`] or
/// [`Insn::LdAndK`]: the load and the instruction that follows in one step
/// of the interpreter (the argument checks of libseccomp's filters are such
/// pairs). The instruction after the load stays as it is, for the jumps
/// that reach it.
fn fuse_loads(insns: &mut [Insn]) {
    for pc in 1..insns.len() {
        let (Some(&Insn::LdData(word)), Some(&next)) = (insns.get(pc - 1), insns.get(pc)) else {
            continue;
        };
        let fused = match next {
            Insn::JeqK(k, jt, jf) => Insn::LdJeqK(word, k, jt, jf),
            Insn::Switch(first, len, default) => Insn::LdSwitch(word, first, len, default),
            Insn::AndK(mask) => Insn::LdAndK(word, mask),
            _ => continue,
        };
        if let Some(load) = insns.get_mut(pc - 1) {
            *load = fused;
        }
    }
}

/// Forward distance from `from` to `to`, if it is one.
fn distance(from: usize, to: usize) -> Option<NonZeroU16> {
    u16::try_from(to.checked_sub(from)?)
        .ok()
        .and_then(NonZeroU16::new)
}

/// Fills `slot` (as long as the chain at `head`) with the chain's cases
/// sorted by constant, the first of equal ones only (as the chain would
/// match it), and returns how many it keeps.
fn sort_cases(insns: &[Insn], head: usize, slot: &mut [Case]) -> usize {
    // First each `jeq`'s own distance from the head, plus one: its rank
    // in the chain, which breaks ties between equal constants.
    for (case, (pc, k, _)) in slot.iter_mut().zip(chain(insns, head)) {
        let rank = distance(head, pc + 1).unwrap_or(NonZeroU16::MAX);
        *case = Case { k, distance: rank };
    }
    // Generators list constants in order (libseccomp: descending), so a
    // chain of distinct ones is often sorted already.
    let descending = |pair: &[Case]| matches!(pair, [first, second] if first.k > second.k);
    let ascending = |pair: &[Case]| matches!(pair, [first, second] if first.k < second.k);
    if slot.windows(2).all(descending) {
        slot.reverse();
    } else if !slot.windows(2).all(ascending) {
        slot.sort_unstable_by_key(|case| (case.k, case.distance));
    }
    let mut kept = 0;
    let mut last = None;
    for i in 0..slot.len() {
        let Some(&case) = slot.get(i) else { break };
        if last != Some(case.k) {
            if let Some(to) = slot.get_mut(kept) {
                *to = case;
            }
            kept += 1;
            last = Some(case.k);
        }
    }
    // Then the target of the `jeq` of that rank.
    for case in slot.iter_mut().take(kept) {
        let pc = head + usize::from(case.distance.get() - 1);
        case.distance = match insns.get(pc) {
            Some(&Insn::JeqK(_, jt, _)) => {
                distance(head, pc + usize::from(jt.get())).unwrap_or(NonZeroU16::MAX)
            }
            _ => NonZeroU16::MAX,
        };
    }
    kept
}

/// Where [`Insn::Switch`] with cases `first..first + len` of `cases` and
/// distance `default` sends `a`: the distance to jump, or `None` (fail
/// closed) if the cases are not there.
#[inline(always)]
pub(super) fn switch_step(
    cases: &[Case],
    first: u16,
    len: u16,
    default: NonZeroU16,
    a: u32,
) -> Option<usize> {
    let start = usize::from(first);
    if len & HASHED != 0 {
        // The header: the multiplier and the shift, `32 - bits`.
        let header = cases.get(start)?;
        let slot = a
            .wrapping_mul(header.k)
            .wrapping_shr(u32::from(header.distance.get())) as usize;
        // Below `2^bits`, the length of the table after the header,
        // whatever `a`. (Cases other than `compile` writes could send it
        // elsewhere among `cases`: a wrong distance, still forward.)
        let case = cases.get(start + 1 + slot)?;
        let found = if case.k == a { case.distance } else { default };
        return Some(usize::from(found.get()));
    }
    // Sorted cases are searched, inline (a call would make the
    // interpreter's loop save its registers around every switch): the
    // indexes stay below `len` whatever the comparisons (and their
    // prediction) say.
    let cases = cases.get(start..start + usize::from(len))?;
    let (mut base, mut size) = (0, cases.len());
    while size > 1 {
        let half = size / 2;
        if cases.get(base + half).is_some_and(|case| case.k <= a) {
            base += half;
        }
        size -= half;
    }
    let found = cases.get(base).filter(|case| case.k == a);
    Some(usize::from(
        found.map_or(default, |case| case.distance).get(),
    ))
}
