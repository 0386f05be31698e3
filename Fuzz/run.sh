#!/usr/bin/env bash
# Fuzzes the readers and the model loader with libFuzzer.
#
#   bash Fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs among csv libsvm idx npy model
# checkpoint pipeline resume text compressed (default: all, one after another). Builds `softmax-fuzz` with
# `-sanitize=fuzzer,address` into .build-fuzz, then runs each target on its
# seed corpus in Fuzz/Corpus/TARGET. New interesting inputs go to
# Fuzz/.work/TARGET (not kept in git). A crash, a timeout (a hang), a leak
# or an allocation over 512 MB stops the run with exit code 1 and leaves
# the input as Fuzz/.work/findings/TARGET-*; keep it as a regression test
# (Fixtures/FuzzRegressions in Tests/SoftmaxDataTests for the readers, in
# Tests/SoftmaxRegressionTests for models and checkpoints).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv libsvm idx npy model checkpoint pipeline resume text compressed)

echo "==> building softmax-fuzz (-sanitize=fuzzer,address)"
SOFTMAX_FUZZ=1 swift build -c release --build-path .build-fuzz --product softmax-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | grep -v "warning: Cannot export local symbol" || true
binary=$(SOFTMAX_FUZZ=1 swift build -c release --build-path .build-fuzz --show-bin-path)/softmax-fuzz
[ -x "$binary" ] || { echo "build failed: no $binary" >&2; exit 1; }

mkdir -p Fuzz/.work/findings
status=0
# The checkpoint target's seeds are made by the binary (their data
# fingerprint must match the fixed data set it resumes them on).
mkdir -p Fuzz/.work/checkpoint-seeds
SOFTMAX_FUZZ_CHECKPOINT_SEEDS=Fuzz/.work/checkpoint-seeds "$binary" >/dev/null 2>&1

for target in "${targets[@]}"; do
  corpus="Fuzz/Corpus/$target"
  [ "$target" = checkpoint ] && corpus=Fuzz/.work/checkpoint-seeds
  [ -d "$corpus" ] || { echo "no target '$target' (csv libsvm idx npy model checkpoint pipeline resume text compressed)" >&2; exit 2; }
  mkdir -p "Fuzz/.work/$target"
  echo "==> fuzzing $target for ${seconds}s"
  dictionary=()
  [ -f "Fuzz/Dictionaries/$target.dict" ] && dictionary=(-dict="Fuzz/Dictionaries/$target.dict")
  if ! SWIFT_BACKTRACE=enable=no SOFTMAX_FUZZ_TARGET=$target "$binary" "Fuzz/.work/$target" "$corpus" \
    -max_total_time="$seconds" -timeout=10 -malloc_limit_mb=512 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 "${dictionary[@]}" \
    -artifact_prefix="Fuzz/.work/findings/$target-" 2>&1 | tee "Fuzz/.work/$target.log" |
    grep -E "^(#[0-9]+.*(DONE|pulse)|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)"; then
    :
  fi
  if ! grep -q "Done [0-9]* runs" "Fuzz/.work/$target.log"; then
    echo "!! $target: a finding; see Fuzz/.work/$target.log and Fuzz/.work/findings/" >&2
    status=1
  fi
done
exit $status
