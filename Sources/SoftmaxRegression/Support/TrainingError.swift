//===--- TrainingError.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// A problem with the data, the options or a model that training,
/// prediction or loading cannot proceed with. The message names the row,
/// column, class or field and the value.
public struct TrainingError: LibraryError, Hashable {
  /// What kind of problem it is.
  public enum Code: String, Sendable, Hashable, CaseIterable {
    /// The data set has no rows.
    case emptyData
    /// Counts that must agree do not (labels and rows, weights and rows or
    /// classes, features and the model).
    case shapeMismatch
    /// A label is not one of the classes.
    case labelOutOfRange
    /// A feature value is NaN or infinite.
    case nonFiniteValue
    /// A sample or class weight is negative, not finite, or all are 0.
    case invalidWeight
    /// An option is out of its range (a negative learning rate, a batch
    /// size of 0, ...).
    case invalidOption
    /// A model file cannot be read: not JSON, a missing field, a newer
    /// format version, wrong shapes or a non-finite parameter.
    case invalidModel
    /// A finite value is beyond what the arithmetic can hold: a feature
    /// whose squares overflow a `Double`, class weights whose weighted sum
    /// does, a model whose parameters became infinite.
    case outOfRange
    /// The problem needs more memory than the machine has (a class count
    /// times a feature count beyond it): refused before allocating.
    case insufficientMemory
    /// The data admit no finite optimum of a one-dimensional fit: held-out
    /// rows whose log loss falls without bound as a temperature goes to 0
    /// or to infinity (``TemperatureScaling``).
    case noFiniteOptimum
    /// Streamed features could not be read during training (a file that
    /// became unreadable, shorter or different between passes).
    case unreadableData
  }

  /// What kind of problem it is.
  public var code: Code
  /// What is wrong, naming the value (and the row or feature, which
  /// ``location`` also holds when it is a row).
  public var message: String
  /// The row of the data it concerns, when there is one.
  public var location: ErrorLocation?

  /// Creates an error.
  public init(_ code: Code, _ message: String, location: ErrorLocation? = nil) {
    self.code = code
    self.message = message
    self.location = location
  }

  /// The message.
  public var description: String { message }
}
