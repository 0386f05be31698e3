#!/usr/bin/env bash
# Checks the instruction sets in the compiled Float kernels (x86-64 only):
# the baseline functions use no AVX (they must run on any x86-64), the AVX2
# functions no AVX-512 (no zmm, no mask registers), and the AVX-512
# functions do use zmm. This catches a target attribute that was dropped
# or a helper that was not inlined into its level.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[[ "$(uname -m)" == "x86_64" ]] || { echo "not x86-64: nothing to check"; exit 0; }
command -v objdump >/dev/null || { echo "objdump missing (apt-get install binutils)"; exit 1; }
(cd "$root" && swift build -c release --target _SoftmaxKernels >/dev/null)
object=$(find "$root/.build" -path '*release*' -name 'kernels.c.o' | head -n 1)
[[ -n "$object" ]] || { echo "kernels.c.o not found" >&2; exit 1; }

listing=$(objdump -d --no-show-raw-insn "$object")
functions_of() { awk -v suffix="$1" '/^[0-9a-f]+ <.*>:$/ { keep = ($2 ~ suffix ">:") } keep' <<<"$listing"; }

failures=0
baseline=$(functions_of "_baseline")
avx2=$(functions_of "_avx2")
avx512=$(functions_of "_avx512")
for name in baseline avx2 avx512; do
  [[ -n "${!name}" ]] || { echo "no *_$name functions found" >&2; failures=1; }
done
if grep -qE '%[yz]mm|%k[0-7]|:[[:space:]]+v[a-z]' <<<"$baseline"; then
  echo "baseline kernels contain AVX instructions:" >&2
  grep -E '%[yz]mm|%k[0-7]|:[[:space:]]+v[a-z]' <<<"$baseline" | head -n 5 >&2
  failures=1
fi
if grep -qE '%zmm|%k[0-7]' <<<"$avx2"; then
  echo "AVX2 kernels contain AVX-512 instructions:" >&2
  grep -E '%zmm|%k[0-7]' <<<"$avx2" | head -n 5 >&2
  failures=1
fi
if ! grep -q '%zmm' <<<"$avx512"; then
  echo "AVX-512 kernels use no zmm register" >&2
  failures=1
fi
[[ $failures == 0 ]] && echo "kernel instruction sets: OK ($(grep -c '' <<<"$baseline") baseline, $(grep -c '' <<<"$avx2") AVX2, $(grep -c '' <<<"$avx512") AVX-512 lines)"
exit $failures
