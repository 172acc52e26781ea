#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kselftest.sh build            build the seccomp kselftests (static) from
#                               the pinned, unmodified source: 64-bit, and
#                               seccomp_bpf again as an ia32 program (-m32),
#                               copied into the guest's directory extra/
# kselftest.sh run IMPL [32]    boot IMPL, run seccomp_bpf (or its ia32
#                               build), keep its TAP and per-case results;
#                               every case must pass
# kselftest.sh judge IMPL LOG [32]
#                               the same for a run's output in LOG (make
#                               test runs it among its guest checks)
# kselftest.sh compare [32]     the C/Rust table of the last two runs

. "$(dirname "$0")/lib.sh"

KST=$SRS_CACHE/kselftest
HDRS=$SRS_CACHE/headers
RESULTS=$SRS_CACHE/results

build() {
	srs_bootstrap
	if [ ! -e "$HDRS/.done" ]; then
		srs_log "installing UAPI headers into $HDRS"
		make -s -C "$SRS_PRISTINE" O="$HDRS" headers >/dev/null
		: > "$HDRS/.done"
	fi
	mkdir -p "$KST/m32"
	# The selftests Makefile writes nothing into the source with OUTPUT=.
	local mk=(make -s -C "$SRS_PRISTINE/tools/testing/selftests/seccomp"
		KHDR_INCLUDES="-isystem $HDRS/usr/include")
	"${mk[@]}" OUTPUT="$KST" CC=gcc LDFLAGS=-static >/dev/null
	# ia32: the same source for the compat ABI (gcc-multilib, and the
	# bootstrap's unpacked libcap-dev:i386).
	"${mk[@]}" OUTPUT="$KST/m32" CC="gcc -m32" \
		LDFLAGS="-static -L$SRS_I386/usr/lib/i386-linux-gnu" "$KST/m32/seccomp_bpf" >/dev/null
	cp -f "$KST/m32/seccomp_bpf" "$KST/seccomp_bpf_32"
	for t in seccomp_bpf seccomp_benchmark seccomp_bpf_32; do
		[ -x "$KST/$t" ] || srs_die "kselftest $t did not build"
	done
	# ELF class 1 (32-bit), machine 3 (EM_386).
	[ "$(od -An -tu1 -j4 -N1 "$KST/seccomp_bpf_32" | tr -d ' ')" = 1 ] &&
	[ "$(od -An -tu2 -j18 -N2 "$KST/seccomp_bpf_32" | tr -d ' ')" = 3 ] ||
		srs_die "$KST/seccomp_bpf_32 is not an ia32 program"
	# The guest's copy: only the programs.
	mkdir -p "$KST/extra"
	cp -f "$KST/seccomp_bpf" "$KST/seccomp_bpf_32" "$KST/seccomp_benchmark" "$KST/extra/"
}

# flavour [32]: the program's name and its results' stem.
flavour() {
	case "${1:-}" in
	"") echo seccomp_bpf ;;
	32) echo seccomp_bpf_32 ;;
	*) srs_die "flavour must be empty or 32 (got '$1')" ;;
	esac
}

run() {
	local impl=$1 prog
	srs_impl_check "$impl"
	prog=$(flavour "${2:-}")
	build
	mkdir -p "$RESULTS/$impl"
	local log=$RESULTS/$impl/$prog.log rc=0
	QEMU_LOG=$log "$SRS_HARNESS/qemu.sh" "$impl" "./$prog" "$KST/extra" || rc=$?
	# 0: all passed; 1: some case failed (judged below); else the guest
	# or the kernel went wrong.
	case $rc in 0|1) ;; *) srs_die "$prog run on $impl failed (exit $rc), see $log" ;; esac
	judge "$impl" "$log" "${2:-}"
}

judge() {
	local impl=$1 log=$2 prog
	srs_impl_check "$impl"
	prog=$(flavour "${3:-}")
	mkdir -p "$RESULTS/$impl"
	python3 "$SRS_HARNESS/ktap.py" parse "$log" "$RESULTS/$impl/$prog.tsv"
	python3 "$SRS_HARNESS/ktap.py" check "$prog on $impl" "$RESULTS/$impl/$prog.tsv"
}

compare() {
	local prog
	prog=$(flavour "${1:-}")
	python3 "$SRS_HARNESS/ktap.py" compare "$RESULTS/c/$prog.tsv" \
		"$RESULTS/rust/$prog.tsv" | tee "$RESULTS/$prog.comparison.txt"
}

case "${1:-}" in
build) build ;;
run) run "${2:-}" "${3:-}" ;;
judge) judge "${2:-}" "${3:-}" "${4:-}" ;;
compare) compare "${2:-}" ;;
*) srs_die "usage: kselftest.sh build | run IMPL [32] | judge IMPL LOG [32] | compare [32]" ;;
esac
