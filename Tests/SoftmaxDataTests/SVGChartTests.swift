//===--- SVGChartTests.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import SoftmaxData

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Counts elements by name with an independent XML parser.
final class ElementCounter: NSObject, XMLParserDelegate {
  var counts: [String: Int] = [:]
  var texts: [String] = []
  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    counts[name, default: 0] += 1
  }
  func parser(_ parser: XMLParser, foundCharacters string: String) { texts.append(string) }
}

func parseSVG(_ svg: String) -> ElementCounter? {
  let parser = XMLParser(data: Data(svg.utf8))
  let counter = ElementCounter()
  parser.delegate = counter
  return parser.parse() ? counter : nil
}

@Suite("SVG pictures are well-formed and hold what they show")
struct SVGChartTests {
  @Test("line charts: one polyline per series, names escaped")
  func lineCharts() throws {
    let panel = SVGChart.Panel(
      title: "Loss <L-BFGS> & co", xLabel: "iteration", yLabel: "loss",
      series: [
        .init(name: "objective", points: (1...50).map { (Double($0), 1 / Double($0)) }),
        .init(name: "validation", points: [(1, 2), (2, .nan), (3, 1)]),
      ])
    let empty = SVGChart.Panel(
      title: "Accuracy", xLabel: "iteration", yLabel: "accuracy", series: [])
    let counter = try #require(parseSVG(SVGChart.lineCharts([panel, empty])))
    #expect(counter.counts["polyline"] == 2)
    #expect(counter.texts.joined().contains("Loss <L-BFGS> & co"))
    #expect(counter.texts.joined().contains("no data"))
  }

  @Test("confusion matrix: k² cells, each count written, class names escaped")
  func confusionMatrix() throws {
    let counts = [[5, 1, 0], [0, 7, 2], [1, 0, 9]]
    let classes = ["a<b", "c&d", "e"]
    let svg = SVGChart.confusionMatrix(counts, classes: classes, title: "test")
    let counter = try #require(parseSVG(svg))
    #expect(counter.counts["title"] == 9)
    for value in counts.joined() { #expect(counter.texts.contains(String(value))) }
    #expect(counter.texts.joined().contains("true a<b, predicted c&d: 1"))
  }

  @Test("round tick values")
  func ticks() {
    let unit = SVGChart.ticks(from: 0, to: 1, count: 6)
    #expect(unit.count == 6)
    for (k, tick) in unit.enumerated() { #expect(abs(tick - Double(k) * 0.2) < 1e-12) }
    #expect(SVGChart.ticks(from: 1, to: 86, count: 6) == [20, 40, 60, 80])
  }
}
