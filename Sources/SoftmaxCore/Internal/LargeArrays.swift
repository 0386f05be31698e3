//===--- LargeArrays.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `count` zeros in an array whose memory the kernel is asked to back with
/// huge pages (2 MiB on x86-64 Linux, `madvise(MADV_HUGEPAGE)` before the
/// first write), for arrays read at random: one TLB entry then covers 512
/// times the memory. Elsewhere, or when the kernel declines, an ordinary
/// array of zeros: the values are the same either way.
package func zeroedLargeArray(count: Int) -> [Double] {
  #if os(Linux) && (canImport(Glibc) || canImport(Musl))
  let hugePage = 2 << 20
  guard count * MemoryLayout<Double>.stride >= 2 * hugePage else {
    return [Double](repeating: 0, count: count)
  }
  return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
    if let base = buffer.baseAddress {
      let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
      let end = (Int(bitPattern: base + count)) & ~(hugePage - 1)
      if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
      }
      base.initialize(repeating: 0, count: count)
    }
    initialized = count
  }
  #else
  return [Double](repeating: 0, count: count)
  #endif
}
