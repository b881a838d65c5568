import Foundation
import LockscanKit
@testable import Timeline
import XCTest

/// What a reader sees without a browser: every time a date-time in UTC and
/// in the chosen zone, never epoch seconds; a label beside each mark that
/// has room, and no two labels over each other in the page as written.
final class TimelineHTMLTimeAndLabelTests: XCTestCase {
    typealias F = TimelineHTMLFixtures
    typealias L = TimelineLayout

    /// The page's text as a reader gets it: no tags, no attributes (the
    /// script's `data-` times are for the script, not for reading).
    static func visibleText(_ page: String) -> String {
        let body = page.components(separatedBy: "</style>").last!.components(separatedBy: "<script>")[0]
        // Evidence is the log's own text, quoted (QMP prints epoch seconds): in <pre>, and indented in tooltips.
        return body.replacing(/<pre>[^<]*<\/pre>/, with: " ").replacing(/<[^>]*>/, with: " ")
            .split(separator: "\n").filter { !$0.hasPrefix("  ") }.joined(separator: "\n")
    }

    func testNoEpochSecondsAreShownAnywhere() {
        let page = TimelineHTML.render(F.realistic(), zone: DisplayZone("Asia/Shanghai"))
        let text = Self.visibleText(page)
        let epochs = text.matches(of: /\b1[0-9]{9}(\.[0-9]+)?\b/).map { String($0.0) }
        XCTAssertEqual(epochs, [], "epoch seconds (the guest's boot as a clock offset, say) must read as a date-time")
        XCTAssert(text.contains("own clock 0 s = 2017-03-15 05:03:08.000000 UTC = 2017-03-15 13:03:08.000000 +08:00 Asia/Shanghai ± 250 ms"),
                  "a boot-relative clock's 0 is the instant of boot, in both zones")
    }

    func testEveryTimeIsGivenInUTCAndTheDisplayZone() throws {
        let doc = F.realistic()
        let page = TimelineHTML.render(doc, zone: DisplayZone("+08:00"))
        let i = try XCTUnwrap(doc.events.firstIndex { $0.event.title == "clocksource tsc unstable" })
        let tooltip = try XCTUnwrap(page.range(of: "id=\"mark-\(i)\"")).upperBound
        XCTAssert(page[tooltip...].prefix(2000).contains("2017-03-15 06:05:08.500000 UTC = 2017-03-15 14:05:08.500000 +08:00 ± 250 ms"), "tooltip")
        let row = try XCTUnwrap(page.range(of: "<tr id=\"ev-\(i)\"")).upperBound
        XCTAssert(page[row...].prefix(600).contains("<td class=\"utc\">2017-03-15 06:05:08.500000 UTC</td><td class=\"local\">2017-03-15 14:05:08.500000 +08:00</td>"),
                  "the table gives the zone its own column")
        XCTAssert(page.contains("<th>UTC</th><th class=\"zone-name\">+08:00</th>"))
        XCTAssert(page.contains("<li id=\"cluster-1\"><b>C2</b> host VF reset next to guest clocksource tsc unstable <span class=\"when\">2017-03-15 06:05:07.999000 UTC = 2017-03-15 14:05:07.999000 +08:00"), "clusters")
        // Ten minutes tick every minute: 06:04 UTC is 14:04 at +08:00, under it.
        let tick = try XCTUnwrap(page.firstMatch(of: /<text class="tick" x="([0-9.]+)" y="15">06:04<\/text>/)?.1)
        XCTAssert(page.contains("<text class=\"tick tick-local\" x=\"\(tick)\" y=\"45\">14:04</text>"))
        XCTAssert(page.contains("<text class=\"axis-name tick-local\" x=\"8\" y=\"45\">+08:00</text>"))
    }

    func testWithoutAZoneOrWithUTCTheTimesAreGivenOnce() {
        for zone in [nil, DisplayZone("UTC"), DisplayZone("+00:00")] {
            let page = TimelineHTML.render(F.realistic(), zone: zone).components(separatedBy: "</style>")[1].components(separatedBy: "<script>")[0]
            XCTAssertFalse(page.contains("tick-local") || page.contains("class=\"local\""), "\(String(describing: zone))")
            XCTAssert(page.contains("2017-03-15 06:05:08.500000 UTC ± 250 ms"))
        }
    }

    /// Summer time: the zone's offset is the one in force at each instant,
    /// and the script gets every change inside the axis.
    func testASummerTimeZoneUsesTheOffsetOfEachInstant() throws {
        let berlin = try XCTUnwrap(DisplayZone("Europe/Berlin"))
        let clock = PageClock(berlin)
        // 2017-03-26T01:00:00Z Berlin went from +01:00 to +02:00.
        let change = 1_490_490_000.0
        XCTAssertEqual(clock.local(change - 1), "2017-03-26 01:59:59.000000 +01:00")
        XCTAssertEqual(clock.local(change), "2017-03-26 03:00:00.000000 +02:00")
        let table = berlin.offsets(from: change - 86400, to: change + 86400)
        XCTAssertEqual(table.map(\.offset), [3600, 7200])
        XCTAssertEqual(table[1].from, change)
        XCTAssertNil(DisplayZone("Mars/Olympus"))
        XCTAssertNil(DisplayZone("+99:00"))
    }

    /// Every mark in a lane with room gets its label, and in the page as
    /// written (before any script) no two labels' boxes overlap, at the
    /// estimated width, and none leaves the plot.
    func testLabelsArePackedWithoutOverlapInThePageAsWritten() throws {
        for doc in [F.realistic(), TimelineHTMLScaleTests.large()] {
            let layout = L(doc)
            var boxes: [(x0: Double, x1: Double, y: Double)] = []
            for lane in layout.lanes {
                for m in lane.marks where m.label != .hidden {
                    let w = EventLabel.estimatedWidth(EventLabel.text(doc.events[m.event]))
                    let gap = LanePacker.markRadius + LanePacker.labelGap
                    let x0 = m.label == .right ? m.x + gap : m.x - gap - w
                    boxes.append((x0, x0 + w, layout.rowY(lane, m.row)))
                    XCTAssert(x0 >= L.plotLeft && x0 + w <= L.plotLeft + L.plotWidth, "label of \(m.event) inside the plot")
                }
            }
            XCTAssertGreaterThan(boxes.count, 50, "most marks are labelled")
            let byRow = Dictionary(grouping: boxes, by: \.y)
            for (_, row) in byRow {
                let sorted = row.sorted { $0.x0 < $1.x0 }
                for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertLessThanOrEqual(a.x1, b.x0, "labels overlap at y \(a.y)") }
            }
        }
        let page = TimelineHTML.render(F.realistic())
        XCTAssert(page.contains("<text class=\"ev-label\" x=\"10\" y=\"4\">C2 · clocksource tsc unstable</text>"), "a cluster's members carry its name")
    }

    /// Near the right end of the plot the label goes to the left of its
    /// mark; a label too wide for either side is hidden and counted.
    func testLabelsTurnLeftAtTheRightEndAndAreHiddenWhenNothingFits() {
        let packer = LanePacker(plotLeft: 0, plotRight: 300)
        let items = [PackItem(x: 290, xEarliest: 290, xLatest: 290, labelWidth: 100, priority: 0),
                     PackItem(x: 150, xEarliest: 150, xLatest: 150, labelWidth: 400, priority: 0)]
        let packed = packer.pack(items)
        XCTAssertEqual(packed.placed.map(\.label), [.left, .hidden])
        // Higher priority takes the row first: the critical event keeps its label.
        let crowd = (0 ..< 20).map { PackItem(x: 100, xEarliest: 100, xLatest: 100, labelWidth: 50, priority: $0 == 19 ? 9 : 0) }
        let crowded = packer.pack(crowd)
        XCTAssertEqual(crowded.placed[19].label, .right)
        XCTAssertEqual(crowded.placed.filter { $0.label != .hidden }.count, LanePacker.maxRows)
    }

    func testLabelWidthEstimateErrsWide() {
        // DejaVu Sans 11 px, as Chromium measured these (TimelineHTMLTests prints them).
        XCTAssertGreaterThanOrEqual(EventLabel.estimatedWidth("CLOCK_WATCHDOG_TIMEOUT (101) on process…"), 269.5)
        XCTAssertGreaterThanOrEqual(EventLabel.estimatedWidth("qemu started: vm105 (qemu 2.5.0, libvir…"), 235.7)
        XCTAssertGreaterThanOrEqual(EventLabel.estimatedWidth("Hyper-V enlightenments missing for vm10…"), 243.2)
        XCTAssertEqual(EventLabel.text(F.placed(F.event(String(repeating: "x", count: 60)), "g", at: 0)).count, EventLabel.maxCharacters)
    }
}
