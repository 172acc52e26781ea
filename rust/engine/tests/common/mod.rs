// SPDX-License-Identifier: GPL-2.0

//! Host-only helpers shared by the tests, the benchmarks and the fuzz
//! harness: filter shapes as real-world tools emit them and a seeded
//! generator of mostly-valid random seccomp programs.

#![allow(dead_code)]

pub mod fuzz_harness;
pub mod gen;
pub mod shapes;
