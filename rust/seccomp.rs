// SPDX-License-Identifier: GPL-2.0

//! Secure computing (seccomp), implemented in Rust.
//!
//! With `CONFIG_SECCOMP_RUST=y` this crate takes the place of
//! `kernel/seccomp.c`: it exports to C what `include/linux/seccomp.h`
//! declares (the syscall-entry hook, the `prctl()` interface, the fork,
//! exit and ptrace entry points) plus the body of the `seccomp()` system
//! call, whose `SYSCALL_DEFINE` wrapper lives in `syscalls.c`.
//!
//! Raw pointers from C are converted at the door; everything inside works
//! with [`Result`] and hands C only an errno.
//!
//! The classic-BPF engine (checker, interpreter, action precedence and
//! cache analysis) is [`engine`]: pure Rust shared with the host test
//! suite.  Filters and chains are in `filter.rs`, installing them in
//! `install.rs`, and enforcing them at syscall entry in `enforce.rs`.
//!
//! User notification (the listener fd of
//! `SECCOMP_FILTER_FLAG_NEW_LISTENER`) is in `notify.rs`.

use kernel::{
    bindings,
    error::{code::*, Error},
    ffi::{c_int, c_long, c_uint, c_ulong, c_void},
    prelude::*,
    uaccess::UserSlice,
};

pub mod engine;
/// The engine self-tests, run in the kernel by the KUnit suite in kunit.c.
#[cfg(CONFIG_SECCOMP_RUST_KUNIT_TEST)]
#[path = "engine/selftest.rs"]
pub mod engine_selftest;

#[cfg(CONFIG_SECCOMP_CACHE_DEBUG)]
pub mod cache_debug;
mod current;
mod enforce;
mod filter;
mod install;
#[cfg(CONFIG_SECCOMP_RUST_KUNIT_TEST)]
pub mod kunit;
mod log;
mod mode;
pub mod notify;
mod sync;
#[cfg(CONFIG_SYSCTL)]
pub mod sysctl;
mod task;
mod uapi;

use current::{Current, Mode};
use task::{Locked, Siglock};

/// Prefix of this crate's kernel log messages.
const __LOG_PREFIX: &[u8] = b"seccomp-rs\0";

/// The errnos `kernel::error::code` does not name (`EOPNOTSUPP`,
/// `ENOSYS`, `EINPROGRESS`).
pub(crate) fn errno(code: u32) -> Error {
    Error::from_errno(-(code as i32))
}

/// Converts a result into what C expects: the value, or a negative errno.
pub(crate) fn to_c(result: Result<c_long>) -> c_long {
    result.unwrap_or_else(|e| e.to_errno() as c_long)
}

/// Syscall-entry hook (`__secure_computing()`, whose C definition in
/// `syscalls.c` reads the task, its register frame, the number and the
/// architecture with the architecture's inline accessors): decides whether
/// `task` may make system call `nr` of architecture `arch`.
///
/// Returns 0 to go ahead and -1 to skip the system call (the return value
/// is then already set); tasks that must die do not return.
///
/// # Safety
///
/// `task` is `current`, at syscall entry with its seccomp syscall work
/// set, entering system call `nr` of `arch`; `regs` is its register frame;
/// `sd` is NULL or points to a valid `struct seccomp_data` describing that
/// system call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_secure_computing(
    task: *mut bindings::task_struct,
    regs: *const bindings::pt_regs,
    sd: *const bindings::seccomp_data,
    nr: c_int,
    arch: u32,
) -> c_int {
    // SAFETY: `task` is `current` (function safety requirement).
    let current = unsafe { Current::from_raw(task) };
    if current.seccomp_suspended() {
        return 0;
    }
    // SAFETY: `regs` is the frame of `current`, at syscall entry until
    // this returns (function safety requirements).
    let frame = unsafe { enforce::EntryFrame::from_raw(regs) };
    // SAFETY: By the function's safety requirements `sd` is NULL or valid.
    let sd = unsafe { sd.as_ref() };
    match current.mode() {
        Mode::Filter => enforce::filter_syscall(&current, frame, nr, arch, sd, false).to_c(),
        Mode::Strict => {
            mode::strict_check(&current, nr);
            0
        }
        // Surviving a seccomp kill must be impossible; a corrupt mode fails
        // closed too.
        Mode::Dead => current.exit_killed(),
        // The hook only runs once a mode has been assigned.
        Mode::Disabled => {
            pr_err!("syscall hook ran with seccomp disabled\n");
            current.exit_killed()
        }
    }
}

/// `prctl(PR_GET_SECCOMP)`: the current task's seccomp mode.
#[no_mangle]
pub extern "C" fn prctl_get_seccomp() -> c_long {
    Current::get().mode() as c_long
}

/// `prctl(PR_SET_SECCOMP, mode, filter)`: the prctl spelling of
/// `seccomp(SECCOMP_SET_MODE_STRICT)` and `seccomp(SECCOMP_SET_MODE_FILTER)`.
///
/// `filter` is a user-space address and is only ever accessed through
/// the user-copy routines.
#[no_mangle]
pub extern "C" fn prctl_set_seccomp(seccomp_mode: c_ulong, filter: *mut c_void) -> c_long {
    let (op, uargs) = match seccomp_mode {
        // Strict mode through prctl always ignored its third argument.
        m if m == bindings::SECCOMP_MODE_STRICT as c_ulong => {
            (bindings::SECCOMP_SET_MODE_STRICT, core::ptr::null_mut())
        }
        m if m == bindings::SECCOMP_MODE_FILTER as c_ulong => {
            (bindings::SECCOMP_SET_MODE_FILTER, filter)
        }
        _ => return EINVAL.to_errno() as c_long,
    };
    // prctl() has no flags argument.
    seccomp_rs_do_seccomp(op, 0, uargs)
}

/// Body of the `seccomp(op, flags, uargs)` system call.
///
/// `uargs` is a user-space address and is only ever accessed through the
/// user-copy routines.
#[no_mangle]
pub extern "C" fn seccomp_rs_do_seccomp(op: c_uint, flags: c_uint, uargs: *mut c_void) -> c_long {
    to_c(do_seccomp(op, flags, uargs as usize))
}

fn do_seccomp(op: u32, flags: u32, uargs: usize) -> Result<c_long> {
    match op {
        bindings::SECCOMP_SET_MODE_STRICT => {
            if flags != 0 || uargs != 0 {
                return Err(EINVAL);
            }
            mode::set_mode_strict(&Current::get())?;
            Ok(0)
        }
        bindings::SECCOMP_SET_MODE_FILTER => {
            install::set_mode_filter(&Current::get(), flags, uargs)
        }
        bindings::SECCOMP_GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(EINVAL);
            }
            get_action_avail(uargs)
        }
        bindings::SECCOMP_GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(EINVAL);
            }
            get_notif_sizes(uargs)
        }
        _ => Err(EINVAL),
    }
}

/// `SECCOMP_GET_ACTION_AVAIL`: 0 if the action in `*uaction` is known.
fn get_action_avail(uaction: usize) -> Result<c_long> {
    let action: u32 = UserSlice::new(uaction, core::mem::size_of::<u32>())
        .reader()
        .read()?;
    match crate::log::action_info(action) {
        Some(_) => Ok(0),
        None => Err(errno(bindings::EOPNOTSUPP)),
    }
}

/// `SECCOMP_GET_NOTIF_SIZES`: the sizes of the notification structures,
/// written as a `struct seccomp_notif_sizes`.
fn get_notif_sizes(usizes: usize) -> Result<c_long> {
    // The fields are __u16 and every size fits.
    let sizes = uapi::NotifSizes(bindings::seccomp_notif_sizes {
        seccomp_notif: core::mem::size_of::<uapi::Notif>() as u16,
        seccomp_notif_resp: core::mem::size_of::<uapi::NotifResp>() as u16,
        seccomp_data: core::mem::size_of::<bindings::seccomp_data>() as u16,
    });
    UserSlice::new(usizes, core::mem::size_of::<uapi::NotifSizes>())
        .writer()
        .write(&sizes)?;
    Ok(0)
}

/// Detaches exiting `tsk` from its filter chain, dropping its user and
/// reference (filters no task uses any more are orphaned, and freed with
/// their last reference).
///
/// # Safety
///
/// `tsk` is `current`, exiting (`PF_EXITING`, in `do_exit()`); other
/// tasks are left alone.
#[cfg(CONFIG_SECCOMP_FILTER)]
#[no_mangle]
pub unsafe extern "C" fn seccomp_filter_release(tsk: *mut bindings::task_struct) {
    // SAFETY: `tsk` is `current` in `do_exit()` (function safety
    // requirement): valid, with its sighand.
    let Some(mut siglock) = (unsafe { Siglock::of_exiting(tsk) }) else {
        return;
    };
    let old = siglock.task().take_exiting_chain();
    drop(siglock);
    filter::release_chain(old);
}

/// Lets a child being forked share `tsk`'s filter chain: the child's
/// copy of the chain pointer gets its own reference and user.
///
/// # Safety
///
/// `tsk` is `current`, in `copy_seccomp()` with its siglock held.
#[cfg(CONFIG_SECCOMP_FILTER)]
#[no_mangle]
pub unsafe extern "C" fn get_seccomp_filter(tsk: *mut bindings::task_struct) {
    // SAFETY: `tsk` is `current` with its siglock held by the caller for
    // the call (function safety requirement).
    unsafe { Locked::assume_locked(tsk) }.share_chain_with_child();
}

/// Whether `current` may read another task's filters through ptrace: it
/// must be privileged and not itself confined.
#[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
fn may_read_filters() -> Result {
    // SAFETY: FFI call without preconditions.
    let admin = unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) };
    if !admin || Current::get().mode() != Mode::Disabled {
        return Err(EACCES);
    }
    Ok(())
}

/// The task of a ptrace request (`kernel/ptrace.c`): traced and stopped by
/// `current`.
///
/// # Invariants
///
/// The task is valid and stays stopped under `current`'s ptrace, so keeps
/// its sighand, while the value exists.
#[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
struct Tracee(*mut bindings::task_struct);

#[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
impl Tracee {
    /// Takes a reference to the `filter_off`-th filter (0 is the oldest):
    /// `EINVAL` if the task is not in filter mode, `ENOENT` if it has fewer
    /// filters (`get_nth_filter`).
    fn filter(&self, filter_off: u64) -> Result<kernel::sync::Arc<filter::Filter>> {
        // SAFETY: The task is valid and, stopped under our ptrace, keeps
        // its sighand (type invariant).
        let mut siglock = unsafe { Siglock::of_task(self.0) };
        let locked = siglock.task();
        let chain = match locked.mode() {
            Mode::Filter => locked.filter_chain().map(kernel::sync::Arc::from),
            _ => None,
        };
        drop(siglock);
        let chain = chain.ok_or(EINVAL)?;
        let nth = filter::nth(&chain, filter_off).ok_or(ENOENT)?;
        // SAFETY: `nth` is a filter of `chain`, which keeps it alive
        // through a reference; we take one more of our own.
        Ok(unsafe { kernel::sync::ArcBorrow::from_raw(nth) }.into())
    }
}

/// Defines `$name`, a seccomp request of `kernel/ptrace.c`, as `$request`
/// on the [`Tracee`], its user argument and its user buffer, once
/// `current` may read filters ([`may_read_filters`]).
macro_rules! ptrace_request {
    ($(#[$doc:meta])* $name:ident => $request:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// `task` is a valid task traced and stopped by `current`.
        #[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            task: *mut bindings::task_struct,
            arg: c_ulong,
            data: *mut c_void,
        ) -> c_long {
            // INVARIANT: `task` is valid and stopped (function safety
            // requirement) for the whole call.
            let tracee = Tracee(task);
            to_c(may_read_filters().and_then(|()| $request(&tracee, arg, data as usize)))
        }
    };
}

ptrace_request!(
    /// `PTRACE_SECCOMP_GET_FILTER`: copies the `filter_off`-th filter (0
    /// is the oldest) of `task` to `data` (if not NULL), returning its
    /// length in instructions.
    seccomp_get_filter => get_filter
);

ptrace_request!(
    /// `PTRACE_SECCOMP_GET_METADATA`: the flags of one of `task`'s
    /// filters, selected by the `filter_off` at the start of `data`;
    /// writes up to `size` bytes of `struct seccomp_metadata` and returns
    /// how many.
    seccomp_get_metadata => get_metadata
);

#[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
fn get_filter(tracee: &Tracee, filter_off: c_ulong, data: usize) -> Result<c_long> {
    let filter = tracee.filter(filter_off as u64)?;
    let original = filter.original();
    let len = original.len();
    if data != 0 {
        let mut writer = UserSlice::new(data, len * engine::SockFilter::SIZE).writer();
        for insn in original {
            writer.write_slice(&insn.to_bytes()).map_err(|_| EFAULT)?;
        }
    }
    Ok(len as c_long)
}

#[cfg(all(CONFIG_SECCOMP_FILTER, CONFIG_CHECKPOINT_RESTORE))]
fn get_metadata(tracee: &Tracee, size: c_ulong, data: usize) -> Result<c_long> {
    // struct seccomp_metadata { __u64 filter_off; __u64 flags; }, of
    // which the caller may take less, but at least filter_off.
    let size = size.min(core::mem::size_of::<bindings::seccomp_metadata>() as c_ulong) as usize;
    if size < core::mem::size_of::<u64>() {
        return Err(EINVAL);
    }
    let filter_off: u64 = UserSlice::new(data, core::mem::size_of::<u64>())
        .reader()
        .read()?;
    let filter = tracee.filter(filter_off)?;
    let flags = if filter.log {
        u64::from(bindings::SECCOMP_FILTER_FLAG_LOG)
    } else {
        0
    };
    let mut writer = UserSlice::new(data, size).writer();
    writer.write(&filter_off).map_err(|_| EFAULT)?;
    writer
        .write_slice(&flags.to_ne_bytes()[..size - core::mem::size_of::<u64>()])
        .map_err(|_| EFAULT)?;
    Ok(size as c_long)
}

/// Boot-time initialisation, called from the initcall in `syscalls.c`.
#[no_mangle]
pub extern "C" fn seccomp_rs_init() -> c_int {
    pr_info!("seccomp implemented in Rust (strict and filter modes)\n");
    0
}
