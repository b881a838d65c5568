@testable import LockscanKit
import LockscanInput
import XCTest

/// The join finds, for each report, the earlier reports close to it without
/// comparing every pair; these tests hold it to what comparing every pair
/// finds, on clocks that jump back (a reboot), logs without clocks, and
/// both mixed.
final class IncidentJoinTests: XCTestCase {
    /// Knuth's MMIX linear congruential generator: deterministic, so a failure replays.
    struct Sequence: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    func report(line: Int, seconds: Double?, cpu: Int) -> Event {
        var clock = Clock()
        clock.monotonic = seconds
        return Event(analyzer: "soft-lockup", kind: "soft_lockup", title: "BUG: soft lockup", severity: .error,
                     source: SourceLocation(file: "console.log", line: line, endLine: line, byteOffset: line * 80),
                     time: clock, cpu: cpu)
    }

    func testCloseReportsAreThoseEveryPairComparisonFinds() {
        var rng = Sequence(state: 15)
        for round in 0..<200 {
            var line = 1
            var seconds = Double(Int.random(in: 0...1000, using: &rng))
            var views: [IncidentJoin.View] = []
            for _ in 0..<Int.random(in: 1...120, using: &rng) {
                line += Int.random(in: 0...900, using: &rng)
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: seconds = Double(Int.random(in: 0...200, using: &rng))  // a reboot: the clock starts again
                case 1: break  // the same second
                default: seconds += Double(Int.random(in: 0...45, using: &rng)) + 0.5
                }
                let clocked = round % 3 == 0 || Int.random(in: 0..<6, using: &rng) > 0
                views.append(.init(report(line: line, seconds: clocked ? seconds : nil, cpu: Int.random(in: 0..<4, using: &rng))))
            }
            let pairs = IncidentJoin.ClosePairs(views)
            for j in views.indices {
                let everyPair = (0..<j).filter { IncidentJoin.close(views[$0], views[j]) }
                XCTAssertEqual(pairs.earlier(than: j), everyPair, "round \(round), report \(j)")
            }
        }
    }

    /// A CPU stuck for days repeats its soft lockup every ~28 s: every
    /// report joins the one before, and each is told once, in order.
    func testAStormOfOneCPUIsOneIncidentLinkedReportByReport() {
        var candidates = IncidentJoin.Candidates(roles: EventRoles([SoftLockupLikeDescriptor.descriptor]))
        // Reports reach the join as they close, not in line order.
        for i in (0..<3000).reversed() { candidates.add(report(line: 1 + 40 * i, seconds: 100 + 28 * Double(i), cpu: 5)) }
        let incidents = candidates.incidents(firstID: 1)
        XCTAssertEqual(incidents.count, 1)
        XCTAssertEqual(incidents.first?.members.map(\.line), (0..<3000).map { 1 + 40 * $0 })
        XCTAssertEqual(incidents.first?.why.count, 2999)
        XCTAssertEqual(incidents.first?.why.first, "CPU 5 is stuck in both reports (lines 1 and 41, 28.00 s apart)")
    }
}

/// An analyzer descriptor that declares soft lockups reports of a stuck CPU,
/// as the soft-lockup analyzer does (its module is not a dependency here).
enum SoftLockupLikeDescriptor {
    static let descriptor = AnalyzerDescriptor(id: "soft-lockup", title: "soft lockups", explanation: "", eventKinds: ["soft_lockup"],
                                               roles: ["soft_lockup": .lockup], triggers: ["soft lockup"], examples: [],
                                               make: { fatalError("never made: the join reads only the roles") })
}
