import Foundation
import LockscanKit
@testable import Timeline
import XCTest

final class TimelineModelTests: XCTestCase {
    func testUTCFormatKeepsMicrosecondsAndRollsOver() {
        XCTAssertEqual(UTCFormat.string(1_489_557_828.18), "2017-03-15T06:03:48.180000Z")
        XCTAssertEqual(UTCFormat.string(1_489_557_828.9999996), "2017-03-15T06:03:49.000000Z")
        XCTAssertEqual(UTCFormat.string(0), "1970-01-01T00:00:00.000000Z")
    }

    func testJSONKeepsEventFieldsAndReplacesTime() throws {
        let event = Event(analyzer: "soft-lockup", kind: "soft_lockup", title: "BUG: soft lockup in f", severity: .error,
                          source: SourceLocation(file: "guest.log", line: 7, endLine: 9, byteOffset: 0),
                          time: Clock(monotonic: 12.5), cpu: 1)
        let doc = TimelineDocument(
            sources: [TimelineSource(id: "guest", role: .guest, file: "guest.log", clock: "boot-relative",
                                     segments: [ClockSegment(offset: 100, offsetEarliest: 99.5, offsetLatest: 100.5, method: "anchor", evidence: ["x"])])],
            events: [TimelineEvent(event: event, sourceID: "guest", time: EventTime(utc: 112.5, earliest: 112, latest: 113, monotonic: 12.5), cluster: 0)],
            clusters: [TimelineCluster(events: [0], earliest: 112, latest: 113, summary: "s")])
        // The bytes `timeline --json` writes, read back by Foundation's own parser.
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(TimelineJSON.data(doc))) as? [String: Any])
        XCTAssertEqual(o["schema"] as? String, "lockscan.timeline/1")
        let item = try XCTUnwrap((o["events"] as? [[String: Any]])?.first)
        XCTAssertEqual(item["kind"] as? String, "soft_lockup")
        XCTAssertEqual(item["cpu"] as? Int, 1)
        XCTAssertEqual(item["sourceID"] as? String, "guest")
        let time = try XCTUnwrap(item["time"] as? [String: Any])
        XCTAssertEqual(time["utc"] as? String, "1970-01-01T00:01:52.500000Z")
        XCTAssertEqual(time["earliest"] as? String, "1970-01-01T00:01:52.000000Z")
        XCTAssertEqual(time["monotonic"] as? Double, 12.5)
        let seg = try XCTUnwrap(((o["sources"] as? [[String: Any]])?.first?["segments"] as? [[String: Any]])?.first)
        XCTAssertEqual(seg["uncertaintySeconds"] as? Double, 1)
    }
}
