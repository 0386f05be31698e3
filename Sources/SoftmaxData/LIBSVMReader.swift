//===--- LIBSVMReader.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a LIBSVM / svmlight file.
public struct LIBSVMOptions: Sendable, Hashable {
  /// Whether feature indices start at 0; `nil` detects it as
  /// scikit-learn's `zero_based="auto"`: 0-based when some index is 0,
  /// 1-based otherwise.
  public var zeroBased: Bool? = nil
  /// The number of features; `nil` takes the largest index seen. Give a
  /// model's feature count to read data for it: rows whose largest index
  /// is lower are normal (their other features are 0), and an index
  /// beyond it is an error, or dropped under ``ignoresUnknownFeatures``.
  public var featureCount: Int? = nil
  /// With a ``featureCount``: leave out the entries whose index is beyond
  /// it (features the model never saw, which it would weigh 0), counted in
  /// the load report's notes, instead of stopping with an error.
  public var ignoresUnknownFeatures = false

  /// Detect the index base; as many features as the largest index.
  public init() {}
}

/// Reads LIBSVM / svmlight sparse text: into a ``SparseDataSet`` (memory
/// proportional to the stored entries) or a dense ``DataSet``.
///
/// Each line is `label index:value index:value ... [# comment]`;
/// `qid:n` pairs are skipped, blank lines and `#` lines too. Indices must
/// be ascending within a line (as scikit-learn requires) and below 2³¹.
/// Integer-valued labels are written canonically (`+1` and `1.0` are both
/// `"1"`), so that they sort as numbers.
///
/// Cost: one streaming pass, O(file size); the entries take 12 bytes each
/// as `Float`, 16 as `Double`. Densifying costs O(n·d), and the dense
/// matrix may hold at most ``maximumDenseValues(fileSize:)`` values, so
/// that a large index in a small file is an error rather than a large
/// allocation.
public enum LIBSVMReader {
  /// Reads the file at `path` into a dense data set.
  ///
  /// - Throws: ``DataError`` with the line and column of the first
  ///   problem: a pair without `:`, an index that is not a non-negative
  ///   integer below 2³¹, out of order, repeated, or beyond `featureCount`,
  ///   a value that is not a finite number, a line with no label, no data
  ///   rows; or a dense matrix beyond ``maximumDenseValues(fileSize:)``.
  public static func read<Scalar: SoftmaxScalar>(
    _ path: String, options: LIBSVMOptions = LIBSVMOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    let parsed = try parse(path, options: options, as: Scalar.self)
    return try parsed.dense(path: path)
  }

  /// Reads the file at `path` into a sparse data set, without densifying.
  ///
  /// - Throws: ``DataError`` as ``read(_:options:as:)``, but for the
  ///   dense size.
  public static func readSparse<Scalar: SoftmaxScalar>(
    _ path: String, options: LIBSVMOptions = LIBSVMOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> SparseDataSet<Scalar> {
    try parse(path, options: options, as: Scalar.self).data
  }

  /// A file read: its sparse data, and where its largest index is (for a
  /// dense matrix too large).
  struct Parsed<Scalar: SoftmaxScalar> {
    var data: SparseDataSet<Scalar>
    var largestIndex: Int
    var largestAt: (line: Int, column: Int)
    var fileSize: Int

    /// The dense form, if its size is allowed for the file's.
    func dense(path: String) throws(DataError) -> DataSet<Scalar> {
      let n = data.count
      let d = data.featureCount
      let (dense, overflow) = n.multipliedReportingOverflow(by: d)
      let allowed = LIBSVMReader.maximumDenseValues(fileSize: fileSize)
      guard !overflow, dense <= allowed else {
        throw DataError(
          .unsupported, path: path, line: largestAt.line, column: largestAt.column,
          "feature index \(largestIndex) makes the dense matrix \(n) × \(d) = \(overflow ? "more than Int.max" : String(dense)) values, more than the \(allowed) allowed for a \(fileSize)-byte file: too sparse to read as a dense matrix (read it sparse)"
        )
      }
      return DataSet(
        features: data.features.dense(), labels: data.labels, featureNames: nil,
        report: data.report)
    }
  }

  /// What a pass over a file found beside its entries: the base and the
  /// feature count follow from it.
  struct Scan {
    var rows = 0
    var entries = 0
    var largest = -1
    var largestAt = (line: 0, column: 0)
    // The first index beyond a given feature count: above it (beyond in
    // either base), and at it (beyond when 0-based); and how many.
    var firstAbove: (index: Int, line: Int, column: Int)? = nil
    var firstAtOrAbove: (index: Int, line: Int, column: Int)? = nil
    var aboveCount = 0
    var atOrAboveCount = 0
    var sawZero = false
    var firstZero = (line: 0, column: 0)
    var fileSize = 0
  }

  /// How the entries of a scanned file are stored: the index base, the
  /// feature count, and how many entries beyond it are left out.
  struct Layout {
    var zeroBased: Bool
    var featureCount: Int
    var dropped: Int

    /// The load report of a file read with this layout.
    var report: LoadReport {
      var report = LoadReport()
      report.zeroBasedIndices = zeroBased
      if dropped > 0 {
        report.notes.append(
          "left out \(dropped) \(dropped == 1 ? "entry" : "entries") of features beyond the \(featureCount) the model knows"
        )
      }
      return report
    }

    /// Rows as scanned (`rowStarts`, indices as written) stored with this
    /// layout: entries beyond the features left out (the scan allowed
    /// it), indices made 0-based.
    func settle<Scalar>(
      rowStarts: inout [Int], indices: inout [Int32], entries: inout [Scalar]
    ) -> SparseMatrix<Scalar> {
      let offset = zeroBased ? 0 : 1
      let d = featureCount
      if dropped > 0 {
        // Leave out the entries beyond the features, compacting in place.
        var kept = 0
        var row = 0
        var newStarts = [0]
        newStarts.reserveCapacity(rowStarts.count)
        for entry in 0..<indices.count {
          while entry == rowStarts[row + 1] {
            newStarts.append(kept)
            row += 1
          }
          if Int(indices[entry]) - offset < d {
            indices[kept] = indices[entry]
            entries[kept] = entries[entry]
            kept += 1
          }
        }
        while newStarts.count < rowStarts.count { newStarts.append(kept) }
        indices.removeLast(indices.count - kept)
        entries.removeLast(entries.count - kept)
        rowStarts = newStarts
      }
      if offset != 0 {
        indices.withUnsafeMutableBufferPointer { indices in
          for entry in 0..<indices.count { indices[entry] -= 1 }
        }
      }
      return SparseMatrix(
        unchecked: rowStarts.count - 1, columns: d, rowOffsets: rowStarts,
        columnIndices: indices, values: entries)
    }
  }

  static func parse<Scalar: SoftmaxScalar>(
    _ path: String, options: LIBSVMOptions, as _: Scalar.Type
  ) throws(DataError) -> Parsed<Scalar> {
    var rowStarts: [Int] = []
    var indices: [Int32] = []
    var entries: [Scalar] = []
    let (scan, labels) = try self.scan(
      path, options: options, as: Scalar.self, chunkRows: nil, keepsLabels: true
    ) { starts, columns, values throws(DataError) in
      swap(&rowStarts, &starts)
      swap(&indices, &columns)
      swap(&entries, &values)
    }
    let layout = try self.layout(of: scan, path: path, options: options)
    let features = layout.settle(rowStarts: &rowStarts, indices: &indices, entries: &entries)
    return Parsed(
      data: SparseDataSet(features: features, labels: labels, report: layout.report),
      largestIndex: scan.largest, largestAt: scan.largestAt, fileSize: scan.fileSize)
  }

  /// The index base and the feature count of a scanned file.
  ///
  /// - Throws: ``DataError`` for a file without rows, an index 0 in a file
  ///   read as 1-based, too many features, or an index beyond the given
  ///   feature count (unless ``LIBSVMOptions/ignoresUnknownFeatures``).
  static func layout(of scan: Scan, path: String, options: LIBSVMOptions) throws(DataError)
    -> Layout
  {
    guard scan.rows > 0 else { throw DataError(.empty, path: path, "the file has no data rows") }
    let zeroBased = options.zeroBased ?? scan.sawZero
    if !zeroBased && scan.sawZero {
      throw DataError(
        .malformed, path: path, line: scan.firstZero.line, column: scan.firstZero.column,
        "index 0 in a file read as 1-based (as --no-zero-based, or the model's training file, says)"
      )
    }
    let offset = zeroBased ? 0 : 1
    let d = options.featureCount ?? max(scan.largest + 1 - offset, 0)
    guard d <= SparseMatrix<Double>.maximumColumns else {
      throw DataError(
        .unsupported, path: path, line: scan.largestAt.line, column: scan.largestAt.column,
        "\(d) features: more than the \(SparseMatrix<Double>.maximumColumns) this reader takes")
    }
    var dropped = 0
    if scan.largest - offset >= d {
      guard options.featureCount != nil, options.ignoresUnknownFeatures else {
        let first =
          (zeroBased ? scan.firstAtOrAbove : scan.firstAbove)
          ?? (scan.largest, scan.largestAt.line, scan.largestAt.column)
        throw DataError(
          .shapeMismatch, path: path, line: first.line, column: first.column,
          "feature index \(first.index) is beyond the \(d) features expected"
            + (options.featureCount == nil
              ? "" : " (the model's; --ignore-unknown-features leaves such entries out)"))
      }
      dropped = zeroBased ? scan.atOrAboveCount : scan.aboveCount
    }
    return Layout(zeroBased: zeroBased, featureCount: d, dropped: dropped)
  }

  /// Reads the file front to back, checking every line, and hands its rows
  /// to `emit` as scanned (row starts, indices as written, values; `emit`
  /// may take the arrays): every `chunkRows` rows and once more for the
  /// rest, or all at once when `chunkRows` is `nil`. The labels are kept
  /// when `keepsLabels`.
  ///
  /// A window's complete lines are read by all threads
  /// (``LIBSVMLines/parseInParallel(_:cuts:appended:)``) when it holds at
  /// least `ChunkedFile.parallelBytes` of them: the same rows, values,
  /// chunks and first error as front to back.
  static func scan<Scalar: SoftmaxScalar>(
    _ path: String, options: LIBSVMOptions, as _: Scalar.Type, chunkRows: Int?,
    keepsLabels: Bool,
    emit: (
      _ rowStarts: inout [Int], _ indices: inout [Int32], _ entries: inout [Scalar]
    ) throws(DataError) -> Void
  ) throws(DataError) -> (Scan, [String]) {
    let file = try ChunkedFile(path: path)
    try file.refill(consumed: 0)
    try file.rejectNULInFirstWindow(format: "LIBSVM")
    // Indices as written (the base is known at the end), values as read.
    var lines = LIBSVMLines<Scalar>(path: path, options: options, keepsLabels: keepsLabels)
    var position = utf8ByteOrderMarkLength(
      UnsafeBufferPointer(start: file.bytes, count: file.count))
    let parallel = SoftmaxConfiguration.threadCount > 1
    while true {
      if position >= file.count {
        if file.atEnd { break }
        try file.refill(consumed: position)
        position = 0
        continue
      }
      let base = UnsafePointer(file.bytes)
      if parallel, file.count - position >= ChunkedFile.parallelBytes {
        let end = file.endOfCompleteLines(from: position)
        if end - position >= ChunkedFile.parallelBytes {
          let cuts = file.cutsAfterLineFeeds(
            from: position, to: end, parts: SoftmaxConfiguration.threadCount)
          try lines.parseInParallel(base, cuts: cuts) { lines throws(DataError) in
            // Chunks of exactly `chunkRows`, as front to back.
            guard let chunkRows else { return }
            while lines.rowStarts.count > chunkRows {
              try lines.handOnFirst(chunkRows, to: emit)
            }
          }
          position = end
          continue
        }
      }
      let remaining = file.count - position
      guard let found = memchr(file.bytes + position, Int32(UInt8(ascii: "\n")), remaining) else {
        if !file.atEnd {
          try file.refill(consumed: position)
          position = 0
          continue
        }
        lines.line += 1
        try lines.parseLine(base, position, file.count)
        position = file.count
        continue
      }
      let end = UnsafeMutableRawPointer(found).assumingMemoryBound(to: UInt8.self) - file.bytes
      lines.line += 1
      try lines.parseLine(base, position, end)
      position = end + 1
      if let chunkRows, lines.rowStarts.count > chunkRows {
        try lines.handOn(to: emit, keepingCapacity: true)
      }
    }
    if lines.rowStarts.count > 1 || chunkRows == nil {
      try lines.handOn(to: emit, keepingCapacity: chunkRows != nil)
    }
    var scan = lines.scan
    scan.fileSize = file.bytesRead
    return (scan, lines.labels)
  }

  /// The density (stored entries over rows × features) from which
  /// ``DataLayout/automatic`` stores a LIBSVM file dense: below it, the
  /// sparse objective's gradient is faster than the dense one's. Measured
  /// (`swift build -c release --package-path Benchmarks --product
  /// sparse-timing`, then `sparse-timing --density-sweep`; 20,000 × 1,000,
  /// 10 classes, 2 threads): in `Float`, whose dense gradient runs on the
  /// SIMD kernels, the two cross at 5% (sparse 0.38× dense's time at 1%,
  /// 1.67× at 10%); in `Double` at about 85% (sparse 0.56× at 50%, 1.08×
  /// at 90%). Sparse `Double` entries also take less memory than a dense
  /// matrix below 67%.
  public static func denseDensityThreshold(float: Bool) -> Double { float ? 0.05 : 0.85 }

  /// The most values a file of `fileSize` bytes may densify to:
  /// 256 per byte, and at least 2^24 (128 MiB of `Double`s).
  ///
  /// A sparse file's dense size is rows × (largest index + 1), a number
  /// written in the file rather than its length: one 20-byte line
  /// `1 4000000000:1` would otherwise ask for 32 GB. Real sparse data sets
  /// stay well inside (rcv1: about 73 values per byte; MNIST: under 1).
  public static func maximumDenseValues(fileSize: Int) -> Int {
    let (scaled, overflow) = fileSize.multipliedReportingOverflow(by: 256)
    return overflow ? Int.max : max(scaled, 1 << 24)
  }

  /// `+1`, `1.0`, `1e0` → `"1"`; other labels as written.
  static func canonicalLabel(_ text: String) -> String {
    guard case .number(let value) = NumberParser.parse(text), value.isFinite,
      value == value.rounded(), abs(value) < 9e15
    else { return text }
    return String(Int(value))
  }
}
