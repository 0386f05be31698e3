//===--- Train+Report.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxData
import SoftmaxRegression

/// What `train`'s report says of the data it trained on.
struct TrainingSummary {
  /// The training rows.
  var rows: Int
  /// Their features.
  var features: Int
  /// The class names.
  var classes: [String]
  /// The test data's name and row count, if any.
  var testName: String?
  var testRows: Int?
  /// Whether the features were read as `Float`.
  var isFloat: Bool
}

extension Train {
  /// What `train` prints at the end: the JSON object or the summary, the
  /// advice when training did not converge, and the exit code 130 after
  /// Ctrl-C.
  func report(
    _ model: SoftmaxClassifier, data: TrainingSummary, train: ClassificationMetrics,
    test: ClassificationMetrics?, validationLoss: Double?, calibration: Calibration?,
    options: TrainingOptions, seconds: Double
  ) throws {
    let record = model.training
    if json {
      let fields: [(String, JSON)] = [
        ("objective", .optional(record?.objective)),
        ("train_loss", .number(train.logLoss)),
        ("train_accuracy", .number(train.accuracy)),
        ("test_loss", .optional(test?.logLoss)),
        ("test_accuracy", .optional(test?.accuracy)),
        ("validation_loss", .optional(validationLoss)),
        ("iterations", .int(record?.iterations ?? 0)),
        ("converged", .bool(record?.converged ?? false)),
        ("stop_reason", .string(record.map { "\($0.stopReason)" } ?? "")),
        ("interrupted", .bool(Interrupt.wasRequested)),
        ("seconds", .number(seconds)),
        ("optimizer", .string(optimizer.rawValue)),
        ("hidden", model.hidden.map { .array($0.widths.map { .int($0) }) } ?? .null),
        ("activation", model.hidden.map { .string($0.activation.rawValue) } ?? .null),
        ("l2", .number(options.l2)),
        ("l1", .number(options.l1)),
        ("rows", .int(data.rows)),
        ("test_rows", data.testRows.map { .int($0) } ?? .null),
        ("features", .int(data.features)),
        ("classes", .array(data.classes.map { .string($0) })),
        ("model", .string(self.model)),
        ("plot", plot.map { .string($0) } ?? .null),
        ("temperature", .number(model.temperature)),
        ("calibration", calibration.map { .object($0.jsonFields) } ?? .null),
      ]
      print(JSON.object(fields).rendered)
    } else if !quiet, let record {
      let unit = optimizer.solver.isStochastic ? "epochs" : "iterations"
      // A network names its widths: 4-16-3 tanh.
      let shape =
        model.hidden.map { hidden in
          ([data.features] + hidden.widths + [model.classCount]).map(String.init)
            .joined(separator: "-") + " \(hidden.activation.rawValue) network, "
        } ?? ""
      print(
        "trained on \(data.rows) rows × \(data.features) features, \(model.classCount) classes: \(shape)\(optimizer.displayName), \(record.iterations) \(unit), \(record.converged ? "converged" : "not converged") (\(record.stopReason)), \(formatDuration(seconds))"
      )
      print(
        "  objective      \(String(fixed: record.objective, digits: 6))   (mean cross-entropy + λ/2·‖W‖²\(model.hidden == nil ? "" : " over every layer's W"), λ = \(options.l2))"
      )
      print(
        "  train          loss \(String(fixed: train.logLoss, digits: 6))   accuracy \(String(fixed: train.accuracy * 100, digits: 2))%"
      )
      if let validationLoss {
        print("  validation     loss \(String(fixed: validationLoss, digits: 6))")
      }
      if let test, let name = data.testName {
        print(
          "  test           loss \(String(fixed: test.logLoss, digits: 6))   accuracy \(String(fixed: test.accuracy * 100, digits: 2))%   top-\(test.topK) \(String(fixed: test.topKAccuracy * 100, digits: 2))%   (\(name), \(test.count) rows)"
        )
      }
      if let calibration {
        print(calibration.report.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
      }
      print("model written to \(self.model)")
      if let plot { print("plot written to \(plot)") }
    }
    if let record, !record.converged, !Interrupt.wasRequested, !quiet {
      StandardError.write(
        "softmax: warning: not converged (\(record.stopReason)): \(advice(record.stopReason, float: data.isFloat))\n"
      )
    }
    if Interrupt.wasRequested {
      StandardError.write(
        "softmax: interrupted; saved the model after \(record?.iterations ?? 0) iterations to \(self.model)\n"
      )
      throw ExitCode(130)
    }
  }

  /// What to try when training stopped for `reason`.
  func advice(_ reason: StopReason, float: Bool) -> String {
    switch reason {
    case .lineSearchFailed:
      return "no step lowered the objective: rounding noise near the optimum"
        + (float ? " (--precision double goes further)" : "")
        + ", or badly scaled features (--standardize)"
    case .diverged:
      return "the loss overflowed: lower --learning-rate, or --standardize"
    default:
      return "raise --max-iter or --epochs, or try --standardize"
    }
  }
}
