//===--- TextOptions.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import ArgumentParser
public import SoftmaxData
public import SoftmaxText

extension TermWeighting: ExpressibleByArgument {}
extension TextEncoding: ExpressibleByArgument {}

/// How `train` featurizes text (a fastText-format file or a folder of
/// class folders); the model keeps every setting, so `eval` and `predict`
/// featurize their text the same way.
struct TextOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Text: add the runs of up to N consecutive words as terms (2: bigrams).", valueName: "N"))
  var ngrams: Int = 1

  @Option(
    name: .customLong("char-ngrams"),
    help: ArgumentHelp(
      "Text: add each word's character n-grams of these lengths (2-4; the word padded with spaces).",
      valueName: "min-max"))
  var charNGrams: String?

  @Option(
    name: .customLong("min-count"),
    help: ArgumentHelp(
      "Text: keep a term when at least this many training documents have it.", valueName: "N"))
  var minCount: Int = 1

  @Option(
    help: ArgumentHelp(
      "Text: hash terms into this many columns instead of keeping a vocabulary.", valueName: "N"))
  var buckets: Int?

  @Option(
    name: .customLong("min-word-length"),
    help: ArgumentHelp("Text: the fewest letters and digits a word keeps.", valueName: "N"))
  var minWordLength: Int = 2

  @Flag(inversion: .prefixedNo, help: "Text: lower-case the text first.")
  var lowercase = true

  @Option(help: ArgumentHelp("Text: how occurrences count.", valueName: "count|sublinear|binary"))
  var tf: TermWeighting = .count

  @Flag(inversion: .prefixedNo, help: "Text: weigh terms by inverse document frequency.")
  var idf = true

  @Flag(inversion: .prefixedNo, help: "Text: scale each document's row to unit length.")
  var normalize = true

  func validate() throws {
    if ngrams < 1 || ngrams > 8 { throw ValidationError("--ngrams must be 1 to 8, not \(ngrams)") }
    if minCount < 1 { throw ValidationError("--min-count must be at least 1, not \(minCount)") }
    if let buckets, buckets < 1 || buckets > 1 << 30 {
      throw ValidationError("--buckets must be 1 to 2^30, not \(buckets)")
    }
    if minWordLength < 1 || minWordLength > 1000 {
      throw ValidationError("--min-word-length must be 1 to 1000, not \(minWordLength)")
    }
    if charNGrams != nil, characterRange == nil {
      throw ValidationError(
        "--char-ngrams takes lengths as min-max within 1-16 (2-4), or one length, not \"\(charNGrams ?? "")\""
      )
    }
  }

  /// The text settings given other than their defaults, as spelled on
  /// the command line (for the error when the data is not text).
  var changedSettings: [String] {
    var changed: [String] = []
    if ngrams != 1 { changed.append("--ngrams") }
    if charNGrams != nil { changed.append("--char-ngrams") }
    if minCount != 1 { changed.append("--min-count") }
    if buckets != nil { changed.append("--buckets") }
    if minWordLength != 2 { changed.append("--min-word-length") }
    if !lowercase { changed.append("--no-lowercase") }
    if tf != .count { changed.append("--tf") }
    if !idf { changed.append("--no-idf") }
    if !normalize { changed.append("--no-normalize") }
    return changed
  }

  /// `--char-ngrams` as a range.
  var characterRange: ClosedRange<Int>? {
    guard let charNGrams else { return nil }
    let parts = charNGrams.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
    guard parts.count <= 2, let low = parts.first ?? nil, let high = parts.last ?? nil,
      low >= 1, low <= high, high <= 16
    else { return nil }
    return low...high
  }

  /// The library's settings.
  var featureOptions: TextFeatureOptions {
    var options = TextFeatureOptions()
    options.tokenizer = Tokenizer(lowercases: lowercase, minimumLength: minWordLength)
    options.wordNGrams = ngrams
    options.characterNGrams = characterRange
    options.minimumDocumentCount = minCount
    options.buckets = buckets
    options.termWeighting = tf
    options.inverseDocumentFrequency = idf
    options.normalizesRows = normalize
    return options
  }
}

extension DataOptions {
  /// Whether `path` is text to featurize: a folder (of class folders), a
  /// file in fastText's format (by `--format` or its content), or `-`.
  func isText(_ path: String) -> Bool {
    if path == "-" || TextReader.isDirectory(path) { return true }
    return (try? DataLoader.format(of: path, given: format)) == .fastText
  }

  /// Reads text (see ``isText(_:)``), saying what the reader decided.
  func loadText(_ path: String, requireLabels: Bool) throws -> TextDataSet {
    let text = try TextReader.read(path, encoding: encoding, requireLabels: requireLabels)
    for note in text.report.notes { StandardError.write("softmax: note: \(path): \(note)\n") }
    return text
  }
}

extension TextDataSet {
  /// Each document's labels as indices of `classes`.
  ///
  /// - Throws: for the first label that is not one of `classes`, naming
  ///   its document's source (`file:line`, or the file of a folder).
  func classIndices(of classes: [String]) throws -> [[Int]] {
    var index: [String: Int] = [:]
    for (k, name) in classes.enumerated() { index[name] = k }
    return try (labels ?? []).enumerated().map { document, names in
      try names.map { name in
        guard let k = index[name] else {
          let shown =
            classes.prefix(10).joined(separator: ", ") + (classes.count > 10 ? ", ..." : "")
          throw CommandFailure(
            "\(sources[document]): label \"\(name)\" is not one of the model's classes (\(shown))")
        }
        return k
      }
    }
  }
}
