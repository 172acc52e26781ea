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
//! chain's constants, each with its target, in a tight scan for a short
//! chain (in its order) and a binary search for a longer one (sorted, the
//! first of equal constants kept, as the chain would match it). Only the
//! head changes: a jump into the middle of a chain still runs the `jeq`s
//! from there, and every instruction keeps its meaning, so anything
//! computed on the program before (resume points) stays valid.
//!
//! Chains comparing the system call number are left alone: the resume
//! tables already skip them for every number they cover.
//!
//! Then each load of a data word followed by a `jeq` or a switch becomes
//! one [`Insn::LdJeqK`] or [`Insn::LdSwitch`], the instruction after it
//! unchanged: an argument check of libseccomp's (load the high word,
//! `jeq 0`, load the low word, compare) takes three steps of the
//! interpreter instead of five.
//!
//! Every instruction is in at most one switch's cases (a chain is only
//! compiled while the cases so far and its own stay within the program's
//! length), so the cases take at most 8 bytes per instruction.

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

/// Switches of at most this many cases are scanned rather than searched:
/// about four instructions a case against eight a step of the search.
const LINEAR_SCAN_MAX: usize = 8;

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

/// The length of the chain at `head` if it gets a switch, `total` cases
/// being taken already: a head, at least [`MIN_SWITCH_LEN`] long, and
/// room for it within the program's length.
fn switch_len(insns: &[Insn], continued: &InsnBitSet, head: usize, total: usize) -> Option<usize> {
    if insns.len() > BPF_MAXINSNS
        || !matches!(insns.get(head), Some(Insn::JeqK(..)))
        || continued.contains(head)
    {
        return None;
    }
    let room = insns.len().checked_sub(total)?;
    let len = chain(insns, head).take(room.saturating_add(1)).count();
    (MIN_SWITCH_LEN..=room).contains(&len).then_some(len)
}

impl<S: DerefMut<Target = [Insn]>> DecodedProgram<S> {
    /// Number of [`Case`]s [`DecodedProgram::compile`] needs.
    pub fn switch_cases(&self) -> usize {
        let insns = self.insns();
        let continued = continued(insns);
        (0..insns.len()).fold(0, |total, head| {
            total + switch_len(insns, &continued, head, total).unwrap_or(0)
        })
    }

    /// Replaces the head of each long enough chain of `jeq`s with a
    /// [`Insn::Switch`] whose cases go in `cases`, which must have
    /// [`DecodedProgram::switch_cases`] elements (its contents are
    /// overwritten), then fuses each load of a data word with the `jeq` or
    /// switch after it ([`Insn::LdJeqK`], [`Insn::LdSwitch`]). The program
    /// gives the same result as before for every input, from every
    /// instruction.
    pub fn compile<C>(self, mut cases: C) -> Result<DecodedProgram<S, C>, DecodeError>
    where
        C: DerefMut<Target = [Case]>,
    {
        let expected = self.switch_cases();
        if cases.len() != expected {
            return Err(DecodeError::LengthMismatch {
                expected,
                actual: cases.len(),
            });
        }
        let mut insns = self.into_storage();
        let continued = continued(&insns);
        // Chains never pass through another chain's head, so compiling a
        // head does not change the chains after it.
        let mut total = 0;
        for head in 0..insns.len() {
            let Some(len) = switch_len(&insns, &continued, head, total) else {
                continue;
            };
            let Some(slot) = cases.get_mut(total..total + len) else {
                break;
            };
            let kept = sort_cases(&insns, head, slot);
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
            total += len;
        }
        fuse_loads(&mut insns);
        Ok(DecodedProgram::with_cases(insns, cases))
    }
}

/// Replaces each `LdData` followed by a `JeqK` or a [`Insn::Switch`] with
/// an [`Insn::LdJeqK`] or [`Insn::LdSwitch`]: the load and the comparison
/// that follows in one step of the interpreter (the argument checks of
/// libseccomp's filters are such pairs). The instruction after the load
/// stays as it is, for the jumps that reach it.
fn fuse_loads(insns: &mut [Insn]) {
    for pc in 1..insns.len() {
        let (Some(&Insn::LdData(word)), Some(&next)) = (insns.get(pc - 1), insns.get(pc)) else {
            continue;
        };
        let fused = match next {
            Insn::JeqK(k, jt, jf) => Insn::LdJeqK(word, k, jt, jf),
            Insn::Switch(first, len, default) => Insn::LdSwitch(word, first, len, default),
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
/// and returns how many it keeps: a short chain's in its order (they are
/// scanned, the first equal one matching as in the chain), a longer
/// chain's sorted by constant, the first of equal ones only (they are
/// searched).
fn sort_cases(insns: &[Insn], head: usize, slot: &mut [Case]) -> usize {
    if slot.len() <= LINEAR_SCAN_MAX {
        for (case, (pc, k, jt)) in slot.iter_mut().zip(chain(insns, head)) {
            let target = distance(head, pc + usize::from(jt.get()));
            *case = Case {
                k,
                distance: target.unwrap_or(NonZeroU16::MAX),
            };
        }
        return slot.len();
    }
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
    let cases = cases.get(start..start + usize::from(len))?;
    // A few cases are scanned, in the chain's order; more are sorted and
    // searched. Either way the indexes stay below `len` whatever the
    // comparisons (and their prediction) say.
    let found = if cases.len() <= LINEAR_SCAN_MAX {
        cases.iter().find(|case| case.k == a)
    } else {
        cases
            .binary_search_by_key(&a, |case| case.k)
            .ok()
            .and_then(|i| cases.get(i))
    };
    Some(usize::from(
        found.map_or(default, |case| case.distance).get(),
    ))
}
