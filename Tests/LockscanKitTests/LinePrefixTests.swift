import LockscanKit
import XCTest

final class LinePrefixTests: XCTestCase {
    func parse(_ s: String) -> (LinePrefix, String) {
        let bytes = Array(s.utf8)
        let p = LinePrefix.parse(bytes)
        return (p, String(decoding: bytes[p.messageStart...], as: UTF8.self))
    }

    func testDmesgAndCallerIDs() {
        var (p, m) = parse("[ 4474426.249700] NMI watchdog: Watchdog detected hard LOCKUP on cpu 50")
        XCTAssertEqual(p.clock.monotonic, 4474426.2497)
        XCTAssertEqual(m, "NMI watchdog: Watchdog detected hard LOCKUP on cpu 50")
        (p, m) = parse("[  123.456789][    T1] msg")
        XCTAssertEqual(p.callerID, "T1")
        XCTAssertNil(p.callerCPU)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("[    C7] msg")
        XCTAssertEqual(p.callerCPU, 7)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("[70.65] x")
        XCTAssertEqual(p.clock.monotonic, 70.65)
        (p, m) = parse("[  12.000000]  native_queued_spin_lock_slowpath+0x63/0x1f0")
        XCTAssertEqual(m, " native_queued_spin_lock_slowpath+0x63/0x1f0", "frame indentation is kept")
    }

    func testLevelsAndFacility() {
        var (p, m) = parse("<4>[   12.345678] msg")
        XCTAssertEqual(p.level, 4)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("kern  :warn  : [   12.345678] msg")
        XCTAssertEqual(p.level, 4)
        XCTAssertEqual(p.clock.monotonic, 12.345678)
        XCTAssertEqual(m, "msg")
    }

    func testWallClocks() {
        var (p, m) = parse("[Thu Oct 30 06:21:23 2025] msg")
        XCTAssertEqual(p.clock.wall, "2025-10-30T06:21:23")
        XCTAssertEqual(m, "msg")
        (p, m) = parse("2025-10-30T06:21:23,123456+08:00 NMI watchdog: x")
        XCTAssertEqual(p.clock.wall, "2025-10-30T06:21:23.123456+08:00")
        XCTAssertNil(p.host, "dmesg --time-format iso has no host")
        XCTAssertEqual(m, "NMI watchdog: x")
        (p, m) = parse("Oct 30 06:21:23 host kernel: [ 123.456789] msg")
        XCTAssertEqual(p.clock.wallPrinted, "Oct 30 06:21:23")
        XCTAssertEqual(p.clock.monotonic, 123.456789)
        XCTAssertEqual(p.host, "host")
        XCTAssertEqual(m, "msg")
        (p, m) = parse("2025-10-30T06:21:23.123456+08:00 host kernel: msg")
        XCTAssertEqual(p.host, "host")
        XCTAssertEqual(m, "msg")
        (p, m) = parse("2025-10-30T06:21:23+0800 host kernel: msg")
        XCTAssertEqual(p.clock.wall, "2025-10-30T06:21:23+08:00")
        (p, m) = parse("[ 4474426.249700] host kernel: msg")
        XCTAssertEqual(p.host, "host")
        XCTAssertEqual(m, "msg")
        (p, m) = parse("Tue Mar  8 12:00:01 2022 kern.info kernel: [   5.1] msg")
        XCTAssertEqual(p.clock.wall, "2022-03-08T12:00:01")
        XCTAssertEqual(m, "msg")
        (p, m) = parse("2025-10-30 06:21:23.123 [   12.345678] msg")
        XCTAssertEqual(p.clock.wall, "2025-10-30T06:21:23.123")
        XCTAssertEqual(p.clock.monotonic, 12.345678)
        XCTAssertEqual(m, "msg")
        (p, m) = parse(" kernel:[ 123.4] msg")
        XCTAssertEqual(p.clock.monotonic, 123.4)
        XCTAssertEqual(m, "msg")
    }

    func testKmsgAndTickets() {
        var (p, m) = parse("6,1234,5678901,-;msg")
        XCTAssertEqual(p.level, 6)
        XCTAssertEqual(p.clock.monotonic, 5.678901)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("4,1235,5678902,-,caller=C3;msg")
        XCTAssertEqual(p.callerCPU, 3)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("11745 [ 12.000001] msg")
        XCTAssertEqual(p.clock.monotonic, 12.000001)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("> > [ 12.000001] msg")
        XCTAssertEqual(m, "msg")
    }

    /// journalctl in a Finnish locale (a real Ubuntu forum paste) and other
    /// languages: the month is a word of the locale, recognised by shape,
    /// only before `host kernel:`.
    func testSyslogStampWithALocalizedMonth() {
        var (p, m) = parse("heinä 19 22:06:24 ruoska kernel: NMI watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [smbd:2957]")
        XCTAssertEqual(p.clock.wallPrinted, "heinä 19 22:06:24")
        XCTAssertEqual(p.host, "ruoska")
        XCTAssertEqual(m, "NMI watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [smbd:2957]")
        (p, m) = parse("Mär  3 08:01:02 host kernel: [  12.000000] msg")
        XCTAssertEqual(p.clock.monotonic, 12.0)
        XCTAssertEqual(m, "msg")
        (p, m) = parse("Reset 19 22:06:24 was requested by the operator")
        XCTAssertNil(p.clock.wallPrinted, "no `host kernel:` after it: not a stamp")
        XCTAssertEqual(m, "Reset 19 22:06:24 was requested by the operator")
    }

    /// A log quoted three deep and indented inside the quote (a real stable
    /// review mail): the indentation before the stamp is the mail's.
    func testIndentedLogInsideMailQuotes() {
        let (p, m) = parse("> > >    [   75.213852] NMI watchdog: Watchdog detected hard LOCKUP on cpu 0")
        XCTAssertEqual(p.clock.monotonic, 75.213852)
        XCTAssertEqual(m, "NMI watchdog: Watchdog detected hard LOCKUP on cpu 0")
    }

    /// A log shipper's export (a real RHEL 7 customer capture): date, time
    /// and zone, ` | `-separated columns, then the syslog line it carried.
    func testLogShipperColumnsBeforeASyslogLine() {
        let (p, m) = parse("2022-11-12 10:10:59 +0800 | messages | Nov 12 10:10:59 node-2 kernel: CPU: 12 PID: 39156 Comm: dockerd-current")
        XCTAssertEqual(p.clock.wall, "2022-11-12T10:10:59+08:00")
        XCTAssertEqual(p.host, "node-2")
        XCTAssertEqual(m, "CPU: 12 PID: 39156 Comm: dockerd-current")
    }

    func testUnprefixedLineIsAllMessage() {
        let (p, m) = parse("sched: RT throttling activated")
        XCTAssertTrue(p.clock.isEmpty)
        XCTAssertEqual(m, "sched: RT throttling activated")
    }

    /// A kernel stamp's seconds are read without making a string (exact
    /// integer over a power of ten when the digits fit 53 bits, the text
    /// otherwise); the timeline orders and aligns by them, so they must be
    /// the very `Double` the text denotes, to the last bit.
    func testStampSecondsAreTheDoubleTheTextDenotes() {
        var rng = SystemRandomNumberGenerator()
        var cases = ["0.000000", "70.65", "4474426.249700", "9007199.254740", "9007199.254741", "999999999999.999999999",
                     "123456789012.5", "0.1", "0.000000001"]
        for _ in 0..<5000 {
            let whole = String(UInt64.random(in: 0...999_999_999_999, using: &rng) >> UInt64.random(in: 0...40, using: &rng))
            let digits = Int.random(in: 1...9, using: &rng)
            let fraction = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            cases.append(whole + "." + fraction)
        }
        for text in cases {
            let bytes = Array("[\(text)] msg".utf8)
            let p = LinePrefix.parse(bytes)
            XCTAssertEqual(String(decoding: bytes[p.messageStart...], as: UTF8.self), "msg", text)
            XCTAssertEqual(p.clock.monotonic?.bitPattern, Double(text)?.bitPattern, text)
        }
    }
}

final class CollapsedLineSplitterTests: XCTestCase {
    func testSplitsAtTimestampsAndFrames() {
        let line = "[  100.000001] watchdog: Watchdog detected hard LOCKUP on cpu 3 [  100.000002] Call Trace: <NMI> ? watchdog_overflow_callback+0x6a/0x80 </NMI> <TASK> _raw_spin_lock+0x2a/0x30 double_rq_lock+0x3e/0x80 </TASK>"
        let pieces = CollapsedLineSplitter.pieces(Array(line.utf8)).map { String(decoding: $0.bytes, as: UTF8.self) }
        XCTAssertEqual(pieces.first, "[  100.000001] watchdog: Watchdog detected hard LOCKUP on cpu 3")
        XCTAssertTrue(pieces.contains("_raw_spin_lock+0x2a/0x30"), "\(pieces)")
        XCTAssertTrue(pieces.contains("double_rq_lock+0x3e/0x80"), "\(pieces)")
        XCTAssertTrue(pieces.contains("? watchdog_overflow_callback+0x6a/0x80"), "\(pieces)")
    }

    func testOrdinaryLineIsKept() {
        let line = "[  100.000001] WARNING: CPU: 0 PID: 1 at kernel/watchdog.c:12 watchdog_overflow_callback+0x12/0x34"
        XCTAssertEqual(CollapsedLineSplitter.pieces(Array(line.utf8)).count, 1)
    }
}
