//===--- TextVectorizer+Codable.swift -------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

extension TextVectorizer: Hashable {
  /// Equal when the settings, vocabulary, idf and document count are.
  public static func == (a: TextVectorizer, b: TextVectorizer) -> Bool {
    a.options == b.options && a.vocabulary == b.vocabulary
      && a.inverseDocumentFrequencies == b.inverseDocumentFrequencies
      && a.documentCount == b.documentCount
  }

  /// Hashes what `==` compares.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(options)
    hasher.combine(vocabulary)
    hasher.combine(inverseDocumentFrequencies)
    hasher.combine(documentCount)
  }
}

extension TextVectorizer: Codable {
  private enum CodingKeys: String, CodingKey {
    case options, vocabulary, inverseDocumentFrequencies, documentCount
  }

  /// Writes the settings, the vocabulary, the idf and the document count.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(options, forKey: .options)
    try container.encode(vocabulary, forKey: .vocabulary)
    try container.encode(inverseDocumentFrequencies, forKey: .inverseDocumentFrequencies)
    try container.encode(documentCount, forKey: .documentCount)
  }

  /// Reads what ``encode(to:)`` writes, checking that it holds together
  /// (``init(options:vocabulary:inverseDocumentFrequencies:documentCount:)``).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      options: container.decode(TextFeatureOptions.self, forKey: .options),
      vocabulary: container.decode([String].self, forKey: .vocabulary),
      inverseDocumentFrequencies: container.decodeIfPresent(
        [Double].self, forKey: .inverseDocumentFrequencies),
      documentCount: container.decode(Int.self, forKey: .documentCount))
  }

  /// A vectorizer from its parts (as a model file stores them).
  ///
  /// - Throws: ``TextError``: `.invalidOptions`; `.invalidVectorizer` for
  ///   a vocabulary with a repeated term or not in byte order, a
  ///   vocabulary given with the hashing trick, an idf of another length
  ///   than the columns, or an idf value that is not finite and ≥ 1, or
  ///   a negative document count.
  public init(
    options: TextFeatureOptions, vocabulary: [String], inverseDocumentFrequencies: [Double]?,
    documentCount: Int
  ) throws(TextError) {
    if let problem = options.problem() { throw TextError(.invalidOptions, problem) }
    func fail(_ message: String) -> TextError { TextError(.invalidVectorizer, message) }
    if options.buckets != nil && !vocabulary.isEmpty {
      throw fail("a vocabulary of \(vocabulary.count) terms with the hashing trick")
    }
    if options.buckets == nil && vocabulary.isEmpty { throw fail("an empty vocabulary") }
    guard documentCount >= 0 else { throw fail("a document count of \(documentCount)") }
    var table = TermTable(capacity: vocabulary.count)
    for (k, term) in vocabulary.enumerated() {
      if k > 0 && !vocabulary[k - 1].utf8.lexicographicallyPrecedes(term.utf8) {
        throw fail(
          "the vocabulary is not in byte order without repeats at term \(k) (\"\(term)\")")
      }
      var term = term
      term.makeContiguousUTF8()
      term.utf8.withContiguousStorageIfAvailable { _ = table.insert($0) }
    }
    let columns = options.buckets ?? vocabulary.count
    if let idf = inverseDocumentFrequencies {
      guard idf.count == columns else {
        throw fail("\(idf.count) inverse document frequencies for \(columns) columns")
      }
      if let bad = idf.firstIndex(where: { !($0.isFinite && $0 >= 1) }) {
        throw fail("inverse document frequency \(bad) is \(idf[bad]); each is finite and ≥ 1")
      }
    } else if options.inverseDocumentFrequency {
      throw fail("the options ask for idf and none is stored")
    }
    self.init(
      options: options, vocabulary: vocabulary,
      inverseDocumentFrequencies: inverseDocumentFrequencies, documentCount: documentCount,
      table: table)
  }
}
