import Foundation
@testable import LockscanKit
import LockscanInput
import PluginHost
import XCTest

/// `--jobs 2` must never change an answer: the far part of a file is only
/// searched ahead on a second core (`AheadSearch`), so every capture gives
/// the same events, line numbers and diagnostics with one core or two,
/// wherever the far part starts and however the reads fall.
final class ParallelScanTests: XCTestCase {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpora")

    /// Every capture that has an expected output.
    static func captures() throws -> [URL] {
        let walker = FileManager.default.enumerator(at: corpora, includingPropertiesForKeys: nil)!
        var out: [URL] = []
        for case let url as URL in walker where url.lastPathComponent.hasSuffix(".expected.json") {
            let capture = url.deletingLastPathComponent()
                .appendingPathComponent(String(url.lastPathComponent.dropLast(".expected.json".count)))
            if FileManager.default.fileExists(atPath: capture.path) { out.append(capture) }
        }
        return out.sorted { $0.path < $1.path }
    }

    struct Outcome: Equatable {
        var events: [Event]
        var lines: Int
        var diagnostics: [String]
    }

    static func scan(_ path: String, jobs: Int, fraction: Double = 0.35, readSize: Int = 4096, maxLine: Int = 1 << 20,
                     skipsLinesWhileWaiting: Bool = true) -> (Outcome, answersFromAhead: Int) {
        var options = ScanOptions(limits: InputLimits(maxLineBytes: maxLine, chunkBytes: readSize))
        options.jobs = jobs
        options.skipsLinesWhileWaiting = skipsLinesWhileWaiting
        options.aheadMinimumBytes = 1
        options.aheadFraction = fraction
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all, options: options)
        var events: [Event] = []
        let summary = engine.scan(.path(path)) { events.append($0) }
        _ = engine.finishRun { events.append($0) }
        return (Outcome(events: events, lines: summary.lines, diagnostics: summary.diagnostics.map(\.description)), engine.answersFromAhead)
    }

    func testEveryCaptureGivesTheSameEventsWithTwoCores() throws {
        let captures = try Self.captures()
        XCTAssertGreaterThan(captures.count, 30, "corpora/ lost its captures")
        var answered = 0
        for capture in captures {
            let one = Self.scan(capture.path, jobs: 1).0
            for fraction in [0.05, 0.6] {
                let (two, answers) = Self.scan(capture.path, jobs: 2, fraction: fraction)
                answered += answers
                XCTAssertEqual(two.lines, one.lines, "\(capture.lastPathComponent) split at \(fraction): lines")
                XCTAssertEqual(two.diagnostics, one.diagnostics, "\(capture.lastPathComponent) split at \(fraction): diagnostics")
                XCTAssertEqual(two.events.count, one.events.count, "\(capture.lastPathComponent) split at \(fraction): events")
                XCTAssertTrue(two.events == one.events, "\(capture.lastPathComponent) split at \(fraction): events differ")
            }
        }
        // Not a comparison of one core with itself: the far parts were searched ahead.
        XCTAssertGreaterThan(answered, captures.count)
    }

    /// All captures in one file, CRLF line ends, lines longer than the
    /// analysed length among them, no newline at the end: the seams between
    /// reads, the split and the long lines fall everywhere.
    func testOneLargeMixedFileGivesTheSameEvents() throws {
        var data = Data()
        for (k, capture) in try Self.captures().enumerated() {
            var bytes = try Data(contentsOf: capture)
            if k % 3 == 0 {
                bytes = Data(bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Data($0) + Data([0x0D]) }.joined(separator: Data([0x0A])))
            }
            data += bytes
            if k % 5 == 0 {
                // A line longer than the analysed length, with a trigger past the cut and one before it.
                data += Data(("watchdog: BUG: soft lockup - CPU#3 stuck for 23s! " + String(repeating: "x", count: 3000) + " NMI backtrace for cpu 1\n").utf8)
            }
        }
        data += Data("[  100.000000] watchdog: BUG: soft lockup - CPU#2 stuck for 22s! [a:1]".utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-\(getpid()).log").path
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for readSize in [4096, 1 << 20] {
            let one = Self.scan(path, jobs: 1, readSize: readSize, maxLine: 2048).0
            XCTAssertGreaterThan(one.events.count, 100)
            for fraction in [0.01, 0.6, 0.999] {
                let (two, answers) = Self.scan(path, jobs: 2, fraction: fraction, readSize: readSize, maxLine: 2048)
                // Past the last line start there is no far part.
                if fraction < 0.9 { XCTAssertGreaterThan(answers, 0) }
                XCTAssertEqual(two.lines, one.lines)
                XCTAssertEqual(two.diagnostics, one.diagnostics)
                XCTAssertTrue(two.events == one.events, "read size \(readSize), split at \(fraction): events differ (\(two.events.count) vs \(one.events.count))")
            }
        }
    }

    /// The lines the second core finds are exactly those holding a trigger
    /// by a search of each line on its own.
    func testTheSearchAheadFindsEveryLineHoldingATrigger() throws {
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all)
        let search = engine.triggerTables.search
        var text = ""
        for capture in try Self.captures().prefix(40) { text += try String(decoding: Data(contentsOf: capture), as: UTF8.self) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ahead-\(getpid()).log").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let size = text.utf8.count
        guard let ahead = AheadSearch(fd: fd, size: size, fraction: 0.2, search: search, maxLineBytes: 1 << 20) else {
            return XCTFail("no search ahead on a \(size)-byte file")
        }
        defer { ahead.cancel() }
        // Each line on its own, by brute force.
        var expected: [Int] = []
        var offset = 0
        for line in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let holds = Array(line).withUnsafeBytes { b in b.count > 0 && search.firstHit(b.baseAddress!, from: 0, to: b.count) != nil }
            if offset >= ahead.start, holds { expected.append(offset) }
            offset += line.count + 1
        }
        XCTAssertGreaterThan(expected.count, 10)
        var found: [Int] = []
        var at = ahead.start
        while case let .line(l) = ahead.firstLine(from: at, before: size) {
            found.append(l)
            at = l + 1
        }
        XCTAssertEqual(found, expected)
    }

    /// The engine keeps which analyzers want a record as bits, 64 to a
    /// word: 70 analyzers (the built-in ones after 56 that never hear a
    /// trigger, so that they straddle two words) give every capture the
    /// events the built-in ones alone give.
    func testMoreThanSixtyFourAnalyzersGiveTheSameEvents() throws {
        final class Silent: Analyzer, @unchecked Sendable {
            func consume(_ record: Record, emit: (Event) -> Void) -> Interest { .idle }
            func finish(emit: (Event) -> Void) {}
        }
        let silent = (0..<(70 - BuiltinAnalyzers.all.count)).map { i in
            AnalyzerDescriptor(id: "silent-\(i)", title: "silent", explanation: "", eventKinds: ["silent"],
                               triggers: ["\u{1}never \(i)"], examples: [], make: { Silent() })
        }
        XCTAssertGreaterThan(silent.count + BuiltinAnalyzers.all.count, 64)
        for capture in try Self.captures() {
            var alone: [Event] = [], many: [Event] = []
            let builtins = ScanEngine(analyzers: BuiltinAnalyzers.all)
            _ = builtins.scan(.path(capture.path)) { alone.append($0) }
            _ = builtins.finishRun { alone.append($0) }
            let crowded = ScanEngine(analyzers: silent + BuiltinAnalyzers.all)
            _ = crowded.scan(.path(capture.path)) { many.append($0) }
            _ = crowded.finishRun { many.append($0) }
            XCTAssertEqual(many.count, alone.count, capture.lastPathComponent)
            XCTAssertTrue(many == alone, "\(capture.lastPathComponent): events differ with 70 analyzers")
        }
    }
}
