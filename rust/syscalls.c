// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the Rust seccomp implementation: the parts that only C can
 * express.  SYSCALL_DEFINE3() generates the per-ABI entry points (pt_regs
 * unpacking, compat and tracing metadata), the syscall-entry hook reads
 * the entering system call with inline accessors, and the initcall runs
 * the Rust initialisation at boot.  Everything else lives in seccomp.rs.
 */

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/seccomp.h>
#include <linux/syscalls.h>
#include <linux/sysctl.h>
#include <asm/syscall.h>

#include "seccomp_rs.h"

/*
 * The syscall-entry hook.  The task, its register frame, the number and
 * the architecture are read here with the architecture's inline accessors,
 * which Rust could only reach through one out-of-line helper call each;
 * the decision is Rust's.
 */
int __secure_computing(const struct seccomp_data *sd)
{
	struct task_struct *task = current;
	struct pt_regs *regs = task_pt_regs(task);

	if (sd)
		return seccomp_rs_secure_computing(task, regs, sd, sd->nr,
						   sd->arch);
	return seccomp_rs_secure_computing(task, regs, NULL,
					   syscall_get_nr(task, regs),
					   syscall_get_arch(task));
}

SYSCALL_DEFINE3(seccomp, unsigned int, op, unsigned int, flags,
		void __user *, uargs)
{
	return seccomp_rs_do_seccomp(op, flags, uargs);
}

/* The user-notification listener fd: its operations are in notify.rs. */
static const struct file_operations seccomp_notify_ops = {
	.poll = seccomp_rs_notify_poll,
	.release = seccomp_rs_notify_release,
	.unlocked_ioctl = seccomp_rs_notify_ioctl,
	.compat_ioctl = seccomp_rs_notify_ioctl,
};

struct file *seccomp_rs_notify_file(void)
{
	return anon_inode_getfile("seccomp notify", &seccomp_notify_ops, NULL,
				  O_RDWR);
}

/* Architectures without speculation mitigations provide nothing. */
void __weak arch_seccomp_spec_mitigate(struct task_struct *task) { }

#ifdef CONFIG_SYSCTL
static struct ctl_table seccomp_sysctl_table[] = {
	{
		.procname	= "actions_avail",
		.mode		= 0444,
		.proc_handler	= seccomp_rs_actions_avail_handler,
	},
	{
		.procname	= "actions_logged",
		.mode		= 0644,
		.proc_handler	= seccomp_rs_actions_logged_handler,
	},
};
#endif

#if defined(CONFIG_SECCOMP_CACHE_DEBUG) && defined(CONFIG_DEBUG_FS)
/* Leak checks: filters allocated now (see cache_debug.rs). */
static int seccomp_rs_live_filters_get(void *data, u64 *val)
{
	*val = seccomp_rs_live_filters();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(seccomp_rs_live_filters_fops,
			 seccomp_rs_live_filters_get, NULL, "%llu\n");

static void __init seccomp_rs_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("seccomp_rs", NULL);

	debugfs_create_file_unsafe("live_filters", 0444, dir, NULL,
				   &seccomp_rs_live_filters_fops);
}
#else
static inline void seccomp_rs_debugfs_init(void) { }
#endif

static int __init seccomp_rs_initcall(void)
{
#ifdef CONFIG_SYSCTL
	register_sysctl_init("kernel/seccomp", seccomp_sysctl_table);
#endif
	seccomp_rs_debugfs_init();
	return seccomp_rs_init();
}
device_initcall(seccomp_rs_initcall);
