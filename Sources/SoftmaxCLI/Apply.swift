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
      var lines = try LineReader(path: file)
      switch type {
      case .float: try compute(&lines, name: name, as: Float.self)
      case .double: try compute(&lines, name: name, as: Double.self)
      }
    }
  }

  /// Along rows, each row is computed and written as soon as it is read
  /// (a stream works); down columns, every row is read first.
  func compute<T: SoftmaxScalar & LosslessStringConvertible>(
    _ lines: inout LineReader, name: String, as _: T.Type
  ) throws {
    let alongRows = axis == -1 || axis == 1
    var rows: [[T]] = []
    var separator: String? = nil
    var out = BufferedOutput()
    var lineNumber = 0
    while let bytes = try lines.next() {
      lineNumber += 1
      guard let line = String(validating: bytes, as: UTF8.self) else {
        throw CommandFailure("\(name):\(lineNumber): not valid UTF-8")
      }
      guard
        let (values, rowSeparator) = try parseRow(line, name: name, line: lineNumber, as: T.self)
      else {
        if alongRows { out.write("\n") }
        continue
      }
      if alongRows {
        let result = operate(Matrix(rows: 1, columns: values.count, elements: values), axis: -1)
        out.write(render(result, rowSeparator) + "\n")
      } else {
        if let width = rows.first?.count, width != values.count {
          throw CommandFailure(
            "\(name):\(lineNumber): \(values.count) values; --axis 0 needs every row to have the first row's \(width)"
          )
        }
        separator = separator ?? rowSeparator
        rows.append(values)
      }
    }
    if !alongRows, !rows.isEmpty {
      let result = operate(Matrix(rows), axis: 0)
      if op == .logsumexp {
        out.write(render(result, separator ?? ",") + "\n")
      } else {
        let width = rows[0].count
        for i in 0..<rows.count {
          out.write(render(Array(result[(i * width)..<((i + 1) * width)]), separator ?? ",") + "\n")
        }
      }
    }
    out.flush()
  }

  /// The operation on `values` along `axis`, as the library computes it
  /// with τ: in `T` when τ is a positive finite `T`, otherwise in `Double`
  /// and rounded back (a `Float` τ of 1e-50 is 0, of 1e50 is inf; the
  /// limits, one-hot and uniform, are the library's either way). Row-major
  /// elements, or one value per row (column) for logsumexp.
  func operate<T: SoftmaxScalar>(_ values: Matrix<T>, axis: Int) -> [T] {
    let tau = T(temperature)
    if tau > 0, tau.isFinite {
      return operate(values, axis: axis, temperature: tau)
    }
    let wide = Matrix(
      rows: values.rows, columns: values.columns, elements: values.elements.map { Double($0) })
    return operate(wide, axis: axis, temperature: temperature).map { T($0) }
  }

  func operate<T: SoftmaxScalar>(_ values: Matrix<T>, axis: Int, temperature: T) -> [T] {
    switch op {
    case .softmax: return softmax(values, axis: axis, temperature: temperature).elements
    case .logSoftmax: return logSoftmax(values, axis: axis, temperature: temperature).elements
    case .logsumexp: return logSumExp(values, axis: axis, temperature: temperature)
    }
  }

  /// The numbers of a line and the separator to write them back with, or
  /// `nil` for a blank line. A line with a comma is split at commas (blanks
  /// around a field are ignored; an empty field is an error); otherwise at
  /// runs of blanks.
  func parseRow<T: LosslessStringConvertible>(
    _ line: String, name: String, line lineNumber: Int, as _: T.Type
  ) throws -> (values: [T], separator: String)? {
    let content = line.hasSuffix("\r") ? Substring(line.dropLast()) : Substring(line)
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    if content.allSatisfy(isBlank) { return nil }
    let commas = content.contains(",")
    var values: [T] = []
    var fieldStart = content.startIndex
    func column(_ index: Substring.Index) -> Int {
      content.utf8.distance(from: content.startIndex, to: index) + 1
    }
    func finish(at end: Substring.Index) throws {
      var field = content[fieldStart..<end]
      while let first = field.first, isBlank(first) { field = field.dropFirst() }
      while let last = field.last, isBlank(last) { field = field.dropLast() }
      if field.isEmpty {
        guard !commas else {
          throw CommandFailure(
            "\(name):\(lineNumber):\(column(field.startIndex)): an empty field (a value is missing between commas)"
          )
        }
        return
      }
      guard let value = T(String(field)) else {
        throw CommandFailure(
          "\(name):\(lineNumber):\(column(field.startIndex)): \"\(field)\" is not a number")
      }
      values.append(value)
    }
    var index = content.startIndex
    while index < content.endIndex {
      let character = content[index]
      if commas ? character == "," : isBlank(character) {
        try finish(at: index)
        fieldStart = content.index(after: index)
      }
      index = content.index(after: index)
    }
    try finish(at: content.endIndex)
    let separator = commas ? (content.contains(", ") ? ", " : ",") : " "
    return (values, separator)
  }

  func render<T>(_ values: [T], _ separator: String) -> String {
    values.map { "\($0)" }.joined(separator: separator)
  }
}
