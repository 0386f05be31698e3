//===--- NPYWriterTests.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

@Suite("NPY writing")
struct NPYWriterTests {
  @Test("NumPy's layout: magic, version 1.0, a header padded to 64 bytes, C-order values")
  func layout() throws {
    let matrix = Matrix<Float>([[1, -2.5, 3], [0, .greatestFiniteMagnitude, -0.0]])
    let bytes = NPYWriter.bytes(matrix)
    #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + length) % 64 == 0)
    let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
    #expect(header.hasSuffix("\n"))
    #expect(bytes.count == 10 + length + 6 * 4)
    // The values' bits, little-endian, row by row.
    let values = stride(from: 10 + length, to: bytes.count, by: 4).map { offset in
      Float(
        bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
          | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
    }
    #expect(values.map(\.bitPattern) == matrix.elements.map(\.bitPattern))
  }

  @Test("Read back by NPYReader bit for bit, Float and Double, any shape")
  func roundTrip() throws {
    let directory = NSTemporaryDirectory() + "softmax-npy-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for (rows, columns) in [(1, 1), (3, 7), (100, 64), (2, 1000)] {
      let doubles: [Double] = (0..<(rows * columns)).map { (index: Int) -> Double in
        let step = Double(index) * 0.1 - 7
        let tiny = 1e-300 * Double(index % 3)
        return step + tiny
      }
      let double = Matrix(rows: rows, columns: columns, elements: doubles)
      let float = Matrix(rows: rows, columns: columns, elements: doubles.map { Float($0) })
      let path = directory + "/x.npy"
      try AtomicFile.write(NPYWriter.bytes(double), to: path)
      let readDouble = try NPYReader.read(path, as: Double.self).features
      #expect(readDouble.elements.map(\.bitPattern) == double.elements.map(\.bitPattern))
      #expect(readDouble.rows == rows && readDouble.columns == columns)
      try AtomicFile.write(NPYWriter.bytes(float), to: path)
      let readFloat = try NPYReader.read(path, as: Float.self).features
      #expect(readFloat.elements.map(\.bitPattern) == float.elements.map(\.bitPattern))
    }
  }
}
