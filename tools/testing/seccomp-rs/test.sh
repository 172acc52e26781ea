#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh all|host: the project's test run (`make test`).  Every check
# counts as passed or failed; the run ends with "N passed, N failed" and
# exits non-zero if anything failed.  Steps keep going after a failure so
# one run shows everything that is wrong.

. "$(dirname "$0")/lib.sh"

what=${1:-all}
tally=$(mktemp)
trap 'rm -f "$tally"' EXIT
RESULTS=$SRS_CACHE/results
mkdir -p "$RESULTS"

pass() { echo "pass $*" >> "$tally"; }
fail() { echo "fail $*" >> "$tally"; srs_log "FAILED: $*"; }
step() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }

# check NAME CMD...: one check, passed iff CMD exits 0.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# cargo_tests NAME DIR: run a crate's tests, counting each test.
cargo_tests() {
	local name=$1 dir=$2 out rc=0
	out=$(cd "$dir" && CARGO_TARGET_DIR=$SRS_CACHE/cargo/$name \
		cargo test --release --locked 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -E '^(test result|running|failures:|---- )|panicked' || true
	local p f
	p=$(printf '%s\n' "$out" | sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' | paste -sd+ | bc)
	f=$(printf '%s\n' "$out" | sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' | paste -sd+ | bc)
	for _ in $(seq 1 "${p:-0}"); do pass "$name test"; done
	for _ in $(seq 1 "${f:-0}"); do fail "$name test"; done
	if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		printf '%s\n' "$out" | tail -n 30
		fail "$name: cargo test exited $rc"
	fi
}

# engine_without_kunit: the engine with the cfg of a kernel whose KUnit
# suite is off (CONFIG_SECCOMP_RUST set, CONFIG_SECCOMP_RUST_KUNIT_TEST
# not): the test-only API is left out, and the rest builds without it.
engine_without_kunit() {
	local out
	out=$(cd "$SRS_ROOT/rust/engine" && RUSTFLAGS="--cfg CONFIG_SECCOMP_RUST -D warnings" \
		CARGO_TARGET_DIR=$SRS_CACHE/cargo/engine-without-kunit cargo build --release --locked --lib 2>&1) ||
		{ printf '%s\n' "$out" | tail -n 30; return 1; }
}

host() {
	step "bootstrap"
	check "bootstrap" srs_bootstrap
	step "engine: cargo test (self-tests, unit, property, fuzz replay)"
	cargo_tests engine "$SRS_ROOT/rust/engine"
	step "engine: the files as a kernel without the KUnit suite compiles them (no test reference)"
	check "engine without KUnit: builds, no warning" engine_without_kunit
	step "samples: cargo test (the filter-builder DSL's resolver)"
	cargo_tests samples "$SRS_ROOT/samples/seccomp"
	step "testkit: cargo test (the seeded generator the tests share)"
	cargo_tests testkit "$SRS_HARNESS/testkit"
	step "kernel tooling: rustfmt (kernel .rustfmt.toml) and # Safety sections"
	check "lint: rustfmt and # Safety sections" "$SRS_HARNESS/lint.sh" rustfmt safety
	step "Documentation: every .rst renders with docutils, warnings as errors"
	local rst
	for rst in $(cd "$SRS_ROOT" && find Documentation -name '*.rst' | sort); do
		check "docutils: $rst" /usr/bin/python3 -c '
import sys, docutils.core
docutils.core.publish_string(open(sys.argv[1]).read(), source_path=sys.argv[1],
    writer_name="null", settings_overrides={"halt_level": 2, "report_level": 2})
' "$SRS_ROOT/$rst"
	done
	step "samples and stress programs: static build"
	check "samples build" make -s -C "$SRS_ROOT" samples
	check "stress programs build" make -s -C "$SRS_ROOT" stress
}

# The guest checks run in one boot per kernel and kernel command line
# (suite.sh); each program's output is kept in its own log.
GUEST_RESULTS=guest
AUDIT_RESULTS=guest-audit

# guest_boots: both kernels run their checks, in the main boot and with
# audit=1 (audit-check's boot).
guest_boots() {
	local impl list
	for impl in c rust; do
		step "guest checks on IMPL=$impl: one boot (suite.sh), KTAP parsed by kunit.py"
		list=$RESULTS/$impl/guest-tests.tsv
		"$SRS_HARNESS/suite.sh" list main "$impl" > "$list"
		check "guest boot on $impl: ran to the end, no kernel report" \
			"$SRS_HARNESS/suite.sh" "$impl" "$list" "$RESULTS/$impl/$GUEST_RESULTS"
		step "guest checks on IMPL=$impl with audit=1 (audit-check)"
		list=$RESULTS/$impl/guest-audit-tests.tsv
		"$SRS_HARNESS/suite.sh" list audit "$impl" > "$list"
		check "guest boot on $impl with audit=1: ran to the end, no kernel report" \
			env KERNEL_CMDLINE=audit=1 "$SRS_HARNESS/suite.sh" "$impl" "$list" \
			"$RESULTS/$impl/$AUDIT_RESULTS"
	done
}

# guest_log IMPL NAME: the output of guest check NAME.
guest_log() {
	local log=$RESULTS/$1/$GUEST_RESULTS/$2.log
	[ -e "$log" ] || log=$RESULTS/$1/$AUDIT_RESULTS/$2.log
	echo "$log"
}

# guest_passed IMPL NAME: whether guest check NAME exited 0 (its KTAP
# result).
guest_passed() {
	grep -qxF "$2	pass" "$RESULTS/$1/$GUEST_RESULTS/results.tsv" \
		"$RESULTS/$1/$AUDIT_RESULTS/results.tsv" 2>/dev/null
}

# guest_check IMPL NAME EXPECT...: guest check NAME exited 0 and its output
# has every EXPECT line.
guest_check() {
	local impl=$1 name=$2 log want; shift 2
	log=$(guest_log "$impl" "$name")
	guest_passed "$impl" "$name" || { fail "$name on $impl (see $log)"; return; }
	for want in "$@"; do
		grep -qxF -- "$want" "$log" || { fail "$name on $impl: missing '$want'"; return; }
	done
	pass "$name on $impl"
}

kernels() {
	local impl
	for impl in c rust; do
		step "kernel: IMPL=$impl"
		mkdir -p "$RESULTS/$impl"
		check "kernel build ($impl)" "$SRS_HARNESS/kernel.sh" "$impl"
	done
	step "kselftests: building seccomp_bpf (64-bit and ia32) and seccomp_benchmark from the pinned source"
	check "kselftest build" "$SRS_HARNESS/kselftest.sh" build
	guest_boots
	local bits prog
	for bits in "" 32; do
		prog=seccomp_bpf${bits:+_$bits}
		for impl in c rust; do
			step "kselftest $prog on IMPL=$impl"
			check "$prog on $impl: every planned case ran and passed" \
				"$SRS_HARNESS/kselftest.sh" judge "$impl" "$(guest_log "$impl" "$prog")" $bits
			count_kselftest "$impl" "$prog"
		done
		step "$prog: C vs Rust"
		check "$prog: every case passes on C and on Rust" "$SRS_HARNESS/kselftest.sh" compare $bits
	done
	for impl in c rust; do
		step "samples on IMPL=$impl: strict mode, bpf-direct (stderr to /dev/null), bpf-fancy (labels), dropper, user-trap"
		guest_check "$impl" strict-demo \
			"parent: /proc/<child>/status: Seccomp: 1" \
			"parent: child was killed by SIGKILL" "strict-demo: PASS"
		guest_check "$impl" bpf-direct \
			"[ERR] What is your name?" "Hello, Ada!" \
			"[ERR] this went to stderr, and seccomp put it on stdout"
		guest_check "$impl" bpf-fancy \
			'bpf-fancy: filter of 20 instructions, 5 labels resolved' \
			'child: write(pipe, "x", 1) = -1 EPERM (only fds 1 and 2 are writable)' \
			'child: getpid() = 4242 (trapped: SIGSYS with data 0x5ec, answered by the handler)' \
			'parent: child was killed by SIGSYS' 'bpf-fancy: PASS'
		guest_check "$impl" dropper \
			"mkdir: can't create directory '/tmp/dropped': Operation not permitted" \
			'mkdir exit=1' 'mkdir exit=0' 'uname exit=159'
		guest_check "$impl" user-trap \
			'child: mkdir("/tmp/user-trap") = 0' \
			'child: mkdir("/user-trap") = -1 (permission denied)' \
			'child: read: hello from the supervisor' 'user-trap: PASS'
		step "stress on IMPL=$impl: notifications (threads trapping, supervisor killing/closing mid-wait), chains (fork storm, 32768-instruction chains, TSYNC races, ptrace suspend, JIT hardening, CVE patterns; filters freed), compat ABIs (int \$0x80 in strict and filter mode, x32, seccomp_cache's ia32 section), audit records (every action, a cancelled TRACE, ia32, actions_logged; audit=1)"
		guest_check "$impl" notif-stress 'notif-stress: PASS'
		guest_check "$impl" chain-stress 'chain-stress: PASS'
		guest_check "$impl" compat-check 'compat-check: PASS'
		guest_check "$impl" audit-check 'audit-check: PASS'
	done
	check "compat-check: the same report on C and Rust" same_report compat-check
	check "audit-check: the same records on C and Rust" same_report audit-check
	hostile_input
	differential
	for impl in c rust; do
		step "seccomp_benchmark on IMPL=$impl (reported, not judged: TCG timing is noisy)"
		benchmark "$impl"
	done
	step "boot banner of the Rust implementation, and the KUnit suite seccomp_rust_engine (run at boot; kunit.py parse of its report)"
	if grep -q "seccomp-rs: seccomp implemented in Rust" "$(guest_log rust dmesg)"; then
		pass "banner on rust"
	else
		fail "banner on rust: no 'seccomp implemented in Rust' in $(guest_log rust dmesg)"
	fi
	kunit_results "$(guest_log rust dmesg)"
	step "real clients: building libseccomp's live tests and bubblewrap's try-syscall"
	check "clients build" "$SRS_HARNESS/clients.sh" build
	for impl in c rust; do
		step "real clients on IMPL=$impl, the host's root (a host program under the dropper sample, libseccomp, bubblewrap, systemd, QEMU -sandbox, strace)"
		check "clients on $impl: every case ran and passed" "$SRS_HARNESS/clients.sh" run "$impl"
		count_kselftest "$impl" clients
	done
	step "real clients: C vs Rust"
	check "clients: every case passes on C and on Rust" "$SRS_HARNESS/clients.sh" compare
}

# kunit_results LOG: the KUnit results in a guest's console log, parsed
# with the kernel's own kunit.py; one check per case of our suite, and
# every case of engine/selftest.rs must have run.
kunit_results() {
	local out npass nfail want
	out=$(python3 "$SRS_TREE/tools/testing/kunit/kunit.py" parse "$1" 2>&1) || true
	printf '%s\n' "$out" | grep -E 'seccomp_rust_engine|FAILED|Testing complete' || true
	npass=$(grep -c '\[PASSED\] [a-z0-9_]*$' <<< "$out" || true)
	nfail=$(grep -c '\[FAILED\] [a-z0-9_]*$' <<< "$out" || true)
	for _ in $(seq 1 "$npass"); do pass "KUnit seccomp_rust_engine case"; done
	for _ in $(seq 1 "$nfail"); do fail "KUnit seccomp_rust_engine case"; done
	want=$(sed -n '/^pub static CASES/,/^];/p' "$SRS_ROOT/rust/engine/selftest.rs" |
		grep -cE '^ +[a-z0-9_]+,$')
	if ! grep -q '\[PASSED\] seccomp_rust_engine ' <<< "$out" || [ "$npass" != "$want" ]; then
		fail "KUnit suite seccomp_rust_engine: $npass of $want cases passed (log: $1)"
	fi
}

# Seeds and sizes of the fuzz and differential runs (the seed is printed;
# any other reproduces the same way).
export FUZZ_SEED=${FUZZ_SEED:-1}
export FUZZ_ITERATIONS=${FUZZ_ITERATIONS:-1000}
export DIFF_SEED=${DIFF_SEED:-1}
export DIFF_CASES=${DIFF_CASES:-100000}

# same_digests NAME UNIT: the per-block digests NAME printed on the C and
# on the Rust kernel must be the same, and there must be some.  Prints the
# first differing block.
same_digests() {
	local name=$1 re="$2 [0-9]+-[0-9]+ digest [0-9a-f]{16}" c r
	c=$(grep -oE "$re" "$(guest_log c "$name")" || true)
	r=$(grep -oE "$re" "$(guest_log rust "$name")" || true)
	[ -n "$c" ] || { echo "$name: no digests from the C kernel"; return 1; }
	if [ "$c" != "$r" ]; then
		echo "$name: $(diff <(echo "$c") <(echo "$r") | grep -c '^<') of $(wc -l <<< "$c") blocks differ; first:"
		diff <(echo "$c") <(echo "$r") | grep -m2 '^[<>]'
		return 1
	fi
	echo "$name: $(wc -l <<< "$c") blocks, the same digests on C and Rust"
}

# same_report NAME: the lines "NAME: ..." of the C and the Rust guest runs
# are the same, and there are some.
same_report() {
	local c r
	c=$(grep -o "$1: .*" "$(guest_log c "$1")" || true)
	r=$(grep -o "$1: .*" "$(guest_log rust "$1")" || true)
	[ -n "$c" ] || { echo "$1: no report from the C kernel"; return 1; }
	[ "$c" = "$r" ] || { diff <(echo "$c") <(echo "$r"); return 1; }
}

# hostile_input: the fuzzer on both kernels (only upstream's errnos, no
# report in the log), then the same results on both.
hostile_input() {
	local impl
	for impl in c rust; do
		step "hostile input on IMPL=$impl: seccomp-fuzz --seed $FUZZ_SEED --iterations $FUZZ_ITERATIONS"
		grep -E '^seccomp-fuzz: [0-9]+ iterations|FAIL' "$(guest_log "$impl" seccomp-fuzz)" || true
		guest_check "$impl" seccomp-fuzz 'seccomp-fuzz: PASS'
	done
	step "hostile input: C vs Rust, call by call (reproduce: --verbose on both)"
	check "seccomp-fuzz: C and Rust give the same results" same_digests seccomp-fuzz iterations
}

# differential: one seeded corpus of filter chains and system calls on
# both kernels.  Each run checks every outcome against its model of
# upstream; then the outcome digests of the two kernels must match, block
# by block.  On a divergence the first differing block is run again on
# both kernels with --verbose and the first differing case printed.
differential() {
	local impl out
	for impl in c rust; do
		step "differential corpus on IMPL=$impl: seccomp-diff --seed $DIFF_SEED --cases $DIFF_CASES"
		grep -E '^seccomp-diff: ([0-9]+ cases|outcomes|actions|installs|FAIL)' \
			"$(guest_log "$impl" seccomp-diff)" || true
		guest_check "$impl" seccomp-diff 'seccomp-diff: PASS'
	done
	step "differential corpus: C vs Rust, case by case"
	if out=$(same_digests seccomp-diff cases); then
		echo "$out"; pass "seccomp-diff: $DIFF_CASES cases, 0 divergences between C and Rust"
		return
	fi
	echo "$out"
	local from
	from=$(grep -m1 -oE '^< cases [0-9]+' <<< "$out" | grep -oE '[0-9]+$' || echo 0)
	for impl in c rust; do
		QEMU_LOG=$RESULTS/$impl/seccomp-diff-verbose.log "$SRS_HARNESS/qemu.sh" "$impl" \
			"./seccomp-diff --seed $DIFF_SEED --from $from --count 1000 --verbose" \
			"$SRS_CACHE/stress" > "$RESULTS/$impl/seccomp-diff-verbose.txt" 2>&1 || true
	done
	echo "first differing case (C <, Rust >; seed $DIFF_SEED, block from $from):"
	diff <(grep -E '^ *case ' "$RESULTS/c/seccomp-diff-verbose.txt") \
		<(grep -E '^ *case ' "$RESULTS/rust/seccomp-diff-verbose.txt") | head -n 6
	fail "seccomp-diff: C and Rust diverge (reproduce: ./seccomp-diff --seed $DIFF_SEED --from $from --count 1000 --verbose)"
}

# benchmark IMPL: upstream's seccomp_benchmark with a fixed sample count,
# its report kept; its own "≈" expectations are flaky under TCG, so only a
# run that did not complete counts as a failure.
benchmark() {
	local out
	out=$(guest_log "$1" seccomp_benchmark)
	grep -E '^# (getpid|Estimated)' "$out" || true
	check "seccomp_benchmark completes on $1" grep -q '^# Estimated seccomp entry overhead' "$out"
}

# count_kselftest IMPL PROG: one check per case, from the per-case results
# the run of PROG (a kselftest, or clients.sh) left; every case must pass.
count_kselftest() {
	local impl=$1 prog=$2 tsv=$RESULTS/$1/$2.tsv name status
	if [ ! -s "$tsv" ]; then fail "$prog on $impl: no results"; return; fi
	while IFS=$'\t' read -r name status; do
		case "$status" in
		pass) pass "$prog $name on $impl" ;;
		*) fail "$prog $name on $impl ($status)" ;;
		esac
	done < "$tsv"
}

# series: the upstream habits on the exported series.  `git am` of the
# exported patches onto the base must give back exactly the files the
# kernels above were built from (so the whole series builds and boots:
# that is the Rust kernel); the kernel's checkers must be clean.  A build
# after every patch is `make check-series`, outside `make test`.
series() {
	step "upstream series: make patches (git am onto the base reproduces the built tree)"
	check "series: git am of every patch reproduces the built tree" "$SRS_HARNESS/patches.sh" export
	local lint
	for lint in checkpatch clippy rustdoc; do
		step "kernel tooling: $lint (make lint)"
		check "lint: $lint" "$SRS_HARNESS/lint.sh" "$lint"
	done
}

case "$what" in
host) host ;;
all) host; kernels; series ;;
*) srs_die "usage: test.sh all|host" ;;
esac

npass=$(grep -c '^pass' "$tally" || true)
nfail=$(grep -c '^fail' "$tally" || true)
if [ "$nfail" != 0 ]; then
	step "failures"
	sed -n 's/^fail /  /p' "$tally"
fi
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
