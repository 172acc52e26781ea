// SPDX-License-Identifier: GPL-2.0

/*
 * Linux 6.12 has no atomic_t helpers for Rust (later kernels generate a
 * file of them under this name, which replaces this one).
 */

#include <linux/atomic.h>

int rust_helper_atomic_read(const atomic_t *v)
{
	return atomic_read(v);
}

void rust_helper_atomic_set(atomic_t *v, int i)
{
	atomic_set(v, i);
}

void rust_helper_atomic_inc(atomic_t *v)
{
	atomic_inc(v);
}
