//===--- ModelOutput.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxData
import SoftmaxRegression

/// Writes `model`'s file at `path`, whole or not at all, from the pieces of
/// its text: a large model's weights (23.5M numbers, 750 MB of text for 20
/// Newsgroups' every bigram) are not joined into a second copy in memory
/// before they are written.
func writeModel(_ model: SoftmaxClassifier, to path: String) throws {
  let pieces = try ModelFile.encodedPieces(model)
  try AtomicFile.write(to: path) { append throws(DataError) in
    for piece in pieces { try append(piece) }
  }
}
