// SPDX-License-Identifier: GPL-2.0

//! What the stress programs in `src/bin/` share.

pub mod abi;
pub mod fuzzkit;
pub mod ia32;
pub mod leak;
