// SPDX-License-Identifier: GPL-2.0

//! The classic-BPF seccomp filters the benchmark attaches, built here so
//! each shape is exactly what its name says.
//!
//! Every filter but the trivial one starts with the architecture check
//! (`AUDIT_ARCH_X86_64` or kill the process).  Allow-lists end in
//! `RET ERRNO(EPERM)`.  Conditional jumps only reach 255 instructions
//! forward, so long programs are laid out in groups with a return close by.

use libc::sock_filter;

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const RET_KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS as u32;
pub const RET_ERRNO_EPERM: u32 = 0x0005_0000 | libc::EPERM as u32;
pub const RET_ERRNO_EACCES: u32 = 0x0005_0000 | libc::EACCES as u32;
pub const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW as u32;

/// Longest program the kernel accepts (`BPF_MAXINSNS`).
pub const BPF_MAXINSNS: usize = libc::BPF_MAXINSNS as usize;
/// Longest path of instructions over a task's filter chain the kernel
/// accepts, each filter counting 4 more than its length
/// (`MAX_INSNS_PER_PATH` in kernel/seccomp.c).
pub const MAX_INSNS_PER_PATH: usize = 32768;

// Offsets in `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARG0_LOW: u32 = 16;

// Opcodes (linux/bpf_common.h).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JMP_JEQ_K: u16 = 0x15;
const BPF_JMP_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;

/// Farthest a conditional jump (8-bit `jt`/`jf`) reaches.
const MAX_COND_JUMP: usize = 255;
/// Largest number of syscalls a binary-tree leaf compares one by one.
const TREE_LEAF_LEN: usize = 4;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

fn load(offset: u32) -> sock_filter {
    insn(BPF_LD_W_ABS, 0, 0, offset)
}

fn ret(action: u32) -> sock_filter {
    insn(BPF_RET_K, 0, 0, action)
}

fn jump_if_equal(k: u32, jt: usize, jf: usize) -> sock_filter {
    insn(BPF_JMP_JEQ_K, jt as u8, jf as u8, k)
}

fn jump_if_greater_or_equal(k: u32, jt: usize, jf: usize) -> sock_filter {
    insn(BPF_JMP_JGE_K, jt as u8, jf as u8, k)
}

fn jump(offset: usize) -> sock_filter {
    insn(BPF_JMP_JA, 0, 0, offset as u32)
}

fn arch_check() -> Vec<sock_filter> {
    vec![load(DATA_ARCH), jump_if_equal(AUDIT_ARCH_X86_64, 1, 0), ret(RET_KILL_PROCESS)]
}

/// Arch check, then `action` for system call `nr` and `RET ALLOW` for the
/// rest.
pub fn one_syscall(nr: u32, action: u32) -> Vec<sock_filter> {
    let mut prog = arch_check();
    prog.extend([load(DATA_NR), jump_if_equal(nr, 0, 1), ret(action), ret(RET_ALLOW)]);
    prog
}

/// `RET ALLOW` and nothing else.
pub fn allow_all() -> Vec<sock_filter> {
    vec![ret(RET_ALLOW)]
}

/// Arch check, load the number, one `JEQ` per syscall in `nrs` order,
/// `RET ERRNO(EPERM)` by default.  A syscall not in the list, or the last
/// one, runs every compare.  Groups of at most 255 compares jump to their
/// own `RET ALLOW`; a group but the last is followed by `JA +1` over it.
pub fn linear_allow_list(nrs: &[u32]) -> Vec<sock_filter> {
    let mut prog = arch_check();
    prog.push(load(DATA_NR));
    let groups: Vec<&[u32]> = nrs.chunks(MAX_COND_JUMP).collect();
    for (index, group) in groups.iter().enumerate() {
        let len = group.len();
        // Compare j jumps over the len - 1 - j compares after it and the
        // instruction between the group and its RET ALLOW.
        for (j, &nr) in group.iter().enumerate() {
            prog.push(jump_if_equal(nr, len - j, 0));
        }
        if index + 1 == groups.len() {
            prog.push(ret(RET_ERRNO_EPERM));
        } else {
            prog.push(jump(1));
        }
        prog.push(ret(RET_ALLOW));
    }
    if nrs.is_empty() {
        prog.push(ret(RET_ERRNO_EPERM));
    }
    prog
}

/// The same allow-list as a binary search: `JGE` splits the sorted numbers
/// in halves down to leaves of at most four `JEQ`s, each leaf ending in its
/// own `RET ERRNO(EPERM)`, `RET ALLOW`.
pub fn binary_tree_allow_list(nrs: &[u32]) -> Vec<sock_filter> {
    let mut sorted = nrs.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut prog = arch_check();
    prog.push(load(DATA_NR));
    prog.extend(subtree(&sorted));
    prog
}

fn subtree(nrs: &[u32]) -> Vec<sock_filter> {
    if nrs.len() <= TREE_LEAF_LEN {
        let len = nrs.len();
        let mut leaf: Vec<sock_filter> = nrs.iter().enumerate().map(|(j, &nr)| jump_if_equal(nr, len - j, 0)).collect();
        leaf.push(ret(RET_ERRNO_EPERM));
        leaf.push(ret(RET_ALLOW));
        return leaf;
    }
    let (low, high) = nrs.split_at(nrs.len() / 2);
    let below = subtree(low);
    let above = subtree(high);
    let mut node = Vec::with_capacity(2 + below.len() + above.len());
    if below.len() <= MAX_COND_JUMP {
        node.push(jump_if_greater_or_equal(high[0], below.len(), 0));
    } else {
        // Too far for jt: fall through to a JA over the lower half.
        node.push(jump_if_greater_or_equal(high[0], 0, 1));
        node.push(jump(below.len()));
    }
    node.extend(below);
    node.extend(above);
    node
}

/// Exactly `BPF_MAXINSNS` instructions, nearly all executed on every call:
/// compares of the first argument against constants it never equals in
/// this benchmark, a match returning EACCES; then `denied_nr` gets EPERM
/// and every other syscall is allowed.  Every syscall's decision depends
/// on its argument, so no kernel can cache it or cut the program short.
pub fn worst_case(denied_nr: u32) -> Vec<sock_filter> {
    let tail = [load(DATA_NR), jump_if_equal(denied_nr, 0, 1), ret(RET_ERRNO_EPERM), ret(RET_ALLOW)];
    let mut prog = arch_check();
    prog.push(load(DATA_ARG0_LOW));
    let mut constant: u32 = 0x5ecc_0000;
    loop {
        let room = BPF_MAXINSNS - tail.len() - prog.len();
        if room == 0 {
            break;
        }
        if room < 3 {
            prog.push(load(DATA_ARG0_LOW));
            continue;
        }
        // A group of compares, then "JA +1" over the RET a match would
        // jump to.
        let len = (room - 2).min(MAX_COND_JUMP);
        for j in 0..len {
            prog.push(jump_if_equal(constant, len - j, 0));
            constant += 1;
        }
        prog.push(jump(1));
        prog.push(ret(RET_ERRNO_EACCES));
    }
    prog.extend(tail);
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
        .map(|b| insn(u16::from_ne_bytes([b[0], b[1]]), b[2], b[3], u32::from_ne_bytes([b[4], b[5], b[6], b[7]])))
        .collect())
}

/// How many copies of a `len`-instruction filter one task can stack at
/// most: a kernel may count longer, converted programs and allow fewer.
pub fn max_stacked(len: usize) -> usize {
    (MAX_INSNS_PER_PATH + 4) / (len + 4)
}
