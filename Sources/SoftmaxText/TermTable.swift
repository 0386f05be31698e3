//===--- TermTable.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A set of byte strings numbered in the order they were first inserted:
/// an open-addressing hash table over one byte arena, so that looking a
/// word up allocates nothing.
struct TermTable: Sendable {
  /// The bytes of every term, one after another.
  private(set) var arena: [UInt8] = []
  /// Where term `i` starts in the arena; `starts[count]` is its end.
  private(set) var starts: [Int] = [0]
  private var hashes: [UInt64] = []
  /// Term number + 1 in each slot; 0 for an empty slot.
  private var slots: [Int32]
  private var mask: Int

  init(capacity: Int = 1024) {
    var size = 16
    while size < capacity * 2 { size *= 2 }
    slots = [Int32](repeating: 0, count: size)
    mask = size - 1
  }

  /// The terms `entries` of each of `parts`, in that order, numbered from
  /// 0: the table inserting them one by one would make, built without
  /// hashing a term again (the parts keep their hashes). The terms must be
  /// distinct.
  ///
  /// - Complexity: O(total bytes + terms).
  init(concatenating parts: [(table: TermTable, entries: [Int])]) {
    let total = parts.reduce(0) { $0 + $1.entries.count }
    self.init(capacity: total)
    starts.reserveCapacity(total + 1)
    hashes.reserveCapacity(total)
    arena.reserveCapacity(
      parts.reduce(0) { sum, part in
        part.entries.reduce(sum) { $0 + part.table.starts[$1 + 1] - part.table.starts[$1] }
      })
    for (table, entries) in parts {
      for entry in entries {
        arena.append(contentsOf: table.term(entry))
        starts.append(arena.count)
        hashes.append(table.hashes[entry])
      }
    }
    for index in 0..<total {
      var slot = Int(truncatingIfNeeded: hashes[index]) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(index + 1)
    }
  }

  /// The number of terms.
  var count: Int { starts.count - 1 }

  /// The bytes of term `index`.
  func term(_ index: Int) -> ArraySlice<UInt8> { arena[starts[index]..<starts[index + 1]] }

  /// Sorts term numbers by their bytes (byte order, a prefix first: the
  /// order of `term(a).lexicographicallyPrecedes(term(b))`), comparing in
  /// place with `memcmp` rather than through array slices.
  ///
  /// - Complexity: O(m log m) comparisons for m numbers.
  func sortByBytes(_ indices: inout [Int]) {
    arena.withUnsafeBufferPointer { arena in
      starts.withUnsafeBufferPointer { starts in
        guard let base = arena.baseAddress else { return }  // every term empty: all equal
        indices.sort { a, b in
          let aStart = starts[a]
          let bStart = starts[b]
          let aCount = starts[a + 1] - aStart
          let bCount = starts[b + 1] - bStart
          let order = memcmp(base + aStart, base + bStart, min(aCount, bCount))
          return order < 0 || (order == 0 && aCount < bCount)
        }
      }
    }
  }

  /// The term's text.
  func string(_ index: Int) -> String { String(decoding: term(index), as: UTF8.self) }

  /// FNV-1a, 64 bits, over `bytes`, starting from `seed`'s mix.
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (seed &* 0x9E37_79B9_7F4A_7C15)
    for byte in bytes {
      h ^= UInt64(byte)
      h &*= 0x0000_0100_0000_01B3
    }
    // A final mix: the low bits index the table.
    h ^= h >> 33
    h &*= 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    return h
  }

  /// The number of `bytes`, or `nil` when it is not in the table.
  func index(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    let h = Self.hash(bytes)
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let entry = Int(slots[slot])
      if entry == 0 { return nil }
      if hashes[entry - 1] == h && equals(entry - 1, bytes) { return entry - 1 }
      slot = (slot + 1) & mask
    }
  }

  /// The number of `bytes`, inserting it when new.
  mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    let h = Self.hash(bytes)
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let entry = Int(slots[slot])
      if entry == 0 { break }
      if hashes[entry - 1] == h && equals(entry - 1, bytes) { return entry - 1 }
      slot = (slot + 1) & mask
    }
    let index = count
    arena.append(contentsOf: bytes)
    starts.append(arena.count)
    hashes.append(h)
    slots[slot] = Int32(index + 1)
    if count * 2 > slots.count { grow() }
    return index
  }

  private func equals(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let start = starts[index]
    guard starts[index + 1] - start == bytes.count else { return false }
    return arena.withUnsafeBufferPointer { arena in
      guard let base = arena.baseAddress, let other = bytes.baseAddress else {
        return bytes.isEmpty
      }
      return memcmp(base + start, other, bytes.count) == 0
    }
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Int32](repeating: 0, count: size)
    mask = size - 1
    for index in 0..<count {
      var slot = Int(truncatingIfNeeded: hashes[index]) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(index + 1)
    }
  }
}

@inline(__always)
private func memcmp(
  _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int
) -> Int32 {
  var i = 0
  while i < count {
    if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
    i += 1
  }
  return 0
}
