//===--- CSVParser+Records.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Records and fields: the RFC 4180 scanner over the window, blank lines,
// numbers and text of fields.

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CSVParser {
  // MARK: Records

  /// Scans one record from `position` into `fields`.
  ///
  /// - Returns: the position after it and the lines it spans, or `nil`
  ///   when the window ends inside it and the file goes on.
  mutating func scanRecord() throws(DataError) -> (next: Int, lines: Int)? {
    fields.removeAll(keepingCapacity: true)
    let base = file.bytes
    let count = file.count
    let atEnd = file.atEnd
    var i = position
    var currentLine = line
    var lineStart = position
    while true {
      let fieldStart = i
      let column = i - lineStart + 1
      let fieldLine = currentLine
      if i < count && base[i] == quote {
        i += 1
        var escaped = false
        var closing = -1
        while i < count {
          let byte = base[i]
          if byte == quote {
            if i + 1 < count {
              if base[i + 1] == quote {
                escaped = true
                i += 2
                continue
              }
            } else if !atEnd {
              return nil
            }
            closing = i
            i += 1
            break
          }
          if byte == newline {
            currentLine += 1
            lineStart = i + 1
          }
          i += 1
        }
        if closing < 0 {
          if !atEnd { return nil }
          throw DataError(
            .malformed, path: path, line: fieldLine, column: column,
            "the quoted field that starts here is never closed")
        }
        fields.append(
          CSVField(
            start: fieldStart + 1, end: closing, escaped: escaped, line: fieldLine, column: column))
        if i < count, base[i] != delimiter, base[i] != newline, base[i] != carriageReturn {
          throw DataError(
            .malformed, path: path, line: currentLine, column: i - lineStart + 1,
            "unexpected character after a closing quote (a quote inside a quoted field is written \"\")"
          )
        }
      } else {
        while i < count {
          let byte = base[i]
          if byte == delimiter || byte == newline || byte == carriageReturn { break }
          i += 1
        }
        fields.append(
          CSVField(start: fieldStart, end: i, escaped: false, line: fieldLine, column: column))
      }
      if i >= count {
        if !atEnd { return nil }
        return (i, currentLine - line + 1)
      }
      let byte = base[i]
      if byte == delimiter {
        i += 1
        continue
      }
      if byte == carriageReturn {
        if i + 1 < count {
          i += base[i + 1] == newline ? 2 : 1
        } else if !atEnd {
          return nil
        } else {
          i += 1
        }
      } else {
        i += 1
      }
      return (i, currentLine - line + 1)
    }
  }

  /// A record of one unquoted field of blanks.
  func isBlank() -> Bool {
    guard fields.count == 1, let field = fields.first else { return false }
    if field.start > 0, file.bytes[field.start - 1] == quote, field.end < file.count,
      file.bytes[field.end] == quote
    {
      return false
    }
    for k in field.start..<field.end where file.bytes[k] != 0x20 && file.bytes[k] != 0x09 {
      return false
    }
    return true
  }

  func parse(_ field: CSVField) -> ParsedNumber {
    if field.escaped { return .text }  // a number never holds a quote
    return NumberParser.parse(UnsafePointer(file.bytes), field.start, field.end)
  }

  /// The field's text: doubled quotes undone, blanks trimmed, UTF-8
  /// checked; `column` (0-based) names it in the error.
  func text(_ field: CSVField, column: Int) throws(DataError) -> String {
    var bytes = UnsafeBufferPointer(
      start: file.bytes + field.start, count: field.end - field.start)[...]
    while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
    while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
    var unescaped: [UInt8] = []
    if field.escaped {
      var previousWasQuote = false
      for byte in bytes {
        if byte == quote && previousWasQuote {
          previousWasQuote = false
          continue
        }
        previousWasQuote = byte == quote
        unescaped.append(byte)
      }
    }
    let decoded =
      field.escaped
      ? String(validating: unescaped, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    guard let string = decoded else {
      throw DataError(
        .invalidEncoding, path: path, line: field.line, column: field.column,
        "\(columnLabel(column)) is not valid UTF-8 text")
    }
    return string
  }

  func columnLabel(_ j: Int) -> String {
    if let name = columnNames?[j] { return "column \(j + 1) (\"\(name)\")" }
    return "column \(j + 1)"
  }
}
