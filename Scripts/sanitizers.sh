#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and ThreadSanitizer.
#
#   bash Scripts/sanitizers.sh [address] [thread]
#
# (default: both, one after the other). Each builds everything, the
# `softmax` binary the CLI tests run included, with the sanitizer into its
# own folder (.build-asan, .build-tsan), so the ordinary build is left
# alone. A sanitizer's report fails the run. Takes about ten minutes per
# sanitizer on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers=("$@")
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address thread)
status=0
for sanitizer in "${sanitizers[@]}"; do
  case "$sanitizer" in
    address) folder=.build-asan ;;
    thread) folder=.build-tsan ;;
    *) echo "unknown sanitizer '$sanitizer' (address, thread)" >&2; exit 2 ;;
  esac
  echo "==> swift test --sanitize=$sanitizer"
  log="$folder.log"
  # halt_on_error: the first report fails the test process, and so the run.
  if ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 TSAN_OPTIONS=halt_on_error=1 \
    swift test --sanitize="$sanitizer" --build-path "$folder" 2>&1 | tee "$log" |
    grep -E "Test run|✘|ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer|SUMMARY"; then
    :
  fi
  if grep -qE "ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer" "$log" ||
    ! grep -qE "Test run with [0-9]+ tests? in [0-9]+ suites? passed" "$log"; then
    echo "!! $sanitizer: failed; see $log" >&2
    status=1
  else
    echo "ok: the tests pass under the $sanitizer sanitizer"
  fi
done
exit $status
