import Foundation
@testable import LockscanKit
import XCTest

/// `scan --json`/`--ndjson` must print exactly what `JSONEncoder` (with
/// `.sortedKeys, .withoutEscapingSlashes`) printed before `SortedJSONEncoder`
/// replaced it: every string escape, number form, key order and omitted
/// optional. The corpora's events are compared in AnalyzerTests'
/// `JSONRenderingEquivalenceTests`; here the values no capture has.
final class SortedJSONEncoderTests: XCTestCase {
    /// Both encoders, compact and pretty: the same bytes, and from the fast
    /// path itself (a fallback to `JSONEncoder` would hide a difference); or
    /// both refuse.
    func assertSameJSON<T: Encodable>(_ value: T, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for pretty in [false, true] {
            let reference = Result { try SortedJSONEncoder.reference(pretty: pretty).encode(value) }
            let fast = Result { try SortedJSONEncoder.encodeWithoutFallback(value, pretty: pretty) }
            switch (reference, fast) {
            case let (.success(r), .success(f)):
                if Array(r) != f {
                    XCTFail("\(what) (pretty: \(pretty)):\n  JSONEncoder: \(String(decoding: r, as: UTF8.self).prefix(600))\n  fast:        \(String(decoding: f, as: UTF8.self).prefix(600))",
                            file: file, line: line)
                }
            case (.success, .failure(let e)):
                XCTFail("\(what) (pretty: \(pretty)): JSONEncoder wrote it, the fast path refused (\(e))", file: file, line: line)
            case (.failure, .success):
                XCTFail("\(what) (pretty: \(pretty)): JSONEncoder refused it, the fast path wrote it", file: file, line: line)
            case (.failure, .failure):
                // Refused both ways: the renderers print an empty line either way.
                XCTAssertEqual(try? SortedJSONEncoder.encode(value, pretty: pretty), nil, what, file: file, line: line)
            }
        }
    }

    /// Strings a log can carry: every ASCII byte, the controls JSON must
    /// escape, quotes and backslashes, `/` (left as is), multi-byte UTF-8,
    /// U+2028/2029 (left as is), bytes that were not UTF-8 (repaired when
    /// the String was made), and long runs with and without escapes.
    static var hostileStrings: [String] {
        var out = (0...0x7F).map { String(UnicodeScalar(UInt8($0))) }
        out.append(String((0...0x7F).map { Character(UnicodeScalar(UInt8($0))) }))
        out += ["", "\"", "\\", "\\\"", "/", "a/b\\c\"d", "\u{7F}", "é", "日本語", "😀", "👩‍👩‍👧", "\u{2028}\u{2029}",
                "\u{FEFF}", "\u{10FFFF}", "tab\there", "cr\rlf\n", "\u{1B}[31mred\u{1B}[0m", "\u{0}nul\u{0}",
                String(decoding: [0xFF, 0xFE, 0x41, 0xC3, 0x28, 0xE2, 0x82], as: UTF8.self)]
        // Long: escapes at every position relative to an 8-byte word.
        for k in 0..<9 { out.append(String(repeating: "x", count: k) + "\"" + String(repeating: "y", count: 20 - k) + "\u{1}") }
        out.append(String(repeating: "CPU#12 stuck for 22s! [spin:115] ", count: 4000))
        out.append(String(repeating: "\\\"\n\u{1F}é😀/", count: 3000))
        return out
    }

    func testStringsAreEscapedAsJSONEncoderEscapesThem() {
        for s in Self.hostileStrings {
            assertSameJSON(s, "the string \(s.debugDescription.prefix(80))")
            assertSameJSON([s, s], "an array of \(s.debugDescription.prefix(80))")
            // As a key too: escaped the same, and sorted by its bytes.
            assertSameJSON(Dictionary([(s, 1), ("m", 2), (s + "z", 3)], uniquingKeysWith: max), "the key \(s.debugDescription.prefix(80))")
        }
        // Every hostile string as a key of one object: their order.
        assertSameJSON(Dictionary(Self.hostileStrings.enumerated().map { ($1, $0) }, uniquingKeysWith: max), "all strings as keys")
    }

    /// Keys that sort differently by bytes, by Unicode order, numerically
    /// or case-insensitively: `.sortedKeys` off Darwin means UTF-8 bytes.
    func testKeysSortByTheirUTF8Bytes() {
        let keys = ["a", "A", "aa", "a\u{0}", "", "é", "z", "Z", "_", "10", "9", "2", "😀", "\u{FFFF}", "ab", "a b",
                    "abcdefgh", "abcdefghi", "abcdefgg", "abcdefghh", "abcdefgh\u{0}"]
        assertSameJSON(Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) }), "awkward keys")
    }

    struct Numbers: Codable {
        var int: [Int] = [0, 1, -1, 42, -42, Int.max, Int.min, Int.max - 1, Int.min + 1, 1_000_000_000]
        var int8: [Int8] = [Int8.min, Int8.max, 0, -1]
        var int16: [Int16] = [Int16.min, Int16.max]
        var int32: [Int32] = [Int32.min, Int32.max]
        var int64: [Int64] = [Int64.min, Int64.max]
        var uint: [UInt] = [0, UInt.max]
        var uint8: [UInt8] = [0, UInt8.max]
        var uint16: [UInt16] = [UInt16.max]
        var uint32: [UInt32] = [UInt32.max]
        var uint64: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1, 10_000_000_000_000_000_000]
        var double: [Double] = [0, -0.0, 1, -1, 0.1, 0.5, 12.0, 123_456_789.0, 4_474_426.2497, 1e15, 1e16, 1e17, 1e-4, 1e-5, 1e-7,
                                123.456e100, -2.5e-300, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
                                Double.leastNonzeroMagnitude, Double.leastNormalMagnitude, Double.pi, 1.0 / 3.0, 9_007_199_254_740_993]
        var float: [Float] = [0, -0.0, 1.5, Float.pi, Float.greatestFiniteMagnitude, Float.leastNonzeroMagnitude, 16_777_217, 1e-3]
        var bool: [Bool] = [true, false]
        // Single values, not arrays: the keyed container's own overloads.
        var oneInt = Int.min
        var oneUInt64 = UInt64.max
        var oneDouble = 1e16
        var oneFloat: Float = 0.1
        var oneInt8 = Int8.min
        var oneUInt16 = UInt16.max
        var absent: Int?
        var present: Int? = -7
    }

    func testNumbersAreWrittenAsJSONEncoderWritesThem() {
        assertSameJSON(Numbers(), "numbers at their bounds")
        for d in Numbers().double { assertSameJSON(d, "the Double \(d)") }
        for i in Numbers().int { assertSameJSON(i, "the Int \(i)") }
    }

    /// NaN and infinities: `JSONEncoder` refuses them; so must the fast
    /// path (the renderers then print what they printed before).
    func testNonFiniteNumbersAreRefusedBothWays() {
        for d in [Double.nan, .infinity, -.infinity] {
            assertSameJSON(d, "the Double \(d)")
            assertSameJSON(["t": [d]], "\(d) in an object")
            XCTAssertThrowsError(try SortedJSONEncoder.encodeWithoutFallback(["t": d], pretty: false))
        }
    }

    /// Containers with nothing in them, null, explicit `encodeNil`, values
    /// that encode nothing, nested containers asked from a keyed container.
    struct Shapes: Encodable {
        enum Keys: String, CodingKey { case empty, emptyArray, emptyObject, nothing, null, nested, list, zz, a }
        struct Nothing: Encodable { func encode(to encoder: Encoder) throws {} }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode([Int](), forKey: .emptyArray)
            try c.encode([String: Int](), forKey: .emptyObject)
            try c.encode(Nothing(), forKey: .nothing)
            try c.encodeNil(forKey: .null)
            var n = c.nestedContainer(keyedBy: Keys.self, forKey: .nested)
            try n.encode("x", forKey: .zz)
            try n.encode([[1], [], [2, 3]], forKey: .a)
            var u = c.nestedUnkeyedContainer(forKey: .list)
            try u.encodeNil()
            try u.encode(true)
            var inner = u.nestedContainer(keyedBy: Keys.self)
            try inner.encode(Optional<Int>.none, forKey: .a)
            try inner.encodeIfPresent(Optional<Int>.none, forKey: .zz)
            var deeper = u.nestedUnkeyedContainer()
            try deeper.encode(Float(2.5))
            try c.encode("", forKey: .empty)
        }
    }

    func testEmptyAndNestedContainersAreWrittenAsJSONEncoderWritesThem() {
        assertSameJSON(Shapes(), "empty and nested containers")
        assertSameJSON([Shapes(), Shapes()], "an array of them")
        assertSameJSON([[String: [Int]]](), "an empty top-level array")
    }

    /// Arrays nested around `JSONWriter`'s depth limit (512): written the
    /// same below it, refused the same at it.
    struct Nest: Encodable {
        var depth: Int
        func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            if depth > 1 { try c.encode(Nest(depth: depth - 1)) }
        }
    }

    func testDepthLimitIsJSONEncoders() {
        for depth in [1, 2, 510, 511, 512, 513] { assertSameJSON(Nest(depth: depth), "arrays \(depth) deep") }
    }

    /// An event with every field set to what a hostile log could put there,
    /// and a diagnostic and incident of the same: the renderers' own types,
    /// through the public lines and document.
    func testRenderedLinesAndDocumentAreJSONEncoders() throws {
        let strings = Self.hostileStrings
        let frames = strings.prefix(40).enumerated().map { i, s in
            var f = Frame(function: s, offset: i.isMultiple(of: 2) ? UInt64.max : 0, size: UInt64(i), module: s, address: s,
                          reliable: i % 3 == 0, context: [FrameContext.nmi, .irq, .softirq, .task, .exception, nil][i % 6],
                          isInstructionPointer: i % 4 == 0)
            f.file = s
            f.line = [Int.min, Int.max, 0, -1][i % 4]
            f.inlined = i % 5 == 0
            return f
        }
        for (n, s) in strings.enumerated() {
            var e = Event(analyzer: s, kind: s, title: s, severity: Severity.allCases[n % 4],
                          source: SourceLocation(file: s, line: [Int.min, Int.max, 0, 1][n % 4], endLine: Int.max, byteOffset: Int.min),
                          time: Clock(monotonic: Numbers().double[n % Numbers().double.count], wall: s, wallPrinted: s),
                          cpu: n % 2 == 0 ? Int.min : nil, pid: Int.max, comm: s, kernel: s, taint: s,
                          stack: Array(frames.prefix(n % 40)), evidence: Array(strings[n...].prefix(6)), explanation: s,
                          hints: [Hint(s, reference: s), Hint(s)], details: Dictionary([(s, s), ("cpu", s), ("é", "1")], uniquingKeysWith: min))
            e.incident = Incident(cpus: [Incident.CPU(cpu: Int.min, pid: 0, comm: s, state: .spinning, lock: s, lockAddress: s, lockClass: s,
                                                      irqsDisabled: n % 2 == 0, line: Int.max, stack: Array(frames.prefix(3))),
                                         Incident.CPU(cpu: nil, state: .unknown, line: 0, stack: [])],
                                  waitsFor: [[Int.min, Int.max], [0, -1]], pattern: n % 2 == 0 ? s : nil)
            e.occurrences = Occurrences(count: Int.max, first: Clock(monotonic: -0.0), last: Clock(wall: s), lines: [Int.min, 0, Int.max])
            e.incidentId = n % 3 == 0 ? nil : Int.min
            XCTAssertEqual(JSONRendering.line(e), referenceLine(e), "event \(n): \(s.debugDescription.prefix(80))")
            XCTAssertNotNil(EventJSON.compactLine(e), "event \(n): not written by EventJSON")
            assertSameJSON(e, "event \(n)")

            let d = Diagnostic(file: s, line: n % 2 == 0 ? nil : Int.min, message: s)
            XCTAssertEqual(JSONRendering.line(d), referenceLine(["diagnostic": d]), "diagnostic \(n)")
            let i = JoinedIncident(id: Int.max, members: [JoinedIncident.Member(file: s, line: 1, kind: s, title: s, cpu: nil)],
                                   cpus: e.incident?.cpus ?? [], waitsFor: [[1, 2]], pattern: s, why: Array(strings[n...].prefix(3)))
            XCTAssertEqual(JSONRendering.line(i), referenceLine(["incident": i]), "incident \(n)")

            let summary = InputSummary(file: s, format: s, compression: nil, lines: Int.max, bytes: 0, events: 1, diagnostics: [d], sameContentAs: s)
            let report = ScanReport(inputs: [summary], events: [e, e], diagnostics: [d], incidents: [i])
            XCTAssertEqual(JSONRendering.document(report), Array(try SortedJSONEncoder.reference(pretty: true).encode(report)) + [0x0A], "document \(n)")
        }
    }

    func referenceLine<T: Encodable>(_ value: T) -> [UInt8] {
        Array((try? SortedJSONEncoder.reference(pretty: false).encode(value)) ?? Data()) + [0x0A]
    }
}
