//===--- SoftmaxError.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// An error in the data handed to SoftmaxCore: something a file or a user
/// can get wrong, as opposed to a programmer error (mismatched shapes, a
/// non-positive temperature), which traps with a message.
///
/// The ``code`` says what kind of problem it is; ``description`` says
/// exactly what, naming the sample and the value.
public struct SoftmaxError: LibraryError, Hashable {
  /// The kind of problem. New codes may be added in later versions.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline let name: String

    @inlinable
    init(_ name: String) { self.name = name }

    /// A class label is outside `0..<classCount` and is not the ignored label.
    public static var labelOutOfRange: Self { Self("labelOutOfRange") }

    /// The code's name.
    public var description: String { name }
  }

  /// The kind of problem.
  public let code: Code

  /// What is wrong, naming the sample and the value.
  public let description: String

  /// The sample it concerns, when there is one.
  public var location: ErrorLocation?

  /// What is wrong (the description).
  public var message: String { description }

  /// Creates an error.
  @inlinable
  public init(code: Code, description: String, location: ErrorLocation? = nil) {
    self.code = code
    self.description = description
    self.location = location
  }

  @inlinable
  static func labelOutOfRange(sample: Int, label: Int, classCount: Int) -> Self {
    SoftmaxError(
      code: .labelOutOfRange,
      description:
        "sample \(sample): label \(label) is out of range 0..<\(classCount) (\(classCount) classes)",
      location: ErrorLocation(row: sample))
  }
}
