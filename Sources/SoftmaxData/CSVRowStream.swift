//===--- CSVRowStream.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The feature rows of a CSV file, parsed again on every pass a chunk at a
/// time: training on delimited text larger than memory, without
/// converting it first.
///
/// Making the stream reads the file once (``CSVReader/forEachChunk(_:options:chunkRows:as:beforeFirstChunk:_:)``'s
/// first pass): the delimiter, the header, the rows and the labels, which
/// it keeps. Each pass then parses the file with those settings, as
/// ``CSVReader`` reads it — the same values — holding a chunk. A pass costs
/// a parse of the file: converting it to `.npy` once (`softmax convert`) is
/// faster when there are many passes.
///
/// Random access is not available (``readRows(_:into:)`` throws): a text
/// file is read front to back; minibatch training needs an `.npy` file.
public struct CSVRowStream<Scalar: SoftmaxScalar>: RowStream {
  /// The file.
  public let path: String
  /// What the first pass found: rows, columns, labels, names, report.
  public let table: CSVReader.ChunkedTable
  /// The options every pass reads with.
  private let settings: CSVOptions
  /// What the file was when the stream was made.
  private let identity: FileIdentity

  /// `n`.
  public var rows: Int { table.rows }
  /// `d`.
  public var columns: Int { table.columns }

  /// Reads the file once for its shape and labels.
  ///
  /// - Throws: ``DataError`` as ``CSVReader/read(_:options:as:)``;
  ///   `.unsupported` for ``MissingValuePolicy/mean`` without given fill
  ///   values.
  public init(path: String, options: CSVOptions = CSVOptions(), as _: Scalar.Type = Scalar.self)
    throws(DataError)
  {
    if options.missingValues == .mean && options.fillValues == nil {
      throw DataError(
        .unsupported, path: path,
        "--missing mean needs every row before it can fill one: read the file whole, or use zero or skip"
      )
    }
    let identity = try FileIdentity(path: path)
    (table, settings) = try CSVReader.survey(
      path, options: options, isFloat: Scalar.self == Float.self)
    guard try FileIdentity(path: path) == identity else {
      throw DataError(.io, path: path, "the file changed while it was read")
    }
    self.identity = identity
    self.path = path
  }

  /// Parses the file, handing its rows on in chunks of exactly
  /// `chunkRows` (the last one fewer).
  ///
  /// - Throws: ``DataError`` as ``CSVReader/read(_:options:as:)``, `.io`
  ///   when the file has changed since the stream was made; what `body`
  ///   throws.
  public func forEachChunk(
    rows chunkRows: Int,
    _ body: (_ firstRow: Int, _ elements: UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    guard try FileIdentity(path: path) == identity else {
      throw DataError(
        .io, path: path,
        "the file changed while training read it (its size, inode or modification time): "
          + "every pass must read the same rows")
    }
    let d = columns
    var chunk = [Scalar](repeating: 0, count: chunkRows * d)
    var held = 0
    var first = 0
    var failure: (any Error)? = nil
    func hand() throws {
      try chunk.withUnsafeBufferPointer { all in
        try body(first, UnsafeBufferPointer(rebasing: all[0..<(held * d)]))
      }
      first += held
      held = 0
    }
    try CSVReader.readSettled(
      path, settings: settings, table: table, chunkRows: chunkRows, as: Scalar.self
    ) { _, features throws(DataError) in
      guard failure == nil else { return }
      var taken = 0
      while taken < features.rows {
        let count = min(chunkRows - held, features.rows - taken)
        features.elements.withUnsafeBufferPointer { values in
          chunk.withUnsafeMutableBufferPointer { target in
            guard let from = values.baseAddress, let to = target.baseAddress else { return }
            (to + held * d).update(from: from + taken * d, count: count * d)
          }
        }
        held += count
        taken += count
        if held == chunkRows {
          do { try hand() } catch {
            failure = error
            return
          }
        }
      }
    }
    if let failure { throw failure }
    if held > 0 { try hand() }
  }

  /// Not available: a text file is read front to back.
  ///
  /// - Throws: ``DataError`` `.unsupported`, always.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>)
    throws
  {
    throw DataError(
      .unsupported, path: path,
      "reading rows at random needs a binary file: convert it to .npy (softmax convert), or train with L-BFGS or gradient descent"
    )
  }
}
