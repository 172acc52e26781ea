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

/// One call of a sysctl's `proc_handler`: its table and the user's buffer,
/// as the sysctl core passed them.
///
/// # Invariants
///
/// The pointers are the sysctl core's arguments of a call still running:
/// `table` is a valid string table, `buffer`, `lenp` and `ppos` describe
/// the caller's kernel buffer and file position.
struct ProcCall {
    table: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
}

impl ProcCall {
    /// Whether the call writes the sysctl.
    fn is_write(&self) -> bool {
        self.write != 0
    }

    /// Runs `proc_dostring()` on `buf` instead of the table's data: copies
    /// `buf` out on a read, the user's text into it on a write.
    fn dostring(&self, buf: &mut [u8; NAMES_LEN]) -> Result {
        // SAFETY: `table` is valid (type invariant); the copy only lives
        // for this call and points at `buf`, which outlives it.
        let mut table = unsafe { self.table.read() };
        table.data = buf.as_mut_ptr().cast();
        table.maxlen = NAMES_LEN as c_int;
        // SAFETY: `table` is a valid string table of `NAMES_LEN` bytes; the
        // other arguments are the sysctl core's (type invariant).
        let ret = unsafe {
            bindings::proc_dostring(&table, self.write, self.buffer, self.lenp, self.ppos)
        };
        match ret {
            0 => Ok(()),
            ret => Err(Error::from_errno(ret)),
        }
    }
}

/// Defines `$name`, a `proc_handler` for the sysctl core, as `$handler`
/// on a [`ProcCall`], its result given back as 0 or a negative errno.
macro_rules! proc_handler {
    ($(#[$doc:meta])* $name:ident => $handler:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// Called by the sysctl core with its usual arguments.
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            table: *const bindings::ctl_table,
            write: c_int,
            buffer: *mut c_void,
            lenp: *mut usize,
            ppos: *mut bindings::loff_t,
        ) -> c_int {
            // INVARIANT: The arguments of this call of the sysctl core
            // (function safety requirement).
            let call = ProcCall {
                table,
                write,
                buffer,
                lenp,
                ppos,
            };
            match $handler(&call) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
    };
}

proc_handler!(
    /// Handler of `kernel.seccomp.actions_avail` (read-only: the file is
    /// 0444, so no call writes).
    seccomp_rs_actions_avail_handler => actions_avail
);

proc_handler!(
    /// Handler of `kernel.seccomp.actions_logged` (read and, with
    /// `CAP_SYS_ADMIN`, write; `allow` cannot be logged).
    seccomp_rs_actions_logged_handler => actions_logged
);

fn actions_avail(call: &ProcCall) -> Result {
    let all = ACTIONS.iter().fold(0, |mask, a| mask | a.log_bit);
    call.dostring(&mut Names::from_mask(all, b' ').buf)
}

fn actions_logged(call: &ProcCall) -> Result {
    let old = ACTIONS_LOGGED.load(Ordering::Relaxed);
    if !call.is_write() {
        return call.dostring(&mut Names::from_mask(old, b' ').buf);
    }
    let mut new = 0;
    let mut write_names = || -> Result {
        // SAFETY: FFI call without preconditions.
        if !unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) } {
            return Err(EPERM);
        }
        let mut buf = [0u8; NAMES_LEN];
        call.dostring(&mut buf)?;
        new = mask_from_names(&buf)?;
        if new & bit::ALLOW != 0 {
            return Err(EINVAL);
        }
        ACTIONS_LOGGED.store(new, Ordering::Relaxed);
        Ok(())
    };
    let result = write_names();
    audit_change(new, old, result.is_ok());
    result
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
