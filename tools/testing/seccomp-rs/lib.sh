# SPDX-License-Identifier: GPL-2.0
# Shared settings for the seccomp-rs harness: where the pinned kernel source,
# the build trees and the tools live, and small helpers.  Sourced, not run.

set -euo pipefail

SRS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SRS_HARNESS=$SRS_ROOT/tools/testing/seccomp-rs
SRS_CACHE=${SECCOMP_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seccomp-rs}

# The pinned base: Debian's linux-source-6.12 (bookworm-security).
SRS_KPKG=linux-source-6.12
SRS_KPKG_VERSION=6.12.117-1~deb12u1
SRS_KVERSION=6.12.117
SRS_TARBALL=/usr/src/linux-source-6.12.tar.xz

SRS_PRISTINE=$SRS_CACHE/src/linux-source-6.12	# unpacked tarball, never modified
SRS_TREE=$SRS_CACHE/tree			# pristine + overlay + patches
SRS_TOOLS=$SRS_CACHE/tools			# bindgen-cli, the virtme-ng venv
SRS_BINDGEN_VERSION=0.71.1
SRS_VNG_VERSION=1.42				# virtme-ng, from PyPI
SRS_VNG=$SRS_TOOLS/venv/bin/vng

export RUSTC=/usr/bin/rustc
# Host crates built by cargo under this environment use the same rustc;
# their doctests need the matching rustdoc (rustup's is another version).
export RUSTDOC=/usr/bin/rustdoc
export BINDGEN=$SRS_TOOLS/bin/bindgen
# The rustup toolchain in PATH has no rust-src; Debian's rustc-web (sysroot
# /usr) does.  rustfmt/clippy come from rustup, matching kbuild's use of them.
SRS_MAKE_FLAGS=(LLVM=1 "RUSTC=$RUSTC" "BINDGEN=$BINDGEN")
SRS_JOBS=${JOBS:-$(nproc)}

srs_impl_check() {
	case "${1:-}" in
	c|rust) ;;
	*) srs_die "IMPL must be 'c' or 'rust' (got '${1:-}')" ;;
	esac
}

srs_build_dir() { echo "$SRS_CACHE/build-$1${DEBUG:+-debug}"; }

srs_log() { printf '\033[1m[seccomp-rs]\033[0m %s\n' "$*" >&2; }
srs_die() { printf '\033[1;31m[seccomp-rs] error:\033[0m %s\n' "$*" >&2; exit 1; }

# --- what the work adds to the kernel tree ------------------------------
# Shared by kernel.sh (lays it on a copy of the source) and patches.sh
# (exports it as a git series), so both always see the same files.

# srs_overlay_map: print "repo-relative-source tree-relative-destination"
# lines, one per file the overlay adds to the tree.
srs_overlay_map() (
	cd "$SRS_ROOT"
	echo "Kconfig kernel/seccomp_rust/Kconfig"
	for f in rust/Makefile rust/.kunitconfig rust/*.rs rust/*.c rust/*.h; do
		[ -e "$f" ] && echo "$f kernel/seccomp_rust/${f#rust/}"
	done
	for f in rust/engine/*.rs; do
		[ "$f" = rust/engine/lib.rs ] && continue	# the host crate's root
		[ -e "$f" ] && echo "$f kernel/seccomp_rust/engine/${f#rust/engine/}"
	done
	for f in rust/helpers/*.c; do
		[ -e "$f" ] && echo "$f $f"
	done
	if [ -d Documentation ]; then
		find Documentation -type f -name '*.rst' | sort | sed 's/.*/& &/'
	fi
	return 0
)

# srs_series: print the patches of patches/series, in order, as full paths.
srs_series() {
	local p
	while read -r p; do
		[[ -z "$p" || "$p" == \#* ]] || echo "$SRS_ROOT/patches/$p"
	done < "$SRS_ROOT/patches/series"
}

# srs_patch_files PATCH...: the tree files the patches modify.
srs_patch_files() {
	[ $# -gt 0 ] || return 0
	sed -n 's|^+++ b/||p' "$@" | sort -u
}

# srs_stage DIR: write into the empty DIR every tree file the work owns, with
# its final content (pristine copies with the series applied, then the
# overlay), and print their tree-relative paths, sorted.
srs_stage() {
	local stage=$1 p f src dst series patched overlay
	mapfile -t series < <(srs_series)
	patched=$(srs_patch_files "${series[@]}")
	for f in $patched; do
		[ -e "$SRS_PRISTINE/$f" ] && install -D -m 0644 "$SRS_PRISTINE/$f" "$stage/$f"
	done
	for p in "${series[@]}"; do
		patch -d "$stage" -p1 -s -N -f --no-backup-if-mismatch < "$p" >&2 ||
			srs_die "patches/$(basename "$p") does not apply to $SRS_KPKG $SRS_KPKG_VERSION"
	done
	overlay=$(srs_overlay_map)
	while read -r src dst; do
		[ -n "$src" ] || continue
		[ -e "$SRS_PRISTINE/$dst" ] &&
			srs_die "overlay file $src would replace the existing $dst: use a patch"
		install -D -m 0644 "$SRS_ROOT/$src" "$stage/$dst"
	done <<< "$overlay"
	(echo "$patched"; cut -d' ' -f2 <<< "$overlay") | sed '/^$/d' | sort -u
}
