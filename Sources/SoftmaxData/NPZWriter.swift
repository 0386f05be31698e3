//===--- NPZWriter.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Writes sparse rows as SciPy's `scipy.sparse.save_npz(path, X,
/// compressed=False)` does: a zip archive (zip64 when large) of the NPY
/// arrays `indices` (int32), `indptr` (int32, or int64 from 2^31
/// entries), `format` (`b'csr'`), `shape` (int64) and `data` (float32 or
/// float64), stored uncompressed so that ``NPZRowStream`` reads them in
/// place. `scipy.sparse.load_npz` reads the file back.
///
/// Written in two passes over the rows (the indices, then the values: a
/// zip member is contiguous), holding one chunk and the row offsets (8
/// bytes a row); whole or not at all (``AtomicFile``).
public enum NPZWriter {
  /// Writes `rows` to `path`, reading them in chunks of `chunkRows`.
  ///
  /// - Throws: ``DataError`` for a failed write, and what reading the rows
  ///   throws (as `.io`, naming `path`, unless it is a ``DataError``).
  public static func write<Rows: SparseRowStream>(
    _ rows: Rows, to path: String, chunkRows: Int = 1 << 16
  ) throws(DataError) {
    let valueSize = MemoryLayout<Rows.Scalar>.size == 4 ? 4 : 8
    let wideOffsets = rows.nonZeroCount > Int(Int32.max)
    try AtomicFile.write(to: path) { append throws(DataError) in
      try withoutActuallyEscaping(append) { append throws(DataError) in
        try writeMembers(
          rows, to: ZipWriter(append: append), path: path, chunkRows: chunkRows,
          wideOffsets: wideOffsets, valueSize: valueSize)
      }
    }
  }

  /// The members and the directory.
  private static func writeMembers<Rows: SparseRowStream>(
    _ rows: Rows, to zipWriter: ZipWriter, path: String, chunkRows: Int, wideOffsets: Bool,
    valueSize: Int
  ) throws(DataError) {
    let n = rows.rows
    let entries = rows.nonZeroCount
    var zip = zipWriter
    do {
      var offsets: [Int] = [0]
      offsets.reserveCapacity(n + 1)
      // indices.npy, and the row offsets.
      try zip.member(
        "indices.npy", header: NPYWriter.header(descr: "<i4", shape: "(\(entries),)"),
        dataBytes: entries * 4
      ) { write throws(DataError) in
        try forEachChunk(rows, chunkRows: chunkRows, path: path) { chunk throws(DataError) in
          let base = offsets[offsets.count - 1]
          for r in 0..<chunk.rows { offsets.append(base + chunk.rowOffsets[r + 1]) }
          var bytes = [UInt8](repeating: 0, count: chunk.nonZeroCount * 4)
          bytes.withUnsafeMutableBytes { out in
            for (i, c) in chunk.columnIndices.enumerated() {
              out.storeBytes(of: c.littleEndian, toByteOffset: i * 4, as: Int32.self)
            }
          }
          try write(bytes)
        }
      }
      guard offsets.count == n + 1, offsets[n] == entries else {
        throw DataError(.io, path: path, "the rows changed while they were written")
      }
      try zip.member(
        "indptr.npy",
        header: NPYWriter.header(descr: wideOffsets ? "<i8" : "<i4", shape: "(\(n + 1),)"),
        dataBytes: (n + 1) * (wideOffsets ? 8 : 4)
      ) { write throws(DataError) in
        var start = 0
        while start <= n {
          let end = min(n + 1, start + (1 << 16))
          var bytes = [UInt8](repeating: 0, count: (end - start) * (wideOffsets ? 8 : 4))
          bytes.withUnsafeMutableBytes { out in
            for i in start..<end {
              if wideOffsets {
                out.storeBytes(
                  of: Int64(offsets[i]).littleEndian, toByteOffset: (i - start) * 8, as: Int64.self)
              } else {
                out.storeBytes(
                  of: Int32(offsets[i]).littleEndian, toByteOffset: (i - start) * 4, as: Int32.self)
              }
            }
          }
          try write(bytes)
          start = end
        }
      }
      try zip.member(
        "format.npy", header: NPYWriter.header(descr: "|S3", shape: "()"), dataBytes: 3
      ) { write throws(DataError) in try write(Array("csr".utf8)) }
      try zip.member(
        "shape.npy", header: NPYWriter.header(descr: "<i8", shape: "(2,)"), dataBytes: 16
      ) { write throws(DataError) in
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { out in
          out.storeBytes(of: Int64(n).littleEndian, toByteOffset: 0, as: Int64.self)
          out.storeBytes(of: Int64(rows.columns).littleEndian, toByteOffset: 8, as: Int64.self)
        }
        try write(bytes)
      }
      try zip.member(
        "data.npy", header: NPYWriter.header(descr: "<f\(valueSize)", shape: "(\(entries),)"),
        dataBytes: entries * valueSize
      ) { write throws(DataError) in
        try forEachChunk(rows, chunkRows: chunkRows, path: path) { chunk throws(DataError) in
          var bytes = [UInt8](repeating: 0, count: chunk.nonZeroCount * valueSize)
          bytes.withUnsafeMutableBytes { out in
            for (i, v) in chunk.values.enumerated() {
              if valueSize == 4 {
                out.storeBytes(
                  of: Float(v).bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
              } else {
                out.storeBytes(
                  of: Double(v).bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self)
              }
            }
          }
          try write(bytes)
        }
      }
      try zip.finish()
    }
  }

  /// The chunks of `rows`, errors as ``DataError``s.
  private static func forEachChunk<Rows: SparseRowStream>(
    _ rows: Rows, chunkRows: Int, path: String,
    _ body: (SparseMatrix<Rows.Scalar>) throws(DataError) -> Void
  ) throws(DataError) {
    do {
      try rows.forEachChunk(rows: chunkRows) { _, chunk in try body(chunk) }
    } catch let error as DataError {
      throw error
    } catch {
      throw DataError(.io, path: path, "\(error)")
    }
  }
}

/// A zip archive written front to back: stored members, each followed by
/// a data descriptor (its checksum is known only once written), then the
/// central directory; zip64 records where sizes or offsets need them.
struct ZipWriter {
  let append: ([UInt8]) throws(DataError) -> Void
  private var offset = 0
  private var directory: [UInt8] = []
  private var count = 0

  init(append: @escaping ([UInt8]) throws(DataError) -> Void) {
    self.append = append
  }

  private mutating func emit(_ bytes: [UInt8]) throws(DataError) {
    try append(bytes)
    offset += bytes.count
  }

  /// Writes a member of `header` then `dataBytes` bytes that `body`
  /// writes through its argument.
  mutating func member(
    _ name: String, header: [UInt8], dataBytes: Int,
    _ body: (_ write: ([UInt8]) throws(DataError) -> Void) throws(DataError) -> Void
  ) throws(DataError) {
    let size = header.count + dataBytes
    let zip64 = size >= 0xFFFF_FFFF
    let localOffset = offset
    let nameBytes = Array(name.utf8)
    var local: [UInt8] = []
    local.appendLE32(0x0403_4b50)
    local.appendLE16(zip64 ? 45 : 20)
    local.appendLE16(0x0008)  // sizes and checksum in the data descriptor
    local.appendLE16(0)  // stored
    local.appendLE16(0)  // 00:00
    local.appendLE16(0x21)  // 1980-01-01
    local.appendLE32(0)
    local.appendLE32(zip64 ? 0xFFFF_FFFF : 0)
    local.appendLE32(zip64 ? 0xFFFF_FFFF : 0)
    local.appendLE16(UInt16(nameBytes.count))
    local.appendLE16(zip64 ? 20 : 0)
    local += nameBytes
    if zip64 {
      local.appendLE16(0x0001)
      local.appendLE16(16)
      local.appendLE64(0)
      local.appendLE64(0)
    }
    try emit(local)
    var crc = CRC32()
    var written = 0
    var failure: DataError? = nil
    func write(_ bytes: [UInt8]) throws(DataError) {
      crc.update(bytes)
      written += bytes.count
      try append(bytes)
    }
    try write(header)
    do throws(DataError) { try body(write) } catch { failure = error }
    if let failure { throw failure }
    offset += written
    guard written == size else {
      throw DataError(.io, path: name, "\(written) bytes written of the \(size) announced")
    }
    var descriptor: [UInt8] = []
    descriptor.appendLE32(0x0807_4b50)
    descriptor.appendLE32(crc.value)
    if zip64 {
      descriptor.appendLE64(UInt64(size))
      descriptor.appendLE64(UInt64(size))
    } else {
      descriptor.appendLE32(UInt32(size))
      descriptor.appendLE32(UInt32(size))
    }
    try emit(descriptor)
    // Its central directory entry.
    let farOffset = localOffset >= 0xFFFF_FFFF
    var extra: [UInt8] = []
    if zip64 || farOffset {
      extra.appendLE16(0x0001)
      extra.appendLE16(UInt16((zip64 ? 16 : 0) + (farOffset ? 8 : 0)))
      if zip64 {
        extra.appendLE64(UInt64(size))
        extra.appendLE64(UInt64(size))
      }
      if farOffset { extra.appendLE64(UInt64(localOffset)) }
    }
    var entry: [UInt8] = []
    entry.appendLE32(0x0201_4b50)
    entry.appendLE16(zip64 || farOffset ? 45 : 20)
    entry.appendLE16(zip64 || farOffset ? 45 : 20)
    entry.appendLE16(0x0008)
    entry.appendLE16(0)
    entry.appendLE16(0)
    entry.appendLE16(0x21)
    entry.appendLE32(crc.value)
    entry.appendLE32(zip64 ? 0xFFFF_FFFF : UInt32(size))
    entry.appendLE32(zip64 ? 0xFFFF_FFFF : UInt32(size))
    entry.appendLE16(UInt16(nameBytes.count))
    entry.appendLE16(UInt16(extra.count))
    entry.appendLE16(0)  // comment
    entry.appendLE16(0)  // disk
    entry.appendLE16(0)  // internal attributes
    entry.appendLE32(0o100644 << 16)  // a regular file, rw-r--r--
    entry.appendLE32(farOffset ? 0xFFFF_FFFF : UInt32(localOffset))
    entry += nameBytes
    entry += extra
    directory += entry
    count += 1
  }

  /// Writes the central directory and its end records.
  mutating func finish() throws(DataError) {
    let directoryOffset = offset
    let directoryBytes = directory
    try emit(directoryBytes)
    if directoryOffset >= 0xFFFF_FFFF {
      let recordOffset = offset
      var record: [UInt8] = []
      record.appendLE32(0x0606_4b50)
      record.appendLE64(44)
      record.appendLE16(45)
      record.appendLE16(45)
      record.appendLE32(0)
      record.appendLE32(0)
      record.appendLE64(UInt64(count))
      record.appendLE64(UInt64(count))
      record.appendLE64(UInt64(directoryBytes.count))
      record.appendLE64(UInt64(directoryOffset))
      record.appendLE32(0x0706_4b50)
      record.appendLE32(0)
      record.appendLE64(UInt64(recordOffset))
      record.appendLE32(1)
      try emit(record)
    }
    var end: [UInt8] = []
    end.appendLE32(0x0605_4b50)
    end.appendLE16(0)
    end.appendLE16(0)
    end.appendLE16(UInt16(count))
    end.appendLE16(UInt16(count))
    end.appendLE32(UInt32(directoryBytes.count))
    end.appendLE32(directoryOffset >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(directoryOffset))
    end.appendLE16(0)
    try emit(end)
  }
}

extension [UInt8] {
  fileprivate mutating func appendLE16(_ value: UInt16) {
    append(UInt8(value & 0xFF))
    append(UInt8(value >> 8))
  }

  fileprivate mutating func appendLE32(_ value: UInt32) {
    appendLE16(UInt16(value & 0xFFFF))
    appendLE16(UInt16(value >> 16))
  }

  fileprivate mutating func appendLE64(_ value: UInt64) {
    appendLE32(UInt32(value & 0xFFFF_FFFF))
    appendLE32(UInt32(value >> 32))
  }
}
