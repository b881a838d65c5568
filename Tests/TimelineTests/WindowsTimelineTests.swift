import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

/// The Windows guest incident of issue 6 on one timeline: the bug check
/// placed at WinDbg's session time, the host's qemu/libvirt events, the
/// Hyper-V hint from the two files together; compared in full with
/// corpora/incidents/windows-clock-watchdog/timeline.expected.json
/// (LOCKSCAN_UPDATE_EXPECTED=1 rewrites it; review the diff).
final class WindowsTimelineTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../corpora/incidents/windows-clock-watchdog").standardized

    func document() -> TimelineDocument {
        let inputs = [TimelineInput(role: .guest, path: Self.dir.appendingPathComponent("windbg-analyze.txt").path),
                      TimelineInput(role: .qemu, path: Self.dir.appendingPathComponent("vm105.log").path),
                      TimelineInput(role: .libvirt, path: Self.dir.appendingPathComponent("libvirtd.log").path)]
        return TimelineBuilder(inputs: inputs).build(analyzers: BuiltinAnalyzers.all).0
    }

    /// What a reader of the timeline sees, without machine-specific paths.
    static func projection(_ doc: TimelineDocument) -> [String: Any] {
        [
            "sources": doc.sources.map { ["id": $0.id, "role": $0.role.rawValue, "file": ($0.file as NSString).lastPathComponent,
                                          "clock": $0.clock, "methods": $0.segments.map(\.method)] },
            "events": doc.events.map { e -> [String: Any] in
                var o: [String: Any] = ["kind": e.event.kind, "title": e.event.title, "source": e.sourceID, "line": e.event.source.line,
                                        "severity": e.event.severity.rawValue]
                if let t = e.time {
                    o["time"] = ["utc": UTCFormat.string(t.utc), "earliest": UTCFormat.string(t.earliest), "latest": UTCFormat.string(t.latest)]
                }
                if let c = e.cluster { o["cluster"] = c }
                if let n = e.timeNote { o["timeNote"] = n }
                return o
            },
            "clusters": doc.clusters.map(\.summary),
        ]
    }

    func testBugCheckHostEventsAndHintOnOneTimeline() throws {
        let doc = document()
        let bugcheck = try XCTUnwrap(doc.events.first { $0.event.kind == "windows_clock_watchdog" })
        XCTAssertEqual(bugcheck.time.map { UTCFormat.string($0.utc) }, "2017-03-15T05:11:54.777000Z", "13:11:54.777 GMT+8")
        for kind in ["qemu_start", "libvirt_monitor_eof", "migration_failed", "libvirt_log_busy", "qemu_shutdown"] {
            XCTAssertTrue(doc.events.contains { $0.event.kind == kind && $0.time != nil }, "\(kind) placed")
        }
        let hint = try XCTUnwrap(doc.events.first { $0.event.kind == "hyperv_enlightenments_missing" })
        let text = hint.event.hints.map { "\($0)" }.joined() + hint.event.explanation + hint.event.title
        XCTAssertTrue(text.contains("hv_relaxed") && text.contains("hv_spinlocks"), text)
        XCTAssertNotNil(hint.time, "the command line's time: between the stamped lines around it")
        let eof = try XCTUnwrap(doc.events.first { $0.event.kind == "libvirt_monitor_eof" })
        XCTAssertNotNil(eof.cluster, "the monitor EOF and qemu's shutdown are related")

        // WinDbg's uptime puts the guest's boot 4.4 s after qemu started:
        // the guest's clock agrees with the host's to within a boot.
        let guest = try XCTUnwrap(doc.sources.first { $0.id == "guest" })
        XCTAssertTrue(guest.segments.flatMap(\.evidence).contains { $0.contains("4.4s after qemu started") && $0.contains("at most 4.4s ahead") },
                      "\(guest.segments)")

        let expectedURL = Self.dir.appendingPathComponent("timeline.expected.json")
        let got = try JSONSerialization.data(withJSONObject: Self.projection(doc), options: [.prettyPrinted, .sortedKeys])
        if ProcessInfo.processInfo.environment["LOCKSCAN_UPDATE_EXPECTED"] == "1" {
            try got.write(to: expectedURL)
        }
        let expected = try Data(contentsOf: expectedURL)
        XCTAssertEqual(String(decoding: got, as: UTF8.self), String(decoding: expected, as: UTF8.self))
    }
}
