#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (once) and then only verify everything the build and the QEMU runs
# need: Debian packages, bindgen-cli, and the pinned, unpacked kernel source.
# Everything downloaded or unpacked lives in $SRS_CACHE, outside the checkout.

. "$(dirname "$0")/lib.sh"

SRS_PACKAGES=(
	rustc-web rust-web-src			# rustc 1.96 with its own rust-src
	clang lld llvm libclang-dev		# LLVM=1 builds, bindgen's libclang
	bc flex bison libelf-dev libssl-dev cpio make gcc libc6-dev
	busybox-static qemu-system-x86		# the guest
	libcap-dev				# kselftest seccomp_bpf
	python3 python3-docutils python3-venv
	rust-web-clippy				# make lint: clippy for rustc-web
	udev					# vng: names the guest's virtio ports
	"$SRS_KPKG"
)

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	srs_die "this bootstrap needs a Debian 12 (bookworm) x86_64 host with apt.
Elsewhere install by hand: rustc >= 1.78 with rust-src, bindgen-cli $SRS_BINDGEN_VERSION,
clang/lld/llvm + libclang, bc flex bison libelf libssl cpio, a static busybox,
qemu-system-x86_64, libcap, python3-docutils, and the Linux $SRS_KVERSION source
as $SRS_TARBALL."
fi
[ "$(uname -m)" = x86_64 ] || srs_die "x86_64 host required (got $(uname -m))"

missing=()
for p in "${SRS_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || srs_die "missing Debian packages: ${missing[*]}
run as root, or: sudo apt-get install ${missing[*]}"
	grep -rqs 'bookworm-security' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
		srs_die "rustc-web and $SRS_KPKG come from bookworm-security; add it to the apt sources"
	srs_log "installing: ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

have=$(dpkg-query -W -f='${Version}' "$SRS_KPKG")
[ "$have" = "$SRS_KPKG_VERSION" ] ||
	srs_die "$SRS_KPKG is $have; the patch series is pinned to $SRS_KPKG_VERSION
(apt-get install $SRS_KPKG=$SRS_KPKG_VERSION, or update SRS_KPKG_VERSION in lib.sh and re-check the series)"

"$RUSTC" --version >/dev/null 2>&1 || srs_die "$RUSTC does not run (package rustc-web)"
[ -d "$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library" ] ||
	srs_die "no rust-src under $("$RUSTC" --print sysroot) (package rust-web-src)"

if ! "$BINDGEN" --version 2>/dev/null | grep -q " $SRS_BINDGEN_VERSION\$"; then
	command -v cargo >/dev/null || srs_die "cargo is needed to install bindgen-cli"
	srs_log "installing bindgen-cli $SRS_BINDGEN_VERSION into $SRS_TOOLS"
	cargo install --quiet --locked bindgen-cli --version "$SRS_BINDGEN_VERSION" \
		--root "$SRS_TOOLS"
fi

if ! "$SRS_VNG" --version 2>/dev/null | grep -q "$SRS_VNG_VERSION"; then
	srs_log "installing virtme-ng $SRS_VNG_VERSION into $SRS_TOOLS/venv"
	python3 -m venv "$SRS_TOOLS/venv"
	"$SRS_TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
		"virtme-ng==$SRS_VNG_VERSION"
fi

if [ ! -e "$SRS_PRISTINE/.seccomp-rs-unpacked" ]; then
	srs_log "unpacking $SRS_TARBALL"
	rm -rf "$SRS_PRISTINE"
	mkdir -p "$(dirname "$SRS_PRISTINE")"
	tar -xJf "$SRS_TARBALL" -C "$(dirname "$SRS_PRISTINE")"
	echo "$SRS_KPKG_VERSION" > "$SRS_PRISTINE/.seccomp-rs-unpacked"
fi
[ "$(cat "$SRS_PRISTINE/.seccomp-rs-unpacked")" = "$SRS_KPKG_VERSION" ] ||
	srs_die "$SRS_PRISTINE was unpacked from another version; remove it"

srs_log "base: $SRS_KPKG $SRS_KPKG_VERSION (Linux $(make -s -C "$SRS_PRISTINE" kernelversion 2>/dev/null)), $("$RUSTC" --version), $("$BINDGEN" --version), vng $SRS_VNG_VERSION"
