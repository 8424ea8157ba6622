#!/usr/bin/env bash
# Builds the WebAssembly SIMD kernels from wasm/*.c: src/mfcc/mfcc_kernel.wasm and src/resample_kernel.wasm
# (or both into the directory given as $1). The .wasm files are committed, so a clone needs no compiler;
# src/kernel-build.test.ts rebuilds them where clang exists and checks that they match the sources.
# Needs clang and lld (Debian: apt-get install -y clang lld). Checks that each module imports its memory,
# keeps no data segment and never moves the stack pointer: it works in memory that JavaScript (or, for the
# MFCC kernel, kissfft) owns and lays out.
set -euo pipefail
cd "$(dirname "$0")/.."
build() { # build SOURCE OUT
  local source=$1 out=$2
  clang --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding \
    -Wl,--no-entry -Wl,--import-memory -Wl,--allow-undefined -Wl,--strip-all \
    -o "$out" "$source"
  local dump
  dump=$(llvm-objdump -d -h "$out")
  if grep -q ' DATA ' <<<"$dump"; then echo "error: $out has a data section" >&2; exit 1; fi
  if grep -qE 'global\.(get|set)' <<<"$dump"; then echo "error: $out uses a global (the stack pointer)" >&2; exit 1; fi
  echo "built $out ($(wc -c <"$out") bytes)"
}
if [[ $# -ge 1 ]]; then
  build wasm/mfcc_kernel.c "$1/mfcc_kernel.wasm"
  build wasm/resample_kernel.c "$1/resample_kernel.wasm"
else
  build wasm/mfcc_kernel.c src/mfcc/mfcc_kernel.wasm
  build wasm/resample_kernel.c src/resample_kernel.wasm
fi
