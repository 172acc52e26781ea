// SPDX-License-Identifier: GPL-2.0

//! Host build of the seccomp classic-BPF engine.
//!
//! The kernel compiles `mod.rs` and its siblings as `kernel::…::engine`;
//! this root compiles exactly the same files as a `no_std` library so that
//! they can be tested, fuzzed and benchmarked with Cargo.

#![no_std]

#[path = "mod.rs"]
pub mod engine;

pub use engine::*;

/// The engine self-tests shared with the kernel's KUnit suite.
#[cfg(not(CONFIG_SECCOMP_RUST))]
#[path = "selftest.rs"]
pub mod selftest;
