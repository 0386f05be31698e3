//===--- TextFeatureOptions.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// How a document's terms are counted into its feature values.
public enum TermWeighting: String, Sendable, Hashable, Codable, CaseIterable {
  /// The number of times the term occurs (scikit-learn's default).
  case count
  /// 1 + ln(count) (scikit-learn's `sublinear_tf=True`): the tenth
  /// occurrence of a word adds less than the second.
  case sublinear
  /// 1 when the term occurs (scikit-learn's `binary=True`).
  case binary
}

/// Every setting of text featurization: which terms (words, word n-grams,
/// character n-grams), how they become columns (a vocabulary, or the
/// hashing trick), and how they are weighted (tf, idf, L2 norm). The
/// defaults are scikit-learn's `TfidfVectorizer` with words of two or
/// more letters and digits.
public struct TextFeatureOptions: Sendable, Hashable, Codable {
  /// How text becomes words.
  public var tokenizer = Tokenizer()
  /// Terms are the words and the runs of up to this many consecutive words
  /// (joined by a space: `"new york"`); 1 is words alone, 2 adds bigrams
  /// (scikit-learn's `ngram_range=(1, n)`, fastText's `-wordNgrams n`).
  public var wordNGrams = 1
  /// Adds the character n-grams of each word, of these lengths in
  /// characters, the word padded by a space on each side (scikit-learn's
  /// `analyzer="char_wb"`), as terms `#` + n-gram (`"# ca"`, `"#cat"`);
  /// `nil` for none.
  public var characterNGrams: ClosedRange<Int>? = nil
  /// With a vocabulary: a term is kept when at least this many training
  /// documents have it (scikit-learn's `min_df`).
  public var minimumDocumentCount = 1
  /// The hashing trick when set: a term's column is its 64-bit FNV-1a
  /// hash (from ``hashSeed``) modulo this many buckets; no vocabulary is
  /// kept (fastText's `-bucket`, scikit-learn's `HashingVectorizer`
  /// without the alternating sign). `nil` keeps a vocabulary.
  public var buckets: Int? = nil
  /// The seed of the term hash.
  public var hashSeed: UInt64 = 0
  /// How occurrences count.
  public var termWeighting = TermWeighting.count
  /// Whether each column is multiplied by its smoothed inverse document
  /// frequency, ln((1 + n)/(1 + df)) + 1, n the training documents and
  /// df those with the term (scikit-learn's `smooth_idf=True`).
  public var inverseDocumentFrequency = true
  /// Whether each row is scaled to unit Euclidean norm (a row without
  /// terms stays zero).
  public var normalizesRows = true

  /// The defaults.
  public init() {}

  /// The first problem with the settings, or `nil`.
  func problem() -> String? {
    if wordNGrams < 1 || wordNGrams > 8 {
      return "word n-grams must be 1 to 8 (got \(wordNGrams))"
    }
    if let range = characterNGrams, range.lowerBound < 1 || range.upperBound > 16 {
      return "character n-gram lengths must be within 1...16 (got \(range))"
    }
    if minimumDocumentCount < 1 {
      return "the minimum document count must be at least 1 (got \(minimumDocumentCount))"
    }
    if let buckets, buckets < 1 || buckets > 1 << 30 {
      return "buckets must be 1 to 2^30 (got \(buckets))"
    }
    if tokenizer.minimumLength < 1 || tokenizer.minimumLength > 1000 {
      return "the minimum word length must be 1 to 1000 (got \(tokenizer.minimumLength))"
    }
    return nil
  }
}
