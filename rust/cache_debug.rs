// SPDX-License-Identifier: GPL-2.0

//! `/proc/<pid>/seccomp_cache` (`CONFIG_SECCOMP_CACHE_DEBUG`): for every
//! system call number of the native ABI and (with `CONFIG_COMPAT`) of
//! ia32, whether the task's chain is known to allow
//! it without running the filters.  Also the number of filters currently
//! allocated, which syscalls.c shows in debugfs for leak checks.

use core::sync::atomic::Ordering;

use kernel::{bindings, error::code::*, ffi::c_int, sync::Arc};

use crate::filter::{self, Filter};
use crate::task::Siglock;

/// Shows `task`'s cache in `m`, in the C implementation's format
/// (`"<arch> <nr> ALLOW|FILTER"` per line).
///
/// # Safety
///
/// Called by procfs with a valid seq file and a referenced task.
#[no_mangle]
pub unsafe extern "C" fn proc_pid_seccomp_cache(
    m: *mut bindings::seq_file,
    _ns: *mut bindings::pid_namespace,
    _pid: *mut bindings::pid,
    task: *mut bindings::task_struct,
) -> c_int {
    // Sandboxed tasks must not learn what their filters consist of.
    // SAFETY: `m` is valid (function safety requirement); `init_user_ns`
    // is a static that lives forever.
    let admin = unsafe {
        bindings::file_ns_capable(
            (*m).file,
            core::ptr::addr_of_mut!(bindings::init_user_ns),
            bindings::CAP_SYS_ADMIN as c_int,
        )
    };
    if !admin {
        return EACCES.to_errno();
    }
    // SAFETY: `task` is valid (function safety requirement).
    let Some(mut siglock) = (unsafe { Siglock::try_of_task(task) }) else {
        return ESRCH.to_errno();
    };
    // A reference keeps the chain alive once the lock is dropped.
    let chain: Option<Arc<Filter>> = siglock.task().filter_chain().map(Arc::from);
    drop(siglock);
    let Some(chain) = chain else {
        return 0;
    };
    for (index, abi) in filter::ABIS.iter().enumerate() {
        for (nr, allow) in chain.cached_allows(index).enumerate() {
            let status = if allow { c"ALLOW" } else { c"FILTER" };
            // SAFETY: `m` is valid; the format matches the arguments: two
            // NUL-terminated strings and an int.
            unsafe {
                bindings::seq_printf(
                    m,
                    c"%s %d %s\n".as_ptr().cast(),
                    abi.name.as_char_ptr(),
                    nr as c_int,
                    status.as_ptr(),
                )
            };
        }
    }
    0
}

/// Filters currently allocated (`/sys/kernel/debug/seccomp_rs/live_filters`):
/// back at its baseline once every task and file holding filters is gone.
#[no_mangle]
pub extern "C" fn seccomp_rs_live_filters() -> u64 {
    filter::LIVE_FILTERS.load(Ordering::Relaxed) as u64
}
