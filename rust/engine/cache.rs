// SPDX-License-Identifier: GPL-2.0

//! Attach-time analysis finding the system calls for which a filter's
//! return value is a constant, so that the kernel can skip running the
//! filters for them (the C counterpart is `seccomp_cache_prepare`, whose
//! `seccomp_is_const_allow` only recognises an always-`ALLOW` result).
//!
//! [`analyze_constant`] evaluates the filter symbolically for one
//! architecture and system call number: the registers and scratch slots
//! are either known constants or unknown; loads of `nr` and `arch` are
//! known, loads of the instruction pointer and the arguments are unknown.
//! A jump on an unknown condition explores both successors, and the
//! program is constant when every path returns the same value. The
//! exploration has a fixed work budget; exceeding it, reading an unknown
//! value into the return value, or dividing by an unknown X gives up
//! ("not constant"), which is always safe.
//!
//! `ConstantTable`, the tests' reference (built only where they run),
//! holds the constants of a whole chain for one architecture, combining a
//! new filter with the table of the chain it is attached to with
//! [`super::action::combine_with_older_chain`], so that a table entry is
//! exactly what [`super::action::run_chain`] returns for that system call.
//!
//! [`ChainTable`] is the form the kernel keeps with each filter: the same
//! entries, per distinct entry of the newest filter's packed resume table
//! when they depend on nothing else, and a bitmap of the numbers allowed
//! outright.
//!
//! The kernel glue keeps three policies of its own: x32 system calls
//! (`nr` with [`X32_SYSCALL_BIT`] set) are outside the tables and never use
//! the cache; `SECCOMP_RET_USER_NOTIF` is never cached because it needs
//! the matching filter's listener; and the upstream exception that always
//! allows `uretprobe` is not part of the filter semantics computed here
//! (the kernel marks it in the bitmap, [`ChainTable::allow_outright`]).

use core::ops::{Deref, DerefMut};

use super::action::{
    combine_with_older_chain, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_USER_NOTIF,
};
use super::checker::InsnBitSet;
use super::data::SeccompData;
use super::insn::opcode::BPF_MAXINSNS;
use super::insn::{AluOp, Insn};
use super::interp::DecodedProgram;
use super::nospec::{self, IndexMask, PlainMask};
use super::resume::{PackedResumeTable, ResumeEntries, ResumeEntry, PACKED_MAX_ENTRIES};

/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// Bit marking an x32 system call number on x86-64 (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Number of x86-64 system call numbers in Linux 6.12 (`NR_syscalls`, one
/// past the highest `common`/`64` entry of `syscall_64.tbl`).
pub const X86_64_NR_SYSCALLS: usize = 463;
/// Number of i386 system call numbers in Linux 6.12 (one past the highest
/// entry of `syscall_32.tbl`).
pub const I386_NR_SYSCALLS: usize = 463;

/// Most paths kept waiting while one is explored.
const MAX_PENDING_PATHS: usize = 8;
/// Base of the per-query work budget, in instructions executed
/// symbolically; the budget is this plus twice the program length.
const BASE_STEP_BUDGET: usize = 256;

/// Symbolic machine state along one path.
#[derive(Clone, Copy)]
struct PathState {
    pc: usize,
    a: Option<u32>,
    x: Option<u32>,
    /// Bit `i` set when `mem[i]` is known.
    mem_known: u16,
    mem: [u32; 16],
}

impl PathState {
    fn load(&self, slot: u8) -> Option<u32> {
        let slot = slot & 15;
        if self.mem_known & (1 << slot) != 0 {
            self.mem.get(usize::from(slot)).copied()
        } else {
            None
        }
    }

    fn store(&mut self, slot: u8, value: Option<u32>) {
        let slot = slot & 15;
        match (value, self.mem.get_mut(usize::from(slot))) {
            (Some(value), Some(cell)) => {
                *cell = value;
                self.mem_known |= 1 << slot;
            }
            _ => self.mem_known &= !(1 << slot),
        }
    }
}

/// Outcome of executing one instruction symbolically.
enum Step {
    /// Continue at the state's `pc`.
    Next,
    /// Continue at the state's `pc`; the other successor is at this index.
    Fork(usize),
    /// The path returns this value.
    Return(u32),
    /// The path's result is unknown.
    Unknown,
}

/// Applies `op` when both operands are known, or when one known operand
/// decides the result alone: an `and` or a `mul` with zero is zero (as
/// libseccomp's masked comparisons of a 64-bit argument do with the upper
/// half of a mask below 2^32).
fn alu(op: AluOp, a: Option<u32>, operand: Option<u32>) -> Option<u32> {
    match (op, a, operand) {
        (AluOp::And | AluOp::Mul, Some(0), _) | (AluOp::And | AluOp::Mul, _, Some(0)) => Some(0),
        _ => Insn::alu(op, a?, operand?),
    }
}

/// Executes the instruction at `state.pc`.
fn step(insn: Insn, state: &mut PathState, arch: u32, nr: i32) -> Step {
    let here = state.pc;
    state.pc = here.saturating_add(1);
    let branch = |state: &mut PathState, taken: Option<bool>, jt: u16, jf: u16| {
        let target = |distance: u16| here.saturating_add(usize::from(distance));
        match taken {
            Some(taken) => {
                state.pc = target(if taken { jt } else { jf });
                Step::Next
            }
            None => {
                state.pc = target(jt);
                Step::Fork(target(jf))
            }
        }
    };
    let compare = |a: Option<u32>, b: Option<u32>, f: fn(u32, u32) -> bool| Some(f(a?, b?));
    let (a, x) = (state.a, state.x);
    match insn {
        Insn::LdData(word) => {
            state.a = match u32::from(word) * 4 {
                SeccompData::NR_OFFSET => Some(nr as u32),
                SeccompData::ARCH_OFFSET => Some(arch),
                _ => None,
            }
        }
        Insn::LdImm(k) => state.a = Some(k),
        Insn::LdxImm(k) => state.x = Some(k),
        Insn::LdMem(slot) => state.a = state.load(slot),
        Insn::LdxMem(slot) => state.x = state.load(slot),
        Insn::St(slot) => state.store(slot, a),
        Insn::Stx(slot) => state.store(slot, x),
        Insn::Tax => state.x = a,
        Insn::Txa => state.a = x,
        Insn::AddK(k) => state.a = alu(AluOp::Add, a, Some(k)),
        Insn::SubK(k) => state.a = alu(AluOp::Sub, a, Some(k)),
        Insn::MulK(k) => state.a = alu(AluOp::Mul, a, Some(k)),
        Insn::DivK(k) => state.a = alu(AluOp::Div, a, Some(k.get())),
        Insn::AndK(k) => state.a = alu(AluOp::And, a, Some(k)),
        Insn::OrK(k) => state.a = alu(AluOp::Or, a, Some(k)),
        Insn::XorK(k) => state.a = alu(AluOp::Xor, a, Some(k)),
        Insn::LshK(k) => state.a = alu(AluOp::Lsh, a, Some(k.into())),
        Insn::RshK(k) => state.a = alu(AluOp::Rsh, a, Some(k.into())),
        Insn::AddX => state.a = alu(AluOp::Add, a, x),
        Insn::SubX => state.a = alu(AluOp::Sub, a, x),
        Insn::MulX => state.a = alu(AluOp::Mul, a, x),
        Insn::DivX => match x {
            Some(0) => return Step::Return(0),
            Some(divisor) => state.a = alu(AluOp::Div, a, Some(divisor)),
            None => return Step::Unknown,
        },
        Insn::AndX => state.a = alu(AluOp::And, a, x),
        Insn::OrX => state.a = alu(AluOp::Or, a, x),
        Insn::XorX => state.a = alu(AluOp::Xor, a, x),
        Insn::LshX => state.a = alu(AluOp::Lsh, a, x),
        Insn::RshX => state.a = alu(AluOp::Rsh, a, x),
        Insn::Neg => state.a = a.map(u32::wrapping_neg),
        Insn::Ja(distance) => state.pc = here.saturating_add(usize::from(distance.get())),
        Insn::JeqK(k, jt, jf) => return branch(state, a.map(|a| a == k), jt.get(), jf.get()),
        Insn::JgtK(k, jt, jf) => return branch(state, a.map(|a| a > k), jt.get(), jf.get()),
        Insn::JgeK(k, jt, jf) => return branch(state, a.map(|a| a >= k), jt.get(), jf.get()),
        Insn::JsetK(k, jt, jf) => return branch(state, a.map(|a| a & k != 0), jt.get(), jf.get()),
        Insn::JeqX(jt, jf) => {
            return branch(state, compare(a, x, |a, x| a == x), jt.get(), jf.get())
        }
        Insn::JgtX(jt, jf) => {
            return branch(state, compare(a, x, |a, x| a > x), jt.get(), jf.get())
        }
        Insn::JgeX(jt, jf) => {
            return branch(state, compare(a, x, |a, x| a >= x), jt.get(), jf.get())
        }
        Insn::JsetX(jt, jf) => {
            return branch(state, compare(a, x, |a, x| a & x != 0), jt.get(), jf.get())
        }
        // Never in the programs analysed (compiled after), unknown if it were.
        Insn::Switch(..) | Insn::LdJeqK(..) | Insn::LdSwitch(..) | Insn::LdAndK(..) => {
            return Step::Unknown
        }
        Insn::RetK(k) => return Step::Return(k),
        Insn::RetA => return a.map_or(Step::Unknown, Step::Return),
    }
    Step::Next
}

/// Returns the value `filter` returns for every system call `nr` of
/// architecture `arch`, whatever its arguments and instruction pointer,
/// or `None` when that could not be established (see the module
/// documentation).
pub fn analyze_constant<S>(filter: &DecodedProgram<S>, arch: u32, nr: i32) -> Option<u32>
where
    S: Deref<Target = [Insn]>,
{
    analyze(filter, arch, nr).constant
}

/// What the attach-time analysis learnt about one filter for one
/// architecture and system call number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// The filter's return value when it is the same for every input with
    /// this number and architecture (see [`analyze_constant`]).
    pub constant: Option<u32>,
    /// Where evaluation can start for such inputs (see [`ResumeEntry`]):
    /// [`ResumeEntry::Return`] when `constant` is known, else the first
    /// data-dependent step, or [`ResumeEntry::START`].
    pub entry: ResumeEntry,
    /// Whether the analysis loaded the system call number. The analysis is
    /// a function of the number only through such loads, so when it loaded
    /// none, every number of this architecture has this same analysis.
    pub reads_nr: bool,
}

/// Analyses `filter` for system call `nr` of architecture `arch`: its
/// constant return value, if any, and its resume point, with the default
/// work budget (`2·len + 256` symbolic steps).
pub fn analyze<S>(filter: &DecodedProgram<S>, arch: u32, nr: i32) -> Analysis
where
    S: Deref<Target = [Insn]>,
{
    let budget = filter
        .len()
        .saturating_mul(2)
        .saturating_add(BASE_STEP_BUDGET);
    analyze_with_budget(filter, arch, nr, budget)
}

/// [`analyze`] with an explicit budget of symbolic steps. Running out of
/// budget makes the result non-constant and, if it happens before the
/// resume point is reached, the entry [`ResumeEntry::START`].
pub fn analyze_with_budget<S>(
    filter: &DecodedProgram<S>,
    arch: u32,
    nr: i32,
    budget: usize,
) -> Analysis
where
    S: Deref<Target = [Insn]>,
{
    let mut resume = None;
    let mut reads_nr = false;
    let constant = explore(filter.insns(), arch, nr, budget, &mut resume, &mut reads_nr);
    let entry = match (constant, resume) {
        (Some(value), _) => ResumeEntry::Return(value),
        (None, Some(entry)) => entry,
        (None, None) => ResumeEntry::START,
    };
    Analysis {
        constant,
        entry,
        reads_nr,
    }
}

/// The symbolic exploration behind [`analyze`]: returns the constant
/// result, if any, and sets `resume` once the first path reaches its first
/// data-dependent step.
///
/// Until the first path forks, it is the concrete execution for every
/// input with this `nr` and `arch`: it may load other data words, but no
/// decision depended on them yet. Its resume point is its last
/// instruction before the fork where the state is the same for all those
/// inputs and is one a [`ResumeEntry::Resume`] describes: X known, A
/// overwritten by that instruction without being read (a load), and
/// scratch memory as at entry, i.e. nothing stored yet. Without one the
/// entry is [`ResumeEntry::START`]; when the budget runs out before the
/// fork, the resume point is the last one reached.
///
/// Whether an instruction is a resume point depends on the path, not on
/// the values of A: numbers a filter cannot tell apart (see
/// [`same_nr_class`]) get the same one.
///
/// Sets `reads_nr` when a step loads the number: `nr` is used nowhere else.
fn explore(
    insns: &[Insn],
    arch: u32,
    nr: i32,
    mut budget: usize,
    resume: &mut Option<ResumeEntry>,
    reads_nr: &mut bool,
) -> Option<u32> {
    let mut pending = [None::<PathState>; MAX_PENDING_PATHS];
    let mut pending_count = 0usize;
    let mut result: Option<u32> = None;
    let mut state = PathState {
        pc: 0,
        a: Some(0),
        x: Some(0),
        mem_known: 0,
        mem: [0; 16],
    };
    // Still on the first path before its first fork, and whether that
    // path stored to scratch memory.
    let mut walking = true;
    let mut stored = false;
    loop {
        budget = budget.checked_sub(1)?;
        let mut insn = *insns.get(state.pc)?;
        // A known A meets chains of `jeq`s (the number dispatch of
        // allow-lists): step over those not equal at once, each spending
        // its step of the budget as the general step would.
        if let (Insn::JeqK(..), Some(a)) = (insn, state.a) {
            while let Insn::JeqK(k, _, jf) = insn {
                if k == a {
                    break;
                }
                state.pc = state.pc.saturating_add(usize::from(jf.get()));
                budget = budget.checked_sub(1)?;
                insn = *insns.get(state.pc)?;
            }
        }
        if let Insn::LdData(word) = insn {
            *reads_nr |= u32::from(word) * 4 == SeccompData::NR_OFFSET;
        }
        if walking {
            let overwrites_a = matches!(
                insn,
                Insn::LdData(_) | Insn::LdImm(_) | Insn::LdMem(_) | Insn::Txa
            );
            match (stored, u16::try_from(state.pc), state.x) {
                (false, Ok(pc), Some(x)) if overwrites_a => {
                    *resume = Some(ResumeEntry::Resume { pc, x });
                }
                _ => {}
            }
            stored |= matches!(insn, Insn::St(_) | Insn::Stx(_));
        }
        match step(insn, &mut state, arch, nr) {
            Step::Next => {}
            Step::Unknown => return None,
            Step::Fork(other_pc) => {
                walking = false;
                let slot = pending.get_mut(pending_count)?;
                *slot = Some(PathState {
                    pc: other_pc,
                    ..state
                });
                pending_count += 1;
            }
            Step::Return(value) => {
                walking = false;
                if result.is_some_and(|known| known != value) {
                    return None;
                }
                result = Some(value);
                let Some(next) = pending_count.checked_sub(1) else {
                    return result;
                };
                pending_count = next;
                state = pending.get_mut(next)?.take()?;
            }
        }
    }
}

/// Walks `insns` once, in order, tracking where register A may hold the
/// system call number (just loaded from `nr`, as [`analyze`] knows it),
/// and calls `compare` on each jump that may compare it with a constant.
///
/// Returns `Some(true)` when the number can reach nothing but such jumps,
/// `None` as soon as it may reach anything else (arithmetic, `tax`, a
/// store, `ret a`, a comparison with X) or the program is longer than
/// `BPF_MAXINSNS`, and `Some(false)` as soon as `compare` returns false.
///
/// Jumps only go forward, so one pass sees every predecessor of an
/// instruction before the instruction: "A may hold the number" is merged
/// over all the paths reaching it, which over-approximates the paths
/// [`analyze`] explores. A few instructions per instruction of the
/// program.
pub(super) fn follow_nr(
    insns: &[Insn],
    mut compare: impl FnMut(usize, Insn) -> bool,
) -> Option<bool> {
    if insns.len() > BPF_MAXINSNS {
        return None;
    }
    // Instructions some jump reaches with the number in A.
    let mut jumped_to = InsnBitSet::new();
    // Whether A may hold the number when falling through to `pc`.
    let mut through = false;
    for (pc, &insn) in insns.iter().enumerate() {
        let held = core::mem::replace(&mut through, false) || jumped_to.contains(pc);
        let mut jump_to = |distance: u16| jumped_to.set(pc.saturating_add(usize::from(distance)));
        match insn {
            Insn::LdData(word) => through = u32::from(word) * 4 == SeccompData::NR_OFFSET,
            // A is overwritten.
            Insn::LdImm(_) | Insn::LdMem(_) | Insn::Txa => {}
            // A is left alone.
            Insn::LdxImm(_) | Insn::LdxMem(_) | Insn::Stx(_) => through = held,
            Insn::RetK(_) => {}
            _ if !held => {}
            Insn::JeqK(_, jt, jf)
            | Insn::JgtK(_, jt, jf)
            | Insn::JgeK(_, jt, jf)
            | Insn::JsetK(_, jt, jf) => {
                if !compare(pc, insn) {
                    return Some(false);
                }
                jump_to(jt.get());
                jump_to(jf.get());
            }
            Insn::Ja(distance) => jump_to(distance.get()),
            // Anything else that sees the number.
            _ => return None,
        }
    }
    Some(true)
}

/// Whether [`analyze`] certainly gives the same result for system call
/// numbers `a` and `b` (of one architecture): true when the program only
/// uses the number by comparing it, as loaded into A, with constants
/// (else [`NrClassStarts::of`] is `None`), and every such comparison has
/// the same outcome
/// for `a` and `b`.
///
/// Then nothing distinguishes the two numbers: the symbolic execution of
/// [`analyze`] takes the same branch at every jump, reaches the same
/// states (A aside while it holds the number, which nothing reads but
/// those jumps) and spends the same budget, so it returns the same
/// constant and the same resume entry. False may be a false negative; it
/// is never a false positive.
pub fn same_nr_class(insns: &[Insn], a: u32, b: u32) -> bool {
    let outcome = |insn: Insn, nr: u32| match insn {
        Insn::JeqK(k, ..) => nr == k,
        Insn::JgtK(k, ..) => nr > k,
        Insn::JgeK(k, ..) => nr >= k,
        Insn::JsetK(k, ..) => nr & k != 0,
        _ => false,
    };
    follow_nr(insns, |_, insn| outcome(insn, a) == outcome(insn, b)) == Some(true)
}

/// System call numbers [`NrClassStarts`] covers: `0..NR_CLASS_LIMIT`.
pub const NR_CLASS_LIMIT: usize = 1024;

/// Where, among the numbers `0..NR_CLASS_LIMIT`, a number cannot be told
/// apart from others by a filter (see [`same_nr_class`]).
///
/// Built in one pass over the filter: a comparison of the number with a
/// constant `k` separates numbers only at range boundaries (`k + 1` for
/// `jgt`, `k` for `jge`, where a bit of `k` flips for `jset`) and, for
/// `jeq`, `k` from every other number. So within a range, the numbers no
/// `jeq` names (the *members*) all share one class, and each member is a
/// class of its own: a linear allow-list of N numbers has N + 1 classes.
/// [`super::resume::ResumeTable::build`] analyses one number per class.
pub struct NrClassStarts {
    /// One bit per number, set where a range starts.
    range_starts: [u64; NR_CLASS_LIMIT / 64],
    /// One bit per number, set for the numbers some `jeq` names.
    members: [u64; NR_CLASS_LIMIT / 64],
}

/// Bit `nr` of `bits`; false past [`NR_CLASS_LIMIT`].
fn bit(bits: &[u64; NR_CLASS_LIMIT / 64], nr: usize) -> bool {
    bits.get(nr / 64)
        .is_some_and(|word| word & (1 << (nr % 64)) != 0)
}

/// Sets bit `nr` of `bits`, if below [`NR_CLASS_LIMIT`].
fn set_bit(bits: &mut [u64; NR_CLASS_LIMIT / 64], nr: u32) {
    let nr = nr as usize;
    if let Some(word) = bits.get_mut(nr / 64) {
        *word |= 1 << (nr % 64);
    }
}

impl NrClassStarts {
    /// The classes of `insns`, or `None` when the number reaches something
    /// other than comparisons with constants (arithmetic, `tax`, a store,
    /// `ret a`, a comparison with X).
    pub fn of(insns: &[Insn]) -> Option<Self> {
        let mut classes = Self {
            range_starts: [0; NR_CLASS_LIMIT / 64],
            members: [0; NR_CLASS_LIMIT / 64],
        };
        let only_compared = follow_nr(insns, |_, insn| {
            classes.separate(insn);
            true
        });
        (only_compared == Some(true)).then_some(classes)
    }

    /// Whether `nr` is in the class of `nr - 1`.
    pub fn continues(&self, nr: usize) -> bool {
        nr > 0
            && nr < NR_CLASS_LIMIT
            && !bit(&self.range_starts, nr)
            && !self.is_member(nr)
            && !self.is_member(nr - 1)
    }

    /// Whether a range starts at `nr` (0 and every number from
    /// [`NR_CLASS_LIMIT`] on count as starts).
    pub fn starts_range(&self, nr: usize) -> bool {
        nr == 0 || nr >= NR_CLASS_LIMIT || bit(&self.range_starts, nr)
    }

    /// Whether some `jeq` names `nr` (every number from
    /// [`NR_CLASS_LIMIT`] on counts as one: a class of its own).
    pub fn is_member(&self, nr: usize) -> bool {
        nr >= NR_CLASS_LIMIT || bit(&self.members, nr)
    }

    /// The first number after `nr` that starts a range or is a member
    /// ([`NR_CLASS_LIMIT`] if none below it): the numbers from `nr` up to
    /// it are, but for `nr` itself, non-members of `nr`'s range.
    pub fn next_boundary(&self, nr: usize) -> usize {
        let from = nr.saturating_add(1);
        let mut word = from / 64;
        // The bits of the first word below `from` are not wanted.
        let mut below = !0u64 << (from % 64);
        while let (Some(starts), Some(members)) =
            (self.range_starts.get(word), self.members.get(word))
        {
            let bits = (starts | members) & below;
            if bits != 0 {
                return word * 64 + bits.trailing_zeros() as usize;
            }
            word += 1;
            below = !0;
        }
        NR_CLASS_LIMIT
    }

    /// Marks what `insn`, a comparison of the number with a constant,
    /// tells apart.
    fn separate(&mut self, insn: Insn) {
        match insn {
            Insn::JeqK(k, ..) => set_bit(&mut self.members, k),
            Insn::JgtK(k, ..) => set_bit(&mut self.range_starts, k.saturating_add(1)),
            Insn::JgeK(k, ..) => set_bit(&mut self.range_starts, k),
            // No bit of `k` below the limit: never set for these numbers.
            Insn::JsetK(k, ..) if k as usize & (NR_CLASS_LIMIT - 1) == 0 => {}
            Insn::JsetK(k, ..) => {
                for nr in 1..NR_CLASS_LIMIT as u32 {
                    if (nr & k != 0) != ((nr - 1) & k != 0) {
                        set_bit(&mut self.range_starts, nr);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Combines the constant result of a newer filter with the constant
/// result of the older chain it is attached to: constant only if both are,
/// combined with [`combine_with_older_chain`].
#[cfg(any(CONFIG_SECCOMP_RUST_KUNIT_TEST, not(CONFIG_SECCOMP_RUST)))]
fn combine_constants(newer: Option<u32>, older_chain: Option<u32>) -> Option<u32> {
    Some(combine_with_older_chain(newer?, older_chain?))
}

/// One entry of a [`ChainTable`] (or the tests' `ConstantTable`): the
/// chain's constant return value for a number, or unknown; 4 bytes.
///
/// A `SECCOMP_RET_USER_NOTIF` value is never constant (a notification
/// needs the arguments), so that action stands for "unknown", its 16 data
/// bits for where the chain's newest filter resumes, if known
/// ([`Constant::newest_resume`]), or for that filter returning
/// `SECCOMP_RET_USER_NOTIF` itself ([`Constant::newest_notifies`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant(u32);

impl Constant {
    /// No constant value.
    pub const UNKNOWN: Self = Self(SECCOMP_RET_USER_NOTIF);
    /// Constant `SECCOMP_RET_ALLOW`.
    pub const ALLOW: Self = Self(SECCOMP_RET_ALLOW);

    /// The entry for `value`: unknown for `None` and for any
    /// `SECCOMP_RET_USER_NOTIF` value.
    pub fn new(value: Option<u32>) -> Self {
        match value {
            Some(ret) if ret & SECCOMP_RET_ACTION_FULL != SECCOMP_RET_USER_NOTIF => Self(ret),
            _ => Self::UNKNOWN,
        }
    }

    /// The constant value, if known.
    #[inline]
    pub fn get(self) -> Option<u32> {
        (self.0 & SECCOMP_RET_ACTION_FULL != SECCOMP_RET_USER_NOTIF).then_some(self.0)
    }

    /// Data bits of an unknown entry whose newest filter returns
    /// `SECCOMP_RET_USER_NOTIF`: beyond every `pc + 1` of a resume point
    /// (at most `BPF_MAXINSNS`).
    const NEWEST_NOTIFIES: u16 = u16::MAX;

    /// Unknown, telling what the chain's newest filter does from its
    /// resume entry `entry`: where it starts when that is a resume point
    /// with X = 0, that it returns `SECCOMP_RET_USER_NOTIF` when it does;
    /// plain unknown otherwise (or if the point does not fit).
    fn unknown_from(entry: Option<ResumeEntry>) -> Self {
        let hint = match entry {
            Some(ResumeEntry::Resume { pc, x: 0 }) => match pc.checked_add(1) {
                Some(hint) if hint != Self::NEWEST_NOTIFIES => hint,
                _ => 0,
            },
            Some(ResumeEntry::Return(ret))
                if ret & SECCOMP_RET_ACTION_FULL == SECCOMP_RET_USER_NOTIF =>
            {
                Self::NEWEST_NOTIFIES
            }
            _ => 0,
        };
        Self(SECCOMP_RET_USER_NOTIF | u32::from(hint))
    }

    /// For an unknown entry, where the chain's newest filter may start
    /// (with A, X and scratch memory zero), if the table knows: the
    /// [`ResumeEntry::Resume`] of that filter's [`super::ResumeTable`], so that
    /// running it takes no second lookup.
    #[inline]
    pub fn newest_resume(self) -> Option<u16> {
        if self.get().is_some() {
            return None;
        }
        // `unknown_from` stored `pc + 1` in the data bits: 0 (no resume
        // point) and `NEWEST_NOTIFIES` fail the one compare.
        let pc = (self.0 as u16).wrapping_sub(1);
        (pc < Self::NEWEST_NOTIFIES - 1).then_some(pc)
    }

    /// For an unknown entry, whether the table knows that the chain's
    /// newest filter returns `SECCOMP_RET_USER_NOTIF` (which no entry can
    /// hold as a constant).
    #[inline]
    pub fn newest_notifies(self) -> bool {
        self.get().is_none() && self.0 as u16 == Self::NEWEST_NOTIFIES
    }
}

impl Default for Constant {
    fn default() -> Self {
        Self::UNKNOWN
    }
}

/// Per-system-call constant return values of a filter chain for one
/// architecture, in caller-provided storage with one entry per system call
/// number (e.g. [`X86_64_NR_SYSCALLS`] entries): the reference the tests
/// check the kernel's [`ChainTable`] against, built only where they run
/// (the host crate, and kernels with the KUnit suite).
#[cfg(any(CONFIG_SECCOMP_RUST_KUNIT_TEST, not(CONFIG_SECCOMP_RUST)))]
#[derive(Clone, Debug)]
pub struct ConstantTable<S> {
    arch: u32,
    /// The table describes the numbers below this.
    nr_count: usize,
    /// `nr_count` entries, or one for all.
    entries: S,
}

#[cfg(any(CONFIG_SECCOMP_RUST_KUNIT_TEST, not(CONFIG_SECCOMP_RUST)))]
impl<S: DerefMut<Target = [Constant]>> ConstantTable<S> {
    /// Fills `storage` for the chain made of `filter` attached on top of
    /// the chain described by `older` (`None` for the first filter).
    ///
    /// An entry is constant only when `filter` and the older chain are both
    /// constant for that number, and it is never
    /// `SECCOMP_RET_USER_NOTIF`. Numbers beyond `older`'s length are not
    /// constant, and an `older` table for another architecture makes every
    /// entry non-constant.
    pub fn build<P, T>(
        arch: u32,
        storage: S,
        filter: &DecodedProgram<P>,
        older: Option<&ConstantTable<T>>,
    ) -> Self
    where
        P: Deref<Target = [Insn]>,
        T: Deref<Target = [Constant]>,
    {
        Self::fill(arch, storage, older, |nr| {
            i32::try_from(nr)
                .ok()
                .and_then(|nr| analyze_constant(filter, arch, nr))
        })
    }

    /// Same as [`ConstantTable::build`] for the filter `resume` was built
    /// from, without analysing the filter again: a filter's entry is
    /// constant exactly when its resume entry is a
    /// [`ResumeEntry::Return`]. Unknown entries may also tell where that
    /// filter resumes ([`Constant::newest_resume`]). A `resume` table for
    /// another architecture makes every entry non-constant. The reference
    /// the kernel's [`ChainTable`] is tested against.
    pub fn build_from_resume<R, T>(
        arch: u32,
        storage: S,
        resume: &R,
        older: Option<&ConstantTable<T>>,
    ) -> Self
    where
        R: ResumeEntries,
        T: Deref<Target = [Constant]>,
    {
        let same_arch = resume.arch() == arch;
        // The resume table's shape is looked at once, not per number.
        let uniform = resume.uniform();
        let constant = |entry: Option<ResumeEntry>| match entry {
            Some(ResumeEntry::Return(value)) if same_arch => Some(value),
            _ => None,
        };
        let count = resume.nr_count();
        let entry = |nr: usize| match uniform {
            Some(only) => Some(only).filter(|_| nr < count),
            None => resume.entry(nr),
        };
        let mut table = Self::fill(arch, storage, older, |nr| constant(entry(nr)));
        // The resume points of what is not constant.
        if same_arch {
            let all = table.entries.len() == 1;
            for (nr, slot) in table.entries.iter_mut().enumerate() {
                if slot.get().is_none() {
                    *slot = Constant::unknown_from(if all { uniform } else { entry(nr) });
                }
            }
        }
        table
    }

    /// Fills `storage` from the newer filter's constants `newer(nr)`.
    fn fill<T>(
        arch: u32,
        mut storage: S,
        older: Option<&ConstantTable<T>>,
        newer: impl Fn(usize) -> Option<u32>,
    ) -> Self
    where
        T: Deref<Target = [Constant]>,
    {
        // The older table's shape is looked at once, not per number.
        let (older_entries, older_count): (&[Constant], usize) = match older {
            None => (&[Constant::ALLOW], usize::MAX),
            Some(table) if table.arch == arch => (&table.entries, table.nr_count),
            Some(_) => (&[Constant::UNKNOWN], usize::MAX),
        };
        let uniform_older = older_entries.len() == 1;
        for (nr, entry) in storage.iter_mut().enumerate() {
            let older_value = if nr >= older_count {
                None
            } else if uniform_older {
                older_entries.first().and_then(|c| c.get())
            } else {
                older_entries.get(nr).and_then(|c| c.get())
            };
            // The filter is only analysed when the older chain is constant.
            *entry = Constant::new(
                older_value.and_then(|older_value| combine_constants(newer(nr), Some(older_value))),
            );
        }
        Self {
            arch,
            nr_count: storage.len(),
            entries: storage,
        }
    }
}

#[cfg(any(CONFIG_SECCOMP_RUST_KUNIT_TEST, not(CONFIG_SECCOMP_RUST)))]
impl<S: Deref<Target = [Constant]>> ConstantTable<S> {
    /// The architecture the table describes.
    pub fn arch(&self) -> u32 {
        self.arch
    }

    /// The entries, indexed by system call number:
    /// [`ConstantTable::len`] of them, or a single one for all.
    pub fn entries(&self) -> &[Constant] {
        &self.entries
    }

    /// Number of system call numbers the table describes.
    pub fn len(&self) -> usize {
        self.nr_count
    }

    /// Whether the table describes no number at all.
    pub fn is_empty(&self) -> bool {
        self.nr_count == 0
    }

    /// The chain's constant return value for `data`, if any: `None` for
    /// another architecture, negative numbers, numbers past the table
    /// (including x32 numbers) and non-constant entries.
    #[inline]
    pub fn lookup(&self, data: &SeccompData) -> Option<u32> {
        self.lookup_nr_masked::<PlainMask>(data.arch, data.nr)
    }

    /// [`ConstantTable::lookup`] for system call `nr` of `arch` (the only
    /// fields of [`SeccompData`] a lookup reads), its index clamped under
    /// speculation with `M` ([`super::nospec`]).
    #[inline]
    pub fn lookup_nr_masked<M: IndexMask>(&self, arch: u32, nr: i32) -> Option<u32> {
        self.entry_masked::<M>(arch, nr).get()
    }

    /// The entry of system call `nr` of `arch` (unknown when the table has
    /// none), its index clamped under speculation with `M`: one compare
    /// tells [`Constant::ALLOW`] from the rest.
    #[inline]
    pub fn entry_masked<M: IndexMask>(&self, arch: u32, nr: i32) -> Constant {
        if arch != self.arch {
            return Constant::UNKNOWN;
        }
        nospec::get_per_number::<_, M>(&self.entries, self.nr_count, nospec::nr_index(nr))
            .unwrap_or(Constant::UNKNOWN)
    }
}

/// A set of small numbers, a bit each in `WORDS` words.
#[derive(Clone, Debug)]
struct Bits<const WORDS: usize>([u64; WORDS]);

impl<const WORDS: usize> Bits<WORDS> {
    const EMPTY: Self = Self([0; WORDS]);

    /// Adds `n`; nothing for numbers past the set's size.
    #[inline]
    fn insert(&mut self, n: usize) {
        if let Some(word) = self.0.get_mut(n / 64) {
            *word |= 1 << (n % 64);
        }
    }

    /// Whether `n` is in the set (never for numbers past its size).
    #[inline]
    fn contains(&self, n: usize) -> bool {
        self.0
            .get(n / 64)
            .is_some_and(|word| word & (1 << (n % 64)) != 0)
    }

    /// Adds every number below `count`.
    fn insert_below(&mut self, count: usize) {
        for (index, word) in self.0.iter_mut().enumerate() {
            *word = match count.saturating_sub(index * 64) {
                0 => 0,
                n if n >= 64 => u64::MAX,
                n => (1u64 << n) - 1,
            };
        }
    }
}

/// The numbers a [`ChainTable`] covers at most: every system call number
/// of x86 (463); numbers past them run the filters.
pub const CHAIN_MAX_NUMBERS: usize = 512;

const _: () =
    assert!(X86_64_NR_SYSCALLS <= CHAIN_MAX_NUMBERS && I386_NR_SYSCALLS <= CHAIN_MAX_NUMBERS);

/// The constant table of a filter chain as the kernel keeps it, with the
/// chain's newest filter: what `ConstantTable::build_from_resume` would
/// hold, stored per distinct entry of that filter's [`PackedResumeTable`]
/// and found through the table's indexes, or else per system call number.
///
/// Per resume entry is possible whenever the chain's constant for a number
/// depends only on which entry the newest filter has for it: always for a
/// chain of one filter, for a filter attached on top of copies of itself,
/// and whenever the older filters treat alike the numbers the newest one
/// treats alike. The table then takes four bytes per distinct entry (a few
/// dozen) rather than per number (463), and a lookup one more load.
///
/// The numbers the chain allows outright (exactly `SECCOMP_RET_ALLOW`, the
/// path most system calls take) are also kept in a bitmap inside the
/// table, as C's `seccomp_action_cache` does: one bit test decides them.
#[derive(Clone, Debug)]
pub struct ChainTable<S> {
    arch: u32,
    /// The table describes the numbers below this.
    nr_count: usize,
    /// Whether `entries` follow the newest filter's distinct resume
    /// entries, of which there are several (else the numbers: one each,
    /// or one for all).
    per_resume_entry: bool,
    /// The numbers whose chain constant is `SECCOMP_RET_ALLOW`.
    allowed: Bits<{ CHAIN_MAX_NUMBERS / 64 }>,
    entries: S,
}

impl<S: DerefMut<Target = [Constant]>> ChainTable<S> {
    /// The table of the chain made of the filter `newest` is the packed
    /// resume table of, attached on top of the chain `older` (its table and
    /// its newest filter's resume indexes; `None` for the first filter),
    /// for `newest`'s numbers up to [`CHAIN_MAX_NUMBERS`].
    ///
    /// Stored in `per_entry` when that has one entry per distinct entry of
    /// `newest` and the chain allows it, else in the storage `per_number`
    /// returns (`newest`'s count of numbers). One pass over the numbers,
    /// a second one when per entry turns out impossible.
    pub fn build<I, E, T>(
        arch: u32,
        per_entry: S,
        newest: &PackedResumeTable<I, E>,
        older: Option<(&ChainTable<T>, &[u8])>,
        per_number: impl FnOnce() -> S,
    ) -> Self
    where
        I: Deref<Target = [u8]>,
        E: Deref<Target = [ResumeEntry]>,
        T: Deref<Target = [Constant]>,
    {
        let same_arch = newest.arch() == arch;
        let nr_count = newest.nr_count().min(CHAIN_MAX_NUMBERS);
        let mut table = Self {
            arch,
            nr_count,
            per_resume_entry: true,
            allowed: Bits::EMPTY,
            entries: per_entry,
        };
        // The older chain's constant for every number, if the same.
        let older_uniform = match older {
            None => Some(Constant::ALLOW),
            Some((older, _)) if older.arch != arch => Some(Constant::UNKNOWN),
            Some((older, _)) => older.uniform(nr_count),
        };
        let older_at = |nr: usize| match (older_uniform, older) {
            (Some(constant), _) => constant,
            (None, Some((older, indexes))) => older.entry(arch, nr, indexes),
            (None, None) => Constant::UNKNOWN,
        };
        let value = |entry: Option<ResumeEntry>, older: Constant| match (entry, older.get()) {
            _ if !same_arch => Constant::UNKNOWN,
            // Unknown only when the newer filter notifies (the older chain
            // never does: its entries hold no such constant).
            (Some(ResumeEntry::Return(newer)), Some(older)) => {
                match Constant::new(Some(combine_with_older_chain(newer, older))) {
                    combined if combined.get().is_none() => Constant::unknown_from(entry),
                    combined => combined,
                }
            }
            _ => Constant::unknown_from(entry),
        };
        let (indexes, entries) = (newest.indexes(), newest.entries());
        if table.entries.len() == entries.len() && entries.len() <= PACKED_MAX_ENTRIES {
            // When the older chain has one constant for all the numbers, or
            // is kept per resume entry of a filter with the same indexes
            // (a copy of this one), the constants follow this filter's
            // entries: a step per distinct entry, then the bitmap.
            let older_per_entry = match older {
                Some((table, older_indexes))
                    if table.arch == arch
                        && table.per_resume_entry
                        && table.nr_count == nr_count
                        && table.entries.len() == entries.len()
                        && older_indexes == indexes =>
                {
                    Some(&table.entries[..])
                }
                _ => None,
            };
            if older_uniform.is_some() || older_per_entry.is_some() {
                let mut allow_entries = Bits::<{ PACKED_MAX_ENTRIES / 64 }>::EMPTY;
                for (index, slot) in table.entries.iter_mut().enumerate() {
                    let older_constant = match (older_uniform, older_per_entry) {
                        (Some(constant), _) => constant,
                        (None, Some(older)) => older.get(index).copied().unwrap_or_default(),
                        (None, None) => Constant::UNKNOWN,
                    };
                    *slot = value(entries.get(index).copied(), older_constant);
                    if *slot == Constant::ALLOW {
                        allow_entries.insert(index);
                    }
                }
                match indexes {
                    [only] if allow_entries.contains(usize::from(*only)) => {
                        table.allowed.insert_below(table.nr_count)
                    }
                    [_] => {}
                    _ => {
                        for nr in 0..table.nr_count {
                            let index = indexes.get(nr).map_or(usize::MAX, |&i| usize::from(i));
                            if allow_entries.contains(index) {
                                table.allow(nr);
                            }
                        }
                    }
                }
                table.per_resume_entry = indexes.len() != 1;
                return table;
            }
            // Which entries have their value yet.
            let mut known = Bits::<{ PACKED_MAX_ENTRIES / 64 }>::EMPTY;
            let mut alike = true;
            // Neighbouring numbers mostly have the same index and older
            // constant: the last number's (none yet: past any index).
            let (mut last_index, mut last_older, mut last) =
                (usize::MAX, Constant::UNKNOWN, Constant::UNKNOWN);
            // Plain indexes: the kernel may be built for size (`-Os`), where
            // zipped iterators are not flattened into a simple loop.
            for nr in 0..nr_count {
                let index =
                    nospec::get_per_number::<_, PlainMask>(indexes, nr_count, nr).map(usize::from);
                let Some(index) = index else {
                    alike = false;
                    break;
                };
                let older_constant = older_at(nr);
                if index != last_index || older_constant != last_older {
                    (last_index, last_older) = (index, older_constant);
                    last = value(entries.get(index).copied(), older_constant);
                    let first = !known.contains(index);
                    match table.entries.get_mut(index) {
                        Some(slot) if first => *slot = last,
                        Some(slot) if *slot == last => {}
                        _ => {
                            alike = false;
                            break;
                        }
                    }
                    known.insert(index);
                }
                if last == Constant::ALLOW {
                    table.allow(nr);
                }
            }
            if alike {
                table.per_resume_entry = indexes.len() != 1;
                return table;
            }
        }
        table.per_resume_entry = false;
        table.allowed = Bits::EMPTY;
        table.entries = per_number();
        for nr in 0..table.entries.len().min(nr_count) {
            let constant = value(newest.entry(nr), older_at(nr));
            if let Some(slot) = table.entries.get_mut(nr) {
                *slot = constant;
            }
            if constant == Constant::ALLOW {
                table.allow(nr);
            }
        }
        table
    }

    /// Makes [`ChainTable::entry_masked`] allow system call `nr` whatever
    /// the filters decide, for the kernel's exceptions to filtering
    /// (uretprobe); [`ChainTable::entry`] still gives the chain's verdict,
    /// which attaching a newer filter combines with.
    pub fn allow_outright(&mut self, nr: usize) {
        self.allow(nr);
    }

    /// Marks number `nr` allowed in the bitmap, if the table covers it.
    #[inline]
    fn allow(&mut self, nr: usize) {
        if nr < self.nr_count {
            self.allowed.insert(nr);
        }
    }
}

impl<S: Deref<Target = [Constant]>> ChainTable<S> {
    /// The entries: one per distinct resume entry of the newest filter, or
    /// one per number.
    pub fn entries(&self) -> &[Constant] {
        &self.entries
    }

    /// Whether the entries follow the newest filter's distinct resume
    /// entries.
    pub fn per_resume_entry(&self) -> bool {
        self.per_resume_entry
    }

    /// Number of system call numbers the table describes.
    pub fn len(&self) -> usize {
        self.nr_count
    }

    /// Whether the table describes no number at all.
    pub fn is_empty(&self) -> bool {
        self.nr_count == 0
    }

    /// The entry of system call number `nr` of `arch`: unknown past the
    /// table and for another architecture. `indexes` must be those of the
    /// packed resume table the table was built with (its newest filter's).
    #[inline]
    pub fn entry(&self, arch: u32, nr: usize, indexes: &[u8]) -> Constant {
        if arch != self.arch {
            return Constant::UNKNOWN;
        }
        if !self.per_resume_entry {
            return nospec::get_per_number::<_, PlainMask>(&self.entries, self.nr_count, nr)
                .unwrap_or(Constant::UNKNOWN);
        }
        nospec::get_per_number::<_, PlainMask>(indexes, self.nr_count, nr)
            .and_then(|index| self.entries.get(usize::from(index)).copied())
            .unwrap_or(Constant::UNKNOWN)
    }

    /// The entry of every number below `count`, when the table has one
    /// for all.
    fn uniform(&self, count: usize) -> Option<Constant> {
        match (self.per_resume_entry, &*self.entries) {
            (false, [only]) if self.nr_count >= count => Some(*only),
            _ => None,
        }
    }

    /// [`ChainTable::entry`] for the kernel's system call entry: `nr` as
    /// user space passed it, the lookup clamped under speculation with
    /// `M`. The numbers the chain allows outright take one bit test.
    #[inline]
    pub fn entry_masked<M: IndexMask>(&self, arch: u32, nr: i32, indexes: &[u8]) -> Constant {
        if arch != self.arch {
            return Constant::UNKNOWN;
        }
        let nr = nospec::nr_index(nr);
        let mask = M::mask(nr, self.nr_count);
        let at = nr & mask;
        // In bounds by construction (`nr_count` is at most the bitmap's
        // size), which the compiler sees through the `% len`.
        let words = &self.allowed.0;
        let word = words[(at / 64) % words.len()] & mask as u64;
        if word & (1 << (at % 64)) != 0 {
            return Constant::ALLOW;
        }
        if mask == 0 {
            return Constant::UNKNOWN;
        }
        let key = if self.per_resume_entry {
            // One index per number (a table kept per resume entry has
            // several), each below the number of entries: packing made
            // them so, which holds under speculation too.
            match indexes.get(at) {
                Some(&index) => usize::from(index),
                None => return Constant::UNKNOWN,
            }
        } else {
            at & usize::from(self.entries.len() != 1).wrapping_neg()
        };
        self.entries.get(key).copied().unwrap_or(Constant::UNKNOWN)
    }
}
