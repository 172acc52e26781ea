// SPDX-License-Identifier: GPL-2.0

//! Unit tests: one per opcode, one per checker rule (with its errno), the
//! conversion length, actions and chain precedence, the cache analysis and
//! the resume points.

mod common;

use common::shapes::*;
use seccomp_engine::action::*;
use seccomp_engine::cache::*;
use seccomp_engine::checker::*;
use seccomp_engine::insn::opcode::*;
use seccomp_engine::*;

fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter::stmt(code, k)
}

fn jmp(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter::jump(code, k, jt, jf)
}

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

/// Checks, decodes and runs `prog` on `input`.
fn run_on(prog: &[SockFilter], input: &SeccompData) -> u32 {
    let checked = check(prog).unwrap_or_else(|e| panic!("{prog:?} refused: {e:?}"));
    let decoded = checked
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap();
    decoded.run(input)
}

fn run(prog: &[SockFilter]) -> u32 {
    run_on(prog, &data())
}

fn ret_a() -> SockFilter {
    stmt(BPF_RET | BPF_A, 0)
}

/// Result of `A = a; X = x; A op= X-or-k; ret A`.
fn alu(op: u16, a: u32, operand: u32, use_x: bool) -> u32 {
    let mut prog = vec![stmt(BPF_LD | BPF_IMM, a), stmt(BPF_LDX | BPF_IMM, operand)];
    if use_x {
        prog.push(stmt(BPF_ALU | op | BPF_X, 0));
    } else {
        prog.push(stmt(BPF_ALU | op | BPF_K, operand));
    }
    prog.push(ret_a());
    run(&prog)
}

fn refused(prog: &[SockFilter]) -> CheckError {
    let err = check(prog).expect_err("program should be refused");
    assert_eq!(err.errno(), EINVAL);
    err
}

// ---- instruction format ----------------------------------------------

#[test]
fn sock_filter_bytes_round_trip() {
    let insn = SockFilter::new(0x1234, 0x56, 0x78, 0x9abc_def0);
    assert_eq!(
        insn.to_bytes(),
        [0x34, 0x12, 0x56, 0x78, 0xf0, 0xde, 0xbc, 0x9a]
    );
    assert_eq!(SockFilter::from_bytes(insn.to_bytes()), insn);
}

#[test]
fn decoded_insn_is_small() {
    assert!(
        core::mem::size_of::<Insn>() <= 12,
        "{}",
        core::mem::size_of::<Insn>()
    );
    assert_eq!(core::mem::size_of::<SeccompData>(), 64);
    assert_eq!(Insn::default(), Insn::RetK(SECCOMP_RET_KILL_THREAD));
}

// ---- one test per opcode ---------------------------------------------

#[test]
fn op_ld_w_abs_reads_every_word() {
    let d = data();
    let expected = [
        39,
        AUDIT_ARCH_X86_64,
        0x5566_7788,
        0x1122_3344,
        2,
        1,
        0x8000_0000,
        0xffff_ffff,
        3,
        0,
        4,
        0,
        5,
        0xdead_beef,
        6,
        0,
    ];
    for (word, want) in expected.iter().enumerate() {
        let prog = [stmt(BPF_LD | BPF_W | BPF_ABS, word as u32 * 4), ret_a()];
        assert_eq!(run_on(&prog, &d), *want, "word {word}");
    }
}

#[test]
fn op_ld_and_ldx_len_read_64() {
    assert_eq!(run(&[stmt(BPF_LD | BPF_W | BPF_LEN, 0), ret_a()]), 64);
    assert_eq!(
        run(&[
            stmt(BPF_LDX | BPF_W | BPF_LEN, 7),
            stmt(BPF_MISC | BPF_TXA, 0),
            ret_a()
        ]),
        64
    );
}

#[test]
fn op_ld_and_ldx_imm() {
    assert_eq!(run(&[stmt(BPF_LD | BPF_IMM, 0xabcd), ret_a()]), 0xabcd);
    assert_eq!(
        run(&[
            stmt(BPF_LDX | BPF_IMM, 7),
            stmt(BPF_MISC | BPF_TXA, 0),
            ret_a()
        ]),
        7
    );
}

#[test]
fn op_st_stx_ld_ldx_mem() {
    let prog = [
        stmt(BPF_LD | BPF_IMM, 11),
        stmt(BPF_ST, 15),
        stmt(BPF_LDX | BPF_IMM, 22),
        stmt(BPF_STX, 0),
        stmt(BPF_LD | BPF_MEM, 0),
        stmt(BPF_LDX | BPF_MEM, 15),
        stmt(BPF_ALU | BPF_SUB | BPF_X, 0),
        ret_a(),
    ];
    assert_eq!(run(&prog), 11);
}

#[test]
fn op_tax_txa() {
    assert_eq!(
        run(&[
            stmt(BPF_LD | BPF_IMM, 5),
            stmt(BPF_MISC | BPF_TAX, 0),
            stmt(BPF_LD | BPF_IMM, 0),
            stmt(BPF_MISC | BPF_TXA, 0),
            ret_a()
        ]),
        5
    );
}

#[test]
fn op_registers_start_at_zero() {
    assert_eq!(run(&[ret_a()]), 0);
    assert_eq!(run(&[stmt(BPF_MISC | BPF_TXA, 0), ret_a()]), 0);
}

#[test]
fn op_add() {
    assert_eq!(alu(BPF_ADD, 0xffff_fffe, 3, false), 1);
    assert_eq!(alu(BPF_ADD, 0xffff_fffe, 3, true), 1);
}

#[test]
fn op_sub() {
    assert_eq!(alu(BPF_SUB, 1, 3, false), 0xffff_fffe);
    assert_eq!(alu(BPF_SUB, 1, 3, true), 0xffff_fffe);
}

#[test]
fn op_mul() {
    assert_eq!(alu(BPF_MUL, 0x8000_0001, 2, false), 2);
    assert_eq!(alu(BPF_MUL, 0x8000_0001, 2, true), 2);
}

#[test]
fn op_div() {
    assert_eq!(alu(BPF_DIV, 0xffff_ffff, 16, false), 0x0fff_ffff);
    assert_eq!(alu(BPF_DIV, 0xffff_ffff, 16, true), 0x0fff_ffff);
}

#[test]
fn op_div_x_by_zero_returns_zero() {
    let prog = [
        stmt(BPF_LD | BPF_IMM, 9),
        stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ];
    assert_eq!(run(&prog), 0);
}

#[test]
fn op_and_or_xor() {
    assert_eq!(alu(BPF_AND, 0b1100, 0b1010, false), 0b1000);
    assert_eq!(alu(BPF_AND, 0b1100, 0b1010, true), 0b1000);
    assert_eq!(alu(BPF_OR, 0b1100, 0b1010, false), 0b1110);
    assert_eq!(alu(BPF_OR, 0b1100, 0b1010, true), 0b1110);
    assert_eq!(alu(BPF_XOR, 0b1100, 0b1010, false), 0b0110);
    assert_eq!(alu(BPF_XOR, 0b1100, 0b1010, true), 0b0110);
}

#[test]
fn op_lsh_rsh() {
    assert_eq!(alu(BPF_LSH, 0x8000_0001, 31, false), 0x8000_0000);
    assert_eq!(alu(BPF_RSH, 0x8000_0000, 31, false), 1);
    assert_eq!(alu(BPF_LSH, 3, 1, true), 6);
    assert_eq!(alu(BPF_RSH, 6, 1, true), 3);
}

#[test]
fn op_shift_by_x_is_masked_to_five_bits() {
    assert_eq!(alu(BPF_LSH, 1, 33, true), 2);
    assert_eq!(alu(BPF_RSH, 4, 32, true), 4);
    assert_eq!(alu(BPF_LSH, 1, 0xffff_ffff, true), 0x8000_0000);
}

#[test]
fn op_neg() {
    assert_eq!(
        run(&[
            stmt(BPF_LD | BPF_IMM, 1),
            stmt(BPF_ALU | BPF_NEG, 0),
            ret_a()
        ]),
        0xffff_ffff
    );
}

#[test]
fn op_ja() {
    let prog = [
        stmt(BPF_JMP | BPF_JA, 1),
        stmt(BPF_RET | BPF_K, 1),
        stmt(BPF_RET | BPF_K, 2),
    ];
    assert_eq!(run(&prog), 2);
}

#[test]
fn op_ja_with_large_offset() {
    let mut prog = vec![stmt(BPF_JMP | BPF_JA, 300)];
    prog.extend(std::iter::repeat_n(stmt(BPF_RET | BPF_K, 1), 300));
    prog.push(stmt(BPF_RET | BPF_K, 2));
    assert_eq!(run(&prog), 2);
}

/// Runs `A = a; X = x; j<op> k/X, 1, 0; ret 0; ret 1`.
fn cond(op: u16, a: u32, operand: u32, use_x: bool) -> bool {
    let src = if use_x { BPF_X } else { BPF_K };
    let prog = [
        stmt(BPF_LD | BPF_IMM, a),
        stmt(BPF_LDX | BPF_IMM, operand),
        jmp(BPF_JMP | op | src, operand, 1, 0),
        stmt(BPF_RET | BPF_K, 0),
        stmt(BPF_RET | BPF_K, 1),
    ];
    run(&prog) == 1
}

#[test]
fn op_jeq() {
    for use_x in [false, true] {
        assert!(cond(BPF_JEQ, 5, 5, use_x));
        assert!(!cond(BPF_JEQ, 5, 6, use_x));
    }
}

#[test]
fn op_jgt_is_unsigned() {
    for use_x in [false, true] {
        assert!(cond(BPF_JGT, 0x8000_0000, 1, use_x));
        assert!(!cond(BPF_JGT, 1, 1, use_x));
    }
}

#[test]
fn op_jge_is_unsigned() {
    for use_x in [false, true] {
        assert!(cond(BPF_JGE, 0xffff_ffff, 0xffff_ffff, use_x));
        assert!(!cond(BPF_JGE, 1, 0x8000_0000, use_x));
    }
}

#[test]
fn op_jset() {
    for use_x in [false, true] {
        assert!(cond(BPF_JSET, 0b0110, 0b0100, use_x));
        assert!(!cond(BPF_JSET, 0b0110, 0b1001, use_x));
    }
}

#[test]
fn op_ret_k_and_ret_a() {
    assert_eq!(run(&[stmt(BPF_RET | BPF_K, 0x7fff_0000)]), 0x7fff_0000);
    assert_eq!(run(&[stmt(BPF_LD | BPF_W | BPF_ABS, 0), ret_a()]), 39);
}

// ---- one test per checker rule -----------------------------------------

#[test]
fn rule_length_between_1_and_4096() {
    assert_eq!(refused(&[]), CheckError::InvalidLength { len: 0 });
    let long = vec![stmt(BPF_RET | BPF_K, 0); 4097];
    assert_eq!(refused(&long), CheckError::InvalidLength { len: 4097 });
    assert!(check(&long[..4096]).is_ok());
}

#[test]
fn rule_unknown_opcode() {
    assert_eq!(
        refused(&[stmt(0xffff, 0), stmt(BPF_RET | BPF_K, 0)]),
        CheckError::UnknownOpcode {
            pc: 0,
            code: 0xffff
        }
    );
    assert_eq!(
        refused(&[stmt(BPF_RET | BPF_X, 0)]),
        CheckError::UnknownOpcode {
            pc: 0,
            code: BPF_RET | BPF_X
        }
    );
}

#[test]
fn rule_division_by_constant_zero() {
    let prog = [stmt(BPF_ALU | BPF_DIV | BPF_K, 0), stmt(BPF_RET | BPF_K, 0)];
    assert_eq!(refused(&prog), CheckError::DivisionByZero { pc: 0 });
    // The classic rule fires before seccomp refuses BPF_MOD altogether.
    let prog = [stmt(BPF_ALU | BPF_MOD | BPF_K, 0), stmt(BPF_RET | BPF_K, 0)];
    assert_eq!(refused(&prog), CheckError::DivisionByZero { pc: 0 });
}

#[test]
fn rule_constant_shift_below_32() {
    for op in [BPF_LSH, BPF_RSH] {
        let prog = [stmt(BPF_ALU | op | BPF_K, 32), stmt(BPF_RET | BPF_K, 0)];
        assert_eq!(refused(&prog), CheckError::ShiftTooLarge { pc: 0 });
        assert!(check(&[stmt(BPF_ALU | op | BPF_K, 31), stmt(BPF_RET | BPF_K, 0)]).is_ok());
    }
}

#[test]
fn rule_scratch_slot_below_16() {
    for code in [BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM] {
        let prog = [stmt(code, 16), stmt(BPF_RET | BPF_K, 0)];
        assert_eq!(refused(&prog), CheckError::ScratchSlotOutOfRange { pc: 0 });
    }
}

#[test]
fn rule_jumps_stay_inside() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    assert_eq!(
        refused(&[stmt(BPF_JMP | BPF_JA, 1), ret0]),
        CheckError::JumpOutOfRange { pc: 0 }
    );
    assert!(check(&[stmt(BPF_JMP | BPF_JA, 0), ret0]).is_ok());
    assert_eq!(
        refused(&[stmt(BPF_JMP | BPF_JA, u32::MAX), ret0]),
        CheckError::JumpOutOfRange { pc: 0 }
    );
    assert_eq!(
        refused(&[jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret0]),
        CheckError::JumpOutOfRange { pc: 0 }
    );
    assert_eq!(
        refused(&[jmp(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), ret0]),
        CheckError::JumpOutOfRange { pc: 0 }
    );
    assert!(check(&[jmp(BPF_JMP | BPF_JGT | BPF_K, 0, 0, 0), ret0]).is_ok());
}

#[test]
fn rule_ancillary_loads() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    // Unknown extension: refused by the classic rules.
    assert_eq!(
        refused(&[stmt(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 64), ret0]),
        CheckError::UnknownAncillaryLoad { pc: 0 }
    );
    assert_eq!(
        refused(&[stmt(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + 1), ret0]),
        CheckError::UnknownAncillaryLoad { pc: 0 }
    );
    // Known extension: classic accepts it, seccomp refuses the offset.
    assert_eq!(
        refused(&[stmt(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 4), ret0]),
        CheckError::InvalidDataOffset { pc: 0 }
    );
}

#[test]
fn rule_last_instruction_returns() {
    assert_eq!(
        refused(&[stmt(BPF_LD | BPF_IMM, 0)]),
        CheckError::MissingFinalReturn
    );
    // Per-instruction rules come first.
    assert_eq!(
        refused(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 0)]),
        CheckError::DivisionByZero { pc: 0 }
    );
}

#[test]
fn rule_scratch_read_needs_store_on_every_path() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    assert_eq!(
        refused(&[stmt(BPF_LD | BPF_MEM, 3), ret0]),
        CheckError::UninitializedScratchRead { pc: 0 }
    );
    // Stored on one path only.
    let prog = [
        jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        stmt(BPF_ST, 3),
        stmt(BPF_LDX | BPF_MEM, 3),
        ret0,
    ];
    assert_eq!(
        refused(&prog),
        CheckError::UninitializedScratchRead { pc: 2 }
    );
    // Stored before the branch.
    let prog = [
        stmt(BPF_STX, 3),
        jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        stmt(BPF_ST, 4),
        stmt(BPF_LDX | BPF_MEM, 3),
        ret0,
    ];
    assert!(check(&prog).is_ok());
    // The C rule carries the state after a return into the next
    // instruction, even though no path falls through a return.
    let prog = [
        jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),
        stmt(BPF_ST, 1),
        ret0,
        stmt(BPF_LD | BPF_MEM, 1),
        ret0,
    ];
    assert_eq!(
        refused(&prog),
        CheckError::UninitializedScratchRead { pc: 3 }
    );
    // ...which also accepts a read reached only by falling through a return
    // after a store.
    let prog = [stmt(BPF_ST, 1), ret0, stmt(BPF_LD | BPF_MEM, 1), ret0];
    assert!(check(&prog).is_ok());
    // The lowest failing instruction over all slots is reported.
    let prog = [
        jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
        stmt(BPF_LD | BPF_MEM, 9),
        stmt(BPF_LD | BPF_MEM, 2),
        ret0,
    ];
    assert_eq!(
        refused(&prog),
        CheckError::UninitializedScratchRead { pc: 1 }
    );
}

#[test]
fn rule_seccomp_opcodes_only() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    for code in [
        BPF_ALU | BPF_MOD | BPF_K,
        BPF_ALU | BPF_MOD | BPF_X,
        BPF_LD | BPF_H | BPF_ABS,
        BPF_LD | BPF_B | BPF_ABS,
        BPF_LD | BPF_W | BPF_IND,
        BPF_LD | BPF_H | BPF_IND,
        BPF_LD | BPF_B | BPF_IND,
        BPF_LDX | BPF_B | BPF_MSH,
    ] {
        assert_eq!(
            refused(&[stmt(code, 1), ret0]),
            CheckError::OpcodeNotAllowed { pc: 0, code },
            "{code:#x}"
        );
    }
}

#[test]
fn rule_seccomp_data_loads_aligned_and_in_bounds() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    for k in [1, 2, 3, 62, 64, 68, 0x1000_0000] {
        assert_eq!(
            refused(&[stmt(BPF_LD | BPF_W | BPF_ABS, k), ret0]),
            CheckError::InvalidDataOffset { pc: 0 },
            "{k}"
        );
    }
    assert!(check(&[stmt(BPF_LD | BPF_W | BPF_ABS, 60), ret0]).is_ok());
}

#[test]
fn rule_order_follows_the_kernel() {
    // A seccomp-only violation early loses against a classic violation
    // later: all classic rules run over the whole program first.
    let prog = [
        stmt(BPF_LD | BPF_W | BPF_ABS, 3),
        stmt(BPF_ST, 99),
        stmt(BPF_RET | BPF_K, 0),
    ];
    assert_eq!(refused(&prog), CheckError::ScratchSlotOutOfRange { pc: 1 });
    // The missing return is found before scratch reads and seccomp rules.
    let prog = [stmt(BPF_LD | BPF_MEM, 1), stmt(BPF_LD | BPF_W | BPF_ABS, 3)];
    assert_eq!(refused(&prog), CheckError::MissingFinalReturn);
}

#[test]
fn decode_needs_exact_storage() {
    let prog = allow_all();
    let checked = check(&prog).unwrap();
    assert_eq!(
        checked.decode_into(vec![Insn::default(); 2]).unwrap_err(),
        DecodeError::LengthMismatch {
            expected: 1,
            actual: 2
        }
    );
    let mut buf = [Insn::default(); 1];
    let decoded = checked.decode_into(&mut buf[..]).unwrap();
    assert_eq!(decoded.run(&data()), SECCOMP_RET_ALLOW);
}

// ---- conversion length and chain limit ---------------------------------

#[test]
fn converted_len_counts_ebpf_instructions() {
    let ret0 = stmt(BPF_RET | BPF_K, 0);
    let len = |prog: &[SockFilter]| check(prog).unwrap().converted_len();
    assert_eq!(len(&[ret0]), 3 + 2);
    assert_eq!(len(&[ret_a()]), 3 + 1);
    assert_eq!(
        len(&[stmt(BPF_ALU | BPF_DIV | BPF_X, 0), ret_a()]),
        3 + 5 + 1
    );
    assert_eq!(
        len(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 3), ret_a()]),
        3 + 1 + 1
    );
    for op in [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET] {
        let j = |k, jt, jf| [jmp(BPF_JMP | op | BPF_K, k, jt, jf), ret_a(), ret_a()];
        assert_eq!(len(&j(1, 1, 0)), 3 + 1 + 2, "{op:#x}");
        assert_eq!(len(&j(0x8000_0000, 1, 0)), 3 + 2 + 2, "{op:#x}");
        let inverted = if op == BPF_JSET { 2 } else { 1 };
        assert_eq!(len(&j(1, 0, 1)), 3 + inverted + 2, "{op:#x}");
        let jx = [
            jmp(BPF_JMP | op | BPF_X, 0x8000_0000, 0, 1),
            ret_a(),
            ret_a(),
        ];
        assert_eq!(len(&jx), 3 + inverted + 2, "{op:#x}");
    }
    let both = [
        jmp(BPF_JMP | BPF_JEQ | BPF_K, 0xffff_ffff, 1, 2),
        ret_a(),
        ret_a(),
        ret_a(),
    ];
    assert_eq!(len(&both), 3 + 3 + 3);
    assert_eq!(
        len(&[
            stmt(BPF_LD | BPF_W | BPF_LEN, 0),
            stmt(BPF_JMP | BPF_JA, 0),
            ret_a()
        ]),
        3 + 3
    );
}

#[test]
fn chain_limit() {
    assert_eq!(check_chain_length(100, []), Ok(100));
    assert_eq!(check_chain_length(32768 - 2 * 104, [100, 100]), Ok(32768));
    assert_eq!(
        check_chain_length(32768 - 2 * 104 + 1, [100, 100]),
        Err(ChainTooLong { total: 32769 })
    );
    assert_eq!(ChainTooLong { total: 0 }.errno(), ENOMEM);
    assert!(check_chain_length(usize::MAX, [usize::MAX]).is_err());
}

// ---- actions and chains ------------------------------------------------

#[test]
fn actions_decode() {
    assert_eq!(Action::from_ret(0x8000_0007), Action::KillProcess(7));
    assert_eq!(Action::from_ret(0x0000_0007), Action::KillThread(7));
    assert_eq!(Action::from_ret(0x0003_0009), Action::Trap(9));
    assert_eq!(Action::from_ret(0x0005_0001), Action::Errno(1));
    assert_eq!(Action::from_ret(0x0005_ffff), Action::Errno(MAX_ERRNO));
    assert_eq!(Action::from_ret(0x7fc0_0001), Action::UserNotif);
    assert_eq!(Action::from_ret(0x7ff0_0002), Action::Trace(2));
    assert_eq!(Action::from_ret(0x7ffc_0000), Action::Log);
    assert_eq!(Action::from_ret(0x7fff_1234), Action::Allow);
    assert_eq!(Action::from_ret(0x0001_0003), Action::KillProcess(3));
    assert_eq!(Action::from_ret(0xffff_0000), Action::KillProcess(0));
}

fn decoded(prog: &[SockFilter]) -> DecodedProgram<Vec<Insn>> {
    check(prog)
        .unwrap()
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap()
}

#[test]
fn chain_precedence() {
    let d = data();
    let allow = decoded(&[ret(SECCOMP_RET_ALLOW | 5)]);
    let errno1 = decoded(&[ret(SECCOMP_RET_ERRNO | 1)]);
    let errno2 = decoded(&[ret(SECCOMP_RET_ERRNO | 2)]);
    let trap = decoded(&[ret(SECCOMP_RET_TRAP | 3)]);
    let kill_process = decoded(&[ret(SECCOMP_RET_KILL_PROCESS)]);
    let log = decoded(&[ret(SECCOMP_RET_LOG)]);
    let v = |chain: &[&DecodedProgram<Vec<Insn>>]| run_chain(chain.iter().copied(), &d);
    assert_eq!(
        v(&[]),
        ChainVerdict {
            ret: SECCOMP_RET_KILL_PROCESS,
            matched: None
        }
    );
    assert_eq!(
        v(&[&allow]),
        ChainVerdict {
            ret: SECCOMP_RET_ALLOW,
            matched: None
        }
    );
    assert_eq!(
        v(&[&allow, &log]),
        ChainVerdict {
            ret: SECCOMP_RET_LOG,
            matched: Some(1)
        }
    );
    assert_eq!(
        v(&[&errno2, &errno1]),
        ChainVerdict {
            ret: SECCOMP_RET_ERRNO | 2,
            matched: Some(0)
        }
    );
    assert_eq!(
        v(&[&errno1, &trap]),
        ChainVerdict {
            ret: SECCOMP_RET_TRAP | 3,
            matched: Some(1)
        }
    );
    assert_eq!(
        v(&[&trap, &kill_process, &errno1]),
        ChainVerdict {
            ret: SECCOMP_RET_KILL_PROCESS,
            matched: Some(1)
        }
    );
    assert_eq!(
        combine_with_older_chain(SECCOMP_RET_ALLOW | 5, SECCOMP_RET_ALLOW),
        SECCOMP_RET_ALLOW
    );
    assert_eq!(
        combine_with_older_chain(SECCOMP_RET_ERRNO | 2, SECCOMP_RET_ERRNO | 1),
        SECCOMP_RET_ERRNO | 2
    );
    assert_eq!(
        combine_with_older_chain(SECCOMP_RET_ERRNO | 2, SECCOMP_RET_TRAP),
        SECCOMP_RET_TRAP
    );
}

// ---- cache analysis ----------------------------------------------------

#[test]
fn cache_allowlist_is_constant_per_syscall() {
    let prog = decoded(&linear_allowlist(&[0, 1, 60]));
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 1),
        Some(SECCOMP_RET_ALLOW)
    );
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 2),
        Some(SECCOMP_RET_ERRNO | EPERM)
    );
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_I386, 1),
        Some(SECCOMP_RET_KILL_PROCESS)
    );
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 0x4000_0001),
        Some(SECCOMP_RET_KILL_PROCESS)
    );
}

#[test]
fn cache_argument_checks_are_not_constant() {
    let prog = decoded(&argument_filter(&[0], &[(257, 2, 3)]));
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 0),
        Some(SECCOMP_RET_ALLOW)
    );
    assert_eq!(analyze_constant(&prog, AUDIT_ARCH_X86_64, 257), None);
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 1),
        Some(SECCOMP_RET_ERRNO | EPERM)
    );
}

#[test]
fn cache_paths_agreeing_on_unknown_data_are_constant() {
    // if (args[0] & 1) ret ERRNO(1) else ret ERRNO(1)
    let prog = decoded(&[
        ld_abs(16),
        SockFilter::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
        ret(SECCOMP_RET_ERRNO | 1),
        ret(SECCOMP_RET_ERRNO | 1),
    ]);
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 5),
        Some(SECCOMP_RET_ERRNO | 1)
    );
    // Unknown value returned.
    let prog = decoded(&[ld_abs(16), ret_a()]);
    assert_eq!(analyze_constant(&prog, AUDIT_ARCH_X86_64, 5), None);
    // Division by an unknown X.
    let prog = decoded(&[
        ld_abs(16),
        stmt(BPF_MISC | BPF_TAX, 0),
        stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
        ret(1),
    ]);
    assert_eq!(analyze_constant(&prog, AUDIT_ARCH_X86_64, 5), None);
    // Known values flow through scratch memory and X.
    let prog = decoded(&[
        ld_abs(0),
        stmt(BPF_ST, 4),
        stmt(BPF_LDX | BPF_MEM, 4),
        stmt(BPF_LD | BPF_IMM, SECCOMP_RET_ERRNO),
        stmt(BPF_ALU | BPF_OR | BPF_X, 0),
        ret_a(),
    ]);
    assert_eq!(
        analyze_constant(&prog, AUDIT_ARCH_X86_64, 7),
        Some(SECCOMP_RET_ERRNO | 7)
    );
}

#[test]
fn cache_gives_up_on_path_explosion() {
    // 40 independent unknown branches: 2^40 paths, all returning ALLOW.
    let mut prog = vec![ld_abs(16)];
    for bit in 0..40 {
        prog.push(SockFilter::jump(
            BPF_JMP | BPF_JSET | BPF_K,
            1 << (bit % 32),
            0,
            0,
        ));
        prog.push(ld_abs(16 + 4 * (bit % 8)));
        prog.push(SockFilter::jump(
            BPF_JMP | BPF_JSET | BPF_K,
            1 << (bit % 32),
            1,
            0,
        ));
        prog.push(SockFilter::stmt(BPF_LD | BPF_IMM, 0));
    }
    prog.push(ret(SECCOMP_RET_ALLOW));
    let prog = decoded(&prog);
    assert_eq!(analyze_constant(&prog, AUDIT_ARCH_X86_64, 0), None);
}

#[test]
fn cache_table_combines_chain() {
    let first = decoded(&linear_allowlist(&[0, 1, 2]));
    let second = decoded(&argument_filter(&[0, 1], &[(2, 0, 1)]));
    let t1 = ConstantTable::build(
        AUDIT_ARCH_X86_64,
        vec![None; X86_64_NR_SYSCALLS],
        &first,
        None::<&ConstantTable<Vec<Option<u32>>>>,
    );
    let t2 = ConstantTable::build(
        AUDIT_ARCH_X86_64,
        vec![None; X86_64_NR_SYSCALLS],
        &second,
        Some(&t1),
    );
    assert_eq!(t1.entries()[2], Some(SECCOMP_RET_ALLOW));
    assert_eq!(t2.entries()[0], Some(SECCOMP_RET_ALLOW));
    assert_eq!(t2.entries()[2], None);
    assert_eq!(t2.entries()[3], Some(SECCOMP_RET_ERRNO | EPERM));
    let mut d = data();
    d.nr = 1;
    assert_eq!(t2.lookup(&d), Some(SECCOMP_RET_ALLOW));
    d.nr = -1;
    assert_eq!(t2.lookup(&d), None);
    d.nr = 0x4000_0000;
    assert_eq!(t2.lookup(&d), None);
    d.nr = 1;
    d.arch = AUDIT_ARCH_I386;
    assert_eq!(t2.lookup(&d), None);
    // USER_NOTIF results are never cached.
    let notif = decoded(&[ret(SECCOMP_RET_USER_NOTIF)]);
    let t = ConstantTable::build(
        AUDIT_ARCH_I386,
        vec![None; I386_NR_SYSCALLS],
        &notif,
        None::<&ConstantTable<Vec<Option<u32>>>>,
    );
    assert!(t.entries().iter().all(Option::is_none));
}

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

// ---- resume points -----------------------------------------------------

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

#[test]
fn resume_entry_is_8_bytes() {
    assert_eq!(core::mem::size_of::<ResumeEntry>(), 8);
    assert_eq!(ResumeEntry::default(), ResumeEntry::START);
}

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

#[test]
fn resume_records_x() {
    // X = 7; A = args[0] + X; ret A
    let prog = decoded(&[
        stmt(BPF_LDX | BPF_IMM, 7),
        ld_abs(0),
        ld_abs(16),
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
        ret_a(),
    ]);
    let analysis = analyze(&prog, AUDIT_ARCH_X86_64, 5);
    assert_eq!(analysis.constant, None);
    assert_eq!(analysis.entry, ResumeEntry::Resume { pc: 2, x: 7 });
    let d = data();
    assert_eq!(prog.run_from(analysis.entry, &d), prog.run(&d));
    assert_eq!(prog.run(&d), 2 + 7);
}

#[test]
fn resume_falls_back_after_a_store() {
    // A store before the first argument load: memory would differ.
    let prog = decoded(&[
        ld_abs(0),
        stmt(BPF_ST, 3),
        ld_abs(16),
        stmt(BPF_LDX | BPF_MEM, 3),
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
        ret_a(),
    ]);
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 5).entry,
        ResumeEntry::START
    );
    let d = data();
    assert_eq!(prog.run(&d), 39 + 2);
    // STX too, even of zero.
    let prog = decoded(&[stmt(BPF_STX, 0), ld_abs(16), ret_a()]);
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 5).entry,
        ResumeEntry::START
    );
    // Stores after the resume point are fine.
    let prog = decoded(&[
        ld_abs(0),
        jeq(5, 0, 4),
        ld_abs(16),
        stmt(BPF_ST, 3),
        stmt(BPF_LDX | BPF_MEM, 3),
        stmt(BPF_MISC | BPF_TXA, 0),
        ret_a(),
    ]);
    let entry = analyze(&prog, AUDIT_ARCH_X86_64, 5).entry;
    assert_eq!(entry, ResumeEntry::Resume { pc: 2, x: 0 });
    let mut d = data();
    d.nr = 5;
    assert_eq!(prog.run_from(entry, &d), 2);
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 6).entry,
        ResumeEntry::Return(6) // not taken: `ret A` with A = nr
    );
}

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

#[test]
fn resume_never_after_a_data_dependent_fork() {
    // The first argument load decides; DIV by an unknown X gives up.
    let prog = decoded(&[
        ld_abs(16),
        stmt(BPF_MISC | BPF_TAX, 0),
        stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
        ret(1),
    ]);
    let a = analyze(&prog, AUDIT_ARCH_X86_64, 5);
    assert_eq!(a.constant, None);
    assert_eq!(a.entry, ResumeEntry::START);
    // Loading the instruction pointer is data-dependent too.
    let prog = decoded(&[ld_abs(4), ld_abs(8), ret_a()]);
    assert_eq!(
        analyze(&prog, AUDIT_ARCH_X86_64, 5).entry,
        ResumeEntry::Resume { pc: 1, x: 0 }
    );
}

#[test]
fn run_from_is_total() {
    let prog = decoded(&argument_filter(&[0], &[(257, 2, 3)]));
    let d = data();
    assert_eq!(prog.run_from(ResumeEntry::Return(1234), &d), 1234);
    for pc in [prog.len() as u16, prog.len() as u16 + 1, u16::MAX] {
        assert_eq!(
            prog.run_from(ResumeEntry::Resume { pc, x: u32::MAX }, &d),
            SECCOMP_RET_KILL_THREAD
        );
    }
    for pc in 0..prog.len() {
        let _ = prog.run_from(
            ResumeEntry::Resume {
                pc: pc as u16,
                x: 9,
            },
            &d,
        );
        let _ = prog.run_at(pc, u32::MAX, u32::MAX, &d);
    }
    assert_eq!(prog.run_at(usize::MAX, 0, 0, &d), SECCOMP_RET_KILL_THREAD);
    assert_eq!(prog.run_at(0, 7, 7, &d), prog.run(&d));
}

#[test]
fn run_with_falls_back_to_the_start() {
    let prog = decoded(&argument_filter(&[0], &[(257, 2, 3)]));
    let mut bogus = vec![ResumeEntry::Return(0xdead); X86_64_NR_SYSCALLS];
    bogus[1] = ResumeEntry::START;
    // A table of the right length is trusted...
    let table = ResumeTable::build(AUDIT_ARCH_X86_64, bogus.clone(), &prog);
    assert_eq!(
        table.entries()[1],
        ResumeEntry::Return(SECCOMP_RET_ERRNO | EPERM)
    );
    // ...one built for another program is not.
    let other = decoded(&allow_all());
    let wrong = ResumeTable::build(AUDIT_ARCH_X86_64, bogus, &other);
    let mut d = data();
    d.nr = 1;
    assert_eq!(
        wrong.lookup(&d),
        Some(ResumeEntry::Return(SECCOMP_RET_ALLOW))
    );
    assert_eq!(prog.run_with(&wrong, &d), SECCOMP_RET_ERRNO | EPERM);
    // No entry for other arches, negative and x32 numbers.
    for (arch, nr) in [
        (AUDIT_ARCH_I386, 1),
        (AUDIT_ARCH_X86_64, -1),
        (AUDIT_ARCH_X86_64, 0x4000_0001),
    ] {
        d.arch = arch;
        d.nr = nr;
        assert_eq!(table.lookup(&d), None);
        assert_eq!(prog.run_with(&table, &d), prog.run(&d));
    }
}

#[test]
fn constant_table_from_resume_matches_build() {
    let first = decoded(&linear_allowlist(&[0, 1, 2]));
    let second = decoded(&container_profile());
    let notif = decoded(&[ret(SECCOMP_RET_USER_NOTIF)]);
    let none = None::<&ConstantTable<Vec<Option<u32>>>>;
    for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] {
        let r1 = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &first);
        let r2 = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &second);
        let rn = ResumeTable::build(arch, vec![ResumeEntry::START; 463], &notif);
        let t1 = ConstantTable::build(arch, vec![None; 463], &first, none);
        let f1 = ConstantTable::build_from_resume(arch, vec![None; 463], &r1, none);
        assert_eq!(t1.entries(), f1.entries());
        let t2 = ConstantTable::build(arch, vec![None; 463], &second, Some(&t1));
        let f2 = ConstantTable::build_from_resume(arch, vec![None; 463], &r2, Some(&f1));
        assert_eq!(t2.entries(), f2.entries());
        let tn = ConstantTable::build(arch, vec![None; 463], &notif, Some(&t2));
        let fn_ = ConstantTable::build_from_resume(arch, vec![None; 463], &rn, Some(&f2));
        assert_eq!(tn.entries(), fn_.entries());
        // A resume table of another architecture gives nothing constant.
        let other = if arch == AUDIT_ARCH_I386 {
            AUDIT_ARCH_X86_64
        } else {
            AUDIT_ARCH_I386
        };
        let f = ConstantTable::build_from_resume(other, vec![None; 463], &r1, none);
        assert!(f.entries().iter().all(Option::is_none));
    }
}
