//===--- ErrorShapeTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import Testing

@Suite("One shape of error across the modules: a code, a message, a location")
struct ErrorShapeTests {
  /// The fields every error has, through the protocol.
  func shape(_ error: some LibraryError) -> (message: String, location: ErrorLocation?) {
    (error.message, error.location)
  }

  @Test("the math, training and files each say what, and where")
  func shapes() throws {
    do {
      _ = try crossEntropy(logits: Matrix<Double>([[1, 2], [3, 4]]), labels: [0, 5])
      Issue.record("accepted a label out of range")
    } catch {
      let (message, location) = shape(error)
      #expect(message.contains("label 5") && location == ErrorLocation(row: 1))
    }
    do {
      _ = try SoftmaxRegressionObjective(
        features: Matrix<Double>([[1], [2]]), labels: [0, 3], classCount: 2)
      Issue.record("accepted a label out of range")
    } catch {
      let (message, location) = shape(error)
      #expect(message.contains("label 3") && location == ErrorLocation(row: 1))
    }
    let path = try temporaryFile("bad.csv", "a,b,label\n1,2,x\n3,y,z\n")
    do {
      _ = try CSVReader.read(path, as: Double.self)
      Issue.record("accepted text in a feature")
    } catch {
      let (message, location) = shape(error)
      #expect(
        message.contains("\"y\"") && location == ErrorLocation(path: path, line: 3, column: 3))
      #expect(error.description == "\(path):3:3: \(message)")
    }
  }
}
