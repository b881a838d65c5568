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
