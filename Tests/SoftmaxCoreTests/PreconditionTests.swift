//===--- PreconditionTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Programmer errors trap with a message (documented as preconditions);
// exit tests check that they do, in a child process.

import SoftmaxCore
import Testing

@Suite("Documented traps")
struct PreconditionTests {
  @Test("A temperature that is not positive traps")
  func nonPositiveTemperature() async {
    await #expect(processExitsWith: .failure) {
      _ = softmax([1.0, 2.0], temperature: 0)
    }
    await #expect(processExitsWith: .failure) {
      _ = logSumExp([Float(1)], temperature: -1)
    }
  }

  @Test("An axis other than -2, -1, 0, 1 traps")
  func badAxis() async {
    await #expect(processExitsWith: .failure) {
      _ = softmax(Matrix<Double>([[1, 2]]), axis: 2)
    }
  }

  @Test("Mismatched shapes trap")
  func shapes() async {
    await #expect(processExitsWith: .failure) {
      var out = Matrix<Double>(rows: 2, columns: 2, repeating: 0)
      softmax(Matrix<Double>([[1, 2, 3]]), into: &out)
    }
    await #expect(processExitsWith: .failure) {
      _ = softmax([1.0, 2.0], where: [true])
    }
    await #expect(processExitsWith: .failure) {
      _ = try? crossEntropy(logits: Matrix<Double>([[1, 2]]), labels: [0, 1])
    }
    await #expect(processExitsWith: .failure) {
      _ = Matrix<Double>([[1, 2], [3]])
    }
  }

  @Test("A matrix product of mismatched shapes traps, for the product and for its destination")
  func productShapes() async {
    await #expect(processExitsWith: .failure) {
      _ = matrixProduct(Matrix<Float>([[1, 2]]), Matrix<Float>([[1, 2]]))
    }
    await #expect(processExitsWith: .failure) {
      var c = Matrix<Double>(rows: 2, columns: 2, repeating: 0)
      multiply(Matrix<Double>([[1, 2]]), Matrix<Double>([[1], [2]]), into: &c)
    }
  }

  @Test("Label smoothing outside [0, 1] traps")
  func smoothing() async {
    await #expect(processExitsWith: .failure) {
      _ = try? crossEntropy(logits: Matrix<Double>([[1, 2]]), labels: [0], labelSmoothing: 1.5)
    }
  }
}
