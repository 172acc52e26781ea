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

use crate::current::{Current, Mode};
use crate::filter::{self, Filter, PreparedFilter};
use crate::notify;
use crate::task::Siglock;

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
        let mut siglock = Siglock::of_current(current);
        if !siglock.task().may_assign_mode(Mode::Filter) {
            return Err(EINVAL);
        }
        if prepared.duplicates_listener(siglock.task().filter_chain().as_deref()) {
            return Err(EBUSY);
        }
        match attach(&mut siglock, flags, prepared)? {
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

/// Attaches `prepared` on top of the chain of the task whose siglock is
/// held, `current` (`seccomp_attach_filter`).  For TSYNC, nothing is
/// attached if a thread of the group cannot be synchronised: `Blocked`
/// with its thread ID, or `ESRCH`.
fn attach(siglock: &mut Siglock<'_>, flags: u32, prepared: PreparedFilter) -> Result<Attached> {
    prepared.fits_on(siglock.task().filter_chain().as_deref())?;

    if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC != 0 {
        if let Some(blocker) = unsyncable_thread(siglock) {
            return if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
                Err(ESRCH)
            } else {
                blocker.map(Attached::Blocked)
            };
        }
    }

    let reference = {
        let mut task = siglock.task();
        // The new filter's `prev` takes a reference to the old chain, which
        // keeps the task's user: the user passes to the new filter's chain.
        let prev = task.filter_chain().map(Arc::from);
        let new = prepared.attach(prev);
        let reference = new.clone();
        // The new chain runs through the old one: it is never given back.
        if let Ok(old) = task.replace_chain(new) {
            drop(old);
        }
        let count = task.filter_count();
        task.set_filter_count(count + 1);
        reference
    };

    if flags & bindings::SECCOMP_FILTER_FLAG_TSYNC != 0 {
        sync_threads(siglock, flags);
    }
    siglock.task().assign_mode(Mode::Filter, flags);
    Ok(Attached::Yes(reference))
}

/// Finds a thread that TSYNC cannot move to the chain of the task whose
/// siglock is held: one with a mode other than filter/disabled, or with a
/// chain that chain does not descend from.  Returns the value the system
/// call reports for it (its thread ID, or `ESRCH` if it has none in our
/// namespace).
fn unsyncable_thread(siglock: &mut Siglock<'_>) -> Option<Result<c_long>> {
    let mine = siglock.task().filter_chain().map(Arc::from);
    for thread in siglock.other_threads() {
        let syncable = match thread.mode() {
            Mode::Disabled => true,
            Mode::Filter => is_ancestor(thread.filter_chain().as_deref(), mine.as_deref()),
            _ => false,
        };
        if !syncable {
            let tid = thread.tid();
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

/// Moves every other thread of the group onto the chain of the task whose
/// siglock is held (whose suitability `unsyncable_thread` established
/// under the same siglock).
fn sync_threads(siglock: &mut Siglock<'_>, flags: u32) {
    let (mine, count) = {
        let task = siglock.task();
        (task.filter_chain().map(Arc::from), task.filter_count())
    };
    let Some(mine) = mine else {
        return;
    };
    let nnp = Current::get().no_new_privs();
    for mut thread in siglock.other_threads() {
        mine.get_user();
        // The thread's old chain is an ancestor of ours, so it stays alive
        // for the thread, which may be running it: the thread's user and
        // reference on it are dropped.
        match thread.replace_chain(mine.clone()) {
            Ok(old) => filter::release_chain(old),
            Err(refused) => {
                filter::release_chain(Some(refused));
                continue;
            }
        }
        thread.set_filter_count(count);
        // Without this, an unprivileged task could dodge no_new_privs
        // by having a thread set up the filter and then die.
        if nnp {
            thread.set_no_new_privs();
        }
        if thread.mode() == Mode::Disabled {
            thread.assign_mode(Mode::Filter, flags);
        }
    }
}
