//===--- CrossEntropyKernels.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Narrows an accumulated value; a finite value beyond `T`'s range (the
/// true result of finite input) saturates instead of becoming ±inf.
@inlinable @inline(__always)
func narrowSaturating<T: SoftmaxScalar>(_ x: T.Accumulator, as: T.Type = T.self) -> T {
  let narrowed = T.narrow(x)
  return x.isFinite ? saturated(narrowed) : narrowed
}

@inlinable
func checkWeights<T>(_ weights: [T]?, count: Int, _ name: String) {
  if let weights {
    precondition(
      weights.count == count, "\(name) has \(weights.count) elements; expected \(count)")
  }
}

/// Applies the reduction to per-sample losses (in the accumulator type) and
/// scales the gradient rows to match.
@inlinable
func reduceLosses<T: SoftmaxScalar>(
  _ losses: [T.Accumulator], denominator: T.Accumulator, reduction: LossReduction,
  gradient: inout Matrix<T>, withGradient: Bool
) -> CrossEntropyResult<T> {
  var total = CompensatedSum<T.Accumulator>()
  for l in losses { total.add(l) }
  let perSample: [T] = losses.map { narrowSaturating($0) }
  switch reduction {
  case .sum:
    return CrossEntropyResult(
      loss: narrowSaturating(total.value), losses: perSample, gradient: gradient)
  case .mean:
    guard denominator != 0 else {
      // Every target ignored (or weighted 0): the mean is defined as 0.
      let zero = Matrix(rows: gradient.rows, columns: gradient.columns, repeating: T.zero)
      return CrossEntropyResult(loss: 0, losses: perSample, gradient: zero)
    }
    if withGradient {
      gradient.withUnsafeMutableBufferPointer { g in
        for k in g.indices { g[k] = T.narrow(T.widen(g[k]) / denominator) }
      }
    }
    return CrossEntropyResult(
      loss: narrowSaturating(total.value / denominator), losses: perSample, gradient: gradient)
  }
}

@inlinable
func labelCrossEntropy<T: SoftmaxScalar>(
  logits: Matrix<T>, labels: [Int], classWeights: [T]?, sampleWeights: [T]?,
  ignoredLabel: Int?, labelSmoothing: T, reduction: LossReduction, withGradient: Bool
) throws(SoftmaxError) -> CrossEntropyResult<T> {
  typealias A = T.Accumulator
  let (n, classCount) = (logits.rows, logits.columns)
  precondition(labels.count == n, "labels has \(labels.count) elements; logits has \(n) rows")
  checkWeights(classWeights, count: classCount, "classWeights")
  checkWeights(sampleWeights, count: n, "sampleWeights")
  precondition(
    labelSmoothing >= 0 && labelSmoothing <= 1,
    "labelSmoothing must be in [0, 1], got \(labelSmoothing)")
  for (i, y) in labels.enumerated() where y != ignoredLabel {
    guard y >= 0 && y < classCount else {
      throw .labelOutOfRange(sample: i, label: y, classCount: classCount)
    }
  }
  if let fast = crossEntropyFastPath(
    logits: logits, labels: labels, classWeights: classWeights, sampleWeights: sampleWeights,
    ignoredLabel: ignoredLabel, labelSmoothing: labelSmoothing, reduction: reduction)
  {
    return fast
  }

  let logA = logSoftmax(logits)
  var gradient =
    withGradient ? softmax(logits) : Matrix(rows: 0, columns: 0, repeating: T.zero)
  let epsilon = A(T.widen(labelSmoothing))
  let smoothingShare = epsilon / A(classCount)
  var weightTotal = CompensatedSum<A>()
  for c in 0..<classCount { weightTotal.add(classWeights.map { T.widen($0[c]) } ?? 1) }
  let w = weightTotal.value

  var losses = [A](repeating: 0, count: n)
  var denominator = CompensatedSum<A>()
  for i in 0..<n {
    let y = labels[i]
    let base = i * classCount
    if y == ignoredLabel {
      if withGradient {
        for c in 0..<classCount { gradient[i, c] = 0 }
      }
      continue
    }
    let s = sampleWeights.map { T.widen($0[i]) } ?? 1
    let wy = classWeights.map { T.widen($0[y]) } ?? 1
    var loss = (1 - epsilon) * wy * -T.widen(logA.elements[base + y])
    if epsilon != 0 {
      var smooth = CompensatedSum<A>()
      for c in 0..<classCount {
        smooth.add((classWeights.map { T.widen($0[c]) } ?? 1) * -T.widen(logA.elements[base + c]))
      }
      loss += smoothingShare * smooth.value
    }
    losses[i] = s * loss
    denominator.add(s * wy)
    if withGradient {
      for c in 0..<classCount {
        let a = T.widen(gradient.elements[base + c])
        let wc = classWeights.map { T.widen($0[c]) } ?? 1
        var g = (1 - epsilon) * wy * (c == y ? a - 1 : a)
        if epsilon != 0 { g += smoothingShare * (w * a - wc) }
        gradient[i, c] = T.narrow(s * g)
      }
    }
  }
  return reduceLosses(
    losses, denominator: denominator.value, reduction: reduction, gradient: &gradient,
    withGradient: withGradient)
}

@inlinable
func probabilityCrossEntropy<T: SoftmaxScalar>(
  logits: Matrix<T>, targets: Matrix<T>, classWeights: [T]?, sampleWeights: [T]?,
  labelSmoothing: T, reduction: LossReduction, withGradient: Bool
) -> CrossEntropyResult<T> {
  typealias A = T.Accumulator
  let (n, classCount) = (logits.rows, logits.columns)
  checkSameShape(logits, targets, "probabilities")
  checkWeights(classWeights, count: classCount, "classWeights")
  checkWeights(sampleWeights, count: n, "sampleWeights")
  precondition(
    labelSmoothing >= 0 && labelSmoothing <= 1,
    "labelSmoothing must be in [0, 1], got \(labelSmoothing)")

  let logA = logSoftmax(logits)
  var gradient =
    withGradient ? softmax(logits) : Matrix(rows: 0, columns: 0, repeating: T.zero)
  let epsilon = A(T.widen(labelSmoothing))
  let smoothingShare = epsilon / A(classCount)

  var losses = [A](repeating: 0, count: n)
  var denominator = CompensatedSum<A>()
  for i in 0..<n {
    let base = i * classCount
    let s = sampleWeights.map { T.widen($0[i]) } ?? 1
    var loss = CompensatedSum<A>()
    var targetMass = CompensatedSum<A>()
    for c in 0..<classCount {
      let target = (1 - epsilon) * T.widen(targets.elements[base + c]) + smoothingShare
      guard target != 0 else { continue }  // 0·log a counts as 0, even for a = 0.
      let wc = classWeights.map { T.widen($0[c]) } ?? 1
      loss.add(wc * target * -T.widen(logA.elements[base + c]))
      targetMass.add(wc * target)
    }
    losses[i] = s * loss.value
    denominator.add(s)
    if withGradient {
      let mass = targetMass.value
      for c in 0..<classCount {
        let target = (1 - epsilon) * T.widen(targets.elements[base + c]) + smoothingShare
        let wc = classWeights.map { T.widen($0[c]) } ?? 1
        let a = T.widen(gradient.elements[base + c])
        gradient[i, c] = T.narrow(s * (a * mass - wc * target))
      }
    }
  }
  return reduceLosses(
    losses, denominator: denominator.value, reduction: reduction, gradient: &gradient,
    withGradient: withGradient)
}
