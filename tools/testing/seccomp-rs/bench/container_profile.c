// SPDX-License-Identifier: GPL-2.0
/*
 * container_profile OUTPUT: write a realistic container seccomp profile as
 * raw classic BPF (libseccomp's seccomp_export_bpf()), for the benchmark
 * guest to attach.
 *
 * Modelled on Docker's default profile (moby profiles/seccomp/default.json)
 * for a container without extra capabilities: default action ERRNO(EPERM);
 * the names below allowed unconditionally where they exist on x86-64; and
 * argument checks on
 *   personality  allowed for 0, 0x8, 0x20000, 0x20008, 0xffffffff only;
 *   clone        allowed unless a namespace flag is set (Docker's mask);
 *   clone3       ERRNO(ENOSYS), so that libcs fall back to clone;
 *   socket       allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK;
 *   ioctl        allowed for a handful of terminal and file requests.
 * The filter keeps libseccomp's default layout (a linear list ordered by
 * libseccomp's priorities), the layout container runtimes ship.
 *
 * Prints the number of syscalls with a rule and the filter's length.
 */

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl",
	"bind", "brk", "cachestat", "capget", "capset", "chdir", "chmod",
	"chown", "clock_adjtime", "clock_getres", "clock_gettime",
	"clock_nanosleep", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
	"fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync",
	"fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex",
	"futex_requeue", "futex_wait", "futex_waitv", "futex_wake",
	"futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
	"geteuid", "getgid", "getgroups", "getitimer", "getpeername",
	"getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
	"getresgid", "getresuid", "getrlimit", "get_robust_list", "getrusage",
	"getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
	"gettimeofday", "getuid", "getxattr", "inotify_add_watch",
	"inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
	"io_destroy", "io_getevents", "io_pgetevents", "ioprio_get",
	"ioprio_set", "io_setup", "io_submit", "io_uring_enter",
	"io_uring_register", "io_uring_setup", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "madvise",
	"map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
	"mlockall", "mmap", "modify_ldt", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend",
	"mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
	"msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
	"nanosleep", "newfstatat", "open", "openat", "openat2", "pause",
	"pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
	"pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl",
	"pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
	"process_vm_readv", "process_vm_writev", "pselect6", "ptrace",
	"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
	"readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
	"remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
	"select", "semctl", "semget", "semop", "semtimedop", "sendfile",
	"sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsuid", "setgid",
	"setgroups", "setitimer", "setpgid", "setpriority", "setregid",
	"setresgid", "setresuid", "setreuid", "setrlimit", "set_robust_list",
	"setsid", "setsockopt", "set_thread_area", "set_tid_address",
	"setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
	"shutdown", "sigaltstack", "signalfd", "signalfd4", "socketpair",
	"splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	"timer_settime", "timerfd_create", "timerfd_gettime",
	"timerfd_settime", "times", "tkill", "truncate", "umask", "uname",
	"unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "write", "writev",
};

static const scmp_datum_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
static const scmp_datum_t socket_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const scmp_datum_t ioctl_requests[] = {
	TCGETS, TCSETS, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
};
/* Docker: clone without CLONE_NEWNS/UTS/IPC/USER/PID/NET/CGROUP. */
static const scmp_datum_t clone_namespace_flags = 0x7e020000;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *what, int err)
{
	fprintf(stderr, "container_profile: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int count,
		const struct scmp_arg_cmp *cmp, const char *what)
{
	int err = seccomp_rule_add_array(ctx, action, nr, count, cmp);

	if (err)
		die(what, err);
}

/* One rule per value: allow @nr when argument @arg equals any of @values. */
static void allow_if_arg_in(scmp_filter_ctx ctx, int nr, unsigned int arg,
			    const scmp_datum_t *values, size_t count, const char *what)
{
	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_EQ, values[i]);

		add(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp, what);
	}
}

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	unsigned int syscalls = 0;
	int fd, err;

	if (argc != 2) {
		fprintf(stderr, "usage: container_profile OUTPUT\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		die("seccomp_init", ENOMEM);

	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr < 0)	/* not an x86-64 syscall */
			continue;
		add(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, allowed[i]);
		syscalls++;
	}

	allow_if_arg_in(ctx, SCMP_SYS(personality), 0, personalities,
			ARRAY_SIZE(personalities), "personality");
	allow_if_arg_in(ctx, SCMP_SYS(socket), 0, socket_families,
			ARRAY_SIZE(socket_families), "socket");
	allow_if_arg_in(ctx, SCMP_SYS(ioctl), 1, ioctl_requests,
			ARRAY_SIZE(ioctl_requests), "ioctl");
	{
		struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, clone_namespace_flags, 0);

		add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &cmp, "clone");
	}
	add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, "clone3");
	syscalls += 5;

	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(argv[1], errno);
	err = seccomp_export_bpf(ctx, fd);
	if (err)
		die("seccomp_export_bpf", err);
	printf("container profile: %u syscalls with a rule, %ld BPF instructions\n",
	       syscalls, (long)lseek(fd, 0, SEEK_END) / 8);
	close(fd);
	seccomp_release(ctx);
	return 0;
}
