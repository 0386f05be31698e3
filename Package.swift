// swift-tools-version: 6.1
//===--- Package.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

let package = Package(
  name: "swift-softmax",
  products: [
    .library(name: "SoftmaxCore", targets: ["SoftmaxCore"]),
    .library(name: "SoftmaxRegression", targets: ["SoftmaxRegression"]),
    .library(name: "SoftmaxData", targets: ["SoftmaxData"]),
    .library(name: "SoftmaxText", targets: ["SoftmaxText"]),
    // ONNX export: its own product, so that users of the others do not
    // build swift-protobuf.
    .library(name: "SoftmaxONNX", targets: ["SoftmaxONNX"]),
    .executable(name: "softmax", targets: ["SoftmaxCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: - Public API
    .target(
      name: "SoftmaxCore",
      dependencies: [
        "_SoftmaxKernels",
        .product(name: "RealModule", package: "swift-numerics"),
      ]
    ),

    .target(
      name: "SoftmaxRegression",
      dependencies: ["SoftmaxCore", "SoftmaxText", "_SoftmaxKernels"]
    ),

    // Text into sparse features: tokenizer, n-grams, vocabulary or
    // hashing, tf-idf.
    .target(
      name: "SoftmaxText",
      dependencies: ["SoftmaxCore"]
    ),

    // Files: readers, writers, and writing whole or not at all.
    .target(
      name: "SoftmaxData",
      dependencies: ["SoftmaxCore", "_SoftmaxCompression"]
    ),

    // A model as an ONNX graph (default-domain operators only), written
    // with swift-protobuf from code generated from onnx.proto
    // (Scripts/generate_onnx_proto.sh; committed, so no protoc is needed).
    .target(
      name: "SoftmaxONNX",
      dependencies: [
        "SoftmaxRegression",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),

    // The `softmax` command: parsing and printing; the work is in the
    // libraries.
    .executableTarget(
      name: "SoftmaxCLI",
      dependencies: [
        "SoftmaxCore", "SoftmaxRegression", "SoftmaxData", "SoftmaxText", "SoftmaxONNX",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Implementation details (not products)
    // The innermost Float loops, compiled per CPU level (see README).
    .target(
      name: "_SoftmaxKernels",
      exclude: ["kernels_impl.h", "level"],
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux, .android]))]
    ),
    // gzip, bzip2 and xz through the system's libraries, opened at run
    // time (no headers needed to build).
    .target(name: "_SoftmaxCompression"),
    .target(
      name: "_SoftmaxTestSupport",
      dependencies: [
        "SoftmaxCore",
        .product(name: "RealModule", package: "swift-numerics"),
      ]
    ),

    // MARK: - Tests
    .testTarget(
      name: "SoftmaxCoreTests",
      dependencies: [
        "SoftmaxCore",
        "_SoftmaxTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
        .product(name: "RealModule", package: "swift-numerics"),
      ],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "SoftmaxRegressionTests",
      dependencies: [
        "SoftmaxRegression",
        "SoftmaxCore",
        "SoftmaxData",
        "_SoftmaxTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "SoftmaxONNXTests",
      dependencies: [
        "SoftmaxONNX", "SoftmaxRegression", "SoftmaxData", "SoftmaxCore",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .testTarget(
      name: "SoftmaxTextTests",
      dependencies: ["SoftmaxText", "SoftmaxCore"],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "SoftmaxDataTests",
      dependencies: ["SoftmaxData", "SoftmaxRegression", "SoftmaxCore"],
      exclude: ["Fixtures"]
    ),
    // Runs the built `softmax` binary (the dependency makes `swift test`
    // build it first).
    .testTarget(
      name: "SoftmaxCLITests",
      dependencies: ["SoftmaxCLI"],
      exclude: ["Snapshots", "Fixtures"]
    ),
  ]
)

// Fuzz targets (libFuzzer), added only on request: `Fuzz/run.sh` builds
// them with `SOFTMAX_FUZZ=1` and `-sanitize=fuzzer,address`.
if Context.environment["SOFTMAX_FUZZ"] == "1" {
  package.products.append(.executable(name: "softmax-fuzz", targets: ["SoftmaxFuzz"]))
  package.targets.append(
    .executableTarget(
      name: "SoftmaxFuzz",
      dependencies: [
        "SoftmaxCore", "SoftmaxData", "SoftmaxRegression", "SoftmaxText", "_SoftmaxTestSupport",
      ],
      path: "Fuzz/Sources"
    ))
}

// Distributed training over MPI (Open MPI from Debian: libopenmpi-dev,
// openmpi-bin), added only on request: `SOFTMAX_MPI=1 swift build --product
// softmax-mpi`. The library's distributed training needs no MPI; this adds
// the communicator over MPI and the `softmax-mpi` command.
if Context.environment["SOFTMAX_MPI"] == "1" {
  package.products.append(.library(name: "SoftmaxMPI", targets: ["SoftmaxMPI"]))
  package.products.append(.executable(name: "softmax-mpi", targets: ["SoftmaxMPICLI"]))
  package.targets.append(contentsOf: [
    .systemLibrary(
      name: "COpenMPI", path: "MPI/COpenMPI", pkgConfig: "ompi-c",
      providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "_SoftmaxMPI", dependencies: ["COpenMPI"], path: "MPI/_SoftmaxMPI"),
    .target(
      name: "SoftmaxMPI", dependencies: ["_SoftmaxMPI", "SoftmaxRegression"],
      path: "MPI/SoftmaxMPI"),
    .executableTarget(
      name: "SoftmaxMPICLI",
      dependencies: [
        "SoftmaxMPI", "SoftmaxRegression", "SoftmaxData", "SoftmaxCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "MPI/softmax-mpi"),
  ])
}

for target in package.targets where target.type != .plugin && target.type != .system {
  var settings = target.swiftSettings ?? []
  settings.append(.enableUpcomingFeature("ExistentialAny"))
  settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
  target.swiftSettings = settings
}

// Documentation is built and checked (CI: `SOFTMAX_DOCC=1 swift package
// generate-documentation --target SoftmaxCore --warnings-as-errors`) with the
// DocC plugin, added only on request so ordinary builds do not fetch it.
if Context.environment["SOFTMAX_DOCC"] == "1" {
  package.dependencies.append(
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}
