import Foundation
@testable import LockscanKit
import XCTest

/// `EventJSON` writes `--ndjson`'s event lines by hand: it must write every
/// field `encode(to:)` writes, in `JSONEncoder`'s order and form.
final class EventJSONTests: XCTestCase {
    /// An event with every field set: every optional, every flag true, every
    /// array non-empty, in the event and in each of its parts.
    static func fullEvent(_ s: String = "x") -> Event {
        var f = Frame(function: s, offset: 0x1f, size: UInt64.max, module: s, address: s, reliable: true, context: .irq,
                      isInstructionPointer: true)
        f.file = s
        f.line = Int.min
        f.inlined = true
        var source = SourceLocation(file: s, line: 1, endLine: Int.max, byteOffset: Int.min)
        source.inputIndex = 0
        var e = Event(analyzer: s, kind: s, title: s, severity: .critical, source: source,
                      time: Clock(monotonic: 4_474_426.2497, wall: s, wallPrinted: s), cpu: -1, pid: Int.max, comm: s, kernel: s,
                      taint: s, stack: [f, Frame(function: s, offset: 0, size: 1, reliable: false)], evidence: [s, s], explanation: s,
                      hints: [Hint(s, reference: s)], details: Dictionary([(s, s), ("a", s)], uniquingKeysWith: max))
        e.incident = Incident(cpus: [Incident.CPU(cpu: 1, pid: 2, comm: s, state: .holding, lock: s, lockAddress: s, lockClass: s,
                                                  irqsDisabled: true, line: 3, stack: [f])],
                              waitsFor: [[1, 2]], pattern: s)
        e.occurrences = Occurrences(count: 2, first: Clock(monotonic: 1), last: Clock(monotonic: 2.5), lines: [1, 2])
        e.incidentId = 7
        return e
    }

    /// The fixture must set everything, or a field added to `Event` (or a
    /// part) and forgotten in `EventJSON` would pass unseen.
    func testTheFullEventSetsEveryField() {
        let e = Self.fullEvent()
        var unset: [String] = []
        func check(_ value: Any, _ path: String) {
            for child in Mirror(reflecting: value).children {
                let name = path + "." + (child.label ?? "?")
                let m = Mirror(reflecting: child.value)
                if m.displayStyle == .optional, m.children.isEmpty { unset.append(name) }
                if let b = child.value as? Bool, !b { unset.append(name) }
                if m.displayStyle == .collection || m.displayStyle == .dictionary, m.children.isEmpty { unset.append(name) }
            }
        }
        check(e, "event")
        check(e.source, "source")
        check(e.time, "time")
        for h in e.hints { check(h, "hint") }
        check(e.stack[0], "stack[0]")
        XCTAssertEqual(unset, [], "set these in fullEvent (and write them in EventJSON)")
    }

    func testTheFullEventIsWrittenAsJSONEncoderWritesIt() throws {
        for s in SortedJSONEncoderTests.hostileStrings.prefix(140) {
            let e = Self.fullEvent(s)
            let reference = try SortedJSONEncoder.reference(pretty: false).encode(e)
            let line = try XCTUnwrap(EventJSON.compactLine(e), "EventJSON refused \(s.debugDescription)")
            XCTAssertEqual(String(decoding: line, as: UTF8.self), String(decoding: reference, as: UTF8.self), s.debugDescription)
            XCTAssertEqual(line, Array(reference), s.debugDescription)
        }
    }

    /// An incident line with every field set, and with the optional ones
    /// (a member's CPU, the pattern) left out, as JSONEncoder writes both.
    func testIncidentLinesAreWrittenAsJSONEncoderWritesThem() throws {
        for s in SortedJSONEncoderTests.hostileStrings.prefix(140) {
            let cpu = try XCTUnwrap(Self.fullEvent(s).incident?.cpus.first)
            let full = JoinedIncident(id: Int.max, members: [.init(file: s, line: 1, kind: s, title: s, cpu: -1),
                                                             .init(file: s, line: Int.min, kind: s, title: s, cpu: nil)],
                                      cpus: [cpu, cpu], waitsFor: [[1, 2], [Int.min, Int.max]], pattern: s, why: [s, s])
            var bare = full
            bare.pattern = nil
            bare.waitsFor = []
            bare.why = []
            for incident in [full, bare] {
                let reference = try SortedJSONEncoder.reference(pretty: false).encode(["incident": incident])
                XCTAssertEqual(try XCTUnwrap(EventJSON.incidentLine(incident), "refused \(s.debugDescription)"), Array(reference),
                               s.debugDescription)
            }
        }
    }

    /// A hex offset at every length, as `Frame`'s `0x…` strings.
    func testFrameOffsetsAtEveryLength() throws {
        var values: [UInt64] = [0, 1, 9, 10, 15, 16, UInt64.max, UInt64.max - 1]
        for shift in stride(from: 0, to: 64, by: 4) { values += [1 << UInt64(shift), (1 << UInt64(shift)) - 1, 0xabcdef << UInt64(shift % 40)] }
        var e = Self.fullEvent()
        e.stack = values.map { Frame(function: "f", offset: $0, size: $0 / 3) }
        XCTAssertEqual(EventJSON.compactLine(e), Array(try SortedJSONEncoder.reference(pretty: false).encode(e)))
    }

    /// A writer whose keys come out of order is not trusted: the line is
    /// refused (and written the generic way), not printed unsorted.
    func testKeysOutOfOrderAreRefused() {
        var w = CompactJSONWriter()
        w.object { w in
            w.key("b"); w.integer(1)
            w.key("a"); w.integer(2)
        }
        XCTAssertTrue(w.failed)
        var same = CompactJSONWriter()
        same.object { w in
            w.key("a"); w.integer(1)
            w.key("a"); w.integer(2)
        }
        XCTAssertTrue(same.failed, "a key twice")
        var nested = CompactJSONWriter()
        nested.object { w in
            w.key("b"); w.object { w in w.key("z"); w.integer(1) }
            w.key("c"); w.array([1, 2]) { w, i in w.object { w in w.key("y"); w.integer(i) } }
        }
        XCTAssertFalse(nested.failed, "each object's keys are checked against its own")
        XCTAssertEqual(String(decoding: nested.bytes, as: UTF8.self), #"{"b":{"z":1},"c":[{"y":1},{"y":2}]}"#)
        // A key that is a prefix of the next sorts first, not after it.
        var prefix = CompactJSONWriter()
        prefix.object { w in
            w.key("a"); w.integer(1)
            w.key("ab"); w.integer(2)
            w.key("b\"q"); w.integer(3)
        }
        XCTAssertFalse(prefix.failed)
        XCTAssertEqual(String(decoding: prefix.bytes, as: UTF8.self), #"{"a":1,"ab":2,"b\"q":3}"#, "a key needing an escape is escaped")
        var longer = CompactJSONWriter()
        longer.object { w in
            w.key("ab"); w.integer(1)
            w.key("a"); w.integer(2)
        }
        XCTAssertTrue(longer.failed)
    }
}
