//===--- ParallelFor.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// A small pool of persistent worker threads for the Float kernels.
//
// `DispatchQueue.concurrentPerform` costs 20-25 µs a call here, more than a
// whole 1024 × 128 softmax on one core. The workers of this pool instead
// spin for a short while after each job, waiting for the next one (a few
// hundred nanoseconds to start), and then sleep on a condition variable.
// Jobs below `minimumParallelWork` elements run on the calling thread.
//
// Results never depend on the split: each item (row or column) is computed
// by exactly one kernel call, and every kernel's result for an item depends
// only on that item; totals are summed afterwards in item order.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Work below this many elements runs on one thread.
@usableFromInline
let minimumParallelWork = 48 * 1024

/// Runs `body(begin, end)` over `0..<count`, split into at most
/// `SoftmaxConfiguration.threadCount` ranges whose boundaries are multiples
/// of `grain`. `cost` is the work per item, in elements.
@usableFromInline
package func parallelFor(count: Int, cost: Int, grain: Int, _ body: (Int, Int) -> Void) {
  guard count > 0 else { return }
  let threads = min(WorkerPool.shared.threadCount, (count + grain - 1) / grain)
  if threads <= 1 || count * max(cost, 1) < minimumParallelWork {
    body(0, count)
    return
  }
  WorkerPool.shared.run(count: count, grain: grain, parts: threads, body)
}

/// Runs `body(i)` for every `i` in `0..<count` on the pool's threads, each
/// thread taking the next index not yet taken, so that items of unequal
/// work (documents of unequal length) keep every thread busy. `cost` is
/// the work per item, in elements. Each item must be independent of the
/// others: which thread runs an item never changes its result.
package func parallelForEach(count: Int, cost: Int, _ body: (Int) -> Void) {
  guard count > 0 else { return }
  let threads = min(WorkerPool.shared.threadCount, count)
  if threads <= 1 || count * max(cost, 1) < minimumParallelWork {
    for i in 0..<count { body(i) }
    return
  }
  let next = Atomic<Int>(0)
  WorkerPool.shared.run(count: threads, grain: 1, parts: threads) { _, _ in
    while true {
      let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
      if i >= count { return }
      body(i)
    }
  }
}

/// Persistent worker threads; see the top of this file.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool()

  /// The number of threads a job may use, the caller's included.
  var threadCount: Int {
    get { configuredThreads.load(ordering: .relaxed) }
    set { configuredThreads.store(max(1, min(newValue, 256)), ordering: .relaxed) }
  }

  private let configuredThreads: Atomic<Int>
  /// Bumped once per job; workers wait for it to change.
  private let generation = Atomic<Int>(0)
  /// Workers that have not yet finished (or passed on) the current job:
  /// every worker acknowledges every job, so none can still be reading it
  /// when the next one is written.
  private let pending = Atomic<Int>(0)
  /// Workers blocked on the condition variable.
  private let sleepers = Atomic<Int>(0)
  /// One job at a time; a concurrent caller runs its job alone. A
  /// pthread mutex rather than `Mutex`: ThreadSanitizer sees pthread's
  /// ordering, not that of the standard library's uninstrumented futex.
  private let submission: UnsafeMutablePointer<pthread_mutex_t>

  private let lock: UnsafeMutablePointer<pthread_mutex_t>
  private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
  private var workerCount = 0

  // The current job, written before `generation` is bumped (release) and
  // read by workers after they see the bump (acquire).
  private var body: ((Int, Int) -> Void)?
  private var ranges: [(Int, Int)] = []

  private init() {
    lock = .allocate(capacity: 1)
    wakeUp = .allocate(capacity: 1)
    submission = .allocate(capacity: 1)
    pthread_mutex_init(submission, nil)
    pthread_mutex_init(lock, nil)
    pthread_cond_init(wakeUp, nil)
    var threads = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    if let text = getenv("SOFTMAX_THREADS"), let forced = Int(String(cString: text)), forced > 0 {
      threads = forced
    }
    configuredThreads = Atomic(max(1, min(threads, 256)))
  }

  func run(count: Int, grain: Int, parts: Int, _ job: (Int, Int) -> Void) {
    guard pthread_mutex_trylock(submission) == 0 else {
      job(0, count)  // the pool is busy with another caller
      return
    }
    defer { pthread_mutex_unlock(submission) }
    withoutActuallyEscaping(job) { job in
      runLocked(count: count, grain: grain, parts: parts, job)
    }
  }

  private func runLocked(count: Int, grain: Int, parts: Int, _ job: @escaping (Int, Int) -> Void) {
    // Split into `parts` ranges of whole grains, as even as possible.
    let grains = (count + grain - 1) / grain
    var split: [(Int, Int)] = []
    var start = 0
    for part in 0..<parts {
      let end = min(count, ((part + 1) * grains / parts) * grain)
      if end > start { split.append((start, end)) }
      start = end
    }
    guard split.count > 1 else {
      job(0, count)
      return
    }
    startWorkers(upTo: split.count - 1)
    body = job
    ranges = split
    pending.store(workerCount, ordering: .relaxed)
    // Sequentially consistent with the sleepers counter: a worker about to
    // sleep either sees this generation or is seen as a sleeper and woken.
    generation.add(1, ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      pthread_mutex_lock(lock)
      pthread_cond_broadcast(wakeUp)
      pthread_mutex_unlock(lock)
    }
    job(split[0].0, split[0].1)
    while pending.load(ordering: .acquiring) > 0 {}
    body = nil
  }

  private func startWorkers(upTo wanted: Int) {
    while workerCount < wanted {
      // The worker starts from the generation before this job's bump, so a
      // thread that starts late still runs (or acknowledges) this job.
      let context = Unmanaged.passRetained(
        WorkerContext(
          pool: self, index: workerCount, generation: generation.load(ordering: .acquiring)))
      var thread = pthread_t()
      let status = pthread_create(
        &thread, nil,
        { raw in
          guard let raw else { return nil }
          let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
          context.pool.work(index: context.index, from: context.generation)
          return nil
        }, context.toOpaque())
      precondition(status == 0, "cannot start a worker thread (pthread_create: \(status))")
      pthread_detach(thread)
      workerCount += 1
    }
  }

  /// A worker's loop: wait for a new generation, run its part (if the job
  /// has one for it), report, repeat.
  private func work(index: Int, from start: Int) {
    var seen = start
    while true {
      var spins = 0
      while generation.load(ordering: .acquiring) == seen {
        spins += 1
        if spins < 200_000 { continue }
        pthread_mutex_lock(lock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen {
          pthread_cond_wait(wakeUp, lock)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
      }
      seen = generation.load(ordering: .acquiring)
      let part = index + 1
      if part < ranges.count, let body {
        body(ranges[part].0, ranges[part].1)
      }
      pending.subtract(1, ordering: .releasing)
    }
  }
}

private final class WorkerContext {
  let pool: WorkerPool
  let index: Int
  let generation: Int
  init(pool: WorkerPool, index: Int, generation: Int) {
    self.pool = pool
    self.index = index
    self.generation = generation
  }
}
