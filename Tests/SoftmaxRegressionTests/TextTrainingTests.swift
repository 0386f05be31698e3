//===--- TextTrainingTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxText
import Testing

@testable import SoftmaxRegression

/// Data/texts.txt, read with SoftmaxData's reader.
func shippedTexts() throws -> TextDataSet {
  try TextReader.read(repositoryRoot.appendingPathComponent("Data/texts.txt").path)
}

@Suite("Training on text")
struct TextTrainingTests {
  @Test("a document with m labels is m rows of weight 1/m")
  func severalLabels() throws {
    let set = try TextTrainingSet(
      documents: ["red apple", "green pear apple", "red sky"],
      labels: [["fruit"], ["fruit", "green"], ["sky"]])
    #expect(set.classes == ["fruit", "green", "sky"])
    #expect(set.labels == [0, 0, 1, 2])
    #expect(set.documentOfRow == [0, 1, 1, 2])
    #expect(set.sampleWeights == [1, 0.5, 0.5, 1])
    #expect(set.features.rows == 4)
    #expect(Array(set.features.row(1).values) == Array(set.features.row(2).values))
    let single = try TextTrainingSet(documents: ["aa bb", "cc dd"], labels: [["x"], ["y"]])
    #expect(single.sampleWeights == nil)
    #expect(throws: TrainingError.self) {
      try TextTrainingSet(documents: ["aa bb"], labels: [[]])
    }
  }

  /// The objective on the expanded rows is the mean over documents of the
  /// cross-entropy against the uniform mixture of each document's labels,
  /// computed here directly (Double, closed form), within 1e-13 relative.
  @Test("the objective is the cross-entropy against each document's label mixture")
  func mixtureObjective() throws {
    let documents = ["red apple pie", "green pear apple", "red sky at night", "pear pie night"]
    let labels = [["fruit"], ["fruit", "green"], ["sky", "night", "red"], ["fruit"]]
    let set = try TextTrainingSet(documents: documents, labels: labels)
    let k = set.classes.count
    let d = set.vectorizer.featureCount
    let objective = try SparseSoftmaxRegressionObjective(
      features: set.features, labels: set.labels, classCount: k,
      sampleWeights: set.sampleWeights)
    var generator = SplitMix64(seed: 3)
    let parameters = (0..<(k * d + k)).map { _ in Double(generator.next() % 2001) / 1000 - 1 }
    let x = set.vectorizer.transform(documents, as: Double.self).dense()
    var expected = 0.0
    for (r, names) in labels.enumerated() {
      var z = [Double](repeating: 0, count: k)
      for j in 0..<k {
        z[j] = parameters[k * d + j]
        for c in 0..<d { z[j] += parameters[j * d + c] * x[r, c] }
      }
      let top = z.max() ?? 0
      let logSum = log(z.reduce(0) { $0 + exp($1 - top) }) + top
      for name in names {
        let j = try #require(set.classes.firstIndex(of: name))
        expected += (logSum - z[j]) / Double(names.count)
      }
    }
    expected /= Double(documents.count)
    let value = objective.value(at: parameters)
    #expect(abs(value - expected) <= 1e-13 * abs(expected))
  }

  @Test("fit(documents:) learns the shipped texts; the model file keeps the vectorizer")
  func shippedData() throws {
    let text = try shippedTexts()
    let labels = try #require(text.labels)
    var textOptions = TextFeatureOptions()
    textOptions.wordNGrams = 2
    let model = try SoftmaxClassifier.fit(
      documents: text.documents, labels: labels, text: textOptions)
    let vectorizer = try #require(model.text)
    #expect(vectorizer.options == textOptions)
    #expect(model.featureCount == vectorizer.featureCount)
    let predicted = try model.predict(documents: text.documents)
    let correct = zip(predicted, labels).filter { $1.contains($0) }.count
    #expect(Double(correct) / Double(labels.count) > 0.95)
    #expect(
      try model.predict(documents: ["The striker scored a penalty", "Bake the bread with butter"])
        == ["football", "cooking"])
    let decoded = try ModelFile.decode(ModelFile.encode(model))
    #expect(decoded == model)
    #expect(
      try decoded.probabilities(documents: ["rain and wind"])
        == model.probabilities(documents: ["rain and wind"]))
    // A model of numbers has no vectorizer.
    var plain = model
    plain.text = nil
    #expect(throws: TrainingError.self) { try plain.predict(documents: ["x"]) }
  }

  @Test("a model file whose vectorizer disagrees with its weights is refused")
  func mismatchedVectorizer() throws {
    let model = try SoftmaxClassifier.fit(
      documents: ["one two", "three four", "one three"], labels: [["a"], ["b"], ["a"]])
    var text = String(decoding: try ModelFile.encode(model), as: UTF8.self)
    text = text.replacingOccurrences(of: "\"four\",", with: "")
    #expect(throws: (any Error).self) { try ModelFile.decode(Array(text.utf8)) }
  }

  @Test("precision and recall at k, as fastText counts them")
  func ranking() {
    let probabilities = Matrix<Double>([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    let labels = [[0], [2], [2, 1]]
    let at1 = RankingMetrics(probabilities: probabilities, labels: labels, k: 1)
    #expect(at1.predictions == 3 && at1.correct == 2 && at1.labels == 4)
    #expect(at1.precision == 2.0 / 3 && at1.recall == 0.5)
    let at2 = RankingMetrics(probabilities: probabilities, labels: labels, k: 2, threshold: 0.25)
    // Predictions ≥ 0.25: [0 (.6), 1 (.3)], [1 (.5), 2 (.3)], [2 (.8)].
    #expect(at2.predictions == 5 && at2.correct == 3)
  }
}

extension SparseDeterminismTests {
  /// Text from reading to model bytes: the same file for 1 and 2 threads.
  @Test("text: the same model bytes for 1 and 2 threads")
  func textThreads() throws {
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    let text = try shippedTexts()
    var files: [[UInt8]] = []
    for threads in [1, 2] {
      SoftmaxConfiguration.threadCount = threads
      var textOptions = TextFeatureOptions()
      textOptions.wordNGrams = 2
      let model = try SoftmaxClassifier.fit(
        documents: text.documents, labels: text.labels ?? [], text: textOptions)
      files.append(try ModelFile.encode(model))
    }
    #expect(files[0] == files[1])
  }
}

@Suite("Model files: arrays written directly")
struct ModelFileArraysTests {
  /// The weights, vocabulary and idf are written by ModelFile itself; the
  /// bytes are JSONEncoder's, for numbers of every shape (integral, tiny,
  /// huge, negative zero) and strings that need escaping.
  @Test("the same bytes as JSONEncoder writes")
  func sameAsEncoder() throws {
    let text = try shippedTexts()
    var textOptions = TextFeatureOptions()
    textOptions.wordNGrams = 2
    textOptions.characterNGrams = 3...3
    var model = try SoftmaxClassifier.fit(
      documents: text.documents, labels: text.labels ?? [], text: textOptions)
    #expect(try ModelFile.encode(model) == ModelFile.encode(model, writingArrays: false))
    let odd: [Double] = [
      0, -0.0, 1, 100, 1e15, 1e16, 1e22, 5e-324, 2.5e-7, -3e-10, 0.1, 1.7976931348623157e308,
    ]
    var weight = model.weight
    for (i, value) in odd.enumerated() { weight[0, i] = value }
    model.weight = weight
    #expect(try ModelFile.encode(model) == ModelFile.encode(model, writingArrays: false))
    var vocabulary = try #require(model.text?.vocabulary)
    vocabulary = (vocabulary + ["a/b", "q\"uote", "back\\slash", "tab\tnew\nline\u{1}", "é東"])
      .sorted {
        $0.utf8.lexicographicallyPrecedes($1.utf8)
      }
    let vectorizer = try TextVectorizer(
      options: textOptions, vocabulary: vocabulary,
      inverseDocumentFrequencies: [Double](repeating: 1.5, count: vocabulary.count),
      documentCount: 3)
    model.text = vectorizer
    model.weight = Matrix(rows: model.classCount, columns: vocabulary.count, repeating: 0.25)
    #expect(try ModelFile.encode(model) == ModelFile.encode(model, writingArrays: false))
    #expect(try ModelFile.decode(ModelFile.encode(model)) == model)
  }
}

@Suite("Model files: names spelled like the writer's markers")
struct ModelFileMarkerTests {
  /// The writer puts `"\u0001N\u0001"` where an array goes, then splices;
  /// a class or term spelled so must stay a string (a fuzzer finding: a
  /// class "\u{1}\u{1}" became the weights).
  @Test("classes and terms like markers are written as JSONEncoder writes them, and read back")
  func markerLikeNames() throws {
    let text = try shippedTexts()
    let base = try SoftmaxClassifier.fit(documents: text.documents, labels: text.labels ?? [])
    let spellings = ["\u{1}\u{1}", "\u{1}0\u{1}", "\u{1}1\u{1}", "\u{1}99\u{1}"]
    for spelling in spellings {
      var model = base
      var classes = model.classes
      classes[1] = spelling
      model.classes = classes
      let bytes = try ModelFile.encode(model)
      #expect(
        bytes == (try ModelFile.encode(model, writingArrays: false)), "\(spelling.debugDescription)"
      )
      #expect(try ModelFile.decode(bytes) == model, "\(spelling.debugDescription)")
    }
    var model = base
    var vocabulary = try #require(model.text?.vocabulary)
    vocabulary = (vocabulary + spellings).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    model.text = try TextVectorizer(
      options: TextFeatureOptions(), vocabulary: vocabulary,
      inverseDocumentFrequencies: [Double](repeating: 1.5, count: vocabulary.count),
      documentCount: 3)
    model.weight = Matrix(rows: model.classCount, columns: vocabulary.count, repeating: 0.25)
    let bytes = try ModelFile.encode(model)
    #expect(bytes == (try ModelFile.encode(model, writingArrays: false)))
    #expect(try ModelFile.decode(bytes) == model)
  }
}

@Suite("Model files: large arrays read directly")
struct ModelFileFastReadTests {
  /// A model large enough for the direct path: words and bigrams of the
  /// shipped texts, with odd numbers in the weights and odd terms.
  static func largeModel() throws -> SoftmaxClassifier {
    let text = try shippedTexts()
    var textOptions = TextFeatureOptions()
    textOptions.wordNGrams = 3
    textOptions.characterNGrams = 2...4
    var model = try SoftmaxClassifier.fit(
      documents: text.documents, labels: text.labels ?? [], text: textOptions)
    var weight = model.weight
    let odd: [Double] = [
      0, -0.0, 1, 100, 1e15, 1e16, 1e22, 5e-324, 2.5e-7, -3e-10, 0.1, 1.7976931348623157e308,
    ]
    for (i, value) in odd.enumerated() { weight[1, i] = value }
    model.weight = weight
    return model
  }

  @Test("the same model as JSONDecoder reads, and the direct path is taken")
  func sameModel() throws {
    let model = try Self.largeModel()
    let bytes = try ModelFile.encode(model)
    #expect(bytes.count >= 1 << 16)
    let fast = try #require(ModelFile.fastDecode(bytes))
    #expect(fast == model)
    #expect(try ModelFile.fullDecode(bytes) == model)
    // Hand-written spacing and escapes read the same.
    var text = String(decoding: bytes, as: UTF8.self)
    text = text.replacingOccurrences(of: "\"weights\" : [", with: "\"weights\":\n\t[ ")
    text = text.replacingOccurrences(of: "\"according\"", with: "\"\\u0061ccording\"")
    let edited = Array(text.utf8)
    #expect(ModelFile.fastDecode(edited) == model)
    // A calibrated model (version 3) reads fast too, temperature and all.
    var calibrated = model
    calibrated.temperature = 1.5
    let calibratedBytes = try ModelFile.encode(calibrated)
    #expect(ModelFile.fastDecode(calibratedBytes) == calibrated)
    #expect(try ModelFile.fullDecode(calibratedBytes) == calibrated)
  }

  @Test("anything unusual is left to the full decoder, which names the problem")
  func unusual() throws {
    let model = try Self.largeModel()
    let text = String(decoding: try ModelFile.encode(model), as: UTF8.self)
    let cases = [
      text.replacingOccurrences(
        of: "\"weights\" : [\n    [\n      ", with: "\"weights\" : [\n    [\n      NaN, "),
      text.replacingOccurrences(
        of: "\"version\" : 1", with: "\"version\" : \(ModelFile.currentVersion + 1)"),
      // A temperature in a file of a version that would not apply it.
      text.replacingOccurrences(
        of: "\"version\" : 1", with: "\"temperature\" : 2, \"version\" : 1"),
      text.replacingOccurrences(of: "\"vocabulary\" : [", with: "\"vocabulary\" : [\"zzz\", "),
      text.replacingOccurrences(of: "\"bias\"", with: "\"weights\" : [], \"bias\""),
      String(text.dropLast(40)),
    ]
    for (k, broken) in cases.enumerated() {
      let bytes = Array(broken.utf8)
      #expect(ModelFile.fastDecode(bytes) == nil, "case \(k)")
      #expect(throws: TrainingError.self, "case \(k)") { try ModelFile.decode(bytes) }
    }
  }
}
