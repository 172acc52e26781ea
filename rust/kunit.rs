// SPDX-License-Identifier: GPL-2.0

//! The Rust half of the KUnit suite `seccomp_rust_engine` (kunit.c): hands
//! the engine self-test cases ([`crate::engine_selftest::CASES`]) to C as
//! opaque pointers, names them and runs them.
//!
//! A case pointer given to C is always an element of `CASES`; pointers
//! coming back are only compared with those elements, never dereferenced.

use core::fmt::{self, Write};

use kernel::ffi::{c_char, c_int, c_void};

use crate::engine_selftest::{Case, CASES};

/// The element of [`CASES`] that `test` points to, if any.
fn case_at(test: *const c_void) -> Option<&'static Case> {
    CASES.iter().find(|case| core::ptr::eq(*case, test.cast()))
}

/// Returns the case after `prev` (the first one if `prev` is null), or null
/// after the last one: KUnit's `generate_params` protocol.
#[no_mangle]
pub extern "C" fn seccomp_rs_selftest_next(prev: *const c_void) -> *const c_void {
    let next = if prev.is_null() {
        CASES.first()
    } else {
        CASES
            .iter()
            .position(|case| core::ptr::eq(case, prev.cast()))
            .and_then(|i| CASES.get(i + 1))
    };
    next.map_or(core::ptr::null(), |case| {
        (case as *const Case).cast::<c_void>()
    })
}

/// A `fmt::Write` sink over a C buffer that truncates and always leaves
/// the buffer NUL-terminated.
///
/// # Invariants
///
/// `used < buf.len()` and `buf[used]` is NUL.
struct CBuf<'a> {
    buf: &'a mut [u8],
    used: usize,
}

impl<'a> CBuf<'a> {
    /// # Safety
    ///
    /// `buf` must be valid for writes of `len` bytes for `'a`.
    unsafe fn new(buf: *mut c_char, len: usize) -> Option<Self> {
        if buf.is_null() || len == 0 {
            return None;
        }
        // SAFETY: the caller guarantees `buf` is valid for `len` bytes of
        // writes for `'a`, and it is not null.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        buf[0] = 0;
        // INVARIANT: `buf` is not empty and `buf[0]` is NUL.
        Some(Self { buf, used: 0 })
    }
}

impl Write for CBuf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Keep the last byte for the terminating NUL.
        let room = self.buf.len() - 1 - self.used;
        let n = s.len().min(room);
        self.buf[self.used..self.used + n].copy_from_slice(&s.as_bytes()[..n]);
        self.used += n;
        // INVARIANT: `used` grew by at most `room`, so it is still below
        // `buf.len()`; the byte there is the new NUL.
        self.buf[self.used] = 0;
        Ok(())
    }
}

/// Writes the name of the case `test` into `buf` (at most `len` bytes,
/// NUL-terminated).
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_selftest_name(
    test: *const c_void,
    buf: *mut c_char,
    len: usize,
) {
    // SAFETY: forwarded from this function's contract.
    let Some(mut out) = (unsafe { CBuf::new(buf, len) }) else {
        return;
    };
    let name = case_at(test).map_or("(unknown case)", |case| {
        case.name.to_str().unwrap_or("(non-UTF-8 name)")
    });
    let _ = out.write_str(name);
}

/// Runs the case `test`.  Returns 0 if it passed; otherwise writes why it
/// failed into `why` (at most `len` bytes, NUL-terminated) and returns
/// `-EINVAL`.
///
/// # Safety
///
/// `why` must be valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rs_selftest_run(
    test: *const c_void,
    why: *mut c_char,
    len: usize,
) -> c_int {
    // SAFETY: forwarded from this function's contract.
    let mut out = unsafe { CBuf::new(why, len) };
    let failure = match case_at(test) {
        None => {
            if let Some(out) = out.as_mut() {
                let _ = out.write_str("not a seccomp_rust_engine case");
            }
            return kernel::error::code::EINVAL.to_errno();
        }
        Some(case) => match (case.run)() {
            Ok(()) => return 0,
            Err(failure) => failure,
        },
    };
    if let Some(out) = out.as_mut() {
        let _ = write!(out, "{failure}");
    }
    kernel::error::code::EINVAL.to_errno()
}
