//===--- main.swift (sparse-timing) ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Sparse softmax regression, timed; JSON lines on stdout.
//
//   sparse-timing --generate PATH [--rows 200000] [--features 1000000] [--per-row 100] [--classes 2]
//       writes a synthetic LIBSVM file: each row `per-row` distinct column indices drawn from a
//       Zipf distribution (exponent 1.1, shuffled ranks, so frequent columns are everywhere),
//       values uniform in (0, 1], the label the sign of a hidden linear score (so there is
//       something to learn); seeded, the same bytes every time.
//   sparse-timing --gradient PATH [--threads N] [--repeats R]
//       reads PATH sparse and times, interleaved, the median of R (default 9) of
//         "pass":     one pass over the stored entries, Σ_e x_e·v[c_e] (one product and one
//                     random read a non-zero: the floor a gradient is compared with), and
//         "gradient": one objective + gradient evaluation of SparseSoftmaxRegressionObjective
//                     (its workspace kept from one evaluation to the next, as the solvers keep it);
//       and prints their ratio.
//   sparse-timing --density-sweep [--threads N]
//       the same problem (20,000 rows × 1,000 features, 10 classes) stored dense and sparse, in
//       Double and in Float, at densities from 1% to 100%: one gradient evaluation each, and the
//       ratio sparse / dense (where it crosses 1 is where LIBSVM files are best read dense).
//   sparse-timing --solver-overhead [--parameters 2530000,7700000,23500000] [--threads N]
//       L-BFGS's own time per iteration at the parameter counts of 20 Newsgroups words,
//       bigrams kept in 2 documents, and all bigrams: 30 iterations on the separable quadratic
//       ½·Σ hᵢxᵢ² − Σ xᵢ (hᵢ in [0.5, 2], its gradient one pass), 10 pairs in Float (automatic
//       from 2²⁰ parameters); the median seconds per iteration of `--repeats` runs. The
//       quadratic's evaluations are a few passes: the rest is the direction and the
//       vector updates, which bound an iteration of a large sparse model.
//   sparse-timing --fit PATH --features D --l2 λ --target F [--solver lbfgs|newton] [--threads N]
//       reads PATH (LIBSVM, 1-based, labels 0..<k) sparse in Double and fits softmax regression
//       with λ₂ = λ from zeros to a largest gradient component of 1e-8: the seconds (reading
//       excluded), iterations and passes, and the seconds and iteration at which the objective
//       first came within 1e-6 (relative) of F, the tight optimum measured elsewhere
//       (Benchmarks/compare_sparse_fit.py).
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

let arguments = Array(CommandLine.arguments.dropFirst())
nonisolated func option(_ name: String) -> String? {
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
  return arguments[index + 1]
}
if let threads = option("--threads").flatMap(Int.init) {
  SoftmaxConfiguration.threadCount = threads
}
let repeats = Int(option("--repeats") ?? "9") ?? 9

func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func printJSON(_ fields: [String: Any]) {
  guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
  else { return }
  print(String(decoding: data, as: UTF8.self))
}

/// A Zipf(s) sampler over `0..<n` by inverse transform on the cumulative
/// weights (binary search), ranks mapped through a fixed permutation.
struct Zipf {
  var cumulative: [Double]
  var permutation: [Int32]
  init(n: Int, exponent: Double, generator: inout SplitMix64) {
    var total = 0.0
    cumulative = (1...n).map { rank in
      total += 1 / pow(Double(rank), exponent)
      return total
    }
    permutation = (0..<Int32(n)).map { $0 }
    generator.shuffle(&permutation)
  }
  func sample(_ u: Double) -> Int {
    let target = u * cumulative[cumulative.count - 1]
    var low = 0
    var high = cumulative.count - 1
    while low < high {
      let middle = (low + high) / 2
      if cumulative[middle] < target { low = middle + 1 } else { high = middle }
    }
    return Int(permutation[low])
  }
}

extension SplitMix64 {
  mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
  mutating func shuffle<T>(_ array: inout [T]) {
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      array.swapAt(i, Int(next() % UInt64(i + 1)))
    }
  }
}

func generate(_ path: String) throws {
  let rows = Int(option("--rows") ?? "200000") ?? 200_000
  let features = Int(option("--features") ?? "1000000") ?? 1_000_000
  let perRow = Int(option("--per-row") ?? "100") ?? 100
  let classes = Int(option("--classes") ?? "2") ?? 2
  var generator = SplitMix64(seed: 16)
  let zipf = Zipf(n: features, exponent: 1.1, generator: &generator)
  let hidden = (0..<(features * classes)).map { _ in generator.unit() * 2 - 1 }
  FileManager.default.createFile(atPath: path, contents: nil)
  let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
  var text = ""
  var seen = Set<Int>()
  for row in 0..<rows {
    seen.removeAll(keepingCapacity: true)
    while seen.count < perRow { seen.insert(zipf.sample(generator.unit())) }
    let columns = seen.sorted()
    let values = columns.map { _ in max(generator.unit(), 1e-3) }
    var best = 0
    var bestScore = -Double.infinity
    for j in 0..<classes {
      var score = 0.0
      for (c, x) in zip(columns, values) { score += hidden[j * features + c] * x }
      if score > bestScore {
        bestScore = score
        best = j
      }
    }
    text += String(best)
    for (c, x) in zip(columns, values) { text += " \(c + 1):\(String(format: "%.4g", x))" }
    text += "\n"
    if row % 10_000 == 9_999 {
      handle.write(Data(text.utf8))
      text = ""
    }
  }
  handle.write(Data(text.utf8))
  try handle.close()
  printJSON([
    "what": "generate", "path": path, "rows": rows, "features": features, "per_row": perRow,
  ])
}

func gradientTiming(_ path: String) throws {
  var data: SparseDataSet<Double>? = nil
  let readSeconds = try seconds2 { data = try LIBSVMReader.readSparse(path, as: Double.self) }
  guard let data, let labels = data.labels else { return }
  let encoding = ClassEncoding(labels: labels)
  let x = data.features
  let k = encoding.classes.count
  let objective = try SparseSoftmaxRegressionObjective(
    features: x, labels: encoding.indices, classCount: k, l2: 1 / Double(x.rows))
  var generator = SplitMix64(seed: 1)
  let v = (0..<x.columns).map { _ in generator.unit() }
  let parameters = (0..<objective.parameterCount).map { _ in (generator.unit() - 0.5) * 0.01 }
  var passes: [Double] = []
  var gradients: [Double] = []
  var sink = 0.0
  var gradient: [Double] = []
  var workspace = objective.makeWorkspace()
  for _ in 0..<repeats {
    passes.append(
      seconds {
        x.rowOffsets.withUnsafeBufferPointer { offsets in
          x.columnIndices.withUnsafeBufferPointer { columns in
            x.values.withUnsafeBufferPointer { values in
              v.withUnsafeBufferPointer { v in
                var total = 0.0
                for e in 0..<values.count { total += values[e] * v[Int(columns[e])] }
                sink += total + Double(offsets.count)
              }
            }
          }
        }
      })
    // One workspace for every evaluation, as the solvers keep theirs.
    gradients.append(
      seconds {
        sink += objective.smoothValueAndGradient(
          at: parameters, gradient: &gradient, workspace: &workspace)
      })
  }
  printJSON([
    "what": "gradient", "rows": x.rows, "features": x.columns, "classes": k,
    "nonzeros": x.nonZeroCount, "threads": SoftmaxConfiguration.threadCount,
    "read_seconds": readSeconds, "pass_seconds": median(passes),
    "gradient_seconds": median(gradients), "ratio": median(gradients) / median(passes),
    "sink": sink.isFinite,
  ])
}

func seconds2(_ body: () throws -> Void) throws -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func densitySweep() throws {
  let n = 20_000
  let d = 1_000
  let k = 10
  for density in [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0] {
    var generator = SplitMix64(seed: 7)
    var elements = [Double](repeating: 0, count: n * d)
    for i in 0..<(n * d) where generator.unit() < density { elements[i] = generator.unit() }
    let labels = (0..<n).map { _ in Int(generator.next() % UInt64(k)) }
    var fields: [String: Any] = [
      "what": "density", "density": density, "rows": n, "features": d, "classes": k,
      "threads": SoftmaxConfiguration.threadCount,
    ]
    func sweep<T: SoftmaxScalar>(_: T.Type, _ name: String) throws {
      let dense = Matrix(rows: n, columns: d, elements: elements.map { T($0) })
      let sparse = SparseMatrix(dense)
      let denseObjective = try SoftmaxRegressionObjective(
        features: dense, labels: labels, classCount: k, l2: 1e-4)
      let sparseObjective = try SparseSoftmaxRegressionObjective(
        features: sparse, labels: labels, classCount: k, l2: 1e-4)
      var g = SplitMix64(seed: 8)
      let parameters = (0..<denseObjective.parameterCount).map { _ in (g.unit() - 0.5) * 0.1 }
      var denseTimes: [Double] = []
      var sparseTimes: [Double] = []
      var gradient: [Double] = []
      var sink = 0.0
      for _ in 0..<repeats {
        denseTimes.append(
          seconds { sink += denseObjective.valueAndGradient(at: parameters, gradient: &gradient) })
        sparseTimes.append(
          seconds { sink += sparseObjective.valueAndGradient(at: parameters, gradient: &gradient) })
      }
      fields["\(name)_dense_seconds"] = median(denseTimes)
      fields["\(name)_sparse_seconds"] = median(sparseTimes)
      fields["\(name)_sparse_over_dense"] = median(sparseTimes) / median(denseTimes)
      fields["sink"] = sink.isFinite
    }
    try sweep(Double.self, "double")
    try sweep(Float.self, "float")
    printJSON(fields)
  }
}

/// L-BFGS's time per iteration on a separable quadratic (see the header).
func solverOverhead() {
  let counts = (option("--parameters") ?? "2530000,7700000,23500000").split(separator: ",")
    .compactMap { Int($0) }
  for n in counts {
    var generator = SplitMix64(seed: 5)
    let h = (0..<n).map { _ in 0.5 + 1.5 * Double(generator.next() >> 11) / Double(1 << 53) }
    var options = LBFGSOptions()
    options.maxIterations = 30
    options.gradientTolerance = 0
    options.relativeObjectiveTolerance = 0
    var perIteration: [Double] = []
    var iterations = 0
    for _ in 0..<max(1, repeats / 3) {
      var result: OptimizationResult? = nil
      let time = seconds {
        result = LBFGS(options: options).minimize(from: [Double](repeating: 0, count: n)) {
          x, gradient in
          var value = 0.0
          for i in 0..<n {
            gradient[i] = h[i] * x[i] - 1
            value += 0.5 * h[i] * x[i] * x[i] - x[i]
          }
          return value
        }
      }
      iterations = result?.iterations ?? 0
      perIteration.append(time / Double(max(iterations, 1)))
    }
    printJSON([
      "parameters": n, "iterations": iterations, "seconds_per_iteration": median(perIteration),
    ])
  }
}

/// `--fit`: see the header.
func fitTiming(_ path: String) throws {
  var options = LIBSVMOptions()
  options.featureCount = Int(option("--features") ?? "")
  options.zeroBased = false
  let data = try LIBSVMReader.readSparse(path, options: options, as: Double.self)
  guard let names = data.labels else { throw CocoaError(.fileReadCorruptFile) }
  let labels = names.map { Int($0) ?? 0 }
  let classCount = (labels.max() ?? 0) + 1
  let target = Double(option("--target") ?? "") ?? .nan
  var training = TrainingOptions()
  training.l2 = Double(option("--l2") ?? "") ?? 0
  training.solver = option("--solver") == "newton" ? .newton : .lbfgs
  training.lbfgs.maxIterations = 5000
  training.lbfgs.gradientTolerance = 1e-8
  training.lbfgs.relativeObjectiveTolerance = 0
  var reached: (iteration: Int, seconds: Double)? = nil
  let start = DispatchTime.now().uptimeNanoseconds
  let model = try SoftmaxClassifier.fit(
    features: data.features, labels: labels, classes: (0..<classCount).map(String.init),
    options: training
  ) { report in
    if reached == nil, (report.objective - target) / target <= 1e-6 {
      reached = (report.iteration, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return true
  }
  let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  guard let record = model.training else { fatalError("fit returns a training record") }
  printJSON([
    "what": "fit", "solver": "\(training.solver)", "seconds": total,
    "iterations": record.iterations, "evaluations": record.evaluations,
    "objective": record.objective, "stop": "\(record.stopReason)", "target": target,
    "reached_1e-6_at_iteration": reached?.iteration ?? -1,
    "reached_1e-6_seconds": reached?.seconds ?? -1, "threads": SoftmaxConfiguration.threadCount,
  ])
}

if let path = option("--fit") {
  try fitTiming(path)
} else if let path = option("--generate") {
  try generate(path)
} else if arguments.contains("--solver-overhead") {
  solverOverhead()
} else if let path = option("--gradient") {
  try gradientTiming(path)
} else if arguments.contains("--density-sweep") {
  try densitySweep()
} else {
  FileHandle.standardError.write(Data("usage: see the header of main.swift\n".utf8))
  exit(2)
}
