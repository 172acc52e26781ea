// SPDX-License-Identifier: GPL-2.0

//! Leak checks: once a stress case's processes are all reaped, every
//! seccomp filter they attached must be freed.
//!
//! The Rust kernel counts the filters it has allocated in [`LIVE_FILTERS`]
//! ([`Meter::LiveFilters`]): after a case the count must come back to its
//! baseline exactly, given a grace period for the frees deferred to RCU or
//! to the last reference.  The C kernel has no such counter; there
//! ([`Meter::Meminfo`]) the unreclaimable slab memory and the vmalloc()ed
//! memory (`SUnreclaim` and `VmallocUsed` in `/proc/meminfo`) must both
//! come back near their baselines, each within a quarter of what leaking
//! the case's filters would add to it.  A C kernel built with kmemleak
//! (the debug variant, `make test-debug`) is checked with kmemleak instead
//! ([`Meter::Kmemleak`]): its KASAN quarantine holds freed objects back,
//! so there the slab level stays up without any leak, while a kmemleak
//! scan finds every object nothing points to any more.
//!
//! A C filter costs at least [`SLAB_KB_PER_FILTER`] kB of slab: its
//! `struct seccomp_filter` (about 200 bytes with its system call cache:
//! kmalloc-256) and the `struct bpf_prog_aux` of its program (over 1 kB: it
//! embeds a `struct bpf_ksym`, whose name alone is 512 bytes; kmalloc-2k),
//! plus the copy of the program kept for `PTRACE_SECCOMP_GET_FILTER`.  Its
//! `struct bpf_prog` is vmalloc()ed, a page at least:
//! [`VMALLOC_KB_PER_FILTER`] kB.  1000 one-instruction filters add 2.4 MB
//! to `SUnreclaim` and 6 MB to `VmallocUsed` in the guest's C kernel
//! (SLUB_TINY).  Slabs that freed objects leave partly empty make the slab
//! level noisy (tens of kB after a fork storm, in the guest), so a case
//! runs its workload once before the baseline is taken: the caches then
//! already have what the measured runs need.  These checks only see
//! wholesale leaks (every filter of a run, or most); the exact counter sees
//! one filter.

use std::fmt;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The Rust kernel's count of allocated filters (debugfs).
pub const LIVE_FILTERS: &str = "/sys/kernel/debug/seccomp_rs/live_filters";
/// kmemleak's control and report file (`CONFIG_DEBUG_KMEMLEAK`).
pub const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";
/// How old kmemleak wants an unreferenced object to be before it reports
/// it (`MSECS_MIN_AGE`, 5 s), with a margin.
const KMEMLEAK_MIN_AGE: Duration = Duration::from_millis(5500);
/// Slab memory a C kernel filter costs at the least, in kB (see above).
pub const SLAB_KB_PER_FILTER: u64 = 2;
/// vmalloc()ed memory a C kernel filter costs at the least, in kB.
pub const VMALLOC_KB_PER_FILTER: u64 = 4;
/// How long deferred frees (RCU callbacks, workqueues) get before a
/// baseline is read from `/proc/meminfo`.
const SETTLE: Duration = Duration::from_millis(1500);
/// How long the levels get to come back after a case.
const GRACE: Duration = Duration::from_secs(5);

/// What a leak check measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meter {
    /// [`LIVE_FILTERS`]: filters allocated, exactly.
    LiveFilters,
    /// `SUnreclaim` and `VmallocUsed`: estimates.
    Meminfo,
    /// [`KMEMLEAK`]: objects a scan finds unreferenced, leaked for certain
    /// (filters or anything else).
    Kmemleak,
}

/// A reading of a [`Meter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Filters allocated (`u64::MAX` if the counter went away).
    Live(u64),
    /// `SUnreclaim` and `VmallocUsed`, in kB.
    Meminfo {
        /// `SUnreclaim`.
        slab: u64,
        /// `VmallocUsed`.
        vmalloc: u64,
    },
    /// Unreferenced objects in kmemleak's report (`u64::MAX` if it could
    /// not scan).
    Unreferenced(u64),
}

/// Has kmemleak scan memory now (synchronously) and counts the
/// unreferenced objects it reports.
fn kmemleak_scan() -> Option<u64> {
    std::fs::write(KMEMLEAK, "scan").ok()?;
    let report = std::fs::read_to_string(KMEMLEAK).ok()?;
    Some(report.lines().filter(|l| l.starts_with("unreferenced object")).count() as u64)
}

fn read_live_filters() -> Option<u64> {
    std::fs::read_to_string(LIVE_FILTERS).ok()?.trim().parse().ok()
}

/// A `/proc/meminfo` field, in kB (0 if missing).
pub fn meminfo_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

impl Meter {
    /// The exact counter if this kernel has it, else kmemleak if it has
    /// that, else `/proc/meminfo`.
    pub fn detect() -> Self {
        if read_live_filters().is_some() {
            Meter::LiveFilters
        } else if std::path::Path::new(KMEMLEAK).exists() {
            Meter::Kmemleak
        } else {
            Meter::Meminfo
        }
    }

    /// Whether this meter counts filters exactly.
    pub fn is_exact(self) -> bool {
        self == Meter::LiveFilters
    }

    /// The exact count of allocated filters now, if this meter is that
    /// count (never a kmemleak scan or a memory estimate).
    pub fn live_filters(self) -> Option<u64> {
        match self {
            Meter::LiveFilters => read_live_filters(),
            Meter::Meminfo | Meter::Kmemleak => None,
        }
    }

    /// Whether a case should run its workload once before the baseline, so
    /// that caches grown on first use do not count: only the memory levels
    /// need that.
    pub fn needs_warm_up(self) -> bool {
        self == Meter::Meminfo
    }

    /// What the meter reads, for the log.
    pub fn describe(self) -> &'static str {
        match self {
            Meter::LiveFilters => "live_filters (exact count of allocated filters)",
            Meter::Meminfo => "SUnreclaim and VmallocUsed (no live_filters: estimates)",
            Meter::Kmemleak => "kmemleak (no live_filters): unreferenced objects after a scan",
        }
    }

    /// The level now.
    pub fn read(self) -> Level {
        match self {
            Meter::LiveFilters => Level::Live(read_live_filters().unwrap_or(u64::MAX)),
            Meter::Meminfo => Level::Meminfo { slab: meminfo_kb("SUnreclaim"), vmalloc: meminfo_kb("VmallocUsed") },
            Meter::Kmemleak => Level::Unreferenced(kmemleak_scan().unwrap_or(u64::MAX)),
        }
    }

    /// The level to compare with after a case: on `/proc/meminfo`, read
    /// once deferred frees of earlier work had time to run; on kmemleak,
    /// what it reports already (which the case must not add to; nothing is
    /// cleared, so a later report still shows it).
    pub fn baseline(self) -> Level {
        if self == Meter::Meminfo {
            sleep(SETTLE);
        }
        self.read()
    }

    /// Compares the level after a case that attached `filters` filters
    /// with `before`, its [`baseline`](Self::baseline), giving deferred
    /// frees up to [`GRACE`] to bring it back.
    ///
    /// kmemleak only reports objects older than 5 s, so it gets that long
    /// before its first scan; later scans (within the grace period) confirm
    /// what it reported.
    pub fn check(self, before: Level, filters: u64) -> Verdict {
        if self == Meter::Kmemleak {
            sleep(KMEMLEAK_MIN_AGE);
        }
        let start = Instant::now();
        let tolerance = match self {
            Meter::LiveFilters | Meter::Kmemleak => (0, 0),
            Meter::Meminfo => (filters * SLAB_KB_PER_FILTER / 4, filters * VMALLOC_KB_PER_FILTER / 4),
        };
        loop {
            let after = self.read();
            let ok = match (before, after) {
                // A baseline that could not be read (`u64::MAX`) proves
                // nothing: it fails rather than passing every level.
                (Level::Live(b), Level::Live(a)) | (Level::Unreferenced(b), Level::Unreferenced(a)) => {
                    b != u64::MAX && a <= b
                }
                (Level::Meminfo { slab: bs, vmalloc: bv }, Level::Meminfo { slab: s, vmalloc: v }) => {
                    s.saturating_sub(bs) <= tolerance.0 && v.saturating_sub(bv) <= tolerance.1
                }
                _ => false,
            };
            if ok || start.elapsed() >= GRACE {
                return Verdict { before, after, tolerance, filters, waited: start.elapsed(), ok };
            }
            sleep(Duration::from_millis(50));
        }
    }
}

/// The outcome of [`Meter::check`].
#[derive(Debug)]
pub struct Verdict {
    /// The baseline.
    pub before: Level,
    /// The level after the case.
    pub after: Level,
    /// How much growth of slab and vmalloc memory passes, in kB.
    pub tolerance: (u64, u64),
    /// Filters the case attached.
    pub filters: u64,
    /// How long the check waited for deferred frees.
    pub waited: Duration,
    /// Whether the level came back.
    pub ok: bool,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = if self.ok { "back" } else { "still up" };
        let ms = self.waited.as_millis();
        match (self.before, self.after) {
            (Level::Live(b), Level::Live(a)) => {
                write!(f, "live_filters {b} -> {a} ({} filters attached; {when} after {ms} ms)", self.filters)
            }
            (Level::Unreferenced(b), Level::Unreferenced(a)) => write!(
                f,
                "kmemleak: {b} -> {a} unreferenced objects ({} filters attached; {when} after {ms} ms)",
                self.filters
            ),
            (Level::Meminfo { slab: bs, vmalloc: bv }, Level::Meminfo { slab: s, vmalloc: v }) => write!(
                f,
                "SUnreclaim {bs} -> {s} kB (tolerance +{}), VmallocUsed {bv} -> {v} kB (tolerance +{}); {when} after \
                 {ms} ms; leaking the {} filters attached would add >= {} and {} kB",
                self.tolerance.0,
                self.tolerance.1,
                self.filters,
                self.filters * SLAB_KB_PER_FILTER,
                self.filters * VMALLOC_KB_PER_FILTER
            ),
            (b, a) => write!(f, "{b:?} -> {a:?}"),
        }
    }
}
