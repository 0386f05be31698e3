//===--- DistributedFit.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

extension SoftmaxClassifier {
  /// The rows a member's share is made of: superblocks of 4096 rows (16
  /// of the objective's blocks of 256), whose sums are the same on any
  /// member.
  public static var distributedShareRows: Int { 4096 }

  /// The rows of `n` that member `rank` of `size` trains on: whole
  /// superblocks of ``distributedShareRows`` rows, split as evenly as they
  /// allow, in order (rank 0 first). With fewer superblocks than members,
  /// some members get none: they take part all the same, with no rows.
  ///
  /// - Precondition: `n ≥ 0`, `size ≥ 1`, `rank` in `0..<size`.
  public static func distributedShare(rows n: Int, rank: Int, size: Int) -> Range<Int> {
    precondition(n >= 0 && size >= 1 && rank >= 0 && rank < size, "a rank of a group")
    let unit = distributedShareRows
    let blocks = (n + unit - 1) / unit
    let first = blocks * rank / size
    let last = blocks * (rank + 1) / size
    return min(n, first * unit)..<min(n, last * unit)
  }

  /// Trains softmax regression on rows split between the members of
  /// `communicator` (processes under MPI, each with its share of a file):
  /// every member calls it with its rows and labels, and every member
  /// returns the same model, bit for bit, whatever the number of members
  /// and the thread counts.
  ///
  /// Each evaluation, every member computes its rows' sums and the members
  /// all-reduce them, exactly (``Communicator``); every member then takes
  /// the same solver step (the solver's state is replicated, nothing else
  /// is sent). The sums are exact sums of each superblock's sums rounded
  /// onto a fixed grid 160 bits below a bound, not the left fold of the
  /// single-process `fit`: the model is within rounding of that one, not
  /// the same bits.
  ///
  /// SGD and Adam take the same steps on every member: each minibatch is
  /// cut from one order of the data's rows (the seed's shuffle, the same
  /// on every member), each member sums its rows of the batch by
  /// superblock, and one exact all-reduce gives every member the batch's
  /// gradient. Early stopping holds out rows drawn without stratification
  /// (no member knows every label). The model is the same bits for any
  /// number of members; it is not the single-process model's bits.
  ///
  /// Sent per evaluation (a full pass, or a minibatch step):
  /// `6·(k·(d + 1) + 1)` 64-bit integers (an all-reduce); setup takes a
  /// few more all-reduces of `d` values.
  ///
  /// - Parameters:
  ///   - rows: this member's rows: whole superblocks of 4096 of the data's
  ///     rows (``distributedShare(rows:rank:size:)``; the member with the
  ///     data's last rows may end with a part of one), or none.
  ///   - labels: their class indices into `classes`.
  ///   - classes: the class names, the same on every member.
  ///   - communicator: the members.
  ///   - featureNames: `d` names, or `nil`.
  ///   - options: L-BFGS, gradient descent, SGD or Adam, regularization
  ///     (`l1` too), standardization, class weights, stopping rules (early
  ///     stopping too); no validation split, no sample weights, no hidden
  ///     layers.
  ///   - chunkBytes: the bytes of a chunk of rows read at once.
  ///   - checkpoint: a checkpoint of an earlier run on the same data and
  ///     options, with any number of members, to go on from: the model that
  ///     run would have given, bit for bit.
  ///   - checkpoints: whether every report carries a checkpoint (one
  ///     collective pass fingerprints the data).
  ///   - progress: called after every iteration on every member; return
  ///     `false` to stop (every member must return the same).
  /// - Throws: ``TrainingError``: bad options or data, the same on every
  ///   member (a member with a bad value throws its message, the others
  ///   one naming its rank); ``TrainingError/Code/unreadableData`` when a
  ///   member cannot read its rows or a collective operation fails.
  public static func fit<Rows: RowStream>(
    distributed rows: Rows, labels: [Int], classes: [String], communicator: some Communicator,
    featureNames: [String]? = nil, options: TrainingOptions = TrainingOptions(),
    chunkBytes: Int = 8 << 20, resumingFrom checkpoint: TrainingCheckpoint? = nil,
    checkpoints: Bool = false, progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    if options.hidden != nil || options.heldOutFraction != nil {
      throw TrainingError(
        .invalidOption,
        "distributed training takes no hidden layers and no validation split (SGD and Adam take early stopping)"
      )
    }
    // Shapes, checked together: no member may stop alone.
    var problem: TrainingError? = nil
    if labels.count != rows.rows {
      problem = TrainingError(
        .shapeMismatch,
        "rank \(communicator.rank): \(labels.count) labels for \(rows.rows) rows")
    }
    try communicator.agree(problem)
    let unit = distributedShareRows
    var shape = [Double(rows.columns), -Double(rows.columns)]
    var partial = [Int64(rows.rows), rows.rows % unit == 0 ? 0 : 1]
    do {
      try communicator.allReduceMax(&shape)
      try communicator.allReduceSum(&partial)
    } catch {
      throw TrainingError(
        .unreadableData, "rank \(communicator.rank): a collective operation failed: \(error)")
    }
    guard shape[0] == -shape[1] else {
      throw TrainingError(
        .shapeMismatch,
        "the members' rows have from \(Int(-shape[1])) to \(Int(shape[0])) features")
    }
    guard partial[1] <= 1 else {
      throw TrainingError(
        .shapeMismatch,
        "\(partial[1]) members hold a part of a superblock of \(unit) rows: give each whole superblocks (SoftmaxClassifier.distributedShare)"
      )
    }
    let totalRows = Int(partial[0])
    guard totalRows > 0 else { throw TrainingError(.emptyData, "no member has rows") }
    // Each member's first row in the data: the rows of the members before
    // it (rank order).
    var counts = [Int64](repeating: 0, count: communicator.size)
    counts[communicator.rank] = Int64(rows.rows)
    do {
      try communicator.allReduceSum(&counts)
    } catch {
      throw TrainingError(
        .unreadableData, "rank \(communicator.rank): a collective operation failed: \(error)")
    }
    let firstRow = Int(counts[0..<communicator.rank].reduce(0, +))
    var trainingOptions = options
    if case .balanced = options.classWeighting {
      // The class counts of every member: n / (k·count_c).
      var counts = [Int64](repeating: 0, count: classes.count)
      for label in labels where label >= 0 && label < classes.count { counts[label] += 1 }
      do {
        try communicator.allReduceSum(&counts)
      } catch {
        throw TrainingError(
          .unreadableData, "rank \(communicator.rank): a collective operation failed: \(error)")
      }
      trainingOptions.classWeighting = .custom(
        counts.map { $0 > 0 ? Double(totalRows) / (Double(classes.count) * Double($0)) : 0 })
    }
    let features = DistributedFeatures(
      local: StreamedFeatures(
        source: rows,
        chunkRows: StreamedFeatures<Rows>.chunkRows(columns: rows.columns, chunkBytes: chunkBytes)),
      communicator: communicator, totalRows: totalRows, firstRow: firstRow)
    var model = try fitting(
      features, labels: labels, classes: classes, sampleWeights: nil, featureNames: featureNames,
      options: trainingOptions, warmStart: nil, resumingFrom: checkpoint,
      checkpoints: checkpoints, progress: progress)
    model.training?.options = options
    return model
  }
}
