import Foundation
@testable import LockscanKit
import PluginHost
import XCTest

/// `--json` and `--ndjson` print what `JSONEncoder` (`.sortedKeys`,
/// `.withoutEscapingSlashes`) printed before lockscan wrote its JSON itself:
/// every event, incident and diagnostic of every capture in corpora/, as
/// `scan` makes them (sorted, joined into incidents, grouped), compared byte
/// for byte, each line and the whole document.
final class JSONRenderingEquivalenceTests: XCTestCase {
    struct Run {
        var events: [Event] = []
        var grouped: [Event] = []
        var incidents: [JoinedIncident] = []
        var diagnostics: [Diagnostic] = []
        var summaries: [InputSummary] = []
    }

    /// The capture scanned the way `lockscan scan` does; with `maxLineBytes`
    /// its longer lines are cut, each with a diagnostic (no capture has a
    /// diagnostic of its own).
    static func run(_ capture: URL, maxLineBytes: Int = 1 << 20) -> Run {
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all, options: ScanOptions(limits: InputLimits(maxLineBytes: maxLineBytes)))
        var run = Run()
        let summary = engine.scan(.path(capture.path)) { run.events.append($0) }
        run.events.sort { ($0.source.line, $0.source.byteOffset) < ($1.source.line, $1.source.byteOffset) }
        run.incidents = IncidentJoin.join(run.events, roles: EventRoles(BuiltinAnalyzers.all))
        IncidentJoin.mark(&run.events, with: run.incidents)
        run.diagnostics = summary.diagnostics + engine.finishRun { run.events.append($0) }
        run.grouped = EventGrouping.group(run.events)
        run.summaries = [summary]
        return run
    }

    func reference<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
        Array(try SortedJSONEncoder.reference(pretty: pretty).encode(value)) + [0x0A]
    }

    func testEveryCapturesOutputIsJSONEncoders() throws {
        let captures = try ParallelScanTests.captures()
        XCTAssertGreaterThan(captures.count, 30, "corpora/ lost its captures")
        var lines = 0, incidents = 0, diagnostics = 0, frames = 0
        for capture in captures {
          for maxLineBytes in [1 << 20, 80] {
            let name = capture.lastPathComponent + (maxLineBytes < 1 << 20 ? " cut at \(maxLineBytes) bytes" : "")
            let run = Self.run(capture, maxLineBytes: maxLineBytes)
            for e in run.events + run.grouped {
                XCTAssertEqual(JSONRendering.line(e), try reference(e, pretty: false), "\(name) line \(e.source.line): \(e.kind)")
                XCTAssertNotNil(EventJSON.compactLine(e), "\(name) line \(e.source.line): not written by EventJSON")
                lines += 1
                frames += e.stack.count
            }
            for i in run.incidents {
                XCTAssertEqual(JSONRendering.line(i), try reference(["incident": i], pretty: false), "\(name) incident \(i.id)")
                XCTAssertNotNil(EventJSON.incidentLine(i), "\(name) incident \(i.id): not written by EventJSON")
                incidents += 1
            }
            for d in run.diagnostics {
                XCTAssertEqual(JSONRendering.line(d), try reference(["diagnostic": d], pretty: false), "\(name): \(d)")
                diagnostics += 1
            }
            let report = ScanReport(inputs: run.summaries, events: run.events, diagnostics: run.diagnostics, incidents: run.incidents)
            XCTAssertEqual(JSONRendering.document(report), try reference(report, pretty: true), "\(name): the --json document")
            // The fast path answered itself: equal bytes through a fallback
            // to JSONEncoder would compare JSONEncoder with itself.
            for pretty in [false, true] {
                XCTAssertNoThrow(try SortedJSONEncoder.encodeWithoutFallback(report, pretty: pretty), "\(name) was not written by the fast path")
            }
          }
        }
        // Not a comparison of nothing: the corpora hold events with stacks, incidents and diagnostics.
        XCTAssertGreaterThan(lines, 100)
        XCTAssertGreaterThan(frames, 1000)
        XCTAssertGreaterThan(incidents, 0)
        XCTAssertGreaterThan(diagnostics, 0)
    }
}
