//===--- TextVectorizer.swift ---------------------------------*- swift -*-===//
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

/// Turns documents into sparse feature rows, as fitted on training
/// documents: the vocabulary (or hash buckets), the inverse document
/// frequencies, and every setting of ``TextFeatureOptions``. A model keeps
/// its vectorizer, so that text given to it later is featurized exactly as
/// its training text was.
///
///     let (vectorizer, x) = try TextVectorizer.fit(trainingTexts)   // x: n × d
///     let y = vectorizer.transform(["a new document"])             // 1 × d
///
/// A row's value for term t: w(t) · idf(t) / ‖row‖₂, w the count (or
/// ``TermWeighting``), computed in `Double` (each value within 4 ulps of
/// the exact expression). Columns are the vocabulary's terms in byte
/// order, so the same documents and options give the same matrix whatever
/// the order terms were met in. Cost: one pass over the text to fit
/// (hashing each term once), one to transform; memory of the vocabulary
/// and of one row of terms.
public struct TextVectorizer: Sendable {
  /// The settings.
  public let options: TextFeatureOptions
  /// The terms, one per column, in byte order; empty with the hashing
  /// trick.
  public let vocabulary: [String]
  /// Each column's inverse document frequency, or `nil` without idf.
  public let inverseDocumentFrequencies: [Double]?
  /// The number of training documents.
  public let documentCount: Int
  /// The vocabulary's lookup table (empty with the hashing trick).
  let table: TermTable

  /// The number of columns: the vocabulary's size, or the buckets.
  public var featureCount: Int { options.buckets ?? vocabulary.count }

  /// The column of a term (a word, `"new york"`, `"#cat"`), or `nil` when
  /// it is not in the vocabulary; with the hashing trick, its bucket.
  public func column(of term: String) -> Int? {
    var term = term
    term.makeContiguousUTF8()
    return term.utf8.withContiguousStorageIfAvailable { column(ofBytes: $0) } ?? nil
  }

  /// ``column(of:)`` for a term's UTF-8 bytes.
  func column(ofBytes term: UnsafeBufferPointer<UInt8>) -> Int? {
    if let buckets = options.buckets { return Self.bucket(of: term, buckets, options) }
    return table.index(of: term)
  }

  /// The hashing trick's column of a term: its seeded FNV-1a hash modulo
  /// the bucket count.
  static func bucket(
    of term: UnsafeBufferPointer<UInt8>, _ buckets: Int, _ options: TextFeatureOptions
  ) -> Int {
    Int(TermTable.hash(term, seed: options.hashSeed) % UInt64(buckets))
  }

  /// Fits the vocabulary and idf on `documents` and returns them with the
  /// documents' rows (scikit-learn's `fit_transform`).
  ///
  /// - Throws: ``TextError``: `.invalidOptions`; `.emptyVocabulary` when
  ///   no term is in `options.minimumDocumentCount` documents (or no
  ///   document has a word).
  /// - Complexity: O(total text + terms · log terms).
  public static func fit(
    _ documents: [String], options: TextFeatureOptions = TextFeatureOptions()
  ) throws(TextError) -> (vectorizer: TextVectorizer, features: SparseMatrix<Double>) {
    if let problem = options.problem() { throw TextError(.invalidOptions, problem) }
    // Each part of the documents (on its own thread) finds its terms in a
    // table of its own; the tables are then merged, by the terms' first
    // byte, into the vocabulary in byte order.
    let parts = documentParts(documents.count)
    var chunks = parts.map { _ in FitChunk() }
    chunks.withUnsafeMutableBufferPointer { chunks in
      parallelForEach(count: parts.count, cost: 1 << 16) { c in
        chunks[c].read(documents[parts[c]], options: options)
      }
    }
    let n = documents.count
    var vocabulary: [String] = []
    var table = TermTable()
    var documentFrequencies: [Int32]
    // Each part's term's column (a vocabulary's; with hashing, the bucket
    // is the column): entry `chunkStarts[c] + id` for part c's term id.
    var merged: (columns: [Int32], chunkStarts: [Int]) = ([], [])
    if let buckets = options.buckets {
      documentFrequencies = [Int32](repeating: 0, count: buckets)
      for chunk in chunks {
        for id in 0..<buckets { documentFrequencies[id] += chunk.documentFrequency[id] }
      }
    } else {
      let vocabularyAndColumns = mergeVocabularies(
        chunks, minimumDocumentCount: options.minimumDocumentCount)
      guard !vocabularyAndColumns.vocabulary.isEmpty else {
        throw TextError(
          .emptyVocabulary,
          vocabularyAndColumns.termCount == 0
            ? "no document has a word (of \(options.tokenizer.minimumLength) or more letters and digits)"
            : "no term is in \(options.minimumDocumentCount) or more of the \(n) documents; lower the minimum count"
        )
      }
      vocabulary = vocabularyAndColumns.vocabulary
      documentFrequencies = vocabularyAndColumns.documentFrequencies
      table = vocabularyAndColumns.table
      merged = (vocabularyAndColumns.columns, vocabularyAndColumns.chunkStarts)
    }
    let idf: [Double]? =
      options.inverseDocumentFrequency
      ? documentFrequencies.map { smoothedIDF(documents: n, having: Int($0)) } : nil
    let vectorizer = TextVectorizer(
      options: options, vocabulary: vocabulary, inverseDocumentFrequencies: idf,
      documentCount: n, table: table)
    let hashing = options.buckets != nil
    let builders = parallelRows(parts.count, columns: vectorizer.featureCount) { c, builder in
      var row = RowBuilder()
      let chunk = chunks[c]
      var start = 0
      for end in chunk.documentEnds {
        for k in start..<end {
          let local = Int(chunk.occurrences[k])
          let column = hashing ? Int32(local) : merged.columns[merged.chunkStarts[c] + local]
          if column >= 0 { row.terms.append(column) }
        }
        vectorizer.appendRow(&row, to: &builder)
        start = end
      }
    }
    return (vectorizer, joined(builders, columns: vectorizer.featureCount))
  }

  /// The vocabulary of the parts' tables: the terms in at least
  /// `minimumDocumentCount` documents, in byte order, with their document
  /// frequencies and a table numbering them, and each part's terms'
  /// columns (−1 for those left out), part after part.
  ///
  /// The terms are split by their first byte (an empty term first), which
  /// keeps byte order between the groups: each group is merged, counted,
  /// filtered and sorted on its own, on the worker threads (a thread takes
  /// the next group as it frees up), and the groups are laid end to end.
  /// The result does not depend on the parts or on the threads: a term's
  /// column is its rank in byte order.
  ///
  /// - Complexity: O(terms · log terms) comparisons, spread over the
  ///   threads; O(terms) on one thread for the final table.
  private static func mergeVocabularies(
    _ chunks: [FitChunk], minimumDocumentCount: Int
  ) -> (
    vocabulary: [String], documentFrequencies: [Int32], table: TermTable, termCount: Int,
    columns: [Int32], chunkStarts: [Int]
  ) {
    let groupCount = 257  // the empty term, then one group per first byte
    func group(_ term: ArraySlice<UInt8>) -> Int { term.first.map { Int($0) + 1 } ?? 0 }
    // Each part's terms by group (a counting sort of its term numbers).
    var byGroup = [(starts: [Int], ids: [Int32])](repeating: ([], []), count: chunks.count)
    byGroup.withUnsafeMutableBufferPointer { byGroup in
      parallelForEach(count: chunks.count, cost: 1 << 16) { c in
        let table = chunks[c].table
        var starts = [Int](repeating: 0, count: groupCount + 1)
        for id in 0..<table.count { starts[group(table.term(id)) + 1] += 1 }
        for g in 0..<groupCount { starts[g + 1] += starts[g] }
        var next = starts
        var ids = [Int32](repeating: 0, count: table.count)
        for id in 0..<table.count {
          let g = group(table.term(id))
          ids[next[g]] = Int32(id)
          next[g] += 1
        }
        byGroup[c] = (starts, ids)
      }
    }
    // Part c's term id is entry `chunkStarts[c] + id` of `columns`.
    var chunkStarts = [0]
    for chunk in chunks {
      chunkStarts.append(chunkStarts[chunkStarts.count - 1] + chunk.table.count)
    }
    var columns = [Int32](repeating: -1, count: chunkStarts[chunks.count])
    struct Group {
      var table = TermTable(capacity: 16)
      /// The kept terms (numbers in `table`), in byte order.
      var kept: [Int] = []
      var frequencies: [Int32] = []
      var strings: [String] = []
    }
    var groups = [Group](repeating: Group(), count: groupCount)
    // Each group: its terms merged (their frequencies summed), filtered
    // and sorted; every part's entry given its rank within the group. The
    // groups write disjoint entries of `columns`, through its address.
    columns.withUnsafeMutableBufferPointer { columns in
      groups.withUnsafeMutableBufferPointer { groups in
        guard let columns = columns.baseAddress else { return }
        parallelForEach(count: groupCount, cost: 1 << 12) { g in
          var merged = TermTable(capacity: 16)
          var frequency: [Int32] = []
          for c in 0..<chunks.count {
            let (starts, ids) = byGroup[c]
            for k in starts[g]..<starts[g + 1] {
              let id = Int(ids[k])
              let entry = chunks[c].table.term(id).withUnsafeBufferPointer { merged.insert($0) }
              if entry == frequency.count { frequency.append(0) }
              frequency[entry] += chunks[c].documentFrequency[id]
              columns[chunkStarts[c] + id] = Int32(entry)  // for now, the entry in `merged`
            }
          }
          var kept = (0..<merged.count).filter { Int(frequency[$0]) >= minimumDocumentCount }
          merged.sortByBytes(&kept)
          var rank = [Int32](repeating: -1, count: merged.count)
          for (r, entry) in kept.enumerated() { rank[entry] = Int32(r) }
          // The ranks within the group, for now, in each part's `global`.
          for c in 0..<chunks.count {
            let (starts, ids) = byGroup[c]
            for k in starts[g]..<starts[g + 1] {
              let at = chunkStarts[c] + Int(ids[k])
              columns[at] = rank[Int(columns[at])]
            }
          }
          groups[g] = Group(
            table: merged, kept: kept, frequencies: kept.map { frequency[$0] },
            strings: kept.map { merged.string($0) })
        }
      }
    }
    // The groups end to end: ranks become columns.
    var offsets = [Int32](repeating: 0, count: groupCount + 1)
    for g in 0..<groupCount { offsets[g + 1] = offsets[g] + Int32(groups[g].kept.count) }
    columns.withUnsafeMutableBufferPointer { columns in
      guard let columns = columns.baseAddress else { return }
      parallelForEach(count: chunks.count, cost: 1 << 16) { c in
        let (starts, ids) = byGroup[c]
        for g in 0..<groupCount {
          for k in starts[g]..<starts[g + 1] {
            let at = chunkStarts[c] + Int(ids[k])
            if columns[at] >= 0 { columns[at] += offsets[g] }
          }
        }
      }
    }
    return (
      groups.flatMap(\.strings), groups.flatMap(\.frequencies),
      TermTable(concatenating: groups.map { ($0.table, $0.kept) }),
      groups.reduce(0) { $0 + $1.table.count }, columns, chunkStarts
    )
  }

  /// What one part of the documents holds for ``fit(_:options:)``: its
  /// terms (entries of its own table, or buckets), each document's end,
  /// and in how many of its documents each term is.
  private struct FitChunk {
    var table = TermTable(capacity: 1 << 12)
    var occurrences: [Int32] = []
    var documentEnds: [Int] = []
    var documentFrequency: [Int32] = []

    mutating func read(_ documents: ArraySlice<String>, options: TextFeatureOptions) {
      var generator = TermGenerator(options: options)
      var lastDocument: [Int32] = []
      if let buckets = options.buckets {
        documentFrequency = [Int32](repeating: 0, count: buckets)
        lastDocument = [Int32](repeating: -1, count: buckets)
      }
      documentEnds.reserveCapacity(documents.count)
      for (d, document) in documents.enumerated() {
        var text = document
        let d32 = Int32(truncatingIfNeeded: d)
        generator.forEachTerm(in: &text) { term in
          let id: Int
          if let buckets = options.buckets {
            id = TextVectorizer.bucket(of: term, buckets, options)
          } else {
            id = table.insert(term)
            if id == documentFrequency.count {
              documentFrequency.append(0)
              lastDocument.append(-1)
            }
          }
          if lastDocument[id] != d32 {
            documentFrequency[id] += 1
            lastDocument[id] = d32
          }
          occurrences.append(Int32(id))
        }
        documentEnds.append(occurrences.count)
      }
    }
  }

  /// The documents in parts of about equal count, four per thread (at
  /// least 256 documents a part), which the threads take as they free up
  /// (documents differ in length): the work of a part depends only on its
  /// documents, so the result is the same for any thread count.
  private static func documentParts(_ count: Int) -> [Range<Int>] {
    let threads = SoftmaxConfiguration.threadCount
    let parts = max(1, min(4 * threads, count / 256))
    return (0..<parts).map { p in (count * p / parts)..<(count * (p + 1) / parts) }
  }

  /// `fill(part, &builder)` for each part on all threads; the builders in
  /// part order.
  private static func parallelRows(
    _ parts: Int, columns: Int, _ fill: (Int, inout SparseMatrix<Double>.Builder) -> Void
  ) -> [SparseMatrix<Double>.Builder] {
    var builders = (0..<parts).map { _ in SparseMatrix<Double>.Builder(columns: columns) }
    builders.withUnsafeMutableBufferPointer { builders in
      parallelForEach(count: parts, cost: 1 << 16) { p in fill(p, &builders[p]) }
    }
    return builders
  }

  /// The rows of `builders`, in order, as one matrix.
  private static func joined(
    _ builders: [SparseMatrix<Double>.Builder], columns: Int
  ) -> SparseMatrix<Double> {
    guard builders.count != 1, let first = builders.first else {
      return builders.first?.matrix ?? SparseMatrix<Double>.Builder(columns: columns).matrix
    }
    var all = first
    all.reserveCapacity(
      entries: builders.reduce(0) { $0 + $1.entryCount },
      rows: builders.reduce(0) { $0 + $1.rowCount })
    for builder in builders.dropFirst() { all.append(rowsOf: builder) }
    return all.matrix
  }

  /// The rows of `documents`: terms not in the vocabulary are left out.
  ///
  /// - Complexity: O(total text), on all threads; the same matrix for any
  ///   split of the documents into calls, and any thread count.
  public func transform<Scalar: SoftmaxScalar>(
    _ documents: [String], as _: Scalar.Type = Double.self
  ) -> SparseMatrix<Scalar> {
    let parts = Self.documentParts(documents.count)
    let builders = Self.parallelRows(parts.count, columns: featureCount) { p, builder in
      var generator = TermGenerator(options: options)
      var row = RowBuilder()
      for document in documents[parts[p]] {
        var text = document
        generator.forEachTerm(in: &text) { term in
          if let c = column(ofBytes: term) { row.terms.append(Int32(c)) }
        }
        appendRow(&row, to: &builder)
      }
    }
    let matrix = Self.joined(builders, columns: featureCount)
    if let same = matrix as? SparseMatrix<Scalar> { return same }
    return SparseMatrix(
      unchecked: matrix.rows, columns: matrix.columns, rowOffsets: matrix.rowOffsets,
      columnIndices: matrix.columnIndices, values: matrix.values.map { Scalar($0) })
  }

  /// Scratch for one row: its terms' columns, with repeats.
  struct RowBuilder {
    var terms: [Int32] = []
    /// Scratch for the row's distinct columns and their values.
    var columns: [Int32] = []
    var values: [Double] = []
  }

  /// Weighs a row's terms (count, idf, norm) and appends it; empties `row`.
  func appendRow(_ row: inout RowBuilder, to builder: inout SparseMatrix<Double>.Builder) {
    row.terms.sort()
    var columns = row.columns
    var values = row.values
    row.columns = []
    row.values = []
    columns.removeAll(keepingCapacity: true)
    values.removeAll(keepingCapacity: true)
    var k = 0
    let terms = row.terms
    while k < terms.count {
      var end = k + 1
      while end < terms.count && terms[end] == terms[k] { end += 1 }
      let count = Double(end - k)
      var value: Double
      switch options.termWeighting {
      case .count: value = count
      case .sublinear: value = 1 + log(count)
      case .binary: value = 1
      }
      if let idf = inverseDocumentFrequencies { value *= idf[Int(terms[k])] }
      columns.append(terms[k])
      values.append(value)
      k = end
    }
    if options.normalizesRows && !values.isEmpty {
      // The norm of values ≤ 2^31 · 30: no overflow.
      let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for i in values.indices { values[i] /= norm }
    }
    for (c, v) in zip(columns, values) { builder.append(column: Int(c), value: v) }
    builder.endRow()
    row.terms.removeAll(keepingCapacity: true)
    row.columns = columns
    row.values = values
  }
}

/// ln((1 + n)/(1 + df)) + 1.
func smoothedIDF(documents n: Int, having df: Int) -> Double {
  log(Double(1 + n) / Double(1 + df)) + 1
}
