#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh [check...]: the kernel's own checks on the work (`make lint`).
#
#   checkpatch  scripts/checkpatch.pl --strict on every exported patch
#               (patches.sh export first); the types ignored are listed
#               and justified below and in the cover letter
#   rustfmt     rustfmt --check with the kernel's .rustfmt.toml on rust/*.rs
#               and rust/engine/*.rs (what `make rustfmtcheck` does, minus
#               a build tree), and on the user-space crates with theirs
#   clippy      a CLIPPY=1 build of kernel/seccomp_rust/ (rust config) in
#               the tree with the exported series applied, in check-series'
#               O= dir ($SRS_CACHE/build-series): no warning from it
#   rustdoc     `make rustdoc` (the kernel crate, with our helpers and
#               bindings) and rustdoc of our built-in crate, which `make
#               rustdoc` does not cover, with its kbuild flags: no warning
#   safety      every `unsafe fn` in rust/ has a `# Safety` doc section
#               (clippy's missing_safety_doc sees public ones only; the
#               `// SAFETY:` comments of unsafe blocks and impls are the
#               kernel's undocumented_unsafe_blocks, in the clippy check)
#
# One line "PASS|FAIL check: ..." per check, details in $SRS_CACHE/logs/
# lint-CHECK.log, a summary last; exits non-zero if any check fails.

. "$(dirname "$0")/lib.sh"
export LC_ALL=C

CHECKS=(checkpatch rustfmt clippy rustdoc safety)
[ $# -eq 0 ] || CHECKS=("$@")
LOGS=$SRS_CACHE/logs
mkdir -p "$LOGS"
CLIPPY_BUILD=$SRS_CACHE/build-series	# patches.sh: check-series' O= dir
# rustc, rustdoc, rustfmt and clippy-driver: the pinned toolchain (lib.sh).
CLIPPY_DRIVER=$SRS_CLIPPY_DRIVER

# checkpatch message types not counted, each with its reason (also in the
# cover letter, tools/testing/seccomp-rs/patches-notes.txt):
CHECKPATCH_IGNORE=(
	# "added, moved or deleted file(s), does MAINTAINERS need updating?":
	# a MAINTAINERS entry is for the maintainers to decide; the series
	# does not claim one.
	FILE_PATH_CHANGES
)

pass=() fail=()
result() {	# result PASS|FAIL CHECK MESSAGE
	printf '%s %s: %s\n' "$1" "$2" "$3"
	if [ "$1" = PASS ]; then pass+=("$2"); else fail+=("$2"); fi
}

lint_checkpatch() {
	local log=$LOGS/lint-checkpatch.log p out n=0 bad=0
	"$SRS_HARNESS/patches.sh" export > "$log.export" 2>&1 || {
		cat "$log.export"; result FAIL checkpatch "patches.sh export failed"; return; }
	: > "$log"
	for p in "$SRS_CACHE"/patches-out/0*.patch; do
		[[ $p == */0000-cover-letter.patch ]] && continue
		n=$((n + 1))
		out=$(cd "$SRS_PRISTINE" && perl scripts/checkpatch.pl --strict --no-color \
			--show-types --ignore "$(IFS=,; echo "${CHECKPATCH_IGNORE[*]}")" \
			--summary-file "$p" 2>&1) || bad=1
		printf '=== %s\n%s\n' "${p##*/}" "$out" >> "$log"
		grep -q ' 0 errors, 0 warnings, 0 checks' <<< "$out" || bad=1
	done
	grep -E '^(ERROR|WARNING|CHECK):|^#[0-9]+: FILE:|^===' "$log" | sed 's/^/    /'
	if [ $bad = 0 ]; then
		result PASS checkpatch "$n patches, 0 errors/warnings/checks (ignored: ${CHECKPATCH_IGNORE[*]})"
	else
		result FAIL checkpatch "findings above (log: $log)"
	fi
}

# The user-space crates (samples, stress, benchmark guest, test kit): each is
# formatted with its own rustfmt.toml.
USER_CRATES=(samples/seccomp tools/testing/seccomp-rs/stress tools/testing/seccomp-rs/bench/guest tools/testing/seccomp-rs/testkit)

lint_rustfmt() {
	local log=$LOGS/lint-rustfmt.log crate ok=1
	(cd "$SRS_ROOT" && "$RUSTFMT" --check --edition 2021 \
		--config-path "$SRS_PRISTINE/.rustfmt.toml" rust/*.rs rust/engine/*.rs) > "$log" 2>&1 || ok=0
	for crate in "${USER_CRATES[@]}"; do
		(cd "$SRS_ROOT/$crate" && find . -name '*.rs' -not -path './target/*' -print0 |
			xargs -0 "$RUSTFMT" --check --edition 2021) >> "$log" 2>&1 || ok=0
	done
	if [ $ok = 1 ]; then
		result PASS rustfmt "$("$RUSTFMT" --version), kernel .rustfmt.toml: rust/*.rs rust/engine/*.rs formatted; ${USER_CRATES[*]} with their rustfmt.toml"
	else
		# A crate root's modules are checked with it and again on their
		# own: count each hunk once.
		grep '^Diff in' "$log" | sort -u | sed 's/^/    /'
		result FAIL rustfmt "$(grep '^Diff in' "$log" | sort -u | wc -l) hunks to reformat (log: $log)"
	fi
}

# clippy_build LOG: export the series and, on the tree with all of it
# applied, in check-series' O= dir (patches.sh make), build the Rust crates
# under rust/ and then kernel/seccomp_rust/ with CLIPPY=1; no vmlinux is
# linked (make check-series builds one after every patch).
clippy_build() {
	"$SRS_HARNESS/patches.sh" make rust/ > "$1" 2>&1 &&
	"$SRS_HARNESS/patches.sh" make CLIPPY=1 CLIPPY_DRIVER="$CLIPPY_DRIVER" \
		kernel/seccomp_rust/ >> "$1" 2>&1
}

lint_clippy() {
	local log=$LOGS/lint-clippy.log n
	# Recompile our crate, so its warnings are printed again.
	rm -f "$CLIPPY_BUILD"/kernel/seccomp_rust/{seccomp.o,.seccomp.o.cmd}
	if ! clippy_build "$log"; then
		tail -n 20 "$log" | sed 's/^/    /'
		result FAIL clippy "CLIPPY=1 build failed (log: $log)"
		return
	fi
	[ -e "$CLIPPY_BUILD/kernel/seccomp_rust/seccomp.o" ] ||	# removed above
		{ result FAIL clippy "kernel/seccomp_rust/seccomp.o was not linted"; return; }
	# Warnings (and their locations) in our files.
	n=$(grep -cE '^ *--> .*kernel/seccomp_rust/' "$log" || true)
	if [ "$n" = 0 ]; then
		result PASS clippy "$("$CLIPPY_DRIVER" --version): CLIPPY=1 kernel/seccomp_rust/, 0 warnings in kernel/seccomp_rust/"
	else
		grep -B3 -E '^ *--> .*kernel/seccomp_rust/' "$log" | grep -E '^(warning|error)|-->' |
			sed 's/^/    /'
		result FAIL clippy "$n warnings in kernel/seccomp_rust/ (log: $log)"
	fi
}

lint_rustdoc() {
	local log=$LOGS/lint-rustdoc.log cmd out
	: > "$log"
	# 1. The kernel crate's documentation, as `make rustdoc` builds it.
	if ! "$SRS_HARNESS/patches.sh" make RUSTDOC="$RUSTDOC" rustdoc >> "$log" 2>&1; then
		tail -n 20 "$log" | sed 's/^/    /'
		result FAIL rustdoc "make rustdoc failed (log: $log)"
		return
	fi
	# 2. Our crate (obj-y, so not in `make rustdoc`): rustdoc with the
	#    flags kbuild compiled it with (from its .cmd file), private items
	#    included, any warning fatal.
	if [ ! -e "$CLIPPY_BUILD/kernel/seccomp_rust/.seccomp.o.cmd" ] &&
		! clippy_build "$log.build"; then
		result FAIL rustdoc "the CLIPPY=1 build failed (log: $log.build)"
		return
	fi
	cmd=$(python3 - "$CLIPPY_BUILD/kernel/seccomp_rust/.seccomp.o.cmd" "$RUSTDOC" \
		"$CLIPPY_BUILD/Documentation/output/rust/seccomp" <<'EOF'
import shlex, sys
cmdfile, rustdoc, out = sys.argv[1:]
line = next(l for l in open(cmdfile) if l.startswith("savedcmd_"))
words = shlex.split(line.split(":=", 1)[1])
i = next(n for n, w in enumerate(words) if "=" not in w)   # the compiler
env, args = words[:i], words[i + 1:]
keep, skip = [], False
for a in args:
    if skip:
        skip = False
    elif a == "--out-dir":
        skip = True
    elif not a.startswith(("--emit", "-Zbinary_dep_depinfo")):
        keep.append(a)
# The crate has no public Rust API (it is obj-y, C calls it): its docs are
# its private items, so links between them are what we want.
print(shlex.join(["env", "RUSTC_BOOTSTRAP=1"] + env + [rustdoc] + keep +
                 ["--document-private-items", "-Dwarnings",
                  "-Arustdoc::private_intra_doc_links", "--output", out]))
EOF
)
	echo "+ $cmd" >> "$log"
	if out=$(cd "$CLIPPY_BUILD" && eval "$cmd" 2>&1); then
		echo "$out" >> "$log"
		result PASS rustdoc "make rustdoc, and rustdoc of kernel/seccomp_rust (private items, -Dwarnings): no warnings"
	else
		echo "$out" >> "$log"
		echo "$out" | grep -E '^(warning|error)|-->' | head -40 | sed 's/^/    /'
		result FAIL rustdoc "rustdoc of kernel/seccomp_rust warns (log: $log)"
	fi
}

lint_safety() {
	local log=$LOGS/lint-safety.log
	if python3 - "$SRS_ROOT" > "$log" <<'EOF'
import glob, os, re, sys
root = sys.argv[1]
bad = 0
for path in sorted(glob.glob(f"{root}/rust/*.rs") + glob.glob(f"{root}/rust/engine/*.rs")):
    rel = os.path.relpath(path, root)
    lines = open(path).read().split("\n")
    code = [re.sub(r"//.*", "", l) for l in lines]  # good enough: no '//' in our strings
    for i, c in enumerate(code):
        if re.search(r"\bunsafe\s+(extern\s+\"C\"\s+)?fn\b", c):
            # The doc comment above the fn (attributes in between allowed).
            ok = False
            j = i - 1
            while j >= 0:
                s = lines[j].strip()
                if s.startswith("///") or s.startswith("#[") or s.startswith("#!") or s == ")]" :
                    ok = ok or s.startswith("/// # Safety")
                    j -= 1
                    continue
                break
            if not ok:
                bad += 1
                print(f"{rel}:{i + 1}: unsafe fn without a # Safety doc section: {lines[i].strip()}")
sys.exit(1 if bad else 0)
EOF
	then
		result PASS safety "every unsafe fn in rust/ has a # Safety section"
	else
		sed 's/^/    /' "$log"
		result FAIL safety "$(wc -l < "$log") findings (log: $log)"
	fi
}

for c in "${CHECKS[@]}"; do
	declare -F "lint_$c" >/dev/null || srs_die "unknown check '$c' (known: checkpatch rustfmt clippy rustdoc safety)"
	t0=$(date +%s)
	"lint_$c"
	echo "    ($c: $(($(date +%s) - t0))s)"
done
echo "lint: ${#pass[@]} passed, ${#fail[@]} failed${fail:+ (${fail[*]})}"
[ ${#fail[@]} -eq 0 ]
