import Foundation
import XCTest

/// Issue 13: a log pasted into mail, a bug tracker, a forum or a chat must
/// give the findings of the log itself. Each paste form is built here at run
/// time from real captures in corpora/ (constructed variants) and must give
/// the same events — kind, title, CPU, details, stack, time — as the clean
/// capture; the real pasted captures are in corpora/public/ with their
/// expected output.
final class PastedTextTests: XCTestCase {
    override func tearDown() { CLI.removeTempFiles() }

    /// Captures of different shapes: a 2.6 soft lockup, a 4.x hard lockup
    /// with registers, 6.x caller ids, several hung tasks, a crash session.
    static let captures = [
        "corpora/public/soft-lockup-linux-mm-20110427-2.6.39-kswapd-i915.log",
        "corpora/public/hard-lockup-lkml-20170817-hibernate-4.13.log",
        "corpora/public/workqueue-lockup-lkp-20240207-6.8-rc2-caller-id.log",
        "corpora/public/hung-task-lkml-20200430-trinity-rtnl-lock-several.log",
        "corpora/incidents/centos7-hard-lockup-tg_unthrottle_up.log",
    ]

    static func text(_ file: String) throws -> String {
        try String(contentsOf: CLI.packageRoot.appendingPathComponent(file), encoding: .utf8)
    }

    /// What a user reads of each event, without where in the file it was.
    static func findings(_ text: String, name: String, keepTime: Bool = true) throws -> [String] {
        let path = try CLI.tempFile(name, Data(text.utf8))
        let r = try CLI.run(["scan", "--json", path])
        XCTAssertNotEqual(r.status, 2, "\(name): \(r.stderr)")
        return try CLI.events(r.stdout).map { e in
            var kept: [String: Any] = [:]
            for key in ["kind", "title", "cpu", "details", "severity"] + (keepTime ? ["time"] : []) { kept[key] = e[key] }
            kept["stack"] = (e["stack"] as? [[String: Any]])?.map { "\($0["function"] ?? "?")+\($0["offset"] ?? "")/\($0["size"] ?? "")" }
            let data = try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }

    func assertSameFindings(_ variant: (String) -> String, _ form: String, keepTime: Bool = true,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        for capture in Self.captures {
            let clean = try Self.text(capture)
            let name = (capture as NSString).lastPathComponent
            let expected = try Self.findings(clean, name: "clean-" + name, keepTime: keepTime)
            XCTAssertFalse(expected.isEmpty, "\(capture) has no events", file: file, line: line)
            let got = try Self.findings(variant(clean), name: form + "-" + name, keepTime: keepTime)
            XCTAssertEqual(got, expected, "\(form) of \(capture)", file: file, line: line)
        }
    }

    // MARK: 1. quoted-printable

    /// RFC 2045 encoding as a mail client writes it: `=` and eight-bit bytes
    /// escaped, trailing blanks escaped, lines over 76 broken with soft breaks.
    static func quotedPrintable(_ text: String) -> String {
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded: [String] = []
            let bytes = Array(line.utf8)
            for (i, b) in bytes.enumerated() {
                let trailingBlank = (b == 0x20 || b == 0x09) && bytes[(i + 1)...].allSatisfy { $0 == 0x20 || $0 == 0x09 }
                if b == UInt8(ascii: "=") || b >= 0x80 || trailingBlank {
                    encoded.append(String(format: "=%02X", b))
                } else {
                    encoded.append(String(UnicodeScalar(b)))
                }
            }
            var physical = ""
            for unit in encoded {
                if physical.count + unit.count > 75 {
                    out += physical + "=\n"
                    physical = ""
                }
                physical += unit
            }
            out += physical + "\n"
        }
        return String(out.dropLast())
    }

    func testQuotedPrintableBodyGivesTheFindingsOfTheLog() throws {
        try assertSameFindings(Self.quotedPrintable, "qp")
    }

    /// The real capture: `t=3D2103 jiffies` must read as 2103, not 3, and
    /// the starved kthread's CPU sits behind a soft line break.
    func testRealQuotedPrintableCapture() throws {
        let r = try CLI.run(["scan", "--json", "corpora/public/rcu-stall-lkml-20231120-rpi3-slub-quoted-printable.log"])
        let e = try XCTUnwrap(try CLI.events(r.stdout).first)
        let d = try XCTUnwrap(e["details"] as? [String: String])
        XCTAssertEqual(d["stallJiffies"], "2103")
        XCTAssertEqual(d["kthreadCPU"], "0")
        XCTAssertEqual((e["source"] as? [String: Any])?["line"] as? Int, 1)

        // Encoded and hard-wrapped by the sender's client: an ARM backtrace
        // whose `(show_stack+0x10/0x14)` halves sit on lines of their own.
        let r2 = try CLI.run(["scan", "--json", "corpora/public/rcu-stall-linux-media-20190531-imx6q-quoted-printable-wrapped.log"])
        let e2 = try XCTUnwrap(try CLI.events(r2.stdout).first)
        XCTAssertEqual((e2["details"] as? [String: String])?["stallJiffies"], "2603")
        let stack = (e2["stack"] as? [[String: Any]])?.compactMap { $0["function"] as? String }
        XCTAssertEqual(stack?.prefix(5), ["unwind_backtrace", "show_stack", "dump_stack", "nmi_cpu_backtrace", "handle_IPI"])
        XCTAssertEqual(stack?.count, 16)
        XCTAssertTrue((e2["evidence"] as? [String])?.contains("CPU: 0 PID: 0 Comm: swapper/0 Not tainted 5.2.0-rc2-00045-gc63ee3cb7134 #67") == true)
    }

    // MARK: 2. code blocks

    func testIndentedAndFencedCodeBlocks() throws {
        try assertSameFindings({ $0.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") }, "indent4")
        try assertSameFindings({ $0.split(separator: "\n", omittingEmptySubsequences: false).map { "\t" + $0 }.joined(separator: "\n") }, "tab")
        try assertSameFindings({ "Here is the log:\n\n```\n" + $0 + "```\n\nThanks\n" }, "fenced")
        // A chat client: the fences on the first and last log lines.
        try assertSameFindings({ "```" + $0.trimmingCharacters(in: .newlines) + "```\n" }, "inline-fence")
    }

    // MARK: 3. hard wraps

    /// Greedy word wrap as bugzilla (80) and mail clients (72) do it: break
    /// at the last blank that fits, dropping it; a word longer than the line
    /// is cut at the width.
    static func wrapped(_ text: String, width: Int) -> String {
        var out: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = Substring(line)
            while rest.count > width {
                let head = rest.prefix(width + 1)
                if let blank = head.dropFirst().lastIndex(of: " "), rest[rest.startIndex..<blank].contains(where: { $0 != " " }) {
                    out.append(String(rest[rest.startIndex..<blank]))
                    rest = rest[rest.index(after: blank)...]
                } else {
                    out.append(String(rest.prefix(width)))
                    rest = rest.dropFirst(width)
                }
            }
            out.append(String(rest))
        }
        return out.joined(separator: "\n")
    }

    func testHardWrappedLinesAreRejoined() throws {
        try assertSameFindings({ Self.wrapped($0, width: 80) }, "wrap80")
        try assertSameFindings({ Self.wrapped($0, width: 72) }, "wrap72")
    }

    /// A frame cut in two is one frame, in a log without stamps too.
    func testFrameCutAtTheWrapColumn() throws {
        let log = """
            watchdog: BUG: soft lockup - CPU#2 stuck for 23s! [kworker/2:1:117]
            Call Trace:
             ? queued_spin_lock_slowpath+0x1a/0x
            30
             _raw_spin_lock+0x1e/0x30
             process_one_work+0x1d8/0x3c0

            """
        let e = try XCTUnwrap(try Self.findings(log, name: "frame-cut.log").first)
        XCTAssertTrue(e.contains("\"stack\":[\"queued_spin_lock_slowpath+0x1a/0x30\""), e)
    }

    // MARK: 4. syslog broadcasts

    static func broadcast(_ text: String) -> String {
        text.split(separator: "\n").map { "\r\nMessage from syslogd@web1 at Oct 30 06:21:23 ...\r\n kernel:" + $0 + "\n" }.joined()
    }

    func testSyslogBroadcastsReadAsTheirSyslogLines() throws {
        // The header adds a wall clock the clean log does not have.
        try assertSameFindings(Self.broadcast, "broadcast", keepTime: false)
        let clean = try Self.text("corpora/public/soft-lockup-linux-mm-20110427-2.6.39-kswapd-i915.log")
        let cleanPath = try CLI.tempFile("clean.log", Data(clean.utf8))
        let reference = try XCTUnwrap(try CLI.events(try CLI.run(["scan", "--json", cleanPath]).stdout).first)
        let path = try CLI.tempFile("broadcast.log", Data(Self.broadcast(clean).utf8))
        let e = try XCTUnwrap(try CLI.events(try CLI.run(["scan", "--json", path]).stdout).first)
        // The report is the kernel's lines only: no header, no terminal blank
        // lines. (A line of 40 bytes or more loses its trailing blanks in
        // CollapsedLineSplitter, and the broadcast's syslog column makes
        // short lines that long.)
        let trimmed = { (e: [String: Any]) in (e["evidence"] as? [String])?.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) } }
        XCTAssertEqual(trimmed(e), trimmed(reference))
        XCTAssertEqual((e["time"] as? [String: Any])?["wallPrinted"] as? String, "Oct 30 06:21:23")
    }

    // MARK: 5-7. sessions collapsed onto one line

    static let windbg = "corpora/incidents/windows-clock-watchdog/"

    func testCollapsedLibvirtLogGivesOneEventPerRecord() throws {
        let clean = try Self.text(Self.windbg + "libvirtd.log")
        let expected = try Self.findings(clean, name: "libvirtd.log")
        XCTAssertEqual(expected.count, 3)
        XCTAssertEqual(try Self.findings(clean.replacingOccurrences(of: "\n", with: " "), name: "libvirtd-collapsed.log"), expected)
    }

    func testCollapsedWinDbgAnalysisKeepsTheBugCheck() throws {
        let clean = try Self.text(Self.windbg + "windbg-analyze.txt")
        let expected = try Self.findings(clean, name: "windbg.txt")
        XCTAssertEqual(expected.count, 1)
        for separator in [" ", "  "] {
            let collapsed = clean.split(separator: "\n").joined(separator: separator)
            let got = try Self.findings(collapsed, name: "windbg-collapsed.txt")
            XCTAssertEqual(got, expected, "joined with \(separator.count) blank(s)")
        }
        XCTAssertTrue(expected[0].contains("\"arg4\":\"0x1\"") && expected[0].contains("\"bugcheckCode\":\"0x101\""), expected[0])
    }

    /// A crash `bt` pasted onto one line after a sentence in Chinese.
    func testCrashBacktraceAfterASentenceOnOneLine() throws {
        let capture = try Self.text("corpora/public/rq-lock-cfs-bandwidth-wowotech-479-crash.log")
        // The capture has a blank line after every line (a page mirror's); the
        // reference is the same session without them.
        let lines = capture.split(separator: "\n").map(String.init)
        let bt = try XCTUnwrap(lines.firstIndex(of: "crash> bt"))
        let clean = lines.joined(separator: "\n") + "\n"
        let pasted = lines[...bt].joined(separator: "\n") + "\n下面是崩溃时的调用栈，请帮忙看看： " + lines[(bt + 1)...].joined(separator: " ") + "\n"
        let expected = try Self.findings(clean, name: "crash.log")
        XCTAssertEqual(try Self.findings(pasted, name: "crash-collapsed.log"), expected)
        XCTAssertTrue(expected.first?.contains("\"title\":\"hard LOCKUP in tg_unthrottle_up\"") == true, "\(expected)")

        let incident = try Self.text("corpora/incidents/centos7-hard-lockup-tg_unthrottle_up.log").split(separator: "\n").map(String.init)
        let i = try XCTUnwrap(incident.firstIndex(of: "crash> bt"))
        let collapsed = incident[..<i].joined(separator: "\n") + "\n这是 bt 的输出： " + incident[i...].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") + "\n"
        let e = try XCTUnwrap(try Self.findings(collapsed, name: "centos7-collapsed.log").first)
        XCTAssertTrue(e.contains("\"title\":\"hard LOCKUP in tg_unthrottle_up\"") && e.contains("\"cpu\":50"), e)
    }
}
