// swift-tools-version: 6.1
//===--- Package.swift (Server) -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The prediction server lives in its own package so that users of the
// libraries never resolve or build a web stack.
//
//   swift run --package-path Server softmax-server model.json --port 8080
//   swift test --package-path Server

import Foundation
import PackageDescription

// A path dependency is named after its folder, which is wherever the
// repository was cloned: read it instead of assuming "swift-softmax".
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
  name: "swift-softmax-server",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "softmax-server", targets: ["softmax-server"]),
    .library(name: "SoftmaxServer", targets: ["SoftmaxServer"]),
  ],
  dependencies: [
    .package(path: "../"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .target(
      name: "SoftmaxServer",
      dependencies: [
        .product(name: "SoftmaxCore", package: root),
        .product(name: "SoftmaxRegression", package: root),
        .product(name: "SoftmaxData", package: root),
        .product(name: "Hummingbird", package: "hummingbird"),
      ]
    ),
    .executableTarget(
      name: "softmax-server",
      dependencies: [
        "SoftmaxServer",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ]
    ),
    .testTarget(
      name: "SoftmaxServerTests",
      dependencies: [
        "SoftmaxServer",
        // Built first, so that the tests can run it as a process.
        "softmax-server",
        .product(name: "SoftmaxRegression", package: root),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
      ]
    ),
  ]
)
