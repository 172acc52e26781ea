// SPDX-License-Identifier: GPL-2.0

//! Property tests: nothing panics on any input, accepted programs
//! terminate, decoding preserves the checker's guarantees, the cache
//! analysis never claims a constant the interpreter disagrees with, and
//! running from a resume point gives the same result as running from the
//! start.

mod common;

use common::gen::{
    random_data, random_jeq_chains, random_jeq_chains_data, random_profile, random_program,
    GenOptions, Rng, TEST_SYSCALLS,
};
use common::shapes::kernel_tables;
use proptest::prelude::*;
use seccomp_engine::action::Action;
use seccomp_engine::cache::{
    analyze, analyze_constant, same_nr_class, Constant, ConstantTable, NrClassStarts,
    AUDIT_ARCH_I386, AUDIT_ARCH_X86_64,
};
use seccomp_engine::{
    check, Case, DecodedProgram, Divergence, Insn, PlainMask, ResumeEntry, ResumeTable,
    SeccompData, SockFilter,
};

fn arb_insn() -> impl Strategy<Value = SockFilter> {
    (any::<u16>(), any::<u8>(), any::<u8>(), any::<u32>())
        .prop_map(|(c, jt, jf, k)| SockFilter::new(c, jt, jf, k))
}

fn arb_data() -> impl Strategy<Value = SeccompData> {
    (any::<i32>(), any::<u32>(), any::<u64>(), any::<[u64; 6]>()).prop_map(
        |(nr, arch, instruction_pointer, args)| SeccompData {
            nr,
            arch,
            instruction_pointer,
            args,
        },
    )
}

/// Checks everything on one program and input: no panic anywhere, and
/// consistency between the checker, the interpreter and the cache.
fn exercise(prog: &[SockFilter], data: &SeccompData) {
    let Ok(checked) = check(prog) else { return };
    assert!(checked.converted_len() >= prog.len() + 3);
    let decoded = checked
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap();
    let ret = decoded.run(data);
    let _ = Action::from_ret(ret);
    let switched = compiled(&decoded);
    assert_eq!(switched.run(data), ret, "switches changed the result");
    let divergences: Vec<Divergence> = switched.divergences(prog).collect();
    assert!(
        switched.original(&divergences).eq(prog.iter().copied()),
        "the program given back is not the user's ({divergences:?})"
    );
    for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, data.arch] {
        let mut same_call = *data;
        same_call.arch = arch;
        let expected = decoded.run(&same_call);
        if let Some(constant) = analyze_constant(&decoded, arch, data.nr) {
            assert_eq!(
                expected, constant,
                "cache claims {constant:#x} for {same_call:?}"
            );
        }
        assert_resumes(&decoded, &same_call, expected);
    }
}

/// `decoded` with its chains of `jeq`s compiled into switches.
fn compiled(decoded: &DecodedProgram<Vec<Insn>>) -> DecodedProgram<Vec<Insn>, Vec<Case>> {
    let cases = vec![Case::default(); decoded.switch_cases()];
    decoded.clone().compile(cases).unwrap()
}

/// Running from the resume entry of `data.arch` and `data.nr` gives
/// `expected`, the result of running from the start.
fn assert_resumes(decoded: &DecodedProgram<Vec<Insn>>, data: &SeccompData, expected: u32) {
    let analysis = analyze(decoded, data.arch, data.nr);
    match analysis.entry {
        ResumeEntry::Return(value) => assert_eq!(analysis.constant, Some(value)),
        ResumeEntry::Resume { .. } => assert_eq!(analysis.constant, None),
    }
    assert_eq!(
        decoded.run_from(analysis.entry, data),
        expected,
        "resume entry {:?} for {data:?}",
        analysis.entry
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Arbitrary bytes: mostly refused, never a panic.
    #[test]
    fn arbitrary_programs_never_panic(prog in prop::collection::vec(arb_insn(), 0..64), data in arb_data()) {
        exercise(&prog, &data);
    }

    /// Arbitrary decoded instructions (not from the checker) still
    /// evaluate in at most `len` steps without panicking: jumps are
    /// forward by construction of the type.
    #[test]
    fn interpreter_is_total_on_any_insns(
        raw in prop::collection::vec((0u8..42, any::<u32>(), 1u16..=u16::MAX, 1u16..=u16::MAX), 0..64),
        data in arb_data(),
    ) {
        use core::num::{NonZeroU16, NonZeroU32};
        use seccomp_engine::insn::Skip;
        let nz = |v: u16| NonZeroU16::new(v).unwrap();
        let sk = |v: u16| Skip::new(v as u8);
        let insns: Vec<Insn> = raw.iter().map(|&(op, k, jt, jf)| match op {
            0 => Insn::LdData(k as u8), 1 => Insn::LdImm(k), 2 => Insn::LdxImm(k),
            3 => Insn::LdMem(k as u8), 4 => Insn::LdxMem(k as u8), 5 => Insn::St(k as u8),
            6 => Insn::Stx(k as u8), 7 => Insn::Tax, 8 => Insn::Txa, 9 => Insn::AddK(k),
            10 => Insn::SubK(k), 11 => Insn::MulK(k), 12 => Insn::DivK(NonZeroU32::new(k | 1).unwrap()),
            13 => Insn::AndK(k), 14 => Insn::OrK(k), 15 => Insn::XorK(k), 16 => Insn::LshK(k as u8),
            17 => Insn::RshK(k as u8), 18 => Insn::AddX, 19 => Insn::SubX, 20 => Insn::MulX,
            21 => Insn::DivX, 22 => Insn::AndX, 23 => Insn::OrX, 24 => Insn::XorX, 25 => Insn::LshX,
            26 => Insn::RshX, 27 => Insn::Neg, 28 => Insn::Ja(nz(jt)), 29 => Insn::JeqK(k, sk(jt), sk(jf)),
            30 => Insn::JgtK(k, sk(jt), sk(jf)), 31 => Insn::JgeK(k, sk(jt), sk(jf)),
            32 => Insn::JsetK(k, sk(jt), sk(jf)), 33 => Insn::JeqX(sk(jt), sk(jf)),
            34 => Insn::JgtX(sk(jt), sk(jf)), 35 => Insn::JsetX(sk(jt), sk(jf)), 36 => Insn::RetK(k),
            37 => Insn::LdJeqK(k as u8, k, sk(jt), sk(jf)), 38 => Insn::Switch(jt, jf, nz(jt)),
            39 => Insn::LdSwitch(k as u8, jt, jf, nz(jf)), 40 => Insn::LdAndK(k as u8, k),
            _ => Insn::RetA,
        }).collect();
        let _ = run_any(&insns, &data);
    }

    /// Mostly-valid generated programs: accepted ones run, and the cache
    /// analysis agrees with the interpreter on random arguments.
    #[test]
    fn generated_programs_are_consistent(seed in any::<u64>(), inputs in prop::collection::vec(arb_data(), 1..8)) {
        let mut rng = Rng(seed);
        let prog = random_program(&mut rng, &GenOptions::default());
        for mut data in inputs {
            data.nr = if rng.percent(50) { rng.pick(&TEST_SYSCALLS) } else { rng.below(500) as i32 };
            data.arch = rng.pick(&[AUDIT_ARCH_X86_64, AUDIT_ARCH_I386]);
            exercise(&prog, &data);
        }
        let data = random_data(&mut rng, 39, 0);
        exercise(&prog, &data);
    }

    /// Compiling chains of `jeq`s into switches changes no instruction's
    /// meaning: from every instruction, with any registers, the compiled
    /// program gives the result the plain one does.
    #[test]
    fn switches_keep_every_instruction(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let prog = random_jeq_chains(&mut rng);
        let checked = check(&prog).expect("generated chains are valid");
        let plain = checked.decode_into(vec![Insn::default(); prog.len()]).unwrap();
        let switched = compiled(&plain);
        prop_assert!(switched.cases().len() <= 4 * prog.len());
        let pcs: Vec<usize> = if prog.len() <= 64 {
            (0..prog.len()).collect()
        } else {
            (0..64).map(|_| rng.below(prog.len() as u64) as usize).collect()
        };
        for _ in 0..4 {
            let data = random_jeq_chains_data(&mut rng, &prog);
            prop_assert_eq!(switched.run(&data), plain.run(&data), "{:?}", data);
            for &pc in &pcs {
                let a = random_jeq_chains_data(&mut rng, &prog).nr as u32;
                let x = rng.next_u32();
                prop_assert_eq!(
                    switched.run_at(pc, a, x, &data),
                    plain.run_at(pc, a, x, &data),
                    "from {} with a {:#x}, x {:#x}: {:?}", pc, a, x, data
                );
            }
        }
    }

    /// Generated programs with the fields their instructions do not use
    /// set at random (the checker lets them through): the program given
    /// back is still the user's ([`exercise`]), and only those
    /// instructions are kept beside it in addition.
    #[test]
    fn original_comes_back_with_unused_fields_set(seed in any::<u64>(), data in arb_data()) {
        use seccomp_engine::insn::opcode::{class, BPF_JMP};
        let mut rng = Rng(seed);
        let mut prog = random_program(&mut rng, &GenOptions::default());
        let Ok(checked) = check(&prog) else {
            return Ok(());
        };
        let decoded = checked.decode_into(vec![Insn::default(); prog.len()]).unwrap();
        let before = compiled(&decoded).divergences(&prog).count();
        let mut noisy = 0;
        for insn in prog.iter_mut().filter(|insn| class(insn.code) != BPF_JMP) {
            if rng.percent(20) {
                insn.jt = rng.next_u32() as u8 | 1;
                noisy += 1;
            }
        }
        let checked = check(&prog).expect("unused fields are not checked");
        let decoded = checked.decode_into(vec![Insn::default(); prog.len()]).unwrap();
        let switched = compiled(&decoded);
        prop_assert!(switched.divergences(&prog).count() <= before + noisy);
        exercise(&prog, &data);
    }

    /// Raw bytes through `from_bytes`, as the kernel copies them.
    #[test]
    fn byte_programs_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), data in arb_data()) {
        let prog: Vec<SockFilter> = bytes
            .chunks_exact(8)
            .map(|c| SockFilter::from_bytes(c.try_into().unwrap()))
            .collect();
        exercise(&prog, &data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Profile-like programs: for every number of the table (and a few
    /// past it), the resume table gives the interpreter's result, and the
    /// chain constant table derived from it is the analysed one.
    #[test]
    fn profile_resume_tables_agree_with_the_interpreter(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let raw = random_profile(&mut rng);
        let decoded = check(&raw)
            .unwrap_or_else(|e| panic!("{raw:?}: {e:?}"))
            .decode_into(vec![Insn::default(); raw.len()])
            .unwrap();
        let table = ResumeTable::build(AUDIT_ARCH_X86_64, vec![ResumeEntry::START; 500], &decoded);
        for nr in -1..510 {
            for _ in 0..2 {
                let ip = rng.next_u64();
                let data = random_data(&mut rng, nr, ip);
                let expected = decoded.run(&data);
                prop_assert_eq!(decoded.run_with(&table, &data), expected, "{:?}", data);
                if let Some(entry) = table.lookup(&data) {
                    prop_assert_eq!(decoded.run_from(entry, &data), expected);
                }
            }
        }
        let none = None::<&ConstantTable<Vec<Constant>>>;
        let built = ConstantTable::build(AUDIT_ARCH_X86_64, vec![Constant::UNKNOWN; 500], &decoded, none);
        let derived = ConstantTable::build_from_resume(AUDIT_ARCH_X86_64, vec![Constant::UNKNOWN; 500], &table, none);
        let verdicts = |table: &ConstantTable<Vec<Constant>>| -> Vec<Option<u32>> {
            table.entries().iter().map(|c| c.get()).collect()
        };
        prop_assert_eq!(verdicts(&built), verdicts(&derived));
        // Where the derived table says the filter resumes, it gives the
        // filter's result.
        for (nr, constant) in derived.entries().iter().enumerate() {
            let Some(pc) = constant.newest_resume() else { continue };
            prop_assert_eq!(table.get(nr), Some(ResumeEntry::Resume { pc, x: 0 }));
            let ip = rng.next_u64();
            let data = random_data(&mut rng, nr as i32, ip);
            prop_assert_eq!(decoded.run_at(usize::from(pc), 0, 0, &data), decoded.run(&data));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Chains of up to four profile-like filters (a filter repeated, as
    /// stacking copies does, or others): the chain table the kernel keeps,
    /// through packed resume tables, per resume entry or per number, has
    /// the per-number table's entries, with and without its bitmap.
    #[test]
    fn chain_tables_agree_with_constant_tables(seed in any::<u64>()) {
        const NUMBERS: usize = 463;
        let mut rng = Rng(seed);
        let mut programs = Vec::new();
        let len = 1 + rng.below(4) as usize;
        for _ in 0..len {
            if programs.is_empty() || rng.below(2) == 0 {
                let raw = random_profile(&mut rng);
                programs.push(
                    check(&raw).unwrap().decode_into(vec![Insn::default(); raw.len()]).unwrap(),
                );
            } else {
                programs.push(programs[programs.len() - 1].clone());
            }
        }
        let arch = AUDIT_ARCH_X86_64;
        let mut reference: Option<ConstantTable<Vec<Constant>>> = None;
        for decoded in &programs {
            let full = ResumeTable::build(arch, vec![ResumeEntry::START; NUMBERS], decoded);
            reference = Some(ConstantTable::build_from_resume(
                arch,
                vec![Constant::UNKNOWN; NUMBERS],
                &full,
                reference.as_ref(),
            ));
        }
        let kept = kernel_tables(arch, &programs, NUMBERS);
        let (reference, (packed, chain)) = (reference.unwrap(), kept.last().unwrap());
        for nr in 0..NUMBERS + 2 {
            let expected = reference.entries().get(nr).copied().unwrap_or(Constant::UNKNOWN);
            let got = chain.entry_masked::<PlainMask>(arch, nr as i32, packed.indexes());
            prop_assert_eq!(got, expected, "nr {}", nr);
            // And without the bitmap of allowed numbers.
            prop_assert_eq!(chain.entry(arch, nr, packed.indexes()), expected, "nr {}", nr);
        }
        // Copies stacked on themselves keep the table per resume entry.
        if programs.iter().all(|p| p.insns() == programs[0].insns()) {
            prop_assert!(chain.per_resume_entry());
        }
    }
}

/// Runs arbitrary instructions through the public interpreter: the
/// storage's `Deref` shows them while decoding writes elsewhere, which is
/// the most hostile storage a caller could supply.
fn run_any(insns: &[Insn], data: &SeccompData) -> u32 {
    struct Hostile<'a>(Vec<Insn>, &'a [Insn]);
    impl core::ops::Deref for Hostile<'_> {
        type Target = [Insn];
        fn deref(&self) -> &[Insn] {
            self.1
        }
    }
    impl core::ops::DerefMut for Hostile<'_> {
        fn deref_mut(&mut self) -> &mut [Insn] {
            &mut self.0
        }
    }
    if insns.is_empty() {
        return 0;
    }
    let rets = vec![SockFilter::stmt(0x06, 0); insns.len()];
    let checked = check(&rets).unwrap();
    let decoded = checked
        .decode_into(Hostile(vec![Insn::default(); insns.len()], insns))
        .unwrap();
    let ret = decoded.run(data);
    let analysis = analyze(&decoded, AUDIT_ARCH_X86_64, data.nr);
    let _ = decoded.run_from(analysis.entry, data);
    for pc in [0, 1, insns.len() as u16 - 1, insns.len() as u16, u16::MAX] {
        let _ = decoded.run_from(ResumeEntry::Resume { pc, x: data.arch }, data);
    }
    ret
}

/// The profile generator covers every kind of entry the resume property
/// is about: constant, resumed at an argument's load (with X zero and
/// non-zero) and resumed earlier, before a store to scratch memory.
#[test]
fn profile_generator_covers_every_entry_kind() {
    let (mut constant, mut resumed, mut resumed_x, mut earlier) = (0, 0, 0, 0);
    for seed in 0..200 {
        let raw = random_profile(&mut Rng(seed));
        let decoded = check(&raw)
            .unwrap()
            .decode_into(vec![Insn::default(); raw.len()])
            .unwrap();
        let table = ResumeTable::build(AUDIT_ARCH_X86_64, vec![ResumeEntry::START; 500], &decoded);
        for &entry in table.entries() {
            match entry {
                ResumeEntry::Return(_) => constant += 1,
                ResumeEntry::Resume { pc, x } => match decoded.insns()[usize::from(pc)] {
                    Insn::LdData(word) if word >= 2 && x == 0 => resumed += 1,
                    Insn::LdData(word) if word >= 2 => resumed_x += 1,
                    _ => earlier += 1,
                },
            }
        }
    }
    assert!(
        constant > 1000 && resumed > 20 && resumed_x > 5 && earlier > 5,
        "{constant} {resumed} {resumed_x} {earlier}"
    );
}

/// A program that mostly dispatches on the system call number: loads of
/// `nr` (also in branches, and with X loaded in between), every kind of
/// comparison with constants near the numbers, jumps that merge paths,
/// argument checks, and now and then an instruction through which the
/// number escapes (arithmetic, `tax`, a store, `ret a`, a comparison with
/// X). Not always accepted by the checker.
fn random_nr_dispatch(rng: &mut Rng) -> Vec<SockFilter> {
    use seccomp_engine::insn::opcode::*;
    let len = 2 + rng.below(80) as usize;
    let mut prog = Vec::with_capacity(len);
    let constant = |rng: &mut Rng| match rng.below(4) {
        0 => rng.pick(&[0, 1, 2, 4, 0x40, 0x100, 0xffff_ffff]),
        _ => rng.below(520) as u32,
    };
    for pc in 0..len - 1 {
        let room = (len - pc - 2).min(255) as u64;
        let target = |rng: &mut Rng| {
            if room == 0 {
                0
            } else {
                rng.below(room.min(12) + 1) as u8
            }
        };
        let insn = match rng.below(100) {
            0..=29 => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, SeccompData::NR_OFFSET),
            30..=64 => {
                let op = rng.pick(&[BPF_JEQ, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);
                SockFilter::jump(
                    BPF_JMP | op | BPF_K,
                    constant(rng),
                    target(rng),
                    target(rng),
                )
            }
            65..=69 => SockFilter::stmt(BPF_JMP | BPF_JA, u32::from(target(rng))),
            70..=74 => SockFilter::stmt(BPF_LDX | BPF_IMM, constant(rng)),
            75..=79 => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 16 + 4 * rng.below(12) as u32),
            80..=84 => SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, SeccompData::ARCH_OFFSET),
            85..=89 => SockFilter::stmt(
                BPF_RET | BPF_K,
                rng.pick(&[0x7fff_0000, 0x0005_0001, 0x0003_0000, 0]),
            ),
            _ => match rng.below(6) {
                0 => SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, rng.pick(&[1, 3, 0x10, 0xff])),
                1 => SockFilter::stmt(BPF_ALU | BPF_ADD | BPF_K, constant(rng)),
                2 => SockFilter::stmt(BPF_MISC | BPF_TAX, 0),
                3 => SockFilter::stmt(BPF_ST, 3),
                4 => SockFilter::stmt(BPF_RET | BPF_A, 0),
                _ => SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_X, 0, target(rng), target(rng)),
            },
        };
        prog.push(insn);
    }
    prog.push(SockFilter::stmt(BPF_RET | BPF_K, 0x7fff_0000));
    prog
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// `ResumeTable::build` shares one analysis among numbers the filter
    /// cannot tell apart; every entry must still be the number's own
    /// analysis, for dispatch-shaped, profile-like and general programs;
    /// and `ResumeTable::build_compact` gives each number that same entry.
    #[test]
    fn shared_analyses_are_each_numbers_own(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let raw = match seed % 4 {
            0 | 1 => random_nr_dispatch(&mut rng),
            2 => random_profile(&mut rng),
            _ => random_program(&mut rng, &GenOptions { invalid_percent: 0, ..GenOptions::default() }),
        };
        let Ok(checked) = check(&raw) else { return Ok(()) };
        let decoded = checked.decode_into(vec![Insn::default(); raw.len()]).unwrap();
        for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] {
            let table = ResumeTable::build(arch, vec![ResumeEntry::START; 520], &decoded);
            for (nr, &entry) in table.entries().iter().enumerate() {
                prop_assert_eq!(entry, analyze(&decoded, arch, nr as i32).entry, "nr {} of {:?}", nr, raw);
            }
            // The compact build gives every number the same entry.
            let compact = ResumeTable::build_compact(arch, vec![ResumeEntry::START], 520, &decoded, || {
                Ok::<_, ()>(vec![ResumeEntry::START; 520])
            }).unwrap();
            for nr in 0..522 {
                prop_assert_eq!(compact.get(nr), table.get(nr), "nr {} of {:?}", nr, raw);
            }
        }
    }
}

/// The dispatch generator exercises both sides of the number-class check:
/// programs where the number is only compared (with numbers both sharing
/// and not sharing a class) and programs where it escapes.
#[test]
fn nr_dispatch_generator_covers_both_sides() {
    let (mut compared, mut escaped, mut shared, mut apart) = (0, 0, 0, 0);
    for seed in 0..500 {
        let raw = random_nr_dispatch(&mut Rng(seed));
        let Ok(checked) = check(&raw) else { continue };
        let decoded = checked
            .decode_into(vec![Insn::default(); raw.len()])
            .unwrap();
        let Some(classes) = NrClassStarts::of(decoded.insns()) else {
            escaped += 1;
            continue;
        };
        compared += 1;
        for nr in 1..520 {
            // The one-pass class starts and the pairwise check agree.
            assert_eq!(
                classes.continues(nr as usize),
                same_nr_class(decoded.insns(), nr, nr - 1),
                "{nr} in {raw:?}"
            );
            if same_nr_class(decoded.insns(), nr, nr - 1) {
                shared += 1;
            } else {
                apart += 1;
            }
        }
    }
    assert!(
        compared > 100 && escaped > 50 && shared > 10_000 && apart > 1000,
        "{compared} {escaped} {shared} {apart}"
    );
}
