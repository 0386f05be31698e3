//===--- CrossEntropyTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Cross-entropy against PyTorch's F.cross_entropy in float64 (fixture made
// by Scripts/make_cross_entropy_fixtures.py), against finite differences,
// and its documented choices where PyTorch has none or returns NaN.

import Foundation
import SoftmaxCore
import Testing
import _SoftmaxTestSupport

struct TorchCase: Decodable, CustomStringConvertible {
  var name: String
  var logits: [[Double]]
  var labels: [Int]?
  var probabilities: [[Double]]?
  var classWeights: [Double]?
  var sampleWeights: [Double]?
  var ignoreIndex: Int?
  var labelSmoothing: Double
  var none: [Double?]
  var mean: Double?
  var sum: Double
  var gradMean: [[Double?]]
  var gradSum: [[Double]]
  var description: String { name }
}

struct TorchFixture: Decodable {
  var cases: [TorchCase]
}

let torchFixture: TorchFixture = {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/cross_entropy_torch.json")
  do {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(TorchFixture.self, from: Data(contentsOf: url))
  } catch {
    fatalError("cannot read \(url.path): \(error)")
  }
}()

/// Runs SoftmaxCore on a fixture case, in type T.
func evaluate<T: SoftmaxScalar>(_ c: TorchCase, as _: T.Type) throws -> (
  none: [T], mean: CrossEntropyResult<T>, sum: CrossEntropyResult<T>
) {
  let z = Matrix(c.logits.map { $0.map { T($0) } })
  let w = c.classWeights?.map { T($0) }
  let s = c.sampleWeights?.map { T($0) }
  let eps = T(c.labelSmoothing)
  if let labels = c.labels {
    return (
      try crossEntropyPerSample(
        logits: z, labels: labels, classWeights: w, sampleWeights: s, ignoring: c.ignoreIndex,
        labelSmoothing: eps),
      try crossEntropyWithGradient(
        logits: z, labels: labels, classWeights: w, sampleWeights: s, ignoring: c.ignoreIndex,
        labelSmoothing: eps, reduction: .mean),
      try crossEntropyWithGradient(
        logits: z, labels: labels, classWeights: w, sampleWeights: s, ignoring: c.ignoreIndex,
        labelSmoothing: eps, reduction: .sum)
    )
  }
  let y = Matrix((c.probabilities ?? []).map { $0.map { T($0) } })
  return (
    crossEntropyPerSample(
      logits: z, probabilities: y, classWeights: w, sampleWeights: s, labelSmoothing: eps),
    crossEntropyWithGradient(
      logits: z, probabilities: y, classWeights: w, sampleWeights: s, labelSmoothing: eps,
      reduction: .mean),
    crossEntropyWithGradient(
      logits: z, probabilities: y, classWeights: w, sampleWeights: s, labelSmoothing: eps,
      reduction: .sum)
  )
}

func close(_ x: Double, _ y: Double, relative: Double, absolute: Double) -> Bool {
  abs(x - y) <= absolute + relative * abs(y)
}

@Suite("Cross-entropy")
struct CrossEntropyTests {
  // Double: both SoftmaxCore and PyTorch are within a few ulps (~1e-15
  // relative) of the exact values here; 1e-12 relative leaves room for
  // PyTorch's uncompensated sums and still catches any difference in
  // semantics (weights, denominators, smoothing), which would be ≥ 1e-3.
  @Test(
    "Matches PyTorch F.cross_entropy (float64): none, mean, sum and both gradients",
    arguments: torchFixture.cases)
  func matchesTorch(_ c: TorchCase) throws {
    let r = try evaluate(c, as: Double.self)
    for (ours, theirs) in zip(r.none, c.none) {
      #expect(
        close(ours, theirs ?? .nan, relative: 1e-12, absolute: 1e-14),
        "\(c): \(r.none) vs \(c.none)")
    }
    #expect(close(r.sum.loss, c.sum, relative: 1e-12, absolute: 1e-14))
    for (ours, theirs) in zip(r.sum.gradient.elements, c.gradSum.joined()) {
      #expect(close(ours, theirs, relative: 1e-12, absolute: 1e-14), "\(c) grad sum")
    }
    if let mean = c.mean {
      #expect(close(r.mean.loss, mean, relative: 1e-12, absolute: 1e-14), "\(c) mean")
      for (ours, theirs) in zip(r.mean.gradient.elements, c.gradMean.joined()) {
        #expect(close(ours, theirs ?? .nan, relative: 1e-12, absolute: 1e-14), "\(c) grad mean")
      }
    } else {
      // PyTorch: 0/0 = NaN when every target is ignored. Ours: 0, gradient 0.
      #expect(r.mean.loss == 0)
      #expect(r.mean.gradient.elements.allSatisfy { $0 == 0 })
    }
  }

  // Float: the logits are rounded to Float, which moves each loss by at
  // most max|z|·u ≈ 900·6e-8 = 5e-5 absolute on the large-logit case and
  // ~1e-6 elsewhere; 1e-5 relative + 1e-4 absolute bounds that.
  @Test(
    "Float matches the float64 PyTorch values to Float precision", arguments: torchFixture.cases)
  func floatMatchesTorch(_ c: TorchCase) throws {
    let r = try evaluate(c, as: Float.self)
    #expect(close(Double(r.sum.loss), c.sum, relative: 1e-5, absolute: 1e-4), "\(c)")
    if let mean = c.mean {
      #expect(close(Double(r.mean.loss), mean, relative: 1e-5, absolute: 1e-4), "\(c)")
    }
    for (ours, theirs) in zip(r.sum.gradient.elements, c.gradSum.joined()) {
      #expect(close(Double(ours), theirs, relative: 1e-5, absolute: 1e-5), "\(c) grad")
    }
  }

  @Test("The fused gradient equals central finite differences of the loss (Double)")
  func gradientByFiniteDifferences() throws {
    var generator = SplitMix64(seed: 21)
    let (n, c) = (4, 5)
    let z = [Double].random(count: n * c, in: -3...3, using: &generator)
    let labels = [2, -1, 0, 4]
    let w: [Double] = [0.5, 1, 2, 1.5, 0.25]
    let s: [Double] = [1, 2, 0.5, 1.25]
    let probabilities = Matrix(
      rows: n, columns: c, elements: [Double].random(count: n * c, in: 0...1, using: &generator))
    for reduction in LossReduction.allCases {
      for smoothing in [0.0, 0.2] {
        let analytic = try crossEntropyWithGradient(
          logits: Matrix(rows: n, columns: c, elements: z), labels: labels, classWeights: w,
          sampleWeights: s, ignoring: -1, labelSmoothing: smoothing, reduction: reduction)
        let numeric = centralDifferenceGradient(at: z) { zz in
          (try? crossEntropy(
            logits: Matrix(rows: n, columns: c, elements: zz), labels: labels, classWeights: w,
            sampleWeights: s, ignoring: -1, labelSmoothing: smoothing, reduction: reduction))
            ?? .nan
        }
        // Central differences with h = 1e-5 are exact to ~1e-10 here.
        for (a, b) in zip(analytic.gradient.elements, numeric) {
          #expect(abs(a - b) < 1e-8, "\(reduction) ε=\(smoothing): \(a) vs \(b)")
        }
        let soft = crossEntropyWithGradient(
          logits: Matrix(rows: n, columns: c, elements: z), probabilities: probabilities,
          classWeights: w, sampleWeights: s, labelSmoothing: smoothing, reduction: reduction)
        let softNumeric = centralDifferenceGradient(at: z) { zz in
          crossEntropy(
            logits: Matrix(rows: n, columns: c, elements: zz), probabilities: probabilities,
            classWeights: w, sampleWeights: s, labelSmoothing: smoothing, reduction: reduction)
        }
        for (a, b) in zip(soft.gradient.elements, softNumeric) {
          #expect(abs(a - b) < 1e-8, "soft \(reduction) ε=\(smoothing): \(a) vs \(b)")
        }
      }
    }
  }

  @Test("Without options the gradient is the textbook (a - y)/N")
  func textbookGradient() throws {
    let z = Matrix<Double>([[2, 1, 0.1], [0.5, 2.5, 0.3]])
    let r = try crossEntropyWithGradient(logits: z, labels: [0, 1])
    let a = softmax(z)
    for i in 0..<2 {
      for j in 0..<3 {
        let y: Double = (i == 0 && j == 0) || (i == 1 && j == 1) ? 1 : 0
        #expect(abs(r.gradient[i, j] - (a[i, j] - y) / 2) < 1e-16)
      }
    }
    #expect(abs(r.loss - (-log(a[0, 0]) - log(a[1, 1])) / 2) < 1e-15)
    #expect(abs(try crossEntropy(logits: [2.0, 1, 0.1], label: 0) + log(a[0, 0])) < 1e-15)
  }

  @Test("A tiny loss keeps its relative accuracy (no cancellation of lse - z_y)")
  func tinyLoss() throws {
    // loss = log(1 + e^-40) ≈ e^-40 = 4.248e-18: lse - z_y would give 0.
    let loss = try crossEntropy(logits: [40.0, 0], label: 0)
    let exact = ReferenceScalar.log(onePlus: ReferenceScalar.exp(-40))
    #expect(ulpError(loss, exact) <= 2)
    let lossF = try crossEntropy(logits: [Float(40), 0], label: 0)
    #expect(ulpError(lossF, exact) <= 2)
  }

  @Test("Special values: -inf logits, +inf logits, NaN, huge finite")
  func specialValues() throws {
    // A -inf non-target logit has probability 0 and costs nothing.
    #expect(try crossEntropy(logits: [0.0, -.infinity], label: 0) == 0)
    // The target at -inf: infinite loss.
    #expect(try crossEntropy(logits: [0.0, -.infinity], label: 1) == .infinity)
    // +inf target alone: loss 0; another +inf shares the mass: log 2.
    #expect(try crossEntropy(logits: [Double.infinity, 0], label: 0) == 0)
    #expect(try crossEntropy(logits: [Double.infinity, .infinity], label: 0) == log(2))
    #expect(try crossEntropy(logits: [Double.nan, 0], label: 1).isNaN)
    // Huge finite logits: finite loss and gradient.
    let r = try crossEntropyWithGradient(
      logits: Matrix<Float>([[3e38, -3e38]]), labels: [1])
    #expect(r.loss == .greatestFiniteMagnitude)
    #expect(r.gradient.elements == [1, -1])
    // Soft targets: a zero target at a -inf logit counts 0 (PyTorch: NaN).
    let soft = crossEntropy(
      logits: Matrix<Double>([[0, -.infinity]]), probabilities: Matrix([[1, 0]]))
    #expect(soft == 0)
  }

  @Test("A label out of range throws a typed error naming the sample and the label")
  func labelOutOfRange() {
    let z = Matrix<Float>([[1, 2], [3, 4], [5, 6]])
    do {
      _ = try crossEntropy(logits: z, labels: [0, 2, 1])
      Issue.record("expected an error")
    } catch {
      #expect(error.code == .labelOutOfRange)
      #expect(error.description == "sample 1: label 2 is out of range 0..<2 (2 classes)")
    }
    #expect(throws: SoftmaxError.self) { try crossEntropy(logits: z, labels: [0, -100, 1]) }
    // -100 is fine when it is the ignored label.
    #expect(throws: Never.self) {
      try crossEntropy(logits: z, labels: [0, -100, 1], ignoring: -100)
    }
  }

  @Test("Label targets and one-hot probability targets agree")
  func labelsEqualOneHot() throws {
    var generator = SplitMix64(seed: 22)
    let z = Matrix(
      rows: 6, columns: 4, elements: [Double].random(count: 24, in: -4...4, using: &generator))
    let labels = [3, 0, 1, 1, 2, 0]
    var oneHot = Matrix(rows: 6, columns: 4, repeating: 0.0)
    for (i, y) in labels.enumerated() { oneHot[i, y] = 1 }
    let w: [Double] = [1, 2, 3, 4]
    let a = try crossEntropyWithGradient(
      logits: z, labels: labels, classWeights: w, labelSmoothing: 0.1, reduction: .sum)
    let b = crossEntropyWithGradient(
      logits: z, probabilities: oneHot, classWeights: w, labelSmoothing: 0.1, reduction: .sum)
    #expect(abs(a.loss - b.loss) < 1e-12)
    for (x, y) in zip(a.gradient.elements, b.gradient.elements) { #expect(abs(x - y) < 1e-14) }
  }
}
