import Foundation
@testable import LockscanKit
import XCTest

/// lockscan links only FoundationEssentials; what it wrote itself in place
/// of the full Foundation's APIs must answer as those did. This process
/// links the full Foundation, so each answer is compared with the original.
final class FoundationEssentialsOnlyTests: XCTestCase {
    /// Texts a log line, a path or a command line could hold.
    static let texts: [String] = [
        "", " ", "\t", "a", "  watchdog: BUG: soft lockup - CPU#3 stuck for 22s!  ", "\u{A0}nbsp\u{2003}em\u{3000}",
        "line\n", "\r\nboth\r\n", "x\u{301}", " \u{301}combining", "CPU CPU CPU", "日本語 テキスト ", "\u{1F600} emoji \u{1F600}",
        "\u{85}next line\u{2028}", "a: b: c", "'quoted'", "''", "/", "//", "a/b/", "/a/b", "a//b", "vm.xml", "/var/log/libvirt/qemu/vm1.log.1.gz",
    ]

    func testTrimmingAsFoundationTrims() {
        for t in Self.texts {
            XCTAssertEqual(t.trimmingBlanks(), t.trimmingCharacters(in: .whitespaces), t.debugDescription)
            XCTAssertEqual(t.trimmingWhitespace(), t.trimmingCharacters(in: .whitespacesAndNewlines), t.debugDescription)
            XCTAssertEqual(t.trimming { $0 == "'" }, t.trimmingCharacters(in: CharacterSet(charactersIn: "'")), t.debugDescription)
            let sub = t.dropFirst()
            XCTAssertEqual(sub.trimmingBlanks(), sub.trimmingCharacters(in: .whitespaces), t.debugDescription)
        }
    }

    /// The markers analyzers search for are ASCII; found on bytes, they
    /// must be where Foundation's `range(of:)` found them, first and last.
    func testOccurrencesAreWhereFoundationFindsThem() {
        let needles = ["CPU", " ", ": ", "stuck for ", "b", "'", "/", "x", "zz", "combining"]
        for t in Self.texts {
            for n in needles {
                let mine = t.firstOccurrence(of: n).map { t.utf8.distance(from: t.startIndex, to: $0.lowerBound) }
                let theirs = t.range(of: n).map { t.utf8.distance(from: t.startIndex, to: $0.lowerBound) }
                XCTAssertEqual(mine, theirs, "\(n.debugDescription) in \(t.debugDescription)")
                let mineLast = t.lastOccurrence(of: n).map { t[$0] }
                let theirsLast = t.range(of: n, options: .backwards).map { t[$0] }
                XCTAssertEqual(mineLast, theirsLast, "last \(n.debugDescription) in \(t.debugDescription)")
                let sub = t.dropFirst(2)
                XCTAssertEqual(sub.firstOccurrence(of: n).map { sub[$0] }, sub.range(of: n).map { sub[$0] }, "in a substring")
            }
        }
        let line = "watchdog: BUG: soft lockup - CPU#3 stuck for 22s!"
        let r = try? XCTUnwrap(line.firstOccurrence(of: "stuck for "))
        XCTAssertEqual(r.map { String(line[$0.upperBound...]) }, "22s!")
    }

    /// The byte search under `includes` and `firstOccurrence` takes its own
    /// path below 256 bytes: on lines of every length around that, over a
    /// four-letter alphabet so that needles and their near misses occur
    /// often (overlaps, a needle at the very end, a first and last byte
    /// matching with a different middle), it answers as Foundation does.
    func testByteSearchAnswersAsFoundationOnShortAndLongLines() {
        var rng = IncidentJoinTests.Sequence(state: 0x9E37_79B9_7F4A_7C15)
        let alphabet = Array("abc ")
        for round in 0..<4000 {
            let length = round % 300
            let text = String((0..<length).map { _ in alphabet[Int(rng.next() % 4)] })
            let needle = String((0..<(1 + Int(rng.next() % 6))).map { _ in alphabet[Int(rng.next() % 4)] })
            XCTAssertEqual(text.includes(needle), text.contains(needle), "\(needle.debugDescription) in \(text.debugDescription)")
            let mine = text.firstOccurrence(of: needle).map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) }
            let theirs = text.range(of: needle).map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) }
            XCTAssertEqual(mine, theirs, "\(needle.debugDescription) in \(text.debugDescription)")
        }
        XCTAssertTrue("ab".includes("ab"))
        XCTAssertFalse("a".includes("ab"))
        XCTAssertTrue(String(repeating: "a", count: 255).appending("b").includes("ab"))
    }

    /// `integer(after:)` reads its digits on bytes; it must answer as the
    /// Character reading it replaced (`prefix(while: isNumber)`, then
    /// `Int`), on Strings and Substrings, whatever follows the digits.
    func testIntegerAfterAMarkerAsCharactersReadIt() {
        func characters(_ s: Substring, _ marker: String) -> Int? {
            guard let r = s.range(of: marker) else { return nil }
            return Int(s[r.upperBound...].prefix(while: { $0.isNumber }))
        }
        let tails = ["", "7", "42s!", "0042 ", "99999999999999999999", "12\u{301}", "3\u{0663}", "\u{0663}4", "5½", "-6", "+7", "8x9", "12 34"]
        for head in ["", "x ", "日本 "] {
            for tail in tails {
                for marker in ["CPU#", "stuck for "] {
                    let text = head + "BUG " + marker + tail + " [a:1]"
                    XCTAssertEqual(text.integer(after: marker), characters(Substring(text), marker), text.debugDescription)
                    let sub = text.dropFirst(head.count)
                    XCTAssertEqual(sub.integer(after: marker), characters(sub, marker), text.debugDescription)
                }
            }
        }
    }

    func testNumbersAsPrintfWritesThem() {
        let doubles: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.0005, 123.456789, 1e20, -1e-7, 1_489_557_828.18, .nan, .infinity, -.infinity, 1e300]
        for d in doubles {
            for n in [0, 1, 2, 3, 6] {
                XCTAssertEqual(PrintfFormat.fixed(d, decimals: n), String(format: "%.\(n)f", d), "\(d) with \(n)")
            }
        }
        for i in [0, 7, -7, 42, 2026, -2026, 123_456, Int.max, Int.min] {
            for w in [2, 4, 6] {
                XCTAssertEqual(PrintfFormat.zeroPadded(i, width: w), String(format: "%0\(w)ld", i), "\(i) in \(w)")
            }
        }
        XCTAssertEqual(PrintfFormat.date(year: 2017, month: 3, day: 5), String(format: "%04d-%02d-%02d", 2017, 3, 5))
        XCTAssertEqual(PrintfFormat.clock(7, 5, 9), String(format: "%02d:%02d:%02d", 7, 5, 9))
        XCTAssertEqual(PrintfFormat.clock(23, 59), "23:59")
        for u: UInt64 in [0, 0xff, 0xffffffff81791e83, .max] {
            XCTAssertEqual(PrintfFormat.hex(u, width: 16), String(format: "%016llx", u))
            XCTAssertEqual(PrintfFormat.hex(u, width: 2), String(format: "%02llx", u))
        }
    }

    func testPathsAsNSStringReadsThem() {
        // (`//` left out: NSString says "", basename says "/", no log names it.)
        for t in Self.texts where !t.contains("\n") && t != "//" {
            XCTAssertEqual(PathName.last(t), (t as NSString).lastPathComponent, t.debugDescription)
        }
        for (dir, name) in [("/var/log", "messages"), ("/var/log/", "messages"), ("/", "etc"), ("bundle", "sos_commands/kernel/dmesg")] {
            XCTAssertEqual(PathName.join(dir, name), (dir as NSString).appendingPathComponent(name), "\(dir) + \(name)")
        }
    }

    /// Journal and QMP lines are read with `JSONValue`: the same values
    /// JSONSerialization read, and JSON text it reads back to them.
    func testJSONValuesReadAndWriteAsJSONSerialization() throws {
        let documents = [
            #"{"MESSAGE":"soft lockup","PRIORITY":"4","__REALTIME_TIMESTAMP":"1489557828180000","_HOSTNAME":"h"}"#,
            #"{"MESSAGE":[104,105,255],"n":null,"t":true,"f":false}"#,
            #"{"timestamp":{"seconds":1489557828,"microseconds":180000},"event":"STOP","data":{"reason":"guest-panic","guest":true,"x":1.5,"path":"/dev/sda","nested":{"b":[1,2.25,"\u0001\b\f\t"],"a":{}}}}"#,
            #"{"big":18446744073709551615,"neg":-5,"exp":1e20,"small":1e-7,"uni":"日本\u00e9\ud83d\ude00","quote":"a\"b\\c"}"#,
            #"[1,2,3]"#, #""fragment""#, #"{"a":1"#, "", "not json",
        ]
        for text in documents {
            let bytes = Array(text.utf8)
            let mine = JSONValue.parse(bytes)
            let theirs = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            XCTAssertEqual(mine == nil, theirs == nil, "only one of them read \(text)")
            guard let mine else { continue }
            // What was written reads back, through Foundation, to what Foundation read first.
            for written in [mine.compactText, mine.prettyText] {
                let again = try JSONSerialization.jsonObject(with: Data(written.utf8), options: [.fragmentsAllowed])
                XCTAssertEqual(try Self.canonical(again), try Self.canonical(theirs!), "\(text) written as \(written)")
            }
        }
        let object = try XCTUnwrap(JSONValue.object(Array(documents[2].utf8)))
        XCTAssertEqual(object["timestamp"]?.object?["seconds"], .integer(1_489_557_828))
        XCTAssertEqual(object["timestamp"]?.object?["microseconds"]?.double, 180_000)
        XCTAssertEqual(QMPEvent.flatten(object["data"]), ["reason": "guest-panic", "guest": "true", "x": "1.5", "path": "/dev/sda",
                                                          "nested": #"{"a":{},"b":[1,2.25,"\u0001\b\f\t"]}"#])
        XCTAssertEqual(JSONValue.object(Array(documents[1].utf8))?["MESSAGE"]?.array?.count, 3)
    }

    /// A value as sorted JSON through Foundation, to compare two readings.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// `tar` through posix_spawn: its output when it exits 0, nil when it
    /// fails or cannot start.
    func testChildProcessGivesOutputOnlyOnSuccess() {
        XCTAssertEqual(ChildProcess.output(["sh", "-c", "printf 'a\\nb'; echo err >&2"]).map { String(decoding: $0, as: UTF8.self) }, "a\nb")
        XCTAssertNil(ChildProcess.output(["sh", "-c", "echo partial; exit 3"]))
        XCTAssertNil(ChildProcess.output(["no-such-tool-\(getpid())"]))
        XCTAssertEqual(ChildProcess.output(["head", "-c", "200000", "/dev/zero"])?.count, 200_000, "more than a pipe holds")
    }

    /// Zone names are ICU's, loaded on first use; offsets and UTC are not.
    func testZonesByNameAndOffset() throws {
        XCTAssertEqual(WallClock.zone("UTC")?.secondsFromGMT(), 0)
        XCTAssertEqual(WallClock.zone("+08:00")?.secondsFromGMT(), 8 * 3600)
        XCTAssertEqual(WallClock.zone("-0530")?.secondsFromGMT(), -(5 * 3600 + 30 * 60))
        let berlin = try XCTUnwrap(WallClock.zone("Europe/Berlin"))
        XCTAssertEqual(berlin.secondsFromGMT(for: Date(timeIntervalSince1970: 1_780_000_000)), 7200, "summer")
        XCTAssertEqual(berlin.secondsFromGMT(for: Date(timeIntervalSince1970: 1_765_000_000)), 3600, "winter")
        XCTAssertNil(WallClock.zone("Nowhere/City"))
        XCTAssertEqual(WallClock.namedZonesProblem, "")
    }
}

