//===--- DenseLayer.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A fully connected layer `z = W·o + b`: the layer a softmax classifier
/// puts before its softmax.
///
/// In the textbook network, inputs o1..o3 connect to outputs z4..z6 and
/// `w_ji` is the weight from input i to output j, so `z4 = w41·o1 + w42·o2
/// + w43·o3 + b4`. Here `weight[j, i]` holds `w_ji`: the weight matrix is
/// `outputs × inputs`, as PyTorch's `nn.Linear`.
///
/// For a batch, inputs are the rows of an `N × inputs` matrix and outputs
/// the rows of an `N × outputs` matrix: `Z = O·Wᵀ + 1·bᵀ`.
public struct DenseLayer<T: SoftmaxScalar>: Sendable, Hashable {
  /// `outputs × inputs`; `weight[j, i]` connects input i to output j.
  public var weight: Matrix<T>
  /// One bias per output.
  public var bias: [T]

  /// Creates a layer from its weights and biases.
  ///
  /// - Precondition: `bias.count == weight.rows`.
  @inlinable
  public init(weight: Matrix<T>, bias: [T]) {
    precondition(
      bias.count == weight.rows, "bias has \(bias.count) elements; weight has \(weight.rows) rows")
    self.weight = weight
    self.bias = bias
  }

  /// The number of inputs (columns of ``weight``).
  @inlinable
  public var inputCount: Int { weight.columns }

  /// The number of outputs (rows of ``weight``).
  @inlinable
  public var outputCount: Int { weight.rows }

  /// The outputs `Z = O·Wᵀ + b` for a batch of inputs, one per row.
  ///
  /// - Parameter input: `N × inputCount`.
  /// - Returns: `N × outputCount`.
  /// - Complexity: O(N × inputs × outputs).
  ///
  /// Error bound: each output is accumulated in
  /// ``SoftmaxScalar/Accumulator`` and rounded once; for `Float` the error
  /// is 0.5 ulp plus `inputs·2⁻⁵³·Σ|w·o|`.
  @inlinable
  public func callAsFunction(_ input: Matrix<T>) -> Matrix<T> {
    precondition(
      input.columns == inputCount,
      "input has \(input.columns) columns; the layer has \(inputCount) inputs")
    var output = Matrix(rows: input.rows, columns: outputCount, repeating: T.zero)
    for n in 0..<input.rows {
      for j in 0..<outputCount {
        var sum = T.widen(bias[j])
        for i in 0..<inputCount {
          sum +=
            T.widen(weight.elements[j * inputCount + i])
            * T.widen(input.elements[n * inputCount + i])
        }
        output[n, j] = T.narrow(sum)
      }
    }
    return output
  }

  /// The outputs `Z = O·Wᵀ + b` for a batch of sparse inputs: each output
  /// sums the bias and `w_ji·o_i` over the row's stored entries only (the
  /// other inputs are 0), in increasing `i`.
  ///
  /// - Parameter input: `N × inputCount`.
  /// - Returns: `N × outputCount`, dense.
  /// - Complexity: O(N × outputs + entries × outputs).
  ///
  /// Error bound: as for dense inputs, with `inputs` replaced by the
  /// row's entry count. With finite weights the result has the bits of the
  /// dense forward of the same rows (the terms left out are zeros, which
  /// change no sum), but for the sign of a zero.
  @inlinable
  public func callAsFunction(_ input: SparseMatrix<T>) -> Matrix<T> {
    precondition(
      input.columns == inputCount,
      "input has \(input.columns) columns; the layer has \(inputCount) inputs")
    let d = inputCount
    let k = outputCount
    var output = [T](repeating: T.zero, count: input.rows * k)
    var sums = [T.Accumulator](repeating: T.Accumulator.zero, count: k)
    weight.storage.withUnsafeBufferPointer { w in
      input.columnIndices.withUnsafeBufferPointer { columns in
        input.values.withUnsafeBufferPointer { values in
          sums.withUnsafeMutableBufferPointer { sums in
            output.withUnsafeMutableBufferPointer { output in
              for n in 0..<input.rows {
                for j in 0..<k { sums[j] = T.widen(bias[j]) }
                for entry in input.rowOffsets[n]..<input.rowOffsets[n + 1] {
                  let i = Int(columns[entry])
                  let o = T.widen(values[entry])
                  for j in 0..<k { sums[j] += T.widen(w[j * d + i]) * o }
                }
                for j in 0..<k { output[n * k + j] = T.narrow(sums[j]) }
              }
            }
          }
        }
      }
    }
    return Matrix(rows: input.rows, columns: k, elements: output)
  }

  /// The outputs `z = W·o + b` for one input vector.
  ///
  /// - Complexity: O(inputs × outputs).
  @inlinable
  public func callAsFunction(_ input: [T]) -> [T] {
    self(Matrix(rows: 1, columns: input.count, elements: input)).elements
  }

  /// The gradients of a loss with respect to a layer's parameters and inputs.
  public struct Gradients: Sendable, Hashable {
    /// `∂L/∂W = Gᵀ·O`, `outputs × inputs`: for one sample,
    /// `∂L/∂w_ji = (∂L/∂z_j)·o_i`.
    public var weight: Matrix<T>
    /// `∂L/∂b = Σ_n G[n]`, one per output.
    public var bias: [T]
    /// `∂L/∂O = G·W`, `N × inputs`: for one sample, `Wᵀ·∂L/∂z`.
    public var input: Matrix<T>

    /// Creates gradients from their parts.
    @inlinable
    public init(weight: Matrix<T>, bias: [T], input: Matrix<T>) {
      self.weight = weight
      self.bias = bias
      self.input = input
    }
  }

  /// The backward pass (the chain rule through `z = W·o + b`) for a batch.
  ///
  /// With `G = ∂L/∂Z` (for softmax with cross-entropy, `(A - Y)` scaled by
  /// the reduction, from ``crossEntropyWithGradient(logits:labels:classWeights:sampleWeights:ignoring:labelSmoothing:reduction:)``):
  /// `∂L/∂W = Gᵀ·O`, `∂L/∂b = Σ rows of G`, `∂L/∂O = G·W`.
  ///
  /// - Parameters:
  ///   - input: The batch `O` that was fed forward, `N × inputs`.
  ///   - outputGradient: `G = ∂L/∂Z`, `N × outputs`.
  /// - Complexity: O(N × inputs × outputs).
  @inlinable
  public func gradients(input: Matrix<T>, outputGradient: Matrix<T>) -> Gradients {
    precondition(input.columns == inputCount, "input has \(input.columns) columns")
    precondition(
      outputGradient.columns == outputCount && outputGradient.rows == input.rows,
      "outputGradient is \(outputGradient.rows) x \(outputGradient.columns)")
    let batch = input.rows
    var weightGradient = Matrix(rows: outputCount, columns: inputCount, repeating: T.zero)
    var biasGradient = [T](repeating: 0, count: outputCount)
    var inputGradient = Matrix(rows: batch, columns: inputCount, repeating: T.zero)
    for j in 0..<outputCount {
      var biasSum = T.Accumulator.zero
      for n in 0..<batch { biasSum += T.widen(outputGradient[n, j]) }
      biasGradient[j] = T.narrow(biasSum)
      for i in 0..<inputCount {
        var sum = T.Accumulator.zero
        for n in 0..<batch {
          sum += T.widen(outputGradient[n, j]) * T.widen(input[n, i])
        }
        weightGradient[j, i] = T.narrow(sum)
      }
    }
    for n in 0..<batch {
      for i in 0..<inputCount {
        var sum = T.Accumulator.zero
        for j in 0..<outputCount {
          sum += T.widen(outputGradient[n, j]) * T.widen(weight[j, i])
        }
        inputGradient[n, i] = T.narrow(sum)
      }
    }
    return Gradients(weight: weightGradient, bias: biasGradient, input: inputGradient)
  }
}

extension DenseLayer {
  /// The layer after one step of gradient descent: `W − η·∂L/∂W`,
  /// `b − η·∂L/∂b` (the worked examples' step).
  func descending(_ gradients: Gradients, learningRate eta: T) -> DenseLayer {
    var next = self
    for j in 0..<outputCount {
      next.bias[j] -= eta * gradients.bias[j]
      for i in 0..<inputCount { next.weight[j, i] -= eta * gradients.weight[j, i] }
    }
    return next
  }
}
