//===--- DataError.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// A problem reading or writing a data or model file. The message names
/// the file and, where there is one, the line, the column or the value.
///
/// Its description reads as compilers print locations,
/// `path:line:column: message`, with the parts that are known.
public struct DataError: LibraryError, Hashable {
  /// What kind of problem it is.
  public enum Code: String, Sendable, Hashable, CaseIterable {
    /// The operating system refused an operation (no such file, no
    /// permission, disk full, ...): the message carries its reason.
    case io
    /// The file has no data rows (empty, or a header only).
    case empty
    /// The bytes do not follow the format (an unclosed quote, a LIBSVM
    /// pair without `:`, a bad magic number, a header that lies about
    /// the size of the data, ...).
    case malformed
    /// A text field is not valid UTF-8.
    case invalidEncoding
    /// A feature field is empty or one of the usual spellings of "no
    /// value" (`NA`, `NaN`, `?`, ...), and the missing-value policy is
    /// ``MissingValuePolicy/error``.
    case missingValue
    /// A feature field is not a number (`abc`), or a number out of the
    /// finite range of the type read into (`inf`, `1e999`).
    case notANumber
    /// A row has a different number of fields than the first row, or the
    /// file has columns other than a model expects.
    case shapeMismatch
    /// The file asks for something this reader does not do (an NPY dtype,
    /// an IDX element type, a format it cannot tell).
    case unsupported
    /// The label column or labels file is absent, or does not match the
    /// data.
    case labels
  }

  /// What kind of problem it is.
  public var code: Code
  /// The file concerned.
  public var path: String
  /// The 1-based line, for text formats.
  public var line: Int?
  /// The 1-based column (in bytes from the start of the line), for text
  /// formats.
  public var column: Int?
  /// The 0-based field (table column) of a value the error is about, for
  /// tables; `nil` otherwise.
  public var field: Int? = nil
  /// What is wrong.
  public var message: String

  /// Creates an error.
  public init(_ code: Code, path: String, line: Int? = nil, column: Int? = nil, _ message: String) {
    self.code = code
    self.path = path
    self.line = line
    self.column = column
    self.message = message
  }

  /// The file, line and column.
  public var location: ErrorLocation? {
    ErrorLocation(path: path, line: line, column: column)
  }

  /// `path:line:column: message` (the location parts that are known).
  public var description: String {
    var location = path
    if let line {
      location += ":\(line)"
      if let column { location += ":\(column)" }
    }
    return "\(location): \(message)"
  }
}
