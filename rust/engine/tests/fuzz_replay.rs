// SPDX-License-Identifier: GPL-2.0

//! The fuzz harness as a plain, seeded loop (no nightly needed): random
//! and mutated inputs, plus every file in `fuzz/corpus/` and
//! `fuzz/artifacts/` when present. `SECCOMP_FUZZ_ITERATIONS` sets the
//! number of random inputs (default 20000).

mod common;

use common::fuzz_harness::check_consistency;
use common::gen::{random_program, GenOptions, Rng};

#[test]
fn fuzz_harness_random_inputs() {
    let iterations = std::env::var("SECCOMP_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000u64);
    let mut rng = Rng(0x5ecc_0a11);
    for _ in 0..iterations {
        let mut bytes: Vec<u8> = (0..64).map(|_| rng.next_u32() as u8).collect();
        if rng.percent(50) {
            // A small plausible nr and arch so the cache paths are used.
            bytes[..4].copy_from_slice(&(rng.below(500) as u32).to_le_bytes());
        }
        let prog = random_program(&mut rng, &GenOptions::default());
        for insn in &prog {
            bytes.extend_from_slice(&insn.to_bytes());
        }
        // Random byte flips.
        for _ in 0..rng.below(3) {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] ^= 1 << rng.below(8);
        }
        check_consistency(&bytes);
    }
}

#[test]
fn fuzz_harness_saved_inputs() {
    for dir in [
        "fuzz/corpus/engine_consistency",
        "fuzz/artifacts/engine_consistency",
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                check_consistency(&bytes);
            }
        }
    }
}
