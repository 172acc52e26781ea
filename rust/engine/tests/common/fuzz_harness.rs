// SPDX-License-Identifier: GPL-2.0

//! The fuzzing oracle, shared by `fuzz/` (libFuzzer) and the plain
//! replay loop in `tests/fuzz_replay.rs` (host only).

use seccomp_engine::action::{run_chain, Action};
use seccomp_engine::cache::{analyze_constant, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
use seccomp_engine::{check, Insn, SeccompData, SockFilter};

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

/// Runs checker, decoder, interpreter, chain evaluation and cache
/// analysis on one input and asserts that they agree.
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
        if let Some(constant) = analyze_constant(&decoded, arch, data.nr) {
            let mut same_call = data;
            same_call.arch = arch;
            assert_eq!(
                decoded.run(&same_call),
                constant,
                "cache disagrees for {same_call:?}"
            );
        }
    }
}
