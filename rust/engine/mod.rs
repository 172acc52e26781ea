// SPDX-License-Identifier: GPL-2.0

//! Classic-BPF engine for seccomp mode 2 (`SECCOMP_SET_MODE_FILTER`).
//!
//! This module tree is shared verbatim by the kernel build (where the
//! seccomp crate root declares `pub mod engine;`) and by the host crate
//! `seccomp-engine` used for tests, fuzzing and benchmarks. It only uses
//! `core`: no allocation, no `unsafe`, and no input can make it panic.
//!
//! The life cycle of a filter is expressed with types:
//!
//! 1. The caller copies the user's `struct sock_filter` array into a
//!    `[SockFilter]` buffer ([`insn::SockFilter`]).
//! 2. [`checker::check`] validates it with exactly the rules of the C
//!    implementation and returns a [`checker::CheckedProgram`] borrowing the
//!    raw instructions. That type is the only proof of validity.
//! 3. [`checker::CheckedProgram::decode_into`] translates the program into
//!    caller-provided storage of [`insn::Insn`], producing an
//!    [`interp::DecodedProgram`] whose instructions carry pre-resolved
//!    operands and forward jump distances.
//! 4. [`interp::DecodedProgram::run`] evaluates the filter for one system
//!    call described by [`data::SeccompData`]; [`action::run_chain`] walks a
//!    filter chain with the seccomp precedence rules and
//!    [`action::Action::from_ret`] turns the result into an action.
//! 5. At attach time, [`cache`] finds the system calls whose verdict depends
//!    only on the system call number and architecture, so the kernel can
//!    skip running the filters for them, and [`resume`] finds, for the
//!    others, where each filter's evaluation can start ([`ResumeTable`],
//!    kept packed as a [`PackedResumeTable`]); the chain's verdicts are
//!    kept with its newest filter as a [`ChainTable`].  Lookups in these
//!    tables, indexed by the user's system call number, are clamped under
//!    speculation ([`nospec`]).
//! 6. The user's program is not kept: [`original`] gives it back from the
//!    decoded one and the few instructions that one does not say.

#![forbid(unsafe_code)]

pub mod action;
pub mod cache;
pub mod checker;
pub mod data;
pub mod insn;
pub mod interp;
pub mod nospec;
pub mod original;
pub mod resume;
pub mod switch;

pub use action::{run_chain, Action, ChainVerdict};
#[cfg(any(CONFIG_SECCOMP_RUST_KUNIT_TEST, not(CONFIG_SECCOMP_RUST)))]
pub use cache::ConstantTable;
pub use cache::{
    analyze, analyze_constant, same_nr_class, Analysis, ChainTable, Constant, NrClassStarts,
};
pub use checker::{check, check_chain_length, ChainTooLong, CheckError, CheckedProgram};
pub use data::{DataWords, SeccompData};
pub use insn::{Insn, SockFilter};
pub use interp::{DecodeError, DecodedProgram};
pub use nospec::{IndexMask, PlainMask};
pub use original::{Divergence, Divergences, Original};
pub use resume::{PackedResumeTable, ResumeEntries, ResumeEntry, ResumeTable};
pub use switch::{Case, NoCases};
