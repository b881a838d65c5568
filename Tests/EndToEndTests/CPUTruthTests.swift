import Foundation
import XCTest

/// The CPU a report is about is the first thing an engineer acts on ("which
/// CPU, which task"), and the easiest to get wrong on real captures: a later
/// header merged into an earlier event, the grace-period kthread's CPU taken
/// for a stalled one, a reporter taken for the stuck CPU. corpora/cpu-truth.tsv
/// records, per report header, the CPU the capture itself names.
final class CPUTruthTests: XCTestCase {
    struct Row {
        var file: String
        var line: Int
        var kind: String
        /// nil: the report names no CPU of its own.
        var cpu: Int?
        var note: String
    }

    static func rows() throws -> [Row] {
        let url = CLI.packageRoot.appendingPathComponent("corpora/cpu-truth.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let n = Int(f[1]) else { return nil }
            return Row(file: "corpora/" + f[0], line: n, kind: f[2], cpu: f[3] == "-" ? nil : Int(f[3]), note: f[4])
        }
    }

    struct Found {
        var line: Int
        var endLine: Int
        var kind: String
        var cpu: Int?
        var title: String
    }

    func testEventsNameTheCPUTheCaptureNames() throws {
        let rows = try Self.rows()
        XCTAssertGreaterThanOrEqual(rows.count, 50, "corpora/cpu-truth.tsv lost rows")
        var right = 0
        var wrong: [String] = []
        var merged: [String] = []
        for (file, fileRows) in Dictionary(grouping: rows, by: \.file).sorted(by: { $0.key < $1.key }) {
            let result = try CLI.run(["scan", "--json", file])
            XCTAssertNotEqual(result.status, 2, "\(file): \(result.stderr)")
            let events = try CLI.events(result.stdout).compactMap { e -> Found? in
                guard let s = e["source"] as? [String: Any], let l = s["line"] as? Int, let end = s["endLine"] as? Int,
                      let k = e["kind"] as? String else { return nil }
                return Found(line: l, endLine: end, kind: k, cpu: e["cpu"] as? Int, title: e["title"] as? String ?? "")
            }
            var claimedBy: [Int: Row] = [:]
            for row in fileRows {
                // The event this header starts, else the one of its kind whose lines cover it.
                let candidates = events.enumerated().filter { $0.element.kind == row.kind && $0.element.line <= row.line && row.line <= $0.element.endLine }
                guard let (index, event) = candidates.first(where: { $0.element.line == row.line }) ?? candidates.max(by: { $0.element.line < $1.element.line }) else {
                    wrong.append("\(file):\(row.line) \(row.kind) cpu \(row.cpu.map(String.init) ?? "-"): no such event (\(row.note))")
                    continue
                }
                if let other = claimedBy[index], other.cpu != row.cpu {
                    merged.append("\(file): lines \(other.line) (cpu \(other.cpu.map(String.init) ?? "-")) and \(row.line) (cpu \(row.cpu.map(String.init) ?? "-")) are one event '\(event.title)'")
                }
                claimedBy[index] = row
                if event.cpu == row.cpu {
                    right += 1
                } else {
                    wrong.append("\(file):\(row.line) \(row.kind): cpu \(event.cpu.map(String.init) ?? "-"), the capture says \(row.cpu.map(String.init) ?? "none") (\(row.note))")
                }
            }
        }
        let share = Double(right) / Double(rows.count)
        let report = String(format: "CPU right for %d of %d reports (%.1f%%)\n", right, rows.count, 100 * share)
            + (wrong + merged).map { "  " + $0 }.joined(separator: "\n")
        print(report)
        XCTAssertEqual(merged, [], report)
        XCTAssertGreaterThanOrEqual(share, 0.95, report)
    }
}
