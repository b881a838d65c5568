@testable import LockscanInput
import LockscanKit
import XCTest

/// The byte-level fast path of the QMP reader must accept exactly the lines
/// it can read and hand everything else to JSONSerialization's verdict.
final class QMPEventLineTests: XCTestCase {
    func testStructureCheck() {
        let good = [#"{"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "STOP"}"#,
                    #"{"event": "X", "data": {"s": "a } b { \" c", "l": [1, {"k": []}]}}"#, "{}  ", " {\"a\": 1}\r"]
        let bad = [#"{"timestamp": {"seconds": 1489557828, "microseconds": 18"#, #"{"event": "STOP"}}"#, #"{"a": "unclosed}"#,
                   #"{"a": 1}{"b": 2}"#, #"[1, 2]"#, #"x{"a": 1}"#, #"{"a": 1} trailing"#, "{\"a\": \"tab\there\"}"]
        for g in good { XCTAssertTrue(QMPEventLine.wellFormedObject(Array(g.utf8)), g) }
        for b in bad { XCTAssertFalse(QMPEventLine.wellFormedObject(Array(b.utf8)), b) }
    }

    func testTimestampFromBytesMatchesTheParsedOne() throws {
        let line = Array(#"{"timestamp": {"seconds": 1795316549, "microseconds": 864197}, "event": "RESUME"}"#.utf8)
        let r = try QMPEventLine.record(line, line: 1, offset: 0, input: 0).get()
        XCTAssertEqual(r?.clock.wall, "2026-11-22T03:02:29.864197Z")
        let unknownClock = Array(#"{"timestamp": {"seconds": -1, "microseconds": -1}, "event": "STOP"}"#.utf8)
        XCTAssertNil(try QMPEventLine.record(unknownClock, line: 1, offset: 0, input: 0).get()?.clock.wall, "qemu's -1/-1 means no clock")
        XCTAssertThrowsError(try QMPEventLine.record(Array(#"{"event": "ST"#.utf8), line: 2, offset: 0, input: 0).get())
    }
}

/// Numbers in a QMP timestamp come from the input: absurd ones are refused
/// with a reason, never multiplied into a trap.
final class QMPTimestampBoundsTests: XCTestCase {
    func testAbsurdTimestampsAreRefusedNotTrapped() throws {
        for bad in [#"{"timestamp": {"seconds": 1e30, "microseconds": 0}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": 99999999999999999, "microseconds": 5}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": 9223372036854775807, "microseconds": 0}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": 1489557828, "microseconds": 5000000}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": 1489557828.5, "microseconds": 0}, "event": "STOP"}"#,
                    // Only -1/-1 means "qemu could not read its clock"; any
                    // other negative value is as absurd as a huge one.
                    #"{"timestamp": {"seconds": -5, "microseconds": 0}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": -1e30, "microseconds": -1}, "event": "STOP"}"#,
                    #"{"timestamp": {"seconds": 1489557828, "microseconds": -7}, "event": "STOP"}"#] {
            guard case let .failure(e) = QMPEventLine.record(Array(bad.utf8), line: 1, offset: 0, input: 0) else {
                return XCTFail("accepted: \(bad)")
            }
            XCTAssertTrue(e.message.contains("not a time"), e.message)
        }
        let good = try QMPEventLine.record(Array(#"{"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "STOP"}"#.utf8),
                                           line: 1, offset: 0, input: 0).get()
        XCTAssertEqual(good?.clock.wall, "2017-03-15T06:03:48.180000Z")
        let noClock = try QMPEventLine.record(Array(#"{"timestamp": {"seconds": -1, "microseconds": -1}, "event": "STOP"}"#.utf8),
                                              line: 1, offset: 0, input: 0).get()
        XCTAssertNil(noClock?.clock.wall, "qemu's -1/-1 is a record without a time")
    }

    func testWallClockFormattingNeverTraps() {
        XCTAssertEqual(WallClock.iso(.nan, fractionDigits: 6, suffix: "Z"), "(no time)")
        XCTAssertEqual(WallClock.iso(1e30, fractionDigits: 6, suffix: "Z"), "(out of range)")
        XCTAssertEqual(WallClock.iso(-1e15, fractionDigits: 6, suffix: "Z"), "(out of range)")
        XCTAssertEqual(WallClock.iso(-62_135_596_800, fractionDigits: 0, suffix: "Z"), "0001-01-01T00:00:00Z")
    }
}
