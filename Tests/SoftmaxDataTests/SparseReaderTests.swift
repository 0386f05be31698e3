//===--- SparseReaderTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

@Suite("LIBSVM read sparse")
struct SparseReaderTests {
  /// The sparse reader stores what the dense one reads, entry for entry.
  @Test(
    "the sparse data set is the dense one's non-zeros",
    arguments: ["one_based.svm", "zero_based.svm"])
  func sameAsDense(name: String) throws {
    let expected = try #require(Fixtures.expected[name])
    let sparse = try LIBSVMReader.readSparse(Fixtures.path(name), as: Double.self)
    #expect(rows(sparse.features.dense()) == expected.features)
    #expect(sparse.labels == expected.labels)
    #expect(sparse.report.zeroBasedIndices == expected.zeroBased)
    let dense = try LIBSVMReader.read(Fixtures.path(name), as: Double.self)
    #expect(SparseMatrix(dense.features) == sparse.features)
  }

  /// scikit-learn's `load_svmlight_file` on a file of many shapes (Zipf
  /// indices, exponents, signs, qid, comments, CRLF, empty rows): the same
  /// CSR arrays, values bit for bit (Scripts/make_sparse_fixtures.py).
  @Test("the CSR arrays of scikit-learn's load_svmlight_file")
  func scikitLearn() throws {
    struct Expected: Decodable {
      var labels: [String]
      var csr: Fixtures.CSR
    }
    let json = try #require(
      FileManager.default.contents(atPath: Fixtures.path("sklearn_svmlight.json")))
    let expected = try JSONDecoder().decode(Expected.self, from: json)
    let csr = expected.csr
    let data = try LIBSVMReader.readSparse(Fixtures.path("sklearn.svm"), as: Double.self)
    #expect(data.features.rowOffsets == csr.indptr)
    #expect(data.features.columnIndices.map(Int.init) == csr.indices)
    #expect(data.features.values == csr.data)
    #expect(data.features.columns == csr.columns)
    #expect(data.labels == expected.labels)
  }

  /// A test file often lacks the rarest features: with the model's feature
  /// count, its rows are read with that many columns, the rest 0.
  @Test("a file whose largest index is below the feature count is read with that count")
  func fewerFeatures() throws {
    let path = try temporaryFile("test.svm", "1 1:1 2:2\n2 3:1\n")
    var options = LIBSVMOptions()
    options.featureCount = 10
    let sparse = try LIBSVMReader.readSparse(path, options: options, as: Float.self)
    #expect(sparse.featureCount == 10)
    #expect(sparse.features[1, 2] == 1)
    let dense = try LIBSVMReader.read(path, options: options, as: Float.self)
    #expect(dense.featureCount == 10)
  }

  /// An index beyond the model's features is an error naming its line and
  /// column, or, when asked, is left out and counted.
  @Test("an index beyond the feature count: an error, or left out when asked")
  func unknownFeatures() throws {
    let path = try temporaryFile("beyond.svm", "a 1:1 4:2\nb 2:1 3:5 9:1\nc 5:1\n")
    var options = LIBSVMOptions()
    options.featureCount = 3
    #expect {
      try LIBSVMReader.readSparse(path, options: options, as: Double.self)
    } throws: { error in
      let error = error as? DataError
      // The first one: `4:2` on line 1.
      return error?.location?.line == 1 && error?.location?.column == 7
        && error?.message.contains("feature index 4 is beyond the 3 features") == true
    }
    options.ignoresUnknownFeatures = true
    let data = try LIBSVMReader.readSparse(path, options: options, as: Double.self)
    #expect(data.features.rowOffsets == [0, 1, 3, 3])
    #expect(data.features.columnIndices == [0, 1, 2])
    #expect(data.features.values == [1, 1, 5])
    #expect(data.report.notes == ["left out 3 entries of features beyond the 3 the model knows"])
    #expect(data.labels == ["a", "b", "c"])
  }

  /// The automatic layout stores a file sparse below the density threshold
  /// and dense from it; `.dense` and `.sparse` force it.
  @Test("layouts: automatic by density, forced either way")
  func layouts() throws {
    // 2 entries of 3 × 1000: density 0.0007.
    let sparsePath = try temporaryFile("rare.svm", "1 1:1\n2 1000:2\n1 500:3\n")
    // 5 entries of 2 × 3: density 0.83, dense in Float (from 5%), sparse
    // in Double (below 85%); 6 of 6, dense in both.
    let densePath = try temporaryFile("full.svm", "1 1:1 2:1 3:1\n2 1:2 3:2\n")
    let fullPath = try temporaryFile("all.svm", "1 1:1 2:1 3:1\n2 1:2 2:5 3:2\n")
    var options = LoadOptions()
    #expect(try AnyDataSet.load(sparsePath, options: options).isSparse)
    #expect(try AnyDataSet.load(sparsePath, options: options, precision: .float).isSparse)
    #expect(try !AnyDataSet.load(densePath, options: options, precision: .float).isSparse)
    #expect(try AnyDataSet.load(densePath, options: options).isSparse)
    #expect(try !AnyDataSet.load(fullPath, options: options).isSparse)
    options.layout = .sparse
    let forced = try AnyDataSet.load(densePath, options: options)
    #expect(forced.isSparse && forced.featureCount == 3 && forced.count == 2)
    options.layout = .dense
    #expect(try !AnyDataSet.load(sparsePath, options: options).isSparse)
    // A CSV read sparse keeps its non-zeros.
    let csv = try temporaryFile("t.csv", "a,b,label\n0,1,x\n2,0,y\n")
    options.layout = .sparse
    guard case .sparseDouble(let table) = try AnyDataSet.load(csv, options: options) else {
      Issue.record("not sparse")
      return
    }
    #expect(table.features.dense() == Matrix([[0, 1], [2, 0]]))
    #expect(table.featureNames == ["a", "b"])
  }

  /// A 1-based index of 2^31 − 1 is the largest column a sparse matrix
  /// holds; 2^31 is refused with its line and column.
  @Test("indices up to 2^31 − 1")
  func largestIndex() throws {
    let path = try temporaryFile("edge.svm", "1 2147483647:1\n2 1:1\n")
    let data = try LIBSVMReader.readSparse(path, as: Float.self)
    #expect(data.featureCount == Int(Int32.max))
    let beyond = try temporaryFile("beyond.svm", "1 1:1\n2 2147483648:1\n")
    #expect {
      try LIBSVMReader.readSparse(beyond, as: Float.self)
    } throws: { error in
      (error as? DataError)?.location?.line == 2
    }
  }
}

@Suite("Dense data made sparse")
struct DenseToSparseTests {
  @Test("the same values; more columns than a sparse matrix indexes is an error, not a trap")
  func columnLimit() throws {
    let data = DataSet(
      features: Matrix<Float>(rows: 2, columns: 4, elements: [0, 1, 0, 2, 3, 0, 0, 0]),
      labels: ["a", "b"], featureNames: nil, report: LoadReport())
    let sparse = try data.sparse(path: "x.csv")
    #expect(sparse.features.dense() == data.features)
    #expect(sparse.features.nonZeroCount == 3)
    #expect(throws: DataError.self) { try data.sparse(path: "x.csv", columnLimit: 3) }
    do {
      _ = try data.sparse(path: "x.csv", columnLimit: 3)
    } catch {
      #expect(error.code == .unsupported)
      #expect(error.path == "x.csv")
      #expect(error.message.contains("4 feature columns"))
    }
  }
}
