//===--- Progress.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Shows training as it goes, on stderr: a bar with the ETA, loss and
/// accuracy, redrawn in place, when stderr is a terminal; plain log lines
/// (at most one a second, plus the first and last) otherwise; nothing
/// with `--quiet`.
struct ProgressDisplay {
  enum Style { case bar, lines, silent }

  let style: Style
  let total: Int
  let unit: String
  let start = monotonicSeconds()
  var lastDraw = -1.0
  var drewBar = false

  init(quiet: Bool, total: Int, unit: String) {
    style = quiet ? .silent : (StandardError.isTerminal ? .bar : .lines)
    self.total = max(total, 1)
    self.unit = unit
  }

  /// Whether an update now would be shown (callers skip measuring
  /// accuracy otherwise).
  func wantsUpdate(step: Int) -> Bool {
    let now = monotonicSeconds()
    switch style {
    case .silent: return false
    case .bar: return now - lastDraw >= 0.1 || step >= total
    case .lines: return step == 1 || step >= total || now - lastDraw >= 1
    }
  }

  /// The step last shown.
  var lastShown = 0

  mutating func update(step: Int, loss: Double, accuracy: Double?, validationLoss: Double?) {
    lastShown = step
    let now = monotonicSeconds()
    lastDraw = now
    let elapsed = now - start
    let fraction = min(Double(step) / Double(total), 1)
    let eta = step > 0 ? elapsed / Double(step) * Double(max(total - step, 0)) : .nan
    var metrics = "loss \(String(fixed: loss, digits: 6))"
    if let validationLoss { metrics += "  val loss \(String(fixed: validationLoss, digits: 6))" }
    if let accuracy { metrics += "  acc \(String(fixed: accuracy * 100, digits: 2))%" }
    switch style {
    case .silent:
      return
    case .bar:
      let width = 24
      let filled = Int((fraction * Double(width)).rounded(.down))
      let bar =
        String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      StandardError.write(
        "\r\u{1B}[2K\(unit) \(step)/\(total) \(bar) \(metrics)  \(formatDuration(elapsed)) (≤\(formatDuration(eta)) left)"
      )
      drewBar = true
    case .lines:
      StandardError.write("\(unit) \(step)/\(total)  \(metrics)  \(formatDuration(elapsed))\n")
    }
  }

  /// Ends the bar's line.
  func finish() {
    if drewBar { StandardError.write("\n") }
  }
}
