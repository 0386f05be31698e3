//===--- NPYRowStream.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The rows of a 2-D NumPy `.npy` file, read a chunk at a time on every
/// pass: training on a file larger than memory
/// (`SoftmaxClassifier.fit(streaming:labels:…)`).
///
/// Only the header is read when the stream is made; each pass opens the
/// file, reads `chunkRows` rows at a time with `pread` (in 1 MiB slices, by
/// SoftmaxCore's worker threads at once) into one buffer of
/// the chunk's size (nothing else grows with the file) and closes it. A
/// `float32` file read as `Float` (or `float64` as `Double`) in the
/// machine's byte order goes straight into the buffer; any other element
/// type of ``NPYReader`` (integers, `float16`, `float64` as `Float`, the
/// other byte order) is converted chunk by chunk exactly as ``NPYReader``
/// converts it, so the values are the ones it loads.
///
/// The file must stay as it is while it is read: a pass that finds it
/// changed (its size, inode or modification time) or shorter throws.
///
/// Cost: per pass, one read of the file (from the page cache when it
/// fits there), `chunkRows·d` elements of memory.
public struct NPYRowStream<Scalar: SoftmaxScalar>: RowStream {
  /// The file.
  public let path: String
  /// `n`: the array's first dimension.
  public let rows: Int
  /// `d`: its second dimension.
  public let columns: Int
  /// The array's element type, as NumPy names it (`'<f4'`).
  public let typeName: String
  /// The header (shape, element type, where the data starts), no data.
  private let layout: NumericArray
  /// What the file was when the stream was made.
  private let identity: FileIdentity
  /// Whether the elements are `Scalar`s in the machine's byte order.
  private let isNative: Bool

  /// Whether the file's elements are `Scalar`s in the machine's byte
  /// order: read straight into memory, with no conversion.
  var readsInPlace: Bool { isNative }

  /// Reads the header of the `.npy` file at `path`.
  ///
  /// - Throws: ``DataError``: as ``NPYReader`` for a file that is not an
  ///   NPY array, an unsupported element type or a size other than its
  ///   shape's; `.shapeMismatch` for an array that is not 2-D (as the
  ///   reader); `.unsupported` for one in Fortran order, or compressed.
  public init(path: String, as _: Scalar.Type = Scalar.self) throws(DataError) {
    var reader = try BoundedReader(path: path, maximumBytes: Int.max)
    let layout = try NPYReader.readHeader(&reader)
    guard let size = reader.regularSize else {
      throw DataError(
        .unsupported, path: path,
        "the file is compressed or not a regular file: streamed training reads a plain .npy file "
          + "(decompress it first)")
    }
    guard layout.shape.count == 2 else {
      throw DataError(
        .shapeMismatch, path: path,
        "a data set is a 2-dimensional array (rows × features); this one has shape \(layout.shape)"
      )
    }
    guard !layout.fortranOrder else {
      throw DataError(
        .unsupported, path: path,
        "the array is in Fortran order: streamed training reads rows, stored one after another "
          + "(C order); write it with numpy.ascontiguousarray, or with `softmax convert`")
    }
    let needed = try NumericArray.dataSize(
      shape: layout.shape, elementSize: layout.elementSize, typeName: layout.typeName, path: path)
    let available = size - layout.dataOffset
    guard needed == available else {
      throw DataError(
        .malformed, path: path,
        needed > available
          ? "the header's shape \(layout.shape) of \(layout.typeName) needs \(needed) bytes of data; the file has \(available)"
          : "the file has \(available - needed) bytes after the \(needed) bytes of data its shape \(layout.shape) describes"
      )
    }
    self.path = path
    self.rows = layout.shape[0]
    self.columns = layout.shape[1]
    self.typeName = layout.typeName
    self.layout = layout
    self.identity = try FileIdentity(path: path)
    let littleEndian = 1.littleEndian == 1
    self.isNative =
      layout.kind == .float && layout.bigEndian != littleEndian
      && ((Scalar.self == Float.self && layout.elementSize == 4)
        || (Scalar.self == Double.self && layout.elementSize == 8))
  }

  /// The file's rows, `chunkRows` at a time, into one buffer.
  ///
  /// - Throws: ``DataError`` `.io` when the file cannot be opened or read,
  ///   has changed since the stream was made, or ends early; `.notANumber`
  ///   for an element out of `Scalar`'s finite range (as ``NPYReader``);
  ///   and what `body` throws.
  public func forEachChunk(
    rows chunkRows: Int,
    _ body: (_ firstRow: Int, _ elements: UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    let file = try openUnchanged()
    defer { file.close() }
    let d = columns
    let rowBytes = d * layout.elementSize
    // Each chunk is read by every worker thread at once, a slice each,
    // then used: no thread beside the workers, and the reads in parallel.
    var values = [Scalar](repeating: 0, count: chunkRows * d)
    var raw = [UInt8](repeating: 0, count: isNative ? 0 : chunkRows * rowBytes)
    var first = 0
    while first < rows {
      let count = min(chunkRows, rows - first)
      let offset = layout.dataOffset + first * rowBytes
      if isNative {
        try values.withUnsafeMutableBytes { buffer in
          try file.readInParallel(into: buffer, count: count * rowBytes, at: offset)
        }
      } else {
        try raw.withUnsafeMutableBytes { buffer in
          try file.readInParallel(into: buffer, count: count * rowBytes, at: offset)
        }
        try raw.withUnsafeBytes { buffer in
          try convert(
            UnsafeRawBufferPointer(rebasing: buffer[0..<(count * rowBytes)]), rows: count,
            firstRow: first, into: &values)
        }
      }
      try values.withUnsafeBufferPointer { all in
        try body(first, UnsafeBufferPointer(rebasing: all[0..<(count * d)]))
      }
      first += count
    }
  }

  /// Rows `rows` of the file into `buffer` (opened, checked unchanged,
  /// read and closed for the call).
  ///
  /// - Throws: ``DataError`` as ``forEachChunk(rows:_:)``.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>)
    throws
  {
    precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows out of range")
    precondition(buffer.count >= rows.count * columns, "the buffer is too small")
    let file = try openUnchanged()
    defer { file.close() }
    let rowBytes = columns * layout.elementSize
    let offset = layout.dataOffset + rows.lowerBound * rowBytes
    if isNative {
      try file.readInParallel(
        into: UnsafeMutableRawBufferPointer(buffer), count: rows.count * rowBytes, at: offset)
      return
    }
    var raw = [UInt8](repeating: 0, count: rows.count * rowBytes)
    try raw.withUnsafeMutableBytes { bytes in
      try file.readInParallel(into: bytes, count: rows.count * rowBytes, at: offset)
    }
    var values = [Scalar](repeating: 0, count: rows.count * columns)
    try raw.withUnsafeBytes { bytes in
      try convert(bytes, rows: rows.count, firstRow: rows.lowerBound, into: &values)
    }
    _ = buffer.update(fromContentsOf: values)
  }

  /// The file, opened, after checking that it is the one the stream was
  /// made on.
  private func openUnchanged() throws(DataError) -> OpenFile {
    let file = try OpenFile(path: path)
    guard try FileIdentity(descriptor: file.descriptor, path: path) == identity else {
      file.close()
      throw DataError(
        .io, path: path,
        "the file changed while training read it (its size, inode or modification time): "
          + "every pass must read the same rows")
    }
    return file
  }

  /// The elements of `rows` rows in `raw` as `Scalar`s, by ``NPYReader``'s
  /// conversion (through `Double`; `Float` rounds once from it).
  private func convert(
    _ raw: UnsafeRawBufferPointer, rows count: Int, firstRow: Int, into values: inout [Scalar]
  ) throws(DataError) {
    var chunk = layout
    chunk.bytes = Array(raw)
    chunk.dataOffset = 0
    let d = columns
    for index in 0..<(count * d) {
      let value = chunk.element(index)
      let converted: Scalar
      let finite: Bool
      if Scalar.self == Float.self {
        let narrow = Float(value)
        converted = Scalar(narrow)
        finite = narrow.isFinite
      } else {
        converted = Scalar(value)
        finite = value.isFinite
      }
      guard finite else {
        throw DataError(
          .notANumber, path: path,
          "element [\(firstRow + index / d), \(index % d)] = \(value) is not a finite "
            + "\(Scalar.self == Float.self ? "Float" : "Double")")
      }
      values[index] = converted
    }
  }
}

/// What identifies a file's contents for a reader that reads it again:
/// its device, inode, size and modification time.
struct FileIdentity: Equatable, Sendable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  var modifiedSeconds: Int
  var modifiedNanoseconds: Int

  init(path: String) throws(DataError) {
    var status = stat()
    guard stat(path, &status) == 0 else {
      throw DataError(.io, path: path, "cannot read: \(String(cString: strerror(errno)))")
    }
    self.init(status)
  }

  init(descriptor: Int32, path: String) throws(DataError) {
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw DataError(.io, path: path, "cannot read: \(String(cString: strerror(errno)))")
    }
    self.init(status)
  }

  private init(_ status: stat) {
    device = UInt64(status.st_dev)
    inode = UInt64(status.st_ino)
    size = Int64(status.st_size)
    #if canImport(Darwin)
    modifiedSeconds = Int(status.st_mtimespec.tv_sec)
    modifiedNanoseconds = Int(status.st_mtimespec.tv_nsec)
    #else
    modifiedSeconds = Int(status.st_mtim.tv_sec)
    modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
    #endif
  }
}

/// A file open for reading at offsets, closed by ``close()``.
struct OpenFile {
  let path: String
  let descriptor: Int32

  init(path: String) throws(DataError) {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw DataError(.io, path: path, "cannot open: \(String(cString: strerror(errno)))")
    }
    #if os(Linux)
    // Read ahead: the passes read the file front to back.
    _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
    #endif
  }

  func close() {
    #if canImport(Glibc)
    _ = Glibc.close(descriptor)
    #elseif canImport(Musl)
    _ = Musl.close(descriptor)
    #elseif canImport(Darwin)
    _ = Darwin.close(descriptor)
    #endif
  }

  /// Exactly `count` bytes at `offset` into `buffer`, read in slices of
  /// 1 MiB by SoftmaxCore's worker threads at once.
  ///
  /// - Throws: ``DataError`` `.io` as ``read(into:count:at:)``: the first
  ///   slice's error.
  func readInParallel(into buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: Int)
    throws(DataError)
  {
    precondition(count <= buffer.count, "the buffer holds \(buffer.count) bytes, not \(count)")
    let slice = 1 << 20
    let slices = (count + slice - 1) / slice
    guard slices > 1 else { return try read(into: buffer, count: count, at: offset) }
    let failure = Mutex<DataError?>(nil)
    parallelFor(count: slices, cost: slice, grain: 1) { begin, end in
      for index in begin..<end {
        let start = index * slice
        let length = min(slice, count - start)
        do throws(DataError) {
          try read(
            into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)]),
            count: length, at: offset + start)
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }

  /// Exactly `count` bytes at `offset` into `buffer`.
  ///
  /// - Throws: ``DataError`` `.io` for a failed read or a file that ends
  ///   before them.
  func read(into buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: Int)
    throws(DataError)
  {
    precondition(count <= buffer.count, "the buffer holds \(buffer.count) bytes, not \(count)")
    guard let base = buffer.baseAddress else { return }
    var done = 0
    while done < count {
      let got = pread(descriptor, base + done, count - done, off_t(offset + done))
      if got < 0 {
        if errno == EINTR { continue }
        throw DataError(
          .io, path: path,
          "cannot read at byte \(offset + done): \(String(cString: strerror(errno)))")
      }
      if got == 0 {
        throw DataError(
          .io, path: path,
          "the file ends at byte \(offset + done), before the \(offset + count) its header "
            + "promises: it was cut short while training read it")
      }
      done += got
    }
  }
}
