#!/usr/bin/env bash
# Proves that swift-softmax is consumable as a version-based dependency:
# tags a throwaway clone of this repository, builds a tiny consumer package
# that depends on it with `.package(url: "file://...", from: ...)`, runs it,
# and checks that it picked the fastest CPU level this machine has (and that
# SOFTMAX_CPU_LEVEL=baseline forces the baseline). A package with unsafe
# build flags would fail here ("contains unsafe build flags").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone -q "$root" "$work/swift-softmax"
git -C "$work/swift-softmax" tag 99.0.0

mkdir -p "$work/consumer/Sources/consumer"
cat > "$work/consumer/Package.swift" <<PACKAGE
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "consumer",
  dependencies: [.package(url: "file://$work/swift-softmax", from: "99.0.0")],
  targets: [
    .executableTarget(
      name: "consumer", dependencies: [.product(name: "SoftmaxCore", package: "swift-softmax")])
  ]
)
PACKAGE
cat > "$work/consumer/Sources/consumer/main.swift" <<'SWIFT'
import SoftmaxCore

let x = Matrix<Float>(rows: 64, columns: 10, elements: (0..<640).map { Float($0 % 13) - 6 })
let a = softmax(x)
let rowSum = (0..<10).reduce(0) { $0 + Double(a[0, $1]) }
precondition(abs(rowSum - 1) < 1e-6, "row sums to \(rowSum)")
print("level=\(SoftmaxConfiguration.cpuLevel) supported=\(SoftmaxConfiguration.supportedCPULevel)")
SWIFT

(cd "$work/consumer" && swift build -c release 2>&1 | tail -n 3)
output=$("$work/consumer/.build/release/consumer")
echo "consumer: $output"

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
expected=baseline
if has avx2 && has fma; then expected=avx2; fi
if has avx512f && has avx512dq && has avx512vl && has avx512bw && has fma; then expected=avx512; fi
if [[ "$(uname -m)" != "x86_64" ]]; then expected=baseline; fi

[[ "$output" == "level=$expected supported=$expected" ]] || {
  echo "expected level=$expected supported=$expected" >&2
  exit 1
}
forced=$(SOFTMAX_CPU_LEVEL=baseline "$work/consumer/.build/release/consumer")
[[ "$forced" == "level=baseline supported=$expected" ]] || {
  echo "SOFTMAX_CPU_LEVEL=baseline gave: $forced" >&2
  exit 1
}
echo "consumable by version: OK (picked $expected; SOFTMAX_CPU_LEVEL=baseline honoured)"
