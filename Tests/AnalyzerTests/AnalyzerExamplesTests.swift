import Foundation
import LockscanKit
import PluginHost
import XCTest

/// Runs every registered analyzer's own examples under every prefix variant
/// and with the input cut into tiny read chunks, so a new analyzer is tested
/// the moment it is registered (the SwiftLint-rule pattern).
final class AnalyzerExamplesTests: XCTestCase {
    func testEveryBuiltinAnalyzerHasExamplesBothWays() {
        for d in BuiltinAnalyzers.all {
            XCTAssertFalse(d.examples.isEmpty, "\(d.id) is registered but carries no examples: nothing tests it")
            XCTAssertTrue(d.examples.contains { !$0.expect.isEmpty }, "\(d.id) has no triggering example")
            XCTAssertTrue(d.examples.contains { $0.expect.isEmpty }, "\(d.id) has no non-triggering example")
            XCTAssertFalse(d.triggers.isEmpty, "\(d.id) declares no triggers: it would slow every scan")
            for e in d.examples.flatMap(\.expect) {
                XCTAssertTrue(d.eventKinds.contains(e.kind), "\(d.id) example expects undeclared kind \(e.kind)")
            }
        }
    }

    /// Roles name the analyzer's own kinds, and headers are real wordings:
    /// an empty or blank header would match every line and cut every stack.
    func testRolesAndReportHeadersAreWellFormed() {
        for d in BuiltinAnalyzers.all {
            for kind in d.roles.keys.sorted() {
                XCTAssertTrue(d.eventKinds.contains(kind), "\(d.id) gives a role to undeclared kind \(kind)")
            }
            for h in d.reportHeaders {
                XCTAssertGreaterThanOrEqual(h.trimmingCharacters(in: .whitespaces).count, 8, "\(d.id): report header '\(h)' is too short to be a wording")
            }
        }
    }

    func testIdsAreUnique() {
        let ids = BuiltinAnalyzers.all.map(\.id)
        XCTAssertEqual(ids.count, Set(ids).count)
    }

    func testExamplesUnderEveryPrefixVariant() throws {
        for d in BuiltinAnalyzers.all {
            for example in d.examples {
                let lines = example.text.components(separatedBy: "\n")
                for variant in PrefixVariant.all {
                    let events = try ExampleHarness.run(d, text: variant.render(lines))
                    ExampleHarness.check(events, example, context: "\(d.id) / \(example.name) / \(variant.name)")
                }
            }
        }
    }

    func testExamplesSurviveAnyChunkBoundary() throws {
        for d in BuiltinAnalyzers.all {
            for example in d.examples {
                let text = PrefixVariant.all[1].render(example.text.components(separatedBy: "\n"))
                for readSize in [1, 7, 64] {
                    let events = try ExampleHarness.run(d, text: text, readSize: readSize)
                    ExampleHarness.check(events, example, context: "\(d.id) / \(example.name) / read size \(readSize)")
                }
            }
        }
    }

    /// No log line of one analyzer's example may make another analyzer report
    /// something unless the example expects that kind (lnav's rule for formats).
    func testExamplesDoNotTriggerOtherAnalyzersUnexpectedly() throws {
        // Declared overlaps: a hard lockup's stack can show rq-lock spinning; NMI
        // backtraces without a lockup header are both a cpu_backtraces event and,
        // when they show it, rq-lock spinning; the cpu-backtraces example that
        // shows ownership contains the soft lockup it belongs to.
        // The Hyper-V check's examples hold the command line and the crash it
        // joins, which the host-vm-event, Windows and soft-lockup analyzers report.
        // The crash analyzer's example of panics it must leave alone holds the
        // lockups' panics, which their analyzers report.
        let allowedOverlap: Set<String> = ["hard-lockup>rq_lock_deadlock", "rq-lock-deadlock>cpu_backtraces",
                                           "cpu-backtraces>soft_lockup", "hyperv-enlightenments>qemu_start",
                                           "hyperv-enlightenments>windows_clock_watchdog", "hyperv-enlightenments>soft_lockup",
                                           "kernel-crash>hard_lockup", "kernel-crash>soft_lockup", "kernel-crash>hung_task"]
        for d in BuiltinAnalyzers.all {
            for example in d.examples {
                let text = PrefixVariant.all[1].render(example.text.components(separatedBy: "\n"))
                for other in BuiltinAnalyzers.all where other.id != d.id {
                    let events = try ExampleHarness.run(other, text: text)
                    for e in events where !allowedOverlap.contains("\(d.id)>\(e.kind)") {
                        XCTFail("\(d.id) example '\(example.name)' also triggers \(other.id): \(e.title)")
                    }
                }
            }
        }
    }
}

enum ExampleHarness {
    static func run(_ d: AnalyzerDescriptor, text: String, readSize: Int = 1 << 20) throws -> [Event] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-example-\(UUID().uuidString).log")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var events: [Event] = []
        // Report headers as a full scan knows them: an example may show
        // another analyzer's report ending this one's (or owning its lines).
        let engine = ScanEngine(analyzers: [d], reportHeaders: ReportHeaders(BuiltinAnalyzers.all), options: ScanOptions(readSize: readSize))
        let summary = engine.scan(.path(url.path)) { events.append($0) }
        let runDiagnostics = engine.finishRun { events.append($0) }
        XCTAssertEqual(summary.diagnostics + runDiagnostics, [], "\(d.id): clean example text gave diagnostics")
        return events.sorted { $0.source.line < $1.source.line }
    }

    static func check(_ events: [Event], _ example: AnalyzerExample, context: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(events.map(\.kind), example.expect.map(\.kind), context, file: file, line: line)
        for (e, x) in zip(events, example.expect) {
            if let t = x.title { XCTAssertEqual(e.title, t, context, file: file, line: line) }
            if let c = x.cpu { XCTAssertEqual(e.cpu, c, context + " cpu", file: file, line: line) }
            if let s = x.severity { XCTAssertEqual(e.severity, s, context + " severity", file: file, line: line) }
            if let l = x.line { XCTAssertEqual(e.source.line, l, context + " line", file: file, line: line) }
            XCTAssertFalse(e.evidence.isEmpty, context + " evidence", file: file, line: line)
            XCTAssertFalse(e.explanation.isEmpty, context + " explanation", file: file, line: line)
        }
    }
}
