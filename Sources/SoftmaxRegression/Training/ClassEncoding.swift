//===--- ClassEncoding.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// Maps labels as they appear in data (strings, or integers written as
/// strings) to class indices, as scikit-learn's `LabelEncoder`: the
/// classes sorted (numerically when every label is an integer, by Unicode
/// scalars otherwise), each label replaced by its class's index.
public struct ClassEncoding: Sendable, Hashable {
  /// The distinct labels, sorted.
  public var classes: [String]
  /// The class index of each label given.
  public var indices: [Int]

  /// Encodes `labels`.
  public init(labels: [String]) {
    let distinct = Set(labels)
    // Integer order only when every label is an integer written canonically
    // ("7", "-2"; not "07"), so that distinct labels stay distinct.
    let integers = distinct.compactMap { label in
      Int(label).flatMap { String($0) == label ? $0 : nil }
    }
    if integers.count == distinct.count {
      classes = integers.sorted().map(String.init)
    } else {
      classes = distinct.sorted {
        $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value))
      }
    }
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    indices = labels.map { index[$0] ?? -1 }  // every label is a class
  }

  /// Encodes integer labels.
  public init(labels: [Int]) {
    let classes = Array(Set(labels)).sorted()
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    self.classes = classes.map(String.init)
    self.indices = labels.map { index[$0] ?? -1 }  // every label is a class
  }

  /// The class index of each of `labels` (of other data: a test or
  /// evaluation file), by these classes.
  ///
  /// - Throws: ``TrainingError/Code/labelOutOfRange`` for the first label
  ///   that is not one of the classes, naming its row (1-based, as files
  ///   count) and the classes.
  /// - Complexity: O(n + k).
  public func indices(of labels: [String]) throws(TrainingError) -> [Int] {
    var index: [String: Int] = [:]
    for (k, name) in classes.enumerated() { index[name] = k }
    var result: [Int] = []
    result.reserveCapacity(labels.count)
    for (row, label) in labels.enumerated() {
      guard let k = index[label] else {
        let shown =
          classes.prefix(10).joined(separator: ", ") + (classes.count > 10 ? ", ..." : "")
        throw TrainingError(
          .labelOutOfRange,
          "row \(row + 1): label \"\(label)\" is not one of the model's classes (\(shown))",
          location: ErrorLocation(row: row))
      }
      result.append(k)
    }
    return result
  }

  /// An encoding of exactly `classes`, in that order (a model's).
  public init(classes: [String]) {
    self.classes = classes
    self.indices = Array(classes.indices)
  }
}
