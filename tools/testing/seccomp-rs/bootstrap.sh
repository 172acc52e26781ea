#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (once) and then only verify everything the build and the QEMU runs
# need, each input by exact version (lib.sh): Debian's build packages, the
# Rust toolchain and the kernel source (fetched from the archive and unpacked
# into the cache, the system's own packages left alone) and bindgen-cli.
# What was chosen, and why, is printed and kept in $SRS_CACHE/inputs.

. "$(dirname "$0")/lib.sh"

# Debian packages used as they come (the build's tools, the guest's pieces).
SRS_PACKAGES=(
	clang lld llvm libclang-dev		# LLVM=1 builds, bindgen's libclang
	bc flex bison libelf-dev libssl-dev cpio make gcc libc6-dev binutils
	git patch xz-utils patchelf		# series repository, unpacking
	busybox-static qemu-system-x86		# the guest
	libcap-dev				# kselftest seccomp_bpf
	gcc-multilib				# ... and its ia32 build
	python3 python3-docutils
	strace dpkg-dev				# real clients (strace; dpkg-source)
)
# The Rust toolchain: rustc-web and its companions, all of one version.
rust_debs() {
	local v=$1 mm
	mm=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<< "$v")
	echo rustc-web libstd-rust-web-dev "libstd-rust-web-$mm" rust-web-src \
		rust-web-clippy rustfmt-web cargo-web
}

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	srs_die "this bootstrap needs a Debian 12 (bookworm) x86_64 host with apt.
Elsewhere install by hand: rustc $SRS_RUST_PIN with rust-src, cargo, rustfmt and
clippy of the same version, bindgen-cli $SRS_BINDGEN_VERSION, clang/lld/llvm +
libclang, bc flex bison libelf libssl cpio, a static busybox, qemu-system-x86_64,
libcap, python3-docutils, and the Linux $SRS_KVERSION source ($SRS_KPKG $SRS_KPKG_PIN)."
fi
[ "$(uname -m)" = x86_64 ] || srs_die "x86_64 host required (got $(uname -m))"

APT_UPDATED=
apt_update() {
	[ -n "$APT_UPDATED" ] && return 0
	local out
	srs_log "apt-get update"
	# An index that fails (a mirror caught mid-sync, say) leaves apt with
	# the others: go on, and let an install that really lacks something fail.
	out=$(apt-get update -q 2>&1) ||
		srs_warn "apt-get update reported errors; going on with the lists it has:
$(grep -E '^(E|Err):' <<< "$out" | head -n 4)"
	APT_UPDATED=1
}

# apt_install PKG...: install the Debian packages not installed yet.
apt_install() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || srs_die "missing Debian packages: ${missing[*]}
run as root, or: sudo apt-get install ${missing[*]}"
	apt_update
	srs_log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# fetch_debs DIR PKG=VERSION...: download exact versions into DIR (after an
# apt-get update if the lists do not have them); fails if any is gone.
fetch_debs() {
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$@") >/dev/null 2>&1 && return 0
	[ -n "$APT_UPDATED" ] && return 1
	apt_update
	(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$@") >/dev/null 2>&1
}

# newest_version PKG PATTERN: the newest version of PKG the archive offers
# that matches the extended regular expression PATTERN.
newest_version() {
	apt_update
	apt-cache madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		{ grep -E "$2" || true; } | sort -V | tail -n 1
}

apt_install "${SRS_PACKAGES[@]}"

# private_apt DIR LINE...: an apt state of our own under DIR (lists, cache,
# an empty dpkg status) with LINE... as its sources.list, updated; its
# apt-get options are left in PAPT, plus PAPT_EXTRA's.  The system's apt
# configuration and dpkg are not touched.
PAPT_EXTRA=()
private_apt() {
	local a=$1; shift
	rm -rf "$a"
	mkdir -p "$a/lists/partial" "$a/archives/partial" "$a/parts" "$a/debs"
	: > "$a/status"
	printf '%s\n' "$@" > "$a/sources.list"
	PAPT=(-q -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/parts"
		-o "Dir::State::Lists=$a/lists" -o "Dir::State::status=$a/status" -o "Dir::Cache=$a"
		-o APT::Sandbox::User=root "${PAPT_EXTRA[@]}")
	apt-get "${PAPT[@]}" update >/dev/null
}

# --- libcap for ia32 programs ---------------------------------------------------
# The ia32 build of seccomp_bpf links libcap statically.  Its i386 packages
# come from bookworm's main archive through an apt configuration of our own
# under the cache, unpacked there: the system's dpkg gets no i386
# architecture (whose indexes a mirror may fail to serve, which makes apt
# drop the whole suite, security updates included).
i386_libcap() {
	local v dir=$SRS_I386.tmp a=$SRS_CACHE/apt-i386 uri p
	v=$(dpkg-query -W -f='${Version}' libcap-dev)
	[ "$(cat "$SRS_I386/.seccomp-rs-unpacked" 2>/dev/null)" = "$v" ] && return 0
	uri=$(apt-cache policy libc6 | awk '$3 == "bookworm/main" && !uri { uri = $2 } END { print uri }')
	[ -n "$uri" ] || srs_die "no bookworm main archive in the apt sources (for libcap-dev:i386)"
	srs_log "fetching libcap-dev:i386 $v from $uri into $SRS_I386"
	rm -rf "$dir"
	mkdir -p "$dir"
	PAPT_EXTRA=(-o APT::Architecture=i386 -o APT::Architectures::=i386)
	private_apt "$a" "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main" ||
		srs_die "apt-get update of bookworm main for i386 failed"
	PAPT_EXTRA=()
	(cd "$a/debs" && apt-get "${PAPT[@]}" download "libcap-dev=$v" "libcap2=$v" >/dev/null) ||
		srs_die "libcap-dev:i386 $v (the version of libcap-dev) cannot be fetched"
	for p in "$a/debs"/*.deb; do dpkg-deb -x "$p" "$dir"; done
	[ -e "$dir/usr/lib/i386-linux-gnu/libcap.a" ] || srs_die "no libcap.a in libcap-dev:i386"
	echo "$v" > "$dir/.seccomp-rs-unpacked"
	rm -rf "$SRS_I386"
	mv "$dir" "$SRS_I386"
}
i386_libcap

# --- real clients ------------------------------------------------------------------
# make test runs libseccomp's live regression tests and bubblewrap's
# test-seccomp.py from their Debian source packages, against the binary
# packages of the same version (python3-seccomp, bubblewrap), and systemd's
# test-seccomp from systemd-tests of the installed systemd's version.

# pick_version PKG PIN: PIN if the archive (or dpkg) has it, else the
# archive's newest PKG, with a warning naming both.
pick_version() {
	local v
	if dpkg-query -W -f='${Version}' "$1" 2>/dev/null | grep -qxF "$2" ||
		apt-cache madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | grep -qxF "$2"; then
		echo "$2"; return
	fi
	v=$(newest_version "$1" .)
	[ -n "$v" ] || srs_die "the archive has no $1"
	srs_warn "$1 $2 (pinned in lib.sh) is not in the archive; using $v"
	echo "$v"
}

# apt_install_exact PKG=VERSION...: install those not installed at VERSION.
apt_install_exact() {
	local pv missing=()
	for pv in "$@"; do
		[ "$(dpkg-query -W -f='${Status} ${Version}' "${pv%%=*}" 2>/dev/null)" = \
			"install ok installed ${pv#*=}" ] || missing+=("$pv")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	apt_update
	srs_log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# client_sources SRC=VERSION...: fetch the Debian source packages (through
# deb-src lines of the system's own Debian suites, in an apt state of our
# own) and unpack each into $SRS_CLIENTS/SRC.
client_sources() {
	local sv src v a=$SRS_CACHE/apt-src lines=() uri suite comp
	for sv in "$@"; do
		[ "$(cat "$SRS_CLIENTS/${sv%%=*}/.seccomp-rs-unpacked" 2>/dev/null)" = "${sv#*=}" ] ||
			{ lines=(x); break; }
	done
	[ ${#lines[@]} -gt 0 ] || return 0
	lines=()
	while read -r uri suite comp; do
		lines+=("deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite $comp")
	done < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Identifier: Packages' | grep -E ' bookworm(-updates|-security)? main$' | sort -k2,2 -u)
	[ ${#lines[@]} -gt 0 ] || srs_die "no bookworm main archive in the apt sources (for the clients' sources)"
	private_apt "$a" "${lines[@]}" || srs_die "apt-get update of the Debian sources failed"
	for sv in "$@"; do
		src=${sv%%=*} v=${sv#*=}
		srs_log "fetching the source of $src $v into $SRS_CLIENTS/$src"
		(cd "$a/debs" && apt-get "${PAPT[@]}" source --download-only "$src=$v" >/dev/null) ||
			srs_die "the source package $src $v cannot be fetched"
		rm -rf "${SRS_CLIENTS:?}/$src"
		mkdir -p "$SRS_CLIENTS"
		# apt checked the files against the archive's signed index.
		dpkg-source --no-check -x "$a/debs/${src}_${v#*:}.dsc" "$SRS_CLIENTS/$src" >/dev/null ||
			srs_die "cannot unpack the source package $src $v"
		echo "$v" > "$SRS_CLIENTS/$src/.seccomp-rs-unpacked"
	done
	rm -f "$SRS_CLIENTS"/*.orig.tar.*	# dpkg-source's copies
}

seccomp_v=$(pick_version python3-seccomp "$SRS_LIBSECCOMP_PIN")
bwrap_v=$(pick_version bubblewrap "$SRS_BWRAP_PIN")
systemd_v=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
[ -n "$systemd_v" ] || systemd_v=$(newest_version systemd-tests .)
apt_install_exact "libseccomp-dev=$seccomp_v" "python3-seccomp=$seccomp_v" \
	"bubblewrap=$bwrap_v" "systemd-tests=$systemd_v"
client_sources "libseccomp=$seccomp_v" "bubblewrap=$bwrap_v"

# --- the Rust toolchain -----------------------------------------------------
# rust_ready V: the toolchain V is unpacked and complete.
rust_ready() {
	local bin=$SRS_TOOLS/rust-$1/usr/bin
	[ -e "$SRS_TOOLS/rust-$1/.seccomp-rs-unpacked" ] &&
		"$bin/rustc" --version >/dev/null 2>&1 &&
		"$bin/cargo" --version >/dev/null 2>&1 &&
		[ -d "$("$bin/rustc" --print sysroot)/lib/rustlib/src/rust/library" ]
}

# rust_unpack V: fetch the toolchain V's packages, install the libraries they
# depend on, and unpack them into $SRS_TOOLS/rust-V.  Its binaries find
# their private libraries through their RUNPATH.
rust_unpack() {
	local v=$1 debs=$SRS_CACHE/debs/rust-$1 dst=$SRS_TOOLS/rust-$1 p deps
	local -a want=()
	for p in $(rust_debs "$v"); do want+=("$p=$v"); done
	fetch_debs "$debs" "${want[@]}" || return 1
	srs_log "unpacking the Rust toolchain $v into $dst"
	# What the packages need from the system (libLLVM, libgit2, ...), less
	# the toolchain itself and what the base packages already provide.
	deps=$(for p in "$debs"/*.deb; do dpkg-deb -f "$p" Depends; done | tr ',' '\n' |
		sed -E 's/^ *//; s/[ (|].*//' | sort -u |
		grep -vxF -f <(rust_debs "$v" | tr " " "\n"; echo libc-dev) || true)
	# shellcheck disable=SC2086	# a list of package names
	apt_install $deps
	rm -rf "$dst.tmp" "$dst"
	mkdir -p "$dst.tmp"
	for p in "$debs"/*.deb; do dpkg-deb -x "$p" "$dst.tmp"; done
	for p in "$dst.tmp"/usr/bin/*; do
		[ -L "$p" ] || ! head -c4 "$p" | grep -q ELF ||
			patchelf --set-rpath '$ORIGIN/../lib/x86_64-linux-gnu' "$p"
	done
	echo "$v" > "$dst.tmp/.seccomp-rs-unpacked"
	mv "$dst.tmp" "$dst"
	rust_ready "$v"
}

# The pin; if the archive no longer has it (a security update replaced it),
# the known-good fallback, with a warning naming both.
rust=
for v in "$SRS_RUST_PIN" "$SRS_RUST_FALLBACK"; do
	if rust_ready "$v" || rust_unpack "$v"; then rust=$v; break; fi
	srs_warn "rustc-web $v cannot be fetched from the archive"
done
[ -n "$rust" ] || srs_die "neither rustc-web $SRS_RUST_PIN nor $SRS_RUST_FALLBACK can be fetched
(apt-cache madison rustc-web lists what the archive has; set SECCOMP_RS_RUST_VERSION)"
if [ "$rust" = "$SRS_RUST_PIN" ]; then
	why="pinned"
else
	why="FALLBACK: the pinned $SRS_RUST_PIN is gone from the archive"
	srs_warn "using rustc-web $rust, the known-good fallback: the pinned $SRS_RUST_PIN is no longer in the archive"
fi

# --- the kernel source --------------------------------------------------------
# kernel_unpack V: fetch linux-source-6.12 V and unpack its tarball into
# $SRS_PRISTINE (the .deb stays in the cache).
kernel_unpack() {
	local v=$1 debs=$SRS_CACHE/debs/kernel deb
	rm -f "$debs"/"$SRS_KPKG"_*.deb
	fetch_debs "$debs" "$SRS_KPKG=$v" || return 1
	deb=$(ls "$debs"/"$SRS_KPKG"_*.deb)
	srs_log "unpacking $SRS_KPKG $v into $SRS_PRISTINE"
	rm -rf "$SRS_PRISTINE" "$SRS_PRISTINE.tmp"
	mkdir -p "$SRS_PRISTINE.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SRS_KPKG.tar.xz" |
		tar -xJ -C "$SRS_PRISTINE.tmp" --strip-components=1
	echo "$v" > "$SRS_PRISTINE.tmp/.seccomp-rs-unpacked"
	mv "$SRS_PRISTINE.tmp" "$SRS_PRISTINE"
}

have=$(cat "$SRS_PRISTINE/.seccomp-rs-unpacked" 2>/dev/null || true)
kpkg=
if [ "$have" = "$SRS_KPKG_PIN" ] || kernel_unpack "$SRS_KPKG_PIN"; then
	kpkg=$SRS_KPKG_PIN
	kwhy="pinned"
else
	newest=$(newest_version "$SRS_KPKG" '^6\.12\.')
	[ -n "$newest" ] || srs_die "the archive has no $SRS_KPKG: add bookworm-security to the apt sources"
	srs_warn "$SRS_KPKG $SRS_KPKG_PIN (the pinned base) is no longer in the archive;
using the newest 6.12.y it has, $newest.  The series is checked against it by
'make test' (it must apply, and both kernels build and boot); if it passes,
move SRS_KPKG_PIN in tools/testing/seccomp-rs/lib.sh to $newest."
	if [ "$have" = "$newest" ] || kernel_unpack "$newest"; then
		kpkg=$newest
		kwhy="FALLBACK: the pinned $SRS_KPKG_PIN is gone from the archive"
	else
		srs_die "cannot fetch $SRS_KPKG $newest"
	fi
fi

# --- tools from crates.io ---------------------------------------------
printf 'SRS_KPKG_VERSION=%q\nSRS_RUST_VERSION=%q\nSRS_CLIENT_VERSIONS=%q\n' "$kpkg" "$rust" \
	"libseccomp $seccomp_v, bubblewrap $bwrap_v, systemd-tests $systemd_v" > "$SRS_CACHE/inputs"
srs_inputs

if ! "$BINDGEN" --version 2>/dev/null | grep -q " $SRS_BINDGEN_VERSION\$"; then
	srs_log "installing bindgen-cli $SRS_BINDGEN_VERSION into $SRS_TOOLS"
	"$CARGO" install --quiet --locked bindgen-cli --version "$SRS_BINDGEN_VERSION" \
		--root "$SRS_TOOLS"
fi

srs_log "inputs: $SRS_KPKG $kpkg ($kwhy; Linux $(make -s -C "$SRS_PRISTINE" kernelversion 2>/dev/null)), $("$RUSTC" --version | cut -d' ' -f1-2) = rustc-web $rust ($why), $("$BINDGEN" --version);
clients: libseccomp $seccomp_v, bubblewrap $bwrap_v, systemd-tests $systemd_v"
