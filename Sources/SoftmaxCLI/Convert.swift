//===--- Convert.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData

struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write a data file's features as NumPy .npy (or SciPy sparse .npz) and its labels beside them.",
    discussion: """
      Reads DATA as train reads it (CSV/TSV, LIBSVM, IDX, NPY, NPZ; compressed or not) and \
      writes its features to OUT.npy, a 2-D array (rows × features, C order) of float32, or \
      float64 with --precision double, which numpy.load and softmax read; and its labels, one \
      a line, to --labels-out (default: OUT's name with .labels.txt for .npy). Read the pair \
      back with softmax train OUT.npy --labels OUT.labels.txt. LIBSVM data is written dense \
      to .npy; to keep it sparse, name OUT .npz: a SciPy CSR matrix, as \
      scipy.sparse.save_npz(OUT, X, compressed=False) writes it (scipy.sparse.load_npz reads \
      it), which softmax train streams without parsing text (--stream). A LIBSVM file is \
      converted to .npz in two passes, holding a chunk of rows. Both files are written whole \
      or not at all, never over an input.

      Examples:
        softmax convert train.csv train.npy
        softmax convert news20.t.bz2 news20.npy --precision double
        softmax convert news20.t.bz2 news20.npz
      """)

  @Argument(help: "The data: CSV/TSV, LIBSVM, IDX images, NPY or NPZ.")
  var data: String

  @Argument(
    help: ArgumentHelp(
      "Where to write the features (.npy dense; .npz a SciPy sparse matrix).",
      valueName: "out.npy"))
  var output: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @Option(
    name: .customLong("labels-out"),
    help: ArgumentHelp(
      "Where to write the labels, one a line (default: beside the .npy).", valueName: "path"))
  var labelsOutput: String?

  /// `--labels-out`, or OUT with `.labels.txt` in place of `.npy` or
  /// `.npz`.
  var labelsPath: String {
    if let labelsOutput { return labelsOutput }
    let stem =
      output.hasSuffix(".npy") || output.hasSuffix(".npz") ? String(output.dropLast(4)) : output
    return stem + ".labels.txt"
  }

  /// Whether OUT is a sparse `.npz`.
  var writesSparse: Bool { output.lowercased().hasSuffix(".npz") }

  /// A LIBSVM file converted to `.npz` a chunk of rows at a time (its
  /// first pass, then two more: the indices, then the values).
  private func convertLIBSVMToNPZ(inputs: [NamedPath]) throws {
    let options = try dataOptions.loadOptions().libsvm
    try checkOutputs(
      [
        NamedPath(role: "the .npz output", path: output),
        NamedPath(role: "--labels-out", path: labelsPath),
      ], against: inputs)
    let double = dataOptions.precision == .double
    let (rows, columns, labels, report): (Int, Int, [String], LoadReport)
    if double {
      let stream = try LIBSVMRowStream<Double>(path: data, options: options)
      try NPZWriter.write(stream, to: output)
      (rows, columns, labels, report) = (stream.rows, stream.columns, stream.labels, stream.report)
    } else {
      let stream = try LIBSVMRowStream<Float>(path: data, options: options)
      try NPZWriter.write(stream, to: output)
      (rows, columns, labels, report) = (stream.rows, stream.columns, stream.labels, stream.report)
    }
    noteLoadReport(report, of: data)
    try writeLabels(labels)
    print(
      "\(rows) rows × \(columns) features (sparse, \(double ? "float64" : "float32")) written to \(output); labels to \(labelsPath)"
    )
  }

  /// The labels, one a line, to ``labelsPath``.
  private func writeLabels(_ labels: [String]) throws {
    if let row = labels.firstIndex(where: { $0.contains("\n") || $0.contains("\r") }) {
      throw CommandFailure(
        "\(data): row \(row)'s label holds a line break; a labels file has one label a line")
    }
    try AtomicFile.write(Array((labels.joined(separator: "\n") + "\n").utf8), to: labelsPath)
  }

  /// A CSV file converted a chunk of rows at a time (two passes over it;
  /// memory: a chunk and the labels), the same bytes as reading it whole.
  private func convertInChunks(inputs: [NamedPath]) throws {
    let options = try dataOptions.loadOptions()
    var csv = options.csv
    if let label = options.label { csv.label = label }
    try checkOutputs(
      [
        NamedPath(role: "the .npy output", path: output),
        NamedPath(role: "--labels-out", path: labelsPath),
      ], against: inputs)
    let double = dataOptions.precision == .double
    var table: CSVReader.ChunkedTable? = nil
    try AtomicFile.write(to: output) { append throws(DataError) in
      func write<Scalar: SoftmaxScalar>(_: Scalar.Type) throws(DataError) {
        table = try CSVReader.forEachChunk(
          data, options: csv, chunkRows: 1 << 16, as: Scalar.self,
          beforeFirstChunk: { found throws(DataError) in
            if let labels = found.labels,
              let row = labels.firstIndex(where: { $0.contains("\n") || $0.contains("\r") })
            {
              throw DataError(
                .labels, path: data,
                "row \(row)'s label holds a line break; a labels file has one label a line")
            }
            try append(NPYWriter.header(rows: found.rows, columns: found.columns, as: Scalar.self))
          }
        ) { _, features throws(DataError) in try append(NPYWriter.valueBytes(features)) }
      }
      if double { try write(Double.self) } else { try write(Float.self) }
    }
    guard let table else { return }
    noteLoadReport(table.report, of: data)
    if let labels = table.labels {
      try AtomicFile.write(Array((labels.joined(separator: "\n") + "\n").utf8), to: labelsPath)
    }
    print(
      "\(table.rows) rows × \(table.columns) features (\(double ? "float64" : "float32")) written to \(output)"
        + (table.labels == nil ? "" : "; labels to \(labelsPath)"))
  }

  func run() throws {
    try reportingFailures {
      if dataOptions.isText(data) {
        throw CommandFailure(
          "\(data): text is featurized by train (its vocabulary is fitted on the training documents); convert takes numeric data"
        )
      }
      let inputs = try dataOptions.namedInputs(of: data, role: "the data")
      let format = try DataLoader.format(of: data, given: dataOptions.format)
      if writesSparse && format == .libsvm {
        try convertLIBSVMToNPZ(inputs: inputs)
        return
      }
      if !writesSparse && format == .csv && dataOptions.missing != .mean {
        try convertInChunks(inputs: inputs)
        return
      }
      let loaded = try dataOptions.load(
        data, precision: dataOptions.precision == .double ? .double : .float)
      let labels = loaded.labels
      try checkOutputs(
        [NamedPath(role: writesSparse ? "the .npz output" : "the .npy output", path: output)]
          + (labels == nil ? [] : [NamedPath(role: "--labels-out", path: labelsPath)]),
        against: inputs)
      if let labels, let row = labels.firstIndex(where: { $0.contains("\n") || $0.contains("\r") })
      {
        throw CommandFailure(
          "\(data): row \(row)'s label holds a line break; a labels file has one label a line")
      }
      if writesSparse {
        switch loaded {
        case .float(let set): try NPZWriter.write(SparseMatrix(set.features), to: output)
        case .double(let set): try NPZWriter.write(SparseMatrix(set.features), to: output)
        case .sparseFloat(let set): try NPZWriter.write(set.features, to: output)
        case .sparseDouble(let set): try NPZWriter.write(set.features, to: output)
        }
        if let labels { try writeLabels(labels) }
        print(
          "\(loaded.count) rows × \(loaded.featureCount) features (sparse, \(loaded.isFloat ? "float32" : "float64")) written to \(output)"
            + (labels == nil ? "" : "; labels to \(labelsPath)"))
        return
      }
      let bytes: [UInt8]
      switch loaded {
      case .float(let set): bytes = NPYWriter.bytes(set.features)
      case .double(let set): bytes = NPYWriter.bytes(set.features)
      case .sparseFloat(let set): bytes = NPYWriter.bytes(set.features.dense())
      case .sparseDouble(let set): bytes = NPYWriter.bytes(set.features.dense())
      }
      try AtomicFile.write(bytes, to: output)
      if let labels {
        try AtomicFile.write(Array((labels.joined(separator: "\n") + "\n").utf8), to: labelsPath)
      }
      print(
        "\(loaded.count) rows × \(loaded.featureCount) features (\(loaded.isFloat ? "float32" : "float64")) written to \(output)"
          + (labels == nil ? "" : "; labels to \(labelsPath)"))
    }
  }
}
