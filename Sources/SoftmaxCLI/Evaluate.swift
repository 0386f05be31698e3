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
      precision, recall, F1 and support, and the confusion matrix (rows: true class, columns: \
      predicted). Labels are matched to the model's classes by name; a label the model does \
      not know is an error.

      Examples:
        softmax eval model.json Data/iris.csv
        softmax eval model.json test.csv --top-k 3 --plot confusion.svg
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

  @Flag(help: "Print one JSON object on stdout.")
  var json = false

  func validate() throws {
    if topK < 1 { throw ValidationError("--top-k must be at least 1, not \(topK)") }
  }

  func run() throws {
    try reportingFailures {
      let inputs =
        [NamedPath(role: "the model", path: model)]
        + (try dataOptions.inputPaths(of: data)).enumerated().map {
          NamedPath(role: $0.offset == 0 ? "the data" : "its labels file", path: $0.element)
        }
      try checkOutputs(plot.map { [NamedPath(role: "--plot", path: $0)] } ?? [], against: inputs)
      let classifier = try loadModel(model)
      if plot != nil, classifier.classCount > SVGChart.largestConfusionMatrix {
        throw CommandFailure(
          "--plot: a confusion matrix of \(classifier.classCount) classes is too large to draw (at most \(SVGChart.largestConfusionMatrix))",
          exitCode: 2)
      }
      let loaded = try readingFor(classifier) {
        try LoadedData.load(data, options: dataOptions, for: classifier)
          .matching(classifier, path: data)
      }
      loaded.noteReport(data)
      guard let labels = loaded.labels else {
        throw CommandFailure(
          "\(data): no labels to evaluate against (give --label, or --labels for IDX and NPY)")
      }
      let indices = try classIndices(
        labels, classes: classifier.classes, path: data, labelColumn: loaded.report.labelColumn)
      let metrics = try loaded.evaluate(classifier, labels: indices, topK: topK)
      if let plot {
        let svg = SVGChart.confusionMatrix(
          metrics.confusionMatrix, classes: classifier.classes,
          title:
            "Confusion matrix: \(data) (accuracy \(String(fixed: metrics.accuracy * 100, digits: 2))%)"
        )
        try AtomicFile.write(Array(svg.utf8), to: plot)
      }
      if json {
        print(Self.json(metrics, classes: classifier.classes).rendered)
      } else {
        print(Self.report(metrics, classes: classifier.classes))
        if let plot { print("confusion matrix drawn in \(plot)") }
      }
    }
  }

  static func json(_ metrics: ClassificationMetrics, classes: [String]) -> JSON {
    .object([
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
    ])
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

struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict a label for every row of a data file.",
    discussion: """
      Writes CSV: a header, then one row per data row: the predicted label (column \
      "predicted"); with --proba every class's probability (columns "p_<class>"); with \
      --top-k K the K best classes and their probabilities (label_1, p_1, ...). Numbers are \
      printed so that they read back to the same double. The data may have the label column \
      or not: a file with exactly the model's feature count has none, one with one column \
      more has it last (or where --label says). Columns are matched to the model's by \
      header name when both have names.

      Examples:
        softmax predict model.json Data/iris.csv
        softmax predict model.json new.csv --proba --output predictions.csv
        softmax predict model.json new.csv --top-k 3
      """)

  @Argument(help: "The model file (from softmax train).")
  var model: String

  @Argument(help: "The data: CSV/TSV, LIBSVM, IDX images or NPY.")
  var data: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @Flag(help: "Add every class's probability.")
  var proba = false

  @Option(
    name: .customLong("top-k"), help: "Write the k most likely classes with their probabilities.")
  var topK: Int?

  @Option(
    name: [.short, .long],
    help: ArgumentHelp(
      "Write the CSV here (atomically; - for standard output) instead of stdout.",
      valueName: "path"))
  var output: String?

  func validate() throws {
    if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1, not \(topK)") }
  }

  func run() throws {
    try reportingFailures {
      let inputs =
        [NamedPath(role: "the model", path: model)]
        + (try dataOptions.inputPaths(of: data)).enumerated().map {
          NamedPath(role: $0.offset == 0 ? "the data" : "its labels file", path: $0.element)
        }
      try checkOutputs(
        output.map { [NamedPath(role: "--output", path: $0)] } ?? [], against: inputs)
      let classifier = try loadModel(model)
      let loaded = try readingFor(classifier) {
        try LoadedData.load(data, options: dataOptions, for: classifier, labelsOptional: true)
          .matching(classifier, path: data)
      }
      loaded.noteReport(data)
      let classes = classifier.classes
      let k = topK.map { min($0, classes.count) }
      // The CSV text is all held before it is written (whole or not at
      // all): refuse one beyond the memory limit rather than fail in it.
      let perRow = proba ? 24 * classes.count : (k.map { 24 * $0 } ?? 16)
      let (size, overflow) = loaded.count.multipliedReportingOverflow(by: max(perRow, 1))
      if overflow || size > SoftmaxConfiguration.memoryLimit / 2 {
        throw CommandFailure(
          "\(data): the predictions of \(loaded.count) rows × \(classes.count) classes would need more than half the memory available; predict fewer rows at a time"
        )
      }
      var out = ""
      if let k {
        out += (1...k).map { "label_\($0),p_\($0)" }.joined(separator: ",") + "\n"
      } else {
        out +=
          "predicted"
          + (proba ? "," + classes.map { csvField("p_" + $0) }.joined(separator: ",") : "") + "\n"
      }
      // A block of rows at a time: never the whole n × k probability matrix.
      try loaded.forEachBlock(of: SoftmaxClassifier.rowsPerBlock(classCount: classes.count)) {
        block in
        for row in try block.probabilities(classifier).rowArrays {
          if let k {
            let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            out +=
              order.prefix(k).map { "\(csvField(classes[$0])),\(row[$0])" }.joined(separator: ",")
              + "\n"
          } else {
            var best = 0
            for j in row.indices where row[j] > row[best] { best = j }
            out += csvField(classes[best])
            if proba { out += "," + row.map { "\($0)" }.joined(separator: ",") }
            out += "\n"
          }
        }
      }
      if let output, output != "-" {
        try AtomicFile.write(Array(out.utf8), to: output)
      } else {
        print(out, terminator: "")
      }
    }
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
