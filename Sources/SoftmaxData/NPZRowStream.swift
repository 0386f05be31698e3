//===--- NPZRowStream.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The rows of a SciPy sparse matrix saved as `.npz` (CSR, by
/// `scipy.sparse.save_npz`, compressed or not), read a chunk of rows at a
/// time: sparse data larger than memory in the binary form its users
/// already have, without parsing text on every pass (`SparseRowStream`).
///
/// Making the stream reads the archive's directory, its `format` (`csr`;
/// a CSC matrix is refused, naming `X.tocsr()`), `shape` and the row
/// offsets (`indptr`, 8 bytes a row, kept and checked), and the headers of
/// `indices` and `data`. Each pass reads `indices` and `data` front to back
/// in step (stored members in place, deflated ones inflated), a chunk of
/// rows at a time. Indices of any integer type and values of any NumPy
/// number type are converted as ``NPYReader`` converts them; a row whose
/// indices are not sorted is sorted (SciPy allows that); a repeated index
/// or one out of range is an error naming the row.
///
/// ``NPZReader`` reads the same matrix whole. A file that changes between
/// passes (its size, inode or modification time) is an error naming it.
public struct NPZRowStream<Scalar: SoftmaxScalar>: SparseRowStream {
  /// The file.
  public let path: String
  /// `n`.
  public let rows: Int
  /// `d`.
  public let columns: Int
  /// The row offsets (`indptr`): row `r`'s entries are
  /// `rowOffsets[r]..<rowOffsets[r + 1]`.
  public let rowOffsets: [Int]

  /// The stored entries.
  public var nonZeroCount: Int { rowOffsets[rows] }

  /// Whether ``readRows(_:)`` reads rows at random: the archive stores its
  /// arrays uncompressed.
  public var readsRowsAtRandom: Bool { indices.member.method == 0 && values.member.method == 0 }

  private let indices: NPZArray
  private let values: NPZArray
  private let identity: FileIdentity

  /// Reads the archive's directory, shape and row offsets.
  ///
  /// - Throws: ``DataError``: `.malformed` for an archive that is not a
  ///   SciPy sparse matrix or whose arrays disagree (naming the member);
  ///   `.unsupported` for another sparse format or an element type this
  ///   reader does not convert.
  public init(path: String, as _: Scalar.Type = Scalar.self) throws(DataError) {
    let identity = try FileIdentity(path: path)
    let archive = try ZipArchive(path: path)
    func member(_ name: String) throws(DataError) -> ZipArchive.Member {
      guard let member = archive.members[name + ".npy"] else {
        throw DataError(
          .malformed, path: path,
          "no \(name).npy in the archive: not a sparse matrix saved by scipy.sparse.save_npz (it holds \(archive.members.keys.sorted().joined(separator: ", ")))"
        )
      }
      return member
    }
    let format = try NPZArray.text(archive, member("format"))
    guard format == "csr" else {
      throw DataError(
        .unsupported, path: path,
        format == "csc"
          ? "a CSC matrix: save it by rows (scipy.sparse.save_npz(path, X.tocsr()))"
          : "a sparse matrix of format '\(format)': this reader takes CSR (X.tocsr())")
    }
    let shapeArray = try NPZArray(archive, member("shape"))
    guard shapeArray.count == 2 else {
      throw DataError(
        .malformed, path: path,
        "shape.npy holds \(shapeArray.count) values: a sparse matrix has 2 sizes")
    }
    let shape = try shapeArray.integers(0..<2)
    guard shape.count == 2, shape[0] >= 0, shape[1] >= 0,
      shape[1] <= SparseMatrix<Scalar>.maximumColumns
    else {
      throw DataError(
        .malformed, path: path,
        "shape.npy holds \(shape): a sparse matrix has 2 sizes, of at most \(SparseMatrix<Scalar>.maximumColumns) columns"
      )
    }
    let n = shape[0]
    let offsetArray = try NPZArray(archive, member("indptr"))
    guard offsetArray.count == n + 1 else {
      throw DataError(
        .malformed, path: path, "indptr.npy holds \(offsetArray.count) offsets for \(n) rows")
    }
    // The offsets are kept (8 bytes a row): a claim beyond the memory
    // limit (a deflated member may claim any size) is refused before
    // anything is allocated.
    let (offsetBytes, overflow) = (n + 1).multipliedReportingOverflow(by: 8)
    guard !overflow, offsetBytes <= SoftmaxConfiguration.memoryLimit / 2 else {
      throw DataError(
        .unsupported, path: path,
        "indptr.npy holds \(n + 1) offsets: kept in memory they take more than half of the memory limit (\(SoftmaxConfiguration.memoryLimit) bytes)"
      )
    }
    let offsets = try offsetArray.integers(0..<(n + 1))
    let indices = try NPZArray(archive, member("indices"))
    let values = try NPZArray(archive, member("data"))
    guard indices.layout.kind != .float else {
      throw DataError(
        .unsupported, path: path, "indices.npy holds \(indices.layout.typeName), not integers")
    }
    let entries = offsets[n]
    guard offsets[0] == 0, indices.count == entries, values.count == entries else {
      throw DataError(
        .malformed, path: path,
        "indptr.npy runs from \(offsets[0]) to \(entries); indices.npy holds \(indices.count) entries and data.npy \(values.count)"
      )
    }
    if let row = (0..<n).first(where: { offsets[$0] > offsets[$0 + 1] }) {
      throw DataError(
        .malformed, path: path,
        "indptr.npy decreases at row \(row) (\(offsets[row]) then \(offsets[row + 1]))")
    }
    self.path = path
    self.rows = n
    self.columns = shape[1]
    self.rowOffsets = offsets
    self.indices = indices
    self.values = values
    self.identity = identity
  }

  /// Reads the entries, handing the rows on in chunks of exactly
  /// `chunkRows` (the last one fewer).
  ///
  /// - Throws: ``DataError`` naming the row of an index out of range or
  ///   repeated, or a value that is not finite; `.io` when the file has
  ///   changed since the stream was made; what `body` throws.
  public func forEachChunk(
    rows chunkRows: Int, _ body: (_ firstRow: Int, _ chunk: SparseMatrix<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    guard try FileIdentity(path: path) == identity else {
      throw DataError(
        .io, path: path,
        "the file changed while training read it (its size, inode or modification time): "
          + "every pass must read the same rows")
    }
    let indexReader = try indices.reader()
    let valueReader = try values.reader()
    var first = 0
    var indexBytes: [UInt8] = []
    var valueBytes: [UInt8] = []
    while first < rows {
      let end = min(rows, first + chunkRows)
      let count = rowOffsets[end] - rowOffsets[first]
      try checkChunk(entries: count, rows: first..<end)
      try indices.fill(&indexBytes, count: count, from: indexReader)
      try values.fill(&valueBytes, count: count, from: valueReader)
      try body(first, chunk(first..<end, indexBytes: indexBytes, valueBytes: valueBytes))
      first = end
    }
  }

  /// Rows `rows`, read at their offsets in the archive (its arrays must be
  /// stored, as `save_npz(..., compressed=False)` and `softmax convert`
  /// write them).
  ///
  /// - Throws: ``DataError``: `.unsupported` for deflated arrays (read
  ///   front to back only), as ``forEachChunk(rows:_:)`` for bad entries,
  ///   `.io` when the file has changed.
  public func readRows(_ range: Range<Int>) throws -> SparseMatrix<Scalar> {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows out of range")
    guard indices.member.method == 0, values.member.method == 0 else {
      throw DataError(
        .unsupported, path: path,
        "reading rows at random needs the arrays stored: this archive is compressed; save it with scipy.sparse.save_npz(..., compressed=False) or softmax convert, or train with L-BFGS or gradient descent"
      )
    }
    guard try FileIdentity(path: path) == identity else {
      throw DataError(
        .io, path: path,
        "the file changed while training read it (its size, inode or modification time): "
          + "every pass must read the same rows")
    }
    let file = try ZipFile(path: path)
    let begin = rowOffsets[range.lowerBound]
    let count = rowOffsets[range.upperBound] - begin
    try checkChunk(entries: count, rows: range)
    func bytes(_ array: NPZArray) throws(DataError) -> [UInt8] {
      let size = array.layout.elementSize
      return try file.bytes(
        at: array.member.dataOffset + array.layout.dataOffset + begin * size, count: count * size)
    }
    return try chunk(range, indexBytes: bytes(indices), valueBytes: bytes(values))
  }

  /// Throws when a chunk's `entries` (a few rows may claim billions) need
  /// more than half of the memory limit, with their raw bytes.
  private func checkChunk(entries: Int, rows range: Range<Int>) throws(DataError) {
    let perEntry =
      indices.layout.elementSize + values.layout.elementSize + 4 + MemoryLayout<Scalar>.stride
    let (bytes, overflow) = entries.multipliedReportingOverflow(by: perEntry)
    guard !overflow, bytes <= SoftmaxConfiguration.memoryLimit / 2 else {
      throw DataError(
        .unsupported, path: path,
        "rows \(range.lowerBound)..<\(range.upperBound) hold \(entries) entries: more than half of the memory limit (\(SoftmaxConfiguration.memoryLimit) bytes) for one chunk"
      )
    }
  }

  /// Rows `range` from their entries' raw bytes: converted, checked, each
  /// row sorted.
  private func chunk(_ range: Range<Int>, indexBytes: [UInt8], valueBytes: [UInt8])
    throws(DataError) -> SparseMatrix<Scalar>
  {
    let begin = rowOffsets[range.lowerBound]
    let count = rowOffsets[range.upperBound] - begin
    var columnIndices = indices.columns(indexBytes, count: count)
    if let bad = firstOutOfRange(columnIndices, below: columns) {
      throw DataError(
        .malformed, path: path,
        "indices.npy: row \(row(ofEntry: begin + bad)) has index \(columnIndices[bad]), out of 0..<\(columns)"
      )
    }
    var entries: [Scalar] = values.values(valueBytes, count: count)
    let offsets = rowOffsets[range.lowerBound...range.upperBound].map { $0 - begin }
    if let bad = firstNonFinite(entries) {
      throw DataError(
        .notANumber, path: path,
        "data.npy: row \(row(ofEntry: begin + bad)), column \(columnIndices[bad]): \(entries[bad]) is not a finite number"
      )
    }
    for r in unsortedRows(columnIndices, offsets: offsets) {
      try canonicalize(
        row: range.lowerBound + r, offsets[r]..<offsets[r + 1], &columnIndices, &entries)
    }
    return SparseMatrix(
      unchecked: range.count, columns: columns, rowOffsets: offsets,
      columnIndices: columnIndices, values: entries)
  }

  /// The row holding entry `entry`.
  private func row(ofEntry entry: Int) -> Int {
    var low = 0
    var high = rows
    while low < high {
      let middle = (low + high + 1) / 2
      if rowOffsets[middle] <= entry { low = middle } else { high = middle - 1 }
    }
    return low
  }

  /// Sorts the entries `range` of a row by column (stable: SciPy allows
  /// unsorted indices) and checks that no column repeats.
  private func canonicalize(
    row: Int, _ range: Range<Int>, _ columns: inout [Int32], _ values: inout [Scalar]
  ) throws(DataError) {
    var sorted = true
    for entry in range where entry > range.lowerBound && columns[entry] <= columns[entry - 1] {
      sorted = false
    }
    if sorted { return }
    let order = range.sorted { columns[$0] < columns[$1] }
    let sortedColumns = order.map { columns[$0] }
    let sortedValues = order.map { values[$0] }
    for (offset, entry) in range.enumerated() {
      columns[entry] = sortedColumns[offset]
      values[entry] = sortedValues[offset]
      if offset > 0, sortedColumns[offset] == sortedColumns[offset - 1] {
        throw DataError(
          .malformed, path: path,
          "indices.npy: row \(row) has column \(sortedColumns[offset]) twice (sum the duplicates first: X.sum_duplicates())"
        )
      }
    }
  }
}

/// Reads a SciPy sparse matrix saved as `.npz` whole.
public enum NPZReader {
  /// Reads the CSR matrix at `path` (see ``NPZRowStream``) with the labels
  /// of `labels` (an `.npy` array or one label a line), if given.
  ///
  /// - Throws: ``DataError`` as ``NPZRowStream``, and for a labels file
  ///   with another number of rows.
  public static func readSparse<Scalar: SoftmaxScalar>(
    _ path: String, labels: String? = nil, as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> SparseDataSet<Scalar> {
    let stream = try NPZRowStream(path: path, as: Scalar.self)
    var matrix = SparseMatrix<Scalar>(rows: 0, columns: stream.columns)
    do {
      try stream.forEachChunk(rows: max(stream.rows, 1)) { _, chunk in matrix = chunk }
    } catch let error as DataError {
      throw error
    } catch {
      throw DataError(.io, path: path, "\(error)")
    }
    let labelText = try labels.map { labelsPath throws(DataError) in
      let text = try NPYReader.readLabels(labelsPath)
      guard text.count == stream.rows else {
        throw DataError(
          .labels, path: labelsPath,
          "\(text.count) labels for the \(stream.rows) rows of \(path)")
      }
      return text
    }
    return SparseDataSet(features: matrix, labels: labelText)
  }
}

/// An array member of an `.npz` archive: its NPY header read, its data
/// read front to back.
struct NPZArray {
  /// The archive.
  let path: String
  let member: ZipArchive.Member
  /// The element type and shape (its `bytes` the header, `dataOffset`
  /// where the data starts in the member).
  let layout: NumericArray

  var count: Int { layout.count }

  init(_ archive: ZipArchive, _ member: ZipArchive.Member) throws(DataError) {
    self.path = archive.path
    self.member = member
    var source = MemberHeaderSource(
      reader: try archive.reader(member), path: "\(archive.path) (\(member.name))")
    var layout = try NPYReader.readHeader(&source)
    guard !layout.fortranOrder || layout.shape.count <= 1 else {
      throw DataError(.unsupported, path: archive.path, "\(member.name) is in Fortran order")
    }
    let bytes = try NumericArray.dataSize(
      shape: layout.shape.isEmpty ? [1] : layout.shape, elementSize: layout.elementSize,
      typeName: layout.typeName, path: source.path)
    guard layout.dataOffset + bytes == member.size else {
      throw DataError(
        .malformed, path: archive.path,
        "\(member.name): its shape \(layout.shape) of \(layout.typeName) needs \(bytes) bytes of data; the member has \(member.size - layout.dataOffset)"
      )
    }
    layout.bytes = []
    self.layout = layout
  }

  /// A text array's one string (`format.npy`: bytes or unicode).
  static func text(_ archive: ZipArchive, _ member: ZipArchive.Member) throws(DataError) -> String {
    let reader = try archive.reader(member)
    guard member.size <= 1 << 16 else {
      throw DataError(.malformed, path: archive.path, "\(member.name) is too large for a name")
    }
    var bytes = [UInt8](repeating: 0, count: member.size)
    var failure: DataError? = nil
    bytes.withUnsafeMutableBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      do throws(DataError) { try reader.read(into: base, count: member.size) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    // The header ends at the first line break after the dictionary.
    guard bytes.count > 10, let newline = bytes[10...].firstIndex(of: 0x0A) else {
      throw DataError(.malformed, path: archive.path, "\(member.name) is not an NPY array")
    }
    let header = String(decoding: bytes[10..<newline], as: UTF8.self)
    let data = bytes[(newline + 1)...]
    if header.contains("<U") {
      // UTF-32LE characters.
      var scalars = String.UnicodeScalarView()
      var i = data.startIndex
      while i + 4 <= data.endIndex {
        let value =
          UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16
          | UInt32(data[i + 3]) << 24
        if value != 0, let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        i += 4
      }
      return String(scalars)
    }
    return String(decoding: data.filter { $0 != 0 }, as: UTF8.self)
  }

  /// A reader positioned at the data.
  func reader() throws(DataError) -> ZipMemberReader {
    let reader = try ZipMemberReader(path: path, member: member)
    var skipped = [UInt8](repeating: 0, count: layout.dataOffset)
    var failure: DataError? = nil
    skipped.withUnsafeMutableBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      do throws(DataError) { try reader.read(into: base, count: layout.dataOffset) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return reader
  }

  /// Elements `range` (all of a small array), read whole, as integers.
  func integers(_ range: Range<Int>) throws(DataError) -> [Int] {
    let reader = try self.reader()
    var raw: [UInt8] = []
    if range.lowerBound > 0 { _ = try readIntegers(range.lowerBound, from: reader, into: &raw) }
    return try readIntegers(range.count, from: reader, into: &raw)
  }

  /// The next `count` elements of `reader` as integers (exact for every
  /// integer type but unsigned 64-bit values beyond 2^63).
  func readIntegers(_ count: Int, from reader: ZipMemberReader, into raw: inout [UInt8])
    throws(DataError) -> [Int]
  {
    try fill(&raw, count: count, from: reader)
    let size = layout.elementSize
    if !layout.bigEndian, layout.kind == .signed, size == 4 || size == 8 {
      return raw.withUnsafeBytes { bytes in
        (0..<count).map { i in
          size == 4
            ? Int(bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
            : Int(bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
        }
      }
    }
    var chunk = layout
    chunk.bytes = raw
    chunk.dataOffset = 0
    return (0..<count).map { i in
      let value = chunk.element(i)
      return value.isFinite && abs(value) < 0x1p62 ? Int(value) : -1
    }
  }

  /// `count` elements of `raw` as `Scalar`s, converted as ``NPYReader``
  /// converts them (through `Double`; `Float` rounds once).
  func values<Scalar: SoftmaxScalar>(_ raw: [UInt8], count: Int) -> [Scalar] {
    // Not generic below: unspecialized, a generic loop looks up its
    // type's metadata for every value.
    if Scalar.self == Float.self {
      return unsafeBitCast(floats(raw, count: count), to: [Scalar].self)
    }
    let doubles = self.doubles(raw, count: count)
    if Scalar.self == Double.self { return unsafeBitCast(doubles, to: [Scalar].self) }
    return doubles.map { Scalar($0) }
  }

  /// `count` elements of `raw` as `Float`s (rounded once from `Double`).
  private func floats(_ raw: [UInt8], count: Int) -> [Float] {
    let size = layout.elementSize
    if !layout.bigEndian, layout.kind == .float, size == 4 {
      return [Float](unsafeUninitializedCapacity: count) { out, initialized in
        raw.withUnsafeBytes { bytes in
          for i in 0..<count {
            out[i] = bytes.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
          }
        }
        initialized = count
      }
    }
    return doubles(raw, count: count).map { Float($0) }
  }

  /// `count` elements of `raw` as `Double`s (exact).
  private func doubles(_ raw: [UInt8], count: Int) -> [Double] {
    let size = layout.elementSize
    if !layout.bigEndian, layout.kind == .float, size == 4 || size == 8 {
      return [Double](unsafeUninitializedCapacity: count) { out, initialized in
        raw.withUnsafeBytes { bytes in
          if size == 4 {
            for i in 0..<count {
              out[i] = Double(bytes.loadUnaligned(fromByteOffset: i &* 4, as: Float.self))
            }
          } else {
            for i in 0..<count {
              out[i] = bytes.loadUnaligned(fromByteOffset: i &* 8, as: Double.self)
            }
          }
        }
        initialized = count
      }
    }
    var chunk = layout
    chunk.bytes = raw
    chunk.dataOffset = 0
    return (0..<count).map { chunk.element($0) }
  }

  /// `count` elements of `raw` as column indices: `-1` for one outside
  /// `0..<2^31` (out of every matrix's range).
  func columns(_ raw: [UInt8], count: Int) -> [Int32] {
    let size = layout.elementSize
    if !layout.bigEndian, layout.kind == .signed, size == 4 {
      return [Int32](unsafeUninitializedCapacity: count) { out, initialized in
        raw.withUnsafeBytes { bytes in
          for i in 0..<count {
            out[i] = bytes.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self)
          }
        }
        initialized = count
      }
    }
    var chunk = layout
    chunk.bytes = raw
    chunk.dataOffset = 0
    return (0..<count).map { i in
      let value = chunk.element(i)
      return value >= 0 && value <= Double(Int32.max) ? Int32(value) : -1
    }
  }

  /// Reads `count` elements' bytes into `raw`.
  func fill(_ raw: inout [UInt8], count: Int, from reader: ZipMemberReader)
    throws(DataError)
  {
    let bytes = count * layout.elementSize
    if raw.count != bytes { raw = [UInt8](repeating: 0, count: bytes) }
    var failure: DataError? = nil
    raw.withUnsafeMutableBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      do throws(DataError) { try reader.read(into: base, count: bytes) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
  }
}

/// An `.npz` member read as an NPY file's header is.
private struct MemberHeaderSource: NPYHeaderSource {
  let reader: ZipMemberReader
  let path: String

  mutating func read(_ count: Int, into bytes: inout [UInt8]) throws(DataError) -> Int {
    let available = min(count, reader.member.size - reader.produced)
    guard available > 0 else { return 0 }
    let start = bytes.count
    bytes += [UInt8](repeating: 0, count: available)
    var failure: DataError? = nil
    bytes.withUnsafeMutableBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      do throws(DataError) { try reader.read(into: base + start, count: available) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return available
  }
}

/// The first index whose column is outside `0..<columns`.
private func firstOutOfRange(_ columns: [Int32], below limit: Int) -> Int? {
  let bound = Int32(truncatingIfNeeded: limit)
  return columns.withUnsafeBufferPointer { columns in
    for i in 0..<columns.count where columns[i] < 0 || columns[i] >= bound { return i }
    return nil
  }
}

/// The first value that is NaN or infinite (a `Float` or `Double` array
/// read in place; other scalars through `Double`).
private func firstNonFinite<Scalar: SoftmaxScalar>(_ values: [Scalar]) -> Int? {
  if Scalar.self == Float.self {
    return firstNonFiniteFloat(unsafeBitCast(values, to: [Float].self))
  }
  if Scalar.self == Double.self {
    return firstNonFiniteDouble(unsafeBitCast(values, to: [Double].self))
  }
  return values.firstIndex { !$0.isFinite }
}

private func firstNonFiniteFloat(_ values: [Float]) -> Int? {
  values.withUnsafeBufferPointer { values in
    for i in 0..<values.count where !values[i].isFinite { return i }
    return nil
  }
}

private func firstNonFiniteDouble(_ values: [Double]) -> Int? {
  values.withUnsafeBufferPointer { values in
    for i in 0..<values.count where !values[i].isFinite { return i }
    return nil
  }
}

/// The rows (of a chunk with these `offsets`) whose columns do not
/// increase strictly.
private func unsortedRows(_ columns: [Int32], offsets: [Int]) -> [Int] {
  var rows: [Int] = []
  columns.withUnsafeBufferPointer { columns in
    for r in 0..<(offsets.count - 1) {
      var entry = offsets[r] + 1
      while entry < offsets[r + 1] {
        if columns[entry] <= columns[entry - 1] {
          rows.append(r)
          break
        }
        entry += 1
      }
    }
  }
  return rows
}
