import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

final class ClockAlignmentTests: XCTestCase {
    func testWallClockParsingKeepsZoneAndResolution() throws {
        let z = try XCTUnwrap(WallClock.parse("2017-03-15T13:11:54.777+08:00"))
        XCTAssertEqual(z.utc, try XCTUnwrap(WallClock.parse("2017-03-15T05:11:54.777Z")).utc, accuracy: 1e-6)
        XCTAssertEqual(z.resolution, 0.001, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(WallClock.parse("2017-03-15T06:03:48.180+0000")).utc, 1_489_557_828.18, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(WallClock.parse("2017-03-15T06:03:48Z")).resolution, 1)
        XCTAssertNil(WallClock.parse("2017-03-15T06:03:48"), "a wall clock without a zone is not guessed")
        let shanghai = try XCTUnwrap(WallClock.zone("Asia/Shanghai"))
        XCTAssertEqual(try XCTUnwrap(WallClock.parse("2017-03-15T14:03:48", zone: shanghai)).utc, 1_489_557_828, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(WallClock.parse("2017-03-15T01:03:48", zone: WallClock.zone("-05:00"))).utc, 1_489_557_828, accuracy: 1e-6)
        XCTAssertNil(WallClock.zone("Mars/Olympus"))
    }

    /// start 1000: qemu resumed; the guest prints 0 … 30 s; paused 1010 → 1025; ended 1046.
    func facts() -> HostRunFacts {
        var f = HostRunFacts()
        f.starts = [1000]
        f.pauses = [(1010, 1025)]
        f.ends = [1046]
        return f
    }

    func testWithoutAnAnchorTheHostBoundsTheOffsetFromBothSides() throws {
        // True offset 1000.5: boots 0.5 s after the resume, last line at 30 s
        // is printed at 1000.5 + 30 + 15 = 1045.5, 0.5 s before the end.
        let a = BootClockAlignment(firstMonotonic: 0, lastMonotonic: 30, anchors: [], facts: facts())
        XCTAssertEqual(a.method, "paired events")
        XCTAssertEqual(a.offsetEarliest, 1000, accuracy: 1e-9)
        XCTAssertEqual(a.offsetLatest, 1046 + BootClockAlignment.endSlack - 30 - (15 - BootClockAlignment.pauseSlack), accuracy: 1e-9)
        let before = try XCTUnwrap(a.place(5))
        XCTAssertTrue(before.earliest <= 1005.5 && 1005.5 <= before.latest)
        let after = try XCTUnwrap(a.place(20))
        XCTAssertTrue(after.earliest <= 1035.5 && 1035.5 <= after.latest, "\(after)")
        XCTAssertGreaterThanOrEqual(after.earliest, 1025, "nothing is placed while the guest was paused")
        XCTAssertEqual(a.segments().count, 2)
    }

    func testAnAnchorPinsTheOffsetAndThePauseShiftsIt() throws {
        let a = BootClockAlignment(firstMonotonic: 0, lastMonotonic: 30,
                                   anchors: [ClockAnchor(source: "guest", monotonic: 5, utc: 1005.5)], facts: facts())
        XCTAssertEqual(a.method, "anchor")
        let t = try XCTUnwrap(a.place(20))
        XCTAssertEqual(t.utc, 1035.5, accuracy: 0.1)
        XCTAssertLessThan(t.latest - t.earliest, 0.2)
        // An anchor after the pause means the same offset.
        let b = BootClockAlignment(firstMonotonic: 0, lastMonotonic: 30,
                                   anchors: [ClockAnchor(source: "guest", monotonic: 20, utc: 1035.5)], facts: facts())
        XCTAssertEqual(try XCTUnwrap(b.place(5)).utc, 1005.5, accuracy: 0.1)
    }

    func testNothingPlacesAClockWithoutEvidence() {
        let a = BootClockAlignment(firstMonotonic: 0, lastMonotonic: 30, anchors: [], facts: HostRunFacts())
        XCTAssertFalse(a.aligned)
        XCTAssertNil(a.place(3), "no evidence: not placed, rather than placed at a guess")
        XCTAssertEqual(a.segments().first?.method, "unaligned")
    }

    func testContradictoryEvidenceIsSaid() {
        var f = facts()
        f.ends = [1001] // ended before the guest's last line could have been printed
        let a = BootClockAlignment(firstMonotonic: 0, lastMonotonic: 30, anchors: [], facts: f)
        XCTAssertTrue(a.evidence.contains { $0.contains("contradicts") }, "\(a.evidence)")
        XCTAssertNil(a.place(3))
    }
}

/// The host's run facts across a live migration: the source's STOP and the
/// destination's RESUME are the downtime, a pause; neither the destination's
/// start nor the source's shutdown is the guest's boot or end.
final class HostRunFactsTests: XCTestCase {
    func event(_ kind: String, _ t: String, file: String, details: [String: String] = [:]) -> Event {
        var e = Event(analyzer: "host-vm-event", kind: kind, title: kind, severity: .info,
                      source: SourceLocation(file: file, line: 1, endLine: 1, byteOffset: 0), time: Clock(wall: t))
        e.details = details
        return e
    }

    func testMigrationIsAPauseNotAnEnd() throws {
        let source = [event("qemu_start", "2026-11-22T03:00:00Z", file: "src"), event("qmp_resume", "2026-11-22T03:00:01Z", file: "src"),
                      event("qmp_migration", "2026-11-22T03:01:40Z", file: "src"), event("qmp_stop", "2026-11-22T03:01:40.100Z", file: "src"),
                      event("qemu_shutdown", "2026-11-22T03:01:41Z", file: "src")]
        let destination = [event("qemu_start", "2026-11-22T03:00:50Z", file: "dst", details: ["incomingMigration": "defer"]),
                           event("qmp_resume", "2026-11-22T03:01:40.300Z", file: "dst"), event("guest_shutdown", "2026-11-22T03:03:20Z", file: "dst")]
        let facts = TimelineBuilder.hostFacts(inputs: [TimelineInput(role: .qmp, path: "src"), TimelineInput(role: .qmp, path: "dst")],
                                              events: [source, destination], roles: EventRoles(BuiltinAnalyzers.all))
        func t(_ s: String) throws -> Double { try XCTUnwrap(WallClock.parse(s)).utc }
        XCTAssertEqual(facts.starts.max(), try t("2026-11-22T03:00:01Z"), "the incoming qemu is not a boot")
        XCTAssertEqual(facts.pauses.map(\.stop), [try t("2026-11-22T03:01:40.100Z")])
        XCTAssertEqual(facts.pauses.map(\.resume), [try t("2026-11-22T03:01:40.300Z")])
        XCTAssertEqual(facts.ends, [try t("2026-11-22T03:03:20Z")], "the source's shutdown is not the guest's end")
    }
}
