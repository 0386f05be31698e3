//===--- TermGenerator.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The terms of a document as ``TextFeatureOptions`` define them: its
/// words, its word n-grams, its words' character n-grams; one reusable
/// set of buffers, so that a document's terms cost no allocation.
struct TermGenerator {
  let options: TextFeatureOptions
  private var words: [UInt8] = []
  private var wordEnds: [Int] = []
  private var scratch: [UInt8] = []
  private var scalarStarts: [Int] = []

  init(options: TextFeatureOptions) {
    self.options = options
    words.reserveCapacity(1 << 16)
    scratch.reserveCapacity(256)
  }

  /// Calls `body` with the UTF-8 bytes of every term of `text` (the
  /// buffer is valid only during the call): words in order, then each
  /// word n-gram length's n-grams in order, then character n-grams.
  mutating func forEachTerm(in text: inout String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
    words.removeAll(keepingCapacity: true)
    wordEnds.removeAll(keepingCapacity: true)
    options.tokenizer.forEachWord(in: &text) { word in
      words.append(contentsOf: word)
      wordEnds.append(words.count)
    }
    let count = wordEnds.count
    func start(_ t: Int) -> Int { t == 0 ? 0 : wordEnds[t - 1] }
    words.withUnsafeBufferPointer { all in
      for t in 0..<count {
        body(UnsafeBufferPointer(rebasing: all[start(t)..<wordEnds[t]]))
      }
      if options.wordNGrams >= 2 {
        for n in 2...options.wordNGrams where n <= count {
          for t in 0...(count - n) {
            scratch.removeAll(keepingCapacity: true)
            for k in t..<(t + n) {
              if k > t { scratch.append(0x20) }
              scratch.append(contentsOf: all[start(k)..<wordEnds[k]])
            }
            scratch.withUnsafeBufferPointer { body($0) }
          }
        }
      }
      if let lengths = options.characterNGrams {
        for t in 0..<count {
          characterNGrams(of: all[start(t)..<wordEnds[t]], lengths: lengths, body)
        }
      }
    }
  }

  /// `#` + each n-gram of `" " + word + " "`, for n in `lengths`
  /// (characters, not bytes).
  private mutating func characterNGrams(
    of word: Slice<UnsafeBufferPointer<UInt8>>, lengths: ClosedRange<Int>,
    _ body: (UnsafeBufferPointer<UInt8>) -> Void
  ) {
    var padded: [UInt8] = [0x20]
    padded.append(contentsOf: word)
    padded.append(0x20)
    scalarStarts.removeAll(keepingCapacity: true)
    for (offset, byte) in padded.enumerated() where byte & 0xC0 != 0x80 {
      scalarStarts.append(offset)
    }
    let scalars = scalarStarts.count
    scalarStarts.append(padded.count)
    for n in lengths where n <= scalars {
      for first in 0...(scalars - n) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(UInt8(ascii: "#"))
        scratch.append(contentsOf: padded[scalarStarts[first]..<scalarStarts[first + n]])
        scratch.withUnsafeBufferPointer { body($0) }
      }
    }
  }
}
