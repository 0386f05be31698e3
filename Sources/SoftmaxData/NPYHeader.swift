//===--- NPYHeader.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The header of an NPY file: a Python dictionary literal with the keys
/// `'descr'`, `'fortran_order'` and `'shape'`, parsed as Python's
/// `ast.literal_eval` (which numpy uses) reads it: single or double
/// quotes, any spacing and line breaks, trailing commas, `True`/`False`,
/// integers with an old `L` suffix. A header that is not such a literal
/// is an error, never read by guessing.
struct NPYHeader {
  var descr: String
  var fortranOrder: Bool
  var shape: [Int]

  /// Why a header was refused, for the message ("the NPY header …").
  struct Problem: Error {
    var reason: String
  }

  init(_ text: String) throws(Problem) {
    var parser = PythonLiteralParser(Array(text.utf8))
    let value = try parser.parseDocument()
    guard case .dictionary(let entries) = value else {
      throw Problem(reason: "is not a Python dictionary literal")
    }
    var dictionary: [String: PythonLiteral] = [:]
    for (key, value) in entries {
      guard case .string(let name) = key else {
        throw Problem(reason: "has a key that is not a string")
      }
      guard dictionary[name] == nil else { throw Problem(reason: "has the key '\(name)' twice") }
      dictionary[name] = value
    }
    guard Set(dictionary.keys) == ["descr", "fortran_order", "shape"] else {
      let keys = dictionary.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
      throw Problem(
        reason:
          "has the keys \(keys); an NPY header has exactly 'descr', 'fortran_order' and 'shape'"
      )
    }
    switch dictionary["descr"] {
    case .string(let descr)?: self.descr = descr
    case .list?: throw Problem(reason: "has a structured dtype (fields), which is not supported")
    default: throw Problem(reason: "has a 'descr' that is not a string")
    }
    guard case .bool(let fortran)? = dictionary["fortran_order"] else {
      throw Problem(reason: "has a 'fortran_order' that is not True or False")
    }
    fortranOrder = fortran
    guard case .tuple(let dimensions)? = dictionary["shape"] else {
      throw Problem(reason: "has a 'shape' that is not a tuple")
    }
    var shape: [Int] = []
    for dimension in dimensions {
      guard case .integer(let value) = dimension, value >= 0 else {
        throw Problem(reason: "has a 'shape' that is not a tuple of non-negative integers")
      }
      shape.append(value)
    }
    self.shape = shape
  }
}

/// A Python literal of the kinds an NPY header holds.
indirect enum PythonLiteral: Equatable {
  case string(String)
  case integer(Int)
  case bool(Bool)
  case none
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case dictionary([(PythonLiteral, PythonLiteral)])

  static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.none, .none): return true
    case (.tuple(let x), .tuple(let y)), (.list(let x), .list(let y)): return x == y
    case (.dictionary(let x), .dictionary(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }
}

/// A recursive-descent parser of ``PythonLiteral``s over UTF-8 bytes.
struct PythonLiteralParser {
  private let bytes: [UInt8]
  private var position = 0
  private var depth = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// One literal, with nothing but blanks after it.
  mutating func parseDocument() throws(NPYHeader.Problem) -> PythonLiteral {
    let value = try parseValue()
    skipBlanks()
    guard position == bytes.count else { throw problem("text after the dictionary") }
    return value
  }

  private func problem(_ what: String) -> NPYHeader.Problem {
    NPYHeader.Problem(
      reason: "is not a Python dictionary literal (at character \(position + 1): \(what))")
  }

  private mutating func skipBlanks() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(bytes[position]) {
      position += 1
    }
  }

  private mutating func parseValue() throws(NPYHeader.Problem) -> PythonLiteral {
    skipBlanks()
    guard position < bytes.count else { throw problem("the header ends where a value should be") }
    depth += 1
    defer { depth -= 1 }
    guard depth <= 32 else { throw problem("nested too deeply") }
    let byte = bytes[position]
    switch byte {
    case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "("):
      return .tuple(try parseSequence(closing: UInt8(ascii: ")")))
    case UInt8(ascii: "["):
      return .list(try parseSequence(closing: UInt8(ascii: "]")))
    case UInt8(ascii: "{"): return try parseDictionary()
    case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .integer(try parseInteger())
    default:
      for (word, value) in [
        ("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none),
      ] where bytes[position...].starts(with: word.utf8) {
        position += word.utf8.count
        return value
      }
      let word = bytes[position..<min(bytes.count, position + 12)].prefix {
        ![0x20, 0x09, 0x0A, 0x0D].contains($0)
      }
      let shown = String(decoding: word, as: UTF8.self)
      throw problem("a value cannot start with \"\(shown)\"")
    }
  }

  private mutating func parseString() throws(NPYHeader.Problem) -> String {
    let quote = bytes[position]
    position += 1
    var content: [UInt8] = []
    while position < bytes.count {
      let byte = bytes[position]
      if byte == quote {
        position += 1
        return String(decoding: content, as: UTF8.self)
      }
      if byte == 0x0A { break }
      if byte == UInt8(ascii: "\\"), position + 1 < bytes.count {
        position += 1
        content.append(bytes[position])
      } else {
        content.append(byte)
      }
      position += 1
    }
    throw problem("a string that is never closed")
  }

  private mutating func parseInteger() throws(NPYHeader.Problem) -> Int {
    var negative = false
    if bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
      negative = bytes[position] == UInt8(ascii: "-")
      position += 1
    }
    var value = 0
    var digits = 0
    while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[position] - 0x30))
      guard !overflow1, !overflow2 else { throw problem("an integer too large") }
      value = sum
      digits += 1
      position += 1
    }
    guard digits > 0 else { throw problem("a sign without digits") }
    if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
    return negative ? -value : value
  }

  private mutating func parseSequence(closing: UInt8) throws(NPYHeader.Problem) -> [PythonLiteral] {
    position += 1
    var items: [PythonLiteral] = []
    while true {
      skipBlanks()
      guard position < bytes.count else { throw problem("a bracket that is never closed") }
      if bytes[position] == closing {
        position += 1
        return items
      }
      items.append(try parseValue())
      skipBlanks()
      guard position < bytes.count else { throw problem("a bracket that is never closed") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] != closing {
        throw problem("expected a comma or a closing bracket")
      }
    }
  }

  private mutating func parseDictionary() throws(NPYHeader.Problem) -> PythonLiteral {
    position += 1
    var entries: [(PythonLiteral, PythonLiteral)] = []
    while true {
      skipBlanks()
      guard position < bytes.count else { throw problem("a brace that is never closed") }
      if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .dictionary(entries)
      }
      let key = try parseValue()
      skipBlanks()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
        throw problem("expected ':' after a key")
      }
      position += 1
      let value = try parseValue()
      entries.append((key, value))
      skipBlanks()
      guard position < bytes.count else { throw problem("a brace that is never closed") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] != UInt8(ascii: "}") {
        throw problem("expected a comma or '}'")
      }
    }
  }
}
