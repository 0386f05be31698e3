//===--- TrainingRun.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

/// The loss and accuracy of the model as it trained, for `--plot`.
struct TrainingHistory {
  var steps: [Double] = []
  var objective: [Double] = []
  var trainAccuracy: [Double] = []
  var validationLoss: [Double] = []
  var unit = "iteration"

  func svg(optimizer: String) -> String {
    func series(_ name: String, _ values: [Double]) -> SVGChart.Series? {
      values.isEmpty
        ? nil : SVGChart.Series(name: name, points: zip(steps, values).map { ($0, $1) })
    }
    let loss = SVGChart.Panel(
      title: "Loss (\(optimizer))", xLabel: unit, yLabel: "loss (nats)",
      series: [series("objective", objective), series("validation", validationLoss)].compactMap {
        $0
      })
    let accuracy = SVGChart.Panel(
      title: "Accuracy", xLabel: unit, yLabel: "accuracy",
      series: [series("train", trainAccuracy)].compactMap { $0 })
    return SVGChart.lineCharts([loss, accuracy])
  }
}

/// When `train` saves its checkpoint: every `every` iterations, at least
/// every `seconds`, when stopped by Ctrl-C, and at the end.
struct CheckpointPolicy {
  var path: String
  var every: Int?
  var seconds: Double
}

/// One training run as the `train` command drives it: the fit with a
/// progress display, Ctrl-C, checkpoints, and the history for the plot.
struct TrainingRun {
  var classes: [String]
  var featureNames: [String]?
  var options: TrainingOptions
  var quiet: Bool
  var wantsHistory: Bool
  var total: Int
  var unit: String
  var checkpoints: CheckpointPolicy? = nil
  var resumingFrom: TrainingCheckpoint? = nil

  struct Outcome {
    var model: SoftmaxClassifier
    var history: TrainingHistory
    var validationLoss: Double?
  }

  /// Training accuracy is measured on at most this many rows while
  /// training (the final metrics use every row).
  static let sampleSize = 1000

  /// The rows whose accuracy the progress shows: a fixed pseudo-random
  /// sample of ``sampleSize`` of `count` (its own generator: training's
  /// stream is untouched), in increasing order, as evenly spaced rows can
  /// follow the file's order.
  static func sampleRows(count: Int) -> [Int] {
    var sampleRows = Array(0..<count)
    if count > sampleSize {
      var generator = SplitMix64(seed: 0x5A3D_1E5A)
      generator.shuffle(&sampleRows)
      sampleRows = Array(sampleRows.prefix(sampleSize)).sorted()
    }
    return sampleRows
  }

  func fit(_ data: AnyDataSet, labels: [Int], sampleWeights: [Double]? = nil) throws -> Outcome {
    let sampleRows = Self.sampleRows(count: data.count)
    return try fit(
      sample: data.rows(sampleRows), sampleLabels: sampleRows.map { labels[$0] },
      featureCount: data.featureCount
    ) { progress in
      switch data {
      case .float(let set):
        try SoftmaxClassifier.fit(
          features: set.features, labels: labels, classes: classes, sampleWeights: sampleWeights,
          featureNames: featureNames,
          options: options, resumingFrom: resumingFrom, checkpoints: checkpoints != nil,
          progress: progress)
      case .double(let set):
        try SoftmaxClassifier.fit(
          features: set.features, labels: labels, classes: classes, sampleWeights: sampleWeights,
          featureNames: featureNames,
          options: options, resumingFrom: resumingFrom, checkpoints: checkpoints != nil,
          progress: progress)
      case .sparseFloat(let set):
        try SoftmaxClassifier.fit(
          features: set.features, labels: labels, classes: classes, sampleWeights: sampleWeights,
          featureNames: featureNames,
          options: options, resumingFrom: resumingFrom, checkpoints: checkpoints != nil,
          progress: progress)
      case .sparseDouble(let set):
        try SoftmaxClassifier.fit(
          features: set.features, labels: labels, classes: classes, sampleWeights: sampleWeights,
          featureNames: featureNames,
          options: options, resumingFrom: resumingFrom, checkpoints: checkpoints != nil,
          progress: progress)
      }
    }
  }

  /// Trains with `train` (the library's `fit` given the progress
  /// callback), showing progress with the accuracy of `sample` (rows of
  /// `d` features), saving checkpoints, honouring Ctrl-C.
  func fit(
    sample: AnyDataSet, sampleLabels: [Int], featureCount d: Int,
    train: (_ progress: (IterationReport) -> Bool) throws -> SoftmaxClassifier
  ) throws -> Outcome {
    var display = ProgressDisplay(quiet: quiet, total: total, unit: unit)
    var history = TrainingHistory()
    history.unit = unit
    let stride = max(1, total / 400)
    // The model whose accuracy the progress shows, its weights overwritten
    // in place from each report: a fresh model per line copied every
    // weight into new pages (20 Newsgroups bigrams: 23M weights, 190 MB
    // faulted in per line).
    var shown: SoftmaxClassifier? = nil
    func model(_ report: IterationReport) -> SoftmaxClassifier {
      let weightCount = classes.count * d
      guard var model = shown, options.hidden == nil,
        report.parameters.count == weightCount + classes.count
      else {
        let model = SoftmaxClassifier(
          classes: classes, featureCount: d, parameters: report.parameters,
          standardization: report.standardization, hidden: options.hidden)
        shown = model
        return model
      }
      shown = nil  // the model's storage is now this copy's alone: no copy on write
      model.weight.withUnsafeMutableBufferPointer { weights in
        report.parameters.withUnsafeBufferPointer { parameters in
          guard let to = weights.baseAddress, let from = parameters.baseAddress else { return }
          to.update(from: from, count: weightCount)
        }
      }
      model.bias = Array(report.parameters[weightCount...])
      model.standardization = report.standardization
      shown = model
      return model
    }
    var last: IterationReport? = nil
    var saved = (iteration: resumingFrom?.iteration ?? -1, time: monotonicSeconds())
    var saveFailed = false
    func save(_ checkpoint: TrainingCheckpoint?, path: String) {
      guard let checkpoint, checkpoint.iteration != saved.iteration else { return }
      do {
        try AtomicFile.write(checkpoint.encoded(), to: path)
        saved = (checkpoint.iteration, monotonicSeconds())
      } catch {
        // Training goes on (the model is still written at the end); say
        // so once.
        if !saveFailed { StandardError.write("softmax: warning: checkpoint not saved: \(error)\n") }
        saveFailed = true
      }
    }
    let progress = { (report: IterationReport) -> Bool in
      Interrupt.markTrainingStarted()
      last = report
      if let policy = checkpoints {
        let due =
          policy.every.map { report.iteration % $0 == 0 } ?? false
          || monotonicSeconds() - saved.time >= policy.seconds || Interrupt.wasRequested
        if due { save(report.checkpoint, path: policy.path) }
      }
      let show = display.wantsUpdate(step: report.iteration)
      let record = wantsHistory && (report.iteration % stride == 0 || report.iteration <= 1)
      if show || record {
        let trainAccuracy = sample.accuracy(model(report), labels: sampleLabels)
        if record {
          history.steps.append(Double(report.iteration))
          history.objective.append(report.objective)
          if let trainAccuracy { history.trainAccuracy.append(trainAccuracy) }
          if let loss = report.validationLoss { history.validationLoss.append(loss) }
        }
        if show {
          display.update(
            step: report.iteration, loss: report.objective, accuracy: trainAccuracy,
            validationLoss: report.validationLoss)
        }
      }
      return !Interrupt.wasRequested
    }
    let fitted = try train(progress)
    // The last step, if the display skipped it (time-limited updates).
    if let last, display.lastShown != last.iteration, display.style != .silent {
      display.update(
        step: last.iteration, loss: last.objective,
        accuracy: sample.accuracy(model(last), labels: sampleLabels),
        validationLoss: last.validationLoss)
    }
    display.finish()
    if let policy = checkpoints { save(last?.checkpoint, path: policy.path) }
    let losses = fitted.training?.validationHistory ?? []
    let restoresBest =
      options.solver.isStochastic && options.stochastic.earlyStopping?.restoreBest == true
    return Outcome(
      model: fitted, history: history,
      validationLoss: losses.isEmpty ? nil : (restoresBest ? losses.min() : losses.last))
  }
}
