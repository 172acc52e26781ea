#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (`make bench`): per-syscall seccomp overhead of the C and the
# Rust implementation on the same workloads, reported, not judged.
#
# Builds the static guest program (guest/) and the realistic profiles
# (profiles.c, libseccomp), then boots each kernel BENCH_RUNS
# times under TCG with instruction counting (guest time counts guest
# instructions: 1 ns each, whatever the host's load) and runs the guest
# program: on C once with the BPF JIT on (c_jit) and once off (c_interp),
# on Rust once (rust).  report.py takes medians over the runs and writes
# the table, the CSVs and the chart to $SRS_CACHE/results/bench/; the
# last line printed is bench.csv's path.
#
# Exits non-zero only if something broke: a build, a boot, a guest
# measurement, or output that does not parse.  Targets missed are reported.
#
# Then the instruction breakdown: one more boot per configuration, under
# gdb (breakdown.py), counts the kernel instructions of one call of each
# probe inside __secure_computing(), function by function.
#
# Environment: BENCH_RUNS (default 3), BENCH_ITERATIONS (syscalls timed per
# measurement, default 20000), BENCH_UPSTREAM=0 to skip upstream's
# seccomp_benchmark (run once per kernel when it has been built),
# BENCH_BREAKDOWN=0 to skip the breakdown.

set -euo pipefail
. "$(dirname "$0")/../lib.sh"

BENCH=$SRS_HARNESS/bench
OUT=$SRS_CACHE/results/bench
RUNS=${BENCH_RUNS:-3}
ITERATIONS=${BENCH_ITERATIONS:-20000}
UPSTREAM=${BENCH_UPSTREAM:-1}
BREAKDOWN=${BENCH_BREAKDOWN:-1}
GUEST_TARGET=$SRS_CACHE/cargo/bench
GUEST_BIN=$GUEST_TARGET/x86_64-unknown-linux-gnu/release/seccomp-bench
UPSTREAM_BIN=$SRS_CACHE/kselftest/seccomp_benchmark
JIT_SYSCTL=/proc/sys/net/core/bpf_jit_enable

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || srs_die "BENCH_RUNS must be a positive integer"
[[ $ITERATIONS =~ ^[1-9][0-9]*$ ]] || srs_die "BENCH_ITERATIONS must be a positive integer"

start=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT/guest" "$OUT/host" "$OUT/runs"

# --- host tools -----------------------------------------------------------
if [ ! -e /usr/include/seccomp.h ]; then
	[ "$(id -u)" = 0 ] || srs_die "libseccomp headers missing: apt-get install libseccomp-dev"
	srs_log "installing libseccomp-dev (the profiles' generator)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q libseccomp-dev >/dev/null
fi
if [ "$BREAKDOWN" = 1 ] && ! command -v gdb >/dev/null; then
	[ "$(id -u)" = 0 ] || srs_die "gdb missing (the instruction breakdown): apt-get install gdb, or BENCH_BREAKDOWN=0"
	srs_log "installing gdb (the instruction breakdown)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q gdb >/dev/null
fi
command -v gcc >/dev/null || srs_die "gcc missing: apt-get install gcc"
command -v cargo >/dev/null || srs_die "cargo missing: run 'make bootstrap'"
command -v python3 >/dev/null || srs_die "python3 missing"

# --- guest files ----------------------------------------------------------
# Static and not position-independent: the breakdown's debugger finds
# seccomp_bench_trace_mark() at its link-time address.
srs_log "building the guest program (static)"
(cd "$BENCH/guest" && CARGO_TARGET_DIR=$GUEST_TARGET \
	RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
	cargo build --quiet --release --locked --target x86_64-unknown-linux-gnu)
cp -f "$GUEST_BIN" "$OUT/guest/"

srs_log "generating the realistic profiles with libseccomp"
gcc -O2 -Wall -Wextra -Werror -o "$OUT/host/profiles" "$BENCH/profiles.c" -lseccomp
"$OUT/host/profiles" "$OUT/guest" | tee "$OUT/profiles.txt"
PROFILES=
for p in container renderer renderer-tree service service-tree; do
	PROFILES="$PROFILES --profile $p=$p.bpf"
done

if [ "$UPSTREAM" = 1 ] && [ -x "$UPSTREAM_BIN" ]; then
	cp -f "$UPSTREAM_BIN" "$OUT/guest/"
else
	UPSTREAM=0
fi

# --- kernels --------------------------------------------------------------
# The lead rebuilds kernels while this runs: boot a copy taken now (qemu.sh
# with SECCOMP_RS_CACHE pointing at it), so every run of one variant boots
# the same image.  A copy that differs from its source a moment later was
# taken mid-write.
snapshot=$OUT/kernels
for impl in c rust; do
	build=$(srs_build_dir "$impl")
	for file in arch/x86/boot/bzImage usr/gen_init_cpio System.map; do
		[ -e "$build/$file" ] || srs_die "no $build/$file: the $impl kernel is not built ('make kernel IMPL=$impl')"
		mkdir -p "$snapshot/build-$impl/$(dirname "$file")"
		cp -p "$build/$file" "$snapshot/build-$impl/$file"
	done
done
sleep 1
for impl in c rust; do
	cmp -s "$(srs_build_dir "$impl")/arch/x86/boot/bzImage" \
		"$snapshot/build-$impl/arch/x86/boot/bzImage" ||
		srs_die "the $impl kernel changed while being copied (a rebuild is running?); try again"
done
(cd "$snapshot" && sha256sum build-*/arch/x86/boot/bzImage && ls -l --time-style=+%F.%T build-*/arch/x86/boot/bzImage) \
	> "$OUT/kernels.txt"

# --- runs -----------------------------------------------------------------
# guest_command IMPL RUN: the shell command the guest runs.
guest_command() {
	local impl=$1 run=$2
	local bench="./seccomp-bench$PROFILES --iterations $ITERATIONS"
	local cmd
	if [ "$impl" = c ]; then
		cmd="$bench --config c_jit --bpf-jit 1 && $bench --config c_interp --bpf-jit 0"
	else
		cmd="$bench --config rust"
	fi
	if [ "$UPSTREAM" = 1 ] && [ "$run" = 1 ]; then
		# Upstream's benchmark with the kernel's default JIT setting; its
		# own pass/fail verdicts assume a real machine, so only its report
		# is kept.
		cmd="$cmd && { if [ -w $JIT_SYSCTL ]; then echo 1 > $JIT_SYSCTL; fi;"
		cmd="$cmd echo @@upstream-begin; ./seccomp_benchmark 100000 || echo \"seccomp_benchmark exit \$?\";"
		cmd="$cmd echo @@upstream-end; }"
	fi
	echo "$cmd"
}

for run in $(seq 1 "$RUNS"); do
	for impl in c rust; do
		out=$OUT/runs/run$run-$impl.out
		srs_log "run $run/$RUNS: $impl kernel"
		rc=0
		SECCOMP_RS_CACHE=$snapshot QEMU_ACCEL=tcg QEMU_EXTRA_ARGS="-icount shift=0,sleep=off" \
			QEMU_LOG=$OUT/runs/run$run-$impl.console QEMU_TIMEOUT=${QEMU_TIMEOUT:-900} \
			"$SRS_HARNESS/qemu.sh" "$impl" "$(guest_command "$impl" "$run")" "$OUT/guest" \
			> "$out" 2>&1 || rc=$?
		grep -E '^@bench .* (jit|error) ' "$out" >&2 || true
		if [ "$rc" != 0 ]; then
			tail -n 20 "$out" >&2
			srs_die "run $run on $impl failed (exit $rc); see $out and $OUT/runs/run$run-$impl.console"
		fi
		if [ "$UPSTREAM" = 1 ] && [ "$run" = 1 ]; then
			sed -n '/^@@upstream-begin$/,/^@@upstream-end$/p' "$out" | sed '1d;$d' \
				> "$OUT/seccomp_benchmark-$impl.txt"
		fi
	done
done

# --- instruction breakdown ------------------------------------------------
if [ "$BREAKDOWN" = 1 ]; then
	mark=$(nm "$GUEST_BIN" | awk '$3 == "seccomp_bench_trace_mark" { print $1 }')
	[ -n "$mark" ] || srs_die "no seccomp_bench_trace_mark in $GUEST_BIN"
	for config in c_jit c_interp rust; do
		impl=${config%%_*}
		case $config in
		c_jit) jit="--bpf-jit 1" ;;
		c_interp) jit="--bpf-jit 0" ;;
		*) jit= ;;
		esac
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		srs_log "instruction breakdown: $config (gdb on port $port)"
		SECCOMP_RS_CACHE=$snapshot QEMU_ACCEL=tcg QEMU_EXTRA_ARGS="-gdb tcp:127.0.0.1:$port -S" \
			QEMU_LOG=$OUT/runs/breakdown-$config.console QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800} \
			"$SRS_HARNESS/qemu.sh" "$impl" "./seccomp-bench$PROFILES --config $config $jit --trace" "$OUT/guest" \
			> "$OUT/runs/breakdown-$config.out" 2>&1 &
		qemu_pid=$!
		BREAKDOWN_PORT=$port BREAKDOWN_SYSTEM_MAP=$snapshot/build-$impl/System.map \
			BREAKDOWN_MARK=$mark BREAKDOWN_OUT=$OUT/breakdown-$config.json \
			gdb -batch -nx -x "$BENCH/breakdown.py" > "$OUT/runs/breakdown-$config.gdb" 2>&1 || {
			kill "$qemu_pid" 2>/dev/null || true
			srs_die "breakdown of $config: gdb failed; see $OUT/runs/breakdown-$config.gdb"
		}
		wait "$qemu_pid" || srs_die "breakdown of $config: the guest failed; see $OUT/runs/breakdown-$config.out"
		grep -q "^@bench $config traced" "$OUT/runs/breakdown-$config.out" ||
			srs_die "breakdown of $config: the guest did not finish; see $OUT/runs/breakdown-$config.out"
	done
fi

elapsed=$(( $(date +%s) - start ))
# The report, printed and kept beside the CSVs (report.txt).
python3 "$BENCH/report.py" --out "$OUT" --runs "$RUNS" --iterations "$ITERATIONS" \
	--elapsed "$elapsed" "$OUT"/runs/run*.out | tee "$OUT/report.txt"
