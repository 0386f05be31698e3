//===--- TextError.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// A problem with text featurization: settings out of range, a
/// vocabulary left empty, a stored vectorizer that does not hold together.
public struct TextError: LibraryError, Hashable {
  /// What kind of problem it is.
  public enum Code: String, Sendable, Hashable, CaseIterable {
    /// A setting is out of its range.
    case invalidOptions
    /// No term is left to be a feature (no words, or none in enough
    /// documents).
    case emptyVocabulary
    /// A decoded vectorizer's parts disagree (duplicate terms, an idf of
    /// the wrong length or not finite and ≥ 1).
    case invalidVectorizer
  }

  /// What kind of problem it is.
  public var code: Code
  /// What is wrong, naming the value.
  public var message: String
  /// Text has no location of its own.
  public var location: ErrorLocation? { nil }
  /// The message.
  public var description: String { message }

  /// Creates an error.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }
}
