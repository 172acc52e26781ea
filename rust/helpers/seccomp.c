// SPDX-License-Identifier: GPL-2.0

#include <linux/audit.h>
#include <linux/compat.h>
#include <linux/seccomp.h>
#include <linux/thread_info.h>
#include <asm/syscall.h>
#ifdef TIF_NOTSC
#include <asm/tsc.h>
#endif

#ifdef CONFIG_SECCOMP

void rust_helper_set_task_syscall_work_seccomp(struct task_struct *task)
{
	set_task_syscall_work(task, SECCOMP);
}

void rust_helper_smp_mb__before_atomic(void)
{
	smp_mb__before_atomic();
}

struct pt_regs *rust_helper_current_pt_regs(void)
{
	return current_pt_regs();
}

int rust_helper_syscall_get_nr(struct task_struct *task, struct pt_regs *regs)
{
	return syscall_get_nr(task, regs);
}

bool rust_helper_in_compat_syscall(void)
{
	return in_compat_syscall();
}

/* Strict mode forbids reading the TSC where the architecture can trap it. */
void rust_helper_seccomp_disable_tsc(void)
{
#ifdef TIF_NOTSC
	disable_TSC();
#endif
}

void rust_helper_audit_seccomp(unsigned long syscall, long signr, int code)
{
	audit_seccomp(syscall, signr, code);
}

#endif /* CONFIG_SECCOMP */
