//===--- Apply.swift ------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData

enum ApplyOperation: String, ExpressibleByArgument, CaseIterable {
  case softmax
  case logSoftmax = "log-softmax"
  case logsumexp
}

enum ScalarType: String, ExpressibleByArgument, CaseIterable {
  case float, double
}

struct Apply: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Softmax, log-softmax or logsumexp of rows of numbers, for shell pipelines.",
    discussion: """
      Reads rows of numbers separated by commas or blanks (nan, inf and -inf accepted) from \
      FILE or standard input, and writes one output row per input row (logsumexp: one number \
      per row), separated as the input was, each number printed so that it reads back to the \
      same value. Blank lines are kept as blank lines. With --axis 0 the rows form a matrix \
      and the operation runs down its columns.

      Examples:
        echo 1,2,3 | softmax apply
        printf '1000 1000\\n-inf 0\\n' | softmax apply --op logsumexp
        softmax apply logits.csv --op log-softmax --type float --temperature 2
      """)

  @Argument(help: "The input file (default: standard input).")
  var file: String?

  @Option(help: "The operation.")
  var op: ApplyOperation = .softmax

  @Option(name: .customLong("type"), help: "Compute in float or double.")
  var type: ScalarType = .double

  @Option(help: "Divide the inputs by T first (softmax(z/T)).")
  var temperature: Double = 1

  @Option(help: "-1 (or 1): along each row; 0 (or -2): down each column.")
  var axis: Int = -1

  func validate() throws {
    guard temperature > 0, temperature.isFinite else {
      throw ValidationError("--temperature must be finite and > 0, not \(temperature)")
    }
    guard [-1, 1, 0, -2].contains(axis) else {
      throw ValidationError("--axis must be -1 or 1 (rows) or 0 or -2 (columns), not \(axis)")
    }
  }

  func run() throws {
    try reportingFailures {
      let name = file ?? "<stdin>"
      let bytes = try file.map { try AtomicFile.read($0) } ?? readStandardInput()
      guard let text = String(validating: bytes, as: UTF8.self) else {
        throw CommandFailure("\(name): not valid UTF-8")
      }
      switch type {
      case .float: try compute(text, name: name, as: Float.self)
      case .double: try compute(text, name: name, as: Double.self)
      }
    }
  }

  func compute<T: SoftmaxScalar & LosslessStringConvertible>(
    _ text: String, name: String, as _: T.Type
  ) throws {
    var rows: [[T]?] = []
    var separators: [String] = []
    for (lineIndex, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let content = line.hasSuffix("\r") ? line.dropLast() : line[...]
      if content.allSatisfy({ $0 == " " || $0 == "\t" }) {
        rows.append(nil)
        separators.append("")
        continue
      }
      var values: [T] = []
      var column = 1
      var fieldStart = content.startIndex
      var index = content.startIndex
      func finishField() throws {
        let field = content[fieldStart..<index]
        if !field.isEmpty {
          guard let value = T(String(field)) else {
            throw CommandFailure("\(name):\(lineIndex + 1):\(column): \"\(field)\" is not a number")
          }
          values.append(value / T(temperature))
        }
      }
      while index < content.endIndex {
        let character = content[index]
        if character == "," || character == " " || character == "\t" {
          try finishField()
          fieldStart = content.index(after: index)
          column = content.distance(from: content.startIndex, to: fieldStart) + 1
        }
        index = content.index(after: index)
      }
      try finishField()
      rows.append(values)
      separators.append(content.contains(",") ? (content.contains(", ") ? ", " : ",") : " ")
    }
    if rows.last.map({ $0 == nil }) == true { rows.removeLast() }  // the final newline
    func render(_ values: [T], _ separator: String) -> String {
      values.map { "\($0)" }.joined(separator: separator)
    }
    var out = ""
    if axis == -1 || axis == 1 {
      for (row, separator) in zip(rows, separators) {
        guard let row else {
          out += "\n"
          continue
        }
        switch op {
        case .softmax: out += render(softmax(row), separator)
        case .logSoftmax: out += render(logSoftmax(row), separator)
        case .logsumexp: out += "\(logSumExp(row))"
        }
        out += "\n"
      }
    } else {
      let present = rows.compactMap { $0 }
      guard let width = present.first?.count, present.allSatisfy({ $0.count == width }) else {
        throw CommandFailure("\(name): --axis 0 needs every row to have the same number of values")
      }
      let matrix = Matrix(present)
      let separator = separators.first { !$0.isEmpty } ?? ","
      switch op {
      case .softmax:
        for row in softmax(matrix, axis: 0).rowArrays { out += render(row, separator) + "\n" }
      case .logSoftmax:
        for row in logSoftmax(matrix, axis: 0).rowArrays { out += render(row, separator) + "\n" }
      case .logsumexp:
        out += render(logSumExp(matrix, axis: 0), separator) + "\n"
      }
    }
    print(out, terminator: "")
  }

  func readStandardInput() -> [UInt8] {
    var bytes: [UInt8] = []
    while let line = readLine(strippingNewline: false) { bytes.append(contentsOf: line.utf8) }
    return bytes
  }
}
