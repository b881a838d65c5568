import LockscanKit
@testable import Timeline
import XCTest

final class TimelineHTMLRenderTests: XCTestCase {
    typealias F = TimelineHTMLFixtures
    typealias L = TimelineLayout

    /// The `<g class="lane" …>` elements of a page, each up to the next lane or the end of the SVG.
    static func laneElements(_ page: String) -> [Substring] {
        guard let svgEnd = page.range(of: "</svg>") else { return [] }
        return page[..<svgEnd.lowerBound].components(separatedBy: "<g class=\"lane\" ").dropFirst().map { Substring($0) }
    }

    /// Number of non-overlapping occurrences.
    static func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

    func testOneLabelledLanePerSourceWithItsClockAlignment() {
        let doc = F.realistic()
        let page = TimelineHTML.render(doc)
        let lanes = Self.laneElements(page)
        XCTAssertEqual(lanes.count, doc.sources.count)
        for (lane, source) in zip(lanes, doc.sources) {
            XCTAssert(lane.contains("data-source=\"\(source.id)\""), "lane for \(source.id)")
            XCTAssert(lane.contains(">\(source.id)<"), "visible id \(source.id)")
            XCTAssert(lane.contains(source.role.rawValue))
            XCTAssert(lane.contains(source.clock))
        }
        let guest = String(lanes[0])
        XCTAssert(guest.contains("anchor within 500 ms; pause within 600 ms"), "both segments' method and width")
        XCTAssert(guest.contains("guest-console.log"))
        XCTAssertEqual(Self.count("class=\"clock-break\"", in: guest), 1, "the pause between the two segments")
        XCTAssert(guest.contains("42 s of UTC between the segments"))
        XCTAssert(page.contains("<b>pause</b>: own clock 3900.0 s … end: own clock 0 s = 2017-03-15 05:03:50.000000 UTC ± 300 ms "
                                + "(offset known within 600 ms)"), "the sources table states each segment whole, its 0 as a date-time")
        XCTAssert(page.contains("<li><code>QMP STOP at 06:08:08.000000Z</code></li>"), "with its evidence")
    }

    func testEveryPlacedEventHasAMarkLinkedToItsTableRowAndUnplacedOnesHaveNone() throws {
        let doc = F.realistic()
        let page = TimelineHTML.render(doc)
        let rows = page.matches(of: /<tr id="ev-(\d+)"/).compactMap { Int($0.1) }
        let marks = page.matches(of: /<a href="#ev-(\d+)" id="mark-(\d+)"/).compactMap { m in Int(m.1).flatMap { $0 == Int(m.2) ? $0 : nil } }
        XCTAssertEqual(rows.sorted(), Array(doc.events.indices), "one table row per event")
        XCTAssertEqual(marks.sorted(), doc.events.indices.filter { doc.events[$0].time != nil }, "one linked mark per placed event, none for unplaced")
        let unplaced = try XCTUnwrap(page.range(of: "<section id=\"unplaced\">"))
        let rest = page[unplaced.lowerBound...]
        XCTAssert(rest.contains("Unplaced events (1)"))
        XCTAssert(rest.contains("CLOCK_WATCHDOG_TIMEOUT (101)"))
        XCTAssertFalse(page[..<unplaced.lowerBound].contains("<summary>CLOCK_WATCHDOG_TIMEOUT"), "not among the placed events")
        let windowsLane = try XCTUnwrap(Self.laneElements(page).last)
        XCTAssert(windowsLane.contains("data-source=\"guest-2\""))
        XCTAssert(windowsLane.contains("1 event of this source could not be placed in time"), "the empty lane says why")
    }

    func testEventDetailsCarryTitleKindLocationTimeEvidenceAndHints() throws {
        let doc = F.realistic()
        let page = TimelineHTML.render(doc)
        let i = try XCTUnwrap(doc.events.firstIndex { $0.event.title == "clocksource tsc unstable" })
        let mark = try XCTUnwrap(page.range(of: "id=\"mark-\(i)\""))
        let tooltip = page[mark.upperBound...].components(separatedBy: "</title>")[0]
        for fact in ["CRITICAL: clocksource tsc unstable", "clocksource_unstable", "guest-console.log:90",
                     "2017-03-15 06:05:08.500000 UTC ± 250 ms", "the guest lost time while paused (Documentation/virt/kvm/x86/timekeeping.rst)",
                     "cluster C2: host VF reset next to guest clocksource tsc unstable"] {
            XCTAssert(tooltip.contains(fact), "tooltip has \(fact)")
        }
        let row = try XCTUnwrap(page.range(of: "<tr id=\"ev-\(i)\""))
        let entry = page[row.lowerBound...].prefix(while: { $0 != "\n" }).components(separatedBy: "</tr>")[0]
        for fact in ["<summary>clocksource tsc unstable</summary>", "clocksource_unstable", "guest-console.log:90", "± 250 ms",
                     "<a href=\"#cluster-1\">C2</a>", "timekeeping.rst"] {
            XCTAssert(entry.contains(fact), "table entry has \(fact)")
        }
        let lockup = try XCTUnwrap(doc.events.firstIndex { $0.event.cpu == 1 && $0.event.title.hasPrefix("BUG") })
        XCTAssert(page.contains("<pre>watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [swapper/1:0]</pre>"), "evidence of event \(lockup)")
    }

    func testSeverityHasItsOwnShapeAndWordNotOnlyAColour() {
        let shapes = Set(Severity.allCases.map { SeverityStyle.mark($0, x: 10, y: 10).prefix(while: { $0 != " " }) })
        XCTAssertEqual(shapes.count, 3, "circle, rect and two polygons")
        XCTAssertNotEqual(SeverityStyle.mark(.warning, x: 10, y: 10), SeverityStyle.mark(.critical, x: 10, y: 10))
        XCTAssertEqual(Set(Severity.allCases.map(SeverityStyle.glyph)).count, 4)
        XCTAssertEqual(Set(Severity.allCases.map(SeverityStyle.colour)).count, 4)
        let page = TimelineHTML.render(F.realistic())
        for s in Severity.allCases { XCTAssert(page.contains("\(SeverityStyle.glyph(s))</span> \(SeverityStyle.word(s))</td>")) }
    }

    func testClusterBandsLieInsideTheAxisAndCoverTheirEvents() throws {
        let doc = F.realistic()
        let layout = L(doc)
        let axis = try XCTUnwrap(layout.axis)
        let page = TimelineHTML.render(doc)
        for (c, cluster) in doc.clusters.enumerated() {
            let band = try XCTUnwrap(page.range(of: "id=\"band-\(c)\""))
            let rect = try XCTUnwrap(page[band.upperBound...].firstMatch(of: /<rect x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)" height="([0-9.]+)"/))
            let x = try XCTUnwrap(Double(rect.1)), y = try XCTUnwrap(Double(rect.2))
            let w = try XCTUnwrap(Double(rect.3)), h = try XCTUnwrap(Double(rect.4))
            XCTAssertGreaterThanOrEqual(x, L.plotLeft)
            XCTAssertLessThanOrEqual(x + w, L.plotLeft + L.plotWidth)
            XCTAssertGreaterThanOrEqual(w, 6, "visible even when the cluster is a few ms wide")
            XCTAssertEqual(y, layout.axisHeight)
            XCTAssertEqual(y + h, layout.lanesBottom, accuracy: 0.1, "spans every lane")
            for i in cluster.events {
                let t = try XCTUnwrap(doc.events[i].time)
                XCTAssert(axis.x(t.utc) >= x - 0.1 && axis.x(t.utc) <= x + w + 0.1, "event \(i) inside band \(c)")
            }
            XCTAssert(page.contains("<li id=\"cluster-\(c)\"><b>C\(c + 1)</b> \(cluster.summary)"))
        }
    }

    func testMarksStayInsideThePlotAndDenseBurstsGoToSubRows() throws {
        let doc = F.realistic()
        let layout = L(doc)
        for lane in layout.lanes {
            for m in lane.marks {
                XCTAssert(m.xEarliest <= m.x && m.x <= m.xLatest)
                XCTAssert(m.xEarliest >= L.plotLeft && m.xLatest <= L.plotLeft + L.plotWidth, "mark \(m.event) in plot")
                XCTAssert(layout.rowY(lane, m.row) < lane.top + lane.height)
            }
            guard lane.overlapping == 0 else { continue }
            // Without overflow, no two marks of a row overlap.
            for row in Set(lane.marks.map(\.row)) {
                let extents = lane.marks.filter { $0.row == row }
                    .map { (min($0.xEarliest, $0.x - LanePacker.markRadius), max($0.xLatest, $0.x + LanePacker.markRadius)) }
                    .sorted { $0.0 < $1.0 }
                for (a, b) in zip(extents, extents.dropFirst()) { XCTAssertLessThanOrEqual(a.1, b.0) }
            }
        }
        XCTAssertGreaterThan(layout.lanes[0].marks.map(\.row).max() ?? 0, 2, "the guest's bursts need several rows")
    }

    func testPackerCapsRowsAndCountsTheMarksThatMustShare() {
        let packer = LanePacker(plotLeft: L.plotLeft, plotRight: L.plotLeft + L.plotWidth)
        func marks(_ n: Int) -> [PackItem] { (0 ..< n).map { _ in PackItem(x: 500, xEarliest: 500, xLatest: 500, labelWidth: 0, priority: 0) } }
        let five = packer.pack(marks(5))
        XCTAssertEqual(five.rows, 5)
        XCTAssertEqual(Set(five.placed.map(\.row)), Set(0 ..< 5))
        let many = packer.pack(marks(40))
        XCTAssertEqual(many.rows, LanePacker.maxRows)
        XCTAssertEqual(many.placed.filter(\.overlapping).count, 40 - LanePacker.maxRows)
        XCTAssertEqual(packer.pack([]).rows, 1, "an empty lane keeps one row")
    }

    func testPlacedEventsAreListedInTimeOrder() throws {
        let doc = F.realistic()
        let page = TimelineHTML.render(doc)
        let start = try XCTUnwrap(page.range(of: "<section id=\"events\">")), end = try XCTUnwrap(page.range(of: "<section id=\"unplaced\">"))
        let ids = page[start.upperBound ..< end.lowerBound].matches(of: /<tr id="ev-(\d+)"/).compactMap { Int($0.1) }
        XCTAssertEqual(ids.count, doc.events.count - 1)
        let times = ids.map { doc.events[$0].time!.utc }
        XCTAssertEqual(times, times.sorted())
    }

    func testZeroEventsStillDrawsTheLanes() {
        let doc = TimelineDocument(sources: [F.source("guest", .guest, clock: "boot-relative", method: "unaligned")], events: [], clusters: [])
        let page = TimelineHTML.render(doc)
        XCTAssertEqual(Self.laneElements(page).count, 1)
        XCTAssert(page.contains("no event could be placed in time"))
        XCTAssert(page.contains("Events in time order (0)"))
        XCTAssert(page.contains("Unplaced events (0)"))
        XCTAssertFalse(page.contains("id=\"mark-"))
        XCTAssert(page.hasSuffix("</html>\n"))
        let empty = TimelineHTML.render(TimelineDocument(sources: [], events: [], clusters: []))
        XCTAssert(empty.contains("<svg") && empty.contains("No sources."))
    }

    func testOneEventIsCentredInATenMillisecondWindowWithTicks() throws {
        let e = F.placed(F.event("only one"), "guest", at: F.t0 + 0.5)
        let doc = TimelineDocument(sources: [F.source("guest", .guest)], events: [e], clusters: [])
        let layout = L(doc)
        let axis = try XCTUnwrap(layout.axis)
        XCTAssertEqual(axis.end - axis.start, TimeAxis.minimumSpan, accuracy: 1e-6, "epoch seconds carry ~0.2 µs of rounding")
        XCTAssertEqual(layout.lanes[0].marks[0].x, L.plotLeft + L.plotWidth / 2, accuracy: 0.01)
        XCTAssertGreaterThanOrEqual(TimeTicks.ticks(from: axis.start, to: axis.end).count, 2)
        let page = TimelineHTML.render(doc)
        XCTAssert(page.contains("class=\"tick\""))
        XCTAssert(page.contains("id=\"mark-0\""))
        XCTAssertFalse(page.contains("class=\"interval\""), "a zero-width interval draws no bar")
        XCTAssert(page.contains("± 0 s"))
    }

    func testManyEventsAtOneInstantAreAllDrawnAndStacked() throws {
        let events = (0 ..< 50).map { F.placed(F.event("same \($0)", severity: Severity.allCases[$0 % 4]), "qmp", at: F.t0) }
        let doc = TimelineDocument(sources: [F.source("qmp", .qmp)], events: events, clusters: [
            TimelineCluster(events: [0, 1], earliest: F.t0, latest: F.t0, summary: "same instant"),
        ])
        let page = TimelineHTML.render(doc)
        for i in 0 ..< 50 { XCTAssert(page.contains("id=\"mark-\(i)\"")) }
        let layout = L(doc)
        XCTAssertEqual(Set(layout.lanes[0].marks.map(\.row)).count, LanePacker.maxRows)
        XCTAssertEqual(layout.lanes[0].overlapping, 50 - LanePacker.maxRows)
        XCTAssert(page.contains("34 marks share a row with another"))
        XCTAssert(page.contains("34 marks overlap, 34 labels hidden: zoom in or see the table"), "a label for each of the sixteen rows, none for the marks that share")
        XCTAssert(page.contains("id=\"band-0\""))
    }

    func testPageIsSelfContained() {
        let page = TimelineHTML.render(F.realistic())
        XCTAssert(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(Self.count("<script", in: page.lowercased()), 1)
        XCTAssertEqual(Self.count("http:", in: page) + Self.count("https:", in: page), 1, "only the SVG namespace name, which is never fetched")
        XCTAssert(page.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertEqual(Self.count("url(", in: page), Self.count("url(#", in: page), "only references inside the page (the plot's clip)")
        for fetcher in ["src=", "@import", "<link", "<iframe", "<object", "<embed", "fetch(", "XMLHttpRequest"] {
            XCTAssertFalse(page.contains(fetcher), fetcher)
        }
        XCTAssert(page.contains("default-src 'none'"), "the CSP forbids any fetch")
    }
}
