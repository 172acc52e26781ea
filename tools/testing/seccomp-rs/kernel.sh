#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh IMPL [target...]: lay the overlay and the patch series on a copy
# of the pinned source, configure the IMPL variant (c or rust) in its own O=
# directory and build it.  Only files whose content changed are rewritten, so
# a rebuild after a one-line change recompiles just what depends on it.

. "$(dirname "$0")/lib.sh"

IMPL=${1:-}; shift || true
srs_impl_check "$IMPL"
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(bzImage)
BUILD=$(srs_build_dir "$IMPL")

srs_bootstrap

# --- the work tree ------------------------------------------------------
# A tree (and the builds from it) of another base is started again: copied
# files keep the tarball's times, which kbuild would take for unchanged.
if [ "$(cat "$SRS_TREE/.seccomp-rs-tree" 2>/dev/null)" != "$SRS_KPKG_VERSION" ]; then
	srs_log "copying the pristine source ($SRS_KPKG $SRS_KPKG_VERSION) to $SRS_TREE"
	rm -rf "$SRS_TREE"
	cp -a "$SRS_PRISTINE" "$SRS_TREE"
	echo "$SRS_KPKG_VERSION" > "$SRS_TREE/.seccomp-rs-tree"
fi
if [ -e "$BUILD" ] && [ "$(cat "$BUILD/.seccomp-rs-base" 2>/dev/null)" != "$SRS_KPKG_VERSION" ]; then
	srs_log "removing $BUILD: built from another base"
	rm -rf "$BUILD"
fi
mkdir -p "$BUILD"
echo "$SRS_KPKG_VERSION" > "$BUILD/.seccomp-rs-base"

# put_file SRC DST: copy SRC over DST (tree-relative) if the content differs.
put_file() {
	if ! cmp -s "$1" "$SRS_TREE/$2"; then
		install -D -m 0644 "$1" "$SRS_TREE/$2"
	fi
}

# restore_file DST: bring DST back to its pristine state (or remove it).
restore_file() {
	if [ -e "$SRS_PRISTINE/$1" ]; then
		put_file "$SRS_PRISTINE/$1" "$1"
	else
		rm -f "$SRS_TREE/$1"
	fi
}

state=$SRS_TREE/.seccomp-rs-files
touch "$state"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# 1. the patch series and 2. the overlay (lib.sh: srs_stage), then
# 3. sync the tree: changed files are rewritten, files we no longer own
#    go back to pristine.
owned=$(srs_stage "$stage")
for f in $(comm -23 <(sort -u "$state") <(echo "$owned")); do
	restore_file "$f"
done
for f in $owned; do
	put_file "$stage/$f" "$f"
done
echo "$owned" > "$state"

# --- configuration ------------------------------------------------------
frags=("$SRS_HARNESS/config/base.config" "$SRS_HARNESS/config/$IMPL.config")
[ -n "${DEBUG:-}" ] && frags+=("$SRS_HARNESS/config/debug.config")
want=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
mkdir -p "$BUILD"
if [ "$(cat "$BUILD/.seccomp-rs-config" 2>/dev/null)" != "$want" ]; then
	srs_log "configuring $BUILD (tinyconfig + ${frags[*]##*/})"
	make -s -C "$SRS_TREE" O="$BUILD" "${SRS_MAKE_FLAGS[@]}" tinyconfig >/dev/null
	KCONFIG_CONFIG=$BUILD/.config "$SRS_TREE/scripts/kconfig/merge_config.sh" \
		-m -O "$BUILD" "$BUILD/.config" "${frags[@]}" >/dev/null
	make -s -C "$SRS_TREE" O="$BUILD" "${SRS_MAKE_FLAGS[@]}" olddefconfig >/dev/null
	# Every option a fragment asks for must have survived olddefconfig.
	for f in "${frags[@]}"; do
		while read -r line; do
			case "$line" in
			CONFIG_*=*) grep -qx "$line" "$BUILD/.config" ||
				srs_die "$line from ${f##*/} did not stick (missing dependency?)" ;;
			"# CONFIG_"*" is not set") grep -q "^${line#\# }" "$BUILD/.config" &&
				grep -qx "$line" "$BUILD/.config" || true ;;
			esac
		done < "$f"
	done
	echo "$want" > "$BUILD/.seccomp-rs-config"
fi

# --- build --------------------------------------------------------------
srs_log "building $IMPL: make ${TARGETS[*]} (O=$BUILD)"
make -s -C "$SRS_TREE" O="$BUILD" "${SRS_MAKE_FLAGS[@]}" -j"$SRS_JOBS" "${TARGETS[@]}"
