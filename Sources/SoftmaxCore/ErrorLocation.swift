//===--- ErrorLocation.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Where a problem is: in a file (its path, 1-based line and byte column),
/// or in data handed to a function (a 0-based row and column).
public struct ErrorLocation: Sendable, Hashable, CustomStringConvertible {
  /// The file, for problems read from one.
  public var path: String?
  /// The 1-based line in the file.
  public var line: Int?
  /// The 1-based column (in bytes) of the line.
  public var column: Int?
  /// The 0-based row (sample) of data handed to a function.
  public var row: Int?

  /// A location; every part is optional.
  public init(path: String? = nil, line: Int? = nil, column: Int? = nil, row: Int? = nil) {
    self.path = path
    self.line = line
    self.column = column
    self.row = row
  }

  /// `path:line:column` as compilers print locations, or `row r`, with
  /// the parts that are known.
  public var description: String {
    guard let path else { return row.map { "row \($0)" } ?? "" }
    var text = path
    if let line {
      text += ":\(line)"
      if let column { text += ":\(column)" }
    }
    return text
  }
}

/// The one shape of the errors of every module: a code that says what
/// kind of problem it is, a message that says exactly what (naming the
/// value), and where it is when that is known. `SoftmaxError` (the
/// math), `TrainingError` (models and training) and `DataError` (files)
/// conform.
public protocol LibraryError: Error, Sendable, CustomStringConvertible {
  /// What kind of problem a code names.
  associatedtype Code: Sendable & Hashable
  /// What kind of problem it is.
  var code: Code { get }
  /// What is wrong, naming the value.
  var message: String { get }
  /// Where, when known.
  var location: ErrorLocation? { get }
}
