//===--- WorkedExampleTests.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The DocC article's table was computed independently (NumPy float64, by
// Scripts/worked_example.py). This test reads it back from the article and
// checks SoftmaxCore against every number, so the article cannot drift from
// the code.

import Foundation
import SoftmaxCore
import Testing
import _SoftmaxTestSupport

/// `name → value` from the rows "| `name` | value | formula |" of the article.
let articleValues: [String: Double] = {
  let url = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/SoftmaxCore/Documentation.docc/TextbookExample.md")
  guard let text = try? String(contentsOf: url, encoding: .utf8) else {
    fatalError("cannot read \(url.path)")
  }
  var values: [String: Double] = [:]
  // The first table's (the sequel with a hidden layer has its own test).
  let first = text.components(separatedBy: "## The sequel")[0]
  for line in first.split(separator: "\n") where line.hasPrefix("| `") {
    let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    guard cells.count >= 2, let value = Double(cells[1]) else { continue }
    values[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = value
  }
  return values
}()

@Suite("The worked example")
struct WorkedExampleTests {
  let example = WorkedExample<Double>.standard

  /// Every value the library computes, by the article's names.
  var computed: [String: Double] {
    var values: [String: Double] = [:]
    let z = example.logits
    let a = example.probabilities
    let jacobian = example.jacobian
    let dz = example.logitGradient
    let gradients = example.gradients
    for j in 0..<3 {
      values["z\(j + 4)"] = z[j]
      values["a\(j + 4)"] = a[j]
      values["dL/dz\(j + 4)"] = dz[j]
      values["dL/db\(j + 4)"] = gradients.bias[j]
      for i in 0..<3 {
        values["da\(j + 4)/dz\(i + 4)"] = jacobian[j, i]
        values["dL/dw\(j + 4)\(i + 1)"] = gradients.weight[j, i]
      }
    }
    values["L"] = example.loss
    values["L after one step"] = example.lossAfterStep
    return values
  }

  @Test("Every number in the article's table is what SoftmaxCore computes")
  func articleMatchesLibrary() {
    let computed = computed
    #expect(articleValues.count == 32, "the article's table has \(articleValues.count) rows")
    #expect(Set(articleValues.keys) == Set(computed.keys))
    for (name, value) in articleValues {
      // The article prints 10 decimals: half a unit in the last place.
      #expect(abs((computed[name] ?? .nan) - value) <= 5.1e-11, "\(name)")
    }
  }

  @Test("∂L/∂z through the Jacobian equals a - y; the chain-rule terms sum to ∂L/∂w41")
  func chainRule() {
    for (x, y) in zip(example.logitGradientThroughJacobian, example.logitGradient) {
      #expect(abs(x - y) < 1e-15)
    }
    let terms = example.chainRuleTerms(output: 0, input: 0)
    #expect(abs(terms.reduce(0, +) - example.gradients.weight[0, 0]) < 1e-15)
  }

  @Test("Every derivative agrees with central finite differences")
  func finiteDifferences() {
    let fd = example.finiteDifferences(step: 1e-5)
    let g = example.gradients
    // h = 1e-5 in Double: truncation ~h² = 1e-10, rounding ~u/h = 1e-11.
    for (x, y) in zip(g.weight.elements, fd.weight.elements) { #expect(abs(x - y) < 1e-9) }
    for (x, y) in zip(g.bias, fd.bias) { #expect(abs(x - y) < 1e-9) }
    for (x, y) in zip(example.logitGradient, fd.logits) { #expect(abs(x - y) < 1e-9) }
  }

  @Test("One gradient-descent step lowers the loss")
  func descent() {
    #expect(example.lossAfterStep < example.loss)
  }
}

/// The sequel's table: each row's numbers (a scalar or a vector), by name.
private let sequelValues: [String: [Double]] = {
  let url = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/SoftmaxCore/Documentation.docc/TextbookExample.md")
  guard let text = try? String(contentsOf: url, encoding: .utf8) else {
    fatalError("cannot read \(url.path)")
  }
  let parts = text.components(separatedBy: "## The sequel")
  guard parts.count == 2 else { return [:] }
  var values: [String: [Double]] = [:]
  for line in parts[1].split(separator: "\n") where line.hasPrefix("| `") {
    let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    guard cells.count >= 2 else { continue }
    let numbers = cells[1].replacingOccurrences(of: "−", with: "-")
      .trimmingCharacters(in: CharacterSet(charactersIn: "()"))
      .split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !numbers.isEmpty, numbers.allSatisfy({ $0 != nil }) else { continue }
    values[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = numbers.compactMap {
      $0
    }
  }
  return values
}()

@Suite("The worked example with a hidden layer")
struct HiddenLayerArticleTests {
  @Test("Every number in the sequel's table is what HiddenLayerExample computes")
  func sequelMatchesLibrary() {
    let e = HiddenLayerExample<Double>.standard(width: 2, activation: .tanh)
    let computed: [String: [Double]] = [
      "u": e.hiddenPreactivations, "h": e.hiddenOutputs, "z": e.logits, "a": e.probabilities,
      "L": [e.loss], "dL/dz": e.logitGradient, "dL/dh": e.hiddenOutputGradient,
      "f′(u)": e.activationDerivatives, "dL/du": e.hiddenPreactivationGradient,
      "dL/dV row 1": Array(e.hiddenGradients.weight.row(0)),
      "dL/dV row 2": Array(e.hiddenGradients.weight.row(1)),
      "dL/dW row 1": Array(e.outputGradients.weight.row(0)),
      "L after one step": [e.lossAfterStep],
    ]
    #expect(Set(sequelValues.keys) == Set(computed.keys))
    for (name, values) in sequelValues {
      let mine = computed[name] ?? []
      #expect(values.count == mine.count, "\(name)")
      // Ten decimals printed: half a unit in the last place.
      for (a, b) in zip(values, mine) { #expect(abs(a - b) <= 5.1e-11, "\(name): \(a) vs \(b)") }
    }
  }
}
