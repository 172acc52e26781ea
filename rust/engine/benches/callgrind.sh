#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Instruction counts per evaluation (callgrind, repeatable) of the shapes
# in benches/count.rs, in two builds: the host default and one like the
# kernel's retpoline build, where LLVM emits no jump tables (a `match`
# becomes a tree of compares).
# Usage: benches/callgrind.sh [ITERATIONS]
set -eu
cd "$(dirname "$0")/.."
n=${1:-2000}
for variant in plain retpoline; do
    if [ $variant = retpoline ]; then
        export RUSTC_BOOTSTRAP=1
        export RUSTFLAGS="-Zretpoline -Cunsafe-allow-abi-mismatch=retpoline"
        target=target/retpoline
    else
        target=target
    fi
    bin=$(CARGO_TARGET_DIR=$target cargo bench --bench count --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*count[^"]*\)".*/\1/p' | tail -n 1)
    for shape in ${SHAPES:-container_clone container_ioctl linear_300 worst_4096}; do
        for mode in ${MODES:-run resume}; do
            out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                --toggle-collect='*measure_*' "$bin" "$shape" "$n" "$mode" 2>&1)
            ir=$(echo "$out" | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
            echo "$variant $shape $mode: $((ir / n)) instructions per evaluation"
        done
    done
done
