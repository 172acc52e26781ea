// SPDX-License-Identifier: GPL-2.0

//! The `kernel.seccomp` sysctls: `actions_avail` (read-only, the actions
//! this kernel knows) and `actions_logged` (which actions are logged).
//!
//! The tables are registered from `syscalls.c`; their handlers are here.

use core::sync::atomic::Ordering;

use kernel::{
    bindings,
    error::code::*,
    ffi::{c_int, c_void},
    prelude::*,
};

use crate::log::{bit, ACTIONS, ACTIONS_LOGGED};

/// Room for every name, separated by spaces, and a NUL: the size C uses
/// (`sizeof(seccomp_actions_avail)`).
const NAMES_LEN: usize = {
    let mut len = 0;
    let mut i = 0;
    while i < ACTIONS.len() {
        len += ACTIONS[i].name.len() + 1;
        i += 1;
    }
    len
};

/// A NUL-terminated list of action names.
struct Names {
    buf: [u8; NAMES_LEN],
    len: usize,
}

impl Names {
    /// A list holding `text` as is.
    fn literal(text: &[u8]) -> Self {
        let mut names = Names {
            buf: [0; NAMES_LEN],
            len: 0,
        };
        names.push(text);
        names
    }

    /// The names of the actions in `mask`, joined with `sep`.
    fn from_mask(mask: u32, sep: u8) -> Self {
        let mut names = Names::literal(b"");
        for action in ACTIONS.iter().filter(|a| mask & a.log_bit != 0) {
            if names.len != 0 {
                names.push(&[sep]);
            }
            names.push(action.name.as_bytes());
        }
        names
    }

    /// Appends `bytes`, always keeping the last byte for the NUL (every
    /// list of names fits by construction of [`NAMES_LEN`]).
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len + 1 >= NAMES_LEN {
                return;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
    }
}

/// Parses space-separated action names into a mask, as C's `strsep()`
/// loop does: parsing stops at the first empty name, and an unknown name
/// is an error.
fn mask_from_names(names: &[u8]) -> Result<u32> {
    let text = names.split(|&b| b == 0).next().unwrap_or(&[]);
    let mut mask = 0;
    for name in text.split(|&b| b == b' ') {
        if name.is_empty() {
            break;
        }
        let action = ACTIONS
            .iter()
            .find(|a| a.name.as_bytes() == name)
            .ok_or(EINVAL)?;
        mask |= action.log_bit;
    }
    Ok(mask)
}

/// Runs `proc_dostring()` for `ro_table` on `buf` instead of its data.
///
/// # Safety
///
/// The arguments are those the sysctl core passed to our handler.
unsafe fn dostring(
    ro_table: *const bindings::ctl_table,
    write: c_int,
    buf: &mut [u8; NAMES_LEN],
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    // SAFETY: `ro_table` is valid (function safety requirement); the copy
    // only lives for this call and points at `buf`, which outlives it.
    let mut table = unsafe { ro_table.read() };
    table.data = buf.as_mut_ptr().cast();
    table.maxlen = NAMES_LEN as c_int;
    // SAFETY: `table` is a valid string table; the other arguments come
    // from the sysctl core (function safety requirement).
    unsafe { bindings::proc_dostring(&table, write, buffer, lenp, ppos) }
}

/// Handler of `kernel.seccomp.actions_avail` (read-only).
///
/// # Safety
///
/// Called by the sysctl core with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_actions_avail_handler(
    ro_table: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    let all = ACTIONS.iter().fold(0, |mask, a| mask | a.log_bit);
    let mut names = Names::from_mask(all, b' ');
    // SAFETY: Our arguments are the sysctl core's (function safety
    // requirement); the file is 0444, so `write` is never set.
    unsafe { dostring(ro_table, write, &mut names.buf, buffer, lenp, ppos) }
}

/// Handler of `kernel.seccomp.actions_logged` (read and, with
/// `CAP_SYS_ADMIN`, write; `allow` cannot be logged).
///
/// # Safety
///
/// Called by the sysctl core with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_actions_logged_handler(
    ro_table: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    if write == 0 {
        let mut names = Names::from_mask(ACTIONS_LOGGED.load(Ordering::Relaxed), b' ');
        // SAFETY: Our arguments are the sysctl core's.
        return unsafe { dostring(ro_table, 0, &mut names.buf, buffer, lenp, ppos) };
    }
    let old = ACTIONS_LOGGED.load(Ordering::Relaxed);
    let mut new = 0;
    let mut write_names = || -> Result {
        // SAFETY: FFI call without preconditions.
        if !unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) } {
            return Err(EPERM);
        }
        let mut buf = [0u8; NAMES_LEN];
        // SAFETY: Our arguments are the sysctl core's.
        let ret = unsafe { dostring(ro_table, 1, &mut buf, buffer, lenp, ppos) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        new = mask_from_names(&buf)?;
        if new & bit::ALLOW != 0 {
            return Err(EINVAL);
        }
        ACTIONS_LOGGED.store(new, Ordering::Relaxed);
        Ok(())
    };
    let result = write_names();
    audit_change(new, old, result.is_ok());
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Records a change of `actions_logged` in the audit log, if auditing is
/// on: the new and old lists ("?" when the write failed, "(none)" if
/// empty).
fn audit_change(new: u32, old: u32, ok: bool) {
    // SAFETY: FFI call without preconditions.
    if !unsafe { bindings::seccomp_audit_enabled() } {
        return;
    }
    let describe = |mask: u32| match mask {
        0 => Names::literal(b"(none)"),
        _ => Names::from_mask(mask, b','),
    };
    let new_names = if ok {
        describe(new)
    } else {
        Names::literal(b"?")
    };
    let old_names = describe(old);
    // SAFETY: Both buffers are NUL-terminated strings that outlive the call.
    unsafe {
        bindings::audit_seccomp_actions_logged(
            new_names.buf.as_ptr().cast(),
            old_names.buf.as_ptr().cast(),
            ok.into(),
        )
    };
}
