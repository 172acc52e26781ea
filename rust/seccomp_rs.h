/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points the Rust seccomp implementation (seccomp.rs) exports to the
 * C glue in syscalls.c, beyond those declared in <linux/seccomp.h>.
 */
#ifndef _KERNEL_SECCOMP_RUST_H
#define _KERNEL_SECCOMP_RUST_H

#include <linux/compiler_types.h>
#include <linux/types.h>

struct pt_regs;
struct seccomp_data;
struct task_struct;
int seccomp_rs_secure_computing(struct task_struct *task, struct pt_regs *regs,
				const struct seccomp_data *sd, int nr, u32 arch);
long seccomp_rs_do_seccomp(unsigned int op, unsigned int flags,
			   void __user *uargs);
int seccomp_rs_init(void);

struct file;
struct inode;
struct poll_table_struct;
struct file *seccomp_rs_notify_file(void);
int seccomp_rs_notify_release(struct inode *inode, struct file *file);
__poll_t seccomp_rs_notify_poll(struct file *file,
				struct poll_table_struct *table);
long seccomp_rs_notify_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg);

struct ctl_table;
int seccomp_rs_actions_avail_handler(const struct ctl_table *table, int write,
				     void *buffer, size_t *lenp, loff_t *ppos);
int seccomp_rs_actions_logged_handler(const struct ctl_table *table, int write,
				      void *buffer, size_t *lenp, loff_t *ppos);

/* CONFIG_SECCOMP_CACHE_DEBUG: filters currently allocated. */
u64 seccomp_rs_live_filters(void);

/* CONFIG_SECCOMP_RUST_KUNIT_TEST: the engine self-tests, for kunit.c. */
const void *seccomp_rs_selftest_next(const void *prev);
void seccomp_rs_selftest_name(const void *test, char *buf, size_t len);
int seccomp_rs_selftest_run(const void *test, char *why, size_t len);

#endif /* _KERNEL_SECCOMP_RUST_H */
