//===--- ZipArchive.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

internal import _SoftmaxCompression

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The members of a zip archive, as NumPy's `.npz` files are (Python's
/// `zipfile`): its central directory, zip64 included, read with `pread`.
/// Members are stored or deflated; encrypted members, multi-disk archives
/// and other methods are refused. A member read to its end must match its
/// CRC-32.
struct ZipArchive {
  /// A member: where its data is and how it is stored.
  struct Member {
    var name: String
    /// 0 stored, 8 deflated.
    var method: Int
    var compressedSize: Int
    var size: Int
    /// The CRC-32 of its bytes.
    var checksum: UInt32
    /// Where the member's data starts in the file.
    var dataOffset: Int
  }

  let path: String
  /// The members by name.
  let members: [String: Member]

  /// Reads the central directory of the archive at `path`.
  ///
  /// - Throws: ``DataError`` `.io` when the file cannot be read;
  ///   `.malformed` for a file that is not a zip archive or whose
  ///   directory is damaged; `.unsupported` for what this reader does not
  ///   read.
  init(path: String) throws(DataError) {
    self.path = path
    let file = try ZipFile(path: path)
    let size = file.size
    // The end-of-directory record: 22 bytes and a comment of up to 64 KiB.
    let tailCount = min(size, 22 + 0xFFFF)
    let tail = try file.bytes(at: size - tailCount, count: tailCount)
    var end = -1
    var i = tail.count - 22
    while i >= 0 {
      if tail.le32(i) == 0x0605_4b50 {
        end = i
        break
      }
      i -= 1
    }
    guard end >= 0 else {
      throw DataError(.malformed, path: path, "not a zip archive (no end-of-directory record)")
    }
    var entryCount = Int(tail.le16(end + 10))
    var directorySize = Int(tail.le32(end + 12))
    var directoryOffset = Int(tail.le32(end + 16))
    if tail.le16(end + 4) != 0 || tail.le16(end + 6) != 0 {
      throw DataError(.unsupported, path: path, "a zip archive on several disks")
    }
    if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
      // zip64: a locator just before the record points to the zip64 record.
      let locatorAt = size - tailCount + end - 20
      guard locatorAt >= 0 else {
        throw DataError(.malformed, path: path, "the zip64 locator is missing")
      }
      let locator = try file.bytes(at: locatorAt, count: 20)
      guard locator.le32(0) == 0x0706_4b50 else {
        throw DataError(.malformed, path: path, "the zip64 locator is missing")
      }
      let recordAt = Int(clamping: locator.le64(8))
      let record = try file.bytes(at: recordAt, count: 56)
      guard record.le32(0) == 0x0606_4b50 else {
        throw DataError(.malformed, path: path, "the zip64 end-of-directory record is missing")
      }
      entryCount = Int(clamping: record.le64(32))
      directorySize = Int(clamping: record.le64(40))
      directoryOffset = Int(clamping: record.le64(48))
    }
    guard directoryOffset >= 0, directorySize >= 0, directoryOffset + directorySize <= size,
      entryCount <= directorySize / 46
    else {
      throw DataError(.malformed, path: path, "the zip directory lies outside the file")
    }
    let directory = try file.bytes(at: directoryOffset, count: directorySize)
    var members: [String: Member] = [:]
    var at = 0
    for _ in 0..<entryCount {
      guard at + 46 <= directory.count, directory.le32(at) == 0x0201_4b50 else {
        throw DataError(.malformed, path: path, "the zip directory is damaged")
      }
      let flags = directory.le16(at + 8)
      let method = Int(directory.le16(at + 10))
      var compressedSize = Int(directory.le32(at + 20))
      var memberSize = Int(directory.le32(at + 24))
      let nameLength = Int(directory.le16(at + 28))
      let extraLength = Int(directory.le16(at + 30))
      let commentLength = Int(directory.le16(at + 32))
      var localOffset = Int(directory.le32(at + 42))
      let next = at + 46 + nameLength + extraLength + commentLength
      guard next <= directory.count else {
        throw DataError(.malformed, path: path, "the zip directory is damaged")
      }
      let name = String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
      // zip64 sizes and offset, in this order, for the fields set to ~0.
      var extra = at + 46 + nameLength
      let extraEnd = extra + extraLength
      while extra + 4 <= extraEnd {
        let id = directory.le16(extra)
        let length = Int(directory.le16(extra + 2))
        if id == 0x0001 {
          var field = extra + 4
          func next64() -> Int? {
            guard field + 8 <= extra + 4 + length else { return nil }
            defer { field += 8 }
            return Int(clamping: directory.le64(field))
          }
          if memberSize == 0xFFFF_FFFF, let value = next64() { memberSize = value }
          if compressedSize == 0xFFFF_FFFF, let value = next64() { compressedSize = value }
          if localOffset == 0xFFFF_FFFF, let value = next64() { localOffset = value }
        }
        extra += 4 + length
      }
      if flags & 1 != 0 {
        throw DataError(.unsupported, path: path, "\(name) is encrypted")
      }
      guard method == 0 || method == 8 else {
        throw DataError(
          .unsupported, path: path,
          "\(name) is compressed by method \(method) (this reader takes stored and deflated members)"
        )
      }
      let local = try file.bytes(at: localOffset, count: 30)
      guard local.le32(0) == 0x0403_4b50 else {
        throw DataError(.malformed, path: path, "\(name): its local header is missing")
      }
      let dataOffset = localOffset + 30 + Int(local.le16(26)) + Int(local.le16(28))
      guard dataOffset + compressedSize <= size, method == 8 || compressedSize == memberSize
      else {
        throw DataError(.malformed, path: path, "\(name): its data lies outside the file")
      }
      members[name] = Member(
        name: name, method: method, compressedSize: compressedSize, size: memberSize,
        checksum: directory.le32(at + 16), dataOffset: dataOffset)
      at = next
    }
    self.members = members
  }

  /// A reader of `member`'s bytes, front to back.
  func reader(_ member: Member) throws(DataError) -> ZipMemberReader {
    try ZipMemberReader(path: path, member: member)
  }
}

/// An open file read at offsets.
final class ZipFile {
  let path: String
  let descriptor: Int32
  let size: Int

  init(path: String) throws(DataError) {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw DataError(.io, path: path, "cannot open: \(String(cString: strerror(errno)))")
    }
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      close(descriptor)
      throw DataError(.io, path: path, "not a regular file (a zip archive is read at offsets)")
    }
    size = Int(status.st_size)
  }

  deinit { close(descriptor) }

  /// `count` bytes at `offset`, all of them.
  func bytes(at offset: Int, count: Int) throws(DataError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var failure: DataError? = nil
    let got = out.withUnsafeMutableBytes { buffer -> Int in
      guard let base = buffer.baseAddress else { return 0 }
      do throws(DataError) { return try read(into: base, count: count, at: offset) } catch {
        failure = error
        return 0
      }
    }
    if let failure { throw failure }
    guard got == count else {
      throw DataError(.malformed, path: path, "the file ends at byte \(offset + got)")
    }
    return out
  }

  /// Reads up to `count` bytes at `offset` into `buffer`: fewer only at
  /// the end of the file.
  func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(DataError)
    -> Int
  {
    var done = 0
    while done < count {
      let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw DataError(.io, path: path, "cannot read: \(String(cString: strerror(errno)))")
      }
      if n == 0 { break }
      done += n
    }
    return done
  }
}

/// A member's bytes, front to back: read in place (stored) or inflated
/// (deflated), 1 MiB of the file at a time.
final class ZipMemberReader {
  let path: String
  let member: ZipArchive.Member
  private let file: ZipFile
  private var decoder: OpaquePointer?
  /// Compressed input read and not yet decoded.
  private var input: [UInt8] = []
  private var inputStart = 0
  /// Bytes of the member's data read from the file, and handed out.
  private var fileRead = 0
  private(set) var produced = 0
  private var checksum = CRC32()

  init(path: String, member: ZipArchive.Member) throws(DataError) {
    self.path = path
    self.member = member
    file = try ZipFile(path: path)
    if member.method == 8 {
      var message = [CChar](repeating: 0, count: 256)
      decoder = softmax_decoder_open(softmax_codec_deflate, &message, message.count)
      if decoder == nil {
        let text = String(decoding: message.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
        throw DataError(.unsupported, path: path, "\(member.name): \(text)")
      }
    }
  }

  deinit {
    if let decoder { softmax_decoder_close(decoder) }
  }

  /// Reads exactly `count` bytes of the member into `buffer`.
  ///
  /// - Throws: ``DataError`` `.malformed` when the member ends first or
  ///   its deflated data is corrupt, naming the member.
  func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(DataError) {
    guard count > 0 else { return }
    guard produced + count <= member.size else {
      throw DataError(
        .malformed, path: path,
        "\(member.name) holds \(member.size) bytes; \(produced + count) were asked for")
    }
    guard let decoder else {
      let got = try file.read(into: buffer, count: count, at: member.dataOffset + produced)
      guard got == count else {
        throw DataError(.malformed, path: path, "\(member.name): the file ends inside it")
      }
      try advance(buffer, count)
      return
    }
    var made = 0
    while made < count {
      if inputStart == input.count {
        let left = member.compressedSize - fileRead
        let chunk = min(left, 1 << 20)
        input = try file.bytes(at: member.dataOffset + fileRead, count: chunk)
        inputStart = 0
        fileRead += chunk
      }
      var used = 0
      var out = 0
      var message = [CChar](repeating: 0, count: 256)
      let ends = fileRead == member.compressedSize
      let result = input.withUnsafeBufferPointer { bytes in
        softmax_decoder_step(
          decoder, bytes.baseAddress.map { $0 + inputStart }, bytes.count - inputStart,
          ends ? 1 : 0, &used, buffer.assumingMemoryBound(to: UInt8.self) + made, count - made,
          &out, &message, message.count)
      }
      inputStart += used
      made += out
      if result == softmax_decode_corrupt || result == softmax_decode_failed {
        let text = String(decoding: message.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
        throw DataError(.malformed, path: path, "\(member.name): \(text)")
      }
      if used == 0 && out == 0 && ends && inputStart == input.count {
        throw DataError(
          .malformed, path: path,
          "\(member.name): its data ends after \(produced + made) of its \(member.size) bytes")
      }
    }
    try advance(buffer, count)
  }

  /// Counts `count` bytes handed out in `buffer` into the checksum, and
  /// checks it at the member's end.
  private func advance(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws(DataError) {
    checksum.update(UnsafeRawBufferPointer(start: buffer, count: count))
    produced += count
    if produced == member.size, checksum.value != member.checksum {
      throw DataError(
        .malformed, path: path,
        "\(member.name): its CRC-32 is \(String(checksum.value, radix: 16)), not the \(String(member.checksum, radix: 16)) the archive records (a damaged file)"
      )
    }
  }
}

extension [UInt8] {
  /// The little-endian 16-bit value at `i`.
  func le16(_ i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
  /// The little-endian 32-bit value at `i`.
  func le32(_ i: Int) -> UInt32 { UInt32(le16(i)) | UInt32(le16(i + 2)) << 16 }
  /// The little-endian 64-bit value at `i`.
  func le64(_ i: Int) -> UInt64 { UInt64(le32(i)) | UInt64(le32(i + 4)) << 32 }
}
