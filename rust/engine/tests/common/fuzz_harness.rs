// SPDX-License-Identifier: GPL-2.0

//! The fuzzing oracle, shared by `fuzz/` (libFuzzer) and the plain
//! replay loop in `tests/fuzz_replay.rs` (host only).

use seccomp_engine::action::{run_chain, Action};
use seccomp_engine::cache::{analyze, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use seccomp_engine::{check, Insn, ResumeEntry, SeccompData, SockFilter};

/// Splits fuzzer bytes into a `seccomp_data` (first 64 bytes, zero
/// padded) and a program (the rest, 8 bytes per instruction).
pub fn split_input(bytes: &[u8]) -> (SeccompData, Vec<SockFilter>) {
    let mut head = [0u8; 64];
    let n = bytes.len().min(64);
    head[..n].copy_from_slice(&bytes[..n]);
    let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap());
    let data = SeccompData {
        nr: i32::from_le_bytes(head[0..4].try_into().unwrap()),
        arch: u32::from_le_bytes(head[4..8].try_into().unwrap()),
        instruction_pointer: word(8),
        args: [word(16), word(24), word(32), word(40), word(48), word(56)],
    };
    let prog = bytes
        .get(64..)
        .unwrap_or(&[])
        .chunks_exact(8)
        .map(|c| SockFilter::from_bytes(c.try_into().unwrap()))
        .collect();
    (data, prog)
}

/// Runs checker, decoder, interpreter, chain evaluation, cache analysis
/// and resume points on one input and asserts that they agree.
pub fn check_consistency(bytes: &[u8]) {
    let (data, prog) = split_input(bytes);
    let Ok(checked) = check(&prog) else { return };
    assert!(!checked.is_empty() && checked.len() <= 4096);
    assert!(checked.converted_len() >= prog.len() + 3);
    let decoded = checked
        .decode_into(vec![Insn::default(); prog.len()])
        .unwrap();
    let ret = decoded.run(&data);
    let _ = Action::from_ret(ret);
    let verdict = run_chain([&decoded], &data);
    assert!(verdict.ret == ret || (ret & 0xffff_0000) == 0x7fff_0000);
    for arch in [data.arch, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] {
        let mut same_call = data;
        same_call.arch = arch;
        let expected = decoded.run(&same_call);
        let analysis = analyze(&decoded, arch, data.nr);
        if let Some(constant) = analysis.constant {
            assert_eq!(expected, constant, "cache disagrees for {same_call:?}");
            assert_eq!(analysis.entry, ResumeEntry::Return(constant));
        }
        assert_eq!(
            decoded.run_from(analysis.entry, &same_call),
            expected,
            "resume entry {:?} disagrees for {same_call:?}",
            analysis.entry
        );
    }
    // Any start state is safe, if not meaningful.
    let pc = u16::from_le_bytes([bytes.get(8).copied().unwrap_or(0), 0]);
    let _ = decoded.run_from(ResumeEntry::Resume { pc, x: data.arch }, &data);
}
