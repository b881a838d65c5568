import Foundation
import XCTest

/// A crashed machine is never "nothing found", and a lockup after an Oops
/// says it may be that Oops' consequence (issue 13). Real captures from
/// corpora/public; the combined inputs below are those captures put one
/// after the other, as a console log of two reports would hold them.
final class CrashContextTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    static func capture(_ name: String) throws -> String {
        try String(contentsOf: CLI.packageRoot.appendingPathComponent("corpora/public/\(name)"), encoding: .utf8)
    }

    func testAnOopsAloneIsReportedAndTheSummarySaysSo() throws {
        let r = try CLI.run(["scan", "corpora/public/oops-arm64-linux-renesas-soc-20200917-vsp1-null-quoted.log"])
        XCTAssertTrue(r.stdout.contains("BUG: kernel NULL pointer dereference in vsp1_du_setup_lif"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 event in 1 input: 1 oops"), r.stdout)
        // Context, not a hang: the default --fail-on warning is not reached.
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testTheOopsAndItsPanicAreOneEventInEveryFormat() throws {
        let file = "corpora/public/oops-gpf-panic-kvm-20230918-mdev-kasan-quoted.log"
        let events = try CLI.events(try CLI.run(["scan", "--json", file]).stdout)
        XCTAssertEqual(events.compactMap { $0["kind"] as? String }, ["oops"])
        let details = try XCTUnwrap(events.first?["details"] as? [String: String])
        XCTAssertEqual(details["panic"], "true")
        XCTAssertEqual(details["panicReason"], "Fatal exception")
        XCTAssertEqual(details["faultAt"], "__kobject_del+0x62/0x1c0")
        let ndjson = try CLI.run(["scan", "--ndjson", file]).stdout.split(separator: "\n")
        XCTAssertEqual(ndjson.count, 1)
        let md = try CLI.run(["scan", "--markdown", file]).stdout
        XCTAssertTrue(md.contains("## 1. general protection fault in __kobject_del"), md)
        XCTAssertTrue(md.contains("**kind:** `oops`"), md)
    }

    func testALockupAfterAnOopsPointsAtIt() throws {
        let file = "corpora/public/soft-lockup-lkml-20210923-kvm-5.14-oops-cpu0-kvm-wrapped.log"
        let events = try CLI.events(try CLI.run(["scan", "--json", file]).stdout)
        let lockup = try XCTUnwrap(events.first { $0["kind"] as? String == "soft_lockup" })
        XCTAssertEqual((lockup["details"] as? [String: String])?["afterCrash"], "\(file):1")
        let hints = (lockup["hints"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        XCTAssertTrue(hints.first?.contains("\(file):1") == true, "\(hints)")
        let text = try CLI.run(["scan", file]).stdout
        XCTAssertTrue(text.contains("The kernel crashed before this"), text)
    }

    func testTaintDAloneSaysTheOopsWasBeforeTheCapture() throws {
        let events = try CLI.events(try CLI.run(["scan", "--json", "corpora/public/hard-lockup-powerpc-kernel-bugzilla-213733.log"]).stdout)
        let lockups = events.filter { $0["kind"] as? String == "hard_lockup" }
        XCTAssertEqual(lockups.count, 2)
        for e in lockups {
            XCTAssertEqual((e["details"] as? [String: String])?["afterCrash"], "before this capture")
        }
    }

    /// An Oops that ended in a panic stopped that boot: a lockup printed
    /// after it is from a later one, and is not told otherwise. The lockup
    /// line alone (the last line of the 5.14 capture) names no release or
    /// time, so only the panic tells the two boots apart.
    func testALockupAfterAPanickedOopsIsNotBlamedOnIt() throws {
        let panicked = try Self.capture("oops-gpf-panic-kvm-20230918-mdev-kasan-quoted.log")
        let lockup = try Self.capture("soft-lockup-lkml-20210923-kvm-5.14-oops-cpu0-kvm-wrapped.log")
            .components(separatedBy: "\n").filter { $0.contains("BUG: soft lockup") }.joined(separator: "\n") + "\n"
        let f = try CLI.tempFile("two-boots.log", Data((panicked + lockup).utf8))
        let events = try CLI.events(try CLI.run(["scan", "--json", f]).stdout)
        XCTAssertEqual(events.compactMap { $0["kind"] as? String }, ["oops", "soft_lockup"])
        XCTAssertNil((events[1]["details"] as? [String: String])?["afterCrash"])
        // Without the panic the same Oops is the lockup's likely cause.
        let unpanicked = panicked.components(separatedBy: "\n").filter { !$0.contains("Kernel panic") }.joined(separator: "\n")
        let g = try CLI.tempFile("same-boot.log", Data((unpanicked + lockup).utf8))
        let joined = try CLI.events(try CLI.run(["scan", "--json", g]).stdout)
        XCTAssertEqual((joined.last?["details"] as? [String: String])?["afterCrash"], "\(g):1")
    }

    func testALockupsPanicIsNotASecondEvent() throws {
        let r = try CLI.run(["scan", "--json", "corpora/public/soft-lockup-panic-lkml-20240626-migrate-pages-batch.log"])
        let events = try CLI.events(r.stdout)
        XCTAssertEqual(events.compactMap { $0["kind"] as? String }, ["soft_lockup"])
        XCTAssertEqual((events.first?["details"] as? [String: String])?["panic"], "true")
        XCTAssertEqual(events.first?["cpu"] as? Int, 8)
    }

    func testAPanicWithoutAnOopsIsReported() throws {
        let events = try CLI.events(try CLI.run(["scan", "--json", "corpora/public/panic-vfs-root-github-libreswan-562-fc35.log"]).stdout)
        XCTAssertEqual(events.compactMap { $0["kind"] as? String }, ["kernel_panic"])
        XCTAssertEqual(events.first?["title"] as? String, "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)")
        XCTAssertEqual(events.first?["comm"] as? String, "swapper/0")
    }
}
