//===--- TextReader.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Documents and their labels, as read from text.
public struct TextDataSet: Sendable {
  /// The documents' text.
  public var documents: [String]
  /// Each document's labels (one, or several: see ``TextReader``), or
  /// `nil` when the input has none (text to predict).
  public var labels: [[String]]?
  /// Where each document came from: `file:line` for lines, the file's
  /// path for a folder of files.
  public var sources: [String]
  /// What the reader did beyond reading (documents read as latin-1,
  /// blank lines skipped).
  public var report: LoadReport

  /// Creates a data set.
  ///
  /// - Precondition: `labels` and `sources` have one entry per document.
  public init(
    documents: [String], labels: [[String]]?, sources: [String], report: LoadReport = LoadReport()
  ) {
    precondition(labels.map { $0.count == documents.count } ?? true, "one label list per document")
    precondition(sources.count == documents.count, "one source per document")
    self.documents = documents
    self.labels = labels
    self.sources = sources
    self.report = report
  }

  /// Documents.
  public var count: Int { documents.count }

  /// The documents at `indices`, in that order.
  ///
  /// - Precondition: every index is in `0..<count`.
  public func documents(_ indices: [Int]) -> TextDataSet {
    TextDataSet(
      documents: indices.map { documents[$0] },
      labels: labels.map { all in indices.map { all[$0] } },
      sources: indices.map { sources[$0] }, report: report)
  }
}

/// How the bytes of text are decoded.
public enum TextEncoding: String, Sendable, Hashable, CaseIterable {
  /// UTF-8, and latin-1 for a document that is not valid UTF-8 (as
  /// scikit-learn reads 20 Newsgroups with `encoding="latin-1"`): every
  /// byte sequence reads, and the report counts such documents.
  case automatic = "auto"
  /// UTF-8 only: invalid bytes are an error naming the line and column.
  case utf8 = "utf-8"
  /// ISO 8859-1: each byte is the character of that number.
  case latin1 = "latin-1"
}

/// Reads documents: fastText's format, a line per document, or a folder of
/// one sub-folder per class holding a file per document (scikit-learn's
/// `load_files`). Compressed files are read as they come (``Compression``).
///
/// **fastText's format**: a line's tokens that begin with `__label__` are
/// its labels (`__label__sports`), anywhere in the line; the rest is the
/// document. A line may have several labels: it counts as that many
/// examples, each with weight 1/m (what fastText's softmax training does
/// on average, as it picks one of them at random each time it meets the
/// line), and precision@k and recall@k count every label. Blank lines are
/// skipped in labelled text; in text to predict (`requireLabels: false`)
/// each is an empty document, so that the predictions line up with the
/// lines, one for each, as fastText's `predict` prints them.
public enum TextReader {
  /// The prefix that marks a label token in fastText's format.
  public static let labelPrefix = "__label__"

  /// The largest text file or document read: a quarter of the memory
  /// limit (``SoftmaxConfiguration/memoryLimit``).
  static var maximumBytes: Int { max(64 << 20, SoftmaxConfiguration.memoryLimit / 4) }

  /// Reads `path`: a folder of class folders, or a file (or `-`,
  /// standard input) in fastText's format.
  ///
  /// - Parameters:
  ///   - path: the folder or file.
  ///   - encoding: how bytes become text.
  ///   - requireLabels: a line without a label is an error (for training
  ///     and evaluation) instead of a document to predict, and a blank
  ///     line is skipped instead of an empty document to predict.
  /// - Throws: ``DataError``: `.io`; `.invalidEncoding` (UTF-8 only) naming
  ///   line and column; `.labels` for a line without labels when they are
  ///   required, or a folder without class folders; `.empty` without
  ///   documents.
  public static func read(
    _ path: String, encoding: TextEncoding = .automatic, requireLabels: Bool = true
  ) throws(DataError) -> TextDataSet {
    if isDirectory(path) { return try readFolders(path, encoding: encoding) }
    return try readLines(path, encoding: encoding, requireLabels: requireLabels)
  }

  /// Whether `path` names a directory.
  public static func isDirectory(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
  }

  /// Reads fastText's format (see ``TextReader``); `-` reads standard
  /// input.
  public static func readLines(
    _ path: String, encoding: TextEncoding = .automatic, requireLabels: Bool = true
  ) throws(DataError) -> TextDataSet {
    var reader = try BoundedReader(
      path: path == "-" ? "/dev/stdin" : path, maximumBytes: maximumBytes)
    reader.rejectsNUL = true
    let bytes = try reader.readToEnd()
    var documents: [String] = []
    var labels: [[String]] = []
    var sources: [String] = []
    var anyLabel = false
    var report = LoadReport()
    var latin1 = 0
    var blank = 0
    var line = 0
    var start = utf8ByteOrderMarkLength(bytes)
    let prefix = Array(labelPrefix.utf8)
    let name = path == "-" ? "stdin" : path
    while start < bytes.count {
      line += 1
      var end = start
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      var lineEnd = end
      if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
      defer { start = end + 1 }
      if encoding == .utf8 && String(validating: bytes[start..<lineEnd], as: UTF8.self) == nil {
        throw DataError(
          .invalidEncoding, path: name, line: line,
          column: firstInvalidUTF8(bytes[start..<lineEnd]) + 1,
          "not valid UTF-8 (--encoding latin-1 or auto reads such text as latin-1)")
      }
      // Label tokens out, the rest kept as written (minus those tokens).
      var text: [UInt8] = []
      var lineLabels: [String] = []
      var k = start
      while k < lineEnd {
        while k < lineEnd && isSpace(bytes[k]) { k += 1 }
        let tokenStart = k
        while k < lineEnd && !isSpace(bytes[k]) { k += 1 }
        guard k > tokenStart else { break }
        let token = bytes[tokenStart..<k]
        if token.starts(with: prefix) {
          let label = try decode(
            token.dropFirst(prefix.count), encoding: encoding, path: name, line: line,
            column: tokenStart - start + prefix.count + 1, latin1: &latin1)
          guard !label.isEmpty else {
            throw DataError(
              .labels, path: name, line: line, column: tokenStart - start + 1,
              "an empty label (\(labelPrefix) followed by nothing)")
          }
          if !lineLabels.contains(label) { lineLabels.append(label) }
        } else {
          if !text.isEmpty { text.append(0x20) }
          text.append(contentsOf: token)
        }
      }
      if text.isEmpty && lineLabels.isEmpty && requireLabels {
        blank += 1
        continue
      }
      if lineLabels.isEmpty && requireLabels {
        throw DataError(
          .labels, path: name, line: line,
          "no \(labelPrefix) token: every line of labelled text needs one (\(labelPrefix)NAME)")
      }
      anyLabel = anyLabel || !lineLabels.isEmpty
      let document = try decode(
        text[...], encoding: encoding, path: name, line: line, column: nil, latin1: &latin1)
      documents.append(document)
      labels.append(lineLabels)
      sources.append("\(name):\(line)")
    }
    guard !documents.isEmpty else {
      throw DataError(.empty, path: name, "no documents (every line is blank)")
    }
    if latin1 > 0 {
      report.notes.append(
        "\(latin1) lines were not valid UTF-8 and were read as latin-1 (--encoding utf-8 makes that an error)"
      )
    }
    if blank > 0 { report.skippedRows = blank }
    return TextDataSet(
      documents: documents, labels: anyLabel || requireLabels ? labels : nil, sources: sources,
      report: report)
  }

  /// Reads a folder of class folders (`texts/sports/1.txt`, ...): each
  /// sub-folder's name is a class, each regular file in it (or link to
  /// one) a document. Classes and files are taken in byte order of their
  /// names; names that begin with `.` are left out, as are files directly
  /// in `path` and folders inside class folders. A FIFO, socket or device
  /// in a class folder is an error (reading it could block forever).
  public static func readFolders(
    _ path: String, encoding: TextEncoding = .automatic
  ) throws(DataError) -> TextDataSet {
    let classes = try entries(of: path).filter { isDirectory(path + "/" + $0) }
    guard !classes.isEmpty else {
      throw DataError(
        .labels, path: path,
        "a folder of text needs one sub-folder per class, each holding a file per document; there is none"
      )
    }
    var files: [(label: String, path: String)] = []
    for label in classes {
      let folder = path + "/" + label
      for file in try entries(of: folder) {
        let filePath = folder + "/" + file
        var status = stat()
        // A link is followed; one that leads nowhere is read, and its
        // error named, in file order.
        guard stat(filePath, &status) == 0 else {
          files.append((label, filePath))
          continue
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: files.append((label, filePath))
        case S_IFDIR: continue  // not a document (as hidden names)
        default:
          // A FIFO would block the reading forever, a device never end.
          throw DataError(
            .io, path: filePath,
            "not a regular file (\(fileKind(status.st_mode))): a class folder holds a file per document"
          )
        }
      }
    }
    var documents: [String] = []
    var labels: [[String]] = []
    var sources: [String] = []
    documents.reserveCapacity(files.count)
    labels.reserveCapacity(files.count)
    sources.reserveCapacity(files.count)
    var latin1 = 0
    var total = 0
    // The files of a batch are read and decoded on the worker threads
    // (each text depends only on its file), then taken in file order: the
    // same documents, and the same first error, as a reading one by one;
    // the memory check passes at most one batch before it stops.
    let batchSize = 256
    for batchStart in stride(from: 0, to: files.count, by: batchSize) {
      let batch = files[batchStart..<min(files.count, batchStart + batchSize)]
      var read = [Document](repeating: Document(), count: batch.count)
      read.withUnsafeMutableBufferPointer { read in
        parallelFor(count: batch.count, cost: 1 << 14, grain: 8) { first, last in
          for k in first..<last {
            read[k] = readDocument(batch[batchStart + k].path, encoding: encoding)
          }
        }
      }
      for (k, document) in read.enumerated() {
        // In the order of a reading one by one: the file's read error, the
        // memory check, then its decoding error.
        let bytes = try document.bytes.get()
        total += bytes
        guard total <= SoftmaxConfiguration.memoryLimit / 2 else {
          throw DataError(
            .unsupported, path: path,
            "the documents pass half the memory limit (\(SoftmaxConfiguration.memoryLimit) bytes)")
        }
        let (text, wasLatin1) = try document.text.get()
        if wasLatin1 { latin1 += 1 }
        documents.append(text)
        labels.append([batch[batchStart + k].label])
        sources.append(batch[batchStart + k].path)
      }
    }
    guard !documents.isEmpty else {
      throw DataError(.empty, path: path, "the class folders hold no files")
    }
    var report = LoadReport()
    if latin1 > 0 {
      report.notes.append(
        "\(latin1) files were not valid UTF-8 and were read as latin-1 (--encoding utf-8 makes that an error)"
      )
    }
    return TextDataSet(documents: documents, labels: labels, sources: sources, report: report)
  }

  /// One file of a class folder as read: its size in bytes (or the error
  /// reading it), then its text and whether it was read as latin-1 (or
  /// the error decoding it).
  private struct Document {
    var bytes: Result<Int, DataError> = .success(0)
    var text: Result<(String, Bool), DataError> = .success(("", false))
  }

  /// Reads and decodes the document at `path`.
  private static func readDocument(_ path: String, encoding: TextEncoding) -> Document {
    var document = Document()
    let bytes: [UInt8]
    do {
      var reader = try BoundedReader(path: path, maximumBytes: maximumBytes)
      reader.rejectsNUL = true
      bytes = try reader.readToEnd()
    } catch {
      document.bytes = .failure(error)
      return document
    }
    document.bytes = .success(bytes.count)
    document.text = Result { () throws(DataError) in
      var latin1 = 0
      let text = try decode(
        bytes.dropFirst(utf8ByteOrderMarkLength(bytes)), encoding: encoding, path: path,
        line: nil, column: nil, latin1: &latin1)
      return (text, latin1 > 0)
    }
    return document
  }

  /// The names in a directory, without those that begin with `.`, in
  /// byte order.
  static func entries(of path: String) throws(DataError) -> [String] {
    guard let directory = opendir(path) else {
      throw DataError(.io, path: path, "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// What a file that is neither regular nor a directory is, for errors.
  private static func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    default: return "of an unknown kind"
    }
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C || byte == 0x0D
  }

  /// The text of `bytes` in `encoding`; invalid UTF-8 is an error (UTF-8)
  /// or read as latin-1 (automatic), counted in `latin1`.
  static func decode(
    _ bytes: ArraySlice<UInt8>, encoding: TextEncoding, path: String, line: Int?, column: Int?,
    latin1: inout Int
  ) throws(DataError) -> String {
    if encoding != .latin1, let text = String(validating: bytes, as: UTF8.self) {
      return text
    }
    if encoding == .utf8 {
      let offset = firstInvalidUTF8(bytes)
      throw DataError(
        .invalidEncoding, path: path, line: line ?? 1,
        column: (column ?? 1) + offset,
        "not valid UTF-8 (--encoding latin-1 or auto reads such text as latin-1)")
    }
    if encoding == .automatic { latin1 += 1 }
    var scalars = String.UnicodeScalarView()
    for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
    return String(scalars)
  }

  /// The offset of the first byte that is not part of valid UTF-8.
  static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): offset += UTF8.width(scalar)
      case .emptyInput: return offset
      case .error: return offset
      }
    }
  }
}
