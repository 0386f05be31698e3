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
  var validationAccuracy: [Double] = []
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
      series: [series("train", trainAccuracy), series("validation", validationAccuracy)].compactMap
      { $0 })
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
  var topK: Int
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

  func fit(_ data: LoadedData, labels: [Int], validation: (data: LoadedData, labels: [Int])?)
    throws -> Outcome
  {
    switch data {
    case .float(let set):
      return try fit(
        set, labels: labels,
        validation: validation.flatMap { v in v.data.float.map { ($0, v.labels) } })
    case .double(let set):
      return try fit(
        set, labels: labels,
        validation: validation.flatMap { v in v.data.double.map { ($0, v.labels) } })
    }
  }

  /// Training accuracy is measured on at most this many rows while
  /// training (the final metrics use every row).
  static let sampleSize = 1000

  func fit<T: SoftmaxScalar>(
    _ data: DataSet<T>, labels: [Int], validation: (DataSet<T>, [Int])?
  ) throws -> Outcome {
    let standardization = options.standardize ? Standardization(fitting: data.features) : nil
    let n = data.count
    // A fixed pseudo-random sample (its own generator: training's stream
    // is untouched), as evenly spaced rows can follow the file's order.
    var sampleRows = Array(0..<n)
    if n > Self.sampleSize {
      var generator = SplitMix64(seed: 0x5A3D_1E5A)
      generator.shuffle(&sampleRows)
      sampleRows = Array(sampleRows.prefix(Self.sampleSize)).sorted()
    }
    let sample = data.rows(sampleRows)
    let sampleLabels = sampleRows.map { labels[$0] }
    let k = classes.count
    let d = data.featureCount
    var display = ProgressDisplay(quiet: quiet, total: total, unit: unit)
    var history = TrainingHistory()
    history.unit = unit
    let stride = max(1, total / 400)
    func model(_ parameters: [Double]) -> SoftmaxClassifier {
      SoftmaxClassifier(
        classes: classes,
        weight: Matrix(rows: k, columns: d, elements: Array(parameters[0..<(k * d)])),
        bias: Array(parameters[(k * d)...]), standardization: standardization)
    }
    func accuracy(_ model: SoftmaxClassifier, _ features: Matrix<T>, _ labels: [Int]) -> Double? {
      guard let predicted = try? model.predictedClassIndices(features), !labels.isEmpty else {
        return nil
      }
      return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
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
    // The standardization goes in through a zero warm start (the start fit
    // uses anyway), so that fit keeps this one instead of computing its own.
    let fitted = try SoftmaxClassifier.fit(
      features: data.features, labels: labels, classes: classes, featureNames: featureNames,
      options: options,
      warmStart: standardization.map { _ in model([Double](repeating: 0, count: k * (d + 1))) },
      resumingFrom: resumingFrom, checkpoints: checkpoints != nil
    ) { report in
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
      if show || record, report.parameters.count == k * (d + 1) {
        let current = model(report.parameters)
        let trainAccuracy = accuracy(current, sample.features, sampleLabels)
        var validationLoss = report.validationLoss
        var validationAccuracy: Double? = nil
        if let (set, setLabels) = validation {
          let metrics = try? current.evaluate(features: set.features, labels: setLabels, topK: 1)
          validationLoss = metrics?.logLoss
          validationAccuracy = metrics?.accuracy
        }
        if record {
          history.steps.append(Double(report.iteration))
          history.objective.append(report.objective)
          if let trainAccuracy { history.trainAccuracy.append(trainAccuracy) }
          if let validationLoss { history.validationLoss.append(validationLoss) }
          if let validationAccuracy { history.validationAccuracy.append(validationAccuracy) }
        }
        if show {
          display.update(
            step: report.iteration, loss: report.objective, accuracy: trainAccuracy,
            validationLoss: validationLoss)
        }
      }
      return !Interrupt.wasRequested
    }
    // The last step, if the display skipped it (time-limited updates).
    if let last, display.lastShown != last.iteration, display.style != .silent {
      let current = model(last.parameters)
      display.update(
        step: last.iteration, loss: last.objective,
        accuracy: accuracy(current, sample.features, sampleLabels),
        validationLoss: last.validationLoss)
    }
    display.finish()
    if let policy = checkpoints { save(last?.checkpoint, path: policy.path) }
    var validationLoss: Double? = nil
    if let (set, setLabels) = validation {
      validationLoss = try fitted.evaluate(features: set.features, labels: setLabels, topK: 1)
        .logLoss
    } else if let losses = fitted.training?.validationHistory, !losses.isEmpty {
      validationLoss =
        options.stochastic.earlyStopping?.restoreBest == true ? losses.min() : losses.last
    }
    return Outcome(model: fitted, history: history, validationLoss: validationLoss)
  }
}

extension LoadedData {
  /// Each feature's mean (exact for any finite values; see
  /// `Standardization(fitting:)`), for the model to fill missing values
  /// with at prediction.
  var featureMeans: [Double] {
    switch self {
    case .float(let set): return Standardization(fitting: set.features).mean
    case .double(let set): return Standardization(fitting: set.features).mean
    }
  }

  var isFloat: Bool {
    if case .float = self { return true }
    return false
  }

  var float: DataSet<Float>? {
    if case .float(let set) = self { return set }
    return nil
  }

  var double: DataSet<Double>? {
    if case .double(let set) = self { return set }
    return nil
  }

  func evaluate(_ model: SoftmaxClassifier, labels: [Int], topK: Int) throws
    -> ClassificationMetrics
  {
    let k = min(topK, model.classCount)
    switch self {
    case .float(let set): return try model.evaluate(features: set.features, labels: labels, topK: k)
    case .double(let set):
      return try model.evaluate(features: set.features, labels: labels, topK: k)
    }
  }
}
