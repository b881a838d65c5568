import Foundation
import LockscanKit
@testable import Timeline
import XCTest

final class TimelineHTMLScaleTests: XCTestCase {
    typealias F = TimelineHTMLFixtures

    /// The largest case the page is meant for: 8 lanes, 5,000 events over two weeks.
    static func large(events count: Int = 5000) -> TimelineDocument {
        let ids = (0 ..< 8).map { "src\($0)" }
        let sources = ids.map { F.source($0, $0 == "src0" ? .guest : .host, clock: "boot-relative", method: "anchor", width: 1) }
        let span = 14 * 86400.0
        let events = (0 ..< count).map { i -> TimelineEvent in
            let t = F.t0 + (Double(i) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) * span
            return F.placed(F.event("event \(i)", severity: Severity.allCases[i % 4], evidence: ["line \(i)"]), ids[i % 8], at: t,
                            before: Double(i % 7) * 60, after: Double(i % 5) * 60)
        }
        return TimelineDocument(sources: sources, events: events, clusters: [])
    }

    func testFiveThousandEventsOverTwoWeeksRenderQuicklyAndCompletely() throws {
        let doc = Self.large()
        let started = Date()
        let page = TimelineHTML.render(doc)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(seconds, 10, "rendering 5,000 events (debug build)")
        XCTAssertEqual(TimelineHTMLRenderTests.laneElements(page).count, 8)
        XCTAssertEqual(page.matches(of: /id="mark-\d+"/).count, 5000)
        XCTAssertLessThan(page.utf8.count, 12_000_000, "page size")
        let layout = TimelineLayout(doc)
        let axis = try XCTUnwrap(layout.axis)
        let ticks = TimeTicks.ticks(from: axis.start, to: axis.end)
        XCTAssert(ticks.allSatisfy { $0.date == nil }, "two weeks tick in days, labelled by date")
        XCTAssertLessThanOrEqual(layout.height, 8 * (Double(LanePacker.maxRows) * TimelineLayout.rowHeight + 2 * TimelineLayout.lanePadding) + 100)
    }

    /// Ten thousand events: every one drawn with its label element and
    /// tooltip, the page's size stated (README quotes it).
    func testTenThousandEventsStayAReasonableSize() {
        let page = TimelineHTML.render(Self.large(events: 10000), zone: DisplayZone("Asia/Shanghai"))
        print("10,000-event page: \(page.utf8.count) bytes")
        XCTAssertEqual(page.matches(of: /class="ev-label"/).count, 10000)
        XCTAssertLessThan(page.utf8.count, 16_000_000, "page size")
    }
}
