import Foundation
import LockscanKit
import PluginHost
import XCTest

/// corpora/cpu-truth.tsv (the CPU each real report names, read by hand)
/// must hold however the capture reaches lockscan: each capture has its own
/// prefixes peeled off and is re-rendered under every prefix variant of
/// docs/input-formats.md (dmesg, journal, syslog, kmsg, console server,
/// ticket line numbers, mail quotes, CRLF), and every row is checked again.
final class CPUTruthVariantTests: XCTestCase {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpora")

    struct Row {
        var file: String
        var line: Int
        var kind: String
        var cpu: Int?
    }

    static func rows() throws -> [Row] {
        let text = try String(contentsOf: corpora.appendingPathComponent("cpu-truth.tsv"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, let n = Int(f[1]) else { return nil }
            return Row(file: f[0], line: n, kind: f[2], cpu: f[3] == "-" ? nil : Int(f[3]))
        }
    }

    /// The capture's messages, one per line, prefixes peeled (bytes split
    /// on LF: serial captures end lines in CRLF).
    static func messages(_ file: String) throws -> [String] {
        let data = try Data(contentsOf: corpora.appendingPathComponent(file))
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { bytes in
            var b = bytes
            if b.last == 0x0D { b.removeLast() }
            return String(decoding: b[LinePrefix.parse(b).messageStart...], as: UTF8.self)
        }
    }

    func testEveryReportKeepsItsCPUUnderEveryPrefix() throws {
        let rows = try Self.rows()
        XCTAssertGreaterThan(rows.count, 50)
        let engine = ScanEngine(analyzers: BuiltinAnalyzers.all)
        var checked = 0
        var wrong: [String] = []
        for (file, fileRows) in Dictionary(grouping: rows, by: \.file).sorted(by: { $0.key < $1.key }) {
            let lines = try Self.messages(file)
            for variant in PrefixVariant.all {
                let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("truth-\(getpid())-\(checked).log")
                try Data(variant.render(lines).utf8).write(to: tmp)
                defer { try? FileManager.default.removeItem(at: tmp) }
                var events: [Event] = []
                _ = engine.scan(.path(tmp.path)) { events.append($0) }
                for row in fileRows {
                    checked += 1
                    let covering = events.filter { $0.kind == row.kind && $0.source.line <= row.line && row.line <= $0.source.endLine }
                    guard let e = covering.first(where: { $0.source.line == row.line }) ?? covering.max(by: { $0.source.line < $1.source.line }) else {
                        wrong.append("\(file):\(row.line) [\(variant.name)]: no \(row.kind) event")
                        continue
                    }
                    if e.cpu != row.cpu {
                        wrong.append("\(file):\(row.line) [\(variant.name)]: cpu \(e.cpu.map(String.init) ?? "-"), the capture says \(row.cpu.map(String.init) ?? "-")")
                    }
                }
            }
        }
        XCTAssertEqual(wrong, [], "\(wrong.count) of \(checked) report checks wrong:\n" + wrong.prefix(40).joined(separator: "\n"))
    }
}
