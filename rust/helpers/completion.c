// SPDX-License-Identifier: GPL-2.0

/* Linux 6.12 has no completion helper for Rust (later kernels do). */

#include <linux/completion.h>

void rust_helper_init_completion(struct completion *x)
{
	init_completion(x);
}
