import LockscanKit
import XCTest

/// The one-pass prefilter must find exactly what a naive search finds:
/// a miss here would silently drop a lockup from a scan.
final class TriggerSearchTests: XCTestCase {
    func naiveFirst(_ hay: [UInt8], _ needles: [[UInt8]], from: Int) -> Int? {
        var best: Int?
        for n in needles where !n.isEmpty && n.count <= hay.count - from {
            for i in from...(hay.count - n.count) where Array(hay[i..<(i + n.count)]) == n {
                best = min(best ?? i, i)
                break
            }
        }
        return best
    }

    func testAgreesWithNaiveSearchOnRandomText() {
        let needles = ["hard LOCKUP", "Call Trace", " Comm: ", "unstable", "double_rq_lock", "x", "RT throttling"].map { Array($0.utf8) }
        let search = TriggerSearch(needles)
        var rng = SystemRandomNumberGenerator()
        let pieces = ["hard ", "LOCK", "UP", "Call", " Trace", " Comm", ": ", "un", "stable", "double_", "rq_lock", "RT ",
                      "throttling", "\n", "abc", " ", "[ 12.000000] "].map { Array($0.utf8) }
        for round in 0..<2000 {
            var hay: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &rng) { hay += pieces.randomElement(using: &rng)! }
            let useX = round % 3 == 0
            let set = useX ? needles : needles.filter { $0 != [UInt8(ascii: "x")] }
            let s = useX ? search : TriggerSearch(set)
            let from = hay.isEmpty ? 0 : Int.random(in: 0..<hay.count, using: &rng)
            let got = hay.withUnsafeBytes { s.firstHit($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, from: from, to: hay.count) }
            XCTAssertEqual(got, naiveFirst(hay, set, from: from), String(decoding: hay, as: UTF8.self))
        }
    }

    /// Hundreds of triggers: their pairs collide in the search's pair table
    /// and share lists, and every one is still found where it is.
    func testManyTriggersWithCollidingPairsAgreeWithNaiveSearch() {
        var draw = Draw(state: 0xD1B5_4A32_D192_ED03)
        let alphabet = Array("abcdefgh _:".utf8)
        var needles: [[UInt8]] = []
        while needles.count < 400 {
            let n = (0..<(2 + draw.below(5))).map { _ in alphabet[draw.below(alphabet.count)] }
            if !needles.contains(n) { needles.append(n) }
        }
        let search = TriggerSearch(needles)
        for _ in 0..<150 {
            let hay = (0..<draw.below(120)).map { _ in alphabet[draw.below(alphabet.count)] }
            let from = hay.isEmpty ? 0 : draw.below(hay.count)
            let got = hay.withUnsafeBytes { search.firstHit($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, from: from, to: hay.count) }
            XCTAssertEqual(got, naiveFirst(hay, needles, from: from), String(decoding: hay, as: UTF8.self))
            var seen = Set<Int>()
            hay.withUnsafeBytes { b in
                guard let base = b.baseAddress else { return }
                search.forEachMatch(base, from: 0, to: hay.count) { seen.insert($0) }
            }
            let present = Set(needles.indices.filter { i in hay.count >= needles[i].count
                && (0...(hay.count - needles[i].count)).contains { hay[$0..<($0 + needles[i].count)].elementsEqual(needles[i]) } })
            XCTAssertEqual(seen, present)
        }
    }

    /// The engine routes a record to every analyzer whose trigger it holds
    /// from one `forEachMatch` pass: a trigger missed there is a line an
    /// analyzer never sees, one reported that is not there a line it sees
    /// by mistake.
    func testForEachMatchReportsExactlyTheTriggersPresent() {
        let needles = ["hard LOCKUP", "LOCKUP", "Call Trace", " Comm: ", "unstable", "stable", "x", "RT throttling"].map { Array($0.utf8) }
        let pieces = ["hard ", "LOCK", "UP", "Call", " Trace", " Comm", ": ", "un", "stable", "RT ", "throttling", "x", "abc", " "]
            .map { Array($0.utf8) }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            let set = round % 3 == 0 ? needles : needles.filter { $0 != [UInt8(ascii: "x")] }
            let search = TriggerSearch(set)
            var hay: [UInt8] = []
            for _ in 0..<Int.random(in: 0...30, using: &rng) { hay += pieces.randomElement(using: &rng)! }
            var got = Set<Int>()
            hay.withUnsafeBytes { buf in
                guard let base = buf.baseAddress else { return }
                search.forEachMatch(base, from: 0, to: hay.count) { got.insert($0) }
            }
            let want = Set(set.indices.filter { i in
                set[i].count <= hay.count && (0...(hay.count - set[i].count)).contains { Array(hay[$0..<($0 + set[i].count)]) == set[i] }
            })
            XCTAssertEqual(got, want, String(decoding: hay, as: UTF8.self))
        }
    }
}

/// Each SIMD level of the pair scan (SSSE3 16 bytes a step, AVX2 32) must
/// answer as the scalar loop does, at every position around its vector
/// boundaries: a pair the prefilter skips is a trigger a scan never sees.
final class PairScanLevelTests: XCTestCase {
    /// Pair bits and nibble tables for `pairs`, built by TriggerSearch.
    static func tables(_ needles: [[UInt8]]) -> (bits: [UInt8], teddy: [UInt8]) {
        TriggerSearch(needles).prefilterTables
    }

    func testEveryLevelFindsWhatTheScalarLoopFinds() {
        let needles = ["LOCKUP", "Call Trace", "rq_lock", "stall", "Comm:"].map { Array($0.utf8) }
        let (bits, teddy) = Self.tables(needles)
        let best = Int(TriggerSearch.simdLevel)
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz [].:0123456789LOCKUPCallTrq_".utf8)
        for round in 0..<3000 {
            let count = round < 200 ? round : Int.random(in: 0...300, using: &rng)
            var hay = (0..<count).map { _ in alphabet.randomElement(using: &rng)! }
            if count > 10, round % 2 == 0 {
                let needle = needles.randomElement(using: &rng)!
                let at = Int.random(in: 0...(count - min(count, needle.count)), using: &rng)
                for (k, b) in needle.enumerated() where at + k < count { hay[at + k] = b }
            }
            let scalar = TriggerSearch.pairScan(hay, bits: bits, teddy: teddy, level: 0)
            for level in 1...max(1, best) {
                XCTAssertEqual(TriggerSearch.pairScan(hay, bits: bits, teddy: teddy, level: Int32(level)), scalar,
                               "level \(level), \(count) bytes: \(String(decoding: hay, as: UTF8.self))")
            }
        }
    }

    /// One pair at every position of a 200-byte run of bytes in no pair.
    func testOnePairAtEveryPosition() {
        let (bits, teddy) = Self.tables([Array("kq".utf8)])
        for at in 0..<199 {
            var hay = [UInt8](repeating: UInt8(ascii: "a"), count: 200)
            hay[at] = UInt8(ascii: "k")
            hay[at + 1] = UInt8(ascii: "q")
            for level in 0...max(1, Int(TriggerSearch.simdLevel)) {
                XCTAssertEqual(TriggerSearch.pairScan(hay, bits: bits, teddy: teddy, level: Int32(level)), at, "level \(level)")
            }
        }
    }

    /// The CPUs these tests run on (x86-64 servers since 2013) have AVX2:
    /// if the level found drops, the fast loop is no longer what runs.
    func testThisMachineRunsTheWidestLoop() throws {
        #if arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        try XCTSkipUnless(flags.contains(" avx2"), "this CPU has no AVX2")
        XCTAssertEqual(TriggerSearch.simdLevel, 2)
        #endif
    }
}

import CByteSearch

/// Where the engine's waiting fast path stops: the end of the k-th newline
/// (`lockscan_after_nth_byte`), against a plain walk, across its block,
/// word and byte loops.
final class AfterNthByteTests: XCTestCase {
    func testEndsWhereAPlainWalkEnds() {
        var rng = IncidentJoinTests.Sequence(state: 0x2545_F491_4F6C_DD1D)
        for round in 0..<3000 {
            let n = round < 1000 ? round : Int(rng.next() % 4000)
            let density = [2, 7, 40, 300][round % 4]
            let hay = (0..<n).map { _ in rng.next() % UInt64(density) == 0 ? UInt8(0x0A) : UInt8(ascii: "x") }
            let total = hay.filter { $0 == 0x0A }.count
            for k in Set([0, 1, 2, total / 2, max(0, total - 1), total, total + 1, Int(rng.next() % UInt64(total + 2))]) {
                var expectedEnd = n, expectedFound = total, seen = 0
                if k == 0 { expectedEnd = 0; expectedFound = 0 } else {
                    for (i, b) in hay.enumerated() where b == 0x0A {
                        seen += 1
                        if seen == k { expectedEnd = i + 1; expectedFound = k; break }
                    }
                }
                var found = -1
                let end = hay.withUnsafeBufferPointer { lockscan_after_nth_byte($0.baseAddress, n, 0x0A, k, &found) }
                XCTAssertEqual(end, expectedEnd, "n \(n), k \(k), density \(density)")
                XCTAssertEqual(found, expectedFound, "n \(n), k \(k), density \(density)")
            }
        }
    }

    /// The newline count and the ASCII check every chunk of every scan
    /// passes through, 32 bytes a step where the CPU has AVX2: against a
    /// plain count, at the step's and the 255-step block's edges, with
    /// every byte a match (where 8-bit lanes would wrap) and one non-ASCII
    /// byte anywhere.
    func testNewlineCountAndASCIICheck() {
        var rng = IncidentJoinTests.Sequence(state: 0x9E37_79B9_7F4A_7C15)
        let sizes = [0, 1, 31, 32, 33, 63, 64, 65, 100, 255 * 32 - 1, 255 * 32, 255 * 32 + 1, 255 * 32 * 2 + 17, 20_000]
        for n in sizes {
            for fill in ["all newlines", "random", "none"] {
                var hay = (0..<n).map { _ -> UInt8 in
                    switch fill {
                    case "all newlines": return 0x0A
                    case "random": return rng.next() % 5 == 0 ? 0x0A : UInt8(0x20 + rng.next() % 90)
                    default: return UInt8(ascii: "x")
                    }
                }
                let expected = hay.filter { $0 == 0x0A }.count
                XCTAssertEqual(hay.withUnsafeBufferPointer { lockscan_count_byte($0.baseAddress, n, 0x0A) }, expected, "\(fill), \(n)")
                var ascii: Int32 = -1
                XCTAssertEqual(hay.withUnsafeBufferPointer { lockscan_count_lines_ascii($0.baseAddress, n, &ascii) }, expected, "\(fill), \(n)")
                XCTAssertEqual(ascii, 1, "\(fill), \(n)")
                for at in Set([0, n / 2, n - 1, max(0, n - 33)]) where at >= 0 && at < n {
                    let kept = hay[at]
                    hay[at] = 0xC3
                    XCTAssertEqual(hay.withUnsafeBufferPointer { lockscan_count_lines_ascii($0.baseAddress, n, &ascii) },
                                   expected - (kept == 0x0A ? 1 : 0), "\(fill), \(n), byte at \(at)")
                    XCTAssertEqual(ascii, 0, "\(fill), \(n): the non-ASCII byte at \(at) was missed")
                    hay[at] = kept
                }
            }
        }
    }
}
