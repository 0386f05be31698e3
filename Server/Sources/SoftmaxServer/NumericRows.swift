//===--- NumericRows.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxData

/// The usual prediction request, `{"rows": [[numbers], ...], "top_k": K}`
/// with every row of `columns` numbers, read in one pass over the bytes:
/// JSONDecoder takes several times as long on rows of numbers. Anything
/// else — other keys, escapes in keys, rows of another length or by name,
/// `null`, a repeated key, any syntax error — gives `nil`, and the request
/// goes through JSONDecoder, which reads it (or names what is wrong).
/// Numbers are JSON's grammar exactly, converted by SoftmaxData's
/// parser (correctly rounded, as JSONDecoder's `strtod`).
struct NumericRows: Equatable {
  var values: [Double] = []
  var rows = 0
  var topK: Int? = nil

  init?(_ body: [UInt8], columns: Int) {
    guard columns >= 1 else { return nil }
    var sawRows = false
    let parsed: Bool = body.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return false }
      let end = buffer.count
      var i = 0
      func skipSpace() {
        while i < end, base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09 {
          i += 1
        }
      }
      func expect(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < end, base[i] == byte else { return false }
        i += 1
        return true
      }
      /// A JSON number at `i`: its value, `i` after it.
      func number() -> Double? {
        skipSpace()
        let start = i
        if i < end, base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, base[i] &- 0x30 < 10 else { return nil }
        if base[i] == UInt8(ascii: "0") {
          i += 1
        } else {
          while i < end, base[i] &- 0x30 < 10 { i += 1 }
        }
        if i < end, base[i] == UInt8(ascii: ".") {
          i += 1
          guard i < end, base[i] &- 0x30 < 10 else { return nil }
          while i < end, base[i] &- 0x30 < 10 { i += 1 }
        }
        if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
          i += 1
          if i < end, base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-") { i += 1 }
          guard i < end, base[i] &- 0x30 < 10 else { return nil }
          while i < end, base[i] &- 0x30 < 10 { i += 1 }
        }
        guard
          let value = DecimalText.value(UnsafeBufferPointer(start: base + start, count: i - start)),
          value.isFinite
        else { return nil }
        return value
      }
      /// A key without escapes.
      func key() -> [UInt8]? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < end, base[i] != UInt8(ascii: "\""), base[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < end, base[i] == UInt8(ascii: "\"") else { return nil }
        let name = Array(UnsafeBufferPointer(start: base + start, count: i - start))
        i += 1
        return name
      }
      guard expect(UInt8(ascii: "{")) else { return false }
      skipSpace()
      if i < end, base[i] == UInt8(ascii: "}") { return false }
      while true {
        guard let name = key(), expect(UInt8(ascii: ":")) else { return false }
        if name == Array("rows".utf8) {
          guard !sawRows, expect(UInt8(ascii: "[")) else { return false }
          sawRows = true
          skipSpace()
          if i < end, base[i] == UInt8(ascii: "]") { return false }  // no rows: the error path
          while true {
            guard expect(UInt8(ascii: "[")) else { return false }
            for c in 0..<columns {
              if c > 0 { guard expect(UInt8(ascii: ",")) else { return false } }
              guard let value = number() else { return false }
              values.append(value)
            }
            guard expect(UInt8(ascii: "]")) else { return false }
            rows += 1
            skipSpace()
            guard i < end else { return false }
            if base[i] == UInt8(ascii: ",") {
              i += 1
              continue
            }
            guard base[i] == UInt8(ascii: "]") else { return false }
            i += 1
            break
          }
        } else if name == Array("top_k".utf8) {
          guard topK == nil, let value = number(), value == value.rounded(),
            abs(value) < 1e9
          else { return false }
          topK = Int(value)
        } else {
          return false
        }
        skipSpace()
        guard i < end else { return false }
        if base[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        guard base[i] == UInt8(ascii: "}") else { return false }
        i += 1
        skipSpace()
        return i == end
      }
    }
    guard parsed, sawRows else { return nil }
  }
}
