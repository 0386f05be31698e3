//===--- SoftmaxClassifier+Prediction.swift -------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore
import _SoftmaxKernels

extension SoftmaxClassifier {
  /// The logits `z = W·x̃ + b` of every row (the decision function); for a
  /// network, `W·a + b` with `a` the last hidden layer's outputs. These
  /// are the scores before the ``temperature``: the probabilities are
  /// `softmax(z/τ)`.
  ///
  /// A row whose logits overflow a `Double` (finite but huge weights or
  /// features) is computed again without overflow (see
  /// `overflowFreeShiftedLogits`) and returned shifted by its largest
  /// logit, `z − max(z)`: every value is finite or `−inf`, and softmax,
  /// log-softmax and the argmax are those of the exact logits. So
  /// probabilities are always finite, whatever the model and the data.
  ///
  /// - Parameter features: `n × d`, finite.
  /// - Returns: `n × k`.
  /// - Throws: ``TrainingError/Code/shapeMismatch`` if the column count is
  ///   not the model's, ``TrainingError/Code/nonFiniteValue`` for a NaN or
  ///   infinite feature.
  /// - Complexity: O(n·d·k), accumulated in `Double`.
  public func logits<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError) -> Matrix<
    Double
  > {
    try features.validate(for: self)
    let d = featureCount
    let k = classCount
    let n = features.rows
    let layer = DenseLayer(weight: weight, bias: bias)
    let mean = standardization?.mean ?? [Double](repeating: 0, count: d)
    let inverseScale = standardization?.inverseScale ?? [Double](repeating: 1, count: d)
    let blockRows = Self.rowsPerBlock(classCount: max(k, d))
    var output = [Double](repeating: 0, count: n * k)
    var block: [Double] = []
    block.reserveCapacity(blockRows * d)
    var first = 0
    // A block of rows at a time: x̃ = (x − μ)·(1/σ) (the layer's input),
    // then DenseLayer's forward z = W·x̃ + b.
    func flush(_ count: Int) {
      guard count > 0 else { return }
      // Through the hidden layers, if any: the head's inputs. A network's
      // layers are matrix products (each output one chain of fused
      // multiply-adds from its bias, in Double); softmax regression keeps
      // the dense layer's sums.
      var input = Matrix(rows: count, columns: d, elements: block)
      let z: [Double]
      if hiddenLayers.isEmpty {
        z = layer(input).elements
      } else {
        (z, input) = networkLogits(firstPreactivations: Self.affine(input, hiddenLayers[0]))
      }
      output.withUnsafeMutableBufferPointer { out in
        for r in 0..<count {
          let i = first + r
          var finite = true
          for j in 0..<k {
            out[i * k + j] = z[r * k + j]
            finite = finite && z[r * k + j].isFinite
          }
          guard !finite else { continue }
          // A network's head reads its last hidden layer, already
          // computed (and finite: the activations of finite inputs are).
          let headInput =
            hiddenLayers.isEmpty ? features.row(i).map { Double($0) } : Array(input.row(r))
          headInput.withUnsafeBufferPointer { x in
            overflowFreeShiftedLogits(
              x: x, weight: weight.elements, bias: bias,
              mean: hiddenLayers.isEmpty ? standardization?.mean : nil,
              inverseScale: hiddenLayers.isEmpty ? standardization?.inverseScale : nil,
              into: UnsafeMutableBufferPointer(rebasing: out[(i * k)..<((i + 1) * k)]))
          }
        }
      }
      first += count
      block.removeAll(keepingCapacity: true)
    }
    features.forEachRowInDouble { i, x in
      for c in 0..<d { block.append((x[c] - mean[c]) * inverseScale[c]) }
      if i + 1 - first == blockRows { flush(blockRows) }
    }
    flush(n - first)
    return Matrix(rows: n, columns: k, elements: output)
  }

  /// A network's logits of sparse rows (the standardization, if any, only
  /// scales): the first layer from each row's stored entries (the C
  /// kernel's chains, from the bias in column order: the dense product's
  /// with its zero terms left out, so the same bits as the rows dense),
  /// then ``networkLogits(firstPreactivations:)``, 1,024 rows at a time.
  func networkLogits<T: SoftmaxScalar>(sparse features: SparseMatrix<T>) -> Matrix<Double> {
    let first = hiddenLayers[0]
    let (d, h, k, n) = (first.inputCount, first.outputCount, classCount, features.rows)
    let byColumn = [Double](unsafeUninitializedCapacity: d * h) { out, initialized in
      first.weight.elements.withUnsafeBufferPointer { w in
        guard let out = out.baseAddress, let w = w.baseAddress else { return }
        layOutWeightsByColumn(w, classes: h, columns: d, columnScale: nil, into: out)
      }
      initialized = d * h
    }
    let values = features.valuesInDouble()
    let scale = standardization?.inverseScale
    let averageEntries = max(1, features.nonZeroCount / max(n, 1))
    var output = [Double](repeating: 0, count: n * k)
    let blockRows = 1024
    for start in stride(from: 0, to: n, by: blockRows) {
      let count = min(blockRows, n - start)
      let u = [Double](unsafeUninitializedCapacity: count * h) { u, initialized in
        features.rowOffsets.withUnsafeBufferPointer { offsets in
          features.columnIndices.withUnsafeBufferPointer { columns in
            values.withUnsafeBufferPointer { values in
              byColumn.withUnsafeBufferPointer { w in
                first.bias.withUnsafeBufferPointer { bias in
                  guard let u = u.baseAddress else { return }
                  parallelFor(count: count, cost: averageEntries * h, grain: 16) { begin, end in
                    (scale ?? []).withUnsafeBufferPointer { s in
                      sk_sparse_layer_f64_forward(
                        end - begin, nil, start + begin, offsets.baseAddress, columns.baseAddress,
                        values.baseAddress, scale == nil ? nil : s.baseAddress, w.baseAddress,
                        bias.baseAddress, h, u + begin * h)
                    }
                  }
                }
              }
            }
          }
        }
        initialized = count * h
      }
      let (z, headInput) = networkLogits(
        firstPreactivations: Matrix(rows: count, columns: h, elements: u))
      for r in 0..<count {
        let i = start + r
        for j in 0..<k { output[i * k + j] = z[r * k + j] }
        guard !(0..<k).allSatisfy({ z[r * k + $0].isFinite }) else { continue }
        output.withUnsafeMutableBufferPointer { out in
          Array(headInput.row(r)).withUnsafeBufferPointer { x in
            overflowFreeShiftedLogits(
              x: x, weight: weight.elements, bias: bias, mean: nil, inverseScale: nil,
              into: UnsafeMutableBufferPointer(rebasing: out[(i * k)..<((i + 1) * k)]))
          }
        }
      }
    }
    return Matrix(rows: n, columns: k, elements: output)
  }

  /// A network's logits from its first layer's pre-activations `u₁`
  /// (`rows × w₁`): the activation, the other hidden layers and the head,
  /// each a matrix product in `Double`. Also returns the head's input (the
  /// last hidden layer's outputs), for rows whose logits overflow.
  func networkLogits(firstPreactivations u: Matrix<Double>) -> (
    logits: [Double], headInput: Matrix<Double>
  ) {
    var input = Matrix(
      rows: u.rows, columns: u.columns, elements: u.elements.map { activation($0) })
    for hiddenLayer in hiddenLayers.dropFirst() {
      let z = Self.affine(input, hiddenLayer)
      input = Matrix(rows: z.rows, columns: z.columns, elements: z.elements.map { activation($0) })
    }
    return (Self.affine(input, DenseLayer(weight: weight, bias: bias)).elements, input)
  }

  /// `X·Wᵀ + b` of a layer by the matrix product, each output's chain
  /// starting from its bias.
  static func affine(_ x: Matrix<Double>, _ layer: DenseLayer<Double>) -> Matrix<Double> {
    var z = Matrix(
      rows: x.rows, columns: layer.outputCount,
      elements: (0..<x.rows).flatMap { _ in layer.bias })
    multiply(x, layer.weight, transposingB: true, into: &z, accumulating: true)
    return z
  }

  /// The logits of sparse rows: the same as for their dense form (bitwise
  /// when the standardization only scales, as sparse training's does),
  /// from the stored entries: `z = W·(x/σ) + b − W·(μ/σ)`, the means
  /// folded into the biases once.
  ///
  /// - Parameter features: `n × d`, every stored value finite.
  /// - Returns: `n × k`.
  /// - Throws: as the dense ``logits(_:)-(Matrix<T>)``.
  /// - Complexity: O(k·(entries + n)), plus O(k·d) once when the
  ///   standardization centers.
  public func logits<T: SoftmaxScalar>(_ features: SparseMatrix<T>) throws(TrainingError)
    -> Matrix<Double>
  {
    try features.validate(for: self)
    if !hiddenLayers.isEmpty {
      // A centering standardization fills the rows: read them dense.
      guard standardization?.isScalingOnly ?? true else { return try logits(features.dense()) }
      return networkLogits(sparse: features)
    }
    let d = featureCount
    let k = classCount
    let n = features.rows
    let inverseScale = standardization?.inverseScale
    var foldedBias = bias
    if let standardization, !standardization.isScalingOnly, let inverseScale {
      for j in 0..<k {
        var shift = 0.0
        for c in 0..<d { shift += weight[j, c] * (standardization.mean[c] * inverseScale[c]) }
        foldedBias[j] -= shift
      }
    }
    // W column by column (`k` weights of a feature side by side), so that
    // each stored entry reads `k` consecutive values; the sums in entry
    // order from the bias, as the dense layer's sparse forward has them.
    // Into memory not zeroed first. Worth it only when the rows hold more
    // entries than W has columns: fewer rows (the CLI's progress measures
    // accuracy on 1,000 of them; a test set with a vocabulary of bigrams
    // holds fewer entries than the training vocabulary has terms) read W
    // as it is, class by class (the same values in the same order, so the
    // same sums and bits), instead of writing a copy of all `k·d` weights.
    let transposes = features.nonZeroCount >= d
    let byColumn =
      transposes
      ? [Double](unsafeUninitializedCapacity: d * k) { out, initialized in
        weight.elements.withUnsafeBufferPointer { w in
          guard let out = out.baseAddress, let w = w.baseAddress else { return }
          layOutWeightsByColumn(w, classes: k, columns: d, columnScale: nil, into: out)
        }
        initialized = d * k
      } : weight.elements
    // The values as the layer takes them, x/σ.
    var values = features.valuesInDouble()
    if let inverseScale {
      for (entry, column) in features.columnIndices.enumerated() {
        values[entry] = values[entry] * inverseScale[Int(column)]
      }
    }
    var output = [Double](repeating: 0, count: n * k)
    let offsets = features.rowOffsets
    let columns = features.columnIndices
    // Rows on the worker threads (each row's sums its own: the same bits).
    let averageEntries = max(1, features.nonZeroCount / max(n, 1))
    output.withUnsafeMutableBufferPointer { out in
      byColumn.withUnsafeBufferPointer { w in
        values.withUnsafeBufferPointer { x in
          columns.withUnsafeBufferPointer { c in
            offsets.withUnsafeBufferPointer { offsets in
              guard let out = out.baseAddress, let w = w.baseAddress else { return }
              parallelFor(count: n, cost: k * averageEntries, grain: 64) { begin, end in
                for i in begin..<end {
                  let z = out + i * k
                  for j in 0..<k { z[j] = foldedBias[j] }
                }
                if transposes {
                  for i in begin..<end {
                    let z = out + i * k
                    for entry in offsets[i]..<offsets[i + 1] {
                      let column = w + Int(c[entry]) * k
                      let value = x[entry]
                      for j in 0..<k { z[j] += column[j] * value }
                    }
                  }
                } else {
                  // Class by class over the block's rows: the reads of a
                  // pass fall in one class's `d` weights, which stay in
                  // the cache, where an entry's `k` weights `d` apart
                  // each missed it.
                  for j in 0..<k {
                    let weights = w + j * d
                    for i in begin..<end {
                      var sum = out[i * k + j]
                      for entry in offsets[i]..<offsets[i + 1] {
                        sum += weights[Int(c[entry])] * x[entry]
                      }
                      out[i * k + j] = sum
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    // A row whose logits overflowed: again, each class shifted by its
    // largest term (exact where the plain sums are not finite).
    for i in 0..<n where !(0..<k).allSatisfy({ output[i * k + $0].isFinite }) {
      var dense = [Double](repeating: 0, count: d)
      let (rowColumns, rowValues) = features.row(i)
      for (c, x) in zip(rowColumns, rowValues) { dense[Int(c)] = Double(x) }
      output.withUnsafeMutableBufferPointer { out in
        dense.withUnsafeBufferPointer { x in
          overflowFreeShiftedLogits(
            x: x, weight: weight.elements, bias: bias, mean: standardization?.mean,
            inverseScale: inverseScale,
            into: UnsafeMutableBufferPointer(rebasing: out[(i * k)..<((i + 1) * k)]))
        }
      }
    }
    return Matrix(rows: n, columns: k, elements: output)
  }

  /// The class probabilities of every row, `softmax(z/τ)` of the logits
  /// `z` with the model's ``temperature`` `τ`: `n × k`, rows summing to 1.
  public func probabilities<F: ClassifierFeatures>(_ features: F) throws(TrainingError)
    -> Matrix<Double>
  {
    softmax(try features.logits(by: self), temperature: temperature)
  }

  /// The log-probabilities of every row (log-softmax of the logits over
  /// the ``temperature``, exact where the probability underflows): `n × k`.
  public func logProbabilities<F: ClassifierFeatures>(_ features: F) throws(TrainingError)
    -> Matrix<Double>
  {
    logSoftmax(try features.logits(by: self), temperature: temperature)
  }

  /// The index of the most probable class of every row (the first on ties).
  public func predictedClassIndices<F: ClassifierFeatures>(_ features: F) throws(TrainingError)
    -> [Int]
  {
    try features.logits(by: self).rowArrays.map(argmax)
  }

  /// The name of the most probable class of every row.
  public func predict<F: ClassifierFeatures>(_ features: F) throws(TrainingError) -> [String] {
    try predictedClassIndices(features).map { classes[$0] }
  }

  /// The `count` most probable classes of every row, most probable first
  /// (ties: the lower index first), with their probabilities.
  ///
  /// - Precondition: `count ≥ 1`; it is clipped to the class count.
  public func topClasses<F: ClassifierFeatures>(_ features: F, count: Int) throws(TrainingError)
    -> [[(classIndex: Int, probability: Double)]]
  {
    precondition(count >= 1, "count must be at least 1")
    return Self.ranked(try probabilities(features), count: count)
  }

  /// The `count` most probable classes of each row of `probabilities`
  /// (`n × k`, from ``probabilities(_:)``), most probable first, the lower
  /// index first among equals; `count` is clipped to `k`. With `count` 1,
  /// the predicted class.
  ///
  /// - Precondition: `count ≥ 1`.
  /// - Complexity: O(n·k·log k).
  public static func ranked(_ probabilities: Matrix<Double>, count: Int)
    -> [[(classIndex: Int, probability: Double)]]
  {
    precondition(count >= 1, "count must be at least 1")
    return probabilities.rowArrays.map { row in
      topIndices(row, count: count).map { ($0, row[$0]) }
    }
  }
}

/// The index of the largest value (the first of equals; NaN never wins).
func argmax(_ values: [Double]) -> Int {
  var best = 0
  for i in values.indices.dropFirst() where values[i] > values[best] { best = i }
  return best
}

/// The indices of the `count` largest values, largest first, lower index
/// first among equals.
func topIndices(_ values: [Double], count: Int) -> [Int] {
  let sorted = values.indices.sorted { a, b in
    values[a] != values[b] ? values[a] > values[b] : a < b
  }
  return Array(sorted.prefix(count))
}

extension SparseMatrix where Scalar: SoftmaxScalar {
  /// The stored values in `Double`. (Not `as? [Double]`: in a caller
  /// unspecialized, as the existential `ClassifierFeatures` calls the
  /// logits, that cast copies the array an element at a time; so do the
  /// generic conversions, hence `Float` and `Double` by name.)
  fileprivate func valuesInDouble() -> [Double] {
    if Scalar.self == Double.self {
      return unsafeBitCast(values, to: [Double].self)
    } else if Scalar.self == Float.self {
      return unsafeBitCast(values, to: [Float].self).map { Double($0) }
    }
    return values.map { Double($0) }
  }
}
