// SPDX-License-Identifier: GPL-2.0

//! Filter mode at syscall entry: describe the system call, run the task's
//! chain, and carry out the verdict (`__seccomp_filter` in C).

use core::mem::MaybeUninit;

use kernel::{
    bindings,
    ffi::{c_int, c_long},
};

use crate::current::Current;
use crate::engine::{self, Action, Constant, SeccompData};
use crate::filter::{Filter, Lookup};
use crate::log;
use crate::notify::{self, Reply};

/// What the syscall entry code does after seccomp's decision.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Run the system call.
    Run,
    /// Skip it: its return value (or a signal) is already set up.
    Skip,
}

impl Outcome {
    /// The value `__secure_computing()` returns for this outcome.
    pub(crate) fn to_c(self) -> c_int {
        match self {
            Outcome::Run => 0,
            Outcome::Skip => -1,
        }
    }
}

// `SeccompData` is `struct seccomp_data`, field for field, so the C helper
// can fill it in place.
const _: () = {
    assert!(core::mem::size_of::<SeccompData>() == core::mem::size_of::<bindings::seccomp_data>());
    assert!(
        core::mem::offset_of!(SeccompData, arch)
            == core::mem::offset_of!(bindings::seccomp_data, arch)
    );
    assert!(
        core::mem::offset_of!(SeccompData, instruction_pointer)
            == core::mem::offset_of!(bindings::seccomp_data, instruction_pointer)
    );
    assert!(
        core::mem::offset_of!(SeccompData, args)
            == core::mem::offset_of!(bindings::seccomp_data, args)
    );
};

/// Describes system call `nr` of `arch`, which `current` is entering: `sd`
/// if the architecture provided it, else from the registers
/// (`populate_seccomp_data()`).
fn describe(nr: i32, arch: u32, sd: Option<&bindings::seccomp_data>) -> SeccompData {
    if let Some(sd) = sd {
        return from_c(sd);
    }
    let mut data = MaybeUninit::<SeccompData>::uninit();
    // SAFETY: We are at syscall entry of `current`; `SeccompData` has the
    // layout of `struct seccomp_data` (checked above), every field of
    // which the helper writes.
    unsafe {
        bindings::seccomp_populate_data(data.as_mut_ptr().cast(), nr, arch);
        data.assume_init()
    }
}

// `SeccompData` is sixteen 32-bit words without padding, in the order
// `BPF_LD|BPF_W|BPF_ABS` numbers them on this (little-endian) machine.
const _: () = {
    assert!(core::mem::size_of::<SeccompData>() == core::mem::size_of::<[u32; 16]>());
    assert!(core::mem::align_of::<SeccompData>() >= core::mem::align_of::<[u32; 16]>());
    assert!(core::mem::offset_of!(SeccompData, nr) == 0);
    assert!(core::mem::offset_of!(SeccompData, arch) == 4);
    assert!(core::mem::offset_of!(SeccompData, instruction_pointer) == 8);
    assert!(core::mem::offset_of!(SeccompData, args) == 16);
    assert!(cfg!(target_endian = "little"));
};

/// The words of `data` as the filters address them, read in place (one
/// load per `BPF_LD|BPF_W|BPF_ABS` instead of picking the field apart).
fn as_words(data: &SeccompData) -> &[u32; 16] {
    // SAFETY: `SeccompData` is `#[repr(C)]` with fields `i32`, `u32`, `u64`
    // and `[u64; 6]`: 64 initialised bytes without padding (checked
    // above), aligned at least as `[u32; 16]` needs, and any bytes are a
    // valid `u32`. The view borrows `data`, so it cannot outlive it.
    unsafe { &*core::ptr::from_ref(data).cast::<[u32; 16]>() }
}

/// `current`'s register frame at syscall entry, as the 32-bit halves of
/// the `unsigned long`s it is made of.
///
/// # Invariants
///
/// `regs` is `current`'s register frame at syscall entry: valid for the
/// whole entry, on `current`'s own stack, and only `current` writes it
/// meanwhile (a ptrace stop ends before it is read).
#[derive(Clone, Copy)]
pub(crate) struct EntryFrame<'a> {
    regs: &'a [u32; PT_REGS_HALVES],
}

impl EntryFrame<'_> {
    /// The frame at `regs`, which the entry code handed over.
    ///
    /// # Safety
    ///
    /// `regs` is the register frame of `current`, which is at syscall
    /// entry for as long as the value lives.
    pub(crate) unsafe fn from_raw(regs: *const bindings::pt_regs) -> Self {
        // SAFETY: `regs` is valid and only `current` writes it while it is
        // at syscall entry (function safety requirement). `struct pt_regs`
        // is 21 `unsigned long`s or unions of that size (checked below),
        // all stored by the entry code: any bit pattern is a valid `u32`.
        let regs = unsafe { &*regs.cast::<[u32; PT_REGS_HALVES]>() };
        // INVARIANT: `current`'s frame, by the safety requirement.
        Self { regs }
    }

    /// `current`'s frame, for `current` at syscall entry.
    fn of_current(_current: &Current) -> Self {
        // SAFETY: `current` is at syscall entry (it is judging a system
        // call), and `current_pt_regs()` is its frame.
        unsafe { Self::from_raw(bindings::current_pt_regs()) }
    }
}

/// The system call `current` is entering, read word by word from its
/// register frame as the filters load them: `populate_seccomp_data()`
/// without filling a `struct seccomp_data` first (an argument check loads
/// two or four of its sixteen words).
///
/// # Invariants
///
/// `halves` says where each word of `struct seccomp_data` but `arch` is
/// among the halves of `frame` for the system call's ABI: each of its
/// entries is below [`PT_REGS_HALVES`].
struct EntryRegs<'a> {
    arch: u32,
    frame: EntryFrame<'a>,
    halves: &'static [u8; 16],
}

/// `struct pt_regs` of x86_64: 21 `unsigned long`s (or unions as large).
const PT_REGS_HALVES: usize = 42;

const _: () = {
    assert!(core::mem::size_of::<bindings::pt_regs>() == PT_REGS_HALVES * 4);
    assert!(core::mem::align_of::<bindings::pt_regs>() >= core::mem::align_of::<u32>());
    assert!(cfg!(target_endian = "little"));
};

/// The halves of `struct pt_regs` that words 0 and 2 to 15 of `struct
/// seccomp_data` are, given the registers holding the system call number,
/// the instruction pointer and the six arguments (word 1, `arch`, is in no
/// register). Every half is below [`PT_REGS_HALVES`]: the tables are
/// statics, so a register outside `struct pt_regs` fails the build.
const fn halves(regs: [usize; 8]) -> [u8; 16] {
    let mut halves = [0u8; 16];
    let mut i = 0;
    while i < 8 {
        assert!(regs[i] / 4 + 1 < PT_REGS_HALVES);
        // The low half first: this machine is little-endian.
        halves[2 * i] = (regs[i] / 4) as u8;
        halves[2 * i + 1] = (regs[i] / 4 + 1) as u8;
        i += 1;
    }
    halves
}

/// Byte offsets of the registers holding `nr` (`syscall_get_nr()`), the
/// instruction pointer (`KSTK_EIP()`) and the arguments
/// (`syscall_get_arguments()`), of the native ABI and of the ia32 one.
macro_rules! regs {
    ($($field:ident),*) => {
        halves([$(core::mem::offset_of!(bindings::pt_regs, $field)),*])
    };
}
static NATIVE_HALVES: [u8; 16] = regs!(orig_ax, ip, di, si, dx, r10, r8, r9);
static IA32_HALVES: [u8; 16] = regs!(orig_ax, ip, bx, cx, dx, si, di, bp);

impl<'a> EntryRegs<'a> {
    /// The system call of `arch` entered with register frame `frame`.
    fn new(frame: EntryFrame<'a>, arch: u32) -> Self {
        let halves = if arch == engine::cache::AUDIT_ARCH_I386 {
            &IA32_HALVES
        } else {
            &NATIVE_HALVES
        };
        // INVARIANT: the registers of `arch`'s ABI, below `PT_REGS_HALVES`
        // (`halves()`).
        EntryRegs {
            arch,
            frame,
            halves,
        }
    }
}

impl engine::DataWords for EntryRegs<'_> {
    #[inline(always)]
    fn word(&self, index: u8) -> u32 {
        let index = usize::from(index & 15);
        let half = usize::from(self.halves[index]);
        // SAFETY: `half < PT_REGS_HALVES`, the length of `frame.regs`, by
        // the type invariant (a bounds check here would be paid on every
        // argument a filter loads).
        let value = unsafe { *self.frame.regs.get_unchecked(half) };
        // Word 1 is in no register: its half is read for nothing (a select
        // instead of a branch).
        if index == 1 {
            self.arch
        } else {
            value
        }
    }
}

/// Converts the C description of a system call.
fn from_c(sd: &bindings::seccomp_data) -> SeccompData {
    SeccompData {
        nr: sd.nr,
        arch: sd.arch,
        instruction_pointer: sd.instruction_pointer,
        args: sd.args,
    }
}

/// Sets the return value of the system call `current` is skipping.
fn set_return(_current: &Current, error: c_int, val: c_long) {
    // SAFETY: `current` (the task that runs this) is at syscall entry, so
    // its register frame is the one the system call returns through.
    unsafe { bindings::seccomp_set_return_value(error, val) };
}

/// Restores `current`'s registers as they were at syscall entry, for a
/// signal handler or a core dump to see.
fn rollback(_current: &Current) {
    // SAFETY: As for `set_return`.
    unsafe { bindings::seccomp_rollback() };
}

/// Filter mode's syscall-entry check for system call `nr` of `arch`,
/// described by `sd` if the architecture provided it, else read from the
/// register frame `frame` when the filters must run.  After a
/// `SECCOMP_RET_TRACE` stop the tracer may have changed the system call;
/// the check then runs again with `recheck_after_trace`, and a second
/// TRACE verdict lets it run.
///
/// Inlined into the hook: this is the path of every system call of a
/// task in filter mode.
#[inline(always)]
pub(crate) fn filter_syscall(
    current: &Current,
    frame: EntryFrame<'_>,
    nr: i32,
    arch: u32,
    sd: Option<&bindings::seccomp_data>,
    recheck_after_trace: bool,
) -> Outcome {
    // See changes another thread made to our mode and chain (TSYNC) once
    // the syscall work flag that brought us here is visible (`smp_rmb()`).
    core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);

    let Some(chain) = current.running_chain() else {
        // Filter mode without a filter: never fail open.
        kernel::pr_err!("seccomp: task in filter mode without filters\n");
        return kill(current, nr, engine::action::SECCOMP_RET_KILL_PROCESS);
    };
    // Most system calls have a known verdict: the arguments are read only
    // when the filters must run.
    let (ret, matched) = match chain.lookup(nr, arch) {
        Lookup::Verdict(ret) => (ret, None),
        Lookup::Run(cached) => run_filters(chain, frame, arch, sd, cached),
    };
    if ret == engine::action::SECCOMP_RET_ALLOW {
        return Outcome::Run;
    }
    try_refuse(current, nr, ret, matched)
        .unwrap_or_else(|| act(current, nr, arch, sd, ret, matched, recheck_after_trace))
}

/// Runs the filters of `chain` on the system call of `arch` being
/// entered, described by `sd` if the architecture provided it, else read
/// from the register frame `frame`; `cached` is the chain's table entry
/// for it. Returns the chain's verdict and the filter that decided it, if
/// known: the part of [`filter_syscall`] for system calls without a known
/// verdict.
#[inline(never)]
fn run_filters<'a>(
    chain: &'a Filter,
    frame: EntryFrame<'_>,
    arch: u32,
    sd: Option<&bindings::seccomp_data>,
    cached: Constant,
) -> (u32, Option<&'a Filter>) {
    match sd {
        Some(sd) => chain.run_filters(as_words(&from_c(sd)), cached),
        None => chain.run_filters(&EntryRegs::new(frame, arch), cached),
    }
}

/// `SECCOMP_RET_ERRNO`, the way allow-lists refuse, carried out without a
/// call: skip system call `nr` as verdict `ret` of filter `matched` (if
/// known) says; `None` for any other verdict, for [`act`].
#[inline(always)]
fn try_refuse(current: &Current, nr: i32, ret: u32, matched: Option<&Filter>) -> Option<Outcome> {
    match Action::from_ret(ret) {
        Action::Errno(errno) => Some(refuse(current, nr, errno, matched)),
        _ => None,
    }
}

/// `SECCOMP_RET_ERRNO`: skip system call `nr`, which fails with `errno`;
/// `matched` is the filter that decided, if known.
#[inline(always)]
fn refuse(current: &Current, nr: i32, errno: u16, matched: Option<&Filter>) -> Outcome {
    set_return(current, -i32::from(errno), 0);
    let requested_log = matched.is_some_and(|f| f.log);
    log::log_action(nr, 0, engine::action::SECCOMP_RET_ERRNO, requested_log);
    Outcome::Skip
}

/// Carries out verdict `ret` of the chain for system call `nr` of `arch`
/// (described by `sd` if the architecture provided it, else read from the
/// registers when a supervisor must see it); `matched` is the filter that
/// decided, if known.
///
/// Kept out of line: inlined, its many cases would make the allow path of
/// [`filter_syscall`], taken on most system calls, save and spill more.
#[inline(never)]
fn act(
    current: &Current,
    nr: i32,
    arch: u32,
    sd: Option<&bindings::seccomp_data>,
    ret: u32,
    matched: Option<&Filter>,
    recheck_after_trace: bool,
) -> Outcome {
    use engine::action::SECCOMP_RET_LOG;
    use engine::action::{SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF};
    let requested_log = matched.is_some_and(|f| f.log);
    // A skipped system call is logged if its filter asked for it, under
    // the number it has by then (a tracer may have cancelled it: -1). Each
    // arm names its action as a constant, which decides at compile time
    // which rule of `log_action` applies.
    let skip = |nr: i32, action: u32| {
        log::log_action(nr, 0, action, requested_log);
        Outcome::Skip
    };
    match Action::from_ret(ret) {
        Action::Errno(errno) => refuse(current, nr, errno, matched),
        Action::Trap(data) => {
            rollback(current);
            // SAFETY: Queues SIGSYS for `current` at syscall entry.
            unsafe { bindings::force_sig_seccomp(nr, data.into(), false) };
            skip(nr, SECCOMP_RET_TRAP)
        }
        Action::Trace(message) => {
            // The tracer already saw this system call.
            if recheck_after_trace {
                return Outcome::Run;
            }
            trace(current, nr, arch, message, |nr| skip(nr, SECCOMP_RET_TRACE))
        }
        Action::UserNotif => match notify::handle(current, matched, &describe(nr, arch, sd)) {
            Reply::Continue => Outcome::Run,
            Reply::Return { error, val } => {
                set_return(current, error, val);
                skip(nr, SECCOMP_RET_USER_NOTIF)
            }
        },
        Action::Log => {
            log::log_action(nr, 0, SECCOMP_RET_LOG, true);
            Outcome::Run
        }
        Action::Allow => Outcome::Run,
        Action::KillThread(_) | Action::KillProcess(_) => kill(current, nr, ret),
    }
}

/// `SECCOMP_RET_TRACE`: hand the system call `nr` to the tracer, if any.
fn trace(
    current: &Current,
    nr: i32,
    arch: u32,
    data: u16,
    skip: impl Fn(i32) -> Outcome,
) -> Outcome {
    let task = current.as_ptr();
    // SAFETY: `task` is `current`.
    if !unsafe { bindings::ptrace_event_enabled(task, bindings::PTRACE_EVENT_SECCOMP as i32) } {
        set_return(current, -(bindings::ENOSYS as i32), 0);
        return skip(nr);
    }
    // The filter passes 16 bits of data on as the event message.
    // SAFETY: Stops `current` for its tracer; called at syscall entry.
    unsafe { bindings::ptrace_event(bindings::PTRACE_EVENT_SECCOMP as i32, data.into()) };
    // A fatal signal during the stop may have skipped the tracer: the task
    // is dying, so make sure the system call does not run.
    // SAFETY: `task` is `current`.
    if unsafe { bindings::fatal_signal_pending(task) } != 0 {
        return skip(nr);
    }
    // The tracer may have changed or cancelled (-1) the system call.
    let new_nr = current.syscall_nr();
    if new_nr < 0 {
        return skip(new_nr);
    }
    // Judge the (possibly new) system call afresh, from the registers (a
    // tracer cannot change the architecture).
    filter_syscall(
        current,
        EntryFrame::of_current(current),
        new_nr,
        arch,
        None,
        true,
    )
}

/// `SECCOMP_RET_KILL_*` (and any unknown action): the task dies with
/// `SIGSYS`; the whole process, with a core dump, unless only this thread
/// was to die and others live on.
fn kill(current: &Current, nr: i32, ret: u32) -> Outcome {
    let action_bits = ret & engine::action::SECCOMP_RET_ACTION_FULL;
    let data = (ret & engine::action::SECCOMP_RET_DATA) as i32;
    current.set_dead();
    log::log_action(nr, bindings::SIGSYS as c_long, action_bits, true);
    let last_thread =
        // SAFETY: `current` is valid; its signal struct lives as long.
        unsafe { bindings::seccomp_live_threads(current.as_ptr()) } == 1;
    if action_bits != engine::action::SECCOMP_RET_KILL_THREAD || last_thread {
        // Show the original registers in the core dump.
        rollback(current);
        // SAFETY: Queues a fatal SIGSYS for `current`.
        unsafe { bindings::force_sig_seccomp(nr, data, true) };
    } else {
        current.exit(bindings::SIGSYS as c_long);
    }
    Outcome::Skip
}
