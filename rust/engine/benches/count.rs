// SPDX-License-Identifier: GPL-2.0

//! Instruction-count benchmark (host only): evaluates one filter shape
//! many times inside `measure`, for `valgrind --tool=callgrind`, whose
//! counts are repeatable where wall time is not. See `benches/callgrind.sh`.
//!
//! Usage: `count SHAPE ITERATIONS MODE`, MODE `run` (from the start) or
//! `resume` (through the filter's [`ResumeTable`]).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::shapes::*;
use seccomp_engine::cache::{AUDIT_ARCH_X86_64, X86_64_NR_SYSCALLS};
use seccomp_engine::{DecodedProgram, Insn, ResumeEntry, ResumeTable, SeccompData};

#[inline(never)]
fn measure_run(prog: &DecodedProgram<Vec<Insn>>, data: &SeccompData, iterations: u64) -> u32 {
    let mut acc = 0u32;
    for _ in 0..iterations {
        acc = acc.wrapping_add(prog.run(black_box(data)));
    }
    acc
}

#[inline(never)]
fn measure_resume(
    prog: &DecodedProgram<Vec<Insn>>,
    table: &ResumeTable<Vec<ResumeEntry>>,
    data: &SeccompData,
    iterations: u64,
) -> u32 {
    let mut acc = 0u32;
    for _ in 0..iterations {
        acc = acc.wrapping_add(prog.run_with(table, black_box(data)));
    }
    acc
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let shape = args.first().map_or("container_clone", String::as_str);
    let iterations: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let (prog, nr) = match shape {
        "container_clone" => (container_profile(), 56),
        "container_ioctl" => (container_profile(), 16),
        "linear_300" => {
            let list = sample_syscalls(300);
            let last = *list.last().unwrap() as i32;
            (linear_allowlist(&list), last)
        }
        "worst_4096" => (worst_case_4096(), 0),
        other => panic!("unknown shape {other}"),
    };
    let decoded = decoded(&prog);
    let data = bench_input(nr);
    let ret = match args.get(2).map_or("run", String::as_str) {
        "run" => measure_run(&decoded, &data, iterations),
        "resume" => {
            let table = ResumeTable::build(
                AUDIT_ARCH_X86_64,
                vec![ResumeEntry::START; X86_64_NR_SYSCALLS],
                &decoded,
            );
            measure_resume(&decoded, &table, &data, iterations)
        }
        other => panic!("unknown mode {other}"),
    };
    println!("{shape}: {iterations} evaluations, checksum {ret:#x}");
}
