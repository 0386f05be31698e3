//===--- JSON.swift -------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A JSON value whose objects keep their fields in the order written, so
/// that `--json` output is stable and diffable.
enum JSON {
  case null
  case bool(Bool)
  case int(Int)
  /// Written so that it reads back as the same `Double` (shortest
  /// round-trip form); NaN and ±inf, which JSON cannot hold, as `null`.
  case number(Double)
  case string(String)
  case array([JSON])
  case object([(String, JSON)])

  /// One line of JSON.
  var rendered: String {
    var out = ""
    write(to: &out)
    return out
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let value): out += value ? "true" : "false"
    case .int(let value): out += String(value)
    case .number(let value):
      out +=
        value.isFinite
        ? (value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)") : "null"
    case .string(let value): JSON.escape(value, into: &out)
    case .array(let values):
      out += "["
      for (k, value) in values.enumerated() {
        if k > 0 { out += "," }
        value.write(to: &out)
      }
      out += "]"
    case .object(let fields):
      out += "{"
      for (k, (key, value)) in fields.enumerated() {
        if k > 0 { out += "," }
        JSON.escape(key, into: &out)
        out += ":"
        value.write(to: &out)
      }
      out += "}"
    }
  }

  private static func escape(_ text: String, into out: inout String) {
    out += "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

extension JSON {
  static func numbers(_ values: [Double]) -> JSON { .array(values.map { .number($0) }) }
  static func optional(_ value: Double?) -> JSON { value.map { .number($0) } ?? .null }
}
