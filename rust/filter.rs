// SPDX-License-Identifier: GPL-2.0

//! Seccomp filters (mode 2): a user program turned into a [`Filter`], the
//! refcounted chains tasks hold, and attaching a new filter on top.
//!
//! Filters form a tree through [`Filter::prev`]: a task runs its newest
//! filter and every older one down to the root.  Forked children share
//! their parent's chain and may grow it independently.
//!
//! Two counts keep a filter alive, as in C:
//!
//! - references ([`Arc`]): one per task pointing at the filter, one per
//!   newer filter whose `prev` it is, and one per temporary holder (ptrace
//!   readers).  The last one frees the filter.
//! - users ([`Filter::users`]): the tasks whose chain runs through the
//!   filter (directly, or through newer filters).  When it drops to zero
//!   the filter is orphaned: no task can reach it any more, even if a
//!   reader still holds a reference.
//!
//! A task's pointer (`task_struct::seccomp.filter`) owns one reference and
//! one user; `task` owns the pointer (written under the task's siglock,
//! read locklessly by the task itself at syscall entry).

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::{
    alloc::{flags::__GFP_NOWARN, flags::GFP_KERNEL_ACCOUNT, flags::GFP_NOWAIT, KBox, KVVec, KVec},
    bindings,
    error::code::*,
    prelude::*,
    sync::{Arc, UniqueArc},
    uaccess::UserSlice,
};

use crate::current::Current;
use crate::engine::{
    self, cache, Case, ChainTable, Constant, DecodedProgram, Insn, PackedResumeTable, ResumeEntry,
    ResumeTable, SockFilter,
};
use crate::notify::Listener;
use crate::uapi;

/// `AUDIT_ARCH_*` of the native system call ABI.
pub(crate) const NATIVE_ARCH: u32 = cache::AUDIT_ARCH_X86_64;

/// A system call ABI a filter keeps per-number tables for (C:
/// `SECCOMP_ARCH_NATIVE` and `SECCOMP_ARCH_COMPAT`).  x32 calls are native
/// calls whose number has `__X32_SYSCALL_BIT`: past every table, they
/// always run the filters, as in C.
pub(crate) struct Abi {
    /// `seccomp_data.arch` of its calls.
    pub(crate) arch: u32,
    /// The tables cover the numbers below this.
    pub(crate) nr_syscalls: usize,
    /// The name `/proc/<pid>/seccomp_cache` gives it.
    pub(crate) name: &'static CStr,
}

/// Number of [`ABIS`].
#[cfg(not(CONFIG_COMPAT))]
const NR_ABIS: usize = 1;
/// Number of [`ABIS`].
#[cfg(CONFIG_COMPAT)]
const NR_ABIS: usize = 2;

/// The ABIs with tables: native first, then ia32 with `CONFIG_COMPAT`.
pub(crate) const ABIS: [Abi; NR_ABIS] = [
    Abi {
        arch: NATIVE_ARCH,
        nr_syscalls: cache::X86_64_NR_SYSCALLS,
        name: kernel::c_str!("x86_64"),
    },
    #[cfg(CONFIG_COMPAT)]
    Abi {
        arch: cache::AUDIT_ARCH_I386,
        nr_syscalls: cache::I386_NR_SYSCALLS,
        name: kernel::c_str!("ia32"),
    },
];

// The engine, which cannot see the bindings, restates the kernel's
// constants: they must agree.
const _: () = {
    assert!(cache::AUDIT_ARCH_X86_64 == bindings::AUDIT_ARCH_X86_64);
    assert!(cache::AUDIT_ARCH_I386 == bindings::AUDIT_ARCH_I386);
    assert!(cache::X32_SYSCALL_BIT == bindings::__X32_SYSCALL_BIT);
    assert!(cache::X86_64_NR_SYSCALLS == bindings::NR_syscalls as usize);
    assert!(cache::I386_NR_SYSCALLS == bindings::IA32_NR_syscalls as usize);
    assert!(engine::insn::opcode::BPF_MAXINSNS == bindings::BPF_MAXINSNS as usize);
    assert!(engine::SeccompData::SIZE as usize == core::mem::size_of::<bindings::seccomp_data>());
    assert!(engine::checker::EINVAL == bindings::EINVAL as i32);
    assert!(engine::checker::ENOMEM == bindings::ENOMEM as i32);
};

/// The index in [`ABIS`] of the ABI of `arch`; any other `arch` gets the
/// native tables, whose lookups then find nothing.
#[inline]
fn abi_index(arch: u32) -> usize {
    #[cfg(CONFIG_COMPAT)]
    if arch == cache::AUDIT_ARCH_I386 {
        return 1;
    }
    let _ = arch;
    0
}

/// The mask of x86's `array_index_mask_nospec()`, which clamps lookups by
/// the user's system call number under speculation (engine/nospec.rs).
pub(crate) struct SpecMask;

impl engine::IndexMask for SpecMask {
    #[inline(always)]
    fn mask(index: usize, size: usize) -> usize {
        let mask: usize;
        // SAFETY: Two ALU instructions on registers: `cmp` sets the carry
        // flag when `index < size` (unsigned), `sbb` spreads it over the
        // mask.  No memory, no stack, no other effect than on the flags.
        unsafe {
            core::arch::asm!(
                "cmp {index}, {size}",
                "sbb {mask}, {mask}",
                index = in(reg) index,
                size = in(reg) size,
                mask = lateout(reg) mask,
                options(pure, nomem, nostack),
            )
        };
        debug_assert_eq!(
            mask,
            <engine::PlainMask as engine::IndexMask>::mask(index, size)
        );
        mask
    }
}

/// `f` for each of [`ABIS`] and its index, in order; the first error
/// stops.
fn per_abi<T>(mut f: impl FnMut(usize, &'static Abi) -> Result<T>) -> Result<[T; NR_ABIS]> {
    Ok([
        f(0, &ABIS[0])?,
        #[cfg(CONFIG_COMPAT)]
        f(1, &ABIS[1])?,
    ])
}

/// Filters currently allocated: a leak check for stress tests, read
/// through `/sys/kernel/debug/seccomp_rs/live_filters` (cache_debug.rs).
#[cfg(CONFIG_SECCOMP_CACHE_DEBUG)]
pub(crate) static LIVE_FILTERS: AtomicUsize = AtomicUsize::new(0);

/// One attached seccomp filter.
///
/// # Invariants
///
/// Once in an [`Arc`], a filter is immutable but for `users`.
pub(crate) struct Filter {
    /// Tasks whose chain runs through this filter (see the module docs).
    users: AtomicUsize,
    /// Log the actions this filter decides (`SECCOMP_FILTER_FLAG_LOG`).
    pub(crate) log: bool,
    /// Some filter of the chain ending here logs its decisions.
    chain_logs: bool,
    /// The older filter this one was attached on top of.
    pub(crate) prev: Option<Arc<Filter>>,
    /// The checked, pre-decoded program, its chains of `jeq`s compiled
    /// into lookups.
    prog: DecodedProgram<KVVec<Insn>, KVVec<Case>>,
    /// What `prog` does not say of the program user space gave, for
    /// `PTRACE_SECCOMP_GET_FILTER` ([`Filter::original`]).
    #[cfg(CONFIG_CHECKPOINT_RESTORE)]
    divergences: KVec<engine::Divergence>,
    /// Per [`ABIS`] entry, per system call number, where this program's
    /// run really starts: its verdict if constant, else the first
    /// instruction that depends on the system call's arguments (and X
    /// there).
    resume: [PackedResumeTable<KVec<u8>, KVec<ResumeEntry>>; NR_ABIS],
    /// Length of the program after the C implementation's conversion to
    /// eBPF (and constant blinding, if the JIT blinded when the filter was
    /// created), which the chain length limit counts.
    converted_len: usize,
    /// Per [`ABIS`] entry, the constant verdicts of the whole chain
    /// ending here, per system call number (found through `resume`'s
    /// indexes when kept per resume entry): the interpreter is skipped for
    /// those.
    cache: [ChainTable<KVec<Constant>>; NR_ABIS],
    /// The supervisor's side, for `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
    listener: Option<Pin<KBox<Listener>>>,
}

impl Filter {
    /// This filter and every older one, newest first.
    pub(crate) fn chain(&self) -> impl Iterator<Item = &Filter> {
        Self::chain_from(Some(self))
    }

    /// The filters of the chain ending at `newest`, if any, newest first.
    /// (Rather than `flat_map(Filter::chain)` over an `Option`, whose
    /// instances get names too long for kallsyms in unoptimised builds.)
    pub(crate) fn chain_from(newest: Option<&Filter>) -> impl Iterator<Item = &Filter> {
        core::iter::successors(newest, |f| f.prev.as_deref())
    }

    /// The program as user space gave it, instruction by instruction, for
    /// `PTRACE_SECCOMP_GET_FILTER`.
    #[cfg(CONFIG_CHECKPOINT_RESTORE)]
    pub(crate) fn original(&self) -> impl ExactSizeIterator<Item = SockFilter> + '_ {
        self.prog.original(&self.divergences)
    }

    /// What the chain ending here knows of system call `nr` of `arch`
    /// without running a filter: its verdict from the chain's constant
    /// table, if there (uretprobe's exception included, see
    /// [`PreparedFilter::attach`]), else where the newest filter starts,
    /// if known.
    ///
    /// Inlined into the syscall-entry hook: the allowed path of most
    /// system calls ends here, at the table's bit test.
    #[inline(always)]
    pub(crate) fn lookup(&self, nr: i32, arch: u32) -> Lookup {
        let abi = abi_index(arch);
        let cached = self.cache[abi].entry_masked::<SpecMask>(arch, nr, self.resume[abi].indexes());
        if cached == Constant::ALLOW {
            return Lookup::Verdict(engine::action::SECCOMP_RET_ALLOW);
        }
        // A cached verdict does not say which filter decided; that only
        // matters for logging, so chains that log skip the cache for
        // everything but ALLOW (which is never logged).
        match cached.get() {
            Some(ret) if !self.chain_logs => Lookup::Verdict(ret),
            _ => Lookup::Run(cached),
        }
    }

    /// Runs every filter of the chain ending here on the system call whose
    /// description `words` holds (its number and architecture are words 0
    /// and 1): the verdict and the filter that decided it (`None` when
    /// every filter allowed; a chain of one filter gives that filter's own
    /// result, and itself).
    ///
    /// `cached` is the chain's table entry for the system call
    /// ([`Filter::lookup`]), which says where this filter, the newest,
    /// starts, if it can ([`Constant::newest_resume`]: this filter's own
    /// resume entry), or that it notifies ([`Constant::newest_notifies`]).
    /// The newest filter runs inlined here, the older ones (if any)
    /// through [`Filter::run_one`]: a chain of one filter, the usual case,
    /// leaves at once.  The number and the architecture are read again
    /// from `words` where needed, rather than kept in registers all along
    /// the newest filter's run.
    #[inline]
    pub(crate) fn run_filters<D: engine::DataWords>(
        &self,
        words: &D,
        cached: Constant,
    ) -> (u32, Option<&Filter>) {
        let entry = match cached.newest_resume() {
            Some(pc) => ResumeEntry::Resume { pc, x: 0 },
            None if cached.newest_notifies() => {
                ResumeEntry::Return(engine::action::SECCOMP_RET_USER_NOTIF)
            }
            None => self.resume_entry(words),
        };
        let newest = self.run_from(entry, words);
        if self.prev.is_none() {
            // What the loop below would give, but for `SECCOMP_RET_ALLOW`
            // with data, which allows as it does.
            return (newest, Some(self));
        }
        // Evaluation starts from ALLOW, as in `run_chain`.
        let allow = engine::action::SECCOMP_RET_ALLOW;
        let (mut ret, mut matched) = match engine::action::chain_step(allow, newest) {
            step if step == allow => (allow, None),
            _ => (newest, Some(self)),
        };
        for filter in Filter::chain_from(self.prev.as_deref()) {
            let candidate = filter.run_one(words);
            if engine::action::chain_step(ret, candidate) != ret {
                ret = candidate;
                matched = Some(filter);
            }
        }
        (ret, matched)
    }

    /// This filter's result for the system call `words` describes, from
    /// its own resume table: an older filter of a chain
    /// [`Filter::run_filters`] runs.
    #[inline(never)]
    fn run_one<D: engine::DataWords>(&self, words: &D) -> u32 {
        self.run_from(self.resume_entry(words), words)
    }

    /// Where this filter starts for the system call `words` describes: its
    /// resume table's entry for the number and architecture there.
    #[inline(always)]
    fn resume_entry<D: engine::DataWords>(&self, words: &D) -> ResumeEntry {
        let (nr, arch) = (words.word(0) as i32, words.word(1));
        self.resume[abi_index(arch)].entry_masked::<SpecMask, _, _>(&self.prog, arch, nr)
    }

    /// This filter's result from `entry` (one of its resume table's).
    #[inline(always)]
    fn run_from<D: engine::DataWords>(&self, entry: ResumeEntry, words: &D) -> u32 {
        match entry {
            ResumeEntry::Return(value) => value,
            ResumeEntry::Resume { pc, x } => self.prog.run_words_at(usize::from(pc), 0, x, words),
        }
    }

    /// For each system call number of `ABIS[abi]`, whether the chain is
    /// known to allow it without running.
    #[cfg(CONFIG_SECCOMP_CACHE_DEBUG)]
    pub(crate) fn cached_allows(&self, abi: usize) -> impl Iterator<Item = bool> + '_ {
        // The syscall-entry hook's own lookup, uretprobe's exception
        // included.
        let (table, indexes) = (&self.cache[abi], self.resume[abi].indexes());
        (0..table.len()).map(move |nr| {
            let nr = i32::try_from(nr).unwrap_or(-1);
            table.entry_masked::<SpecMask>(ABIS[abi].arch, nr, indexes) == Constant::ALLOW
        })
    }

    /// The filter's listener, if it was installed with one.
    pub(crate) fn listener(&self) -> Option<&Listener> {
        self.listener.as_deref()
    }

    /// Whether some task still runs this filter.
    pub(crate) fn has_users(&self) -> bool {
        self.users.load(Ordering::Acquire) != 0
    }

    /// Adds one user (a task starting to run this chain).
    pub(crate) fn get_user(&self) {
        self.users.fetch_add(1, Ordering::Relaxed);
    }

    /// Drops one user from this filter and, for every filter whose last
    /// user that was, from its parent in turn (`__seccomp_filter_orphan`).
    fn put_user(&self) {
        for filter in self.chain() {
            if filter.users.fetch_sub(1, Ordering::AcqRel) != 1 {
                break;
            }
            // Orphaned: its supervisor will never hear from it again.
            if let Some(listener) = filter.listener() {
                listener.hang_up();
            }
        }
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        #[cfg(CONFIG_SECCOMP_CACHE_DEBUG)]
        LIVE_FILTERS.fetch_sub(1, Ordering::Relaxed);
        // Free single-reference ancestors iteratively: a chain may be
        // thousands of filters long, too deep to recurse on a kernel stack.
        let mut next = self.prev.take();
        while let Some(filter) = next {
            next = match filter.into_unique_or_drop() {
                // We held the last reference: unlink its parent before it
                // goes, so that its own drop has nothing left to walk.
                Some(mut last) => Pin::get_mut(last.as_mut()).prev.take(),
                None => None,
            };
        }
    }
}

/// What a chain's constant table says about one system call.
pub(crate) enum Lookup {
    /// The chain's verdict, without running it.
    Verdict(u32),
    /// The filters must run, from what the chain's table says
    /// ([`Filter::run_filters`]).
    Run(Constant),
}

/// A filter checked and allocated, not yet attached to a chain.
///
/// Everything that can fail or sleep happens while preparing, so that
/// attaching, done under the siglock, only links and computes.
pub(crate) struct PreparedFilter {
    slot: UniqueArc<MaybeUninit<Filter>>,
    prog: DecodedProgram<KVVec<Insn>, KVVec<Case>>,
    #[cfg(CONFIG_CHECKPOINT_RESTORE)]
    divergences: KVec<engine::Divergence>,
    resume: [PackedResumeTable<KVec<u8>, KVec<ResumeEntry>>; NR_ABIS],
    converted_len: usize,
    cache_storage: [ChainTableRoom; NR_ABIS],
    log: bool,
    listener: Option<Pin<KBox<Listener>>>,
}

/// Room for the chain's constant table of one ABI: an entry per distinct
/// resume entry of the filter, and one per number for when the chain
/// needs that; which one is kept is known only while attaching, which must
/// not allocate.
struct ChainTableRoom {
    per_entry: KVec<Constant>,
    per_number: KVec<Constant>,
}

/// Allocation flags for everything a filter owns: charged to the task's
/// memory cgroup, and large user-controlled sizes fail quietly (`ENOMEM`).
fn alloc_flags() -> kernel::alloc::Flags {
    GFP_KERNEL_ACCOUNT | __GFP_NOWARN
}

impl PreparedFilter {
    /// Reads a `struct sock_fprog` at user address `ufprog`, and checks
    /// and prepares the program it points to (`seccomp_prepare_user_filter`).
    pub(crate) fn from_user(current: &Current, ufprog: usize, flags: u32) -> Result<Self> {
        let (len, ufilter) = read_fprog(current, ufprog)?;
        if len == 0 || len > engine::insn::opcode::BPF_MAXINSNS {
            return Err(EINVAL);
        }
        // Installing a filter needs no_new_privs or CAP_SYS_ADMIN in the
        // task's user namespace, so that an unprivileged task cannot change
        // how a privileged (setuid) child behaves.
        if !current.no_new_privs() && !current.ns_capable_sys_admin() {
            return Err(EACCES);
        }
        // A NULL program is invalid, not a fault (bpf_check_basics_ok()).
        if ufilter == 0 {
            return Err(EINVAL);
        }
        let slot = UniqueArc::new_uninit(alloc_flags())?;
        // The program's copies take up to 32 and 48 KiB: kvmalloc'ed, as C
        // vmallocs big programs, so that no high-order page is needed.
        let mut raw = KVVec::with_capacity(len, alloc_flags())?;
        let mut reader = UserSlice::new(ufilter, len * SockFilter::SIZE).reader();
        for _ in 0..len {
            let mut bytes = [0u8; SockFilter::SIZE];
            reader.read_slice(&mut bytes)?;
            raw.push(SockFilter::from_bytes(bytes), alloc_flags())?;
        }
        let checked = engine::check(&raw).map_err(|e| Error::from_errno(-e.errno()))?;
        // The chain is charged the length of the program C would run: the
        // constant-blinded one when the JIT blinds (`bpf_jit_harden`).
        // SAFETY: FFI call without preconditions.
        let converted_len = if unsafe { bindings::seccomp_jit_blinds_constants() } {
            checked.blinded_len()
        } else {
            checked.converted_len()
        };
        let storage = KVVec::from_elem(Insn::default(), len, alloc_flags())?;
        // The storage has exactly the program's length.
        let prog = checked.decode_into(storage).map_err(|_| EINVAL)?;
        // The analysis per system call number depends on this program
        // only: done here, where we may sleep, not under the siglock.
        // A table whose numbers all have the same entry (an ABI the filter
        // rejects as a whole, say) keeps one entry instead of one each, and
        // a full one is kept packed: a byte per number, indexing its
        // distinct entries.
        let resume = per_abi(|_, abi| {
            let one = KVec::from_elem(ResumeEntry::START, 1, alloc_flags())?;
            let table = ResumeTable::build_compact(abi.arch, one, abi.nr_syscalls, &prog, || {
                KVec::from_elem(ResumeEntry::START, abi.nr_syscalls, alloc_flags())
            })?;
            let packed = table.pack(
                |indexes| KVec::from_elem(0u8, indexes, alloc_flags()),
                |entries| KVec::from_elem(ResumeEntry::START, entries, alloc_flags()),
            )?;
            // The storage has the sizes the table asked for.
            packed.ok_or(EINVAL)
        })?;
        // Then chains of `jeq`s become lookups; every instruction keeps
        // its meaning, so the resume points stay valid.
        let cases = KVVec::from_elem(Case::default(), prog.switch_cases(), alloc_flags())?;
        let prog = prog.compile(cases).map_err(|_| EINVAL)?;
        // The user's program is not kept: `PTRACE_SECCOMP_GET_FILTER` gives
        // it back from the compiled one and what that does not say (one
        // entry per switch for what libseccomp generates). C keeps a copy
        // only with CONFIG_CHECKPOINT_RESTORE, which that request needs.
        #[cfg(CONFIG_CHECKPOINT_RESTORE)]
        let divergences = {
            // One scan; nothing is allocated for a program without any.
            let mut kept = KVec::new();
            for divergence in prog.divergences(&raw) {
                kept.push(divergence, alloc_flags())?;
            }
            kept
        };
        let cache_storage = per_abi(|index, abi| {
            let distinct = resume.get(index).map_or(0, |table| table.entries().len());
            Ok(ChainTableRoom {
                per_entry: KVec::from_elem(Constant::UNKNOWN, distinct, alloc_flags())?,
                // Filled only if used.
                per_number: KVec::with_capacity(abi.nr_syscalls, alloc_flags())?,
            })
        })?;
        let listener = if flags & bindings::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
            let killable = flags & bindings::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0;
            Some(Listener::new(killable)?)
        } else {
            None
        };
        Ok(Self {
            slot,
            prog,
            #[cfg(CONFIG_CHECKPOINT_RESTORE)]
            divergences,
            resume,
            converted_len,
            cache_storage,
            log: flags & bindings::SECCOMP_FILTER_FLAG_LOG != 0,
            listener,
        })
    }

    /// Whether this filter has a listener while `chain` already has one
    /// whose fd is open: a chain may have one listener only.  A closed
    /// listener does not count (in C, closing it clears `filter->notif`).
    pub(crate) fn duplicates_listener(&self, chain: Option<&Filter>) -> bool {
        self.listener.is_some()
            && Filter::chain_from(chain).any(|f| f.listener().is_some_and(Listener::is_open))
    }

    /// Whether attaching this filter on top of `chain` stays within the
    /// instruction budget of a path through the tree (else `ENOMEM`).
    pub(crate) fn fits_on(&self, chain: Option<&Filter>) -> Result {
        let attached = Filter::chain_from(chain).map(|f| f.converted_len);
        engine::check_chain_length(self.converted_len, attached)
            .map(|_| ())
            .map_err(|e| Error::from_errno(-e.errno()))
    }

    /// Links the filter on top of `prev` and computes the chain's constant
    /// verdicts.  Does not allocate or sleep.
    pub(crate) fn attach(self, prev: Option<Arc<Filter>>) -> Arc<Filter> {
        // Combine this filter's constant verdicts (already known from its
        // resume table) with the older chain's: one pass, no analysis.
        let mut abi = 0;
        let cache = self.cache_storage.map(|room| {
            let (arch, resume) = (ABIS[abi].arch, &self.resume[abi]);
            let older = prev
                .as_deref()
                .map(|p| (&p.cache[abi], p.resume[abi].indexes()));
            abi += 1;
            // The storage not kept is freed here: kfree() under the siglock.
            let mut table = ChainTable::build(arch, room.per_entry, resume, older, || {
                let mut per_number = room.per_number;
                let room = per_number.capacity();
                // Within the capacity reserved: no allocation, cannot fail.
                // If it did, an empty table: every number runs the filters.
                let _ = per_number.extend_with(room, Constant::UNKNOWN, GFP_NOWAIT);
                per_number
            });
            // uretprobe returns through a system call the probed task did
            // not make; filters never see it (upstream's single exception).
            if arch == NATIVE_ARCH {
                table.allow_outright(bindings::__NR_uretprobe as usize);
            }
            table
        });
        let chain_logs = self.log || prev.as_deref().is_some_and(|p| p.chain_logs);
        #[cfg(CONFIG_SECCOMP_CACHE_DEBUG)]
        LIVE_FILTERS.fetch_add(1, Ordering::Relaxed);
        let filter = Filter {
            users: AtomicUsize::new(1),
            log: self.log,
            chain_logs,
            prev,
            prog: self.prog,
            #[cfg(CONFIG_CHECKPOINT_RESTORE)]
            divergences: self.divergences,
            resume: self.resume,
            converted_len: self.converted_len,
            cache,
            listener: self.listener,
        };
        self.slot.write(filter).into()
    }
}

/// Reads the `struct sock_fprog` (or its compat form) at `ufprog`:
/// the program's length and user address.
fn read_fprog(current: &Current, ufprog: usize) -> Result<(usize, usize)> {
    #[cfg(CONFIG_COMPAT)]
    if current.in_compat_syscall() {
        let size = core::mem::size_of::<uapi::CompatSockFprog>();
        let fprog: uapi::CompatSockFprog = UserSlice::new(ufprog, size).reader().read()?;
        return Ok((fprog.len.into(), fprog.filter as usize));
    }
    #[cfg(not(CONFIG_COMPAT))]
    let _ = current;
    let size = core::mem::size_of::<uapi::SockFprog>();
    let fprog: uapi::SockFprog = UserSlice::new(ufprog, size).reader().read()?;
    Ok((fprog.0.len.into(), fprog.0.filter as usize))
}

/// Drops a task's hold on `chain`: its user first (orphaning filters no
/// task runs any more), then its reference (`__seccomp_filter_release`).
pub(crate) fn release_chain(chain: Option<Arc<Filter>>) {
    if let Some(chain) = chain {
        chain.put_user();
        drop(chain);
    }
}

/// The `n`-th filter of `chain`, counting from the oldest (0), as ptrace's
/// `filter_off` does.
pub(crate) fn nth(chain: &Filter, n: u64) -> Option<&Filter> {
    let len = chain.chain().count();
    let from_newest = len.checked_sub(1)?.checked_sub(usize::try_from(n).ok()?)?;
    chain.chain().nth(from_newest)
}
