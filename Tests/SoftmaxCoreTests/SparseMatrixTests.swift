//===--- SparseMatrixTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

/// A random dense matrix with about `density` of its elements non-zero.
func randomSparseDense(rows: Int, columns: Int, density: Double, seed: UInt64) -> Matrix<Double> {
  var generator = SplitMix64(seed: seed)
  var elements: [Double] = []
  for _ in 0..<(rows * columns) {
    let stored = Double.random(in: 0..<1, using: &generator) < density
    elements.append(stored ? Double.random(in: -5...5, using: &generator) : 0)
  }
  return Matrix(rows: rows, columns: columns, elements: elements)
}

@Suite("Sparse matrices")
struct SparseMatrixTests {
  @Test("CSR arrays are checked, and the error names the problem")
  func validation() throws {
    let good = try SparseMatrix<Double>(
      rows: 2, columns: 3, rowOffsets: [0, 1, 3], columnIndices: [1, 0, 2], values: [2, 1, 3])
    #expect(good.nonZeroCount == 3)
    #expect(good[1, 2] == 3 && good[0, 0] == 0 && good[0, 1] == 2)
    let cases: [(Int, Int, [Int], [Int32], [Double], String)] = [
      (-1, 3, [0], [], [], "must not be negative"),
      (2, 3, [0, 1], [1], [2], "2 row offsets for 2 rows"),
      (2, 3, [0, 1, 3], [1, 0], [2, 1, 3], "2 column indices for 3 values"),
      (2, 3, [1, 1, 3], [1, 0, 2], [2, 1, 3], "from 1 to 3"),
      (3, 3, [0, 2, 1, 3], [0, 1, 2], [2, 1, 3], "row 1: offsets 2 > 1"),
      (2, 3, [0, 1, 3], [1, 0, 3], [2, 1, 3], "row 1: column 3 is out of 0..<3"),
      (2, 3, [0, 1, 3], [1, 2, 0], [2, 1, 3], "row 1: column 0 after column 2"),
      (2, 3, [0, 1, 3], [1, 2, 2], [2, 1, 3], "row 1: column 2 after column 2"),
      (1, Int(Int32.max) + 1, [0, 0], [], [], "at most"),
    ]
    for (rows, columns, offsets, indices, values, message) in cases {
      do {
        _ = try SparseMatrix(
          rows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices,
          values: values)
        Issue.record("accepted: \(message)")
      } catch {
        #expect(error.code == .invalidSparseMatrix)
        #expect(error.message.contains(message), "\(error.message)")
      }
    }
  }

  @Test("dense → sparse → dense is the identity; rows, subscripts and selections agree")
  func roundTrip() {
    let dense = randomSparseDense(rows: 37, columns: 23, density: 0.2, seed: 3)
    let sparse = SparseMatrix(dense)
    #expect(sparse.dense() == dense)
    #expect(sparse.nonZeroCount == dense.elements.filter { $0 != 0 }.count)
    for r in 0..<dense.rows {
      for c in 0..<dense.columns { #expect(sparse[r, c] == dense[r, c]) }
    }
    let picked = [5, 0, 36, 5]
    #expect(sparse.selectingRows(picked).dense() == dense.selectingRows(picked))
    for entry in 0..<sparse.nonZeroCount {
      let row = sparse.rowOfEntry(entry)
      #expect(sparse.rowOffsets[row] <= entry && entry < sparse.rowOffsets[row + 1])
    }
    #expect(
      SparseMatrix<Double>(rows: 3, columns: 4).dense() == Matrix(rows: 3, columns: 4, repeating: 0)
    )
    let withNaN = SparseMatrix(Matrix(rows: 2, columns: 2, elements: [0, 1, .nan, 0]))
    #expect(withNaN.firstNonFiniteEntry() == 1)
    #expect(withNaN.rowOfEntry(1) == 1)
  }

  /// The sparse forward sums the dense forward's terms with the zeros left
  /// out, in the same order: the same bits (finite weights).
  @Test("DenseLayer: sparse rows give the bits of their dense form")
  func denseLayerForward() {
    for (rows, columns, outputs, density) in [(50, 30, 4, 0.1), (20, 200, 7, 0.02), (5, 3, 1, 0.9)]
    {
      let input = randomSparseDense(rows: rows, columns: columns, density: density, seed: 11)
      var generator = SplitMix64(seed: 5)
      let weight = Matrix(
        rows: outputs, columns: columns,
        elements: [Double].random(count: outputs * columns, in: -1...1, using: &generator))
      let bias = [Double].random(count: outputs, in: -1...1, using: &generator)
      let layer = DenseLayer(weight: weight, bias: bias)
      #expect(layer(SparseMatrix(input)) == layer(input))
      let floatLayer = DenseLayer(
        weight: Matrix(
          rows: outputs, columns: columns, elements: weight.elements.map { Float($0) }),
        bias: bias.map { Float($0) })
      let floatInput = Matrix(
        rows: rows, columns: columns, elements: input.elements.map { Float($0) })
      #expect(floatLayer(SparseMatrix(floatInput)) == floatLayer(floatInput))
    }
  }

  @Test("the builder makes what the checked initializer accepts")
  func builder() throws {
    var builder = SparseMatrix<Float>.Builder(columns: 5)
    builder.append(column: 0, value: 1)
    builder.append(column: 4, value: -2)
    builder.endRow()
    builder.endRow()
    builder.append(column: 2, value: 0)
    builder.endRow()
    let built = builder.matrix
    let checked = try SparseMatrix<Float>(
      rows: 3, columns: 5, rowOffsets: built.rowOffsets, columnIndices: built.columnIndices,
      values: built.values)
    #expect(built == checked)
    #expect(built.rowOffsets == [0, 2, 2, 3])
    // An explicit zero is kept.
    #expect(built.nonZeroCount == 3 && built[2, 2] == 0)
  }
}

@Suite("Large arrays")
struct LargeArrayTests {
  /// Asked for huge pages or not, the array is `count` copies of the
  /// value, writable everywhere (the advice covers only the 2 MiB-aligned
  /// interior, and the kernel may decline it).
  @Test("filledArray: count copies, small and above the huge-page size")
  func filled() {
    for count in [0, 1, 1000, (4 << 20) / 8 + 3, (6 << 20) / 8, (9 << 20) / 4 + 1] {
      var zeros = filledArray(repeating: 0.0, count: count)
      #expect(zeros.count == count)
      #expect(zeros.allSatisfy { $0 == 0 && $0.sign == .plus })
      for i in stride(from: 0, to: count, by: 4099) { zeros[i] = Double(i) }
      #expect(stride(from: 0, to: count, by: 4099).allSatisfy { zeros[$0] == Double($0) })
      let floats = filledArray(repeating: Float(-2.5), count: count)
      #expect(floats.count == count)
      #expect(floats.allSatisfy { $0 == -2.5 })
    }
  }
}
