//===--- Predict.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

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
        softmax predict text-model.json - --top-k 2 --threshold 0.1 < documents.txt

      A model trained on text reads text: a file in fastText's format (a document a line; \
      __label__ tokens, if any, are left out), a folder of class folders, or - (standard \
      input), a document a line. Every line gets its row, a blank one too (an empty \
      document), so that the rows line up with the lines, as fastText's predict prints them.
      """)

  @Argument(help: "The model file (from softmax train).")
  var model: String

  @Argument(
    help:
      "The data: CSV/TSV, LIBSVM, IDX images or NPY; for a model of text, text (a document a line; - reads standard input)."
  )
  var data: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @Flag(help: "Add every class's probability.")
  var proba = false

  @Option(
    name: .customLong("top-k"), help: "Write the k most likely classes with their probabilities.")
  var topK: Int?

  @Option(
    help: ArgumentHelp(
      "With --top-k: leave out classes whose probability is below this (fastText's threshold).",
      valueName: "p"))
  var threshold: Double?

  @Option(
    name: [.short, .long],
    help: ArgumentHelp(
      "Write the CSV here (atomically; - for standard output) instead of stdout.",
      valueName: "path"))
  var output: String?

  func validate() throws {
    if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1, not \(topK)") }
    if let threshold {
      guard threshold >= 0 && threshold <= 1 else {
        throw ValidationError("--threshold must be in [0, 1], not \(threshold)")
      }
      guard topK != nil else { throw ValidationError("--threshold needs --top-k") }
    }
  }

  func run() throws {
    try reportingFailures {
      let inputs =
        [NamedPath(role: "the model", path: model)]
        + (try dataOptions.namedInputs(of: data, role: "the data"))
      try checkOutputs(
        output.map { [NamedPath(role: "--output", path: $0)] } ?? [], against: inputs)
      let classifier = try loadModel(model)
      let loaded: AnyDataSet
      if classifier.text != nil {
        let text = try dataOptions.loadText(data, requireLabels: false)
        loaded = .sparseDouble(
          SparseDataSet(features: try classifier.features(documents: text.documents), labels: nil))
      } else {
        loaded = try readingFor(classifier) {
          try dataOptions.load(data, for: classifier, labelsOptional: true)
            .matching(classifier, path: data)
        }
      }
      let out = try predictions(classifier, loaded)
      if let output, output != "-" {
        try AtomicFile.write(Array(out.utf8), to: output)
      } else {
        print(out, terminator: "")
      }
    }
  }

  /// The CSV text of the predictions, a block of rows at a time (never
  /// the whole `n × k` probability matrix); refused beyond half the memory
  /// limit, as the text is held until written whole.
  func predictions(_ classifier: SoftmaxClassifier, _ data: AnyDataSet) throws -> String {
    let classes = classifier.classes
    let k = topK.map { min($0, classes.count) }
    let perRow = proba ? 24 * classes.count : (k.map { 24 * $0 } ?? 16)
    let (size, overflow) = data.count.multipliedReportingOverflow(by: max(perRow, 1))
    if overflow || size > SoftmaxConfiguration.memoryLimit / 2 {
      throw CommandFailure(
        "\(self.data): the predictions of \(data.count) rows × \(classes.count) classes would need more than half the memory available; predict fewer rows at a time"
      )
    }
    var out =
      k.map { k in (1...k).map { "label_\($0),p_\($0)" }.joined(separator: ",") + "\n" }
      ?? "predicted"
      + (proba ? "," + classes.map { csvField("p_" + $0) }.joined(separator: ",") : "") + "\n"
    for block in data.blocks(of: SoftmaxClassifier.rowsPerBlock(classCount: classes.count)) {
      let probabilities = try block.probabilities(classifier)
      let ranked = SoftmaxClassifier.ranked(probabilities, count: k ?? 1)
      for (row, best) in zip(probabilities.rowArrays, ranked) {
        if let k {
          // Below the threshold: empty fields, so every row has 2k.
          let kept = best.filter { $0.probability >= (threshold ?? 0) }
          out +=
            (kept.map { "\(csvField(classes[$0.classIndex])),\($0.probability)" }
            + Array(repeating: ",", count: k - kept.count)).joined(separator: ",") + "\n"
        } else {
          out += csvField(classes[best[0].classIndex])
          if proba { out += "," + row.map { "\($0)" }.joined(separator: ",") }
          out += "\n"
        }
      }
    }
    return out
  }
}
