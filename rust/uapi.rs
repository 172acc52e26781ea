// SPDX-License-Identifier: GPL-2.0

//! The uapi structures seccomp copies to and from user space, as typed
//! values: each a `#[repr(transparent)]` wrapper of its binding that is
//! [`FromBytes`] (read from user space) or [`AsBytes`] (written to it), as
//! the Rust binder driver does, so the user-copy routines move whole
//! structures and no code computes field offsets.

use core::mem::size_of;

use kernel::{
    bindings,
    types::{AsBytes, FromBytes},
};

/// `struct seccomp_notif`: a notification, as `NOTIF_RECV` hands it out.
#[repr(transparent)]
pub(crate) struct Notif(pub(crate) bindings::seccomp_notif);

/// `struct seccomp_notif_resp`: the supervisor's reply (`NOTIF_SEND`).
#[repr(transparent)]
pub(crate) struct NotifResp(pub(crate) bindings::seccomp_notif_resp);

/// `struct seccomp_notif_addfd`, its first version (`NOTIF_ADDFD`).
#[repr(transparent)]
pub(crate) struct NotifAddfd(pub(crate) bindings::seccomp_notif_addfd);

/// `struct sock_fprog`: a filter program's length and user address.
#[repr(transparent)]
pub(crate) struct SockFprog(pub(crate) bindings::sock_fprog);

/// `struct compat_sock_fprog` (`include/net/compat.h`, not in the
/// bindings): `struct sock_fprog` as a 32-bit task passes it.
#[cfg(CONFIG_COMPAT)]
#[repr(C)]
pub(crate) struct CompatSockFprog {
    pub(crate) len: u16,
    /// A `compat_uptr_t`.
    pub(crate) filter: u32,
}

/// `struct seccomp_notif_sizes` (`SECCOMP_GET_NOTIF_SIZES`).
#[repr(transparent)]
pub(crate) struct NotifSizes(pub(crate) bindings::seccomp_notif_sizes);

// None of these structures has padding: each is exactly as large as its
// fields, so every byte of a value is initialised.
const _: () = {
    assert!(size_of::<bindings::seccomp_data>() == 4 + 4 + 8 + 6 * 8);
    assert!(size_of::<Notif>() == 8 + 4 + 4 + size_of::<bindings::seccomp_data>());
    assert!(size_of::<NotifResp>() == 8 + 8 + 4 + 4);
    assert!(size_of::<NotifAddfd>() == 8 + 4 * 4);
    assert!(size_of::<NotifSizes>() == 3 * 2);
};
#[cfg(CONFIG_COMPAT)]
const _: () = assert!(size_of::<CompatSockFprog>() == 8);

// SAFETY: Integers only, without padding (checked above): every byte is
// initialised.
unsafe impl AsBytes for Notif {}
// SAFETY: Integers only, without padding (checked above): every byte is
// initialised.
unsafe impl AsBytes for NotifSizes {}
// SAFETY: An integer and a raw pointer: any bit pattern is a valid value
// (the pointer is a user address, only ever passed to the user-copy
// routines).
unsafe impl FromBytes for SockFprog {}
// SAFETY: Integers only: any bit pattern is a valid value.
#[cfg(CONFIG_COMPAT)]
unsafe impl FromBytes for CompatSockFprog {}
// SAFETY: Integers only: any bit pattern is a valid value.
unsafe impl FromBytes for NotifResp {}
// SAFETY: Integers only: any bit pattern is a valid value.
unsafe impl FromBytes for NotifAddfd {}
