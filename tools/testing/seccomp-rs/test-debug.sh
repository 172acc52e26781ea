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
EXTRA=$SRS_CACHE/debug-extra
mkdir -p "$RESULTS"
make -s -C "$SRS_ROOT" samples stress
"$SRS_HARNESS/kselftest.sh" build
rm -rf "$EXTRA" && mkdir -p "$EXTRA"
cp -f "$SRS_CACHE"/samples/* "$SRS_CACHE"/stress/* "$SRS_CACHE/kselftest/seccomp_bpf" "$EXTRA/"

# The guest script: kmemleak forgets what boot left behind, then every
# test runs, then two scans (kmemleak wants objects to stay unreferenced
# across scans before it reports them).
GUEST='
echo clear > /sys/kernel/debug/kmemleak
./seccomp_bpf; echo "@@ seccomp_bpf exit=$?"
./strict-demo; echo "@@ strict-demo exit=$?"
echo Ada | ./bpf-direct 2>/dev/null; echo "@@ bpf-direct exit=$?"
./user-trap; echo "@@ user-trap exit=$?"
./bpf-fancy; echo "@@ bpf-fancy exit=$?"
./dropper 83 0xc000003e 1 /bin/busybox mkdir /tmp/dropped; test $? = 1; echo "@@ dropper exit=$?"
./notif-stress 6; echo "@@ notif-stress exit=$?"
./chain-stress all; echo "@@ chain-stress exit=$?"
./compat-check; echo "@@ compat-check exit=$?"
./audit-check; echo "@@ audit-check exit=$?"
./seccomp-fuzz --seed 1 --iterations 2000; echo "@@ seccomp-fuzz exit=$?"
sleep 2; echo scan > /sys/kernel/debug/kmemleak; sleep 6
echo scan > /sys/kernel/debug/kmemleak
echo "@@ kmemleak report:"; cat /sys/kernel/debug/kmemleak; echo "@@ kmemleak end"
'

failed=0
for impl in ${IMPLS:-c rust}; do
	"$SRS_HARNESS/kernel.sh" "$impl"
	log=$RESULTS/$impl.log
	rc=0
	QEMU_LOG=$log QEMU_TIMEOUT=${QEMU_TIMEOUT:-2400} \
		KERNEL_CMDLINE="panic_on_warn=1 kasan.fault=panic loglevel=7 audit=1" \
		"$SRS_HARNESS/qemu.sh" "$impl" "$GUEST" "$EXTRA" > "$RESULTS/$impl.out" || rc=$?
	verdict() { printf '%-8s %-6s %s\n' "$1" "$impl" "$2"; }
	if [ "$rc" != 0 ]; then
		verdict FAIL "guest run exited $rc (125: kernel report in $log)"
		failed=1
	fi
	python3 "$SRS_HARNESS/ktap.py" parse "$log" "$RESULTS/$impl.all.tsv" >/dev/null || true
	# The console also carries KUnit's KTAP (suite seccomp_rust_engine):
	# seccomp_bpf's cases are the FIXTURE.name ones.
	grep -P '^[^\t]*\.[^\t]*\t' "$RESULTS/$impl.all.tsv" > "$RESULTS/$impl.tsv" || true
	n_pass=$(grep -c $'\tpass$' "$RESULTS/$impl.tsv" || true)
	n_all=$(wc -l < "$RESULTS/$impl.tsv")
	if [ "$n_pass" = 99 ] && [ "$n_all" = 99 ]; then
		verdict ok "seccomp_bpf $n_pass/$n_all"
	else
		verdict FAIL "seccomp_bpf $n_pass/$n_all"; failed=1
	fi
	for prog in strict-demo bpf-direct user-trap bpf-fancy dropper notif-stress chain-stress \
		compat-check audit-check seccomp-fuzz; do
		if grep -qx "@@ $prog exit=0" "$RESULTS/$impl.out"; then
			verdict ok "$prog"
		else
			verdict FAIL "$prog"; failed=1
		fi
	done
	if [ "$impl" = rust ]; then
		kunit=$(python3 "$SRS_TREE/tools/testing/kunit/kunit.py" parse "$log" 2>&1 | tail -n 1)
		if grep -q 'Testing complete. Ran [0-9]* tests: passed: [0-9]*$' <<< "$kunit"; then
			verdict ok "KUnit seccomp_rust_engine: ${kunit#*Testing complete. }"
		else
			verdict FAIL "KUnit seccomp_rust_engine: $kunit"; failed=1
		fi
	fi
	leaks=$(sed -n '/^@@ kmemleak report:/,/^@@ kmemleak end/p' "$RESULTS/$impl.out" |
		grep -c '^unreferenced object' || true)
	if grep -q '^@@ kmemleak end' "$RESULTS/$impl.out" && [ "$leaks" = 0 ]; then
		verdict ok "kmemleak: no unreferenced objects"
	else
		verdict FAIL "kmemleak: $leaks unreferenced objects (see $RESULTS/$impl.out)"
		failed=1
	fi
done
[ "$failed" = 0 ] && echo "test-debug: PASS" || { echo "test-debug: FAIL"; exit 1; }
