// SPDX-License-Identifier: GPL-2.0

//! Host-only unit tests.
//!
//! The engine's unit tests are the self-test cases of selftest.rs, run on
//! the host by tests/selftest.rs and in the kernel by the KUnit suite
//! `seccomp_rust_engine`. The tests below stay here because they do not fit
//! a kernel stack (16 KiB, about 4 KiB per case) without heap data: they
//! need a 4097-instruction program (32 KiB), the ~630-instruction container
//! profile of tests/common/shapes.rs (7.5 KiB decoded, built in `Vec`s) or
//! full system call tables (3.7 KiB each), or they test those host-only
//! shape builders themselves.

mod common;

use common::shapes::*;
use seccomp_engine::action::*;
use seccomp_engine::cache::*;
use seccomp_engine::checker::*;
use seccomp_engine::*;

fn data() -> SeccompData {
    SeccompData {
        nr: 39,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: 0x1122_3344_5566_7788,
        args: [
            0x0000_0001_0000_0002,
            0xffff_ffff_8000_0000,
            3,
            4,
            0xdead_beef_0000_0005,
            6,
        ],
    }
}

fn refused(prog: &[SockFilter]) -> CheckError {
    let err = check(prog).expect_err("program should be refused");
    assert_eq!(err.errno(), EINVAL);
    err
}

fn decoded(prog: &[SockFilter]) -> DecodedProgram<Vec<Insn>> {
    check(prog)
        .unwrap()
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap()
}

// ---- checker ----------------------------------------------------------

/// Host only: needs a 4097-instruction program (32 KiB). The lower bound
/// is the self-test case `rule_length_at_least_1`.
#[test]
fn rule_length_at_most_4096() {
    let long = vec![ret(0); 4097];
    assert_eq!(refused(&long), CheckError::InvalidLength { len: 4097 });
    assert!(check(&long[..4096]).is_ok());
}

// ---- host-only shapes -------------------------------------------------

/// Host only: tests the `Vec`-based builders of tests/common/shapes.rs,
/// up to the 4096-instruction worst case.
#[test]
fn shapes_are_valid() {
    for prog in [
        allow_all(),
        linear_allowlist(&sample_syscalls(300)),
        tree_allowlist(&sample_syscalls(300)),
        argument_filter(&sample_syscalls(20), &[(257, 2, 3), (9, 2, 4)]),
        worst_case_4096(),
        container_profile(),
    ] {
        check(&prog).unwrap();
    }
    assert_eq!(worst_case_4096().len(), 4096);
    let list = sample_syscalls(100);
    let linear = decoded(&linear_allowlist(&list));
    let tree = decoded(&tree_allowlist(&list));
    for nr in -2..500 {
        let mut d = data();
        d.nr = nr;
        assert_eq!(linear.run(&d), tree.run(&d), "nr {nr}");
        let expected = if nr < 0 {
            SECCOMP_RET_KILL_PROCESS // x32 range check of the prologue
        } else if list.contains(&(nr as u32)) {
            SECCOMP_RET_ALLOW
        } else {
            SECCOMP_RET_ERRNO | EPERM
        };
        assert_eq!(linear.run(&d), expected, "nr {nr}");
    }
}

// ---- resume points on the container profile ---------------------------

fn resume_table(prog: &DecodedProgram<Vec<Insn>>) -> ResumeTable<Vec<ResumeEntry>> {
    ResumeTable::build(
        AUDIT_ARCH_X86_64,
        vec![ResumeEntry::START; X86_64_NR_SYSCALLS],
        prog,
    )
}

/// Every input variant of `base` with number `nr` that a test looks at.
fn inputs_for(nr: i32) -> Vec<SeccompData> {
    let mut out = Vec::new();
    for (i, args) in [
        [0; 6],
        [0x0120_0011, 0x5412, 2, 3, 4, 5],
        [0x7e02_0000, 0x5401, 0, 0, 0, 0],
        [40, 0, 0, 0, 0, 0],
        [8, 0x2_0000, 0, 0, 0, 0],
        [0xffff_ffff, 0xffff_ffff, 1, 1, 1, 1],
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = data();
        d.nr = nr;
        d.args = args;
        d.instruction_pointer = i as u64;
        out.push(d);
    }
    out
}

/// Host only: the ~630-instruction container profile (7.5 KiB decoded) and
/// a full x86-64 resume table (3.7 KiB), for every number.
#[test]
fn resume_container_profile() {
    let raw = container_profile();
    let prog = decoded(&raw);
    let table = resume_table(&prog);
    // clone: resume at its argument load, past the whole jeq chain.
    let clone_load = raw.windows(2).position(|w| w[0] == jeq(56, 0, 5)).unwrap() + 1;
    assert!(clone_load > 600);
    assert_eq!(
        table.entries()[56],
        ResumeEntry::Resume {
            pc: clone_load as u16,
            x: 0
        }
    );
    for nr in CONTAINER_ARG_CHECKED {
        assert!(matches!(table.entries()[nr as usize], ResumeEntry::Resume { pc, .. } if pc > 600));
    }
    assert_eq!(table.entries()[0], ResumeEntry::Return(SECCOMP_RET_ALLOW));
    assert_eq!(
        table.entries()[462],
        ResumeEntry::Return(SECCOMP_RET_ERRNO | EPERM)
    );
    for nr in -3..X86_64_NR_SYSCALLS as i32 + 3 {
        for d in inputs_for(nr) {
            assert_eq!(prog.run_with(&table, &d), prog.run(&d), "{d:?}");
            if let Some(entry) = table.lookup(&d) {
                assert_eq!(prog.run_from(entry, &d), prog.run(&d), "{d:?}");
            }
        }
    }
    // The argument checks do what they say.
    let mut d = data();
    d.nr = 56;
    d.args[0] = 0x0120_0011;
    assert_eq!(prog.run_with(&table, &d), SECCOMP_RET_ALLOW);
    d.args[0] = 0x1000_0000; // CLONE_NEWUSER
    assert_eq!(prog.run_with(&table, &d), SECCOMP_RET_ERRNO | EPERM);
}

/// Host only: the budgets are derived from the container profile's resume
/// point for clone (pc > 600), so it needs that program (7.5 KiB decoded).
#[test]
fn resume_falls_back_when_the_budget_runs_out() {
    let prog = decoded(&container_profile());
    let reach = analyze(&prog, AUDIT_ARCH_X86_64, 56);
    let ResumeEntry::Resume { pc, .. } = reach.entry else {
        panic!("{reach:?}")
    };
    // The walk needs fewer steps than the resume pc when it skips the
    // `ret` of each pair; any budget below that gives up before.
    let needed = usize::from(pc) / 2 + 5;
    for budget in [0, 1, 10, needed - 10] {
        let a = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 56, budget);
        assert_eq!(a.constant, None);
        assert_eq!(a.entry, ResumeEntry::START, "budget {budget}");
    }
    // Enough to reach the resume point but not to finish exploring: the
    // resume point stands, the verdict is not constant.
    let big = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 56, needed + 2);
    assert_eq!(big.entry, reach.entry);
    assert_eq!(big.constant, None);
    // A constant verdict needs the whole exploration.
    let plain = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 0, 3);
    assert_eq!(plain.entry, ResumeEntry::START);
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 0).entry,
        ResumeEntry::Return(SECCOMP_RET_ALLOW)
    );
}

/// Host only: the container profile and ten full tables (463 entries,
/// 3.7 KiB each) at once.
#[test]
fn constant_table_from_resume_matches_build() {
    let first = decoded(&linear_allowlist(&[0, 1, 2]));
    let second = decoded(&container_profile());
    let notif = decoded(&[ret(SECCOMP_RET_USER_NOTIF)]);
    let none = None::<&ConstantTable<Vec<Constant>>>;
    for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] {
        let r1 = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &first);
        let r2 = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &second);
        let rn = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &notif);
        let t1 = ConstantTable::build(arch, vec![Constant::UNKNOWN; 463], &first, none);
        let f1 = ConstantTable::build_from_resume(arch, vec![Constant::UNKNOWN; 463], &r1, none);
        assert_eq!(t1.entries(), f1.entries());
        let t2 = ConstantTable::build(arch, vec![Constant::UNKNOWN; 463], &second, Some(&t1));
        let f2 =
            ConstantTable::build_from_resume(arch, vec![Constant::UNKNOWN; 463], &r2, Some(&f1));
        assert_eq!(t2.entries(), f2.entries());
        let tn = ConstantTable::build(arch, vec![Constant::UNKNOWN; 463], &notif, Some(&t2));
        let fn_ =
            ConstantTable::build_from_resume(arch, vec![Constant::UNKNOWN; 463], &rn, Some(&f2));
        assert_eq!(tn.entries(), fn_.entries());
        // A resume table of another architecture gives nothing constant.
        let other = if arch == AUDIT_ARCH_I386 {
            AUDIT_ARCH_X86_64
        } else {
            AUDIT_ARCH_I386
        };
        let f = ConstantTable::build_from_resume(other, vec![Constant::UNKNOWN; 463], &r1, none);
        assert!(f.entries().iter().all(|c| c.get().is_none()));
    }
}
