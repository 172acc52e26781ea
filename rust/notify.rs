// SPDX-License-Identifier: GPL-2.0

//! User notification (`SECCOMP_RET_USER_NOTIF`): a filter installed with
//! `SECCOMP_FILTER_FLAG_NEW_LISTENER` hands the system calls it traps to a
//! supervisor, which reads them from a listener fd and answers for them.
//!
//! A trapped task queues a [`Pending`] notification on the filter's
//! [`Listener`] and sleeps on its completion.  The supervisor receives it
//! (`SECCOMP_IOCTL_NOTIF_RECV`: INIT → SENT), may install fds into the task
//! (`SECCOMP_IOCTL_NOTIF_ADDFD`, run by the task itself when it wakes) and
//! replies (`SECCOMP_IOCTL_NOTIF_SEND`: SENT → REPLIED).  Closing the
//! listener answers every waiting task with `ENOSYS`.  The trapped task
//! always removes its own notification, so a notification exists exactly
//! as long as its task waits for it.
//!
//! The listener's ioctls but `RECV`, and its poll, wait for its lock
//! interruptibly, as C does (`-EINTR`, `EPOLLERR`).

use core::marker::{PhantomData, PhantomPinned};
use core::mem::size_of;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use kernel::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    error::code::*,
    ffi::{c_int, c_long, c_uint, c_ulong, c_void},
    prelude::*,
    sync::Arc,
    uaccess::UserSlice,
};

use crate::current::Current;
use crate::engine::SeccompData;
use crate::filter::Filter;
use crate::sync::{ClassKey, Completion, InterruptibleMutex, WaitQueue};
use crate::uapi::{Notif, NotifAddfd, NotifResp};
use crate::{errno, to_c};

/// The lockdep class of every listener's lock.
static NOTIFY_LOCK_CLASS: ClassKey = ClassKey::new();

extern "C" {
    /// Creates the anonymous "seccomp notify" file whose operations are the
    /// `seccomp_rs_notify_*` functions below (`syscalls.c`), with no
    /// private data yet.
    /// (Declared returning `void *`: a `struct file` pointer, opaque here.)
    fn seccomp_rs_notify_file() -> *mut c_void;
}

/// Where a notification is in its life.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Queued, not yet received by the supervisor.
    Init,
    /// Received; waiting for the reply.
    Sent,
    /// Answered (or the listener went away).
    Replied,
}

/// A request from the supervisor to install one of its files into the
/// trapped task (`SECCOMP_IOCTL_NOTIF_ADDFD`).
struct AddFd {
    /// The supervisor's file (a reference held by the ioctl).
    file: *mut bindings::file,
    /// Target fd number with `SECCOMP_ADDFD_FLAG_SETFD`.
    fd: c_int,
    /// `O_CLOEXEC` or nothing, for the new fd.
    o_flags: c_uint,
    /// `SECCOMP_ADDFD_FLAG_*`.
    ioctl_flags: u32,
    /// The new fd number, or a negative errno, once done.
    ret: AtomicI32,
    /// Completed by the task once the request is handled.
    done: Arc<Completion>,
}

// SAFETY: `file` is a counted reference, usable from any task.
unsafe impl Send for AddFd {}
// SAFETY: As above; `ret` is atomic.
unsafe impl Sync for AddFd {}

/// One trapped system call.
struct Pending {
    id: u64,
    /// The trapped task; it waits for this notification, so it lives
    /// until it removes it.
    task: *mut bindings::task_struct,
    /// The trapped system call, described in the task's stack frame (as
    /// the node itself is), which outlives the node's time in the list.
    data: NonNull<SeccompData>,
    state: State,
    error: c_int,
    val: i64,
    flags: u32,
    /// ADDFD requests not handled yet, newest last; allocated by the
    /// first (most notifications get none, and dropping even an empty
    /// `KVec` calls the allocator in 6.12).
    addfd: Option<KVec<Arc<AddFd>>>,
}

impl Pending {
    /// Removes and returns the newest ADDFD request not handled yet.
    fn take_addfd(&mut self) -> Option<Arc<AddFd>> {
        self.addfd.as_mut()?.take_last()
    }

    /// Removes ADDFD request `request` if the task has not handled it yet;
    /// whether it did.
    fn withdraw_addfd(&mut self, request: &Arc<AddFd>) -> bool {
        let Some(requests) = self.addfd.as_mut() else {
            return false;
        };
        let index = requests.iter().position(|r| Arc::ptr_eq(r, request));
        index.and_then(|index| requests.take_at(index)).is_some()
    }
}

/// A notification in the stack frame of the task that waits for it,
/// linked into its listener's [`PendingList`] meanwhile (C's
/// `struct seccomp_knotif`).
struct PendingNode {
    /// Neighbours in the list, null at its ends.
    prev: *mut PendingNode,
    next: *mut PendingNode,
    pending: Pending,
    /// Signalled on every change the task must look at; the task waits on
    /// it without the listener's lock.
    ready: Completion,
    _pin: PhantomPinned,
}

/// The notifications of a listener, oldest first: a list of nodes that
/// live on the stacks of the tasks waiting for them, as in C, so that
/// trapping a system call allocates nothing.
///
/// # Invariants
///
/// Every node reachable from `head` through `next` (and from `tail`
/// through `prev`) is valid, does not move, and is linked once; it stays so
/// until [`PendingList::remove`] unlinks it, which its task does before its
/// stack frame goes.  A linked node's links and `pending` are only reached
/// through the list; its `ready` is only shared.
struct PendingList {
    head: *mut PendingNode,
    tail: *mut PendingNode,
}

// SAFETY: The nodes are reached only through the list, which is only used
// under the listener's lock, whatever the task.
unsafe impl Send for PendingList {}

/// A linked node, borrowed from its list.
struct NodeRef<'a> {
    node: NonNull<PendingNode>,
    _list: PhantomData<&'a mut PendingList>,
}

impl Deref for NodeRef<'_> {
    type Target = Pending;

    fn deref(&self) -> &Pending {
        // SAFETY: The node is linked (type invariant of the list, which
        // we borrow), so valid, and `pending` is only reached through it.
        unsafe { &*core::ptr::addr_of!((*self.node.as_ptr()).pending) }
    }
}

impl DerefMut for NodeRef<'_> {
    fn deref_mut(&mut self) -> &mut Pending {
        // SAFETY: As for `deref`; the list is borrowed mutably, and each
        // node is handed out once at a time.
        unsafe { &mut *core::ptr::addr_of_mut!((*self.node.as_ptr()).pending) }
    }
}

impl NodeRef<'_> {
    /// The completion the node's task waits on.
    fn ready(&self) -> &Completion {
        // SAFETY: The node is linked, so valid; `ready` is only shared.
        unsafe { &*core::ptr::addr_of!((*self.node.as_ptr()).ready) }
    }
}

impl PendingList {
    const fn new() -> Self {
        Self {
            head: core::ptr::null_mut(),
            tail: core::ptr::null_mut(),
        }
    }

    /// Links `node` at the end.
    ///
    /// # Safety
    ///
    /// `node` is valid, will not move, is not linked, and stays valid until
    /// it is unlinked with [`PendingList::remove`].
    unsafe fn push_back(&mut self, node: NonNull<PendingNode>) {
        let node = node.as_ptr();
        // SAFETY: `node` is valid (safety requirement), `tail` is null or
        // linked (type invariant).
        unsafe {
            (*node).prev = self.tail;
            (*node).next = core::ptr::null_mut();
            match self.tail.is_null() {
                true => self.head = node,
                false => (*self.tail).next = node,
            }
        }
        // INVARIANT: `node` is valid until removed (safety requirement).
        self.tail = node;
    }

    /// Unlinks `node`.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    unsafe fn remove(&mut self, node: NonNull<PendingNode>) {
        let node = node.as_ptr();
        // SAFETY: `node` and its neighbours are linked, so valid.
        unsafe {
            let (prev, next) = ((*node).prev, (*node).next);
            match prev.is_null() {
                true => self.head = next,
                false => (*prev).next = next,
            }
            match next.is_null() {
                true => self.tail = prev,
                false => (*next).prev = prev,
            }
        }
    }

    /// `node`, linked by its task, borrowed from the list.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    unsafe fn linked(&mut self, node: NonNull<PendingNode>) -> NodeRef<'_> {
        // INVARIANT: `node` is linked (safety requirement), and borrowed
        // from its list.
        NodeRef {
            node,
            _list: PhantomData,
        }
    }

    /// The linked nodes, oldest first.
    fn iter_mut(&mut self) -> impl Iterator<Item = NodeRef<'_>> {
        let mut next = self.head;
        core::iter::from_fn(move || {
            let node = NonNull::new(next)?;
            // SAFETY: `node` is linked (type invariant), so valid.
            next = unsafe { (*node.as_ptr()).next };
            Some(NodeRef {
                node,
                _list: PhantomData,
            })
        })
    }

    /// The notifications, oldest first.
    fn iter(&self) -> impl Iterator<Item = &Pending> {
        let mut next = self.head;
        core::iter::from_fn(move || {
            let node = NonNull::new(next)?;
            // SAFETY: `node` is linked (type invariant), so valid; the list
            // is borrowed, and `pending` is only reached through it.
            unsafe {
                next = (*node.as_ptr()).next;
                Some(&*core::ptr::addr_of!((*node.as_ptr()).pending))
            }
        })
    }

    /// The notification with id `id`, if any.
    fn find(&mut self, id: u64) -> Option<NodeRef<'_>> {
        self.iter_mut().find(|p| p.id == id)
    }
}

/// What the listener's lock protects (`filter->notif` in C).
struct ListenerState {
    /// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`.
    flags: u32,
    /// Next notification id; starts random, wraps.
    next_id: u64,
    /// Notifications, oldest first.
    pending: PendingList,
}

impl ListenerState {
    fn find(&mut self, id: u64) -> Option<NodeRef<'_>> {
        self.pending.find(id)
    }

    fn sync_wake_up(&self) -> bool {
        self.flags & bindings::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP != 0
    }
}

/// The supervisor side of a filter installed with
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
#[pin_data]
pub(crate) struct Listener {
    #[pin]
    state: InterruptibleMutex<ListenerState>,
    /// Pollers and `NOTIF_RECV` callers wait here.
    #[pin]
    waiters: WaitQueue,
    /// Notifications queued but not yet claimed by a receiver.
    requests: AtomicI32,
    /// The listener fd is still open (C: `filter->notif` is not NULL).
    /// Only cleared, and only with `state` locked, so that whoever holds
    /// the lock sees it stable; read without the lock by
    /// [`Listener::is_open`].
    open: AtomicBool,
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: once received, the task
    /// only wakes for fatal signals.
    wait_killable_recv: bool,
}

impl Listener {
    /// A listener for a new filter.
    pub(crate) fn new(wait_killable_recv: bool) -> Result<Pin<KBox<Self>>> {
        // Ids start at a random value so that they are not guessable.
        // SAFETY: FFI call without preconditions.
        let seed = unsafe { bindings::get_random_u64() };
        let init = pin_init!(Listener {
            state <- InterruptibleMutex::new(
                ListenerState {
                    flags: 0,
                    next_id: seed,
                    pending: PendingList::new(),
                },
                kernel::c_str!("seccomp_notify_lock"),
                &NOTIFY_LOCK_CLASS,
            ),
            waiters <- WaitQueue::new(),
            requests: AtomicI32::new(0),
            open: AtomicBool::new(true),
            wait_killable_recv,
        });
        KBox::pin_init(init, GFP_KERNEL)
    }

    fn wake(&self, mask: u32, sync: bool) {
        self.waiters.wake_poll(mask, sync);
    }

    /// Tells pollers that no task uses the filter any more.
    ///
    /// Always wakes: a `waitqueue_active()` shortcut would need a full
    /// barrier between dropping the last user and looking at the queue to
    /// not miss a poller that just queued itself, and this runs once per
    /// orphaned filter.
    pub(crate) fn hang_up(&self) {
        self.wake(epoll::HUP, false);
    }

    /// Whether the listener fd is still open.  Without the lock this is a
    /// snapshot: it can become false at any time, never true again.
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    fn should_sleep_killable(&self, state: State) -> bool {
        self.wait_killable_recv && state >= State::Sent
    }

    /// Claims one queued request (`atomic_dec_if_positive`).
    fn claim_request(&self) -> bool {
        self.requests
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| {
                (r > 0).then(|| r - 1)
            })
            .is_ok()
    }

    /// Detaches the listener when its fd is closed: every task still
    /// waiting gets `ENOSYS`, new notifications fail the same way.
    fn detach(&self) {
        let mut state = self.state.lock();
        self.open.store(false, Ordering::Release);
        for mut p in state
            .pending
            .iter_mut()
            .filter(|p| p.state != State::Replied)
        {
            p.state = State::Replied;
            p.error = -(bindings::ENOSYS as c_int);
            p.val = 0;
            p.ready().complete(false);
        }
    }
}

/// How a trapped system call goes on, as its supervisor answered
/// (`enforce` carries it out).
pub(crate) enum Reply {
    /// Run it (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    Continue,
    /// Skip it, returning `val` or, when `error` is non-zero, that
    /// negative errno.
    Return { error: c_int, val: c_long },
}

/// `SECCOMP_RET_USER_NOTIF` for `current`, decided by `filter`: wait for
/// the supervisor's answer (`seccomp_do_user_notification`).
pub(crate) fn handle(current: &Current, filter: Option<&Filter>, data: &SeccompData) -> Reply {
    let (error, val, flags) = match filter.and_then(|f| f.listener()) {
        Some(listener) => match wait_for_answer(current, listener, data) {
            Ok(answer) => answer,
            Err(e) => (e.to_errno(), 0, 0),
        },
        None => (-(bindings::ENOSYS as c_int), 0, 0),
    };
    if flags & bindings::SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0 {
        return Reply::Continue;
    }
    Reply::Return {
        error,
        val: val as c_long,
    }
}

/// Queues a notification and sleeps until it is answered, the listener
/// goes away or a signal interrupts; returns (error, value, flags).
///
/// The notification lives in this stack frame, linked into the listener's
/// list until just before the function returns: trapping allocates nothing.
fn wait_for_answer(
    current: &Current,
    listener: &Listener,
    data: &SeccompData,
) -> Result<(c_int, i64, u32)> {
    let node = core::pin::pin!(PendingNode {
        prev: core::ptr::null_mut(),
        next: core::ptr::null_mut(),
        pending: Pending {
            id: 0,
            task: current.as_ptr(),
            data: NonNull::from(data),
            state: State::Init,
            error: 0,
            val: 0,
            flags: 0,
            addfd: None,
        },
        ready: Completion::uninit(),
        _pin: PhantomPinned,
    });
    // From here on the node is only reached through this pointer (and,
    // once linked, through the list): it never moves.
    // SAFETY: We do not move out of the pinned node.
    let node = NonNull::from(unsafe { node.get_unchecked_mut() });
    // SAFETY: The node is pinned in this frame and no one else sees it yet.
    let ready = unsafe {
        let ready = core::ptr::addr_of!((*node.as_ptr()).ready);
        Completion::init(ready);
        &*ready
    };
    let mut state = listener.state.lock();
    if !listener.open.load(Ordering::Relaxed) {
        return Err(errno(bindings::ENOSYS));
    }
    let id = state.next_id;
    state.next_id = id.wrapping_add(1);
    // SAFETY: The node is valid, pinned and not linked; it is unlinked
    // below, on the only way out of this function from here.
    unsafe {
        (*node.as_ptr()).pending.id = id;
        state.pending.push_back(node);
    }
    listener.requests.fetch_add(1, Ordering::AcqRel);
    listener.wake(epoll::IN | epoll::RDNORM, state.sync_wake_up());

    // As pushed, under the lock held since.
    let mut now = State::Init;
    let answer = loop {
        let killable = listener.should_sleep_killable(now);
        drop(state);
        let woke = ready.wait(killable);
        state = listener.state.lock();
        // SAFETY: Linked above, and only we unlink it, below.
        let mut p = unsafe { state.pending.linked(node) };
        let mut answer = match woke {
            // Received while we slept interruptibly: sleep on, killably.
            Err(e) if killable || !listener.should_sleep_killable(p.state) => Some(Err(e)),
            _ => None,
        };
        if answer.is_none() {
            if let Some(request) = p.take_addfd() {
                install_fd(&mut p, &request);
            }
            if p.state == State::Replied {
                answer = Some(Ok((p.error, p.val, p.flags)));
            }
        }
        if let Some(answer) = answer {
            // Fail the ADDFD requests we will never handle, and go.
            while let Some(request) = p.take_addfd() {
                request
                    .ret
                    .store(-(bindings::ESRCH as i32), Ordering::Release);
                request.done.complete(false);
            }
            break answer;
        }
        now = p.state;
    };
    // SAFETY: Linked above, and only we unlink it.
    unsafe { state.pending.remove(node) };
    answer
}

/// Runs an ADDFD request in the trapped task (`seccomp_handle_addfd`).
fn install_fd(p: &mut Pending, request: &AddFd) {
    // SAFETY: `request.file` is a reference the supervisor holds until the
    // request completes; we are the task receiving the fd.
    let fd = unsafe {
        if request.ioctl_flags & bindings::SECCOMP_ADDFD_FLAG_SETFD != 0 {
            bindings::receive_fd_replace(request.fd, request.file, request.o_flags)
        } else {
            bindings::receive_fd(request.file, core::ptr::null_mut(), request.o_flags)
        }
    };
    request.ret.store(fd, Ordering::Release);
    if request.ioctl_flags & bindings::SECCOMP_ADDFD_FLAG_SEND != 0 {
        if fd < 0 {
            // Installing failed: the supervisor may reply another way.
            p.state = State::Sent;
        } else {
            p.flags = 0;
            p.error = 0;
            p.val = fd.into();
        }
    }
    request.done.complete(false);
}

/// Removing elements from a `KVec`, which has no `pop()`/`remove()` in 6.12.
trait Take<T> {
    /// Removes and returns the last element.
    fn take_last(&mut self) -> Option<T>;
    /// Removes and returns the element at `index`, keeping the order of
    /// the others.
    fn take_at(&mut self, index: usize) -> Option<T>;
}

impl<T> Take<T> for KVec<T> {
    fn take_last(&mut self) -> Option<T> {
        let last = self.len().checked_sub(1)?;
        // SAFETY: `last` is in bounds; shrinking the length first makes
        // the element at `last` logically moved out, and we read it
        // exactly once.
        unsafe {
            self.set_len(last);
            Some(core::ptr::read(self.as_ptr().add(last)))
        }
    }

    fn take_at(&mut self, index: usize) -> Option<T> {
        if index >= self.len() {
            return None;
        }
        // Keep FIFO order: rotate the element to the end, then take it.
        self.as_mut_slice()[index..].rotate_left(1);
        self.take_last()
    }
}

// ---------------------------------------------------------------------------
// The listener fd.

/// Poll bits (`include/uapi/linux/eventpoll.h`; bindgen cannot see them
/// through their `__poll_t` casts).
mod epoll {
    pub(super) const IN: u32 = 0x0001;
    pub(super) const OUT: u32 = 0x0004;
    pub(super) const ERR: u32 = 0x0008;
    pub(super) const HUP: u32 = 0x0010;
    pub(super) const RDNORM: u32 = 0x0040;
    pub(super) const WRNORM: u32 = 0x0100;
}

const NOTIF_SIZE: usize = size_of::<Notif>();
const RESP_SIZE: usize = size_of::<NotifResp>();
const ADDFD_SIZE: usize = size_of::<NotifAddfd>();

const IOC_MAGIC: u32 = b'!' as u32;
const IOCTL_RECV: u32 = kernel::ioctl::_IOWR::<Notif>(IOC_MAGIC, 0);
const IOCTL_SEND: u32 = kernel::ioctl::_IOWR::<NotifResp>(IOC_MAGIC, 1);
const IOCTL_ID_VALID: u32 = kernel::ioctl::_IOW::<u64>(IOC_MAGIC, 2);
/// The number `SECCOMP_IOCTL_NOTIF_ID_VALID` had first, kept for old binaries.
const IOCTL_ID_VALID_WRONG_DIR: u32 = kernel::ioctl::_IOR::<u64>(IOC_MAGIC, 2);
const IOCTL_ADDFD: u32 = kernel::ioctl::_IOW::<NotifAddfd>(IOC_MAGIC, 3);
const IOCTL_SET_FLAGS: u32 = kernel::ioctl::_IOW::<u64>(IOC_MAGIC, 4);

/// Extensible-argument ioctls are matched without their size and direction.
const fn ea_ioctl(cmd: u32) -> u32 {
    const IOC_INOUT: u32 = (bindings::_IOC_READ | bindings::_IOC_WRITE) << bindings::_IOC_DIRSHIFT;
    const IOCSIZE_MASK: u32 = ((1 << bindings::_IOC_SIZEBITS) - 1) << bindings::_IOC_SIZESHIFT;
    cmd & !(IOC_INOUT | IOCSIZE_MASK)
}

/// Creates the listener file for `filter`, not yet installed in the fd
/// table; [`attach_file`] points it at the filter once attached.
pub(crate) fn new_file() -> Result<*mut bindings::file> {
    // SAFETY: FFI call without preconditions.
    let file = unsafe { seccomp_rs_notify_file() };
    kernel::error::from_err_ptr(file.cast::<bindings::file>())
}

/// Makes `file` the listener of `filter`, giving it a reference.
///
/// # Safety
///
/// `file` comes from [`new_file`] and is not visible to user space yet.
pub(crate) unsafe fn attach_file(file: *mut bindings::file, filter: Arc<Filter>) {
    // SAFETY: `file` is valid and private to us (function safety
    // requirement).
    unsafe { (*file).private_data = Arc::into_raw(filter).cast_mut().cast() };
}

/// The filter behind a listener file, if it was attached.
///
/// # Safety
///
/// `file` is a listener file, alive for the borrow.
unsafe fn file_filter<'a>(file: *mut bindings::file) -> Option<&'a Filter> {
    // SAFETY: A listener's private data is NULL or an `Arc<Filter>` the file
    // owns until release (function safety requirement).
    unsafe { (*file).private_data.cast::<Filter>().cast_const().as_ref() }
}

/// `release` of the listener file: detach and drop the file's reference.
///
/// # Safety
///
/// Called by the VFS on the last close of a listener file.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_notify_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `file` is a listener file being released.
    let ptr = unsafe { (*file).private_data.cast::<Filter>().cast_const() };
    if ptr.is_null() {
        return 0;
    }
    // SAFETY: The private data is the file's own `Arc<Filter>` reference.
    let filter = unsafe { Arc::from_raw(ptr) };
    if let Some(listener) = filter.listener() {
        listener.detach();
    }
    0
}

/// `poll` of the listener file: readable while a notification waits to be
/// received, writable while one waits for a reply, hung up once no task
/// uses the filter.
///
/// # Safety
///
/// Called by the VFS on a listener file.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_notify_poll(
    file: *mut bindings::file,
    table: *mut bindings::poll_table,
) -> bindings::__poll_t {
    // SAFETY: `file` is a listener file (function safety requirement).
    let Some(filter) = (unsafe { file_filter(file) }) else {
        return epoll::ERR;
    };
    let Some(listener) = filter.listener() else {
        return epoll::ERR;
    };
    // SAFETY: `file` is the listener file being polled (function safety
    // requirement), `table` the VFS's poll table for it.
    unsafe { listener.waiters.poll_wait(file, table) };
    let mut mask = 0;
    {
        let Ok(state) = listener.state.lock_interruptible() else {
            return epoll::ERR;
        };
        for p in state.pending.iter() {
            match p.state {
                State::Init => mask |= epoll::IN | epoll::RDNORM,
                State::Sent => mask |= epoll::OUT | epoll::WRNORM,
                State::Replied => {}
            }
        }
    }
    if !filter.has_users() {
        mask |= epoll::HUP;
    }
    mask
}

/// `unlocked_ioctl` (and `compat_ioctl`) of the listener file.
///
/// # Safety
///
/// Called by the VFS on a listener file.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_notify_ioctl(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: `file` is a listener file (function safety requirement).
    let Some(filter) = (unsafe { file_filter(file) }) else {
        return EINVAL.to_errno() as c_long;
    };
    let Some(listener) = filter.listener() else {
        return EINVAL.to_errno() as c_long;
    };
    let result = match cmd {
        IOCTL_RECV => recv(filter, listener, arg),
        IOCTL_SEND => send(listener, arg),
        IOCTL_ID_VALID | IOCTL_ID_VALID_WRONG_DIR => id_valid(listener, arg),
        IOCTL_SET_FLAGS => set_flags(listener, arg),
        _ if ea_ioctl(cmd) == ea_ioctl(IOCTL_ADDFD) => {
            add_fd(listener, arg, kernel::ioctl::_IOC_SIZE(cmd))
        }
        _ => Err(EINVAL),
    };
    to_c(result)
}

/// Waits until a notification is queued (or no task uses the filter any
/// more): `recv_wait_event`.
fn wait_for_request(filter: &Filter, listener: &Listener) -> Result {
    if !filter.has_users() || listener.claim_request() {
        return Ok(());
    }
    listener
        .waiters
        .wait_interruptible_until(|| listener.claim_request() || !filter.has_users())
}

/// `SECCOMP_IOCTL_NOTIF_RECV`: the oldest notification not received yet.
fn recv(filter: &Filter, listener: &Listener, arg: c_ulong) -> Result<c_long> {
    let ubuf = arg;
    // The buffer must be zeroed, to keep the structure extensible.
    // SAFETY: `check_zeroed_user` only reads user memory.
    let zeroed = unsafe { bindings::check_zeroed_user(ubuf as *const c_void, NOTIF_SIZE) };
    if zeroed < 0 {
        return Err(Error::from_errno(zeroed));
    }
    if zeroed == 0 {
        return Err(EINVAL);
    }
    wait_for_request(filter, listener)?;

    let mut notif = Notif(bindings::seccomp_notif::default());
    let id = {
        let mut state = listener.state.lock();
        let Some(mut p) = state.pending.iter_mut().find(|p| p.state == State::Init) else {
            // The task was killed between the wake-up and now.
            return Err(ENOENT);
        };
        // SAFETY: The task waits for this notification, so it is alive.
        let pid = unsafe { bindings::task_pid_vnr(p.task) };
        // SAFETY: The task waits for this notification, in the frame that
        // holds the description (`Pending::data`).
        let data = unsafe { p.data.as_ref() };
        notif.0 = bindings::seccomp_notif {
            id: p.id,
            // As C's implicit conversion of the pid_t.
            pid: pid as u32,
            flags: 0,
            data: bindings::seccomp_data {
                nr: data.nr,
                arch: data.arch,
                instruction_pointer: data.instruction_pointer,
                args: data.args,
            },
        };
        p.state = State::Sent;
        listener.wake(epoll::OUT | epoll::WRNORM, false);
        p.id
    };
    if UserSlice::new(ubuf, NOTIF_SIZE)
        .writer()
        .write(&notif)
        .is_err()
    {
        // User space got nothing: put the notification back.
        let mut state = listener.state.lock();
        if let Some(mut p) = state.find(id) {
            if listener.should_sleep_killable(p.state) {
                p.ready().complete(false);
            }
            p.state = State::Init;
            listener.requests.fetch_add(1, Ordering::AcqRel);
            listener.wake(epoll::IN | epoll::RDNORM, false);
        }
        return Err(EFAULT);
    }
    Ok(0)
}

/// `SECCOMP_IOCTL_NOTIF_SEND`: the reply to a received notification.
fn send(listener: &Listener, arg: c_ulong) -> Result<c_long> {
    let resp: NotifResp = UserSlice::new(arg, RESP_SIZE).reader().read()?;
    let bindings::seccomp_notif_resp {
        id,
        val,
        error,
        flags,
    } = resp.0;
    let cont = bindings::SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if flags & !cont != 0 || (flags & cont != 0 && (error != 0 || val != 0)) {
        return Err(EINVAL);
    }
    let mut state = listener.state.lock_interruptible()?;
    let sync = state.sync_wake_up();
    let mut p = state.find(id).ok_or(ENOENT)?;
    // Exactly one reply.
    if p.state != State::Sent {
        return Err(errno(bindings::EINPROGRESS));
    }
    p.state = State::Replied;
    p.error = error;
    p.val = val;
    p.flags = flags;
    p.ready().complete(sync);
    Ok(0)
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: 0 while the notification still waits
/// for its reply.
fn id_valid(listener: &Listener, arg: c_ulong) -> Result<c_long> {
    let id: u64 = UserSlice::new(arg, 8).reader().read()?;
    let mut state = listener.state.lock_interruptible()?;
    match state.find(id) {
        Some(p) if p.state == State::Sent => Ok(0),
        _ => Err(ENOENT),
    }
}

/// `SECCOMP_IOCTL_NOTIF_SET_FLAGS`.
fn set_flags(listener: &Listener, flags: c_ulong) -> Result<c_long> {
    if flags & !(bindings::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP as c_ulong) != 0 {
        return Err(EINVAL);
    }
    listener.state.lock_interruptible()?.flags = flags as u32;
    Ok(0)
}

/// Drops the supervisor's file reference when the ADDFD ioctl returns.
struct FileRef(*mut bindings::file);

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: We own this reference (taken with `fget`).
        unsafe { bindings::fput(self.0) };
    }
}

/// `SECCOMP_IOCTL_NOTIF_ADDFD`: install a supervisor file into the trapped
/// task, optionally replying with the new fd in the same step.
fn add_fd(listener: &Listener, arg: c_ulong, size: usize) -> Result<c_long> {
    if !(ADDFD_SIZE..bindings::PAGE_SIZE).contains(&size) {
        return Err(EINVAL);
    }
    let mut addfd = NotifAddfd(bindings::seccomp_notif_addfd::default());
    // SAFETY: `addfd` has `ADDFD_SIZE` bytes, and any bytes are a valid
    // `NotifAddfd` (`FromBytes`); the helper checks that any bytes beyond
    // them in the user's larger structure are zero.
    let ret = unsafe {
        bindings::copy_struct_from_user(
            (&mut addfd as *mut NotifAddfd).cast(),
            ADDFD_SIZE,
            arg as *const c_void,
            size,
        )
    };
    if ret != 0 {
        return Err(Error::from_errno(ret));
    }
    let bindings::seccomp_notif_addfd {
        id,
        flags: ioctl_flags,
        srcfd,
        newfd,
        newfd_flags,
    } = addfd.0;
    if newfd_flags & !bindings::O_CLOEXEC != 0 {
        return Err(EINVAL);
    }
    let (setfd, send) = (
        bindings::SECCOMP_ADDFD_FLAG_SETFD,
        bindings::SECCOMP_ADDFD_FLAG_SEND,
    );
    if ioctl_flags & !(setfd | send) != 0 {
        return Err(EINVAL);
    }
    if newfd != 0 && ioctl_flags & setfd == 0 {
        return Err(EINVAL);
    }
    // SAFETY: `fget` takes a reference to the caller's file, or fails.
    let file = unsafe { bindings::fget(srcfd) };
    if file.is_null() {
        return Err(EBADF);
    }
    let file = FileRef(file);
    let request = Arc::new(
        AddFd {
            file: file.0,
            fd: newfd as c_int,
            o_flags: newfd_flags,
            ioctl_flags,
            ret: AtomicI32::new(0),
            done: Completion::new()?,
        },
        GFP_KERNEL,
    )?;
    {
        let mut state = listener.state.lock_interruptible()?;
        let mut p = state.find(id).ok_or(ENOENT)?;
        // Not before the supervisor received it, nor after the reply.
        if p.state != State::Sent {
            return Err(errno(bindings::EINPROGRESS));
        }
        // An atomic add-and-reply must be the last request.
        if ioctl_flags & send != 0 && p.addfd.as_ref().is_some_and(|a| !a.is_empty()) {
            return Err(EBUSY);
        }
        // The only fallible step comes before any change of state: if it
        // fails, the notification is still waiting for its reply.
        p.addfd
            .get_or_insert_with(KVec::new)
            .push(request.clone(), GFP_KERNEL)?;
        if ioctl_flags & send != 0 {
            p.state = State::Replied;
        }
        p.ready().complete(false);
    }
    if request.done.wait(false).is_ok() {
        return Ok(request.ret.load(Ordering::Acquire) as c_long);
    }
    // Interrupted: the task may have handled the request meanwhile.
    let mut state = listener.state.lock();
    let Some(mut p) = state.find(id) else {
        // The task went away and failed (or handled) the request.
        return Ok(request.ret.load(Ordering::Acquire) as c_long);
    };
    if !p.withdraw_addfd(&request) {
        return Ok(request.ret.load(Ordering::Acquire) as c_long);
    }
    if ioctl_flags & send != 0 {
        p.state = State::Sent;
    }
    Err(ERESTARTSYS)
}
