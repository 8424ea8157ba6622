#!/usr/bin/env bash
# Builds src/mfcc/mfcc_kernel.wasm (or the path given as $1) from wasm/mfcc_kernel.c. The .wasm is
# committed, so a clone needs no compiler; src/mfcc/kernel-build.test.ts rebuilds it where clang exists and
# checks that it matches the source.
# Needs clang and lld (Debian: apt-get install -y clang lld). Checks that the module imports kissfft's
# memory, keeps no data segment and never moves the stack pointer: it shares memory it does not own.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/mfcc/mfcc_kernel.wasm}
clang --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding \
  -Wl,--no-entry -Wl,--import-memory -Wl,--allow-undefined -Wl,--strip-all \
  -o "$out" wasm/mfcc_kernel.c
dump=$(llvm-objdump -d -h "$out")
if grep -q ' DATA ' <<<"$dump"; then echo "error: $out has a data section" >&2; exit 1; fi
if grep -qE 'global\.(get|set)' <<<"$dump"; then echo "error: $out uses a global (the stack pointer)" >&2; exit 1; fi
echo "built $out ($(wc -c <"$out") bytes)"
