import LockscanKit
@testable import Timeline
import XCTest

final class TimelineHTMLBadInputTests: XCTestCase {
    typealias F = TimelineHTMLFixtures

    /// A NaN or infinite time from upstream must not become a `nan`
    /// coordinate, a crash, or a made-up position: the event is listed as unplaced.
    func testNonFiniteTimesAreListedAsUnplacedNotDrawn() {
        let good = F.placed(F.event("good"), "guest", at: F.t0)
        var nan = F.placed(F.event("nan"), "guest", at: F.t0)
        nan.time?.utc = .nan
        var inf = F.placed(F.event("infinite"), "guest", at: F.t0)
        inf.time?.latest = .infinity
        let doc = TimelineDocument(sources: [F.source("guest", .guest)], events: [good, nan, inf], clusters: [
            TimelineCluster(events: [0, 1], earliest: .nan, latest: F.t0, summary: "broken"),
        ])
        let page = TimelineHTML.render(doc)
        XCTAssertFalse(page.lowercased().contains("nan\""), "no NaN coordinate")
        XCTAssertFalse(page.contains("inf\""))
        XCTAssert(page.contains("id=\"mark-0\""))
        XCTAssertFalse(page.contains("id=\"mark-1\"") || page.contains("id=\"mark-2\""))
        XCTAssert(page.contains("Unplaced events (2)"))
        XCTAssert(page.contains("time unknown"))
        XCTAssertFalse(page.contains("id=\"band-0\""))
    }

    func testNeighbouringClusterLabelsAlternateLines() throws {
        let events = [F.placed(F.event("a"), "qmp", at: F.t0), F.placed(F.event("b"), "qmp", at: F.t0 + 100)]
        let doc = TimelineDocument(sources: [F.source("qmp", .qmp)], events: events, clusters: [
            TimelineCluster(events: [0], earliest: F.t0, latest: F.t0, summary: "one"),
            TimelineCluster(events: [0], earliest: F.t0 + 0.001, latest: F.t0 + 0.001, summary: "two"),
            TimelineCluster(events: [1], earliest: F.t0 + 100, latest: F.t0 + 100, summary: "far"),
        ])
        let page = TimelineHTML.render(doc)
        let labels = page.matches(of: /<text x="[0-9.]+" y="([0-9.]+)">C(\d)<\/text>/).map { (String($0.1), String($0.2)) }
        XCTAssertEqual(labels.count, 3)
        XCTAssertNotEqual(labels[0].0, labels[1].0, "C1 and C2 are at the same place, so on different lines")
        XCTAssertEqual(labels[0].0, labels[2].0, "C3 is far away, back on the first line")
    }

    func testEventsOfAnUnknownSourceGetALaneOfTheirOwn() {
        let doc = TimelineDocument(sources: [F.source("host", .host)],
                                   events: [F.placed(F.event("a"), "host", at: F.t0), F.placed(F.event("b"), "ghost", at: F.t0 + 1)], clusters: [])
        let lanes = TimelineHTMLRenderTests.laneElements(TimelineHTML.render(doc))
        XCTAssertEqual(lanes.count, 2)
        XCTAssert(lanes[1].contains("data-source=\"ghost\"") && lanes[1].contains("unknown source") && lanes[1].contains("id=\"mark-1\""))
    }
}
