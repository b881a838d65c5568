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
}
