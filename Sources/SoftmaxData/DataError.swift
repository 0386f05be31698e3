//===--- DataError.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A problem reading or writing a data or model file. The message names
/// the file and, where there is one, the line, the column or the value.
public struct DataError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What kind of problem it is.
  public enum Code: String, Sendable, Hashable, CaseIterable {
    /// The operating system refused an operation (no such file, no
    /// permission, disk full, ...): the message carries its reason.
    case io
  }

  /// What kind of problem it is.
  public var code: Code
  /// The file concerned.
  public var path: String
  /// What is wrong.
  public var message: String

  /// Creates an error.
  public init(_ code: Code, path: String, _ message: String) {
    self.code = code
    self.path = path
    self.message = message
  }

  /// `path: message`, as compilers and `grep` print locations.
  public var description: String { "\(path): \(message)" }
}
