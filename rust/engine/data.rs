// SPDX-License-Identifier: GPL-2.0

//! The filter input, `struct seccomp_data` (`include/uapi/linux/seccomp.h`),
//! and how classic-BPF absolute loads address it.

/// Description of one system call as seen by a seccomp filter.
///
/// Same fields and layout as the C `struct seccomp_data`; filters address it
/// as sixteen 32-bit words of its native in-memory layout (see
/// [`SeccompData::word`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SeccompData {
    /// System call number.
    pub nr: i32,
    /// `AUDIT_ARCH_*` value of the calling convention.
    pub arch: u32,
    /// Address of the system call instruction.
    pub instruction_pointer: u64,
    /// The six system call arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// `sizeof(struct seccomp_data)`: loads must stay below this offset, and
    /// `BPF_LEN` loads read this value.
    pub const SIZE: u32 = 64;

    /// Byte offset of `nr`.
    pub const NR_OFFSET: u32 = 0;
    /// Byte offset of `arch`.
    pub const ARCH_OFFSET: u32 = 4;
    /// Byte offset of `instruction_pointer`.
    pub const IP_OFFSET: u32 = 8;

    /// Byte offset of the low 32 bits of argument `index` (< 6) on a
    /// little-endian machine such as x86.
    pub const fn arg_low_offset(index: u32) -> u32 {
        16 + 8 * index
    }

    /// Returns the 32-bit word at byte offset `4 * (index % 16)` of the
    /// native in-memory layout of the structure.
    ///
    /// This is what `BPF_LD|BPF_W|BPF_ABS` with `k = 4 * index` reads. The
    /// index is reduced modulo 16 so the function is total.
    #[inline(always)]
    pub fn word(&self, index: u8) -> u32 {
        let wide = match (index & 15) >> 1 {
            0 => {
                return if index & 1 == 0 {
                    self.nr as u32
                } else {
                    self.arch
                }
            }
            1 => self.instruction_pointer,
            // Arguments 0 to 5: never `None`.
            field => self.args.get(usize::from(field) - 2).copied().unwrap_or(0),
        };
        // The first word of a 64-bit field is its low half on little-endian
        // machines and its high half on big-endian ones.
        let first_word_is_low = cfg!(target_endian = "little");
        if (index & 1 == 0) == first_word_is_low {
            wide as u32
        } else {
            (wide >> 32) as u32
        }
    }
}

/// What the interpreter reads a filter's input from: the sixteen 32-bit
/// words `BPF_LD|BPF_W|BPF_ABS` addresses.
pub trait DataWords {
    /// The word at byte offset `4 * (index % 16)`, as
    /// [`SeccompData::word`].
    fn word(&self, index: u8) -> u32;
}

impl DataWords for SeccompData {
    #[inline(always)]
    fn word(&self, index: u8) -> u32 {
        SeccompData::word(self, index)
    }
}

/// The words of a [`SeccompData`] as they lie in memory (a view the
/// kernel makes of the structure, which is sixteen words without
/// padding), read with one indexed load.
impl DataWords for [u32; 16] {
    #[inline(always)]
    fn word(&self, index: u8) -> u32 {
        self[usize::from(index & 15)]
    }
}
