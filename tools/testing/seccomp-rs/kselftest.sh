#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kselftest.sh build            build the seccomp kselftests (static) from
#                               the pinned, unmodified source
# kselftest.sh run IMPL         boot IMPL, run seccomp_bpf, keep its TAP and
#                               per-case results, judge them (C: everything
#                               passes; Rust: the ratchet passes)
# kselftest.sh compare          the C/Rust table of the last two runs

. "$(dirname "$0")/lib.sh"

KST=$SRS_CACHE/kselftest
HDRS=$SRS_CACHE/headers
RESULTS=$SRS_CACHE/results
RATCHET=$SRS_HARNESS/ratchet/seccomp_bpf.rust

build() {
	srs_bootstrap
	if [ ! -e "$HDRS/.done" ]; then
		srs_log "installing UAPI headers into $HDRS"
		make -s -C "$SRS_PRISTINE" O="$HDRS" headers >/dev/null
		: > "$HDRS/.done"
	fi
	mkdir -p "$KST"
	# The selftests Makefile writes nothing into the source with OUTPUT=.
	make -s -C "$SRS_PRISTINE/tools/testing/selftests/seccomp" OUTPUT="$KST" \
		CC=gcc LDFLAGS=-static KHDR_INCLUDES="-isystem $HDRS/usr/include" \
		>/dev/null
	for t in seccomp_bpf seccomp_benchmark; do
		[ -x "$KST/$t" ] || srs_die "kselftest $t did not build"
	done
}

run() {
	local impl=$1
	srs_impl_check "$impl"
	build
	mkdir -p "$RESULTS/$impl" "$KST/extra"
	cp -f "$KST/seccomp_bpf" "$KST/seccomp_benchmark" "$KST/extra/"
	local log=$RESULTS/$impl/seccomp_bpf.log rc=0
	QEMU_LOG=$log "$SRS_HARNESS/qemu.sh" "$impl" './seccomp_bpf' "$KST/extra" || rc=$?
	# 0: all passed; 1: some case failed (judged below); else the guest
	# or the kernel went wrong.
	case $rc in 0|1) ;; *) srs_die "seccomp_bpf run on $impl failed (exit $rc), see $log" ;; esac
	python3 "$SRS_HARNESS/ktap.py" parse "$log" "$RESULTS/$impl/seccomp_bpf.tsv"
	python3 "$SRS_HARNESS/ktap.py" check "$impl" "$RESULTS/$impl/seccomp_bpf.tsv" "$RATCHET"
}

compare() {
	python3 "$SRS_HARNESS/ktap.py" compare "$RESULTS/c/seccomp_bpf.tsv" \
		"$RESULTS/rust/seccomp_bpf.tsv" "$RATCHET" | tee "$RESULTS/comparison.txt"
}

case "${1:-}" in
build) build ;;
run) run "${2:-}" ;;
compare) compare ;;
*) srs_die "usage: kselftest.sh build | run IMPL | compare" ;;
esac
