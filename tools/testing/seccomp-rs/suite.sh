#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# suite.sh IMPL LIST OUT: run the guest checks of LIST in one boot of the
# IMPL kernel (qemu.sh; KERNEL_CMDLINE and QEMU_TIMEOUT as there).
#
# LIST has one test a line, "NAME<TAB>DIR<TAB>COMMAND": COMMAND runs with
# /bin/sh in a copy of DIR (samples, stress programs, kselftests), at most
# $SUITE_TEST_TIMEOUT seconds (default 900).  The guest reports the tests
# as KTAP on the console, each test's output as "# " lines before its
# result line ("ok N NAME" when COMMAND exits 0).  Afterwards OUT holds:
#   console.log  the whole serial console
#   NAME.log     the output of test NAME, as the program wrote it
#   ktap.log     the suite's KTAP, which the kernel's kunit.py parses into
#   results.tsv  "NAME<TAB>pass|fail", one line a test of LIST
# Exits 0 when the guest ran to the end without a kernel report (each
# test's own verdict is in results.tsv), else as qemu.sh does.
#
# suite.sh list PROFILE IMPL: the guest checks, as a LIST for IMPL, of
#   main   `make test`'s boot: kselftests, samples, stress, fuzzer,
#          differential corpus, seccomp_benchmark
#   audit  `make test`'s boot with audit=1: the audit records
#   debug  `make test-debug`'s boot (audit=1 too): what the debug kernels
#          have time for, with kmemleak cleared first and scanned last
# The kernel log comes first, while it still holds the boot's KUnit report.
# FUZZ_SEED, FUZZ_ITERATIONS, DIFF_SEED and DIFF_CASES size the fuzzer and
# the differential corpus.

. "$(dirname "$0")/lib.sh"

list() {
	local profile=$1 impl=$2 samples=$SRS_CACHE/samples stress=$SRS_CACHE/stress
	local kst=$SRS_CACHE/kselftest/extra
	t() { printf '%s\t%s\t%s\n' "$@"; }
	srs_impl_check "$impl"
	case $profile in
	main | debug) ;;
	audit) t audit-check "$stress" './audit-check'; return ;;
	*) srs_die "suite.sh list: PROFILE is main, audit or debug" ;;
	esac
	t dmesg "$samples" 'dmesg'
	[ "$profile" = debug ] && t kmemleak-clear "$samples" 'echo clear > /sys/kernel/debug/kmemleak'
	t seccomp_bpf "$kst" './seccomp_bpf'
	[ "$profile" = main ] && t seccomp_bpf_32 "$kst" './seccomp_bpf_32'
	t strict-demo "$samples" './strict-demo'
	t bpf-direct "$samples" 'echo Ada | ./bpf-direct 2>/dev/null'
	t bpf-fancy "$samples" './bpf-fancy'
	# mkdir denied to native callers only (EPERM), uname killed (SIGSYS).
	t dropper "$samples" './dropper 83 0xc000003e 1 /bin/busybox mkdir /tmp/dropped; a=$?; echo "mkdir exit=$a"; ./dropper 83 0x40000003 1 /bin/busybox mkdir /tmp/kept; b=$?; echo "mkdir exit=$b"; ./dropper 63 0xc000003e -1 /bin/busybox uname; c=$?; echo "uname exit=$c"; test "$a $b $c" = "1 0 159"'
	t user-trap "$samples" './user-trap'
	# Fewer threads on the debug kernels, where each costs many times more.
	if [ "$profile" = main ]; then
		t notif-stress "$stress" './notif-stress 12'
	else
		t notif-stress "$stress" './notif-stress 6'
	fi
	t chain-stress "$stress" './chain-stress all'
	t compat-check "$stress" './compat-check'
	[ "$profile" = debug ] && t audit-check "$stress" './audit-check'
	t seccomp-fuzz "$stress" "./seccomp-fuzz --seed ${FUZZ_SEED:-1} --iterations ${FUZZ_ITERATIONS:-1000}"
	if [ "$profile" = debug ]; then
		t kmemleak "$samples" 'sleep 2; echo scan > /sys/kernel/debug/kmemleak; sleep 6; echo scan > /sys/kernel/debug/kmemleak; cat /sys/kernel/debug/kmemleak'
		return
	fi
	# Rust's cache analysis proves more system calls constant-allowed than
	# upstream's emulator (README, "Differences"): its seccomp_cache may
	# list more ALLOW lines, each still checked.
	local extra=
	[ "$impl" = rust ] && extra=--cache-may-allow-more
	t seccomp-diff "$stress" "./seccomp-diff --seed ${DIFF_SEED:-1} --cases ${DIFF_CASES:-100000} $extra"
	# Its own "≈" expectations are flaky under TCG: it counts as run when
	# it completes (benchmark in test.sh), whatever its exit status.
	t seccomp_benchmark "$kst" './seccomp_benchmark 100000; echo "seccomp_benchmark: exit $?"'
}
if [ "${1:-}" = list ]; then
	list "${2:-}" "${3:-}"
	exit 0
fi

IMPL=${1:-}
LIST=${2:-}
OUT=${3:-}
srs_impl_check "$IMPL"
[ -r "$LIST" ] && [ -n "$OUT" ] || srs_die "usage: suite.sh IMPL LIST OUT"

guest=$(mktemp -d)
trap 'rm -rf "$guest"' EXIT
rm -rf "$OUT" && mkdir -p "$OUT"

# The guest directory: each DIR of LIST once, the tests' commands and the
# script that runs them.
mkdir "$guest/suite"
{
	echo 'echo "@@seccomp-rs: suite begin@@"'
	echo 'echo "KTAP version 1"'
	echo "echo 1..$(grep -c . "$LIST")"
	echo 'run() {'
	echo '	(cd "/extra/$3" && timeout '"${SUITE_TEST_TIMEOUT:-900}"' sh "/extra/suite/$2.sh") > /tmp/suite.out 2>&1'
	echo '	rc=$?'
	echo '	echo "@@seccomp-rs: output of $2@@"'
	echo '	sed "s/^/# /" /tmp/suite.out'
	echo '	if [ $rc = 0 ]; then echo "ok $1 $2"; else echo "not ok $1 $2 # exit $rc"; fi'
	echo '}'
} > "$guest/suite/run.sh"
n=0
while IFS=$'\t' read -r name dir cmd; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	[ -d "$guest/$(basename "$dir")" ] || cp -r "$dir" "$guest/$(basename "$dir")"
	printf '%s\n' "$cmd" > "$guest/suite/$name.sh"
	echo "run $n $name $(basename "$dir")" >> "$guest/suite/run.sh"
done < "$LIST"
echo 'echo "@@seccomp-rs: suite end@@"' >> "$guest/suite/run.sh"

# The result lines as they come.
set +e
QEMU_LOG=$OUT/console.log "$SRS_HARNESS/qemu.sh" "$IMPL" 'cd /extra && sh suite/run.sh' "$guest" |
	grep --line-buffered -E '^(not )?ok [0-9]+ '
rc=${PIPESTATUS[0]}
set -e

# The suite's KTAP, and each test's output without its "# ".
sed -n '/^@@seccomp-rs: suite begin@@$/,/^@@seccomp-rs: suite end@@$/p' "$OUT/console.log" > "$OUT/suite.log"
grep -v '^@@seccomp-rs: ' "$OUT/suite.log" > "$OUT/ktap.log" || true
awk -v out="$OUT" '
	/^@@seccomp-rs: output of .*@@$/ {
		name = $0; sub(/^@@seccomp-rs: output of /, "", name); sub(/@@$/, "", name)
		file = out "/" name ".log"; printf "" > file; next
	}
	/^(not )?ok [0-9]+ / { file = "" }
	file != "" && /^# / { print substr($0, 3) > file }
' "$OUT/suite.log"
rm -f "$OUT/suite.log"
python3 "$SRS_TREE/tools/testing/kunit/kunit.py" parse "$OUT/ktap.log" > "$OUT/kunit.txt" 2>&1 || true
while IFS=$'\t' read -r name _; do
	[ -n "$name" ] || continue
	if grep -qE "\[PASSED\] $name\$" "$OUT/kunit.txt"; then
		printf '%s\tpass\n' "$name"
	else
		printf '%s\tfail\n' "$name"
	fi
done < "$LIST" > "$OUT/results.tsv"
exit "$rc"
