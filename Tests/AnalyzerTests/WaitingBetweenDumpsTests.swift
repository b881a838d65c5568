import Foundation
import LockscanKit
import LockscanInput
import PluginHost
import XCTest

/// An analyzer between a report's dumps says so (`Interest.waiting`), and
/// the engine then skips the lines that cannot matter to it. That must
/// never change an answer: every capture, and storms of real reports with
/// unrelated lines up to and past the window's end, give the same events
/// in the same order as when every line is read.
final class WaitingBetweenDumpsTests: XCTestCase {
    static func scan(_ path: String, skipping: Bool, readSize: Int = 1 << 20) -> ParallelScanTests.Outcome {
        ParallelScanTests.scan(path, jobs: 1, readSize: readSize, skipsLinesWhileWaiting: skipping).0
    }

    func testEveryCaptureGivesTheSameEventsWhenWaitingSkipsLines() throws {
        let captures = try ParallelScanTests.captures()
        XCTAssertGreaterThan(captures.count, 30)
        for capture in captures {
            let every = Self.scan(capture.path, skipping: false)
            let skipping = Self.scan(capture.path, skipping: true)
            XCTAssertEqual(skipping.lines, every.lines, capture.lastPathComponent)
            XCTAssertEqual(skipping.diagnostics, every.diagnostics, capture.lastPathComponent)
            XCTAssertTrue(skipping.events == every.events, "\(capture.lastPathComponent): events differ (\(skipping.events.count) vs \(every.events.count))")
        }
    }

    /// Real soft-lockup and hung-task reports, each followed by 0 to 450
    /// unrelated lines (around the 300-line window), lines that hold a
    /// dump's first word in passing, and another report: where a report is
    /// closed, what joins it and the order of the events must not move.
    func testStormsOfRealReportsAcrossTheWindowsEnd() throws {
        let reports = try ParallelScanTests.captures()
            .filter { url in ["soft-lockup", "hung-task", "hard-lockup"].contains { url.lastPathComponent.hasPrefix($0) } }
            .prefix(8)
        XCTAssertGreaterThanOrEqual(reports.count, 4)
        let fillers = ["[ 9999.000001] docker0: port 3(veth01) entered disabled state",
                       "[ 9999.000002] mce: CPU33: Core temperature above threshold, cpu clock throttled",
                       "[ 9999.000003] smpboot: CPU: not booted in passing",
                       "",
                       "[ 9999.000004] usb 1-1.3: new high-speed USB device number 98 using ehci-pci"]
        for gap in [0, 1, 150, 298, 299, 300, 301, 302, 450] {
            var text = ""
            for (k, report) in reports.enumerated() {
                text += try String(decoding: Data(contentsOf: report), as: UTF8.self)
                if !text.hasSuffix("\n") { text += "\n" }
                for n in 0..<(gap + k) { text += fillers[n % fillers.count] + "\n" }
            }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("waiting-\(getpid())-\(gap).log").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            for readSize in [4096, 1 << 20] {
                let every = Self.scan(path, skipping: false, readSize: readSize)
                let skipping = Self.scan(path, skipping: true, readSize: readSize)
                XCTAssertGreaterThanOrEqual(every.events.count, reports.count)
                XCTAssertEqual(skipping.lines, every.lines)
                XCTAssertTrue(skipping.events == every.events,
                              "gap \(gap), reads of \(readSize): \(zip(skipping.events, every.events).first { $0 != $1 }.map { "\($0.0.kind)@\($0.0.source.line) vs \($0.1.kind)@\($0.1.source.line)" } ?? "counts \(skipping.events.count) vs \(every.events.count)")")
            }
        }
    }
}
