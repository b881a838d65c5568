import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

/// The timeline against ground truth: every generated scenario's console was
/// also captured with the host's wall clock on each line
/// (host-console-timestamped.log). Built from the guest's boot-relative
/// console, the qemu domain log and the QMP events only, every guest event's
/// interval must contain the time the host saw its line; with one anchor
/// before the provocation, every interval must also be at most 1 s wide —
/// after a host pause too.
final class GeneratedTimelineTests: XCTestCase {
    static let generated = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../corpora/generated").standardized

    struct Scenario {
        var name: String
        var dir: URL
        /// Host wall-clock time (epoch seconds) and boot-relative time of each console line, by line number.
        var truth: [Int: (utc: Double, mono: Double?)]
        var anchorLine: Int?
    }

    func scenarios() throws -> [Scenario] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.generated.path).sorted()
        return try names.compactMap { name -> Scenario? in
            let dir = Self.generated.appendingPathComponent(name)
            let host = dir.appendingPathComponent("host-console-timestamped.log")
            guard FileManager.default.fileExists(atPath: host.path) else { return nil }
            var truth: [Int: (Double, Double?)] = [:]
            let text = try String(contentsOf: host, encoding: .utf8)
            for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
                guard let space = line.firstIndex(of: " "), let utc = WallClock.parse(String(line[..<space]))?.utc else { continue }
                let p = LinePrefix.parse(Array(line[line.index(after: space)...].utf8))
                truth[i + 1] = (utc, p.clock.monotonic)
            }
            // The anchor: the console line the scenario says came just before the provocation.
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("scenario.json"))) as? [String: Any]
            let provoked = (json?["provoked"] as? [[String: Any]])?.first
            let anchorTime = (provoked?["guestLineHostTime"] as? String).flatMap { WallClock.parse($0)?.utc }
            let anchorLine = anchorTime.flatMap { t in truth.first { abs($0.value.0 - t) < 1e-6 && $0.value.1 != nil }?.key }
            return Scenario(name: name, dir: dir, truth: truth, anchorLine: anchorLine)
        }
    }

    func build(_ s: Scenario, anchors: [ClockAnchor]) -> TimelineDocument {
        let inputs = [TimelineInput(role: .guest, path: s.dir.appendingPathComponent("guest-console.log").path),
                      TimelineInput(role: .qemu, path: s.dir.appendingPathComponent("domain.log").path),
                      TimelineInput(role: .qmp, path: s.dir.appendingPathComponent("qmp-events.json").path)]
        return TimelineBuilder(inputs: inputs, anchors: anchors).build(analyzers: BuiltinAnalyzers.all).0
    }

    func testGuestEventsFallInsideTheirIntervalsWithAndWithoutAnAnchor() throws {
        let all = try scenarios()
        XCTAssertGreaterThanOrEqual(all.count, 8, "corpora/generated has its scenarios")
        var checked = 0, anchoredChecked = 0
        var widest = 0.0, widestAnchored = 0.0
        var staleStamps: [String] = []
        for s in all {
            let guestEvents = { (doc: TimelineDocument) in doc.events.filter { $0.sourceID == "guest" } }
            let plain = build(s, anchors: [])
            for e in guestEvents(plain) {
                let truth = try XCTUnwrap(s.truth[e.event.source.line], "\(s.name): line \(e.event.source.line) has a host time")
                let t = try XCTUnwrap(e.time, "\(s.name):\(e.event.source.line) \(e.event.title) is placed from qemu/QMP evidence")
                XCTAssertTrue(t.earliest <= truth.utc && truth.utc <= t.latest,
                              "\(s.name):\(e.event.source.line) \(e.event.title): host saw it at \(UTCFormat.string(truth.utc)), interval \(UTCFormat.string(t.earliest)) … \(UTCFormat.string(t.latest))")
                widest = max(widest, t.latest - t.earliest)
                checked += 1
            }
            let line = try XCTUnwrap(s.anchorLine, "\(s.name): the provocation line is in the host console")
            let anchor = try XCTUnwrap(s.truth[line])
            let anchored = build(s, anchors: [ClockAnchor(source: "guest", monotonic: try XCTUnwrap(anchor.mono), utc: anchor.utc)])
            for e in guestEvents(anchored) {
                let truth = try XCTUnwrap(s.truth[e.event.source.line])
                let t = try XCTUnwrap(e.time)
                XCTAssertTrue(t.earliest <= truth.utc && truth.utc <= t.latest,
                              "\(s.name):\(e.event.source.line) \(e.event.title) (anchored): host saw it at \(UTCFormat.string(truth.utc)), interval \(UTCFormat.string(t.earliest)) … \(UTCFormat.string(t.latest))")
                // A stamp older than the line before it (NMI backtraces
                // printed during a lockup reach the console seconds later)
                // cannot be narrowed by an anchor: it must say so instead.
                if e.timeNote != nil {
                    staleStamps.append("\(s.name):\(e.event.source.line) ±\(String(format: "%.1f", (t.latest - t.earliest) / 2)) s")
                    continue
                }
                XCTAssertLessThanOrEqual(t.latest - t.earliest, 1.0, "\(s.name):\(e.event.source.line) anchored interval")
                widestAnchored = max(widestAnchored, t.latest - t.earliest)
                anchoredChecked += 1
            }
        }
        print("GeneratedTimelineTests: \(checked) guest events inside their intervals (widest \(String(format: "%.3f", widest)) s); anchored: \(anchoredChecked) ≤ 1 s (widest \(String(format: "%.3f", widestAnchored)) s); stale stamps left wide: \(staleStamps)")
        XCTAssertLessThanOrEqual(staleStamps.count, 4, "stale stamps are the exception (NMI backtraces during a lockup), not the rule")
        XCTAssertGreaterThan(checked, 20)
    }

    /// The pause capture: the guest's ticks after the 15 s QMP pause land
    /// after it, within the anchored precision.
    func testTicksAfterThePauseAreShiftedByThePausedTime() throws {
        let s = try XCTUnwrap(try scenarios().first { $0.name == "vm-pause" })
        let line = try XCTUnwrap(s.anchorLine)
        let anchor = try XCTUnwrap(s.truth[line])
        let doc = build(s, anchors: [ClockAnchor(source: "guest", monotonic: try XCTUnwrap(anchor.mono), utc: anchor.utc)])
        let guest = try XCTUnwrap(doc.sources.first { $0.id == "guest" })
        XCTAssertEqual(guest.segments.count, 2, "one break at the pause")
        XCTAssertEqual(guest.segments[1].offset - guest.segments[0].offset, 15.047215, accuracy: 0.001)
        // Every tick line, not only events, placed against the host's column.
        let builder = try BootClockAlignment(firstMonotonic: 0, lastMonotonic: 32.765908, anchors: [ClockAnchor(source: "guest", monotonic: XCTUnwrap(anchor.mono), utc: anchor.utc)],
                                             facts: TimelineBuilder.hostFacts(inputs: [TimelineInput(role: .qmp, path: "q")], events: [qmpEvents(s)],
                                                                                       roles: EventRoles(BuiltinAnalyzers.all)))
        var ticks = 0
        for (_, truth) in s.truth {
            guard let m = truth.mono, m > 2 else { continue }
            let t = try XCTUnwrap(builder.place(m))
            XCTAssertTrue(t.earliest <= truth.utc && truth.utc <= t.latest, "mono \(m): \(UTCFormat.string(truth.utc)) not in \(UTCFormat.string(t.earliest)) … \(UTCFormat.string(t.latest))")
            XCTAssertLessThan(t.latest - t.earliest, 0.2)
            ticks += 1
        }
        XCTAssertGreaterThan(ticks, 25)
    }

    func qmpEvents(_ s: Scenario) -> [Event] {
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all)
        var events: [Event] = []
        _ = engine.scan(.path(s.dir.appendingPathComponent("qmp-events.json").path)) { events.append($0) }
        return events
    }
}
