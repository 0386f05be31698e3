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
    return filledArray(repeating: 0, count: count)
  }
  return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
    if let base = buffer.baseAddress {
      let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
      let end = (Int(bitPattern: base + count)) & ~(hugePage - 1)
      if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
      }
      initializeInParallel(base, repeating: 0, count: count)
    }
    initialized = count
  }
  #else
  return filledArray(repeating: 0, count: count)
  #endif
}

/// `count` copies of `value`, written on the worker threads: a large new
/// array's pages are then first touched, and cleared by the kernel, on
/// every core rather than one (the clearing, not the writing, is most of
/// the time for arrays of hundreds of megabytes). The same values as
/// `Array(repeating:count:)`. Inlinable, so that callers in other modules
/// get it specialized: unspecialized, each value went through the generic
/// value witness (about 0.5 s of 20 Newsgroups bigrams' training).
@inlinable
package func filledArray<T: BitwiseCopyable>(repeating value: T, count: Int) -> [T] {
  [T](unsafeUninitializedCapacity: count) { buffer, initialized in
    if let base = buffer.baseAddress { initializeInParallel(base, repeating: value, count: count) }
    initialized = count
  }
}

/// `base[0..<count] = value` on the worker threads, in parts of at least
/// 2^16 values.
@inlinable
package func initializeInParallel<T: BitwiseCopyable>(
  _ base: UnsafeMutablePointer<T>, repeating value: T, count: Int
) {
  parallelFor(count: count, cost: 1, grain: 1 << 16) { begin, end in
    (base + begin).initialize(repeating: value, count: end - begin)
  }
}
