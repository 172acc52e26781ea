#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vng.sh IMPL 'CMD': boot the IMPL kernel with virtme-ng (`make vng`) and
# run the shell command CMD in it with the host's own userland (the host's root filesystem,
# read-only with writable overlays, over 9p), so any host program can be
# tried on either seccomp implementation.  Exits with CMD's exit status.
#
# vng does not name the root device when it boots without an initramfs,
# so the 9p root is asked for explicitly (root=/dev/root, the mount tag vng
# gives the host's root).  KVM is not used: the harness runs on TCG
# everywhere (see README, "QEMU").  VNG_ARGS adds options of vng's own.

. "$(dirname "$0")/lib.sh"

IMPL=${1:-}; shift || true
srs_impl_check "$IMPL"
CMD=${1:-}
[ -n "$CMD" ] || srs_die "usage: vng.sh IMPL 'CMD'"
KERNEL=$(srs_build_dir "$IMPL")/arch/x86/boot/bzImage
[ -e "$KERNEL" ] || srs_die "no kernel at $KERNEL: run 'make kernel IMPL=$IMPL'"
[ -x "$SRS_VNG" ] || srs_die "no $SRS_VNG: run 'make bootstrap'"

# shellcheck disable=SC2086	# VNG_ARGS is a list of options
# vng runs its own virtme-run through PATH: the venv's bin/ goes first.
PATH=$SRS_VNG_BIN:$PATH exec "$SRS_VNG" --run "$KERNEL" --disable-kvm --cpus 2 --memory 1G \
	--append root=/dev/root ${VNG_ARGS:-} -- "$CMD"
