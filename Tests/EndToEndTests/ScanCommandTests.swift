import Foundation
import XCTest

final class ScanCommandTests: XCTestCase {
    /// `--files-from`: the inputs listed one per line (as `find` prints
    /// them) are scanned exactly as if named on the command line, in order.
    func testFilesFromListsTheInputs() throws {
        let files = ["corpora/incidents/centos7-hard-lockup-tg_unthrottle_up.log",
                     "corpora/incidents/guest-tsc-unstable-ixgbe-vf-reload.log"]
        let named = try CLI.run(["scan", "--json"] + files)
        let list = try CLI.tempFile("inputs.list", Data((files.joined(separator: "\r\n") + "\n\n").utf8))
        let listed = try CLI.run(["scan", "--json", "--files-from", list])
        XCTAssertEqual(listed.status, named.status)
        XCTAssertEqual(listed.stdout, named.stdout)
        let fromStdin = try CLI.run(["scan", "--json", "--files-from", "-"], stdin: Data(files.joined(separator: "\n").utf8))
        XCTAssertEqual(fromStdin.stdout, named.stdout)
        let missing = try CLI.run(["scan", "--files-from", "/nonexistent/list"])
        XCTAssertEqual(missing.status, 2, "a list that cannot be read is a usage error")
        XCTAssertTrue(missing.stderr.contains("/nonexistent/list"), missing.stderr)
    }

    override class func tearDown() { CLI.removeTempFiles() }

    let lockup = Data("[ 4474426.249700] NMI watchdog: Watchdog detected hard LOCKUP on cpu 50\n".utf8)

    func testJSONSchemaAndOrder() throws {
        let a = try CLI.tempFile("a.log", Data("[  1.000000] sched: RT throttling activated\n[  2.000000] watchdog: Watchdog detected hard LOCKUP on cpu 1\n".utf8))
        let b = try CLI.tempFile("b.log", lockup)
        let r = try CLI.run(["scan", "--json", a, b])
        let doc = try CLI.json(r.stdout)
        XCTAssertEqual(doc["schema"] as? String, "lockscan.scan/1")
        XCTAssertEqual((doc["inputs"] as? [[String: Any]])?.count, 2)
        let events = try CLI.events(r.stdout)
        XCTAssertEqual(events.compactMap { ($0["source"] as? [String: Any])?["file"] as? String }, [a, a, b])
        XCTAssertEqual(events.compactMap { $0["kind"] as? String }, ["rt_throttling", "hard_lockup", "hard_lockup"])
    }

    func testNDJSONFromStandardInputJournalJSON() throws {
        let journal = """
            {"__REALTIME_TIMESTAMP":"1489557828180000","__MONOTONIC_TIMESTAMP":"4474426299999","_SOURCE_MONOTONIC_TIMESTAMP":"4474426249700","_HOSTNAME":"node7","PRIORITY":"0","MESSAGE":"NMI watchdog: Watchdog detected hard LOCKUP on cpu 50"}
            {"__REALTIME_TIMESTAMP":"1489557828190000","__MONOTONIC_TIMESTAMP":"4474426259700","_HOSTNAME":"node7","PRIORITY":"4","MESSAGE":"sched: RT throttling activated"}

            """
        let r = try CLI.run(["scan", "--ndjson", "-"], stdin: Data(journal.utf8))
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, r.stdout + r.stderr)
        let first = try CLI.json(String(lines[0]))
        XCTAssertEqual(first["kind"] as? String, "hard_lockup")
        let time = try XCTUnwrap(first["time"] as? [String: Any])
        XCTAssertEqual(time["wall"] as? String, "2017-03-15T06:03:48.180000Z")
        XCTAssertEqual(time["monotonic"] as? Double, 4474426.2497)
    }

    /// --since/--until/--kind/--min-severity choose what is shown and what
    /// counts for the exit status; a window on a clock the events lack is
    /// said, not silently empty; a kind no analyzer emits is refused.
    func testEventFiltersAndTheExitStatusTheyGive() throws {
        let log = CLI.packageRoot.appendingPathComponent("corpora/public/hard-lockup-lkml-20200710-coresched-uperf.log").path
        func kinds(_ args: [String]) throws -> (status: Int32, kinds: [String], times: [Double], said: String) {
            let r = try CLI.run(["scan", "--json"] + args + [log])
            let events = try CLI.events(r.stdout)
            return (r.status, events.compactMap { $0["kind"] as? String },
                    events.compactMap { ($0["time"] as? [String: Any])?["monotonic"] as? Double }, r.stderr + r.stdout)
        }
        let all = try kinds([])
        XCTAssertEqual(Set(all.kinds), ["soft_lockup", "rcu_stall", "hard_lockup"])
        let late = try kinds(["--kind", "hard_lockup", "--since", "187.5"])
        XCTAssertEqual(late.status, 1)
        XCTAssertEqual(late.kinds, ["hard_lockup", "hard_lockup"])
        XCTAssertTrue(late.times.allSatisfy { $0 >= 187.5 }, "\(late.times)")
        let early = try kinds(["--until", "187", "--kind", "soft_lockup", "--kind", "rcu_stall"])
        XCTAssertEqual(early.kinds, ["soft_lockup", "soft_lockup", "soft_lockup"])
        let none = try kinds(["--since", "2000"])
        XCTAssertEqual(none.status, 0, "nothing shown is nothing found")
        XCTAssertEqual(none.kinds, [])
        XCTAssertEqual(try kinds(["--min-severity", "error"]).kinds, all.kinds, "every report here is an error")
        XCTAssertEqual(try kinds(["--min-severity", "critical"]).kinds, [], "and none is critical")
        let undated = try kinds(["--since", "2020-07-10T00:00:00Z"])
        XCTAssertEqual(undated.status, 2)
        XCTAssertTrue(undated.said.contains("6 events left out by --since/--until: no time on the clock the bound uses"), undated.said)
        let typo = try CLI.run(["scan", "--kind", "hardlockup", log])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("--kind hardlockup: no analyzer emits it (kinds: ") && typo.stderr.contains("hard_lockup"), typo.stderr)
        let vague = try CLI.run(["scan", "--since", "yesterday", log])
        XCTAssertEqual(vague.status, 2)
        XCTAssertTrue(vague.stderr.contains("--since yesterday: give boot seconds"), vague.stderr)
    }

    func testFailOnAndUsageErrors() throws {
        let f = try CLI.tempFile("rt.log", Data("sched: RT throttling activated\n".utf8))
        XCTAssertEqual(try CLI.run(["scan", f]).status, 1)
        XCTAssertEqual(try CLI.run(["scan", "--fail-on", "critical", f]).status, 0)
        // No file reads standard input, as grep does (the harness gives an empty file, not a terminal).
        let stdin = try CLI.run(["scan", "--ndjson"], stdin: Data("sched: RT throttling activated\n".utf8))
        XCTAssertEqual(stdin.status, 1, stdin.stderr)
        XCTAssertTrue(stdin.stdout.contains("rt_throttling"), stdin.stdout)
        XCTAssertEqual(try CLI.run(["scan", "--json", "--ndjson", f]).status, 2)
        XCTAssertEqual(try CLI.run(["scan", "--bogus", f]).status, 2)
    }

    func testTextAndMarkdownAreReadable() throws {
        let f = try CLI.tempFile("hl.log", lockup)
        let text = try CLI.run(["scan", f])
        XCTAssertTrue(text.stdout.contains("hard LOCKUP"), text.stdout)
        XCTAssertTrue(text.stdout.contains("cpu 50"))
        XCTAssertFalse(text.stdout.contains("\u{1B}["), "no colour when not a TTY / NO_COLOR")
        let md = try CLI.run(["scan", "--markdown", f])
        XCTAssertTrue(md.stdout.contains("## 1. hard LOCKUP"), md.stdout)
    }

    func testAnalyzersCommandExplainsEach() throws {
        let r = try CLI.run(["analyzers"])
        XCTAssertEqual(r.status, 0)
        for id in ["hard-lockup", "rt-throttling", "rq-lock-deadlock", "clocksource"] {
            XCTAssertTrue(r.stdout.contains(id), id)
        }
        XCTAssertTrue(r.stdout.contains("once per boot"))
    }

    /// `analyzers --triggers` is the literal list the scan benchmark gives
    /// `rg -F -f`: an analyzer's trigger, a report header an analyzer asked
    /// to see, and the input layer's own must all be on it, once each.
    func testAnalyzersTriggersListsWhatTheScanSearches() throws {
        let r = try CLI.run(["analyzers", "--triggers"])
        XCTAssertEqual(r.status, 0)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        for literal in ["soft lockup", "hard LOCKUP", "BUG: soft lockup", "not syncing: Hard LOCKUP", "Message from ", " Comm: "] {
            XCTAssertTrue(lines.contains(literal), literal)
        }
        XCTAssertEqual(Set(lines).count, lines.count, "a literal listed twice")
        XCTAssertFalse(lines.contains(""), "an empty literal would make rg match every line")
    }
}

/// Bad input: every case gets a message naming the file, exit 2, and the
/// good input next to it is still analysed.
final class BadInputTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    let good = Data("[ 4474426.249700] NMI watchdog: Watchdog detected hard LOCKUP on cpu 50\n".utf8)

    func check(_ badPath: String, message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let goodPath = try CLI.tempFile("good.log", good)
        let r = try CLI.run(["scan", "--json", badPath, goodPath])
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(badPath) && r.stderr.contains(message), "stderr: \(r.stderr)", file: file, line: line)
        let events = try CLI.events(r.stdout)
        XCTAssertTrue(events.contains { ($0["source"] as? [String: Any])?["file"] as? String == goodPath }, file: file, line: line)
    }

    func testMissingFile() throws { try check("/nonexistent/dmesg.txt", message: "No such file") }

    func testDirectory() throws { try check(FileManager.default.temporaryDirectory.path, message: "is a directory") }

    func testBinaryJunk() throws {
        var junk = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        junk.append(Data("\n[ 12.000000] watchdog: Watchdog detected hard LOCKUP on cpu 3\n".utf8))
        let p = try CLI.tempFile("junk.bin", junk)
        try check(p, message: "NUL bytes")
        let r = try CLI.run(["scan", "--json", p])
        XCTAssertEqual(try CLI.events(r.stdout).count, 1, "the text line after the junk is still analysed")
    }

    func testInvalidUTF8NamesTheLine() throws {
        var d = Data("[ 1.000000] ok\n".utf8)
        d.append(Data([0x5B, 0x20, 0x32, 0x2E, 0x30, 0x5D, 0x20]))
        d.append(Data("watchdog: Watchdog detected hard LOCKUP on cpu 3 \u{FF}".utf8))
        d.append(Data([0xC3, 0x28, 0xFF, 0x0A]))
        let p = try CLI.tempFile("bad-utf8.log", d)
        try check(p, message: ":2: invalid UTF-8")
    }

    func testEmptyFileIsFine() throws {
        let p = try CLI.tempFile("empty.log", Data())
        let r = try CLI.run(["scan", "--json", p])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).count, 0)
    }

    func testHundredMegabyteLineWithoutNewline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-longline-\(getpid()).log").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        fh.write(Data("[ 1.000000] watchdog: Watchdog detected hard LOCKUP on cpu 3\n".utf8))
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<100 { fh.write(chunk) }
        try fh.close()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLI.run(["scan", "--json", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(path):2: line of 100 MiB is longer than the 1 MiB limit"), r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).count, 1, "the line before it is analysed")
    }

    func testCompressedInputIsRead() throws {
        let plain = try CLI.tempFile("z.log", good)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gzip", "-kf", plain]
        try p.run()
        p.waitUntilExit()
        let r = try CLI.run(["scan", "--json", plain + ".gz"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["hard_lockup"])
    }

    func testTruncatedGzipIsReported() throws {
        let plain = try CLI.tempFile("t.log", Data(String(repeating: "[ 1.000000] filler line for gzip\n", count: 2000).utf8) + good)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gzip", "-kf", plain]
        try p.run()
        p.waitUntilExit()
        let gz = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        let cut = try CLI.tempFile("cut.log.gz", gz.prefix(gz.count / 2))
        let r = try CLI.run(["scan", "--json", cut])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains(cut), r.stderr)
    }
}

/// A problem with an input is said in every output format, not only on
/// standard error (where a pipeline into a file would lose it).
final class ScanDiagnosticsInEveryFormatTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func testLatin1InputIsReportedInTextMarkdownJSONAndNDJSON() throws {
        var bytes = Data("[    1.000000] watchdog: Watchdog detected hard LOCKUP on cpu 3\n".utf8)
        bytes += Data([0x63, 0x61, 0x66, 0xE9, 0x0A])
        let f = try CLI.tempFile("latin1.log", bytes)
        let text = try CLI.run(["scan", f])
        XCTAssertEqual(text.status, 2)
        XCTAssertTrue(text.stdout.contains("1 input problem:") && text.stdout.contains("\(f):2: invalid UTF-8"), text.stdout)
        let md = try CLI.run(["scan", "--markdown", f])
        XCTAssertTrue(md.stdout.contains("## Input problems") && md.stdout.contains("\(f):2: invalid UTF-8"), md.stdout)
        let json = try CLI.json(try CLI.run(["scan", "--json", f]).stdout)
        let inputs = try XCTUnwrap(json["inputs"] as? [[String: Any]])
        let diags = try XCTUnwrap(inputs.first?["diagnostics"] as? [[String: Any]])
        XCTAssertEqual(diags.first?["line"] as? Int, 2)
        let nd = try CLI.run(["scan", "--ndjson", f])
        let lines = nd.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertTrue(lines.contains { $0?["kind"] as? String == "hard_lockup" }, nd.stdout)
        let d = try XCTUnwrap(lines.compactMap { $0?["diagnostic"] as? [String: Any] }.first, nd.stdout)
        XCTAssertEqual(d["line"] as? Int, 2)
    }
}

/// The line numbers scan prints are the ones `grep -n` gives, however many
/// short lines come first (a byte-lane counter once wrapped after 255
/// newlines in one 2 KiB block, and every later line number was off).
final class ScanLineNumberTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func testLineNumbersAgreeWithGrepAfterOneHundredThousandOneByteLines() throws {
        var text = String(repeating: "x\n", count: 100_000)
        text += "[  100.000000] watchdog: Watchdog detected hard LOCKUP on cpu 3\n"
        text += String(repeating: "\n", count: 300)
        text += "[  130.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]\n"
        let f = try CLI.tempFile("short-lines.log", Data(text.utf8))
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        grep.arguments = ["grep", "-n", "-e", "hard LOCKUP", "-e", "soft lockup", f]
        let pipe = Pipe()
        grep.standardOutput = pipe
        try grep.run()
        let grepped = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        grep.waitUntilExit()
        let expected = grepped.split(separator: "\n").compactMap { Int($0.prefix { $0 != ":" }) }
        XCTAssertEqual(expected, [100_001, 100_302])
        let r = try CLI.run(["scan", "--json", f])
        let lines = try CLI.events(r.stdout).compactMap { ($0["source"] as? [String: Any])?["line"] as? Int }.sorted()
        XCTAssertEqual(lines, expected, r.stderr)
    }
}

/// Numbers in a line's framing are read with bounds: one that does not fit
/// is a diagnostic naming file and line (exit 2), and the line is still
/// analysed without that time, never with a wrapped or made-up one.
final class ScanNumberBoundsTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func scan(_ name: String, _ text: String) throws -> (status: Int32, stderr: String, events: [[String: Any]]) {
        let f = try CLI.tempFile(name, Data(text.utf8))
        let r = try CLI.run(["scan", "--json", f])
        XCTAssertFalse(r.signaled, r.stderr)
        return (r.status, r.stderr, try CLI.events(r.stdout))
    }

    /// A /dev/kmsg record whose microseconds pass Int.max used to wrap to a
    /// negative boot time (-8446744073709.552 s).
    func testKmsgTimestampPastIntMaxIsRefusedNotWrapped() throws {
        let r = try scan("huge.kmsg", """
            6,1,9999999999999999999,-;watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]
            6,2,1000000,-;hello

            """)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("huge.kmsg:1: kmsg timestamp 9999999999999999999 µs is too large"), r.stderr)
        let e = try XCTUnwrap(r.events.first)
        XCTAssertEqual(e["kind"] as? String, "soft_lockup", "the line is still analysed")
        XCTAssertNil((e["time"] as? [String: Any])?["monotonic"], "no made-up time: \(e)")
    }

    /// journald writes its stamps as decimal microseconds: "1e300" is no
    /// boot time (it trapped `timeline --html` once placed), and a realtime
    /// stamp past 9999 printed a date from gmtime's failure.
    func testJournalStampsOutOfRangeAreDiagnosed() throws {
        let r = try scan("huge.journal.json", """
            {"MESSAGE":"watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]","_SOURCE_MONOTONIC_TIMESTAMP":"1e300","__REALTIME_TIMESTAMP":"9223372036854775807"}
            {"MESSAGE":"hello","_SOURCE_MONOTONIC_TIMESTAMP":"1000000","__REALTIME_TIMESTAMP":"1600000000000000"}

            """)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("huge.journal.json:1: _SOURCE_MONOTONIC_TIMESTAMP '1e300' is not microseconds since boot"), r.stderr)
        XCTAssertTrue(r.stderr.contains("__REALTIME_TIMESTAMP '9223372036854775807' is not microseconds between 1970 and 9999"), r.stderr)
        XCTAssertFalse(r.stderr.contains("huge.journal.json:2"), "the good line is not blamed: \(r.stderr)")
        let time = try XCTUnwrap(r.events.first)["time"] as? [String: Any]
        XCTAssertNil(time?["monotonic"], "\(String(describing: time))")
        XCTAssertNil(time?["wall"], "\(String(describing: time))")
    }
}
