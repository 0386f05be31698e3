// swift-tools-version: 6.1
//===--- Package.swift (Benchmarks) ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Benchmarks live in their own package so that `swift build` and `swift test`
// of swift-softmax never fetch or build the benchmark dependencies.
//
//   swift package --package-path Benchmarks benchmark     # package-benchmark suite
//   python3 Benchmarks/compare.py                          # side by side with the peers

import Foundation
import PackageDescription

// A path dependency is named after its folder, which is wherever the
// repository was cloned: read it instead of assuming "swift-softmax".
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
  name: "swift-softmax-benchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: "../"),
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "SoftmaxBenchmarks",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/SoftmaxBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    .executableTarget(
      name: "softmax-timing",
      dependencies: [.product(name: "SoftmaxCore", package: root)],
      path: "Sources/softmax-timing"
    ),
    .executableTarget(
      name: "regression-timing",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "SoftmaxRegression", package: root),
      ],
      path: "Sources/regression-timing"
    ),
    .executableTarget(
      name: "sparse-timing",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "SoftmaxRegression", package: root),
        .product(name: "SoftmaxData", package: root),
      ],
      path: "Sources/sparse-timing"
    ),
    .executableTarget(
      name: "gemm-timing",
      dependencies: [.product(name: "SoftmaxCore", package: root), "FMAPeak"],
      path: "Sources/gemm-timing"
    ),
    .executableTarget(
      name: "network-timing",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "SoftmaxRegression", package: root),
        .product(name: "SoftmaxData", package: root),
      ],
      path: "Sources/network-timing"
    ),
    // The FMA pipes' peak, measured (a C loop the compiler cannot reshape).
    .target(name: "FMAPeak", path: "Sources/_FMAPeak"),
    .executableTarget(
      name: "load-timing",
      dependencies: [.product(name: "SoftmaxData", package: root)],
      path: "Sources/load-timing"
    ),
    .executableTarget(
      name: "stream-timing",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "SoftmaxRegression", package: root),
        .product(name: "SoftmaxData", package: root),
      ],
      path: "Sources/stream-timing"
    ),
  ]
)
