//===--- LIBSVMRowStream.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The rows of a LIBSVM / svmlight file, parsed again on every pass a
/// chunk at a time, as sparse rows: training on sparse text larger than
/// memory (`SparseRowStream`), memory proportional to a chunk's entries.
///
/// Making the stream reads the file once, as ``LIBSVMReader`` reads it,
/// with the same checks and errors, keeping only the labels: the rows, the
/// stored entries, the index base (detected as the reader detects it) and
/// the feature count. Each pass then parses the file again and hands on
/// chunks of the same entries ``LIBSVMReader/readSparse(_:options:as:)``
/// gives, holding one chunk. Compressed files (gzip, bzip2, xz) are read
/// as they come, decompressed on every pass.
///
/// A pass costs a parse of the file. A file that changes between passes
/// (its size, inode or modification time) is an error naming it.
public struct LIBSVMRowStream<Scalar: SoftmaxScalar>: SparseRowStream {
  /// The file.
  public let path: String
  /// The label of every row, as ``LIBSVMReader`` writes them.
  public let labels: [String]
  /// What a read of the file reports (index base, entries left out).
  public let report: LoadReport
  /// `n`.
  public let rows: Int
  /// The stored entries (after any left out).
  public let nonZeroCount: Int

  /// The options every pass reads with (the base settled).
  private let options: LIBSVMOptions
  private let layout: LIBSVMReader.Layout
  /// What the file was when the stream was made.
  private let identity: FileIdentity

  /// `d`: the given feature count, or the largest index's.
  public var columns: Int { layout.featureCount }

  /// Reads the file once for its shape and labels.
  ///
  /// - Throws: ``DataError`` as ``LIBSVMReader/readSparse(_:options:as:)``,
  ///   with the line and column of the first problem; `.io` when the file
  ///   changes while it is read.
  public init(
    path: String, options: LIBSVMOptions = LIBSVMOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) {
    let identity = try FileIdentity(path: path)
    let (scan, labels) = try LIBSVMReader.scan(
      path, options: options, as: Scalar.self, chunkRows: 4096, keepsLabels: true
    ) { _, _, _ throws(DataError) in }
    let layout = try LIBSVMReader.layout(of: scan, path: path, options: options)
    guard try FileIdentity(path: path) == identity else {
      throw DataError(.io, path: path, "the file changed while it was read")
    }
    var settled = options
    settled.zeroBased = layout.zeroBased
    self.path = path
    self.labels = labels
    self.report = layout.report
    self.rows = scan.rows
    self.nonZeroCount = scan.entries - layout.dropped
    self.options = settled
    self.layout = layout
    self.identity = identity
  }

  /// Parses the file, handing its rows on in chunks of exactly
  /// `chunkRows` (the last one fewer), each the rows
  /// ``LIBSVMReader/readSparse(_:options:as:)`` reads.
  ///
  /// - Throws: ``DataError`` as the reader, `.io` when the file has
  ///   changed since the stream was made; what `body` throws.
  public func forEachChunk(
    rows chunkRows: Int, _ body: (_ firstRow: Int, _ chunk: SparseMatrix<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    func changed() -> DataError {
      DataError(
        .io, path: path,
        "the file changed while training read it (its size, inode or modification time): "
          + "every pass must read the same rows")
    }
    guard try FileIdentity(path: path) == identity else { throw changed() }
    var first = 0
    var failure: (any Error)? = nil
    let layout = self.layout
    let (scan, _) = try LIBSVMReader.scan(
      path, options: options, as: Scalar.self, chunkRows: chunkRows, keepsLabels: false
    ) { rowStarts, indices, entries throws(DataError) in
      guard failure == nil else { return }
      let chunk = layout.settle(rowStarts: &rowStarts, indices: &indices, entries: &entries)
      // Only a file changed during the pass can differ from the first
      // read: its indices must still be in range for the kernels.
      let d = Int32(truncatingIfNeeded: layout.featureCount)
      guard !chunk.columnIndices.contains(where: { $0 < 0 || $0 >= d }) else {
        failure = changed()
        return
      }
      do { try body(first, chunk) } catch { failure = error }
      first += chunk.rows
    }
    if let failure { throw failure }
    guard scan.rows == rows, scan.entries - layout.dropped == nonZeroCount else { throw changed() }
  }

  /// Not available: a text file is read front to back.
  ///
  /// - Throws: ``DataError`` `.unsupported`, always.
  public func readRows(_ rows: Range<Int>) throws -> SparseMatrix<Scalar> {
    throw DataError(
      .unsupported, path: path,
      "reading rows at random needs a binary file: convert it to .npz (softmax convert), or train with L-BFGS or gradient descent"
    )
  }
}
