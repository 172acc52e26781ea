#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh IMPL 'CMD' [EXTRA_DIR]: boot the IMPL kernel on a static busybox
# initramfs, run CMD with /bin/sh in the guest (in /extra, where EXTRA_DIR's
# files are), stream its output, and exit with CMD's exit status.
#
# The whole serial console goes to $SRS_CACHE/logs/IMPL-qemu.log (or
# $QEMU_LOG); a kernel oops, BUG, WARNING or panic in it fails the run
# (exit 125), as does a guest that never reports CMD's status (timeout
# after $QEMU_TIMEOUT seconds, default 900: exit 124).

. "$(dirname "$0")/lib.sh"

IMPL=${1:-}
CMD=${2:-}
EXTRA=${3:-}
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- initramfs ------------------------------------------------------------
cat > "$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
export PATH=/extra:/bin HOME=/tmp
cd /extra
echo "@@seccomp-rs: guest up, kernel $(uname -r)@@"
sh /cmd.sh </dev/null
echo "@@seccomp-rs: exit=$?@@"
poweroff -f
INIT
printf '%s\n' "$CMD" > "$work/cmd.sh"
{
	echo "dir /bin 0755 0 0"
	for d in proc sys dev tmp extra; do echo "dir /$d 0755 0 0"; done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /bin/busybox $BUSYBOX 0755 0 0"
	echo "file /init $work/init 0755 0 0"
	echo "file /cmd.sh $work/cmd.sh 0644 0 0"
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

srs_log "booting $IMPL ($KERNEL, ${ACCEL[1]}), log: $LOG"
set +e
timeout --foreground "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" "${extra_args[@]}" \
	-smp 2 -m 1G -no-reboot -display none -monitor none -serial stdio \
	-kernel "$KERNEL" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic ${KERNEL_CMDLINE:-}" </dev/null |
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
