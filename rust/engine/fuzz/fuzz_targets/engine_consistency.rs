// SPDX-License-Identifier: GPL-2.0

//! libFuzzer target: checker, decoder, interpreter, chain evaluation and
//! cache analysis (constants and resume points) must never panic and must
//! agree with each other.

#![no_main]

#[path = "../../tests/common/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| fuzz_harness::check_consistency(bytes));
