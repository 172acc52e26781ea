#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# patches.sh export: the work as a `git format-patch` series on top of the
#                    pinned base, in $SRS_CACHE/patches-out/ (`make patches`)
# patches.sh check:  export, then apply the series patch by patch with
#                    `git am` and build bzImage (rust config) after each one,
#                    incrementally in one O= dir (`make check-series`)
# patches.sh make ARGS...: export, then make ARGS in that O= dir on the tree
#                    with the whole series applied (lint.sh's clippy, rustdoc)
#
# The base is a git repository of the pristine source ($SRS_CACHE/series/
# linux, made once, a few minutes): one commit of the unpacked tarball,
# tagged $SRS_BASE_TAG, with fixed author and dates, so its id is the same on
# every host.  The series is made from exactly the files kernel.sh lays
# (lib.sh: srs_stage), grouped into steps below; `git am` of the exported
# files onto the base is then checked to give back exactly those files.

. "$(dirname "$0")/lib.sh"
export LC_ALL=C			# one file order for sort, comm and git

SRS_SERIES_REPO=$SRS_CACHE/series/linux
SRS_BASE_TAG=base-${SRS_KPKG_VERSION//\~/-}		# no '~' in a ref name
SRS_PATCHES_OUT=$SRS_CACHE/patches-out
SRS_SERIES_BUILD=$SRS_CACHE/build-series
SRS_RESULTS=${SRS_RESULTS:-$SRS_CACHE/results}	# for the cover letter's numbers
SRS_IDENT_NAME="seccomp-rs developers"
SRS_IDENT_EMAIL=seccomp-rs@lists.example.org
SRS_SOB="Signed-off-by: $SRS_IDENT_NAME <$SRS_IDENT_EMAIL>"

export GIT_AUTHOR_NAME=$SRS_IDENT_NAME GIT_AUTHOR_EMAIL=$SRS_IDENT_EMAIL
export GIT_COMMITTER_NAME=$SRS_IDENT_NAME GIT_COMMITTER_EMAIL=$SRS_IDENT_EMAIL

g() { git -C "$SRS_SERIES_REPO" "$@"; }

# --- the base -------------------------------------------------------------
ensure_base() {
	local stamp=$SRS_SERIES_REPO/.git/seccomp-rs-base
	if [ "$(cat "$stamp" 2>/dev/null)" = "$SRS_KPKG_VERSION" ]; then
		return 0
	fi
	srs_log "making the base repository $SRS_SERIES_REPO (once; a few minutes)"
	local tmp=$SRS_SERIES_REPO.tmp date
	rm -rf "$tmp" "$SRS_SERIES_REPO" "$SRS_SERIES_BUILD"
	mkdir -p "$(dirname "$tmp")"
	cp -a "$SRS_PRISTINE" "$tmp"
	rm -f "$tmp/.seccomp-rs-unpacked"
	date="@$(stat -c %Y "$tmp/Makefile") +0000"	# from the tarball: reproducible
	(
		cd "$tmp"
		git init -q -b base
		git config gc.auto 0
		git config core.autocrlf false
		git add -A -f		# every file of the tarball, .gitignore or not
		GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git commit -q \
			-m "Linux $SRS_KVERSION ($SRS_KPKG $SRS_KPKG_VERSION)" \
			-m "The source tarball of Debian's $SRS_KPKG $SRS_KPKG_VERSION, unmodified."
		git tag "$SRS_BASE_TAG"
	)
	echo "$SRS_KPKG_VERSION" > "$tmp/.git/seccomp-rs-base"
	mv "$tmp" "$SRS_SERIES_REPO"
}

# --- the steps of the series ----------------------------------------------
# step_of FILE: which step (1-5) adds FILE (tree-relative); PATCH_FILES_n are
# the files patches/000n modifies.
step_of() {
	local f=$1
	if grep -qx -- "$f" <<< "$PATCH_FILES_2"; then echo 1; return; fi
	if grep -qx -- "$f" <<< "$PATCH_FILES_1"; then echo 4; return; fi
	case "$f" in
	rust/helpers/*)			echo 1 ;;
	kernel/seccomp_rust/engine/*)	echo 2 ;;
	kernel/seccomp_rust/Kconfig)	echo 4 ;;
	kernel/seccomp_rust/*)		echo 3 ;;
	Documentation/*)		echo 5 ;;
	*) srs_die "patches.sh: no step of the series takes $f; add it to step_of()" ;;
	esac
}

# msg_from_patch PATCH: the subject and body of one of patches/ (without its
# Signed-off-by, added again below).
msg_from_patch() {
	local tmp
	tmp=$(mktemp -d)
	git mailinfo "$tmp/msg" "$tmp/patch" < "$1" | sed -n 's/^Subject: //p'
	echo
	grep -v '^Signed-off-by:' "$tmp/msg" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
	rm -rf "$tmp"
}

# step_message N: the commit message of step N (files in $STEP_FILES).
step_message() {
	case $1 in
	1)	msg_from_patch "$PATCH_2" ;;
	2)	cat <<'EOF'
seccomp: add a classic-BPF engine in Rust

Add the filter side of seccomp in Rust, as a module tree that uses only
core: a checker with exactly the rules of seccomp_check_filter() and the
classic-BPF checker, a decoder into instructions with pre-resolved
operands and jump distances, an interpreter, the action precedence of a
filter chain, and the analysis behind the per-architecture action cache
(the system calls whose verdict depends only on their number).

The engine does no allocation and has no unsafe code
(#![forbid(unsafe_code)]); no input makes it panic.  Each stage of a
filter's life is a type: only a CheckedProgram can be decoded, only a
DecodedProgram can run.

Nothing builds these files yet: the crate that declares `pub mod engine;`
and the kbuild hook come in the next patches.  The same files also build
as a host crate for unit, property and fuzz tests, and serve as the
model of the differential corpus run against the C kernel; that harness
is not part of this series.
EOF
		;;
	3)	cat <<'EOF'
seccomp: add a Rust implementation of seccomp

Add kernel/seccomp_rust/, a built-in crate that provides what
include/linux/seccomp.h declares and the body of the seccomp() system
call, on top of the engine added in the previous patch:

 - seccomp.rs: the crate root, the entry points exported to C and the
   seccomp() operations;
 - mode.rs: strict mode (mode 1) and its allow-list;
 - filter.rs: filters and the refcounted chains tasks hold across fork()
   and exit(), with C's two counts (references and users);
 - install.rs: SECCOMP_SET_MODE_FILTER, its flags and TSYNC;
 - enforce.rs: running a task's chain at syscall entry and carrying out
   the verdict;
 - notify.rs: user notification (SECCOMP_RET_USER_NOTIF), the listener
   fd and its ioctls;
 - log.rs, sysctl.rs: kernel.seccomp.actions_avail and actions_logged
   and the audit records;
 - cache_debug.rs: /proc/<pid>/seccomp_cache, and the number of live
   filters in debugfs for leak checks;
 - kunit.c, kunit.rs, .kunitconfig: the KUnit suite seccomp_rust_engine,
   which runs the engine's self-tests (engine/selftest.rs) in the kernel;
 - current.rs: the one door to current->seccomp and the siglock;
 - syscalls.c, seccomp_rs.h: what only C can express, the
   SYSCALL_DEFINE3(seccomp) wrapper, the listener's file_operations, the
   sysctl tables and the initcall, and the C/Rust interface between them.

Nothing builds this directory yet: the next patch adds the option that
selects it instead of kernel/seccomp.c.
EOF
		;;
	4)	msg_from_patch "$PATCH_1"
		cat <<'EOF'

kernel/seccomp_rust/Kconfig adds the SECCOMP_RUST option; it depends on
SECCOMP and RUST, and on X86_64 for now.
EOF
		;;
	5)	cat <<EOF
Documentation: security: describe the Rust implementation of seccomp

Add $(grep '^Documentation/' <<< "$STEP_FILES" | paste -sd' ' | sed 's/ /, /g'): what
CONFIG_SECCOMP_RUST selects, how the implementation is organised, what it
guarantees and how it is tested.
EOF
		;;
	esac
	printf '\n%s\n' "$SRS_SOB"
}

# --- export -----------------------------------------------------------------
export_series() {
	srs_bootstrap
	SRS_BASE_TAG=base-${SRS_KPKG_VERSION//\~/-}
	ensure_base

	local stage owned base parent n f blob tree commit date nsteps
	stage=$(mktemp -d)
	owned=$(srs_stage "$stage")
	mapfile -t series < <(srs_series)
	[ ${#series[@]} -eq 2 ] ||
		srs_die "patches.sh knows patches/0001 and 0002; update step_of() for: ${series[*]##*/}"
	PATCH_1=${series[0]} PATCH_2=${series[1]}
	PATCH_FILES_1=$(srs_patch_files "$PATCH_1")
	PATCH_FILES_2=$(srs_patch_files "$PATCH_2")
	[ -z "$(comm -12 <(echo "$PATCH_FILES_1") <(echo "$PATCH_FILES_2"))" ] ||
		srs_die "patches/0001 and 0002 modify the same file; the series cannot split them"

	(cd "$SRS_ROOT" && git status --porcelain -- Kconfig rust patches Documentation) |
		grep -q . && srs_log "warning: exporting uncommitted changes (git status in $SRS_ROOT)"

	# One commit per step, made with plumbing in a private index: the
	# base's work tree is not touched.  Dates are the checkout's HEAD
	# commit date, so the same checkout exports the same series.
	date=$(git -C "$SRS_ROOT" log -1 --format=%cI HEAD)
	base=$(g rev-parse "$SRS_BASE_TAG^{commit}")
	parent=$base
	export GIT_INDEX_FILE=$stage/.index
	g read-tree "$base"
	nsteps=0
	for n in 1 2 3 4 5; do
		STEP_FILES=$(for f in $owned; do
			if [ "$(step_of "$f")" = "$n" ]; then echo "$f"; fi
		done)
		[ -n "$STEP_FILES" ] || continue
		for f in $STEP_FILES; do
			blob=$(g hash-object -w --no-filters "$stage/$f")
			g update-index --add --cacheinfo "100644,$blob,$f"
		done
		tree=$(g write-tree)
		commit=$(step_message "$n" | GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
			g commit-tree "$tree" -p "$parent" -F -)
		parent=$commit
		nsteps=$((nsteps + 1))
	done
	unset GIT_INDEX_FILE
	g update-ref refs/heads/seccomp-rs "$parent"

	# Everything we own is in the series, and nothing else.
	diff <(g diff --name-only "$base" seccomp-rs) <(echo "$owned") >&2 ||
		srs_die "the series' files differ from what kernel.sh lays (above)"

	rm -rf "$SRS_PATCHES_OUT"
	mkdir -p "$SRS_PATCHES_OUT"
	g format-patch -q --cover-letter --base="$base" --no-signature \
		-o "$SRS_PATCHES_OUT" "$base..seccomp-rs"
	cover_letter "$nsteps" "$base" "$SRS_PATCHES_OUT"/0000-cover-letter.patch

	verify_am "$stage" "$owned" "$base"
	rm -rf "$stage"
}

# totals IMPL: "99/99" from the last kselftest run of IMPL, or "?".
totals() {
	local log=$SRS_RESULTS/$1/seccomp_bpf.log
	[ -r "$log" ] || { echo "?"; return 0; }
	sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\).*/\1 \2/p' "$log" 2>/dev/null |
		tail -n1 | awk '{ printf "%d/%d", $1, $1 + $2 } END { if (NR == 0) printf "?" }'
}

cover_letter() {
	local nsteps=$1 base=$2 cover=$3 c r accel
	c=$(totals c) r=$(totals rust)
	accel=$(cat "$SRS_CACHE"/kvm-probe.* 2>/dev/null | tr a-z A-Z || true)
	[ "$c$r" != "??" ] ||
		srs_log "warning: no kselftest results in $SRS_RESULTS (make test, or SRS_RESULTS=dir)"
	python3 - "$cover" "seccomp: implement seccomp in Rust" <<EOF
import sys
path, subject = sys.argv[1], sys.argv[2]
blurb = """\
This series adds CONFIG_SECCOMP_RUST, which builds seccomp from a Rust
implementation in kernel/seccomp_rust/ instead of kernel/seccomp.c.  The
two are alternatives: exactly one is linked in, and user space sees the
same ABI (seccomp(), prctl(PR_{GET,SET}_SECCOMP), the user-notification
listener and its ioctls, the ptrace filter queries, /proc/<pid>/status
and seccomp_cache, the kernel.seccomp sysctls).

Why: seccomp parses and runs untrusted programs from user space on every
system call of a sandboxed task, and manages refcounted filter chains
shared across fork(), exit(), TSYNC and user-notification listeners.  The
Rust version keeps the classic-BPF checker and interpreter free of unsafe
code, encodes "checked before run" in the types, and confines the unsafe
code to the boundary with C, each block with its SAFETY argument.

How:
 1. rust: helpers and bindings the implementation needs;
 2. the classic-BPF engine (core only, #![forbid(unsafe_code)]);
 3. the crate: modes, filters, TSYNC, actions, user notification, log,
    sysctls, /proc/<pid>/seccomp_cache, and the C glue (SYSCALL_DEFINE,
    file_operations, sysctl tables, initcall);
 4. the Kconfig option and kbuild hook that select it;
 5. documentation (when present).
Files are added before they are built; the tree builds after every patch
(tinyconfig + the test config with CONFIG_RUST=y and, from patch 4 on,
CONFIG_SECCOMP_RUST=y).

How tested, x86_64, QEMU (accelerator: ${accel:-TCG}), one source tree,
the same config but for CONFIG_SECCOMP_RUST:
 - tools/testing/selftests/seccomp/seccomp_bpf from this tree:
   C: $c pass, Rust: $r pass;
 - the KUnit suite seccomp_rust_engine (CONFIG_SECCOMP_RUST_KUNIT_TEST):
   the engine's self-tests, in the kernel;
 - user-space samples (strict mode, BPF filters, dropper, user
   notification) with checked output; stress programs (fork storms with
   inherited chains, chains at the 32768-instruction limit, TSYNC races
   with execve() and thread exit, ptrace with PTRACE_O_SUSPEND_SECCOMP,
   user-notification storms with the supervisor dying or closing the
   listener mid-wait) that check every filter is freed; a fuzzer of
   seccomp(), prctl(), the listener ioctls and ptrace that accepts only
   upstream's errnos; a differential run of random filter chains and
   system calls on both kernels, compared case by case; no oops, BUG or
   WARNING in any guest log;
 - the same on kernels with KASAN, UBSAN, KMEMLEAK, lockdep, PROVE_RCU,
   DEBUG_ATOMIC_SLEEP and DEBUG_OBJECTS, booted with panic_on_warn=1;
 - on the host, the engine's unit, property and fuzz tests; the
   differential corpus checks and runs its random programs with the
   engine and compares with the C kernel's seccomp().

Base: Debian's linux-source-6.12 $SRS_KPKG_VERSION (Linux $SRS_KVERSION
with Debian's changes), unpacked from its linux-source-6.12.tar.xz
and committed as one commit (tag $SRS_BASE_TAG; base-commit below).
"""
bench_path = "$SRS_RESULTS/bench/bench.csv"
try:
    import csv
    rows = {r["workload"]: r for r in csv.DictReader(open(bench_path))}
    picked = ["trivial/allowed", "linear-300/denied", "container/argcheck",
              "chain-16/denied", "worst-4096/denied"]
    lines = ["%-20s %9s %9s %9s %6s" % ("per system call", "C JIT", "C interp",
                                        "Rust", "Rust/C")]
    for w in picked:
        if w in rows:
            r = rows[w]
            c, i, rs = (float(r[k]) for k in ("c_jit_ns", "c_interp_ns", "rust_ns"))
            lines.append("%-20s %9.0f %9.0f %9.0f %6.2f" % (w, c, i, rs, rs / c))
    if len(lines) > 1:
        blurb += ("\nSeccomp overhead per system call (guest instructions under\n"
                  "QEMU's icount, from the project's benchmark; Rust/C against the\n"
                  "C implementation with its BPF JIT):\n\n"
                  + "\n".join("  " + l for l in lines) + "\n")
except (FileNotFoundError, KeyError, ValueError):
    pass
notes_path = "$SRS_HARNESS/patches-notes.txt"
try:
    blurb += "\n" + open(notes_path).read()
except FileNotFoundError:
    pass
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***", subject)
text = text.replace("*** BLURB HERE ***", blurb.rstrip("\n") + "\n\n" + "$SRS_SOB")
open(path, "w").write(text)
EOF
}

# verify_am STAGE OWNED BASE: `git am` the exported files onto a checkout of
# the base and compare the result, file by file, with what kernel.sh lays.
verify_am() {
	local stage=$1 owned=$2 base=$3 f bad=0
	am_base "$base" seccomp-rs-am
	g am -q --whitespace=nowarn $(exported) ||
		srs_die "git am of $SRS_PATCHES_OUT failed"
	[ "$(g diff --name-only "$base" HEAD)" = "$owned" ] ||
		srs_die "git am changed other files than kernel.sh owns"
	for f in $owned; do
		cmp -s "$stage/$f" "$SRS_SERIES_REPO/$f" || {
			srs_log "differs after git am: $f"; bad=1; }
	done
	[ -z "$(g status --porcelain)" ] || { srs_log "stray files after git am"; bad=1; }
	[ $bad = 0 ] || srs_die "git am of the series does not reproduce kernel.sh's tree"
	srs_log "git am of $(exported | wc -l) patches onto $SRS_BASE_TAG reproduces kernel.sh's $(wc -w <<< "$owned") files"
}

# exported: the exported patches, in order, without the cover letter.
exported() {
	ls "$SRS_PATCHES_OUT"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-cover-letter.patch$'
}

# am_base BASE BRANCH: the base's work tree at BASE on BRANCH, clean (only
# the files that differ are rewritten).
am_base() {
	g am --abort >/dev/null 2>&1 || true
	g checkout -q -f -B "$2" "$1"
	g clean -q -fdx
}

# --- building the series ------------------------------------------------
# series_make ARGS...: configure $SRS_SERIES_BUILD for the base's work tree
# as it is (tinyconfig + base.config + rust.config; options the tree does
# not know yet are dropped) and run make ARGS in it.
series_make() {
	local frags=("$SRS_HARNESS/config/base.config" "$SRS_HARNESS/config/rust.config")
	local mk=(make -s -C "$SRS_SERIES_REPO" O="$SRS_SERIES_BUILD" "${SRS_MAKE_FLAGS[@]}")
	mkdir -p "$SRS_SERIES_BUILD"
	"${mk[@]}" tinyconfig &&
	KCONFIG_CONFIG=$SRS_SERIES_BUILD/.config \
		"$SRS_SERIES_REPO/scripts/kconfig/merge_config.sh" -m -O "$SRS_SERIES_BUILD" \
		"$SRS_SERIES_BUILD/.config" "${frags[@]}" &&
	"${mk[@]}" olddefconfig &&
	grep -E '^(CONFIG_RUST|CONFIG_SECCOMP_RUST)=|^# CONFIG_SECCOMP_RUST ' \
		"$SRS_SERIES_BUILD/.config" &&
	"${mk[@]}" -j"$SRS_JOBS" "$@"
}

# --- check-series -----------------------------------------------------------
check_series() {
	export_series
	local p n=0 t0 t total0 log
	local -a times=()
	log=$SRS_CACHE/logs/check-series.log
	mkdir -p "$(dirname "$log")"
	: > "$log"
	am_base "$(g rev-parse "$SRS_BASE_TAG^{commit}")" seccomp-rs-check
	total0=$(date +%s)
	for p in $(exported); do
		n=$((n + 1))
		g am -q --whitespace=nowarn "$p" || srs_die "git am ${p##*/} failed"
		srs_log "[$n] ${p##*/}: configure and build bzImage (O=$SRS_SERIES_BUILD)"
		t0=$(date +%s)
		{ echo "=== ${p##*/}"; series_make bzImage; } >> "$log" 2>&1 || {
			tail -n 30 "$log" >&2
			srs_die "the build fails after ${p##*/} (log: $log)"
		}
		t=$(($(date +%s) - t0))
		times+=("$n ${p##*/} ${t}s")
		srs_log "[$n] builds (${t}s)"
	done
	grep -qx CONFIG_SECCOMP_RUST=y "$SRS_SERIES_BUILD/.config" ||
		srs_die "CONFIG_SECCOMP_RUST=y did not stick after the whole series"
	[ -e "$SRS_SERIES_BUILD/kernel/seccomp_rust/seccomp.o" ] ||
		srs_die "the whole series did not build kernel/seccomp_rust/"
	printf '%s\n' "${times[@]}" | column -t
	echo "check-series: $n patches, each builds; $(($(date +%s) - total0))s in all (log: $log)"
}

# One at a time: export, check and make share the base's work tree.
mkdir -p "$SRS_CACHE/series"
exec 9> "$SRS_CACHE/series/.lock"
flock -n 9 || srs_die "another patches.sh (make patches, check-series or lint) is running"

case "${1:-export}" in
export)	export_series; echo "$SRS_PATCHES_OUT" ;;
check)	check_series ;;
# make ARGS...: export, then make ARGS in the work tree with the whole
# series applied (lint.sh: CLIPPY=1, rustdoc); shares check's O= dir.
make)	shift; export_series >&2; series_make "$@" ;;
*)	srs_die "usage: patches.sh [export|check|make ARGS...]" ;;
esac
