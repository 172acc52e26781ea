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

. "$(dirname "$0")/lib.sh"

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
