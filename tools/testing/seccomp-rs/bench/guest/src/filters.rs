// SPDX-License-Identifier: GPL-2.0

//! The classic-BPF seccomp filters the benchmark attaches, built with the
//! samples' [`ProgramBuilder`] so each shape is exactly what its name says.
//!
//! Every filter but the trivial one starts with the architecture check
//! (`AUDIT_ARCH_X86_64` or kill the process).  Allow-lists end in
//! `RET ERRNO(EPERM)`.  Conditional jumps only reach 255 instructions
//! forward, so long programs are laid out in groups with a return close by.

use libc::sock_filter;
use seccomp_samples::bpf::{Cmp, ProgramBuilder, AUDIT_ARCH_X86_64, BPF_MAXINSNS, MAX_COND_JUMP};

/// `SECCOMP_RET_ERRNO` with `EPERM`.
pub const RET_ERRNO_EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;

/// Longest path of instructions over a task's filter chain the kernel
/// accepts, each filter counting 4 more than its length
/// (`MAX_INSNS_PER_PATH` in kernel/seccomp.c).
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// Largest number of syscalls a binary-tree leaf compares one by one.
const TREE_LEAF_LEN: usize = 4;

/// The program `build` writes into a builder, its labels resolved.  The
/// shapes here are fixed, so a failure is a bug of this file.
fn program(build: impl FnOnce(&mut ProgramBuilder)) -> Vec<sock_filter> {
    let mut builder = ProgramBuilder::new();
    build(&mut builder);
    match builder.resolve() {
        Ok(program) => program.instructions().to_vec(),
        Err(e) => panic!("benchmark filter does not resolve: {e}"),
    }
}

/// The architecture check every filter but the trivial one starts with.
fn arch_check(b: &mut ProgramBuilder) {
    b.load_arch().jeq(AUDIT_ARCH_X86_64, "native").kill().label("native");
}

/// Arch check, then `action` for system call `nr` and `RET ALLOW` for the
/// rest.
pub fn one_syscall(nr: u32, action: u32) -> Vec<sock_filter> {
    program(|b| {
        arch_check(b);
        b.load_syscall_nr().jne(nr, "allow").ret(action).label("allow").allow();
    })
}

/// `RET ALLOW` and nothing else.
pub fn allow_all() -> Vec<sock_filter> {
    program(|b| {
        b.allow();
    })
}

/// Arch check, load the number, one `JEQ` per syscall in `nrs` order,
/// `RET ERRNO(EPERM)` by default.  A syscall not in the list, or the last
/// one, runs every compare.  Groups of at most 255 compares jump to their
/// own `RET ALLOW`; a group but the last is followed by `JA +1` over it.
pub fn linear_allow_list(nrs: &[u32]) -> Vec<sock_filter> {
    program(|b| {
        arch_check(b);
        b.load_syscall_nr();
        let groups: Vec<&[u32]> = nrs.chunks(MAX_COND_JUMP).collect();
        for (index, group) in groups.iter().enumerate() {
            let allow = format!("allow-{index}");
            for &nr in *group {
                b.jeq(nr, &allow);
            }
            let next = format!("group-{}", index + 1);
            if index + 1 == groups.len() {
                b.errno(libc::EPERM);
            } else {
                b.goto(&next);
            }
            b.label(&allow).allow().label(&next);
        }
        if nrs.is_empty() {
            b.errno(libc::EPERM);
        }
    })
}

/// The same allow-list as a binary search: `JGE` splits the sorted numbers
/// in halves down to leaves of at most four `JEQ`s, each leaf ending in its
/// own `RET ERRNO(EPERM)`, `RET ALLOW`.
pub fn binary_tree_allow_list(nrs: &[u32]) -> Vec<sock_filter> {
    let mut sorted = nrs.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    program(|b| {
        arch_check(b);
        b.load_syscall_nr();
        subtree(b, &sorted, &mut 0);
    })
}

/// Length of [`subtree`]'s code for `n` numbers.
fn subtree_len(n: usize) -> usize {
    if n <= TREE_LEAF_LEN {
        return n + 2;
    }
    let below = subtree_len(n / 2);
    // A lower half too far for `jt` is jumped over by a `JA`.
    1 + usize::from(below > MAX_COND_JUMP) + below + subtree_len(n - n / 2)
}

/// The tree over sorted `nrs`; `node` numbers the labels.
fn subtree(b: &mut ProgramBuilder, nrs: &[u32], node: &mut usize) {
    *node += 1;
    let (below, above) = (format!("below-{node}"), format!("above-{node}"));
    if nrs.len() <= TREE_LEAF_LEN {
        for &nr in nrs {
            b.jeq(nr, &above);
        }
        b.errno(libc::EPERM).label(&above).allow();
        return;
    }
    let (low, high) = nrs.split_at(nrs.len() / 2);
    if subtree_len(low.len()) <= MAX_COND_JUMP {
        b.jge(high[0], &above);
    } else {
        // Too far for jt: fall through to a JA over the lower half.
        b.jump_if(Cmp::Ge, high[0], None, Some(&below)).goto(&above).label(&below);
    }
    subtree(b, low, node);
    b.label(&above);
    subtree(b, high, node);
}

/// Exactly `BPF_MAXINSNS` instructions, nearly all executed on every call:
/// compares of the first argument against constants it never equals in
/// this benchmark, a match returning EACCES; then `denied_nr` gets EPERM
/// and every other syscall is allowed.  Every syscall's decision depends
/// on its argument, so no kernel can cache it or cut the program short.
pub fn worst_case(denied_nr: u32) -> Vec<sock_filter> {
    // The arch check and the first load, and the tail.
    const HEAD: usize = 4;
    const TAIL: usize = 4;
    let prog = program(|b| {
        arch_check(b);
        b.load_arg_low(0);
        let mut len = HEAD;
        let mut constant: u32 = 0x5ecc_0000;
        let mut group = 0;
        loop {
            let room = BPF_MAXINSNS - TAIL - len;
            if room == 0 {
                break;
            }
            if room < 3 {
                b.load_arg_low(0);
                len += 1;
                continue;
            }
            // A group of compares, then "JA +1" over the RET a match would
            // jump to.
            group += 1;
            let (matched, after) = (format!("matched-{group}"), format!("after-{group}"));
            let compares = (room - 2).min(MAX_COND_JUMP);
            for _ in 0..compares {
                b.jeq(constant, &matched);
                constant += 1;
            }
            b.goto(&after).label(&matched).errno(libc::EACCES).label(&after);
            len += compares + 2;
        }
        b.load_syscall_nr().jne(denied_nr, "allow").errno(libc::EPERM).label("allow").allow();
    });
    assert_eq!(prog.len(), BPF_MAXINSNS);
    prog
}

/// A raw filter as written by libseccomp's `seccomp_export_bpf()`: native
/// endian `struct sock_filter`s, 8 bytes each.
pub fn from_raw_bpf(bytes: &[u8]) -> Result<Vec<sock_filter>, String> {
    if bytes.is_empty() || bytes.len() % 8 != 0 || bytes.len() / 8 > BPF_MAXINSNS {
        return Err(format!("{} bytes is not a filter of 1..=4096 instructions", bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|b| sock_filter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect())
}

/// How many copies of a `len`-instruction filter one task can stack at
/// most: a kernel may count longer, converted programs and allow fewer.
pub fn max_stacked(len: usize) -> usize {
    (MAX_INSNS_PER_PATH + 4) / (len + 4)
}
