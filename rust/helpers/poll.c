// SPDX-License-Identifier: GPL-2.0

/* Linux 6.12 has no poll_wait() helper for Rust (later kernels do). */

#include <linux/poll.h>

void rust_helper_poll_wait(struct file *filp, struct wait_queue_head *wq_head,
			   poll_table *p)
{
	poll_wait(filp, wq_head, p);
}
