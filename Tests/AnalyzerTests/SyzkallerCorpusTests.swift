import Foundation
import LockscanKit
import PluginHost
import XCTest

/// Scores lockscan against the titles syzkaller's report parser gives the
/// lockup/stall/hang subset of its corpus (../shared/corpora/syzkaller-linux-report,
/// read in place, never copied). Skips when ../shared is not beside the repo.
final class SyzkallerCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/corpora/syzkaller-linux-report")

    static let lockupKinds: Set<String> = ["hard_lockup", "soft_lockup", "rcu_stall", "hung_task", "rt_throttling",
                                           "rq_lock_deadlock", "workqueue_lockup", "spinlock_lockup"]
    static let expectedKind = ["soft-lockup": "soft_lockup", "rcu-stall": "rcu_stall", "rcu-stall-secondary": "rcu_stall",
                               "task-hung": "hung_task", "spinlock-lockup": "spinlock_lockup",
                               "workqueue-lockup": "workqueue_lockup"]

    struct Row {
        var file: String
        var category: String
        var title: String
        var corrupted: Bool
        var alts: [String] = []
    }

    func testScoreAgainstSyzkallerTitles() throws {
        let index = Self.corpus.appendingPathComponent("INDEX.tsv")
        guard let tsv = try? String(contentsOf: index, encoding: .utf8) else {
            throw XCTSkip("../shared/corpora/syzkaller-linux-report is not present")
        }
        var rows: [Row] = []
        for line in tsv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5 else { continue }
            rows.append(Row(file: f[0], category: f[1], title: f[2], corrupted: f[4] == "Y"))
        }
        XCTAssertGreaterThan(rows.count, 100)

        struct Tally { var n = 0, kindOK = 0, titleN = 0, titleOK = 0, falsePositives = 0 }
        var tallies: [String: Tally] = [:]
        var misses: [String] = []
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all)
        for var row in rows {
            let (body, alts) = try Self.body(of: row.file)
            row.alts = alts
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("syz-\(row.file)-\(getpid()).log")
            try body.write(to: tmp)
            defer { try? FileManager.default.removeItem(at: tmp) }
            var events: [Event] = []
            _ = engine.scan(.path(tmp.path)) { events.append($0) }
            events.sort { ($0.source.line, $0.source.byteOffset) < ($1.source.line, $1.source.byteOffset) }
            let lockups = events.filter { Self.lockupKinds.contains($0.kind) }
            let first = lockups.first
            var t = tallies[row.category, default: Tally()]
            t.n += 1
            if let expected = Self.expectedKind[row.category] {
                let ok = row.category == "rcu-stall-secondary" ? lockups.contains { $0.kind == "rcu_stall" } : first?.kind == expected
                if ok { t.kindOK += 1 } else { misses.append("\(row.file) \(row.category): kind \(first?.kind ?? "none")") }
                if !row.corrupted && row.category != "rcu-stall-secondary" {
                    t.titleN += 1
                    // Lenient: the FUNC after " in " matches TITLE's or an ALT's; titles without
                    // a FUNC ("BUG: workqueue lockup") must match whole.
                    let wanted = Set(([row.title] + row.alts).map { Self.function($0) ?? $0 })
                    if let got = first.map({ Self.function($0.title) ?? $0.title }), wanted.contains(got) {
                        t.titleOK += 1
                    } else {
                        misses.append("\(row.file) \(row.category): title '\(first?.title ?? "-")', expected '\(row.title)'")
                    }
                }
            } else if row.category == "task-cant-die" {
                // Related, not ours: it must at least not be called a soft lockup or a hung task.
                if let k = first?.kind, k == "soft_lockup" || k == "hung_task" {
                    misses.append("\(row.file) \(row.category): mislabelled \(k)")
                } else {
                    t.kindOK += 1
                }
            } else if first != nil {
                t.falsePositives += 1
                misses.append("\(row.file) \(row.category): false positive \(first!.kind) '\(first!.title)'")
            }
            tallies[row.category] = t
        }

        var report = "syzkaller corpus, per category (kind ok / n, lenient title ok / non-corrupted, false positives):\n"
        for (cat, t) in tallies.sorted(by: { $0.key < $1.key }) {
            report += "  \(cat): kind \(t.kindOK)/\(t.n), title \(t.titleOK)/\(t.titleN), fp \(t.falsePositives)\n"
        }
        let positives = tallies.filter { Self.expectedKind[$0.key] != nil || $0.key == "task-cant-die" }.values
        let kindOK = positives.map(\.kindOK).reduce(0, +), n = positives.map(\.n).reduce(0, +)
        let titleOK = positives.map(\.titleOK).reduce(0, +), titleN = positives.map(\.titleN).reduce(0, +)
        let fps = tallies.values.map(\.falsePositives).reduce(0, +)
        report += String(format: "  total: kind %d/%d (%.1f%%), lenient title %d/%d (%.1f%%), false positives %d\n",
                         kindOK, n, 100.0 * Double(kindOK) / Double(n), titleOK, titleN, 100.0 * Double(titleOK) / Double(titleN), fps)
        report += misses.map { "  miss: " + $0 }.joined(separator: "\n")
        print(report)

        XCTAssertGreaterThanOrEqual(Double(kindOK) / Double(n), 0.99, report)
        XCTAssertEqual(fps, 0, report)
        XCTAssertGreaterThanOrEqual(Double(titleOK) / Double(titleN), 0.95, report)
    }

    /// The log part of a corpus file: after the header block, before a `REPORT:` section.
    static func body(of file: String) throws -> (Data, [String]) {
        let data = try Data(contentsOf: corpus.appendingPathComponent(file))
        let bytes = [UInt8](data)
        var i = 0
        while i + 1 < bytes.count, !(bytes[i] == 0x0A && bytes[i + 1] == 0x0A) { i += 1 }
        let header = String(decoding: bytes[..<min(i, bytes.count)], as: UTF8.self)
        let alts = header.split(separator: "\n").filter { $0.hasPrefix("ALT: ") }.map { String($0.dropFirst(5)) }
        var body = Array(bytes[min(i + 2, bytes.count)...])
        if let r = findReport(body) { body = Array(body[..<r]) }
        return (Data(body), alts)
    }

    static func findReport(_ b: [UInt8]) -> Int? {
        let marker = Array("\n\nREPORT:\n".utf8)
        guard b.count >= marker.count else { return nil }
        for i in 0...(b.count - marker.count) where Array(b[i..<(i + marker.count)]) == marker { return i + 1 }
        return nil
    }

    /// FUNC of "TITLE in FUNC".
    static func function(_ title: String) -> String? {
        guard let r = title.range(of: " in ", options: .backwards) else { return nil }
        return String(title[r.upperBound...])
    }
}
