import Foundation
import XCTest

/// `lockscan timeline` through the real binary: text and JSON on a real
/// generated capture, and bad input.
final class TimelineCommandTests: XCTestCase {
    let dir = CLI.packageRoot.appendingPathComponent("corpora/generated/vm-pause")

    func testTextShowsEachSourcesClockAndEveryEventWithItsUncertainty() throws {
        let r = try CLI.run(["timeline", "--guest", dir.appendingPathComponent("guest-console.log").path,
                             "--qemu", dir.appendingPathComponent("domain.log").path, "--qmp", dir.appendingPathComponent("qmp-events.json").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("guest-console.log  (guest, boot-relative)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(paired events)"), "placed from the qemu/QMP evidence: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("offset grows by the paused 15.047215 s"), r.stdout)
        XCTAssertTrue(r.stdout.contains("qmp_stop: QMP STOP (guest paused)"), r.stdout)
        let guestLine = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.contains("clocksource_unstable") })
        XCTAssertTrue(guestLine.contains("2026-11-22T03:02:") && guestLine.contains("±"), String(guestLine))
    }

    func testJSONIsTheTimelineSchemaWithIntervals() throws {
        let r = try CLI.run(["timeline", "--json", "--guest", dir.appendingPathComponent("guest-console.log").path,
                             "--qmp", dir.appendingPathComponent("qmp-events.json").path,
                             "--anchor", "guest:2.253590=2026-11-22T03:02:33.023011Z"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try CLI.json(r.stdout)
        XCTAssertEqual(doc["schema"] as? String, "lockscan.timeline/1")
        let sources = try XCTUnwrap(doc["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.map { $0["id"] as? String }, ["guest", "qmp"])
        let segments = try XCTUnwrap(sources[0]["segments"] as? [[String: Any]])
        XCTAssertEqual(segments.first?["method"] as? String, "anchor")
        let events = try XCTUnwrap(doc["events"] as? [[String: Any]])
        let tsc = try XCTUnwrap(events.first { $0["kind"] as? String == "clocksource_unstable" })
        let time = try XCTUnwrap(tsc["time"] as? [String: Any])
        XCTAssertNotNil(time["monotonic"] as? Double)
        let earliest = try XCTUnwrap(time["earliest"] as? String), latest = try XCTUnwrap(time["latest"] as? String)
        XCTAssertLessThan(earliest, latest)
        XCTAssertEqual(tsc["sourceID"] as? String, "guest")
        XCTAssertNotNil(tsc["title"] as? String, "event fields are kept")
    }

    func testMissingInputAndBadAnchorAreClearErrors() throws {
        let missing = try CLI.run(["timeline", "--guest", "/nonexistent/guest.log", "--qmp", dir.appendingPathComponent("qmp-events.json").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/guest.log"), missing.stderr)
        XCTAssertTrue(missing.stdout.contains("qmp_stop"), "the other input is still used")
        let anchor = try CLI.run(["timeline", "--guest", dir.appendingPathComponent("guest-console.log").path, "--anchor", "guest:abc"])
        XCTAssertNotEqual(anchor.status, 0)
        XCTAssertTrue(anchor.stderr.contains("SOURCE:SECONDS=UTC"), anchor.stderr)
        for bad in ["guest:inf=2026-11-22T03:02:33Z", "guest:nan=2026-11-22T03:02:33Z", "guest:1e15=2026-11-22T03:02:33Z", "guest:-5=2026-11-22T03:02:33Z"] {
            let r = try CLI.run(["timeline", "--guest", dir.appendingPathComponent("guest-console.log").path, "--anchor", bad])
            XCTAssertEqual(r.status, 2, bad)
            XCTAssertTrue(r.stderr.contains("--anchor '\(bad)'"), r.stderr)
        }
        let twice = try CLI.run(["timeline", "--guest", "-", "--host", "-"])
        XCTAssertEqual(twice.status, 2)
        XCTAssertTrue(twice.stderr.contains("standard input"), twice.stderr)
        let window = try CLI.run(["timeline", "--guest", dir.appendingPathComponent("guest-console.log").path, "--window=-1"])
        XCTAssertNotEqual(window.status, 0)
        XCTAssertTrue(window.stderr.contains("--window"), window.stderr)
        let none = try CLI.run(["timeline"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("no input"), none.stderr)
    }

    /// --html through the whole pipeline: the real builder's document, and a
    /// guest log whose task name and message carry markup.
    func testHTMLPageFromRealInputsEscapesLogText() throws {
        let hostile = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(getpid()).log")
        try Data("""
            [   10.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [<script>alert(1)</script>:42]
            [   10.000001] Modules linked in: "><img src=x onerror=alert(1)> &amp; & </script>
            [   10.000002] CPU: 1 PID: 42 Comm: <script>alert(1)</scr Not tainted 6.1.0 #1
            [   10.000003] RIP: 0010:spin+0x1/0x2
            """.utf8).write(to: hostile)
        let page = FileManager.default.temporaryDirectory.appendingPathComponent("timeline-\(getpid()).html")
        let r = try CLI.run(["timeline", "--guest", hostile.path, "--anchor", "guest:10=2026-11-22T03:00:00Z",
                             "--qmp", dir.appendingPathComponent("qmp-events.json").path, "--html", page.path])
        XCTAssertEqual(r.status, 1, "placed, written, and a lockup among the events: \(r.stderr)")
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("soft lockup"), "the event is on the page")
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 1, "only the page's own script")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        let urls = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        XCTAssertFalse(urls.contains("http://") || urls.contains("https://"), "no network fetch (the SVG namespace aside)")
    }
}

/// Every source the timeline reads is placed from what the one reading of it
/// showed, compressed or not; one it cannot place is said in every output.
final class TimelinePlacementTests: XCTestCase {
    let dir = CLI.packageRoot.appendingPathComponent("corpora/generated/vm-pause")

    func testCompressedGuestLogIsPlacedLikeThePlainOne() throws {
        let guest = dir.appendingPathComponent("guest-console.log").path
        let qemu = dir.appendingPathComponent("domain.log").path
        let qmp = dir.appendingPathComponent("qmp-events.json").path
        func placements(_ guestPath: String) throws -> [String] {
            let r = try CLI.run(["timeline", "--json", "--guest", guestPath, "--qemu", qemu, "--qmp", qmp])
            XCTAssertEqual(r.status, 0, r.stderr)
            let doc = try CLI.json(r.stdout)
            let events = try XCTUnwrap(doc["events"] as? [[String: Any]])
            return events.filter { $0["sourceID"] as? String == "guest" }.map { e in
                let t = e["time"] as? [String: Any]
                return "\(e["kind"] ?? "") \(t?["earliest"] ?? "-") \(t?["latest"] ?? "-")"
            }
        }
        let plain = try placements(guest)
        XCTAssertFalse(plain.isEmpty)
        XCTAssertFalse(plain.contains { $0.hasSuffix("- -") }, "the plain log is placed: \(plain)")
        for (tool, ext) in [("gzip", "gz"), ("xz", "xz"), ("zstd", "zst")] {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("guest-\(getpid()).log.\(ext)").path
            try SymbolizeStreamingTests.shell("\(tool) -c '\(guest)' > '\(out)'")
            defer { try? FileManager.default.removeItem(atPath: out) }
            XCTAssertEqual(try placements(out), plain, ext)
        }
    }

    func testUnplacedSourceIsADiagnosticInEveryFormatAndExitTwo() throws {
        let guest = dir.appendingPathComponent("guest-console.log").path
        let text = try CLI.run(["timeline", "--guest", guest])
        XCTAssertEqual(text.status, 2, text.stderr)
        XCTAssertTrue(text.stdout.contains("not placed on the timeline"), text.stdout)
        XCTAssertTrue(text.stderr.contains("not placed on the timeline"), text.stderr)

        let json = try CLI.run(["timeline", "--json", "--guest", guest])
        XCTAssertEqual(json.status, 2)
        let doc = try CLI.json(json.stdout)
        let sources = try XCTUnwrap(doc["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.first?["placed"] as? Bool, false)
        XCTAssertTrue((doc["diagnostics"] as? [String])?.contains { $0.contains("not placed") } == true)

        let page = FileManager.default.temporaryDirectory.appendingPathComponent("unplaced-\(getpid()).html")
        defer { try? FileManager.default.removeItem(at: page) }
        let html = try CLI.run(["timeline", "--guest", guest, "--html", page.path])
        XCTAssertEqual(html.status, 2, html.stderr)
        XCTAssertTrue(try String(contentsOf: page, encoding: .utf8).contains("not placed on the timeline"))
    }

    func testInputProblemsAreInTheDocumentToo() throws {
        let qmp = dir.appendingPathComponent("qmp-events.json").path
        let r = try CLI.run(["timeline", "--json", "--qmp", qmp, "--host", "/nonexistent/host.log"])
        XCTAssertEqual(r.status, 2)
        let doc = try CLI.json(r.stdout)
        XCTAssertTrue((doc["diagnostics"] as? [String])?.contains { $0.contains("/nonexistent/host.log") } == true, "\(doc["diagnostics"] ?? "")")
    }

    func testOneSourceMayBeStandardInput() throws {
        let guest = try Data(contentsOf: dir.appendingPathComponent("guest-console.log"))
        let r = try CLI.run(["timeline", "--json", "--guest", "-", "--qemu", dir.appendingPathComponent("domain.log").path,
                             "--qmp", dir.appendingPathComponent("qmp-events.json").path], stdin: guest)
        XCTAssertEqual(r.status, 0, r.stderr)
        let sources = try XCTUnwrap(try CLI.json(r.stdout)["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.first?["placed"] as? Bool, true)
    }

    func testHTMLNeverOverwritesAnInputAndSaysWhyItCannotWrite() throws {
        let guestURL = FileManager.default.temporaryDirectory.appendingPathComponent("guest-\(getpid())-\(UUID().uuidString).log")
        try FileManager.default.copyItem(at: dir.appendingPathComponent("guest-console.log"), to: guestURL)
        defer { try? FileManager.default.removeItem(at: guestURL) }
        let before = try Data(contentsOf: guestURL)
        let refused = try CLI.run(["timeline", "--guest", guestURL.path, "--html", guestURL.path])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("never writes over what it reads"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: guestURL), before, "the input is unchanged")
        let unwritable = try CLI.run(["timeline", "--qmp", dir.appendingPathComponent("qmp-events.json").path,
                                      "--html", "/nonexistent-dir/page.html"])
        XCTAssertEqual(unwritable.status, 2)
        XCTAssertTrue(unwritable.stderr.contains("/nonexistent-dir/page.html: cannot be written (No such file or directory)"), unwritable.stderr)
        XCTAssertFalse(unwritable.stderr.contains("NSCocoaErrorDomain"))
    }
}

/// Numbers from the command line and from inputs reach the timeline's
/// arithmetic only within bounds: out of range is a clear error or a
/// diagnostic naming file and line, never a trap.
final class TimelineNumberBoundsTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    /// `--tz FILE=+00999999999999999999` multiplied its "minutes" by 60
    /// (arithmetic overflow, SIGILL); a zone is ±HH[:MM] with real hours.
    func testZoneOffsetIsReadAsHoursAndMinutesOnly() throws {
        let log = try CLI.tempFile("tz-guest.log", Data("[    5.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]\n".utf8))
        for bad in ["+00999999999999999999", "+0099999999999999999", "+99:00", "+05:75", "+5"] {
            let r = try CLI.run(["timeline", "--guest", log, "--tz", "\(log)=\(bad)"])
            XCTAssertFalse(r.signaled, "\(bad): \(r.stderr.prefix(300))")
            XCTAssertEqual(r.status, 2, bad)
            XCTAssertTrue(r.stderr.contains("--tz '\(log)=\(bad)'"), r.stderr)
        }
        for good in ["+05:30", "-0800", "+14"] {
            let r = try CLI.run(["timeline", "--guest", log, "--tz", "\(log)=\(good)"])
            XCTAssertFalse(r.stderr.contains("--tz"), "\(good): \(r.stderr)")
        }
    }

    /// A journal whose boot time was "1e300", placed by an anchor, drew
    /// its tick labels with Int(seconds) (SIGILL in `timeline --html`).
    func testJournalBootTimeThatIsNoNumberIsDiagnosedNotDrawn() throws {
        let journal = try CLI.tempFile("huge-mono.journal.json", Data("""
            {"MESSAGE":"watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]","_SOURCE_MONOTONIC_TIMESTAMP":"1e300"}
            {"MESSAGE":"hello","_SOURCE_MONOTONIC_TIMESTAMP":"1000000"}

            """.utf8))
        let page = CLI.tempDir.appendingPathComponent("huge-mono.html").path
        let r = try CLI.run(["timeline", "--guest", journal, "--anchor", "guest:1=2020-01-01T00:00:00Z", "--html", page])
        XCTAssertFalse(r.signaled, r.stderr.prefix(500).description)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("huge-mono.journal.json:1: _SOURCE_MONOTONIC_TIMESTAMP '1e300' is not microseconds since boot"), r.stderr)
        XCTAssertTrue(try String(contentsOfFile: page, encoding: .utf8).contains("soft lockup"), "the page is written, the event listed")
    }
}
