// SPDX-License-Identifier: GPL-2.0

//! ia32 system calls from a 64-bit process: `int $0x80`, and memory its
//! 32-bit pointer arguments can reach.

use std::arch::asm;
use std::io;

/// ia32 system call numbers (`arch/x86/entry/syscalls/syscall_32.tbl`).
pub const WRITE: u32 = 4;
/// ia32 `getpid`.
pub const GETPID: u32 = 20;
/// ia32 `mkdir`, the number of native `getpid`.
pub const MKDIR: u32 = 39;

/// An ia32 system call through `int $0x80` with up to three arguments,
/// which must fit in 32 bits (pointers too: see [`low_buffer`]).
pub fn int80(nr: u32, a: u32, b: u32, c: u32) -> i32 {
    let ret: i32;
    // SAFETY: `int $0x80` enters the kernel's ia32 entry; LLVM reserves
    // rbx, so the first argument is swapped in and out around it.  The
    // entry clobbers r8-r11; memory the arguments point to is the caller's.
    unsafe {
        asm!(
            "xchg {a:r}, rbx",
            "int 0x80",
            "xchg {a:r}, rbx",
            a = inout(reg) u64::from(a) => _,
            inlateout("eax") nr => ret,
            in("ecx") b,
            in("edx") c,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    ret
}

/// A page below 2 GiB (`MAP_32BIT`), for pointers passed to ia32 calls.
pub fn low_buffer() -> io::Result<&'static mut [u8]> {
    // SAFETY: A fresh anonymous mapping, never unmapped: 'static.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(std::slice::from_raw_parts_mut(p.cast(), 4096))
    }
}

/// The ia32 `write(fd, text)` from `buf`, a [`low_buffer`].
pub fn write(buf: &mut [u8], fd: u32, text: &[u8]) -> i32 {
    buf[..text.len()].copy_from_slice(text);
    int80(WRITE, fd, buf.as_ptr() as usize as u32, text.len() as u32)
}
