# SPDX-License-Identifier: GPL-2.0
# Shared settings for the seccomp-rs harness: where the pinned kernel source,
# the build trees and the tools live, and small helpers.  Sourced, not run.

set -euo pipefail

SRS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SRS_HARNESS=$SRS_ROOT/tools/testing/seccomp-rs
SRS_CACHE=${SECCOMP_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seccomp-rs}

# The pinned inputs, each installed by exact version from Debian's archive
# (or crates.io) by bootstrap.sh, which writes what it chose into
# $SRS_CACHE/inputs.  The kernel source and the Rust toolchain are unpacked
# into the cache with dpkg -x: the system's own packages are left alone.
# SECCOMP_RS_KPKG_VERSION / SECCOMP_RS_RUST_VERSION ask for other versions.
SRS_KPKG=linux-source-6.12
SRS_KPKG_PIN=${SECCOMP_RS_KPKG_VERSION:-6.12.117-1~deb12u1}	# bookworm-security
SRS_RUST_PIN=${SECCOMP_RS_RUST_VERSION:-1.96.0+dfsg1-1~deb12u2}	# rustc-web, bookworm-security
SRS_RUST_FALLBACK=1.85.0+dfsg3-1~deb12u3			# rustc-web, bookworm: known good
SRS_BINDGEN_VERSION=0.71.1					# bindgen-cli, crates.io
# Real clients tested by `make test` (clients.sh): libseccomp and bubblewrap
# from their Debian source packages, at the version of the binary packages
# installed beside them; systemd's test-seccomp from systemd-tests of the
# installed systemd's version.
SRS_LIBSECCOMP_PIN=${SECCOMP_RS_LIBSECCOMP_VERSION:-2.5.4-1+deb12u1}	# bookworm
SRS_BWRAP_PIN=${SECCOMP_RS_BWRAP_VERSION:-0.8.0-2+deb12u1}		# bookworm

SRS_PRISTINE=$SRS_CACHE/src/linux-source-6.12	# unpacked tarball, never modified
SRS_TREE=$SRS_CACHE/tree			# pristine + overlay + patches
SRS_TOOLS=$SRS_CACHE/tools			# Rust toolchain, bindgen-cli
SRS_I386=$SRS_CACHE/i386			# libcap-dev:i386, unpacked
SRS_CLIENTS=$SRS_CACHE/clients			# client sources, unpacked and built
export BINDGEN=$SRS_TOOLS/bin/bindgen
SRS_JOBS=${JOBS:-$(nproc)}

# srs_inputs: (re)read what the bootstrap chose and derive the tool paths.
# The Rust toolchain's bin/ comes first in PATH, so cargo, rustc, rustdoc,
# rustfmt and clippy-driver are all the pinned ones (never rustup's), and
# host crates built by cargo use the compiler kbuild uses.
srs_inputs() {
	SRS_KPKG_VERSION=$SRS_KPKG_PIN SRS_RUST_VERSION=$SRS_RUST_PIN
	# shellcheck source=/dev/null
	[ -r "$SRS_CACHE/inputs" ] && . "$SRS_CACHE/inputs"
	SRS_KVERSION=${SRS_KPKG_VERSION%%-*}
	SRS_RUST_BIN=$SRS_TOOLS/rust-$SRS_RUST_VERSION/usr/bin
	case ":$PATH:" in
	*":$SRS_RUST_BIN:"*) ;;
	*) PATH=$SRS_RUST_BIN:$PATH ;;
	esac
	export PATH RUSTC=$SRS_RUST_BIN/rustc RUSTDOC=$SRS_RUST_BIN/rustdoc
	export CARGO=$SRS_RUST_BIN/cargo RUSTFMT=$SRS_RUST_BIN/rustfmt
	SRS_CLIPPY_DRIVER=$SRS_RUST_BIN/clippy-driver
	# X86_X32_ABI refuses llvm-objcopy: binutils' objcopy, LLVM for the rest.
	SRS_MAKE_FLAGS=(LLVM=1 OBJCOPY=objcopy "RUSTC=$RUSTC" "BINDGEN=$BINDGEN")
}
srs_inputs

# srs_bootstrap: install or verify the inputs, then use what was chosen.
srs_bootstrap() {
	"$SRS_HARNESS/bootstrap.sh" || return
	srs_inputs
}

srs_impl_check() {
	case "${1:-}" in
	c|rust) ;;
	*) srs_die "IMPL must be 'c' or 'rust' (got '${1:-}')" ;;
	esac
}

srs_build_dir() { echo "$SRS_CACHE/build-$1${DEBUG:+-debug}"; }

srs_log() { printf '\033[1m[seccomp-rs]\033[0m %s\n' "$*" >&2; }
srs_warn() { printf '\033[1;33m[seccomp-rs] warning:\033[0m %s\n' "$*" >&2; }
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
