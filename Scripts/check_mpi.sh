#!/usr/bin/env bash
# Distributed training under Open MPI (issue 19), as CI runs it:
#   1. the model file is the same, byte for byte, for 1, 2, 3 and 4 ranks and
#      1 or 2 threads a rank, for six option sets (digits ten times, as
#      .npy; the ranks' shares in memory, and streamed from the file; L-BFGS,
#      OWL-QN, SGD with momentum, Adam with early stopping);
#   2. a rank that cannot read its data stops the job with its rank's message;
#   3. a rank that dies stops the job (mpirun names it);
#   4. a rank that stalls stops the job after --timeout (no hang);
#   5. a job killed on 2 ranks after a checkpoint, resumed on 3, writes the
#      uninterrupted model.
# Needs libopenmpi-dev and openmpi-bin; builds with SOFTMAX_MPI=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SOFTMAX_MPI=1 swift build --product softmax-mpi >/dev/null
swift build --product softmax >/dev/null
bin="$PWD/.build/debug"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/softmax" convert Data/digits.csv "$work/digits1.npy" >/dev/null
# Ten copies of digits, each scaled differently: 17,970 rows, four
# superblocks of 4096 rows and a part of one, so that 2-4 ranks all work.
python3 - "$work" <<'PY'
import sys
import numpy as np
work = sys.argv[1]
x = np.load(f"{work}/digits1.npy")
np.save(f"{work}/digits.npy", np.concatenate([x * (1 + c / 10) for c in range(10)]).astype(np.float32))
labels = open(f"{work}/digits1.labels.txt").read()
open(f"{work}/digits.labels.txt", "w").write(labels * 10)
PY
mpi=(mpirun --oversubscribe)
if [ "$(id -u)" = 0 ]; then mpi+=(--allow-run-as-root); fi
run() { timeout 300 "${mpi[@]}" "$@"; }
data=("$work/digits.npy" --labels "$work/digits.labels.txt" --quiet)

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

references=()
for options in "" "--standardize --balanced" "--standardize --l1 0.001 --max-iter 60" \
  "--standardize --balanced --stream" \
  "--standardize --optimizer sgd --epochs 2 --batch-size 100 --momentum 0.9 --learning-rate 0.02" \
  "--standardize --optimizer adam --epochs 3 --batch-size 700 --early-stopping 0.1 --stream"; do
  reference=""
  for ranks in 1 2 3 4; do
    for threads in 1 2; do
      model="$work/model-$ranks-$threads.json"
      # shellcheck disable=SC2086
      run -np "$ranks" "$bin/softmax-mpi" "${data[@]}" $options --threads "$threads" \
        --model "$model" || fail "[$options] $ranks ranks, $threads threads: exit $?"
      if [ -z "$reference" ]; then
        reference="$model"
      elif ! cmp -s "$reference" "$model"; then
        fail "[$options] $ranks ranks, $threads threads: the model differs from 1 rank's"
      fi
    done
  done
  echo "[$options] 1-4 ranks × 1-2 threads: one model ($(md5sum < "$reference" | cut -c1-12))"
  kept="$work/reference-${#references[@]}.json"
  cp "$reference" "$kept"
  references+=("$kept")
done
# Streamed from the file or loaded: the same model.
cmp -s "${references[1]}" "${references[3]}" || fail "--stream gives another model than loading"


# Killed on 2 ranks after a checkpoint, resumed on 3: the uninterrupted model.
rm -f "$work/checkpoint.json"
run -np 1 "$bin/softmax-mpi" "${data[@]}" --standardize --model "$work/whole.json"
"${mpi[@]}" -np 2 "$bin/softmax-mpi" "${data[@]}" --standardize --model "$work/part.json" \
  --checkpoint "$work/checkpoint.json" --checkpoint-every 1 &
job=$!
for _ in $(seq 1 600); do [ -s "$work/checkpoint.json" ] && break; sleep 0.05; done
# Every process of the job (mpirun and its ranks: they all name part.json).
pkill -9 -f "$work/part.json" || true
wait "$job" 2>/dev/null || true
[ -e "$work/part.json" ] && fail "the killed job wrote its model"
stopped=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['objective_history']))" "$work/checkpoint.json")
run -np 3 "$bin/softmax-mpi" "${data[@]}" --standardize --model "$work/resumed.json" \
  --checkpoint "$work/checkpoint.json" --resume || fail "resuming on 3 ranks: exit $?"
if cmp -s "$work/whole.json" "$work/resumed.json"; then
  echo "killed on 2 ranks after iteration $stopped, resumed on 3: the uninterrupted model"
else
  fail "the model resumed on 3 ranks differs from the uninterrupted one"
fi

expect_failure() {
  local name="$1" pattern="$2"
  shift 2
  local started=$SECONDS
  if "$@" >"$work/out.txt" 2>&1; then
    fail "$name: the job succeeded"
  elif ! grep -q -- "$pattern" "$work/out.txt"; then
    fail "$name: no \"$pattern\" in its output:"
    cat "$work/out.txt"
  elif [ -e "$work/none.json" ]; then
    fail "$name: a model was written"
  else
    echo "$name: stopped in $((SECONDS - started)) s with \"$pattern\""
  fi
}
expect_failure "a rank without its data" "rank 1: $work/missing.npy: cannot open" \
  run -np 1 "$bin/softmax-mpi" "${data[@]}" --model "$work/none.json" : \
  -np 1 "$bin/softmax-mpi" "$work/missing.npy" --labels "$work/digits.labels.txt" --model "$work/none.json"
expect_failure "a rank that dies" "rank 1 .*exited on signal 9" \
  env SOFTMAX_TEST_DIE_RANK=1 "${mpi[@]}" -x SOFTMAX_TEST_DIE_RANK -np 2 "$bin/softmax-mpi" \
  "${data[@]}" --model "$work/none.json"
expect_failure "a rank that stalls" "more than --timeout 5" \
  env SOFTMAX_TEST_STALL_RANK=1 "${mpi[@]}" -x SOFTMAX_TEST_STALL_RANK -np 2 "$bin/softmax-mpi" \
  "${data[@]}" --timeout 5 --model "$work/none.json"

if [ "$failures" -gt 0 ]; then
  echo "$failures MPI check(s) failed"
  exit 1
fi
echo "MPI checks passed"
