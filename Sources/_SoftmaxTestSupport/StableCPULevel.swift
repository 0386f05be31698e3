//===--- StableCPULevel.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// Held by a test that switches the process's CPU level, and by a test
/// that compares bits computed at different moments: the test targets run
/// in one process, side by side, and the `Float` kernels' bits differ
/// between levels, so a level switched by one suite must not fall between
/// the two results another compares.
private let cpuLevelLock = Mutex(())

/// Runs `body` with the CPU level unchanged by other tests meanwhile (they
/// wait). Not reentrant.
public func withStableCPULevel<R>(_ body: () throws -> R) rethrows -> R {
  try cpuLevelLock.withLock { _ in try body() }
}
