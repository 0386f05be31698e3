//===--- main.swift (load-timing) -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Times SoftmaxData's reader on one file, for Benchmarks/compare_loading.py:
//
//     load-timing FILE [--float | --sparse | --stream] [--repeats R]
//
// --sparse reads a LIBSVM file into a Float sparse matrix (LIBSVMReader.readSparse);
// --stream times one pass of a LIBSVMRowStream over it (chunks of 4096 rows).
//
// Prints one JSON line: rows, columns, and the seconds of every repeat
// (wall clock, the whole read: open, parse, labels, matrix).

import Foundation
import SoftmaxData

var arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.first else {
  FileHandle.standardError.write(
    Data("usage: load-timing FILE [--float | --sparse | --stream] [--repeats R]\n".utf8))
  exit(2)
}
arguments = arguments.dropFirst()
var useFloat = false
var sparse = false
var stream = false
var repeats = 5
while let argument = arguments.first {
  arguments = arguments.dropFirst()
  switch argument {
  case "--float": useFloat = true
  case "--sparse": sparse = true
  case "--stream": stream = true
  case "--repeats":
    repeats = Int(arguments.first ?? "") ?? repeats
    arguments = arguments.dropFirst()
  default: break
  }
}

var seconds: [Double] = []
var shape = (0, 0)
var streamed: LIBSVMRowStream<Float>? = nil
for _ in 0..<repeats {
  let start = DispatchTime.now().uptimeNanoseconds
  if stream {
    // One pass of a LIBSVM stream (made before the clock starts), in
    // chunks of 4096 rows, as streamed training reads it on every pass.
    let rowStream = try streamed ?? LIBSVMRowStream(path: path, as: Float.self)
    streamed = rowStream
    let restart = DispatchTime.now().uptimeNanoseconds
    var rows = 0
    try rowStream.forEachChunk(rows: 4096) { _, chunk in rows += chunk.rows }
    shape = (rows, rowStream.columns)
    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - restart) * 1e-9)
    continue
  } else if sparse {
    let data = try LIBSVMReader.readSparse(path, as: Float.self)
    shape = (data.count, data.featureCount)
  } else if useFloat {
    let data = try DataLoader.load(path, as: Float.self)
    shape = (data.count, data.featureCount)
  } else {
    let data = try DataLoader.load(path, as: Double.self)
    shape = (data.count, data.featureCount)
  }
  seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
}
print("{\"rows\": \(shape.0), \"columns\": \(shape.1), \"seconds\": \(seconds)}")
