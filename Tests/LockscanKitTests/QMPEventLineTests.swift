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
