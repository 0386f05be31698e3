//===--- Evaluate.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure a model on labelled data.",
    discussion: """
      Prints accuracy, log loss (mean cross-entropy, natural log), top-k accuracy, each class's \
      precision, recall, F1 and support, the confusion matrix (rows: true class, columns: \
      predicted), and how calibrated the probabilities are: the Brier score (mean over rows of \
      the squared differences summed over classes, 0 to 2) and the expected calibration error \
      (equal-width bins of the predicted class's probability; for a model with a temperature, \
      also at τ = 1). Labels are matched to the model's classes by name; a label the model \
      does not know is an error.

      Examples:
        softmax eval model.json Data/iris.csv
        softmax eval model.json test.csv --top-k 3 --plot confusion.svg
        softmax eval model.json test.csv --reliability-plot reliability.svg
        softmax eval model.json test.csv --json | jq .accuracy
      """)

  @Argument(help: "The model file (from softmax train).")
  var model: String

  @Argument(help: "Labelled data: CSV/TSV, LIBSVM, IDX images or NPY.")
  var data: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @Option(name: .customLong("top-k"), help: "k of the top-k accuracy.")
  var topK: Int = 5

  @Option(
    help: ArgumentHelp("Draw the confusion matrix as an SVG heat map.", valueName: "path.svg"))
  var plot: String?

  @Option(
    name: .customLong("reliability-plot"),
    help: ArgumentHelp(
      "Draw the reliability diagram (accuracy against confidence per bin; a calibrated model's before and after) as SVG.",
      valueName: "path.svg"))
  var reliabilityPlot: String?

  @Option(help: "Equal-width confidence bins of the expected calibration error.")
  var bins: Int = 15

  @Flag(help: "Print one JSON object on stdout.")
  var json = false

  func validate() throws {
    if topK < 1 { throw ValidationError("--top-k must be at least 1, not \(topK)") }
    try validateBins(bins)
  }

  func run() throws {
    try reportingFailures {
      let inputs =
        [NamedPath(role: "the model", path: model)]
        + (try dataOptions.namedInputs(of: data, role: "the data"))
      try checkOutputs(
        [
          plot.map { NamedPath(role: "--plot", path: $0) },
          reliabilityPlot.map { NamedPath(role: "--reliability-plot", path: $0) },
        ].compactMap { $0 }, against: inputs)
      let classifier = try loadModel(model)
      if plot != nil, classifier.classCount > SVGChart.largestConfusionMatrix {
        throw CommandFailure(
          "--plot: a confusion matrix of \(classifier.classCount) classes is too large to draw (at most \(SVGChart.largestConfusionMatrix))",
          exitCode: 2)
      }
      let labelled = try dataOptions.labelled(data, for: classifier)
      let ranking: [RankingMetrics] =
        try labelled.documents.map { documents in
          let probabilities = try classifier.probabilities(documents.features)
          return Set([1, min(topK, classifier.classCount)]).sorted().map {
            RankingMetrics(probabilities: probabilities, labels: documents.labelSets, k: $0)
          }
        } ?? []
      let metrics = try labelled.rows.evaluate(
        classifier, labels: labelled.labels, topK: topK, calibrationBins: bins)
      // A calibrated model: the same rows at τ = 1, for the calibration
      // metrics before and after.
      var uncalibrated = classifier
      uncalibrated.temperature = 1
      let before =
        classifier.temperature == 1
        ? nil
        : try labelled.rows.evaluate(
          uncalibrated, labels: labelled.labels, topK: topK, calibrationBins: bins)
      if let plot {
        let svg = SVGChart.confusionMatrix(
          metrics.confusionMatrix, classes: classifier.classes,
          title:
            "Confusion matrix: \(data) (accuracy \(String(fixed: metrics.accuracy * 100, digits: 2))%)"
        )
        try AtomicFile.write(Array(svg.utf8), to: plot)
      }
      if let reliabilityPlot {
        try AtomicFile.write(
          Array(
            reliabilityChart(
              title: "Reliability: \(data)",
              curves: [before.map { ("τ = 1", $0) }, (curveName(classifier), metrics)].compactMap {
                $0
              }
            ).utf8), to: reliabilityPlot)
      }
      if json {
        var object = Self.json(metrics, classes: classifier.classes)
        if case .object(var fields) = object {
          fields.append(("temperature", .number(classifier.temperature)))
          if let before { fields.append(("uncalibrated", calibrationJSON(before))) }
          for r in ranking {
            fields.append(("precision_at_\(r.k)", .number(r.precision)))
            fields.append(("recall_at_\(r.k)", .number(r.recall)))
          }
          object = .object(fields)
        }
        print(object.rendered)
      } else {
        for r in ranking {
          print(
            "P@\(r.k) \(String(fixed: r.precision, digits: 4))   R@\(r.k) \(String(fixed: r.recall, digits: 4))   (\(r.documents) documents, \(r.labels) labels)"
          )
        }
        print(Self.report(metrics, classes: classifier.classes))
        print(calibrationReport(metrics, before: before, temperature: classifier.temperature))
        if let plot { print("confusion matrix drawn in \(plot)") }
        if let reliabilityPlot { print("reliability diagram drawn in \(reliabilityPlot)") }
      }
    }
  }

  static func json(_ metrics: ClassificationMetrics, classes: [String]) -> JSON {
    .object(
      [
        ("accuracy", .number(metrics.accuracy)),
        ("log_loss", .number(metrics.logLoss)),
        ("top_k", .int(metrics.topK)),
        ("top_k_accuracy", .number(metrics.topKAccuracy)),
        ("macro_f1", .number(metrics.macroF1)),
        ("weighted_f1", .number(metrics.weightedF1)),
        ("rows", .int(metrics.count)),
        ("classes", .array(classes.map { .string($0) })),
        (
          "per_class",
          .array(
            zip(classes, metrics.perClass).map { name, scores in
              .object([
                ("class", .string(name)), ("precision", .number(scores.precision)),
                ("recall", .number(scores.recall)), ("f1", .number(scores.f1)),
                ("support", .int(scores.support)),
              ])
            })
        ),
        ("confusion_matrix", .array(metrics.confusionMatrix.map { .array($0.map { .int($0) }) })),
      ] + calibrationFields(metrics))
  }

  static func report(_ metrics: ClassificationMetrics, classes: [String]) -> String {
    let correct = metrics.confusionMatrix.enumerated().reduce(0) { $0 + $1.element[$1.offset] }
    var lines: [String] = []
    lines.append(
      "accuracy \(String(fixed: metrics.accuracy * 100, digits: 2))% (\(correct)/\(metrics.count))   log loss \(String(fixed: metrics.logLoss, digits: 6))   top-\(metrics.topK) accuracy \(String(fixed: metrics.topKAccuracy * 100, digits: 2))%"
    )
    let width = max(5, classes.map(\.count).max() ?? 5)
    lines.append("")
    lines.append("class".rightPadded(width) + "  precision  recall     f1  support")
    for (name, scores) in zip(classes, metrics.perClass) {
      lines.append(
        name.rightPadded(width) + "  " + String(fixed: scores.precision, digits: 4).padded(9) + "  "
          + String(fixed: scores.recall, digits: 4).padded(6) + "  "
          + String(fixed: scores.f1, digits: 4).padded(6) + "  " + String(scores.support).padded(7))
    }
    lines.append(
      "macro F1 \(String(fixed: metrics.macroF1, digits: 4))   weighted F1 \(String(fixed: metrics.weightedF1, digits: 4))"
    )
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted)")
    let cellWidth = max(
      classes.map(\.count).max() ?? 1,
      String(metrics.confusionMatrix.flatMap { $0 }.max() ?? 0).count)
    lines.append(
      String(repeating: " ", count: width) + "  "
        + classes.map { $0.padded(cellWidth) }.joined(separator: " "))
    for (name, row) in zip(classes, metrics.confusionMatrix) {
      lines.append(
        name.rightPadded(width) + "  "
          + row.map { String($0).padded(cellWidth) }.joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
  guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
    return text
  }
  var quoted = "\""
  for character in text {
    if character == "\"" { quoted += "\"" }
    quoted.append(character)
  }
  return quoted + "\""
}

/// Runs `body` (reading data for `model`), adding to a value error in a
/// CSV feature column a hint that the column may be the labels: the model
/// remembers where its training file had them, but a file laid out
/// otherwise needs `--label`.
func readingFor<T>(_ model: SoftmaxClassifier, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as DataError {
    guard error.code == .notANumber, let field = error.field,
      !error.message.contains("out of the finite range"),
      DataFormat(path: error.path) == .csv
    else { throw error }
    let trained = model.input?.labelColumn.map { label in
      label.name.map { " (the model's training file had it in \"\($0)\")" }
        ?? " (the model's training file had it in column \(label.index))"
    }
    throw CommandFailure(
      "\(error.description) (if column \(field) holds the labels, give --label \(field)\(trained ?? ""); --missing skip|zero|mean accepts other text)"
    )
  }
}
