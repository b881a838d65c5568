import FoundationEssentials
import LockscanInput
@testable import LockscanKit
import XCTest

/// What `Interest.waiting(everyLineFrom:)` promises an analyzer, held on
/// the engine itself: until that line, every line holding one of its
/// triggers, another analyzer's trigger, or a word a dump opens with (`CPU: `
/// of a banner, which is none of its triggers), and from that line on,
/// every line. (Other lines may reach it too, when the engine reads them
/// anyway; they change nothing.) A waiting report that missed a banner
/// would lose the other CPUs' dumps without a word.
final class WaitingInterestTests: XCTestCase {
    final class Waiter: Analyzer, @unchecked Sendable {
        var lines: [Int] = []
        func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
            lines.append(record.line)
            return record.text.includes("wake me") ? .waiting(everyLineFrom: 12) : (lines.count > 1 ? .waiting(everyLineFrom: 12) : .idle)
        }
        func finish(emit: (Event) -> Void) {}
    }

    final class Other: Analyzer, @unchecked Sendable {
        func consume(_ record: Record, emit: (Event) -> Void) -> Interest { .idle }
        func finish(emit: (Event) -> Void) {}
    }

    func testAWaitingAnalyzerHearsDumpOpeningsAndTriggersAndEveryLineFromItsLine() throws {
        let lines = [
            "wake me",                                   // 1: its trigger
            "plain prose", "more prose",                 // 2, 3
            "CPU: 1 PID: 2 Comm: kworker/1:0 Not tainted 6.1.0 #1", // 4: opens a dump
            "prose again",                               // 5
            "someone else's word",                       // 6: another analyzer's trigger
            "prose", "prose", "prose", "prose", "prose", // 7-11
            "line twelve", "line thirteen",              // 12, 13: every line from 12
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("waiting-\(UUID().uuidString).log")
        try Data(lines.map { "[    1.000000] " + $0 + "\n" }.joined().utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let waiter = Waiter()
        let analyzers = [
            AnalyzerDescriptor(id: "other", title: "other", explanation: "", eventKinds: ["o"], triggers: ["someone else"],
                               examples: [], make: { Other() }),
            AnalyzerDescriptor(id: "waiter", title: "waiter", explanation: "", eventKinds: ["w"], triggers: ["wake me"],
                               examples: [], make: { waiter }),
        ]
        _ = ScanEngine(analyzers: analyzers).scan(.path(url.path)) { _ in }
        XCTAssertTrue(Set(waiter.lines).isSuperset(of: [1, 4, 6, 12, 13]), "heard \(waiter.lines)")
        XCTAssertEqual(waiter.lines, waiter.lines.sorted(), "in input order, each once")
        XCTAssertEqual(Set(waiter.lines).count, waiter.lines.count)
    }
}
