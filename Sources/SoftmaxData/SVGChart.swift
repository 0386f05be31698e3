//===--- SVGChart.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Pictures as SVG text: line charts (loss and accuracy per iteration)
/// and heat maps (a confusion matrix). Plain SVG 1.1, no scripts or
/// external fonts, so any browser or `rsvg-convert` renders it.
public enum SVGChart {
  /// A named line of `(x, y)` points.
  public struct Series: Sendable, Hashable {
    /// The legend's name.
    public var name: String
    /// The points, in drawing order; non-finite points are left out.
    public var points: [(x: Double, y: Double)]
    /// Creates a series.
    public init(name: String, points: [(x: Double, y: Double)]) {
      self.name = name
      self.points = points
    }

    /// Same name and the same points in the same order.
    public static func == (a: Series, b: Series) -> Bool {
      a.name == b.name && a.points.elementsEqual(b.points) { $0.x == $1.x && $0.y == $1.y }
    }

    /// Hashes the name and the points.
    public func hash(into hasher: inout Hasher) {
      hasher.combine(name)
      for point in points {
        hasher.combine(point.x)
        hasher.combine(point.y)
      }
    }
  }

  /// One chart of a figure: a title, axis names and its lines.
  public struct Panel: Sendable, Hashable {
    /// The title above the chart.
    public var title: String
    /// The horizontal axis's name.
    public var xLabel: String
    /// The vertical axis's name.
    public var yLabel: String
    /// The lines.
    public var series: [Series]
    /// Draw the vertical axis on a log scale (for losses spanning
    /// decades); needs positive values.
    public var logScale: Bool

    /// Creates a panel.
    public init(
      title: String, xLabel: String, yLabel: String, series: [Series], logScale: Bool = false
    ) {
      self.title = title
      self.xLabel = xLabel
      self.yLabel = yLabel
      self.series = series
      self.logScale = logScale
    }
  }

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

  /// Panels side by side, each 440 × 320 pixels.
  public static func lineCharts(_ panels: [Panel]) -> String {
    let panelWidth = 440.0
    let panelHeight = 320.0
    var svg = header(width: panelWidth * Double(max(panels.count, 1)), height: panelHeight)
    for (index, panel) in panels.enumerated() {
      svg += lineChart(
        panel, x0: panelWidth * Double(index), width: panelWidth, height: panelHeight)
    }
    return svg + "</svg>\n"
  }

  static func header(width: Double, height: Double) -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
    viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>

    """
  }

  static func lineChart(_ panel: Panel, x0: Double, width: Double, height: Double) -> String {
    let left = x0 + 62
    let right = x0 + width - 16
    let top = 34.0
    let bottom = height - 46
    let points = panel.series.flatMap(\.points).filter {
      $0.x.isFinite && $0.y.isFinite && (!panel.logScale || $0.y > 0)
    }
    var svg = text(
      panel.title, x: (left + right) / 2, y: 20, anchor: "middle", size: 14, bold: true)
    svg += text(panel.xLabel, x: (left + right) / 2, y: height - 10, anchor: "middle")
    svg +=
      "<text x=\"\(f(x0 + 14))\" y=\"\(f((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(x0 + 14)) \(f((top + bottom) / 2)))\">\(escape(panel.yLabel))</text>\n"
    svg +=
      "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#444\"/>\n"
    guard let xMin = points.map(\.x).min(), let xMax = points.map(\.x).max(),
      var yMin = points.map(\.y).min(), var yMax = points.map(\.y).max()
    else {
      return svg + text("no data", x: (left + right) / 2, y: (top + bottom) / 2, anchor: "middle")
    }
    func transform(_ y: Double) -> Double { panel.logScale ? log10(y) : y }
    yMin = transform(yMin)
    yMax = transform(yMax)
    if yMax - yMin < 1e-12 {
      yMin -= 0.5
      yMax += 0.5
    } else {
      let pad = (yMax - yMin) * 0.05
      yMin -= pad
      yMax += pad
    }
    let xSpan = xMax > xMin ? xMax - xMin : 1
    func px(_ x: Double) -> Double { left + (x - xMin) / xSpan * (right - left) }
    func py(_ y: Double) -> Double {
      bottom - (transform(y) - yMin) / (yMax - yMin) * (bottom - top)
    }
    // Grid and ticks.
    for tick in ticks(from: xMin, to: xMax, count: 6) {
      let x = px(tick)
      svg +=
        "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\" stroke=\"#e5e5e5\"/>\n"
      svg += text(label(tick), x: x, y: bottom + 16, anchor: "middle")
    }
    let yTicks: [Double] =
      panel.logScale
      ? ticks(from: yMin, to: yMax, count: 5).map { pow10($0) }
      : ticks(from: yMin, to: yMax, count: 6)
    for tick in yTicks {
      let y = py(tick)
      guard y >= top - 0.5, y <= bottom + 0.5 else { continue }
      svg +=
        "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
      svg += text(label(tick), x: left - 5, y: y + 4, anchor: "end")
    }
    // Lines and legend.
    for (index, series) in panel.series.enumerated() {
      let color = palette[index % palette.count]
      let shown = series.points.filter {
        $0.x.isFinite && $0.y.isFinite && (!panel.logScale || $0.y > 0)
      }
      if shown.count == 1, let only = shown.first {
        svg +=
          "<circle cx=\"\(f(px(only.x)))\" cy=\"\(f(py(only.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
      } else if !shown.isEmpty {
        let path = shown.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
        svg +=
          "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
      }
      let legendY = top + 16 + Double(index) * 16
      if index == 0 {
        svg +=
          "<rect x=\"\(f(right - 126))\" y=\"\(f(top + 4))\" width=\"120\" height=\"\(f(Double(panel.series.count) * 16 + 4))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
      }
      svg +=
        "<line x1=\"\(f(right - 120))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(right - 100))\" y2=\"\(f(legendY - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
      svg += text(series.name, x: right - 95, y: legendY, anchor: "start")
    }
    return svg
  }

  /// The most classes ``confusionMatrix(_:classes:title:)`` draws: beyond
  /// that, a million cells of SVG is no picture.
  public static let largestConfusionMatrix = 1000

  /// A `k × k` confusion matrix as a heat map: rows are the true classes,
  /// columns the predicted ones; each cell shows its count and is shaded
  /// by the square root of its share of the row (the recall on the
  /// diagonal), so that a few errors among many rows still show.
  public static func confusionMatrix(_ counts: [[Int]], classes: [String], title: String) -> String
  {
    let k = counts.count
    let cell = k <= 10 ? 48.0 : max(14, 480 / Double(k))
    let showNumbers = cell >= 28
    let longest = Double(classes.map(\.count).max() ?? 1)
    let labelWidth = min(max(longest * 7.5 + 12, 40), 160)
    let left = labelWidth + 30
    let top = 56.0
    let width = left + cell * Double(k) + 120
    let height = top + cell * Double(k) + labelWidth + 20
    var svg = header(width: width, height: height)
    svg += text(title, x: width / 2, y: 22, anchor: "middle", size: 14, bold: true)
    svg += text("predicted", x: left + cell * Double(k) / 2, y: height - 8, anchor: "middle")
    svg +=
      "<text x=\"14\" y=\"\(f(top + cell * Double(k) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + cell * Double(k) / 2)))\">true</text>\n"
    for i in 0..<k {
      let rowTotal = counts[i].reduce(0, +)
      for j in 0..<k {
        let share = rowTotal > 0 ? Double(counts[i][j]) / Double(rowTotal) : 0
        let x = left + Double(j) * cell
        let y = top + Double(i) * cell
        svg +=
          "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(shade(share.squareRoot()))\" stroke=\"white\"><title>true \(escape(classes[i])), predicted \(escape(classes[j])): \(counts[i][j])</title></rect>\n"
        if showNumbers {
          svg += text(
            String(counts[i][j]), x: x + cell / 2, y: y + cell / 2 + 4, anchor: "middle",
            color: share > 0.25 ? "white" : "black")
        }
      }
      svg += text(classes[i], x: left - 6, y: top + (Double(i) + 0.5) * cell + 4, anchor: "end")
    }
    for j in 0..<k {
      let x = left + (Double(j) + 0.5) * cell
      let y = top + Double(k) * cell + 8
      svg +=
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"end\" transform=\"rotate(-60 \(f(x)) \(f(y)))\">\(escape(classes[j]))</text>\n"
    }
    // Colour scale.
    let scaleX = left + cell * Double(k) + 24
    for step in 0..<10 {
      let share = 1 - Double(step) / 9
      svg +=
        "<rect x=\"\(f(scaleX))\" y=\"\(f(top + Double(step) * 14))\" width=\"16\" height=\"14\" fill=\"\(shade(share.squareRoot()))\"/>\n"
    }
    svg += text("100% of row", x: scaleX + 20, y: top + 10, anchor: "start", size: 10)
    svg += text("25%", x: scaleX + 20, y: top + 14 * 6.75 + 4, anchor: "start", size: 10)
    svg += text("0% (√ scale)", x: scaleX + 20, y: top + 136, anchor: "start", size: 10)
    return svg + "</svg>\n"
  }

  /// White to dark blue.
  static func shade(_ share: Double) -> String {
    let t = min(max(share, 0), 1)
    let r = Int((247 - t * (247 - 8)).rounded())
    let g = Int((251 - t * (251 - 48)).rounded())
    let b = Int((255 - t * (255 - 107)).rounded())
    return "rgb(\(r),\(g),\(b))"
  }

  static func text(
    _ content: String, x: Double, y: Double, anchor: String, size: Int = 12, bold: Bool = false,
    color: String = "black"
  ) -> String {
    "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(bold ? " font-weight=\"bold\"" : "") fill=\"\(color)\">\(escape(content))</text>\n"
  }

  static func escape(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(character)
      }
    }
    return out
  }

  /// A coordinate with two decimals (0 for a coordinate that is not
  /// finite or is beyond any drawing, which only absurd data gives).
  static func f(_ value: Double) -> String {
    guard value.isFinite, abs(value) < 1e9 else { return "0" }
    let rounded = (value * 100).rounded() / 100
    return rounded == rounded.rounded() ? String(Int(rounded)) : "\(rounded)"
  }

  /// About `count` round-numbered ticks covering `[low, high]`.
  static func ticks(from low: Double, to high: Double, count: Int) -> [Double] {
    let span = high - low
    guard span > 0, span.isFinite else { return [low] }
    let raw = span / Double(max(count - 1, 1))
    let magnitude = pow10((log10(raw)).rounded(.down))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var tick = (low / step).rounded(.up) * step
    var result: [Double] = []
    while tick <= high + step * 1e-9 && result.count < 50 {
      result.append(abs(tick) < step * 1e-9 ? 0 : tick)
      tick += step
    }
    return result
  }

  static func label(_ value: Double) -> String {
    if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
    let magnitude = abs(value)
    var digits = 1
    while digits < 6
      && (magnitude * pow10(Double(digits))).rounded() != magnitude * pow10(Double(digits))
    {
      digits += 1
      if abs((magnitude * pow10(Double(digits))).rounded() - magnitude * pow10(Double(digits)))
        < 1e-6
      {
        break
      }
    }
    let scale = pow10(Double(digits))
    return "\((value * scale).rounded() / scale)"
  }

  static func log10(_ x: Double) -> Double { Double.log10(x) }
  static func pow10(_ x: Double) -> Double { Double.pow(10, x) }
}
