//===--- Configuration.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

internal import _SoftmaxKernels

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
