//===--- Configuration.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
internal import _SoftmaxKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction-set level of SoftmaxCore's `Float` kernels.
///
/// The kernels are compiled for every level and the best one this CPU
/// supports is chosen once, at first use. The environment variable
/// `SOFTMAX_CPU_LEVEL=baseline|avx2|avx512` forces a lower level (tests use
/// it to check every level); so does setting ``SoftmaxConfiguration/cpuLevel``.
public enum CPULevel: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
  /// Any x86-64 CPU (SSE2), or the baseline of other architectures (NEON on arm64).
  case baseline = 0
  /// AVX2 and FMA.
  case avx2 = 1
  /// AVX-512 (F, DQ, VL, BW) and FMA.
  case avx512 = 2

  /// Orders levels by capability.
  public static func < (lhs: CPULevel, rhs: CPULevel) -> Bool { lhs.rawValue < rhs.rawValue }

  /// "baseline", "avx2" or "avx512", as `SOFTMAX_CPU_LEVEL` takes it.
  public var description: String {
    switch self {
    case .baseline: return "baseline"
    case .avx2: return "avx2"
    case .avx512: return "avx512"
    }
  }
}

/// Process-wide settings of SoftmaxCore's fast paths.
public enum SoftmaxConfiguration {
  /// The highest level this CPU supports.
  public static var supportedCPULevel: CPULevel {
    CPULevel(rawValue: Int(sk_supported_level())) ?? .baseline
  }

  /// The level in use. Setting a level above ``supportedCPULevel`` sets the
  /// supported one instead. Results at every level meet the documented error
  /// bounds, but are not bitwise identical across levels (FMA contraction).
  public static var cpuLevel: CPULevel {
    get { CPULevel(rawValue: Int(sk_level())) ?? .baseline }
    set { _ = sk_set_level(Int32(newValue.rawValue)) }
  }
}

extension SoftmaxConfiguration {
  /// The number of threads a Float kernel may use, the caller's included.
  ///
  /// Defaults to the number of online processors, or to the environment
  /// variable `SOFTMAX_THREADS`. Jobs under about 48 K elements always run
  /// on the calling thread. Results are bitwise identical for every
  /// thread count.
  public static var threadCount: Int {
    get { WorkerPool.shared.threadCount }
    set { WorkerPool.shared.threadCount = newValue }
  }
}

extension SoftmaxConfiguration {
  /// The bytes of memory a computation may plan to use: the machine's
  /// physical memory, or the environment variable `SOFTMAX_MEMORY_LIMIT`
  /// (bytes; `8G`, `512M` and `64K` are understood), or what is set here.
  ///
  /// Training and evaluation compare what they are about to allocate
  /// (parameters times the vectors a solver keeps, a `k × k` confusion
  /// matrix) with it, and throw a clear error instead of allocating more.
  public static var memoryLimit: Int {
    get { memoryLimitStorage.load(ordering: .relaxed) }
    set { memoryLimitStorage.store(max(newValue, 1), ordering: .relaxed) }
  }

  /// `text` as a byte count: digits with an optional `K`, `M`, `G` or `T`
  /// suffix (powers of 1024); `nil` when it is not one.
  public static func byteCount(_ text: String) -> Int? {
    var digits = Substring(text)
    var multiplier = 1
    if let last = digits.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][last.uppercased()] {
      multiplier = 1 << (10 * power)
      digits = digits.dropLast()
    }
    guard let value = Int(digits), value > 0 else { return nil }
    let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : bytes
  }
}

private let memoryLimitStorage: Atomic<Int> = {
  if let text = getenv("SOFTMAX_MEMORY_LIMIT"),
    let bytes = SoftmaxConfiguration.byteCount(String(cString: text))
  {
    return Atomic(bytes)
  }
  let pages = sysconf(Int32(_SC_PHYS_PAGES))
  let pageSize = sysconf(Int32(_SC_PAGESIZE))
  guard pages > 0, pageSize > 0 else { return Atomic(Int.max) }
  let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
  return Atomic(overflow ? Int.max : bytes)
}()
