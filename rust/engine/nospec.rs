// SPDX-License-Identifier: GPL-2.0

//! Lookups in the tables indexed by the system call number, safe under
//! speculation.
//!
//! The number comes from user space.  A bounds check alone does not stop a
//! processor that mispredicts it from loading past a table and leaking what
//! it finds through the cache (Spectre v1), so, like the kernel's
//! `array_index_nospec()`, every lookup also clamps the index with a mask
//! computed without a conditional branch.  How the mask is computed is the
//! caller's choice ([`IndexMask`]): the kernel uses the instructions of
//! `array_index_mask_nospec()`, host builds the portable arithmetic.

/// Computes the mask of `array_index_mask_nospec()`.
pub trait IndexMask {
    /// All ones when `index < size`, else zero, computed without a
    /// conditional branch.
    fn mask(index: usize, size: usize) -> usize;
}

/// The portable arithmetic of the kernel's generic
/// `array_index_mask_nospec()`, for host builds and tests.  Without an
/// optimiser barrier a compiler may turn it back into a comparison, so the
/// kernel supplies its own [`IndexMask`].  Exact for `index` and `size`
/// below `isize::MAX`.
pub struct PlainMask;

impl IndexMask for PlainMask {
    #[inline]
    fn mask(index: usize, size: usize) -> usize {
        ((!(index | size.wrapping_sub(1).wrapping_sub(index)) as isize) >> (usize::BITS - 1))
            as usize
    }
}

/// The entry for number `index` of a per-number table describing the
/// numbers below `count`, with one entry each or, when the table has a
/// single entry, that one for all of them; `None` for numbers from
/// `count` on.  A mispredicted processor reads entry 0 rather than past
/// the table.
#[inline]
pub fn get_per_number<T: Copy, M: IndexMask>(table: &[T], count: usize, index: usize) -> Option<T> {
    let mask = M::mask(index, count);
    // All ones unless the table is uniform (a single entry for all).
    let spread = usize::from(table.len() != 1).wrapping_neg();
    let entry = table.get(index & mask & spread).copied();
    if mask == 0 {
        None
    } else {
        entry
    }
}

/// Writes the entry every number of `table` has into `storage`, a table
/// of one entry; false, and `storage` untouched, if the entries differ (or
/// `storage` does not have exactly one).
pub fn compact_into<T: Copy + PartialEq>(table: &[T], storage: &mut [T]) -> bool {
    match (table.split_first(), storage) {
        (Some((&first, rest)), [only]) if rest.iter().all(|&e| e == first) => {
            *only = first;
            true
        }
        _ => false,
    }
}

/// The table index of system call number `nr`: negative numbers become
/// indexes past any table, without a branch.
#[inline]
pub fn nr_index(nr: i32) -> usize {
    nr as u32 as usize
}
