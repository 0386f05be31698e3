//===--- Messages.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// How errors name places and sizes.

/// "feature 3 (\"petal_width\")": 0-based, as the library counts rows
/// and columns, with the feature's name when known.
func columnName(_ c: Int, _ names: [String]?) -> String {
  if let names, c < names.count { return "feature \(c) (\"\(names[c])\")" }
  return "feature \(c)"
}

/// "row 1, column 0: nan is not a finite number" (0-based), with the
/// column's name when known.
func nonFiniteMessage<T>(at index: Int, columns d: Int, _ elements: [T], _ names: [String]?)
  -> String
{
  nonFiniteMessage(row: index / max(d, 1), column: index % max(d, 1), elements[index], names)
}

/// "row 1, column 0: nan is not a finite number" for `value` at `row`,
/// `column`.
func nonFiniteMessage<T>(row: Int, column c: Int, _ value: T, _ names: [String]?) -> String {
  let name = names.flatMap { c < $0.count ? " (\"\($0[c])\")" : nil } ?? ""
  return "row \(row), column \(c)\(name): \(value) is not a finite number"
}

/// `bytes` as "1.5 GiB", "12 MiB", "900 bytes".
func byteText(_ bytes: Int) -> String {
  let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
  for (size, name) in units where bytes >= size {
    let value = (Double(bytes) / Double(size) * 10).rounded() / 10
    return "\(value) \(name)"
  }
  return "\(bytes) bytes"
}
