# SPDX-License-Identifier: GPL-2.0
#
# seccomp-rs: seccomp in Rust for Linux 6.12.  Entry points (see README.md):
#
#   make run                         build the Rust-seccomp kernel, boot it, demo
#   make test                        everything: host tests, both kernels, kselftests
#   make kernel    IMPL=c|rust       build one variant, print its bzImage
#   make qemu      IMPL=c|rust CMD='...' [EXTRA=dir | ROOT=host]
#                                    boot it, run CMD in a busybox initramfs
#                                    (EXTRA's files in /extra) or on the
#                                    host's own root (read-only, overlays)
#   make kselftest IMPL=c|rust [BITS=32]  boot it, run seccomp_bpf (TAP)
#   make clients   IMPL=c|rust       real clients on it: libseccomp, bubblewrap,
#                                    systemd, QEMU -sandbox, strace
#   make kunit                       the KUnit suite seccomp_rust_engine (kunit.py)
#   make bootstrap                   install/check the toolchain and source
#   make test-fresh                  make run + make test in a clean Debian root
#   make bench                       seccomp overhead per syscall, C vs Rust
#   make patches                     export the work as a git format-patch series
#   make check-series                build bzImage after each patch of the series
#   make lint                        checkpatch, rustfmt, clippy, rustdoc, SAFETY
#
# Builds, sources and tools live in $(SECCOMP_RS_CACHE) (default
# ~/.cache/seccomp-rs), outside the checkout.

IMPL ?= rust
H := tools/testing/seccomp-rs
SHELL := /bin/bash
# Recipes that run cargo: the pinned toolchain, installed if need be.
PINNED := . $(H)/lib.sh && srs_bootstrap &&
export SECCOMP_RS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/seccomp-rs
SAMPLES_TARGET := $(SECCOMP_RS_CACHE)/cargo/samples
SAMPLES_BIN := $(SAMPLES_TARGET)/x86_64-unknown-linux-gnu/release
SAMPLES := strict-demo bpf-direct bpf-fancy dropper user-trap
STRESS_TARGET := $(SECCOMP_RS_CACHE)/cargo/stress
STRESS := notif-stress chain-stress seccomp-fuzz seccomp-diff compat-check audit-check

.PHONY: run test test-fresh test-debug kernel qemu kselftest clients kunit bootstrap samples stress host-test help bench

help:
	@sed -n '3,24p' Makefile | sed 's/^# \{0,1\}//'

bootstrap:
	@$(H)/bootstrap.sh

kernel:
	@$(H)/kernel.sh $(IMPL)
	@echo "$(SECCOMP_RS_CACHE)/build-$(IMPL)/arch/x86/boot/bzImage"

qemu:
	@$(H)/kernel.sh $(IMPL)
	@QEMU_ROOT=$(or $(ROOT),initramfs) $(H)/qemu.sh $(IMPL) '$(CMD)' '$(EXTRA)'

# BITS is also the kernel's own variable (BITS=32 builds a 32-bit
# kernel): the kernel build must not inherit it from the command line.
kselftest:
	@env -u MAKEFLAGS -u MAKEOVERRIDES $(H)/kernel.sh $(IMPL)
	@$(H)/kselftest.sh run $(IMPL) $(BITS)

# The engine's self-tests in the kernel, the usual KUnit way: kunit.py
# boots the Rust kernel as built (KUnit runs at boot) and parses the KTAP.
kunit:
	@$(H)/kunit.sh

# Unmodified seccomp users of the host, built and run by clients.sh.
clients: samples
	@$(H)/bootstrap.sh
	@$(H)/kernel.sh $(IMPL)
	@$(H)/clients.sh build
	@$(H)/clients.sh run $(IMPL)

# Static user-space samples, run in the guest.
samples:
	@$(PINNED) cd samples/seccomp && CARGO_TARGET_DIR=$(SAMPLES_TARGET) \
		RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build --quiet --release --locked --target x86_64-unknown-linux-gnu
	@mkdir -p $(SECCOMP_RS_CACHE)/samples
	@cp -f $(addprefix $(SAMPLES_BIN)/,$(SAMPLES)) $(SECCOMP_RS_CACHE)/samples/

# Static stress programs of ours, run in the guest by `make test`.
stress:
	@$(PINNED) cd $(H)/stress && CARGO_TARGET_DIR=$(STRESS_TARGET) \
		RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build --quiet --release --locked --target x86_64-unknown-linux-gnu
	@mkdir -p $(SECCOMP_RS_CACHE)/stress
	@cp -f $(addprefix $(STRESS_TARGET)/x86_64-unknown-linux-gnu/release/,$(STRESS)) \
		$(SECCOMP_RS_CACHE)/stress/

run: samples
	@$(H)/kernel.sh rust
	@$(H)/qemu.sh rust 'dmesg | grep seccomp-rs; ./strict-demo; \
		echo "== bpf-direct (stderr sent to /dev/null)"; echo Ada | ./bpf-direct 2>/dev/null; \
		echo "== user-trap"; ./user-trap' \
		$(SECCOMP_RS_CACHE)/samples

host-test:
	@$(H)/test.sh host

test:
	@$(H)/test.sh all

# The README's two commands on a clean Debian 12 root (debootstrap), from a
# fresh clone of HEAD; phase times in results/fresh/report.txt.
test-fresh:
	@$(H)/test-fresh.sh

# Both variants under KASAN, UBSAN, KMEMLEAK, lockdep & co.
test-debug:
	@$(H)/test-debug.sh

# Per-syscall overhead of both kernels as they are built (boots them, does
# not build them): table, CSV and chart in results/bench/.
bench:
	@$(H)/bench/bench.sh

# The upstream series (README: "Upstream series and kernel tooling"): the
# export into $(SECCOMP_RS_CACHE)/patches-out/, a build after each patch
# (slow: a clean build first), the kernel's checkers (slow: a CLIPPY=1 build).
.PHONY: patches check-series lint
patches:
	@$(H)/patches.sh export

check-series:
	@$(H)/patches.sh check

lint:
	@$(H)/lint.sh
