import Foundation
@testable import LockscanInput
import XCTest

/// PairFrequencies.swift is generated from corpora/public by
/// scripts/gen-pair-frequencies. This recounts the corpora the same way
/// (files in sorted order, concatenated as they are; pairs by count, ties by
/// value) so a corpus change that moves the ranking fails here instead of
/// leaving the prefilter tuned to logs the repository no longer has.
final class PairFrequenciesTests: XCTestCase {
    func testCommittedTableMatchesCorpora() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("corpora/public")
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".log") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertFalse(logs.isEmpty, "no logs in \(dir.path)")
        var data: [UInt8] = []
        for name in logs { data += try Data(contentsOf: dir.appendingPathComponent(name)) }

        var counts = [Int](repeating: 0, count: 65536)
        for i in 0..<max(0, data.count - 1) { counts[Int(data[i]) << 8 | Int(data[i + 1])] += 1 }
        let committed = PairFrequencies.commonest.split(whereSeparator: \.isWhitespace).map { UInt16($0, radix: 16)! }
        let ranked = (0..<65536).filter { counts[$0] > 0 }
            .sorted { (counts[$0], -$0) > (counts[$1], -$1) }.prefix(committed.count).map { UInt16($0) }

        XCTAssertGreaterThan(committed.count, 0)
        // ranked has fewer entries only when the corpora hold fewer distinct pairs.
        let hex = { (k: [UInt16], i: Int) in i < k.count ? String(k[i], radix: 16) : "nothing" }
        if let rank = (0..<committed.count).first(where: { $0 >= ranked.count || committed[$0] != ranked[$0] }) {
            XCTFail("PairFrequencies.swift is stale for corpora/public: at rank \(rank) it lists \(hex(committed, rank)), "
                    + "the corpora give \(hex(ranked, rank)); run scripts/gen-pair-frequencies")
        }
    }

    /// The search ranks pairs from a table it reads out of the same text
    /// by hand: every listed pair has its rank there, commonest highest,
    /// and no other pair has one.
    func testRankTableHoldsEveryListedPair() {
        let committed = PairFrequencies.commonest.split(whereSeparator: \.isWhitespace).map { Int($0, radix: 16)! }
        let rank = TriggerSearch.commonness
        XCTAssertEqual(rank.count, 65536)
        for (i, pair) in committed.enumerated() {
            XCTAssertEqual(Int(rank[pair]), committed.count - i, "pair \(String(pair, radix: 16)) at \(i)")
        }
        XCTAssertEqual(rank.filter { $0 != 0 }.count, committed.count)
    }
}
