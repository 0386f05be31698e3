//===--- SoftmaxMPICommand.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxMPI
import SoftmaxRegression

/// `mpirun -np P softmax-mpi DATA.npy --labels LABELS ...`: softmax
/// regression trained by P processes, each on its share of the file's rows
/// (whole blocks of 256, rank 0 first), the same model bit for bit for any
/// P. Rank 0 prints the progress and writes the model.
@main
struct SoftmaxMPICommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "softmax-mpi",
    abstract: "Train softmax regression over MPI: every rank reads its share of an NPY file.",
    discussion: """
      Run it under mpirun; every rank opens DATA (a float32 or float64 .npy the ranks can \
      all read: a shared file system, or a copy on every machine) and reads only its rows. \
      The model is the same, byte for byte, for every number of ranks and threads.

      Examples:
        mpirun -np 4 softmax-mpi train.npy --labels train.labels.txt --standardize
        mpirun --hostfile hosts -np 16 softmax-mpi train.npy --labels y.npy --C 10 --model m.json
      """)

  @Argument(help: "The features: a 2-D .npy file (rows × features).")
  var data: String

  @Option(
    help: ArgumentHelp("The labels: a .npy of integers, or one label a line.", valueName: "path"))
  var labels: String

  @Option(
    name: .customLong("l2"), help: ArgumentHelp("The L2 strength λ of λ/2·‖W‖².", valueName: "λ"))
  var l2: Double?

  @Option(
    name: .customLong("C"),
    help: ArgumentHelp("scikit-learn's inverse strength: λ = 1/(C·n).", valueName: "C"))
  var inverseStrength: Double?

  @Option(name: .customLong("l1"), help: ArgumentHelp("The L1 strength (OWL-QN).", valueName: "λ₁"))
  var l1: Double = 0

  @Flag(help: "Scale every feature to mean 0 and variance 1 (over every rank's rows).")
  var standardize = false

  @Flag(help: "Weigh classes n / (k · count of the class).")
  var balanced = false

  @Option(
    help:
      "lbfgs, gd (full-batch gradient descent), sgd or adam (minibatches: every rank sums its rows of each batch; one all-reduce a step)."
  )
  var optimizer: String = "lbfgs"

  @Option(help: "The iteration limit.")
  var maxIter: Int = 1000

  @Option(help: "sgd, adam: passes over the rows.")
  var epochs: Int = 10

  @Option(help: "sgd, adam: rows per minibatch.")
  var batchSize: Int = 256

  @Option(help: "sgd, adam: the step size (default: the library's for each).")
  var learningRate: Double?

  @Option(help: "sgd: the momentum, in [0, 1).")
  var momentum: Double = 0

  @Option(help: "sgd, adam: the seed of the rows' shuffle (the same on every rank).")
  var seed: UInt64 = 0

  @Option(
    name: .customLong("early-stopping"),
    help: ArgumentHelp(
      "sgd, adam: stop when the loss on this fraction of the rows, held out, has not improved for 5 epochs.",
      valueName: "fraction"))
  var earlyStopping: Double?

  @Option(help: "Stop when the largest gradient component is below this.")
  var tol: Double = 1e-6

  @Option(help: ArgumentHelp("Where rank 0 writes the model.", valueName: "path"))
  var model: String = "model.json"

  @Option(help: "Worker threads per rank (default: every core).")
  var threads: Int?

  @Option(
    help: ArgumentHelp(
      "Stop the job when a collective operation waits longer than this (a rank stopped or hangs).",
      valueName: "seconds"))
  var timeout: Double = 600

  @Option(
    help: ArgumentHelp(
      "Rank 0 saves the training state here (atomically) every --checkpoint-every iterations, for --resume after a failure, with any number of ranks.",
      valueName: "path"))
  var checkpoint: String?

  @Option(
    help: ArgumentHelp("Save the checkpoint every N iterations (default 10).", valueName: "N"))
  var checkpointEvery: Int = 10

  @Flag(
    help:
      "Go on from --checkpoint if it is there (every rank reads it): the model an uninterrupted run gives, bit for bit, with the same or another number of ranks."
  )
  var resume = false

  @Flag(
    help:
      "Read each rank's rows from the file on every pass (default: load them when the ranks' shares on this machine fit in half of SOFTMAX_MEMORY_LIMIT, else the machine's memory)."
  )
  var stream = false

  @Flag(help: "No progress, no summary.")
  var quiet = false

  @Flag(
    help:
      "Print one JSON object on rank 0: the run's iterations, evaluations, objective, seconds (and of them the loading's), and each iteration's time from the start of training and objective."
  )
  var json = false

  func validate() throws {
    if l2 != nil && inverseStrength != nil { throw ValidationError("give --l2 or --C, not both") }
    if let l2, !(l2 >= 0 && l2.isFinite) { throw ValidationError("--l2 must be finite and ≥ 0") }
    if let c = inverseStrength, !(c > 0 && c.isFinite) {
      throw ValidationError("--C must be finite and > 0")
    }
    if !(l1 >= 0 && l1.isFinite) { throw ValidationError("--l1 must be finite and ≥ 0") }
    if !["lbfgs", "gd", "sgd", "adam"].contains(optimizer) {
      throw ValidationError("--optimizer is lbfgs, gd, sgd or adam, not \(optimizer)")
    }
    if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
      throw ValidationError("--learning-rate must be finite and > 0")
    }
    if !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1)") }
    if let earlyStopping, !(earlyStopping > 0 && earlyStopping < 1) {
      throw ValidationError("--early-stopping takes a fraction in (0, 1)")
    }
    if maxIter < 0 { throw ValidationError("--max-iter must be ≥ 0") }
    if !(tol >= 0 && tol.isFinite) { throw ValidationError("--tol must be finite and ≥ 0") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be > 0") }
    if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
    if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint PATH") }
  }

  func run() throws {
    let communicator: MPICommunicator
    do {
      communicator = try MPICommunicator.initialize(timeout: timeout)
    } catch {
      FileHandle.standardError.write(Data("softmax-mpi: \(error)\n".utf8))
      throw ExitCode(1)
    }
    if let threads { SoftmaxConfiguration.threadCount = threads }
    // Tests only: this rank stops answering (a stalled process), for the
    // other ranks' timeout to end the job.
    if let stalled = ProcessInfo.processInfo.environment["SOFTMAX_TEST_STALL_RANK"],
      Int(stalled) == communicator.rank
    {
      sleep(600)
    }
    // Tests only: this rank dies (SIGKILL) once MPI runs, for mpirun to
    // stop the job and name it.
    if let dying = ProcessInfo.processInfo.environment["SOFTMAX_TEST_DIE_RANK"],
      Int(dying) == communicator.rank
    {
      kill(getpid(), SIGKILL)
    }
    let status = train(communicator)
    MPICommunicator.finalize()
    if status != 0 { throw ExitCode(status) }
  }

  /// `--resume`: the checkpoint every rank reads, or `nil` when no rank
  /// finds one (a rank that cannot read it, or sees none when others do,
  /// stops every rank).
  private func readCheckpoint(_ communicator: MPICommunicator) throws(TrainingError)
    -> TrainingCheckpoint?
  {
    guard resume, let path = checkpoint else { return nil }
    var found: TrainingCheckpoint? = nil
    var problem: TrainingError? = nil
    if AtomicFile.exists(path) {
      do {
        found = try TrainingCheckpoint.decode(AtomicFile.readText(path))
      } catch {
        problem = TrainingError(.invalidModel, "\(path): \(error)")
      }
    }
    try communicator.agree(problem)
    // Whether some rank found it, and whether some rank did not.
    var seen = [found == nil ? 0.0 : 1.0, found == nil ? 1.0 : 0.0]
    do {
      try communicator.allReduceMax(&seen)
    } catch {
      throw TrainingError(.unreadableData, "rank \(communicator.rank): \(error)")
    }
    guard seen[0] == 0 || seen[1] == 0 else {
      throw TrainingError(
        .unreadableData,
        "\(path): some ranks see the checkpoint and some do not: give a path every machine reads")
    }
    if communicator.rank == 0 && !quiet && !json {
      print(
        found.map { "resuming from \(path), after iteration \($0.iteration)" }
          ?? "no checkpoint at \(path) yet; starting afresh")
    }
    return found
  }

  /// Trains and writes the model; the exit code.
  private func train(_ communicator: MPICommunicator) -> Int32 {
    let rank = communicator.rank
    let started = Date()
    func say(_ text: String) {
      if rank == 0 && !quiet && !json { print(text) }
    }
    var trace: [(seconds: Double, objective: Double, evaluations: Int)] = []
    var fitStarted = started
    do {
      // Every rank opens the file and reads the labels; any rank's failure
      // stops every rank, named.
      var opened: (NPYRowStream<Float>, ClassEncoding)? = nil
      var problem: TrainingError? = nil
      do {
        let stream = try NPYRowStream<Float>(path: data)
        let text = try NPYReader.readLabels(labels)
        guard text.count == stream.rows else {
          throw DataError(
            .labels, path: labels, "\(text.count) labels for the \(stream.rows) rows of \(data)")
        }
        opened = (stream, ClassEncoding(labels: text))
      } catch {
        problem = TrainingError(.unreadableData, "\(error)")
      }
      try communicator.agree(problem)
      guard let (stream, encoding) = opened else { return 1 }
      let resumingFrom = try readCheckpoint(communicator)
      let share = SoftmaxClassifier.distributedShare(
        rows: stream.rows, rank: rank, size: communicator.size)
      var options = TrainingOptions()
      switch optimizer {
      case "gd": options.solver = .gradientDescent
      case "sgd": options.solver = .sgd
      case "adam": options.solver = .adam
      default: options.solver = .lbfgs
      }
      options.stochastic.epochs = epochs
      options.stochastic.batchSize = batchSize
      options.stochastic.learningRate = learningRate
      options.stochastic.momentum = momentum
      options.stochastic.seed = seed
      if let earlyStopping {
        var early = EarlyStopping()
        early.validationFraction = earlyStopping
        options.stochastic.earlyStopping = early
      }
      options.l2 =
        l2 ?? TrainingOptions.l2(forC: inverseStrength ?? 1, sampleWeightTotal: Double(stream.rows))
      options.l1 = l1
      options.standardize = standardize
      options.classWeighting = balanced ? .balanced : .uniform
      options.lbfgs.maxIterations = maxIter
      options.lbfgs.gradientTolerance = tol
      say(
        "training on \(stream.rows) rows × \(stream.columns) features, \(encoding.classes.count) classes, over \(communicator.size) ranks (rank 0: rows \(share.lowerBound)..<\(share.upperBound))"
      )
      let progress = { (report: IterationReport) -> Bool in
        trace.append((Date().timeIntervalSince(fitStarted), report.objective, report.evaluations))
        if rank == 0, let path = checkpoint, let saved = report.checkpoint,
          report.iteration % checkpointEvery == 0
        {
          do {
            try AtomicFile.write(saved.encoded(), to: path)
          } catch {
            FileHandle.standardError.write(
              Data("softmax-mpi: warning: checkpoint not saved: \(error)\n".utf8))
          }
        }
        if report.iteration % 10 == 0 || report.iteration == 1 {
          say("iteration \(report.iteration)  objective \(report.objective)")
        }
        return true
      }
      let slice = RowStreamSlice(stream, rows: share)
      let shareLabels = Array(encoding.indices[share])
      // The share in memory when it fits in this machine's part of the
      // limit (the ranks on one machine share it), else read from the file
      // on every pass: the same model either way.
      let localRanks =
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }
        ?? communicator.size
      let shareBytes = share.count * stream.columns * MemoryLayout<Float>.stride
      var trained: SoftmaxClassifier
      // (Set again once the share is loaded: the trace times the training.)
      fitStarted = Date()
      if !self.stream && shareBytes <= SoftmaxConfiguration.memoryLimit / (2 * max(1, localRanks)) {
        var loaded: Matrix<Float>? = nil
        var failure: TrainingError? = nil
        do {
          var elements = [Float](repeating: 0, count: share.count * stream.columns)
          try elements.withUnsafeMutableBufferPointer {
            try slice.readRows(0..<share.count, into: $0)
          }
          loaded = Matrix(rows: share.count, columns: stream.columns, elements: elements)
        } catch {
          failure = TrainingError(.unreadableData, "\(error)")
        }
        try communicator.agree(failure)
        fitStarted = Date()
        trained = try SoftmaxClassifier.fit(
          distributed: loaded ?? Matrix(rows: 0, columns: stream.columns, elements: []),
          labels: shareLabels, classes: encoding.classes, communicator: communicator,
          options: options, resumingFrom: resumingFrom, checkpoints: checkpoint != nil,
          progress: progress)
      } else {
        trained = try SoftmaxClassifier.fit(
          distributed: slice, labels: shareLabels, classes: encoding.classes,
          communicator: communicator, options: options, resumingFrom: resumingFrom,
          checkpoints: checkpoint != nil, progress: progress)
      }
      if rank == 0 {
        trained.input = InputDescription(format: DataFormat.npy.rawValue)
        try AtomicFile.write(ModelFile.encode(trained), to: model)
      }
      let record = trained.training
      say(
        "\(record?.iterations ?? 0) iterations, \(record?.converged == true ? "converged" : "not converged") (\(record.map { "\($0.stopReason)" } ?? "")), objective \(record?.objective ?? .nan), \(String(format: "%.2f", Date().timeIntervalSince(started))) s"
      )
      say("model written to \(model)")
      if json && rank == 0 {
        let iterations = trace.map {
          "{\"seconds\": \($0.seconds), \"objective\": \($0.objective), \"evaluations\": \($0.evaluations)}"
        }
        print(
          "{\"ranks\": \(communicator.size), \"threads\": \(SoftmaxConfiguration.threadCount), \"iterations\": \(record?.iterations ?? 0), \"evaluations\": \(record?.evaluations ?? 0), \"objective\": \(record?.objective ?? .nan), \"seconds\": \(Date().timeIntervalSince(started)), \"loading_seconds\": \(fitStarted.timeIntervalSince(started)), \"trace\": [\(iterations.joined(separator: ", "))]}"
        )
      }
      return 0
    } catch {
      // Every rank prints its own error: the failing rank's names the
      // cause, the others name the failing rank.
      FileHandle.standardError.write(Data("softmax-mpi: rank \(rank): \(error)\n".utf8))
      return 1
    }
  }
}
