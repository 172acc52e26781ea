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
use seccomp_engine::selftest::data;
use seccomp_engine::*;

fn refused(prog: &[SockFilter]) -> CheckError {
    let err = check(prog).expect_err("program should be refused");
    assert_eq!(err.errno(), EINVAL);
    err
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
        // Given back from the compiled program, keeping only the heads of
        // its switches.
        let plain = decoded(&prog);
        let switched = plain
            .clone()
            .compile(vec![Case::default(); plain.switch_cases()])
            .unwrap();
        let divergences: Vec<_> = switched.divergences(&prog).collect();
        for divergence in &divergences {
            let head = switched.insns()[usize::from(divergence.pc)];
            assert!(matches!(head, Insn::Switch(..)), "{divergence:?}: {head:?}");
        }
        assert!(switched.original(&divergences).eq(prog.iter().copied()));
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
    // `ret` of each pair; any budget below that stops at an earlier point
    // of the same path (the start, with none at all), from which the
    // filter gives the same results.
    let needed = usize::from(pc) / 2 + 5;
    for budget in [0, 1, 10, needed - 10] {
        let a = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 56, budget);
        assert_eq!(a.constant, None);
        let ResumeEntry::Resume { pc: earlier, .. } = a.entry else {
            panic!("budget {budget}: {a:?}")
        };
        assert!(earlier < pc, "budget {budget}: {a:?}");
        if budget == 0 {
            assert_eq!(a.entry, ResumeEntry::START);
        }
        let mut d = data();
        d.nr = 56;
        for arg in [0, 0x0120_0011, 0x1000_0000] {
            d.args[0] = arg;
            assert_eq!(prog.run_from(a.entry, &d), prog.run(&d), "budget {budget}");
        }
    }
    // Enough to reach the resume point but not to finish exploring: the
    // resume point stands, the verdict is not constant.
    let big = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 56, needed + 2);
    assert_eq!(big.entry, reach.entry);
    assert_eq!(big.constant, None);
    // A constant verdict needs the whole exploration.
    let plain = analyze_with_budget(&prog, AUDIT_ARCH_X86_64, 0, 3);
    assert_eq!(plain.constant, None);
    assert!(
        matches!(plain.entry, ResumeEntry::Resume { .. }),
        "{plain:?}"
    );
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 0).entry,
        ResumeEntry::Return(SECCOMP_RET_ALLOW)
    );
}

/// Host only: the container profile and ten full tables (463 entries,
/// 3.7 KiB each) at once.
/// The known verdicts of `table`, entry by entry.
fn verdicts(table: &ConstantTable<Vec<Constant>>) -> Vec<Option<u32>> {
    table.entries().iter().map(|c| c.get()).collect()
}

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
        assert_eq!(verdicts(&t1), verdicts(&f1));
        let t2 = ConstantTable::build(arch, vec![Constant::UNKNOWN; 463], &second, Some(&t1));
        let f2 =
            ConstantTable::build_from_resume(arch, vec![Constant::UNKNOWN; 463], &r2, Some(&f1));
        assert_eq!(verdicts(&t2), verdicts(&f2));
        let tn = ConstantTable::build(arch, vec![Constant::UNKNOWN; 463], &notif, Some(&t2));
        let fn_ =
            ConstantTable::build_from_resume(arch, vec![Constant::UNKNOWN; 463], &rn, Some(&f2));
        assert_eq!(verdicts(&tn), verdicts(&fn_));
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

// ---- packed resume tables ------------------------------------------------

/// The container profile's table packs into a byte per number and a few
/// distinct entries, each number keeping its own entry; the chain table
/// derived from it is the one derived from the full table.
#[test]
fn packed_resume_table_keeps_every_entry() {
    let prog = decoded(&container_profile());
    let table = resume_table(&prog);
    let packed = packed_table(&table);
    assert_eq!(packed.indexes().len(), X86_64_NR_SYSCALLS);
    assert!(
        packed.entries().len() < 64,
        "{} entries",
        packed.entries().len()
    );
    for nr in -1..X86_64_NR_SYSCALLS as i32 + 2 {
        let full = table
            .lookup_nr_masked::<PlainMask>(AUDIT_ARCH_X86_64, nr)
            .unwrap_or(ResumeEntry::START);
        let small = packed.entry_masked::<PlainMask, _, _>(&prog, AUDIT_ARCH_X86_64, nr);
        assert_eq!(full, small, "nr {nr}");
    }
    assert_eq!(
        packed.entry_masked::<PlainMask, _, _>(&prog, AUDIT_ARCH_I386, 0),
        ResumeEntry::START
    );
    let none = None::<&ConstantTable<Vec<Constant>>>;
    let storage = || vec![Constant::UNKNOWN; X86_64_NR_SYSCALLS];
    let from_full = ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, storage(), &table, none);
    let from_packed = ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, storage(), &packed, none);
    assert_eq!(from_full.entries(), from_packed.entries());
    // And on top of an older chain.
    let newer = decoded(&linear_allowlist(&[0, 1, 2, 60, 61, 200]));
    let newer_table = resume_table(&newer);
    let newer_packed = packed_table(&newer_table);
    let older = Some(&from_full);
    let from_full =
        ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, storage(), &newer_table, older);
    let from_packed =
        ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, storage(), &newer_packed, older);
    assert_eq!(from_full.entries(), from_packed.entries());
    assert!(from_packed.entries().iter().any(|c| c.get().is_some()));
    assert!(from_packed.entries().iter().any(|c| c.get().is_none()));
    // Storage of other sizes is refused.
    let wrong = table.pack(
        |_| Ok::<_, ()>(vec![0; 3]),
        |n| Ok(vec![ResumeEntry::START; n]),
    );
    assert!(wrong.unwrap().is_none());
    let wrong = table.pack(
        |n| Ok::<_, ()>(vec![0; n]),
        |n| Ok(vec![ResumeEntry::START; n + 1]),
    );
    assert!(wrong.unwrap().is_none());
}

/// A filter returning another value for every x86-64 number overflows the
/// packed table's 256 entries, but keeps every exact `ALLOW`: the chain's
/// table still allows all that the full one allows, and every number still
/// gets the filter's result.
#[test]
fn packed_resume_table_keeps_allow_past_its_room() {
    let allowed = [300, 400, 462];
    let mut raw = vec![ld_abs(0)];
    for nr in 0..X86_64_NR_SYSCALLS as u32 {
        let value = if allowed.contains(&nr) {
            SECCOMP_RET_ALLOW
        } else {
            SECCOMP_RET_ERRNO | nr
        };
        raw.extend([jeq(nr, 0, 1), ret(value)]);
    }
    raw.push(ret(SECCOMP_RET_KILL_PROCESS));
    let prog = decoded(&raw);
    let table = resume_table(&prog);
    let packed = packed_table(&table);
    assert_eq!(
        packed.entries().len(),
        seccomp_engine::resume::PACKED_MAX_ENTRIES
    );
    let mut from_start = 0;
    for nr in 0..X86_64_NR_SYSCALLS as i32 {
        let full = table.lookup_nr_masked::<PlainMask>(AUDIT_ARCH_X86_64, nr);
        let small = packed.entry_masked::<PlainMask, _, _>(&prog, AUDIT_ARCH_X86_64, nr);
        if Some(small) != full {
            assert_eq!(small, ResumeEntry::START, "nr {nr}");
            from_start += 1;
        }
        let mut d = data();
        d.nr = nr;
        assert_eq!(prog.run_from(small, &d), prog.run(&d), "nr {nr}");
    }
    // The first 254 values, the start for the later ones, but ALLOW.
    assert_eq!(from_start, X86_64_NR_SYSCALLS - 254 - allowed.len());
    let storage = || vec![Constant::UNKNOWN; X86_64_NR_SYSCALLS];
    let none = None::<&ConstantTable<Vec<Constant>>>;
    let from_full = ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, storage(), &table, none);
    let chain = ChainTable::build(
        AUDIT_ARCH_X86_64,
        vec![Constant::UNKNOWN; packed.entries().len()],
        &packed,
        None::<(&ChainTable<Vec<Constant>>, &[u8])>,
        storage,
    );
    for nr in 0..X86_64_NR_SYSCALLS {
        let allow = chain.entry(AUDIT_ARCH_X86_64, nr, packed.indexes()) == Constant::ALLOW;
        assert_eq!(allow, from_full.entries()[nr] == Constant::ALLOW, "nr {nr}");
        assert_eq!(allow, allowed.contains(&(nr as u32)), "nr {nr}");
    }
}

/// `count` numbers, each resuming at its own load of argument 0 (and
/// returning it as an `ALLOW` with data), the others killed.
fn one_check_per_number(count: u32) -> Vec<SockFilter> {
    let mut raw = vec![ld_abs(0)];
    for nr in 0..count {
        raw.extend([jeq(nr, 0, 2), ld_abs(16), ret(SECCOMP_RET_ALLOW | 1)]);
        raw.last_mut().unwrap().code = 0x16; // BPF_RET | BPF_A
    }
    raw.push(ret(SECCOMP_RET_KILL_PROCESS));
    raw
}

/// A table of more numbers than any architecture has, 600 with distinct
/// entries: 254 are kept, then the start, and every number still gets the
/// filter's result.
#[test]
fn packed_resume_table_overflows_to_the_start() {
    const NUMBERS: usize = 600;
    let prog = decoded(&one_check_per_number(NUMBERS as u32));
    let table = ResumeTable::build(AUDIT_ARCH_X86_64, vec![ResumeEntry::START; NUMBERS], &prog);
    let packed = packed_table(&table);
    assert_eq!(
        (packed.indexes().len(), packed.entries().len()),
        (NUMBERS, 255)
    );
    // The first 254 distinct entries, then the start (the last slot stays
    // free for an ALLOW, which this filter has not).
    assert_eq!(packed.entries()[254], ResumeEntry::START);
    assert!(!packed.entries()[..254].contains(&ResumeEntry::START));
    let mut from_start = 0;
    for nr in 0..NUMBERS as i32 {
        let full = table
            .lookup_nr_masked::<PlainMask>(AUDIT_ARCH_X86_64, nr)
            .unwrap_or(ResumeEntry::START);
        let small = packed.entry_masked::<PlainMask, _, _>(&prog, AUDIT_ARCH_X86_64, nr);
        if small != full {
            assert_eq!(small, ResumeEntry::START, "nr {nr}");
            from_start += 1;
        }
        let mut d = data();
        d.nr = nr;
        d.args[0] = 0x1234_5678_9abc;
        assert_eq!(prog.run_from(small, &d), prog.run(&d), "nr {nr}");
    }
    // The first 254 numbers keep their resume points, the later ones
    // start from the start.
    assert_eq!(from_start, NUMBERS - 254);
}

/// A filter whose numbers all resume at one instruction gets a one-entry
/// chain table that still tells where: running from there gives the
/// filter's result.
#[test]
fn uniform_resume_point_in_the_chain_table() {
    // The architecture checked, then argument 0 against eight constants.
    let mut raw = vec![
        ld_abs(4),
        jeq(AUDIT_ARCH_X86_64, 1, 0),
        ret(SECCOMP_RET_KILL_PROCESS),
    ];
    raw.push(ld_abs(16));
    for k in 0..8 {
        raw.push(jeq(k * 3, 8 - k as u8, 0));
    }
    raw.extend([ret(SECCOMP_RET_ERRNO | 1), ret(SECCOMP_RET_ALLOW)]);
    let prog = decoded(&raw);
    let table = ResumeTable::build_compact(
        AUDIT_ARCH_X86_64,
        vec![ResumeEntry::START; 1],
        X86_64_NR_SYSCALLS,
        &prog,
        || Ok::<_, ()>(vec![ResumeEntry::START; X86_64_NR_SYSCALLS]),
    )
    .unwrap();
    let packed = packed_table(&table);
    let chain = ChainTable::build(
        AUDIT_ARCH_X86_64,
        vec![Constant::UNKNOWN; 1],
        &packed,
        None::<(&ChainTable<Vec<Constant>>, &[u8])>,
        || panic!("per-number storage asked for"),
    );
    // One entry for all the numbers.
    assert_eq!(chain.entries().len(), 1);
    assert!(!chain.per_resume_entry());
    let pc = chain.entries()[0].newest_resume().expect("a resume point");
    assert_eq!(pc, 3);
    for arg in 0..30 {
        let mut input = data();
        input.args[0] = arg;
        assert_eq!(prog.run_at(usize::from(pc), 0, 0, &input), prog.run(&input));
    }
}

/// A number allowed outright (the kernel's exceptions to filtering) is
/// allowed by the lookup of the system call entry, while the chain's own
/// verdict, which a newer filter combines with, stays.
#[test]
fn chain_table_allows_outright() {
    let prog = decoded(&linear_allowlist(&[0, 1, 2]));
    let packed = packed_table(&resume_table(&prog));
    let mut chain = ChainTable::build(
        AUDIT_ARCH_X86_64,
        vec![Constant::UNKNOWN; packed.entries().len()],
        &packed,
        None::<(&ChainTable<Vec<Constant>>, &[u8])>,
        || vec![Constant::UNKNOWN; X86_64_NR_SYSCALLS],
    );
    let lookup = |chain: &ChainTable<Vec<Constant>>, nr: i32| {
        chain.entry_masked::<PlainMask>(AUDIT_ARCH_X86_64, nr, packed.indexes())
    };
    let denied = chain.entry(AUDIT_ARCH_X86_64, 335, packed.indexes());
    assert_ne!(denied, Constant::ALLOW);
    assert_eq!(lookup(&chain, 335), denied);
    chain.allow_outright(335);
    assert_eq!(lookup(&chain, 335), Constant::ALLOW);
    assert_eq!(
        chain.entry(AUDIT_ARCH_X86_64, 335, packed.indexes()),
        denied
    );
    assert_eq!(lookup(&chain, 334), denied);
    assert_eq!(lookup(&chain, 1), Constant::ALLOW);
    assert_eq!(
        chain.entry_masked::<PlainMask>(AUDIT_ARCH_I386, 335, packed.indexes()),
        Constant::UNKNOWN
    );
}
