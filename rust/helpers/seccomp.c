// SPDX-License-Identifier: GPL-2.0

#include <linux/audit.h>
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/filter.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/thread_info.h>
#include <linux/wait.h>
#include <asm/syscall.h>
#ifdef TIF_NOTSC
#include <asm/tsc.h>
#endif

#ifdef CONFIG_SECCOMP_RUST

void rust_helper_set_task_syscall_work_seccomp(struct task_struct *task)
{
	set_task_syscall_work(task, SECCOMP);
}

void rust_helper_smp_mb__before_atomic(void)
{
	/* What it orders is documented at the Rust caller. */
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

bool rust_helper_seccomp_audit_enabled(void)
{
	return audit_enabled;
}

void rust_helper_audit_seccomp_actions_logged(const char *names,
					      const char *old_names, int res)
{
	audit_seccomp_actions_logged(names, old_names, res);
}

void rust_helper_audit_seccomp(unsigned long syscall, long signr, int code)
{
	audit_seccomp(syscall, signr, code);
}

/* Filter mode: building struct seccomp_data and acting on a verdict. */

/*
 * populate_seccomp_data() for system call @nr of @arch (read by the
 * syscall-entry hook): only called when the filters must run.  Writes every
 * field of @sd.
 */
void rust_helper_seccomp_populate_data(struct seccomp_data *sd, int nr, u32 arch)
{
	struct task_struct *task = current;

	/* SECCOMP_RUST is 64-bit only: the arguments are read in place. */
	BUILD_BUG_ON(sizeof(sd->args[0]) != sizeof(unsigned long));
	sd->nr = nr;
	sd->arch = arch;
	syscall_get_arguments(task, task_pt_regs(task), (unsigned long *)sd->args);
	sd->instruction_pointer = KSTK_EIP(task);
}

/*
 * The current task's system call, at syscall entry: the return value it
 * gets when skipped, and its registers restored as they were at entry.
 * One call each, as C inlines them.
 */
void rust_helper_seccomp_set_return_value(int error, long val)
{
	syscall_set_return_value(current, current_pt_regs(), error, val);
}

void rust_helper_seccomp_rollback(void)
{
	syscall_rollback(current, current_pt_regs());
}

bool rust_helper_ptrace_event_enabled(struct task_struct *task, int event)
{
	return ptrace_event_enabled(task, event);
}

void rust_helper_ptrace_event(int event, unsigned long message)
{
	ptrace_event(event, message);
}

/* Installing filters: privilege and thread-group synchronisation. */

bool rust_helper_task_no_new_privs(struct task_struct *task)
{
	return task_no_new_privs(task);
}

void rust_helper_task_set_no_new_privs(struct task_struct *task)
{
	task_set_no_new_privs(task);
}

struct user_namespace *rust_helper_current_user_ns(void)
{
	return current_user_ns();
}

pid_t rust_helper_task_pid_vnr(struct task_struct *task)
{
	return task_pid_vnr(task);
}

/*
 * Whether the JIT blinds the constants of a program the caller creates now
 * (bpf_jit_blinding_enabled() of the program seccomp_prepare_filter() would
 * create): the chain is then charged the blinded program's length.
 */
bool rust_helper_seccomp_jit_blinds_constants(void)
{
#ifdef CONFIG_BPF_JIT
	if (!ebpf_jit_enabled() || !bpf_jit_harden)
		return false;
	return bpf_jit_harden != 1 || !bpf_token_capable(NULL, CAP_BPF);
#else
	return false;
#endif
}

/*
 * for_each_thread() as a cursor: the first thread of @task's group, then
 * __next_thread() until NULL.  The caller holds the group's siglock.
 */
struct task_struct *rust_helper_seccomp_first_thread(struct task_struct *task)
{
	return list_first_entry(&task->signal->thread_head,
				struct task_struct, thread_node);
}

struct task_struct *rust_helper___next_thread(struct task_struct *task)
{
	return __next_thread(task);
}

struct sighand_struct *rust_helper_seccomp_lock_task_sighand(struct task_struct *task,
							     unsigned long *flags)
{
	return lock_task_sighand(task, flags);
}

void rust_helper_seccomp_unlock_task_sighand(struct task_struct *task,
					     unsigned long *flags)
{
	unlock_task_sighand(task, flags);
}

int rust_helper_seccomp_live_threads(struct task_struct *task)
{
	return atomic_read(&task->signal->live);
}

/* User notification: the listener's wait queue. */

void rust_helper_seccomp_init_waitqueue_head(struct wait_queue_head *wq_head)
{
	init_waitqueue_head(wq_head);
}

#endif /* CONFIG_SECCOMP_RUST */
