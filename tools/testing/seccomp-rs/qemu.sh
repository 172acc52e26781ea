#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh IMPL 'CMD' [EXTRA_DIR]: the one guest runner.  Boots the IMPL
# kernel, runs the shell command CMD with /bin/sh in the guest, streams its
# output, and exits with CMD's exit status.  The guest's root is either
#
#   QEMU_ROOT=initramfs (default): a static busybox initramfs; CMD runs in
#       /extra, where EXTRA_DIR's files are;
#   QEMU_ROOT=host: the host's own root filesystem, read-only over 9p, with
#       overlays where programs write (/etc, /home, /root, /run, /tmp,
#       /var: the host's files seen, the guest's writes kept in a tmpfs);
#       CMD runs in the caller's directory, wherever it is, with the
#       host's programs (`make qemu ROOT=host`, the clients).
#
# The whole serial console goes to $SRS_CACHE/logs/IMPL-qemu.log (or
# $QEMU_LOG); a kernel oops, BUG, WARNING or panic in it fails the run
# (exit 125), as does a guest that never reports CMD's status (timeout
# after $QEMU_TIMEOUT seconds, default 900: exit 124).

. "$(dirname "$0")/lib.sh"

IMPL=${1:-}
CMD=${2:-}
EXTRA=${3:-}
ROOT=${QEMU_ROOT:-initramfs}
srs_impl_check "$IMPL"
[ -n "$CMD" ] || srs_die "usage: qemu.sh IMPL 'CMD' [EXTRA_DIR]"
BUILD=$(srs_build_dir "$IMPL")
KERNEL=$BUILD/arch/x86/boot/bzImage
[ -e "$KERNEL" ] || srs_die "no kernel at $KERNEL: run 'make kernel IMPL=$IMPL'"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || srs_die "no static busybox (package busybox-static)"
mkdir -p "$SRS_CACHE/logs"
LOG=${QEMU_LOG:-$SRS_CACHE/logs/$IMPL-qemu.log}
TIMEOUT=${QEMU_TIMEOUT:-900}

# Where a guest on the host's root sees it at the same path.
mkdir -p "$SRS_CACHE/tmp"
work=$(mktemp -d -p "$SRS_CACHE/tmp")
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$CMD" > "$work/cmd.sh"

# --- guest init -------------------------------------------------------------
# The same script for both roots: busybox for what the guest sets up (the
# host has the static busybox too), CMD's exit status on the console.
case $ROOT in
initramfs) setup='/bin/busybox --install -s /bin
mount -t tmpfs tmpfs /tmp
export PATH=/extra:/bin HOME=/tmp
dir=/extra' ;;
host) setup="mkdir -p /dev/.srs && mount -t tmpfs tmpfs /dev/.srs
for d in etc home root run tmp var; do
	mkdir -p /dev/.srs/\$d/upper /dev/.srs/\$d/work
	mount -t overlay overlay -o lowerdir=/\$d,upperdir=/dev/.srs/\$d/upper,workdir=/dev/.srs/\$d/work /\$d
done
mkdir -p /run/srs && cp $(printf %q "$work")/cmd.sh /run/srs/
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
dir=$(printf %q "$PWD")" ;;
*) srs_die "QEMU_ROOT must be initramfs or host" ;;
esac
cat > "$work/init" <<INIT
#!/bin/busybox sh
mount() { /bin/busybox mount "\$@"; }
mkdir() { /bin/busybox mkdir "\$@"; }
cp() { /bin/busybox cp "\$@"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
$setup
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm && mount -t devpts devpts /dev/pts
/bin/busybox ln -sf /proc/self/fd /dev/fd
cd "\$dir"
echo "@@seccomp-rs: guest up, kernel \$(uname -r)@@"
/bin/sh /run/srs/cmd.sh </dev/null
echo "@@seccomp-rs: exit=\$?@@"
/bin/busybox poweroff -f
INIT
chmod 755 "$work/init"

if [ "$ROOT" = initramfs ]; then
	{
		echo "dir /bin 0755 0 0"
		for d in proc sys dev tmp run run/srs extra; do echo "dir /$d 0755 0 0"; done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /bin/busybox $BUSYBOX 0755 0 0"
		echo "file /init $work/init 0755 0 0"
		echo "file /run/srs/cmd.sh $work/cmd.sh 0644 0 0"
		if [ -n "$EXTRA" ]; then
			[ -d "$EXTRA" ] || srs_die "EXTRA=$EXTRA is not a directory"
			(cd "$EXTRA" && find . -mindepth 1 -type d | sort) | while read -r d; do
				echo "dir /extra/${d#./} 0755 0 0"
			done
			(cd "$EXTRA" && find . -type f | sort) | while read -r f; do
				mode=$(stat -c %a "$EXTRA/$f")
				echo "file /extra/${f#./} $(cd "$EXTRA" && realpath "$f") $mode 0 0"
			done
		fi
	} > "$work/initramfs.list"
	"$BUILD/usr/gen_init_cpio" "$work/initramfs.list" > "$work/initramfs.cpio"
	ROOT_ARGS=(-initrd "$work/initramfs.cpio")
	ROOT_CMDLINE=""
else
	[ -z "$EXTRA" ] || srs_die "EXTRA_DIR is for QEMU_ROOT=initramfs (the host root sees every file)"
	ROOT_ARGS=(-virtfs "local,id=hostroot,path=/,mount_tag=/dev/root,security_model=none,readonly=on,multidevs=remap")
	ROOT_CMDLINE="root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144 ro init=$work/init"
fi

# --- accelerator ----------------------------------------------------------
# Nested KVM is often present but broken (hangs or crawls), so it is only
# used after a short probe boot succeeded on this host boot; TCG otherwise.
probe_kvm() {
	[ -w /dev/kvm ] || return 1
	local stamp="$SRS_CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)"
	if [ ! -e "$stamp" ]; then
		rm -f "$SRS_CACHE"/kvm-probe.*
		if (timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256M -smp 1 \
			-kernel "$KERNEL" -append "console=ttyS0 panic=-1 rdinit=/bin/poweroff" \
			-display none -serial none -monitor none -no-reboot </dev/null >/dev/null 2>&1) 2>/dev/null
		then echo kvm > "$stamp"; else echo tcg > "$stamp"; fi
	fi
	[ "$(cat "$stamp")" = kvm ]
}
case "${QEMU_ACCEL:-auto}" in
kvm) ACCEL=(-accel kvm -cpu host) ;;
tcg) ACCEL=(-accel tcg -cpu max) ;;
auto) if probe_kvm; then ACCEL=(-accel kvm -cpu host); else ACCEL=(-accel tcg -cpu max); fi ;;
*) srs_die "QEMU_ACCEL must be kvm, tcg or auto" ;;
esac
# QEMU_EXTRA_ARGS: e.g. "-icount shift=0" for instruction-counted guest time.
read -r -a extra_args <<< "${QEMU_EXTRA_ARGS:-}"

srs_log "booting $IMPL ($KERNEL, ${ACCEL[1]}, root: $ROOT), log: $LOG"
set +e
timeout --foreground "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" "${extra_args[@]}" \
	-smp 2 -m 1G -no-reboot -display none -monitor none -serial stdio \
	-kernel "$KERNEL" "${ROOT_ARGS[@]}" \
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic $ROOT_CMDLINE ${KERNEL_CMDLINE:-}" </dev/null |
	tr -d '\r' | tee "$LOG" |
	awk '/^@@seccomp-rs: exit=/ { on = 0 } on { print; fflush() } /^@@seccomp-rs: guest up/ { on = 1 }'
qemu_rc=${PIPESTATUS[0]}
set -e

status=$(sed -n 's/^@@seccomp-rs: exit=\([0-9]*\)@@$/\1/p' "$LOG" | tail -n 1)
if grep -nE '(^|\] )(BUG:|Oops|WARNING:|Kernel panic|general protection fault|UBSAN:|KASAN:|kernel BUG at|Call Trace:|INFO: task .* blocked|rcu: INFO)' "$LOG" >&2; then
	srs_log "kernel problem reported in $LOG (lines above)"
	exit 125
fi
if [ -z "$status" ]; then
	[ "$qemu_rc" = 124 ] && srs_log "guest timed out after ${TIMEOUT}s"
	srs_log "guest never reported CMD's exit status (qemu exit $qemu_rc); see $LOG"
	exit 124
fi
exit "$status"
