#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# clients.sh: real seccomp users, unmodified, on either kernel (`make test`,
# `make clients`).  qemu.sh boots the kernel on the host's own root
# (QEMU_ROOT=host) and one guest script runs them all, reporting one TAP
# line per case:
#
#   host/*           the kernel is the one asked for, and a host program
#                    (dynamic, the host's mkdir) runs under a filter of ours
#                    (the dropper sample denying mkdir)
#   libseccomp-c/*, libseccomp-python/*   libseccomp's live regression tests
#       (Debian source package, built against the installed libseccomp as its
#       testsuite-live and testsuite-live-python3 autopkgtests do)
#   bubblewrap/*     bubblewrap's tests/test-seccomp.py with the system's bwrap
#                    and python3-seccomp
#   systemd/*        systemd's test-seccomp (package systemd-tests)
#   qemu/*           qemu-system-x86_64 -sandbox on,...: a spawn under
#                    spawn=allow carries QEMU's filters; under spawn=deny
#                    QEMU is killed by SIGSYS
#   strace/*         strace --seccomp-bpf: the traced calls, and an injected
#                    error, through SECCOMP_RET_TRACE stops
#
#   clients.sh build        build the test programs from the sources the
#                           bootstrap unpacked into $SRS_CLIENTS
#   clients.sh run IMPL     boot IMPL, run them; per-case results in
#                           results/IMPL/clients.tsv, every case must pass
#   clients.sh compare      the same results on C and Rust
#   clients.sh guest DIR SAMPLES IMPL
#                           (in the guest) the clients built in DIR, as TAP

. "$(dirname "$0")/lib.sh"

RESULTS=$SRS_CACHE/results
LIBSECCOMP=$SRS_CLIENTS/libseccomp
BWRAP_SRC=$SRS_CLIENTS/bubblewrap

# build: what the autopkgtests build, against the installed libraries.
build() {
	local t
	cd "$LIBSECCOMP/tests"
	for t in scmp_api_level scmp_arch_detect scmp_sys_resolver; do
		gcc -O2 -g "../tools/$t.c" ../tools/util.c -lseccomp -o "../tools/$t"
	done
	for t in *-live-*.tests; do
		gcc -O2 -g "${t%.tests}.c" util.c -pthread -lseccomp -o "${t%.tests}"
	done
	gcc -O2 -g "$BWRAP_SRC/tests/try-syscall.c" -o "$BWRAP_SRC/tests/try-syscall"
}

run() {
	local impl=$1 log rc=0
	srs_impl_check "$impl"
	mkdir -p "$RESULTS/$impl"
	log=$RESULTS/$impl/clients.log
	QEMU_ROOT=host QEMU_LOG=$RESULTS/$impl/clients-console.log "$SRS_HARNESS/qemu.sh" "$impl" \
		"$SRS_HARNESS/clients.sh guest $SRS_CLIENTS $SRS_CACHE/samples $impl" > "$log" 2>&1 || rc=$?
	grep -E '^(not ok|ok) ' "$log" || true
	python3 "$SRS_HARNESS/ktap.py" parse "$log" "$RESULTS/$impl/clients.tsv"
	python3 "$SRS_HARNESS/ktap.py" check "clients on $impl" "$RESULTS/$impl/clients.tsv"
	# The guest script always exits 0: anything else is qemu.sh's report
	# (a kernel problem, a timeout).
	[ "$rc" = 0 ] || srs_die "clients on $impl: qemu.sh exit status $rc (see $log)"
}

compare() {
	python3 "$SRS_HARNESS/ktap.py" compare "$RESULTS/c/clients.tsv" \
		"$RESULTS/rust/clients.tsv" | tee "$RESULTS/clients.comparison.txt"
}

# --- in the guest ---------------------------------------------------------------
# Each client's own output is shown as TAP comments; its verdicts as
# "ok N name" / "not ok N name"; the plan comes last.
WORK=/tmp/seccomp-rs-clients
n=0
tap() {		# ok|fail NAME [DIRECTIVE]
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n $2${3:+ # $3}"; else echo "not ok $n $2"; fi
}
show() { sed 's/^/# /' "$@"; }
verdict() {	# NAME CMD...: one case, ok iff CMD exits 0
	local name=$1; shift
	if "$@"; then tap ok "$name"; else tap fail "$name"; fi
}

# libseccomp MODE: regression -T live over the live batches only (the
# others are simulator tests, slow to skip one by one in a guest).
libseccomp() {
	local mode=$1 out=$WORK/libseccomp-$1.out t want got name result batches=()
	cd "$WORK/libseccomp/tests"
	for t in *-live-*.tests; do batches+=(-b "${t%.tests}"); done
	want=$(grep -chE '^[0-9]+-live-' ./*-live-*.tests | paste -sd+ | bc)
	PATH=$WORK/python:$PATH ./regression -T live -m "$mode" "${batches[@]}" > "$out" 2>&1
	show "$out"
	got=0
	while read -r _ name _ result _; do
		got=$((got + 1))
		if [ "$result" = SUCCESS ]; then tap ok "libseccomp-$mode/$name"
		else tap fail "libseccomp-$mode/$name"; fi
	done < <(grep -E '^Test [^ ]+ result: ' "$out")
	[ "$got" = "$want" ] || tap fail "libseccomp-$mode/$want-cases-reported"
}

# bubblewrap: test-seccomp.py's unittest cases, one verdict each (a skip,
# e.g. "cannot run bwrap", is a failure).
bubblewrap() {
	local out=$WORK/bubblewrap.out res=$WORK/bubblewrap.res name status
	cd "$WORK/bubblewrap/tests"
	BWRAP=$(command -v bwrap) python3 - "$res" > "$out" 2>&1 <<'EOF'
import importlib.util, sys, unittest
spec = importlib.util.spec_from_file_location("test_seccomp", "test-seccomp.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
cases = [case for test in suite for case in test]  # run() empties the suite
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
bad = {t.id() for t, _ in result.failures + result.errors}
skipped = {t.id() for t, _ in result.skipped}
with open(sys.argv[1], "w") as res:
    for case in cases:
        status = "fail" if case.id() in bad else "skip" if case.id() in skipped else "ok"
        res.write("%s %s\n" % (case.id().rsplit(".", 1)[1], status))
EOF
	show "$out"
	[ -s "$res" ] || { tap fail bubblewrap/test-seccomp.py; return; }
	while read -r name status; do
		case $status in
		ok) tap ok "bubblewrap/$name" ;;
		skip) tap ok "bubblewrap/$name" SKIP ;;
		*) tap fail "bubblewrap/$name" ;;
		esac
	done < "$res"
}

# systemd: test-seccomp runs its cases in order and aborts on the first
# failure.  It skips some cases in a container, which it takes the host's
# /.dockerenv (seen through the host root) to mean: it runs as PID 1 of a new PID
# namespace with an empty $container, which systemd takes as "no container".
systemd() {
	local out=$WORK/systemd.out rc=0 tests name last
	unshare --pid --fork --mount-proc env container= \
		/usr/lib/systemd/tests/test-seccomp > "$out" 2>&1 || rc=$?
	grep -v '^seccomp-arch: ' "$out" | show
	if [ "$rc" = 77 ]; then tap ok systemd/test-seccomp SKIP; return; fi
	mapfile -t tests < <(sed -n 's|^/\* \(test_[a-z0-9_]*\) \*/$|\1|p' "$out")
	[ ${#tests[@]} -gt 0 ] || { tap fail "systemd/test-seccomp-exit-$rc"; return; }
	last=${tests[-1]}
	for name in "${tests[@]}"; do
		if [ "$name" = "$last" ] && [ "$rc" != 0 ]; then tap fail "systemd/$name"
		elif grep -q "skipping $name\$" "$out"; then tap ok "systemd/$name" SKIP
		else tap ok "systemd/$name"; fi
	done
}

# qemu SPAWN: QEMU with every -sandbox set denied but spawn=SPAWN, asked by
# its monitor to migrate to a command.  The spawned command inherits QEMU's
# filters and reports them; with spawn=deny the fork is fatal (SIGSYS).
qemu() {
	local spawn=$1 out=$WORK/qemu-$1.out seen=$WORK/qemu-$1.seen rc=0 i
	printf 'migrate "exec:grep ^Seccomp /proc/self/status > %s"\nquit\n' "$seen" |
		timeout 300 qemu-system-x86_64 -machine none -nodefaults -display none \
			-sandbox "on,obsolete=deny,elevateprivileges=deny,spawn=$spawn,resourcecontrol=deny" \
			-monitor stdio > "$out" 2>&1 || rc=$?
	tr -cd '[:print:]\n' < "$out" | grep -v '^(qemu)' | show
	if [ "$spawn" = deny ]; then
		sleep 1
		echo "# exit status $rc"
		[ "$rc" = 159 ] && [ ! -e "$seen" ]
		return
	fi
	for i in $(seq 1 60); do [ -s "$seen" ] && break; sleep 1; done
	show "$seen"
	[ "$rc" = 0 ] && grep -qx 'Seccomp:[[:space:]]*2' "$seen" &&
		grep -qE '^Seccomp_filters:[[:space:]]*[1-9]' "$seen"
}

# strace_calls: strace --seccomp-bpf -f sees exactly the traced calls.
strace_calls() {
	local trace=$WORK/strace.trace d=$WORK/strace-dir
	strace -f -qq --seccomp-bpf -e trace=mkdir,rmdir -e signal=none -o "$trace" \
		sh -c "mkdir $d && ls / > /dev/null && rmdir $d" 2> "$WORK/strace.err"
	show "$trace" "$WORK/strace.err"
	[ ! -s "$WORK/strace.err" ] &&
		[ "$(sed -E 's/^[0-9]+ +//; s/ +/ /g' "$trace")" = "mkdir(\"$d\", 0777) = 0
rmdir(\"$d\") = 0" ]
}

# strace_inject: an error injected at the TRACE stop is what mkdir returns.
strace_inject() {
	local trace=$WORK/strace-inject.trace d=$WORK/strace-injected
	strace -f -qq --seccomp-bpf -e trace=mkdir -e inject=mkdir:error=EACCES -o "$trace" \
		mkdir "$d" > "$WORK/strace-inject.out" 2>&1
	show "$trace" "$WORK/strace-inject.out"
	[ ! -e "$d" ] && grep -q '= -1 EACCES (Permission denied) (INJECTED)$' "$trace" &&
		grep -q 'Permission denied' "$WORK/strace-inject.out"
}

# host_kernel IMPL: the guest runs the IMPL kernel (the Rust one prints
# its banner).
host_kernel() {
	local want=0 got
	[ "$1" = rust ] && want=1
	got=$(dmesg | grep -c 'seccomp implemented in Rust')
	echo "# kernel: $(uname -r); seccomp implemented in Rust: $got"
	[ "$got" = "$want" ]
}

# host_dropper SAMPLES: the dropper sample (static) denies mkdir() to the
# host's own, dynamically linked, mkdir.
host_dropper() {
	local out=$WORK/dropper.out rc=0
	"$1/dropper" 83 0xc000003e 1 /usr/bin/mkdir "$WORK/dropped" > "$out" 2>&1 || rc=$?
	show "$out"
	echo "# mkdir exit status $rc"
	[ "$rc" = 1 ] && [ ! -e "$WORK/dropped" ] &&
		grep -q 'mkdir: cannot create directory.*Operation not permitted' "$out"
}

guest() {
	# Every case is run and reported, whatever failed before it.
	set +e +o pipefail
	LIBSECCOMP=$1/libseccomp BWRAP_SRC=$1/bubblewrap
	rm -rf "$WORK"
	mkdir -p "$WORK/python"
	cp -a "$LIBSECCOMP" "$WORK/libseccomp"
	cp -a "$BWRAP_SRC" "$WORK/bubblewrap"
	# regression -m python runs "python" (as the autopkgtest arranges).
	ln -s /usr/bin/python3 "$WORK/python/python"
	verdict host/kernel-is-the-one-asked-for host_kernel "$3"
	verdict host/dropper-denies-mkdir-to-a-host-program host_dropper "$2"
	libseccomp c
	libseccomp python
	bubblewrap
	systemd
	verdict qemu/sandbox-spawn-allowed-inherits-filters qemu allow
	verdict qemu/sandbox-spawn-denied-killed-by-sigsys qemu deny
	verdict strace/seccomp-bpf-traced-calls strace_calls
	verdict strace/seccomp-bpf-injected-error strace_inject
	echo "1..$n"
}

case ${1:-} in
build) build ;;
run) run "${2:-}" ;;
compare) compare ;;
guest) guest "${2:?}" "${3:?}" "${4:?}" ;;
*) srs_die "usage: clients.sh build | run IMPL | compare | guest" ;;
esac
