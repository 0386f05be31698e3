//===--- ParallelReadingSupport.swift -------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// What the suites of the readers that parse on every thread (CSV, LIBSVM)
// share: a thread count for a read, a file to read, its lines.

import Foundation
import SoftmaxCore

/// `body` with `threads` worker threads, the count restored after.
func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
  let saved = SoftmaxConfiguration.threadCount
  SoftmaxConfiguration.threadCount = threads
  defer { SoftmaxConfiguration.threadCount = saved }
  return try body()
}

/// Writes `text` to a file of this process in the temporary directory,
/// named after `name` with the extension `ext`; returns its path.
func writeTemporary(_ text: String, _ name: String, ext: String) throws -> String {
  let path = NSTemporaryDirectory() + "softmax-parallel-\(getpid())-\(name).\(ext)"
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  return path
}

/// The lines as the readers count them (a Swift `Character` would take
/// "\r\n" as one); after a final line feed, an empty last line.
func physicalLines(_ text: String) -> [String] {
  text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
}
