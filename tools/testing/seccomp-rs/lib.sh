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
SRS_TOOLS=$SRS_CACHE/tools			# bindgen-cli
SRS_BINDGEN_VERSION=0.71.1

export RUSTC=/usr/bin/rustc
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
