// SPDX-License-Identifier: GPL-2.0

//! `seccomp(SECCOMP_SET_MODE_FILTER)`: validating the flags, attaching a
//! prepared filter on top of the task's chain, and synchronising the
//! other threads of the group to it (`SECCOMP_FILTER_FLAG_TSYNC`).

use kernel::{
    bindings,
    error::code::*,
    ffi::{c_int, c_long, c_uint},
    prelude::*,
    sync::Arc,
};

use crate::current::{Current, Mode, SighandGuard};
use crate::filter::{self, Filter, PreparedFilter};
use crate::notify;

/// The filter flags (`SECCOMP_FILTER_FLAG_MASK`).
const FLAGS_SUPPORTED: u32 = bindings::SECCOMP_FILTER_FLAG_TSYNC
    | bindings::SECCOMP_FILTER_FLAG_LOG
    | bindings::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    | bindings::SECCOMP_FILTER_FLAG_NEW_LISTENER
    | bindings::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    | bindings::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

/// Holds `current->signal->cred_guard_mutex`, which keeps `execve()` in
/// another thread from changing credentials or seccomp state while TSYNC
/// works on the group.
struct CredGuard {
    lock: *mut bindings::mutex,
}

impl CredGuard {
    /// Takes the mutex, unless a fatal signal arrives first.
    fn lock_killable(current: &Current) -> Result<Self> {
        // SAFETY: `current` is valid and so is its signal struct.
        let lock =
            unsafe { core::ptr::addr_of_mut!((*(*current.as_ptr()).signal).cred_guard_mutex) };
        // SAFETY: `lock` is an initialised mutex; we may sleep here.
        if unsafe { bindings::mutex_lock_killable(lock) } != 0 {
            // As in C, an interrupted wait reports the generic failure.
            return Err(EINVAL);
        }
        Ok(Self { lock })
    }
}

impl Drop for CredGuard {
    fn drop(&mut self) {
        // SAFETY: We hold the mutex (we are its only constructor).
        unsafe { bindings::mutex_unlock(self.lock) };
    }
}

/// A listener fd reserved and its file created, not yet visible to user
/// space: installed on success, released on failure.
struct PendingListener {
    fd: c_int,
    file: *mut bindings::file,
}

impl PendingListener {
    fn new() -> Result<Self> {
        // SAFETY: FFI call without preconditions.
        let fd = unsafe { bindings::get_unused_fd_flags(bindings::O_CLOEXEC) };
        if fd < 0 {
            return Err(Error::from_errno(fd));
        }
        match notify::new_file() {
            Ok(file) => Ok(Self { fd, file }),
            Err(e) => {
                // SAFETY: `fd` was reserved above and is not installed.
                unsafe { bindings::put_unused_fd(fd as c_uint) };
                Err(e)
            }
        }
    }

    /// Makes the fd refer to the listener of `filter` and returns it.
    fn install(self, filter: Arc<Filter>) -> c_long {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The file is ours and not visible yet; `fd_install` then
        // hands our file reference to the fd table.
        unsafe {
            notify::attach_file(this.file, filter);
            bindings::fd_install(this.fd as c_uint, this.file);
        }
        this.fd as c_long
    }
}

impl Drop for PendingListener {
    fn drop(&mut self) {
        // SAFETY: The file (with no filter attached) and the fd are ours.
        unsafe {
            bindings::fput(self.file);
            bindings::put_unused_fd(self.fd as c_uint);
        }
    }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, ufprog)`.
pub(crate) fn set_mode_filter(current: &Current, flags: u32, ufprog: usize) -> Result<c_long> {
    use bindings::{
        SECCOMP_FILTER_FLAG_NEW_LISTENER as NEW_LISTENER, SECCOMP_FILTER_FLAG_TSYNC as TSYNC,
        SECCOMP_FILTER_FLAG_TSYNC_ESRCH as TSYNC_ESRCH,
        SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as WAIT_KILLABLE_RECV,
    };
    if flags & !FLAGS_SUPPORTED != 0 {
        return Err(EINVAL);
    }
    // With both, a positive return could be a listener fd or the thread
    // that blocked TSYNC: only allowed if TSYNC reports errors as ESRCH.
    if flags & TSYNC != 0 && flags & NEW_LISTENER != 0 && flags & TSYNC_ESRCH == 0 {
        return Err(EINVAL);
    }
    if flags & WAIT_KILLABLE_RECV != 0 && flags & NEW_LISTENER == 0 {
        return Err(EINVAL);
    }
    let prepared = PreparedFilter::from_user(current, ufprog, flags)?;
    let listener = if flags & NEW_LISTENER != 0 {
        Some(PendingListener::new()?)
    } else {
        None
    };

    let filter = {
        let _cred_guard = if flags & TSYNC != 0 {
            Some(CredGuard::lock_killable(current)?)
        } else {
            None
        };
        let sighand = current.lock_sighand();
        if !sighand.may_assign_mode(Mode::Filter) {
            return Err(EINVAL);
        }
        // SAFETY: `current` with its siglock held.
        let chain = unsafe { filter::task_chain(current.as_ptr()) };
        if prepared.duplicates_listener(chain.as_deref()) {
            return Err(EBUSY);
        }
        match attach(&sighand, current, flags, prepared)? {
            Attached::Yes(filter) => filter,
            Attached::Blocked(tid) => return Ok(tid),
        }
    };
    Ok(match listener {
        Some(listener) => listener.install(filter),
        None => 0,
    })
}

/// What [`attach`] did.
enum Attached {
    /// The filter is the task's newest (a reference to it).
    Yes(Arc<Filter>),
    /// TSYNC could not synchronise this thread: nothing was attached.
    Blocked(c_long),
}

/// Attaches `prepared` on top of `current`'s chain, with its siglock held
/// (`seccomp_attach_filter`).  Returns 0, or for TSYNC the ID of a thread
/// that cannot be synchronised (nothing is attached then).
fn attach(
    sighand: &SighandGuard<'_>,
    current: &Current,
    flags: u32,
    prepared: PreparedFilter,
) -> Result<Attached> {
    let task = current.as_ptr();
    // SAFETY: `task` is `current` and we hold its siglock.
    let chain = unsafe { filter::task_chain(task) };
    prepared.fits_on(chain.as_deref())?;

    if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC != 0 {
        if let Some(blocker) = unsyncable_thread(sighand, current) {
            return if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
                Err(ESRCH)
            } else {
                blocker.map(Attached::Blocked)
            };
        }
    }

    // The task's reference and user on its old chain pass to the new
    // filter's `prev`.
    // SAFETY: We hold `task`'s siglock.
    let prev = unsafe { filter::install_chain(task, None) };
    let new = prepared.attach(prev);
    let reference = new.clone();
    // SAFETY: We hold `task`'s siglock.
    let none = unsafe { filter::install_chain(task, Some(new)) };
    debug_assert!(none.is_none());
    // SAFETY: `task` is valid; the count is only written under the siglock.
    unsafe { bindings::atomic_inc(core::ptr::addr_of_mut!((*task).seccomp.filter_count)) };

    if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC != 0 {
        sync_threads(sighand, current, flags);
    }
    sighand.assign_mode(Mode::Filter, flags);
    Ok(Attached::Yes(reference))
}

/// The threads of `current`'s group other than itself that are not
/// exiting, under the group's siglock.
fn other_threads<'a>(
    _sighand: &'a SighandGuard<'_>,
    current: &'a Current,
) -> impl Iterator<Item = *mut bindings::task_struct> + 'a {
    let me = current.as_ptr();
    // SAFETY: `me` is valid and the siglock (held, as `_sighand` proves)
    // keeps the thread list stable.
    let first = unsafe { bindings::seccomp_first_thread(me) };
    core::iter::successors((!first.is_null()).then_some(first), |&t| {
        // SAFETY: `t` is a thread of the group, valid under the siglock.
        let next = unsafe { bindings::__next_thread(t) };
        (!next.is_null()).then_some(next)
    })
    .filter(move |&t| {
        // SAFETY: `t` is valid under the siglock.  Exiting threads may
        // already have released their chain.
        t != me && unsafe { (*t).flags } & bindings::PF_EXITING == 0
    })
}

/// Finds a thread that TSYNC cannot move to `current`'s chain: one with a
/// mode other than filter/disabled, or with a chain `current`'s chain does
/// not descend from.  Returns the value the system call reports for it
/// (its thread ID, or `ESRCH` if it has none in our namespace).
fn unsyncable_thread(sighand: &SighandGuard<'_>, current: &Current) -> Option<Result<c_long>> {
    // SAFETY: `current` is valid and we hold the siglock.
    let mine = unsafe { filter::task_chain(current.as_ptr()) };
    for thread in other_threads(sighand, current) {
        // SAFETY: `thread` is valid under the siglock.
        let mode = Mode::from_raw(unsafe { (*thread).seccomp.mode });
        let syncable = match mode {
            Mode::Disabled => true,
            Mode::Filter => {
                // SAFETY: As above; the siglock keeps its chain in place.
                let theirs = unsafe { filter::task_chain(thread) };
                is_ancestor(theirs.as_deref(), mine.as_deref())
            }
            _ => false,
        };
        if !syncable {
            // SAFETY: `thread` is valid.
            let tid = unsafe { bindings::task_pid_vnr(thread) };
            return Some(if tid == 0 {
                Err(ESRCH)
            } else {
                Ok(tid as c_long)
            });
        }
    }
    None
}

/// Whether `ancestor` is `chain` or one of its older filters (no chain at
/// all is everyone's ancestor).
fn is_ancestor(ancestor: Option<&Filter>, chain: Option<&Filter>) -> bool {
    let Some(ancestor) = ancestor else {
        return true;
    };
    chain.is_some_and(|c| c.chain().any(|f| core::ptr::eq(f, ancestor)))
}

/// Moves every other thread of the group onto `current`'s chain (whose
/// suitability `unsyncable_thread` established under the same siglock).
fn sync_threads(sighand: &SighandGuard<'_>, current: &Current, flags: u32) {
    let me = current.as_ptr();
    // SAFETY: `me` is `current` and we hold the siglock.
    let Some(mine) = (unsafe { filter::task_chain(me) }) else {
        return;
    };
    // SAFETY: `me` is valid.
    let count = unsafe { bindings::atomic_read(core::ptr::addr_of!((*me).seccomp.filter_count)) };
    let nnp = current.no_new_privs();
    for thread in other_threads(sighand, current) {
        let chain: kernel::sync::Arc<Filter> = mine.into();
        chain.get_user();
        // SAFETY: `thread` is valid and we hold the group's siglock.  Its
        // old chain is an ancestor of ours, so releasing the thread's hold
        // on it cannot free anything the thread might still be running.
        unsafe {
            let old = filter::install_chain(thread, Some(chain));
            filter::release_chain(old);
            bindings::atomic_set(
                core::ptr::addr_of_mut!((*thread).seccomp.filter_count),
                count,
            );
            // Without this, an unprivileged task could dodge no_new_privs
            // by having a thread set up the filter and then die.
            if nnp {
                bindings::task_set_no_new_privs(thread);
            }
            if Mode::from_raw((*thread).seccomp.mode) == Mode::Disabled {
                crate::current::assign_mode(thread, Mode::Filter, flags);
            }
        }
    }
}
