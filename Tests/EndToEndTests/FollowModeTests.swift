import Foundation
import XCTest

/// `scan --follow` as a user runs it behind `dmesg -w`, `journalctl -kf -o
/// json` or on a log file that grows: the event of a report arrives while
/// the input is still open, before anything more is written, and SIGTERM
/// ends the run with what was open printed.
final class FollowModeTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }
    // A lockscan that ended early must fail the test, not end it by SIGPIPE.
    override class func setUp() { signal(SIGPIPE, SIG_IGN) }

    /// Generous: this is about "before the writer goes on", not speed.
    static let wait: TimeInterval = 10

    /// A real soft lockup (6.10-rc5, stable list), as `dmesg -w` prints it:
    /// each line under a kernel timestamp (the capture was pasted without).
    static func dmesgLines(startingAt seconds: Int = 100) throws -> [String] {
        let path = CLI.packageRoot.appendingPathComponent("corpora/public/soft-lockup-stable-20240728-kasan-smp-call-function-many-cond-unprefixed.log").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated().map { i, line in
            "[\(String(repeating: " ", count: max(0, 5 - String(seconds).count)))\(seconds).\(String(format: "%06d", i))] \(line)"
        }
    }

    /// lockscan running with a pipe on its standard input and its standard
    /// output read as it comes.
    final class Running: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        private let output = Pipe()
        private let errors = Pipe()
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()

        init(_ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: CLI.lockscan)
            process.arguments = args
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"
            process.environment = env
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            for (pipe, isOut) in [(output, true), (errors, false)] {
                pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
                    let d = h.availableData
                    guard let self else { return }
                    self.lock.lock()
                    if isOut { self.out.append(d) } else { self.err.append(d) }
                    self.lock.unlock()
                }
            }
            try process.run()
        }

        var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
        var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

        func write(_ lines: [String]) {
            for line in lines { try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }
        }

        /// The NDJSON lines of stdout as objects.
        var objects: [[String: Any]] {
            stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        var events: [[String: Any]] { objects.filter { $0["kind"] != nil } }

        /// Waits until `condition` holds or `FollowModeTests.wait` passes.
        @discardableResult
        func until(_ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(FollowModeTests.wait)
            while Date() < deadline {
                if condition() { return true }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return condition()
        }

        /// Ends the input (or not) and waits for lockscan to exit.
        func finish(closeInput: Bool = true) -> Int32 {
            if closeInput { try? input.fileHandleForWriting.close() }
            until { !process.isRunning }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            // What the handlers had not read yet.
            Thread.sleep(forTimeInterval: 0.1)
            return process.terminationStatus
        }
    }

    func testEventArrivesFromAPipeWhileTheWriterIsStillOpen() throws {
        let lines = try Self.dmesgLines()
        // No quiet second to fall back on: the report's own end (`</TASK>`)
        // must close it.
        let run = try Running(["scan", "--follow", "--ndjson", "--quiet-after", "600"])
        // Line by line, as `dmesg -w` passes them on.
        for line in lines { run.write([line]); Thread.sleep(forTimeInterval: 0.002) }
        XCTAssertTrue(run.until { !run.events.isEmpty }, "no event while the pipe is open: \(run.stdout) \(run.stderr)")
        XCTAssertTrue(run.process.isRunning, "lockscan ended although its input is still open")
        let event = try XCTUnwrap(run.events.first)
        XCTAssertEqual(event["kind"] as? String, "soft_lockup")
        XCTAssertEqual(event["cpu"] as? Int, 28)
        XCTAssertEqual(event["title"] as? String, "BUG: soft lockup in smp_call_function")
        // A second report after it is its own event, also before the end.
        run.write(try Self.dmesgLines(startingAt: 200))
        XCTAssertTrue(run.until { run.events.count == 2 }, run.stdout)
        XCTAssertTrue(run.process.isRunning)
        XCTAssertEqual(run.finish(), 1, run.stderr)
        XCTAssertEqual(run.events.count, 2, "no event is printed twice: \(run.stdout)")
    }

    func testGrowingFileIsFollowedThroughATruncationAndARotation() throws {
        let path = try CLI.tempFile("follow-growing.log", Data())
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        func append(_ lines: [String]) { log.seekToEndOfFile(); log.write(Data(lines.map { $0 + "\n" }.joined().utf8)) }
        let run = try Running(["scan", "--follow", "--ndjson", path])
        append(try Self.dmesgLines())
        XCTAssertTrue(run.until { run.events.count == 1 }, "first report: \(run.stdout) \(run.stderr)")
        append(try Self.dmesgLines(startingAt: 130))
        XCTAssertTrue(run.until { run.events.count == 2 }, "second report: \(run.stdout) \(run.stderr)")
        XCTAssertEqual((run.events.last?["time"] as? [String: Any])?["monotonic"] as? Double, 130)
        // copytruncate: the file is emptied and written again from its start.
        log.truncateFile(atOffset: 0)
        append(try Self.dmesgLines(startingAt: 160))
        XCTAssertTrue(run.until { run.events.count == 3 }, "after the truncation: \(run.stdout) \(run.stderr)")
        let said = run.objects.compactMap { $0["diagnostic"] as? [String: Any] }.compactMap { $0["message"] as? String }
        XCTAssertTrue(said.contains { $0.contains("was truncated") }, "\(said)")
        XCTAssertTrue(run.stderr.contains("\(path):"), run.stderr)
        // Rotation: the file renamed away, a new one created at the path.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Data(try Self.dmesgLines(startingAt: 190).map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(run.until { run.events.count == 4 }, "after the rotation: \(run.stdout) \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("is now another file (rotated)"), run.stderr)
        try? FileManager.default.removeItem(atPath: path + ".1")
        XCTAssertTrue(run.process.isRunning, "a followed file has no end")
        run.process.terminate()
        XCTAssertEqual(run.finish(closeInput: false), 2, "a truncated input is an input problem: \(run.stderr)")
        XCTAssertEqual(run.events.count, 4, run.stdout)
    }

    func testJournalJSONOnAPipe() throws {
        // `journalctl -kf -o json`: the same real report, one JSON object a
        // message, with journald's stamps.
        let lines = try Self.dmesgLines().map { line -> String in
            let message = String(line.drop { $0 != "]" }.dropFirst(2))
            let object: [String: String] = ["__REALTIME_TIMESTAMP": "1722150000000000", "_SOURCE_MONOTONIC_TIMESTAMP": "100000000",
                                            "_TRANSPORT": "kernel", "PRIORITY": "4", "MESSAGE": message]
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        let run = try Running(["scan", "--follow", "--ndjson"])
        for line in lines { run.write([line]); Thread.sleep(forTimeInterval: 0.002) }
        XCTAssertTrue(run.until { !run.events.isEmpty }, "no event while journalctl is still running: \(run.stdout) \(run.stderr)")
        XCTAssertTrue(run.process.isRunning)
        let event = try XCTUnwrap(run.events.first)
        XCTAssertEqual(event["kind"] as? String, "soft_lockup")
        XCTAssertEqual((event["time"] as? [String: Any])?["wall"] as? String, "2024-07-28T07:00:00.000000Z")
        XCTAssertEqual(run.finish(), 1, run.stderr)
    }

    func testSIGTERMPrintsTheReportThatHadNoEndYet() throws {
        // The report cut before `</TASK>`, and no pause long enough to close
        // it: only the end of the run can.
        let lines = try Self.dmesgLines().prefix { !$0.contains("</TASK>") }
        let run = try Running(["scan", "--follow", "--quiet-after", "600"])
        run.write(Array(lines))
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertFalse(run.stdout.contains("soft lockup"), "closed before the end: \(run.stdout)")
        run.process.terminate()
        let status = run.finish(closeInput: false)
        XCTAssertEqual(run.process.terminationReason, .exit, "ended by the signal instead of ending the run")
        XCTAssertEqual(status, 1, run.stderr)
        XCTAssertTrue(run.stdout.contains("BUG: soft lockup in smp_call_function"), run.stdout)
        XCTAssertTrue(run.stdout.contains("1 event in 1 input"), "the summary: \(run.stdout)")
    }

    func testWholeInputOutputsAreRefused() throws {
        for (args, words) in [(["--json"], "--json (one document) needs the whole input"), (["--group"], "--group"),
                              (["a.log", "b.log"], "--follow reads one input")] {
            let r = try CLI.run(["scan", "--follow"] + args, stdin: Data())
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
        }
    }
}
