// SPDX-License-Identifier: GPL-2.0
/*
 * profiles DIR: write the benchmark's realistic seccomp profiles into DIR
 * as raw classic BPF (libseccomp's seccomp_export_bpf()), for the guest to
 * attach, and print each one's length.
 *
 * container.bpf: modelled on Docker's default profile (moby
 *   profiles/seccomp/default.json) for a container without extra
 *   capabilities: default ERRNO(EPERM); the names below allowed
 *   unconditionally where they exist on x86-64; argument checks on
 *   personality (0, 0x8, 0x20000, 0x20008, 0xffffffff only), clone (no
 *   namespace flag, Docker's mask), socket (AF_UNIX, AF_INET, AF_INET6,
 *   AF_NETLINK), ioctl (a handful of terminal and file requests); clone3
 *   ERRNO(ENOSYS), so that libcs fall back to clone.  libseccomp's default
 *   layout (a linear list by libseccomp's priorities), as container
 *   runtimes ship it.
 *
 * renderer.bpf, renderer-tree.bpf: a browser-renderer-like policy: about
 *   120 calls allowed outright, argument checks on fcntl, ioctl, prctl,
 *   madvise, mmap/mprotect (no PROT_EXEC), futex operations,
 *   getrlimit/prlimit64 resources, socket families and clone flags
 *   (threads only); default ERRNO(EPERM).  Once in libseccomp's default
 *   layout and once with its binary tree (SCMP_FLTATR_CTL_OPTIMIZE=2,
 *   which runc and others turn on).
 *
 * service.bpf, service-tree.bpf: a systemd-service-like policy: an
 *   allow-list in the spirit of SystemCallFilter=@system-service, with
 *   RestrictAddressFamilies (socket families, else EAFNOSUPPORT),
 *   RestrictNamespaces (clone/unshare without namespace flags),
 *   MemoryDenyWriteExecute (no PROT_EXEC mappings), LockPersonality and
 *   RestrictRealtime; default ERRNO(EPERM); both layouts.
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
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const char *const container_allowed[] = {
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

static const scmp_datum_t container_personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
static const scmp_datum_t container_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const scmp_datum_t container_ioctls[] = {
	TCGETS, TCSETS, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
};
/* Docker: clone without CLONE_NEWNS/UTS/IPC/USER/PID/NET/CGROUP. */
static const scmp_datum_t clone_namespace_flags = 0x7e020000;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *what, int err)
{
	fprintf(stderr, "profiles: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int count,
		const struct scmp_arg_cmp *cmp, const char *what)
{
	int err = seccomp_rule_add_array(ctx, action, nr, count, cmp);

	if (err)
		die(what, err);
}

/* One rule per value: @action for @nr when argument @arg equals any of @values. */
static void act_if_arg_in(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int arg,
			  const scmp_datum_t *values, size_t count, const char *what)
{
	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_EQ, values[i]);

		add(ctx, action, nr, 1, &cmp, what);
	}
}

static void allow_if_arg_in(scmp_filter_ctx ctx, int nr, unsigned int arg,
			    const scmp_datum_t *values, size_t count, const char *what)
{
	act_if_arg_in(ctx, SCMP_ACT_ALLOW, nr, arg, values, count, what);
}

/* Allow @nr when (argument @arg & @mask) == @value. */
static void allow_if_masked(scmp_filter_ctx ctx, int nr, unsigned int arg,
			    scmp_datum_t mask, scmp_datum_t value, const char *what)
{
	struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value);

	add(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp, what);
}

/* Allow every name of @names that exists on x86-64; returns how many. */
static unsigned int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t count)
{
	unsigned int allowed = 0;

	for (size_t i = 0; i < count; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr < 0)	/* not an x86-64 syscall */
			continue;
		add(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, names[i]);
		allowed++;
	}
	return allowed;
}

static scmp_filter_ctx new_profile(int tree)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int err;

	if (!ctx)
		die("seccomp_init", ENOMEM);
	if (tree) {
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
		if (err)
			die("SCMP_FLTATR_CTL_OPTIMIZE", err);
	}
	return ctx;
}

static unsigned int container(scmp_filter_ctx ctx)
{
	unsigned int rules = allow_names(ctx, container_allowed, ARRAY_SIZE(container_allowed));

	allow_if_arg_in(ctx, SCMP_SYS(personality), 0, container_personalities,
			ARRAY_SIZE(container_personalities), "personality");
	allow_if_arg_in(ctx, SCMP_SYS(socket), 0, container_families,
			ARRAY_SIZE(container_families), "socket");
	allow_if_arg_in(ctx, SCMP_SYS(ioctl), 1, container_ioctls,
			ARRAY_SIZE(container_ioctls), "ioctl");
	allow_if_masked(ctx, SCMP_SYS(clone), 0, clone_namespace_flags, 0, "clone");
	add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, "clone3");
	return rules + 5;
}

/* The renderer's calls allowed outright (getppid among them: the probe). */
static const char *const renderer_allowed[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"fstat", "newfstatat", "statx", "lseek", "dup", "dup2", "dup3", "pipe2",
	"brk", "munmap", "mremap", "mincore", "msync", "membarrier",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"sigaltstack", "tgkill", "tkill", "restart_syscall", "exit",
	"exit_group", "getpid", "getppid", "gettid", "getuid", "geteuid",
	"getgid", "getegid", "getresuid", "getresgid", "getpriority",
	"sched_yield", "sched_getaffinity", "sched_getparam",
	"sched_getscheduler", "clock_gettime", "clock_getres",
	"clock_nanosleep", "gettimeofday", "nanosleep", "epoll_create1",
	"epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2", "poll", "ppoll",
	"select", "pselect6", "recvmsg", "sendmsg", "recvfrom", "sendto",
	"shutdown", "socketpair", "getsockname", "getpeername", "getsockopt",
	"setsockopt", "memfd_create", "ftruncate", "fallocate", "fsync",
	"fdatasync", "getrandom", "uname", "sysinfo", "set_robust_list",
	"get_robust_list", "set_tid_address", "rseq", "arch_prctl",
	"getcwd", "readlink", "readlinkat", "access", "faccessat", "openat",
	"open", "getdents64", "fstatfs", "statfs", "timerfd_create",
	"timerfd_settime", "timerfd_gettime", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch", "wait4", "waitid",
	"kill", "times", "getrusage", "pipe", "sched_setaffinity",
	"ioprio_get", "capget", "seccomp", "process_vm_readv", "mlock",
	"munlock", "pkey_alloc", "pkey_free", "pkey_mprotect", "sync_file_range",
	"copy_file_range", "sendfile", "splice", "io_uring_enter",
	"io_uring_setup", "io_uring_register", "signalfd4", "pidfd_open",
	"close_range",
};
static const scmp_datum_t renderer_fcntls[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC };
static const scmp_datum_t renderer_ioctls[] = { TCGETS, FIONREAD, FIOCLEX };
static const scmp_datum_t renderer_prctls[] = {
	PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_NAME, PR_GET_NAME, PR_SET_PTRACER,
	PR_SET_TIMERSLACK, PR_CAPBSET_READ,
};
static const scmp_datum_t renderer_madvises[] = {
	MADV_NORMAL, MADV_DONTNEED, MADV_FREE, MADV_DONTFORK, MADV_WIPEONFORK,
};
static const scmp_datum_t renderer_futexes[] = {
	FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE, FUTEX_WAIT_BITSET_PRIVATE,
	FUTEX_WAKE_OP_PRIVATE, FUTEX_REQUEUE_PRIVATE, FUTEX_CMP_REQUEUE_PRIVATE,
	FUTEX_LOCK_PI_PRIVATE, FUTEX_UNLOCK_PI_PRIVATE,
};
static const scmp_datum_t renderer_rlimits[] = { RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK };
static const scmp_datum_t renderer_families[] = { AF_UNIX };
/* clone() for threads: exactly these flags among the namespace and process ones. */
static const scmp_datum_t thread_clone_mask = CLONE_VM | CLONE_FS | CLONE_FILES |
	CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | 0x7e020000;
static const scmp_datum_t thread_clone_flags = CLONE_VM | CLONE_FS | CLONE_FILES |
	CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;

static unsigned int renderer(scmp_filter_ctx ctx)
{
	unsigned int rules = allow_names(ctx, renderer_allowed, ARRAY_SIZE(renderer_allowed));
	static const int rlimit_calls[] = { SCMP_SYS(getrlimit), SCMP_SYS(prlimit64) };
	static const int mapping_calls[] = { SCMP_SYS(mmap), SCMP_SYS(mprotect) };

	allow_if_arg_in(ctx, SCMP_SYS(fcntl), 1, renderer_fcntls, ARRAY_SIZE(renderer_fcntls), "fcntl");
	allow_if_arg_in(ctx, SCMP_SYS(ioctl), 1, renderer_ioctls, ARRAY_SIZE(renderer_ioctls), "ioctl");
	allow_if_arg_in(ctx, SCMP_SYS(prctl), 0, renderer_prctls, ARRAY_SIZE(renderer_prctls), "prctl");
	allow_if_arg_in(ctx, SCMP_SYS(madvise), 2, renderer_madvises,
			ARRAY_SIZE(renderer_madvises), "madvise");
	allow_if_arg_in(ctx, SCMP_SYS(futex), 1, renderer_futexes, ARRAY_SIZE(renderer_futexes), "futex");
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_calls); i++)
		allow_if_arg_in(ctx, rlimit_calls[i], rlimit_calls[i] == SCMP_SYS(prlimit64) ? 1 : 0,
				renderer_rlimits, ARRAY_SIZE(renderer_rlimits), "rlimit");
	for (size_t i = 0; i < ARRAY_SIZE(mapping_calls); i++)
		allow_if_masked(ctx, mapping_calls[i], 2, PROT_EXEC, 0, "mapping");
	allow_if_arg_in(ctx, SCMP_SYS(socket), 0, renderer_families,
			ARRAY_SIZE(renderer_families), "socket");
	allow_if_masked(ctx, SCMP_SYS(clone), 0, thread_clone_mask, thread_clone_flags, "clone");
	return rules + 10;
}

/* A service's allow-list, in the spirit of systemd's @system-service. */
static const char *const service_allowed[] = {
	"accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk",
	"capget", "chdir", "chmod", "chown", "clock_getres", "clock_gettime",
	"clock_nanosleep", "close", "close_range", "connect", "copy_file_range",
	"creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_pwait", "epoll_wait", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchown",
	"fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock",
	"fork", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "getcwd",
	"getdents", "getdents64", "getegid", "geteuid", "getgid", "getgroups",
	"getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
	"getpriority", "getrandom", "getresgid", "getresuid", "getrlimit",
	"get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
	"gettid", "gettimeofday", "getuid", "getxattr", "inotify_add_watch",
	"inotify_init", "inotify_init1", "inotify_rm_watch", "ioctl",
	"ioprio_get", "kill", "lchown", "lgetxattr", "link", "linkat",
	"listen", "listxattr", "lseek", "lstat", "madvise", "membarrier",
	"memfd_create", "mincore", "mkdir", "mkdirat", "mlock", "mremap",
	"msync", "munlock", "munmap", "nanosleep", "newfstatat", "open",
	"openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
	"pipe", "pipe2", "poll", "ppoll", "prctl", "pread64", "preadv",
	"prlimit64", "pselect6", "pwrite64", "pwritev", "read", "readahead",
	"readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
	"rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
	"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_get_priority_max", "sched_get_priority_min",
	"sched_getscheduler", "sched_yield", "seccomp", "select", "sendfile",
	"sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_tid_address",
	"setitimer", "setpgid", "setpriority", "setrlimit", "setsid",
	"setsockopt", "sigaltstack", "signalfd4", "socketpair", "splice",
	"stat", "statfs", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "sysinfo", "tee", "tgkill", "timerfd_create",
	"timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate",
	"umask", "uname", "unlink", "unlinkat", "utimensat", "vfork", "wait4",
	"waitid", "write", "writev",
};
static const scmp_datum_t service_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const scmp_datum_t service_personalities[] = { 0x0, 0xffffffff };
static const scmp_datum_t service_policies[] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE };
/* Every family a socket() may name that is not allowed: EAFNOSUPPORT. */
#define SERVICE_MAX_FAMILY 46

static unsigned int service(scmp_filter_ctx ctx)
{
	unsigned int rules = allow_names(ctx, service_allowed, ARRAY_SIZE(service_allowed));
	static const int mapping_calls[] = { SCMP_SYS(mmap), SCMP_SYS(mprotect) };

	allow_if_arg_in(ctx, SCMP_SYS(socket), 0, service_families,
			ARRAY_SIZE(service_families), "socket");
	for (scmp_datum_t family = 0; family < SERVICE_MAX_FAMILY; family++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_EQ, family);
		int listed = 0;

		for (size_t i = 0; i < ARRAY_SIZE(service_families); i++)
			listed |= service_families[i] == family;
		if (!listed)
			add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &cmp, "socket");
	}
	allow_if_masked(ctx, SCMP_SYS(clone), 0, clone_namespace_flags, 0, "clone");
	allow_if_masked(ctx, SCMP_SYS(unshare), 0, clone_namespace_flags, 0, "unshare");
	for (size_t i = 0; i < ARRAY_SIZE(mapping_calls); i++)
		allow_if_masked(ctx, mapping_calls[i], 2, PROT_EXEC, 0, "mapping");
	allow_if_arg_in(ctx, SCMP_SYS(personality), 0, service_personalities,
			ARRAY_SIZE(service_personalities), "personality");
	allow_if_arg_in(ctx, SCMP_SYS(sched_setscheduler), 1, service_policies,
			ARRAY_SIZE(service_policies), "sched_setscheduler");
	add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, "clone3");
	return rules + 8;
}

/* Writes @ctx to DIR/@name and prints its size. */
static void export(scmp_filter_ctx ctx, const char *dir, const char *name, unsigned int rules)
{
	char path[4096];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path, errno);
	err = seccomp_export_bpf(ctx, fd);
	if (err)
		die("seccomp_export_bpf", err);
	printf("profile %s: %u syscalls with a rule, %ld BPF instructions\n",
	       name, rules, (long)lseek(fd, 0, SEEK_END) / 8);
	close(fd);
	seccomp_release(ctx);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned int (*build)(scmp_filter_ctx ctx);
		int tree;
	} profiles[] = {
		{ "container.bpf", container, 0 },
		{ "renderer.bpf", renderer, 0 },
		{ "renderer-tree.bpf", renderer, 1 },
		{ "service.bpf", service, 0 },
		{ "service-tree.bpf", service, 1 },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: profiles DIR\n");
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++) {
		scmp_filter_ctx ctx = new_profile(profiles[i].tree);

		export(ctx, argv[1], profiles[i].name, profiles[i].build(ctx));
	}
	return 0;
}
