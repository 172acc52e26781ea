// SPDX-License-Identifier: GPL-2.0

//! Attach-time specialisation of one filter per system call number
//! ("resume points").
//!
//! For a given architecture and system call number, a filter's first
//! instructions usually only look at `arch` and `nr`: a libseccomp-style
//! allow-list compares `nr` with hundreds of constants before it reaches
//! the few instructions that load an argument. For such inputs the path up
//! to the first decision on another data word is always the same, so it can be
//! executed once, at attach time, by [`super::cache::analyze`]. The result
//! is a [`ResumeEntry`] per system call number:
//!
//! * [`ResumeEntry::Return`]: the filter's verdict does not depend on the
//!   arguments or the instruction pointer (same analysis as
//!   [`super::cache::analyze_constant`]);
//! * [`ResumeEntry::Resume`]: evaluation may start at instruction `pc`
//!   with register X as given and scratch memory all zero: the last load
//!   before the path forks on the data (the instruction pointer, the
//!   arguments), usually of the first argument word the filter compares
//!   (past an upper half masked with zero, which always compares the
//!   same), so the value of A there does not matter and is not stored;
//!   [`ResumeEntry::START`] is the ordinary start.
//!
//! A resume point is only recorded where nothing was stored to scratch
//! memory before it (memory is then exactly as at entry) and within the
//! analysis budget; without one the entry is [`ResumeEntry::START`].
//!
//! Unlike the tests' `ConstantTable`, which describes a whole chain,
//! a [`ResumeTable`] describes one filter: each filter of a chain is run
//! from its own entry. `ConstantTable::build_from_resume`
//! derives the chain table from the new filter's resume table without
//! analysing the filter again.

use core::ops::{Deref, DerefMut};

use super::action::SECCOMP_RET_ALLOW;
use super::cache::{analyze, Analysis, NrClassStarts};
use super::data::SeccompData;
use super::insn::Insn;
use super::interp::DecodedProgram;
use super::nospec::{self, IndexMask, PlainMask};
use super::switch::Case;

/// Where evaluating one filter starts for one system call number and
/// architecture; 8 bytes.
///
/// Any value is safe to run with [`DecodedProgram::run_from`]: a bogus
/// entry gives a wrong verdict at worst (a `pc` past the end fails closed
/// with `SECCOMP_RET_KILL_THREAD`), never a panic or a loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResumeEntry {
    /// The filter returns this value.
    Return(u32),
    /// Start at instruction `pc` with X = `x`, A = 0 and scratch memory
    /// all zero.
    Resume {
        /// Index of the first instruction to execute.
        pc: u16,
        /// Value of register X there.
        x: u32,
    },
}

impl ResumeEntry {
    /// Evaluation from the first instruction, as without a table.
    pub const START: Self = ResumeEntry::Resume { pc: 0, x: 0 };

    /// The entry as one number, equal for equal entries only (one compare
    /// where the derived `==` takes several); never `u64::MAX`.
    #[inline]
    fn key(self) -> u64 {
        match self {
            ResumeEntry::Return(value) => 1 << 48 | u64::from(value),
            ResumeEntry::Resume { pc, x } => u64::from(pc) << 32 | u64::from(x),
        }
    }
}

impl Default for ResumeEntry {
    fn default() -> Self {
        Self::START
    }
}

/// Per-system-call-number [`ResumeEntry`]s of one filter for one
/// architecture, in caller-provided storage with one entry per system call
/// number (e.g. [`super::cache::X86_64_NR_SYSCALLS`] entries, 8 bytes
/// each), or, once [`ResumeTable::compacted`], a single entry for all the
/// numbers when they all have the same (a filter that rejects a whole
/// architecture, say).
#[derive(Clone, Debug)]
pub struct ResumeTable<S> {
    arch: u32,
    /// Length of the program the table was built for, checked by
    /// [`DecodedProgram::run_with`].
    prog_len: usize,
    /// The table describes the numbers below this.
    nr_count: usize,
    /// `nr_count` entries, or one for all.
    entries: S,
}

impl<S: DerefMut<Target = [ResumeEntry]>> ResumeTable<S> {
    /// Fills `storage` (its previous contents are overwritten) with the
    /// entries of `filter` for architecture `arch`, entry `i` describing
    /// system call number `i`.
    ///
    /// Costs at most one [`super::cache::analyze`] per entry, `2·len + 256`
    /// symbolic steps each, and usually far fewer: numbers the filter
    /// cannot tell apart ([`NrClassStarts`], one pass over the program:
    /// within a range, every number no `jeq` names) share one analysis,
    /// and all share number 0's when that analysis never loaded the
    /// number. Depends on the filter alone, so
    /// it can be built before the filter is attached.
    pub fn build<P>(arch: u32, storage: S, filter: &DecodedProgram<P>) -> Self
    where
        P: Deref<Target = [Insn]>,
    {
        Self::build_after(arch, storage, filter, analyze(filter, arch, 0))
    }

    /// The table of `filter` for the `nr_count` numbers of architecture
    /// `arch`, in as little storage as it needs: `one` (a single entry)
    /// when the analysis of number 0 never loaded the number (see
    /// [`super::cache::Analysis::reads_nr`]: a filter deciding on the
    /// architecture alone) or when all the entries turn out alike; else
    /// the storage `full` returns, which must have `nr_count` entries and
    /// is only asked for when the first analysis cannot settle it.
    pub fn build_compact<P, E>(
        arch: u32,
        mut one: S,
        nr_count: usize,
        filter: &DecodedProgram<P>,
        full: impl FnOnce() -> Result<S, E>,
    ) -> Result<Self, E>
    where
        P: Deref<Target = [Insn]>,
    {
        let first = analyze(filter, arch, 0);
        if !first.reads_nr && one.len() == 1 {
            one.fill(first.entry);
            return Ok(Self {
                arch,
                prog_len: filter.len(),
                nr_count,
                entries: one,
            });
        }
        let table = Self::build_after(arch, full()?, filter, first);
        Ok(match table.compacted(one) {
            Some(compact) => compact,
            None => table,
        })
    }

    /// [`ResumeTable::build`], `first` being the analysis of number 0.
    fn build_after<P>(
        arch: u32,
        mut storage: S,
        filter: &DecodedProgram<P>,
        first: Analysis,
    ) -> Self
    where
        P: Deref<Target = [Insn]>,
    {
        let len = storage.len();
        if !first.reads_nr {
            // Number 0's analysis never loaded the number: every number
            // has its entry.
            storage.fill(first.entry);
        } else if let Some(classes) = NrClassStarts::of(filter.insns()) {
            // The numbers go by runs: from each number, up to the next
            // range start or member, every non-member shares the entry of
            // its range's first analysed non-member, filled at once.
            let mut range_entry = None;
            let mut nr = 0;
            while nr < len {
                if classes.starts_range(nr) {
                    range_entry = None;
                }
                let member = classes.is_member(nr);
                let entry = match (range_entry, i32::try_from(nr)) {
                    (Some(entry), _) if !member => entry,
                    (_, Ok(0)) => first.entry,
                    (_, Ok(nr)) => analyze(filter, arch, nr).entry,
                    (_, Err(_)) => ResumeEntry::START,
                };
                let run_end = if member {
                    nr + 1
                } else {
                    range_entry = Some(entry);
                    classes.next_boundary(nr).min(len)
                };
                if let Some(run) = storage.get_mut(nr..run_end) {
                    run.fill(entry);
                }
                nr = run_end;
            }
        } else {
            // Nothing is known to be shared: one analysis per number.
            for (nr, entry) in storage.iter_mut().enumerate() {
                *entry = match i32::try_from(nr) {
                    Ok(0) => first.entry,
                    Ok(nr) => analyze(filter, arch, nr).entry,
                    Err(_) => ResumeEntry::START,
                };
            }
        }
        Self {
            arch,
            prog_len: filter.len(),
            nr_count: len,
            entries: storage,
        }
    }
}

impl<S: Deref<Target = [ResumeEntry]>> ResumeTable<S> {
    /// The architecture the table describes.
    pub fn arch(&self) -> u32 {
        self.arch
    }

    /// The entries, indexed by system call number: [`ResumeTable::len`]
    /// of them, or a single one for all.
    pub fn entries(&self) -> &[ResumeEntry] {
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

    /// The entry of number `nr`, if below [`ResumeTable::len`].
    pub fn get(&self, nr: usize) -> Option<ResumeEntry> {
        nospec::get_per_number::<_, PlainMask>(&self.entries, self.nr_count, nr)
    }

    /// The same table in `storage` (one entry is enough) if every number
    /// has the same entry; `None` otherwise.
    pub fn compacted<T: DerefMut<Target = [ResumeEntry]>>(
        &self,
        mut storage: T,
    ) -> Option<ResumeTable<T>> {
        if !nospec::compact_into(&self.entries, &mut storage) {
            return None;
        }
        Some(ResumeTable {
            arch: self.arch,
            prog_len: self.prog_len,
            nr_count: self.nr_count,
            entries: storage,
        })
    }

    /// Gives the storage back, e.g. to free it.
    pub fn into_storage(self) -> S {
        self.entries
    }

    /// The entry for `data`, if any: `None` for another architecture,
    /// negative numbers and numbers past the table (including x32
    /// numbers), for which evaluation starts at the first instruction.
    #[inline]
    pub fn lookup(&self, data: &SeccompData) -> Option<ResumeEntry> {
        self.lookup_nr_masked::<PlainMask>(data.arch, data.nr)
    }

    /// [`ResumeTable::lookup`] for system call `nr` of `arch`, its index
    /// clamped under speculation with `M` ([`super::nospec`]): a
    /// mispredicted lookup yields another entry of this table, whose
    /// resume point lies within the program.
    #[inline]
    pub fn lookup_nr_masked<M: IndexMask>(&self, arch: u32, nr: i32) -> Option<ResumeEntry> {
        if arch != self.arch {
            return None;
        }
        nospec::get_per_number::<_, M>(&self.entries, self.nr_count, nospec::nr_index(nr))
    }
}

/// Per-number resume entries, as the tests' reference
/// `ConstantTable::build_from_resume` reads them from a [`ResumeTable`] or a
/// [`PackedResumeTable`].
pub trait ResumeEntries {
    /// The architecture the entries describe.
    fn arch(&self) -> u32;
    /// Number of system call numbers described.
    fn nr_count(&self) -> usize;
    /// The entry of every number, when a single one is stored for all.
    fn uniform(&self) -> Option<ResumeEntry>;
    /// The entry of number `nr`, if below [`ResumeEntries::nr_count`].
    fn entry(&self, nr: usize) -> Option<ResumeEntry>;
}

impl<S: Deref<Target = [ResumeEntry]>> ResumeEntries for ResumeTable<S> {
    fn arch(&self) -> u32 {
        self.arch
    }

    fn nr_count(&self) -> usize {
        self.nr_count
    }

    fn uniform(&self) -> Option<ResumeEntry> {
        match *self.entries {
            [only] => Some(only),
            _ => None,
        }
    }

    #[inline]
    fn entry(&self, nr: usize) -> Option<ResumeEntry> {
        self.get(nr)
    }
}

/// Most distinct entries a [`PackedResumeTable`] keeps: as many as a byte
/// can index.
pub const PACKED_MAX_ENTRIES: usize = 256;

/// A [`ResumeTable`] in the memory a filter keeps it in: a byte per system
/// call number, indexing the table's distinct entries (usually a few
/// dozen: a verdict or two and one resume point per argument check), so
/// 463 numbers take 512 bytes instead of 3.7 KiB.
///
/// A table whose numbers all have the same entry keeps one index for all.
/// Past [`PACKED_MAX_ENTRIES`] distinct entries (a filter returning another
/// value, or checking arguments differently, for hundreds of numbers), the
/// numbers whose entry found no room start from the first instruction
/// ([`ResumeEntry::START`], as without a table): the same results, less
/// skipped.  An exact `SECCOMP_RET_ALLOW` always keeps its room, so every
/// number the filter allows outright stays known (what
/// `/proc/<pid>/seccomp_cache` and the allowed path are made of).
#[derive(Clone, Debug)]
pub struct PackedResumeTable<I, E> {
    arch: u32,
    /// Length of the program the table was built for.
    prog_len: usize,
    /// The table describes the numbers below this.
    nr_count: usize,
    /// Per number, an index into `entries`; or one index for all.
    indexes: I,
    /// The distinct entries.
    entries: E,
}

impl<S: Deref<Target = [ResumeEntry]>> ResumeTable<S> {
    /// The table packed into storage that `indexes` and `entries` return
    /// for the lengths they are given (their contents are overwritten);
    /// `None` if they do not have those lengths.
    ///
    /// One pass over the numbers, run by run of equal entries (numbers
    /// mostly share their entry in runs), comparing each run's entry with
    /// the first number of each distinct entry so far.
    pub fn pack<I, E, Err>(
        &self,
        indexes: impl FnOnce(usize) -> Result<I, Err>,
        entries: impl FnOnce(usize) -> Result<E, Err>,
    ) -> Result<Option<PackedResumeTable<I, E>>, Err>
    where
        I: DerefMut<Target = [u8]>,
        E: DerefMut<Target = [ResumeEntry]>,
    {
        // Per distinct entry, the first number that has it, or `START_MARK`
        // for the start, added when the distinct entries overflow.
        const START_MARK: u16 = u16::MAX;
        let allow_key = ResumeEntry::Return(SECCOMP_RET_ALLOW).key();
        let mut firsts = [0u16; PACKED_MAX_ENTRIES];
        let mut distinct = 0;
        let mut start_index = None;
        let first_entry = |first: u16| match first {
            START_MARK => ResumeEntry::START,
            nr => self
                .entries
                .get(usize::from(nr))
                .copied()
                .unwrap_or(ResumeEntry::START),
        };
        let mut indexes = indexes(self.entries.len())?;
        if indexes.len() != self.entries.len() {
            return Ok(None);
        }
        // Run by run of numbers with the same entry, with plain indexes:
        // the kernel may be built for size (`-Os`), where zipped iterators
        // are not flattened into a simple loop.
        let mut nr = 0;
        while let Some(key) = self.entries.get(nr).map(|entry| entry.key()) {
            let mut run_end = nr + 1;
            while self
                .entries
                .get(run_end)
                .is_some_and(|entry| entry.key() == key)
            {
                run_end += 1;
            }
            let known = firsts
                .iter()
                .take(distinct)
                .position(|&first| first_entry(first).key() == key);
            // Two slots are kept: one for the start, one for ALLOW.
            let room = distinct < PACKED_MAX_ENTRIES - 2 || key == allow_key;
            let index = match (known, u16::try_from(nr), start_index) {
                (Some(index), ..) => index,
                (None, Ok(nr), _) if room => {
                    if let Some(first) = firsts.get_mut(distinct) {
                        *first = nr;
                    }
                    distinct += 1;
                    distinct - 1
                }
                (None, _, Some(start)) => start,
                // The start, for this entry and every later one without
                // room.
                (None, _, None) => {
                    if let Some(first) = firsts.get_mut(distinct) {
                        *first = START_MARK;
                    }
                    distinct += 1;
                    *start_index.insert(distinct - 1)
                }
            };
            if let Some(run) = indexes.get_mut(nr..run_end) {
                run.fill(u8::try_from(index).unwrap_or(0));
            }
            nr = run_end;
        }
        let mut entries = entries(distinct)?;
        if entries.len() != distinct {
            return Ok(None);
        }
        for (slot, &first) in entries.iter_mut().zip(&firsts) {
            *slot = first_entry(first);
        }
        Ok(Some(PackedResumeTable {
            arch: self.arch,
            prog_len: self.prog_len,
            nr_count: self.nr_count,
            indexes,
            entries,
        }))
    }
}

impl<I: Deref<Target = [u8]>, E: Deref<Target = [ResumeEntry]>> PackedResumeTable<I, E> {
    /// Where `filter` starts for system call `nr` of `arch`, the lookup
    /// clamped under speculation with `M`: this table's entry, or
    /// [`ResumeEntry::START`] when the table has none or was built for a
    /// program of another length. `filter` must be the program the table
    /// was built for to give the result of [`DecodedProgram::run`].
    #[inline]
    pub fn entry_masked<M: IndexMask, P, C>(
        &self,
        filter: &DecodedProgram<P, C>,
        arch: u32,
        nr: i32,
    ) -> ResumeEntry
    where
        P: Deref<Target = [Insn]>,
        C: Deref<Target = [Case]>,
    {
        if arch != self.arch || self.prog_len != filter.len() {
            return ResumeEntry::START;
        }
        nospec::get_per_number::<_, M>(&self.indexes, self.nr_count, nospec::nr_index(nr))
            .and_then(|index| self.entries.get(usize::from(index)).copied())
            .unwrap_or(ResumeEntry::START)
    }

    /// The distinct entries.
    pub fn entries(&self) -> &[ResumeEntry] {
        &self.entries
    }

    /// Per number, the index of its entry in [`PackedResumeTable::entries`]
    /// (or one index for all).
    pub fn indexes(&self) -> &[u8] {
        &self.indexes
    }
}

impl<I: Deref<Target = [u8]>, E: Deref<Target = [ResumeEntry]>> ResumeEntries
    for PackedResumeTable<I, E>
{
    fn arch(&self) -> u32 {
        self.arch
    }

    fn nr_count(&self) -> usize {
        self.nr_count
    }

    fn uniform(&self) -> Option<ResumeEntry> {
        match (&*self.indexes, &*self.entries) {
            ([_], [only, ..]) => Some(*only),
            _ => None,
        }
    }

    #[inline]
    fn entry(&self, nr: usize) -> Option<ResumeEntry> {
        let index = nospec::get_per_number::<_, PlainMask>(&self.indexes, self.nr_count, nr)?;
        Some(
            self.entries
                .get(usize::from(index))
                .copied()
                .unwrap_or(ResumeEntry::START),
        )
    }
}

impl<S: Deref<Target = [Insn]>, C: Deref<Target = [Case]>> DecodedProgram<S, C> {
    /// Evaluates the filter for `data` starting from `entry`, which must
    /// come from a [`ResumeTable`] of this program for `data.arch` and
    /// `data.nr` to give the same result as [`DecodedProgram::run`].
    ///
    /// Total for any `entry`: it executes at most [`DecodedProgram::len`]
    /// instructions and a `pc` past the end returns
    /// `SECCOMP_RET_KILL_THREAD`.
    #[inline]
    pub fn run_from(&self, entry: ResumeEntry, data: &SeccompData) -> u32 {
        match entry {
            ResumeEntry::Return(value) => value,
            ResumeEntry::Resume { pc, x } => self.run_at(usize::from(pc), 0, x, data),
        }
    }

    /// Evaluates the filter for `data` with the entry `table` has for it,
    /// or from the start when it has none (or was built for a program of
    /// another length): always the same result as [`DecodedProgram::run`]
    /// when `table` was built for this program.
    #[inline]
    pub fn run_with<T>(&self, table: &ResumeTable<T>, data: &SeccompData) -> u32
    where
        T: Deref<Target = [ResumeEntry]>,
    {
        match table.lookup_nr_masked::<PlainMask>(data.arch, data.nr) {
            Some(entry) if table.prog_len == self.len() => self.run_from(entry, data),
            _ => self.run(data),
        }
    }
}
