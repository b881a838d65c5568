import Foundation
import LockscanKit
import PluginHost
import XCTest

/// A report header declared by one analyzer ends what every other analyzer
/// is collecting, although the core never names it: the header reaches the
/// collectors only through the descriptor (`AnalyzerDescriptor.reportHeaders`)
/// and the engine's mark on the record (`Record.startsReport`).
final class ReportHeadersTests: XCTestCase {
    /// An analyzer the built-ins have never heard of, as a plugin would bring
    /// it: `frobnicator stalled on cpu N`, followed by its own stack.
    final class FrobnicatorStall: Analyzer {
        static let descriptor = AnalyzerDescriptor(
            id: "test-frobnicator-stall", title: "Frobnicator stall (test only)",
            explanation: "A made-up report whose header no built-in analyzer knows.",
            eventKinds: ["frobnicator_stall"], triggers: ["frobnicator stalled"],
            reportHeaders: ["frobnicator stalled on cpu"],
            examples: [AnalyzerExample("stall", "frobnicator stalled on cpu 1", expect: [.init(kind: "frobnicator_stall")])],
            make: { FrobnicatorStall() })

        func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
            if record.text.hasPrefix("frobnicator stalled on cpu") {
                emit(Event(analyzer: Self.descriptor.id, kind: "frobnicator_stall", title: "frobnicator stall", severity: .error,
                           source: SourceLocation(record), time: record.clock, evidence: [record.text],
                           explanation: Self.descriptor.explanation))
            }
            return .idle
        }

        func finish(emit: (Event) -> Void) {}
    }

    /// The new report, with a stack that looks like any other: without its
    /// header declared, a dump above it would take these frames as its own.
    static let frobReport = """
        frobnicator stalled on cpu 1
         frob_wait+0x10/0x20
         frob_thread+0x30/0x90
         kthread+0xd7/0x100
        """

    static func builtin(_ id: String) throws -> AnalyzerDescriptor {
        try XCTUnwrap(BuiltinAnalyzers.all.first { $0.id == id })
    }

    static func scan(_ text: String, _ analyzers: [AnalyzerDescriptor]) throws -> [Event] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-headers-\(UUID().uuidString).log")
        let stamped = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { "[  100.\(String(format: "%06d", $0.offset + 1))] \($0.element)" }.joined(separator: "\n")
        try Data((stamped + "\n").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var events: [Event] = []
        _ = ScanEngine(analyzers: analyzers).scan(.path(url.path)) { events.append($0) }
        return events.sorted { $0.source.line < $1.source.line }
    }

    static func functions(_ e: Event) -> [String] { e.stack.compactMap(\.function) }

    /// A hard LOCKUP's dump (StackDumpCollector) ends at the next report's
    /// header, whoever declared it.
    func testAnotherAnalyzersHeaderEndsAHardLockupDump() throws {
        let log = """
            NMI watchdog: Watchdog detected hard LOCKUP on cpu 3
            CPU: 3 PID: 2101 Comm: stress-ng Not tainted 6.1.0 #1
            RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200
            Call Trace:
             _raw_spin_lock+0x2a/0x30
             double_rq_lock+0x3e/0x80
            """ + "\n" + Self.frobReport
        let hard = try Self.builtin("hard-lockup")

        let events = try Self.scan(log, [hard, FrobnicatorStall.descriptor])
        XCTAssertEqual(events.map(\.kind), ["hard_lockup", "frobnicator_stall"])
        let lockup = try XCTUnwrap(events.first)
        XCTAssertEqual(lockup.title, "hard LOCKUP in double_rq_lock", "titled by the lock taker, past the spinlock primitives")
        XCTAssertEqual(Self.functions(lockup).last, "double_rq_lock", "\(Self.functions(lockup))")
        XCTAssertFalse(Self.functions(lockup).contains("frob_wait"), "the next report's stack joined the lockup's")
        XCTAssertLessThan(lockup.source.endLine, 7, "the lockup's lines stop before the next report")

        // The control: the same log without the analyzer that declares the
        // header, so nothing says a report starts there.
        let unaware = try Self.scan(log, [hard])
        XCTAssertTrue(Self.functions(try XCTUnwrap(unaware.first)).contains("frob_wait"),
                      "without the declaration the header is just a line between frames")
    }

    /// A soft lockup waiting for its dumps (PendingReport) is complete at the
    /// next report's header.
    func testAnotherAnalyzersHeaderCompletesAPendingReport() throws {
        let log = """
            watchdog: BUG: soft lockup - CPU#2 stuck for 23s! [spin:115]
            CPU: 2 PID: 115 Comm: spin Not tainted 6.1.0 #1
            RIP: 0010:spin_thread+0x11/0x30 [lockmod]
            Call Trace:
             spin_thread+0x11/0x30 [lockmod]
            """ + "\n" + Self.frobReport
        let events = try Self.scan(log, [try Self.builtin("soft-lockup"), FrobnicatorStall.descriptor])
        XCTAssertEqual(events.map(\.kind), ["soft_lockup", "frobnicator_stall"])
        let lockup = try XCTUnwrap(events.first)
        XCTAssertFalse(Self.functions(lockup).contains("frob_wait"), "\(Self.functions(lockup))")
        XCTAssertLessThan(lockup.source.endLine, 6)
    }

    /// Backtraces right after a report belong to it: the CPU-backtraces
    /// analyzer hears every declared header (`triggeredByReportHeaders`), a
    /// plugin's too, and stays silent.
    func testBacktracesAfterAPluginsReportBelongToIt() throws {
        let log = """
            frobnicator stalled on cpu 1
            Sending NMI from CPU 1 to CPUs 0:
            NMI backtrace for cpu 0
            CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0 #1
            RIP: 0010:default_idle+0xb/0x10
            Call Trace:
             default_idle_call+0x2c/0xe0
             do_idle+0x1f1/0x270
            """
        let backtraces = try Self.builtin("cpu-backtraces")
        XCTAssertEqual(try Self.scan(log, [backtraces, FrobnicatorStall.descriptor]).map(\.kind), ["frobnicator_stall"])
        XCTAssertEqual(try Self.scan(log, [backtraces]).map(\.kind), ["cpu_backtraces"],
                       "the control: without the header's analyzer the backtraces stand alone")
    }

    /// The engine gathers headers from every descriptor it is given, each
    /// once; the built-ins' are exactly the lockup family's wordings.
    func testHeadersAreGatheredFromDescriptors() {
        let headers = ReportHeaders(BuiltinAnalyzers.all + [FrobnicatorStall.descriptor])
        XCTAssertEqual(headers.all.count, Set(headers.all).count)
        XCTAssertTrue(headers.all.contains("frobnicator stalled on cpu"))
        XCTAssertTrue(headers.matches("watchdog: BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]"))
        XCTAssertTrue(headers.matches("INFO: task khugepaged:123 blocked for more than 120 seconds."))
        XCTAssertFalse(headers.matches(" _raw_spin_lock+0x2a/0x30"))
        XCTAssertFalse(ReportHeaders([]).matches("BUG: soft lockup - CPU#0 stuck for 134s!"))
    }
}
