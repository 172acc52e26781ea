#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-debug.sh: `make test-debug`.  Builds both variants with the
# kernel's debugging tools (config/debug.config: KASAN, UBSAN, KMEMLEAK,
# lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS) and, in one boot
# per variant with panic_on_warn, runs every seccomp_bpf case, the samples
# and the stress cases, then forces a kmemleak scan.  Any report in the
# guest log, any failing case and any leak fails the run.  IMPLS="rust"
# (or "c") limits the run to one variant.

export DEBUG=1
. "$(dirname "$0")/lib.sh"

RESULTS=$SRS_CACHE/results-debug
mkdir -p "$RESULTS"
make -s -C "$SRS_ROOT" samples stress
"$SRS_HARNESS/kselftest.sh" build

# The guest checks (suite.sh list debug, one boot per variant): kmemleak
# forgets what boot left behind, then every test runs, then two scans
# (kmemleak wants objects to stay unreferenced across scans before it
# reports them).  The fuzzer runs twice as long as in `make test`.
export FUZZ_ITERATIONS=${FUZZ_ITERATIONS:-2000}

failed=0
for impl in ${IMPLS:-c rust}; do
	"$SRS_HARNESS/kernel.sh" "$impl"
	out=$RESULTS/$impl
	rc=0
	"$SRS_HARNESS/suite.sh" list debug "$impl" > "$RESULTS/$impl-tests.tsv"
	QEMU_TIMEOUT=${QEMU_TIMEOUT:-2400} \
		KERNEL_CMDLINE="panic_on_warn=1 kasan.fault=panic loglevel=7 audit=1" \
		"$SRS_HARNESS/suite.sh" "$impl" "$RESULTS/$impl-tests.tsv" "$out" || rc=$?
	verdict() { printf '%-8s %-6s %s\n' "$1" "$impl" "$2"; }
	if [ "$rc" != 0 ]; then
		verdict FAIL "guest run exited $rc (125: kernel report in $out/console.log)"
		failed=1
	fi
	python3 "$SRS_HARNESS/ktap.py" parse "$out/seccomp_bpf.log" "$out/seccomp_bpf.tsv" >/dev/null || true
	n_pass=$(grep -c $'\tpass$' "$out/seccomp_bpf.tsv" || true)
	n_all=$(wc -l < "$out/seccomp_bpf.tsv" || echo 0)
	if [ "$n_pass" = 99 ] && [ "$n_all" = 99 ]; then
		verdict ok "seccomp_bpf $n_pass/$n_all"
	else
		verdict FAIL "seccomp_bpf $n_pass/$n_all"; failed=1
	fi
	# Every check but those judged below by their output.
	for prog in $(cut -f1 "$RESULTS/$impl-tests.tsv" | grep -vxE 'dmesg|kmemleak(-clear)?|seccomp_bpf'); do
		if grep -qx "$prog	pass" "$out/results.tsv"; then
			verdict ok "$prog"
		else
			verdict FAIL "$prog"; failed=1
		fi
	done
	if [ "$impl" = rust ]; then
		kunit=$(python3 "$SRS_TREE/tools/testing/kunit/kunit.py" parse "$out/dmesg.log" 2>&1 | tail -n 1)
		if grep -q 'Testing complete. Ran [0-9]* tests: passed: [0-9]*$' <<< "$kunit"; then
			verdict ok "KUnit seccomp_rust_engine: ${kunit#*Testing complete. }"
		else
			verdict FAIL "KUnit seccomp_rust_engine: $kunit"; failed=1
		fi
	fi
	leaks=$(grep -c '^unreferenced object' "$out/kmemleak.log" || true)
	if grep -qx "kmemleak	pass" "$out/results.tsv" && [ "$leaks" = 0 ]; then
		verdict ok "kmemleak: no unreferenced objects"
	else
		verdict FAIL "kmemleak: $leaks unreferenced objects (see $out/kmemleak.log)"
		failed=1
	fi
done
[ "$failed" = 0 ] && echo "test-debug: PASS" || { echo "test-debug: FAIL"; exit 1; }
