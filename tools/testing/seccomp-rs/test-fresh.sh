#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-fresh.sh: `make test-fresh`.  The README's two commands as a newcomer
# runs them on a freshly installed Debian 12: a clean bookworm root made by
# debootstrap from the package archive (kept once as $SRS_CACHE/fresh/base,
# copied anew for every run), a fresh clone of this repository's HEAD in it,
# then `make run` and `make test` exactly as written, in a chroot with its
# own mount and PID namespaces (/proc, /sys, /dev bound), with nothing of the
# caller's environment, tools or caches.  Each phase is timed from the run's
# log; the report is $SRS_CACHE/results/fresh/report.txt.
#
# It commits nothing and needs the network only for the package registries.
# FRESH_MIRROR overrides the Debian mirror (default deb.debian.org).

. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || srs_die "make test-fresh needs root (debootstrap, chroot, mounts)"
FRESH=$SRS_CACHE/fresh
BASE=$FRESH/base
ROOT=$FRESH/root
OUT=$SRS_CACHE/results/fresh
MIRROR=${FRESH_MIRROR:-http://deb.debian.org}
REV=$(git -C "$SRS_ROOT" rev-parse HEAD)
[ -z "$(git -C "$SRS_ROOT" status --porcelain --untracked-files=no)" ] ||
	srs_warn "uncommitted changes are not tested: the fresh clone is of HEAD ($REV)"

if ! command -v debootstrap >/dev/null; then
	srs_log "installing debootstrap"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

# --- the clean root ------------------------------------------------------------
# A Debian 12 installation with what a newcomer has before reading the README:
# git to clone, make to run it.  Made once; every run starts from a copy.
if [ ! -e "$BASE/.seccomp-rs-base" ]; then
	srs_log "debootstrap bookworm into $BASE (once)"
	rm -rf "$BASE"
	mkdir -p "$FRESH"
	debootstrap --include=git,make,ca-certificates bookworm "$BASE" "$MIRROR/debian" \
		> "$FRESH/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$FRESH/debootstrap.log"; srs_die "debootstrap failed"; }
	cat > "$BASE/etc/apt/sources.list.d/debian.sources" <<-EOF
	Types: deb
	URIs: $MIRROR/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: $MIRROR/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -f "$BASE/etc/apt/sources.list"
	date -u +%F > "$BASE/.seccomp-rs-base"
fi

srs_log "a clean root in $ROOT (from $BASE, made $(cat "$BASE/.seccomp-rs-base"))"
rm -rf "$ROOT"
cp -a "$BASE" "$ROOT"
# The machine's network, as a new installation on it would have it: its
# resolver, the local CA certificates it trusts (a TLS-inspecting proxy's,
# say) and pip's global configuration.  Nothing of the user's.
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
	cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
	chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 ||
		srs_die "update-ca-certificates failed in $ROOT"
fi
[ -r /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"
git clone -q --no-hardlinks "$SRS_ROOT" "$ROOT/root/seccomp-rs"
git -C "$ROOT/root/seccomp-rs" checkout -q "$REV"

# --- the run ----------------------------------------------------------------------
# Inside: the README's commands, each line of output stamped with the seconds
# since the start, and a marker line per command with its exit status.
cat > "$ROOT/root/fresh-run.sh" <<'EOF'
#!/bin/bash
cd /root/seccomp-rs || exit 1
for cmd in "make run" "make test"; do
	echo "=== fresh: begin $cmd"
	$cmd
	echo "=== fresh: end $cmd: exit $?"
done
EOF
chmod +x "$ROOT/root/fresh-run.sh"

mkdir -p "$OUT"
log=$OUT/run.log
srs_log "running 'make run' and 'make test' in the clean root (log: $log)"
t0=$(date +%s)
# shellcheck disable=SC2016	# expanded inside the namespaces
unshare --mount --pid --fork --propagation private env -i ROOT="$ROOT" bash -c '
	set -e
	mount -t proc proc "$ROOT/proc"
	mount --rbind /sys "$ROOT/sys"
	mount --rbind /dev "$ROOT/dev"
	mount -t tmpfs tmpfs "$ROOT/tmp"
	exec chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/root/fresh-run.sh' < /dev/null 2>&1 |
	while IFS= read -r line; do
		printf -v now '%(%s)T' -1
		printf '[%5d] %s\n' $((now - t0)) "$line"
	done > "$log" || true
total=$(($(date +%s) - t0))

# --- the report ---------------------------------------------------------------------
# Phases: the bootstrap's steps, the kernel builds, then every "====" step
# of make test, each up to the next marker.
python3 - "$log" "$OUT/report.txt" "$REV" "$total" <<'EOF'
import re, sys
log, report, rev, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
marks, status, summary = [], {}, ""
for line in open(log, errors="replace"):
    m = re.match(r"\[ *(\d+)\] (.*)", line.rstrip("\n"))
    if not m:
        continue
    t, text = int(m.group(1)), re.sub(r"\x1b\[[0-9;]*m", "", m.group(2))
    if (e := re.match(r"=== fresh: end (.*): exit (\d+)", text)):
        status[e.group(1)] = int(e.group(2))
        marks.append((t, None))
    elif (b := re.match(r"=== fresh: begin (.*)", text)):
        marks.append((t, b.group(1)))
    elif re.match(r"\[seccomp-rs\] (apt-get update|installing|unpacking|dpkg |building |copying )", text):
        marks.append((t, "  " + text[len("[seccomp-rs] "):][:70]))
    elif text.startswith("==== "):
        marks.append((t, "  make test: " + text[5:][:70]))
    elif re.match(r"\d+ passed, \d+ failed$", text):
        summary = text
rows, begun, took = [], {}, {}
for (t, name), (t2, _) in zip(marks, marks[1:] + [(total, None)]):
    if name and not name.startswith(" "):
        begun[name] = t
    elif name:
        rows.append("%6.1f min  %s" % ((t2 - t) / 60, name))
for line in open(log, errors="replace"):
    if (e := re.match(r"\[ *(\d+)\] === fresh: end (.*): exit", line)):
        took[e.group(2)] = (int(e.group(1)) - begun.get(e.group(2), 0)) / 60
ok = status.get("make run") == 0 and status.get("make test") == 0
text = ["make test-fresh: %s (clean Debian 12 root, fresh clone of %s)" % ("PASS" if ok else "FAIL", rev[:12]),
        "  make run:  exit %s, %.1f min" % (status.get("make run", "none"), took.get("make run", 0)),
        "  make test: exit %s, %.1f min, %s" % (status.get("make test", "none"), took.get("make test", 0),
                                                summary or "no summary line"),
        "  total %.1f min" % (total / 60), "", "phases (minutes from each marker to the next):"] + rows
open(report, "w").write("\n".join(text) + "\n")
print("\n".join(text))
sys.exit(0 if ok else 1)
EOF
