//===--- Calibrate.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

struct Calibrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fit a model's temperature on held-out labelled data (temperature scaling).",
    discussion: """
      Finds the τ > 0 that minimizes the log loss of softmax(z/τ) on DATA (rows the model was \
      not trained on) and writes the model with it to --output: predictions stay the same, \
      probabilities become calibrated (τ > 1 softens overconfident ones, τ < 1 sharpens). \
      predict, eval and every later use apply τ. A model that already has a temperature is \
      fitted again from its raw logits. Prints τ, and the log loss, Brier score and expected \
      calibration error on DATA before and after. DATA is read as eval reads it (a model of \
      text takes documents; those with several labels are left out). Fails when no τ \
      minimizes the loss: when the model ranks the true class first on every row of DATA.

      Examples:
        softmax calibrate model.json held-out.csv --output calibrated.json
        softmax train Data/digits.csv --validation-split 0.2 --calibrate-on-validation
      """)

  @Argument(help: "The model file (from softmax train).")
  var model: String

  @Argument(help: "Held-out labelled data: CSV/TSV, LIBSVM, IDX images, NPY, or text.")
  var data: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @Option(
    name: [.customShort("o"), .long],
    help: ArgumentHelp(
      "Where to write the calibrated model (not the model read).", valueName: "path"))
  var output: String

  @Option(help: "Equal-width confidence bins of the expected calibration error.")
  var bins: Int = 15

  @Option(
    name: .customLong("reliability-plot"),
    help: ArgumentHelp(
      "Draw the reliability diagram before and after as SVG.", valueName: "path.svg"))
  var reliabilityPlot: String?

  @Flag(help: "Print one JSON object on stdout.")
  var json = false

  func validate() throws {
    try validateBins(bins)
  }

  func run() throws {
    try reportingFailures {
      let inputs =
        [NamedPath(role: "the model", path: model)]
        + (try dataOptions.namedInputs(of: data, role: "the data"))
      try checkOutputs(
        [
          NamedPath(role: "--output", path: output),
          reliabilityPlot.map { NamedPath(role: "--reliability-plot", path: $0) },
        ].compactMap { $0 }, against: inputs)
      let classifier = try loadModel(model)
      let labelled = try dataOptions.labelled(data, for: classifier)
      let calibration = try Calibration(
        classifier, rows: labelled.rows, labels: labelled.labels, bins: bins, path: data)
      try writeModel(calibration.model, to: output)
      if let reliabilityPlot {
        try AtomicFile.write(
          Array(calibration.reliabilityDiagram(title: "Reliability: \(data)").utf8),
          to: reliabilityPlot)
      }
      if json {
        print(JSON.object(calibration.jsonFields + [("model", .string(output))]).rendered)
      } else {
        if classifier.temperature != 1 {
          print(
            "the model's previous temperature, \(String(fixed: classifier.temperature, digits: 6)), is replaced"
          )
        }
        print(calibration.report)
        print("calibrated model written to \(output)")
        if let reliabilityPlot { print("reliability diagram drawn in \(reliabilityPlot)") }
      }
    }
  }
}

/// A model's temperature fitted on labelled rows, with its metrics on
/// them before and after: what `calibrate` and `train --calibrate`
/// report.
struct Calibration {
  /// The model with its temperature.
  var model: SoftmaxClassifier
  var fit: TemperatureScaling
  /// The rows' metrics at τ = 1 and at the fitted τ.
  var before: ClassificationMetrics
  var after: ClassificationMetrics
  /// Where the rows came from, for messages.
  var source: String

  /// Fits the temperature of `classifier` on `rows` (from `path`).
  init(_ classifier: SoftmaxClassifier, rows: AnyDataSet, labels: [Int], bins: Int, path: String)
    throws
  {
    var raw = classifier
    raw.temperature = 1
    do {
      (model, fit) = try rows.calibrate(raw, labels: labels)
    } catch let error as TrainingError where error.code == .noFiniteOptimum {
      throw CommandFailure("\(path): \(error.message)")
    }
    before = try rows.evaluate(raw, labels: labels, topK: 1, calibrationBins: bins)
    after = try rows.evaluate(model, labels: labels, topK: 1, calibrationBins: bins)
    source = path
  }

  /// Lines for the terminal.
  var report: String {
    let b = before.calibration
    let a = after.calibration
    return """
      temperature τ = \(String(fixed: fit.temperature, digits: 6)), fitted on \(after.count) rows of \(source) (\(fit.iterations) steps)
        log loss \(String(fixed: before.logLoss, digits: 6)) → \(String(fixed: after.logLoss, digits: 6))   \
      Brier \(String(fixed: b?.brierScore ?? .nan, digits: 6)) → \(String(fixed: a?.brierScore ?? .nan, digits: 6))   \
      ECE \(String(fixed: b?.expectedCalibrationError ?? .nan, digits: 6)) → \(String(fixed: a?.expectedCalibrationError ?? .nan, digits: 6)) (\(a?.bins.count ?? 0) bins)
      """
  }

  /// Fields for `--json`.
  var jsonFields: [(String, JSON)] {
    [
      ("temperature", .number(fit.temperature)),
      ("rows", .int(after.count)),
      ("steps", .int(fit.iterations)),
      ("before", .object([("log_loss", .number(before.logLoss))] + calibrationFields(before))),
      ("after", .object([("log_loss", .number(after.logLoss))] + calibrationFields(after))),
    ]
  }

  /// The reliability diagram of the rows at τ = 1 and at τ.
  func reliabilityDiagram(title: String) -> String {
    reliabilityChart(
      title: title,
      curves: [("τ = 1", before), ("τ = \(String(fixed: fit.temperature, digits: 6))", after)])
  }
}

/// `--bins` of eval and calibrate: 1 to 1000 equal-width bins.
func validateBins(_ bins: Int) throws {
  if bins < 1 || bins > 1000 {
    throw ValidationError("--bins must be in 1...1000, not \(bins)")
  }
}

/// The Brier score, ECE and bins of `metrics` as JSON fields.
func calibrationFields(_ metrics: ClassificationMetrics) -> [(String, JSON)] {
  guard let calibration = metrics.calibration else { return [] }
  return [
    ("brier_score", .number(calibration.brierScore)),
    ("expected_calibration_error", .number(calibration.expectedCalibrationError)),
    (
      "calibration_bins",
      .array(
        calibration.bins.map {
          .object([
            ("lower", .number($0.lower)), ("upper", .number($0.upper)), ("count", .int($0.count)),
            ("mean_confidence", .number($0.meanConfidence)), ("accuracy", .number($0.accuracy)),
          ])
        })
    ),
  ]
}

/// `metrics`' calibration as one JSON object (with the log loss).
func calibrationJSON(_ metrics: ClassificationMetrics) -> JSON {
  .object([("log_loss", .number(metrics.logLoss))] + calibrationFields(metrics))
}

/// eval's calibration line: the Brier score and ECE, and for a model with
/// a temperature the same at τ = 1.
func calibrationReport(
  _ metrics: ClassificationMetrics, before: ClassificationMetrics?, temperature: Double
)
  -> String
{
  guard let calibration = metrics.calibration else { return "" }
  var line =
    "Brier score \(String(fixed: calibration.brierScore, digits: 6))   expected calibration error \(String(fixed: calibration.expectedCalibrationError, digits: 6)) (\(calibration.bins.count) bins)"
  if let before, let uncalibrated = before.calibration {
    line +=
      "\ntemperature τ = \(String(fixed: temperature, digits: 6)); at τ = 1: log loss \(String(fixed: before.logLoss, digits: 6))   Brier score \(String(fixed: uncalibrated.brierScore, digits: 6))   expected calibration error \(String(fixed: uncalibrated.expectedCalibrationError, digits: 6))"
  }
  return line
}

/// The name of a model's reliability curve.
func curveName(_ model: SoftmaxClassifier) -> String {
  model.temperature == 1 ? "model" : "τ = \(String(fixed: model.temperature, digits: 6))"
}

/// A reliability diagram: per non-empty bin, the accuracy against the
/// mean confidence, one line per curve, and the diagonal of perfect
/// calibration.
func reliabilityChart(title: String, curves: [(String, ClassificationMetrics)]) -> String {
  var series = [SVGChart.Series(name: "perfect", points: [(0, 0), (1, 1)])]
  for (name, metrics) in curves {
    let bins = metrics.calibration?.bins.filter { $0.count > 0 } ?? []
    series.append(
      SVGChart.Series(name: name, points: bins.map { ($0.meanConfidence, $0.accuracy) }))
  }
  return SVGChart.lineCharts([
    SVGChart.Panel(title: title, xLabel: "confidence", yLabel: "accuracy", series: series)
  ])
}

/// Labelled data read for a model as the commands that measure one read
/// it: one class per row, and for a model of text every document's
/// features and labels (several per document too) for P@k and R@k.
struct LabelledData {
  var rows: AnyDataSet
  var labels: [Int]
  var documents: (features: SparseMatrix<Double>, labelSets: [[Int]])? = nil
}

extension DataOptions {
  /// Reads labelled data for `model`: its features as the model's
  /// training file was read (or the documents featurized by the model's
  /// vectorizer), the labels matched to its classes by name.
  func labelled(_ path: String, for model: SoftmaxClassifier) throws -> LabelledData {
    guard model.text != nil else {
      let loaded = try readingFor(model) {
        try load(path, for: model).matching(model, path: path)
      }
      return LabelledData(
        rows: loaded, labels: try loaded.classIndices(of: model.classes, path: path))
    }
    let text = try loadText(path, requireLabels: true)
    let labelSets = try text.classIndices(of: model.classes)
    let features = try model.features(documents: text.documents)
    let single = labelSets.indices.filter { labelSets[$0].count == 1 }
    guard !single.isEmpty else {
      throw CommandFailure("\(path): no document has exactly one label")
    }
    if single.count < text.count {
      StandardError.write(
        "softmax: note: \(path): \(text.count - single.count) documents with several labels count in P@k and R@k only\n"
      )
    }
    let rows = SparseDataSet(
      features: features.selectingRows(single),
      labels: single.map { text.labels?[$0].first ?? "" })
    return LabelledData(
      rows: .sparseDouble(rows), labels: single.map { labelSets[$0][0] },
      documents: (features, labelSets))
  }
}
