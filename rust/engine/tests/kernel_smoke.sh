#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Compiles the kernel-shared module files (mod.rs and its siblings) the way
# kbuild does: as a module of a no_std crate, with the kernel's rustc lint
# set (Makefile: rust_common_flags) and its clippy lints, warnings denied.
# Usage: tests/kernel_smoke.sh   (RUSTC and CLIPPY_DRIVER may override.)
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
rustc=${RUSTC:-$(command -v /usr/bin/rustc || command -v rustc)}
clippy=${CLIPPY_DRIVER:-$(command -v clippy-driver || true)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/root.rs" <<ROOT
//! Stand-in for the kernel crate root that declares the engine module.
#![no_std]
#[path = "$here/mod.rs"]
pub mod engine;
ROOT

flags="--edition=2021 --crate-type=rlib --crate-name=engine_smoke
  -Cpanic=abort -Coverflow-checks=on
  -Dnon_ascii_idents -Dunsafe_op_in_unsafe_fn -Wmissing_docs
  -Wrust_2018_idioms -Wunreachable_pub -Dwarnings"
clippy_flags="-Wclippy::all -Aclippy::collapsible_if -Aclippy::collapsible_match
  -Wclippy::ignored_unit_patterns -Wclippy::mut_mut
  -Wclippy::needless_bitwise_bool -Aclippy::needless_lifetimes
  -Wclippy::no_mangle_with_rust_abi -Wclippy::undocumented_unsafe_blocks
  -Aclippy::uninlined_format_args -Wclippy::unnecessary_safety_comment
  -Wclippy::unnecessary_safety_doc -Aclippy::unwrap_or_default
  -Wclippy::float_arithmetic"

echo "kernel smoke: $("$rustc" --version)"
# shellcheck disable=SC2086
"$rustc" $flags --emit=metadata -o "$tmp/libengine_smoke.rmeta" "$tmp/root.rs"
# shellcheck disable=SC2086
"$rustc" $flags -Copt-level=2 --emit=obj -o "$tmp/engine_smoke.o" "$tmp/root.rs"
if [ -n "$clippy" ]; then
    echo "kernel smoke: $("$clippy" --version)"
    # shellcheck disable=SC2086
    "$clippy" $flags $clippy_flags --emit=metadata -o "$tmp/clippy.rmeta" "$tmp/root.rs"
fi
echo "kernel smoke: OK"
