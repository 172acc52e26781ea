#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh: `make kunit`.  Runs the KUnit suite seccomp_rust_engine (the
# engine's self-tests, engine/selftest.rs) in the Rust kernel as built, the
# usual KUnit way: `kunit.py exec` boots it in QEMU (KUnit runs the suite
# at boot), parses the KTAP and exits non-zero on any failure.
#
# The same suite in a kernel configured from the suite's own kunitconfig
# (a larger x86_64 build in .kunit/ of the tree, so slower):
#   cd ~/.cache/seccomp-rs/tree && tools/testing/kunit/kunit.py run \
#       --arch=x86_64 --kunitconfig=kernel/seccomp_rust \
#       --make_options LLVM=1 --make_options RUSTC=$RUSTC (lib.sh) \
#       --make_options BINDGEN=~/.cache/seccomp-rs/tools/bin/bindgen

. "$(dirname "$0")/lib.sh"

"$SRS_HARNESS/kernel.sh" rust
cd "$SRS_TREE"
exec python3 tools/testing/kunit/kunit.py exec --arch=x86_64 \
	--build_dir="$(srs_build_dir rust)" --timeout=600 \
	--kernel_args=loglevel=7 "${@:-seccomp_rust_engine}"
