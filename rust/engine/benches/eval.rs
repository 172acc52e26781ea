// SPDX-License-Identifier: GPL-2.0

//! Evaluation and attach-time cost of typical filter shapes (host only).
//!
//! Run with `cargo bench --bench eval -- --warm-up-time 1 --measurement-time 2`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::shapes::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use seccomp_engine::cache::{
    Constant, ConstantTable, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, I386_NR_SYSCALLS,
    X86_64_NR_SYSCALLS,
};
use seccomp_engine::{check, DecodedProgram, Insn, ResumeEntry, ResumeTable, SockFilter};

/// The shapes measured, with the system call number used for evaluation
/// (the last allowed one: the worst case of a linear list).
fn shapes() -> Vec<(String, Vec<SockFilter>, i32)> {
    let mut out = vec![("ret_allow".to_string(), allow_all(), 0)];
    for n in [10, 100, 300] {
        let list = sample_syscalls(n);
        let last = *list.last().unwrap() as i32;
        out.push((format!("linear_{n}"), linear_allowlist(&list), last));
        out.push((format!("tree_{n}"), tree_allowlist(&list), last));
    }
    let list = sample_syscalls(100);
    out.push((
        "args_100_plus_2_checked".to_string(),
        argument_filter(&list, &[(257, 2, 3), (9, 2, 4)]),
        257,
    ));
    out.push(("container_clone".to_string(), container_profile(), 56));
    out.push(("worst_4096".to_string(), worst_case_4096(), 0));
    out
}

fn evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    for (name, prog, nr) in shapes() {
        let decoded = decoded(&prog);
        let data = bench_input(nr);
        group.bench_with_input(BenchmarkId::from_parameter(&name), &data, |b, data| {
            b.iter(|| decoded.run(black_box(data)))
        });
    }
    group.finish();
    // The same through the filter's resume table (`run_with`).
    let mut group = c.benchmark_group("resume");
    for (name, prog, nr) in shapes() {
        let decoded = decoded(&prog);
        let table = resume_table(&decoded);
        let data = bench_input(nr);
        group.bench_with_input(BenchmarkId::from_parameter(&name), &data, |b, data| {
            b.iter(|| decoded.run_with(&table, black_box(data)))
        });
    }
    group.finish();
}

fn resume_table(decoded: &DecodedProgram<Vec<Insn>>) -> ResumeTable<Vec<ResumeEntry>> {
    ResumeTable::build(
        AUDIT_ARCH_X86_64,
        vec![ResumeEntry::START; X86_64_NR_SYSCALLS],
        decoded,
    )
}

fn attach(c: &mut Criterion) {
    let mut group = c.benchmark_group("attach");
    for (name, prog, _) in shapes() {
        group.bench_function(BenchmarkId::from_parameter(&name), |b| {
            b.iter(|| {
                let checked = check(black_box(&prog)).unwrap();
                let len = checked.converted_len();
                let decoded = checked
                    .decode_into(vec![Insn::default(); prog.len()])
                    .unwrap();
                // What the kernel does for the native ABI: one analysis
                // per number gives both tables.
                let resume = resume_table(&decoded);
                let native = ConstantTable::build_from_resume(
                    AUDIT_ARCH_X86_64,
                    vec![Constant::UNKNOWN; X86_64_NR_SYSCALLS],
                    &resume,
                    None::<&ConstantTable<Vec<Constant>>>,
                );
                let compat = ConstantTable::build(
                    AUDIT_ARCH_I386,
                    vec![Constant::UNKNOWN; I386_NR_SYSCALLS],
                    &decoded,
                    None::<&ConstantTable<Vec<Constant>>>,
                );
                black_box((len, resume, native, compat))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, evaluation, attach);
criterion_main!(benches);
