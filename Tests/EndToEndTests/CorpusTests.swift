import Foundation
import XCTest

/// Every capture in corpora/ has `NAME.expected.json`, the exact
/// `lockscan scan --json` output; set LOCKSCAN_UPDATE_EXPECTATIONS=1 (or run
/// scripts/corpus-update) to rewrite them for review.
final class CorpusTests: XCTestCase {
    static func captures() throws -> [String] {
        let root = CLI.packageRoot.appendingPathComponent("corpora")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        for case let rel as String in walker {
            let name = (rel as NSString).lastPathComponent
            // fuzz-regressions/: inputs that crashed a fuzz target, checked by FuzzRegressionTests, not captures
            if rel.hasPrefix("generate/") || rel.hasPrefix("fuzz-regressions/") || name.hasSuffix(".expected.json") || name.hasSuffix(".md") || name.hasSuffix(".tsv") || name.hasPrefix(".") { continue }
            // corpora/generated/: scenario.json and expected-symbolization.txt are expectations, modules/ holds .ko debug files
            if rel.hasPrefix("generated/modules/") || (rel.hasPrefix("generated/") && (name == "scenario.json" || name == "expected-symbolization.txt")) { continue }
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root.appendingPathComponent(rel).path, isDirectory: &isDir)
            if !isDir.boolValue { out.append("corpora/" + rel) }
        }
        return out.sorted()
    }

    func testEveryCaptureMatchesItsExpectedOutput() throws {
        let files = try Self.captures()
        XCTAssertGreaterThanOrEqual(files.count, 10, "corpora/ lost its captures")
        let update = ProcessInfo.processInfo.environment["LOCKSCAN_UPDATE_EXPECTATIONS"] == "1"
        for file in files {
            let result = try CLI.run(["scan", "--json", file])
            XCTAssertNotEqual(result.status, 2, "\(file): \(result.stderr)")
            let expectedURL = CLI.packageRoot.appendingPathComponent(file + ".expected.json")
            if update {
                try Data(result.stdout.utf8).write(to: expectedURL)
                continue
            }
            guard let expected = try? String(contentsOf: expectedURL, encoding: .utf8) else {
                XCTFail("\(file) has no \(file).expected.json (run scripts/corpus-update and review it)")
                continue
            }
            if result.stdout != expected {
                XCTFail("\(file): output differs from \(file).expected.json\n" + firstDifference(result.stdout, expected))
            }
        }
    }

    /// The three incidents this project was started for must keep their findings.
    func testIncidentFindings() throws {
        var r = try CLI.run(["scan", "--json", "corpora/incidents/centos7-hard-lockup-tg_unthrottle_up.log"])
        var e = try CLI.events(r.stdout)
        XCTAssertEqual(e.first?["kind"] as? String, "hard_lockup")
        XCTAssertEqual(e.first?["title"] as? String, "hard LOCKUP in tg_unthrottle_up")
        XCTAssertEqual(e.first?["cpu"] as? Int, 50)
        XCTAssertEqual((e.first?["time"] as? [String: Any])?["monotonic"] as? Double, 4474426.2497)

        r = try CLI.run(["scan", "--json", "corpora/incidents/guest-tsc-unstable-ixgbe-vf-reload.log"])
        e = try CLI.events(r.stdout)
        XCTAssertEqual(e.map { $0["kind"] as? String }, ["clocksource_unstable"])
        XCTAssertEqual((e.first?["details"] as? [String: String])?["deltaNs"], "6824818792")

        r = try CLI.run(["scan", "--json", "corpora/incidents/serial-rt-throttling-before-watchdog-reset.log"])
        e = try CLI.events(r.stdout)
        XCTAssertEqual(e.map { $0["kind"] as? String }, ["rt_throttling"])
        let explanation = try XCTUnwrap(e.first?["explanation"] as? String)
        XCTAssertTrue(explanation.contains("once per boot"))
        XCTAssertTrue(explanation.contains("sched_rt_runtime_us"))
        XCTAssertEqual(r.status, 1, "a warning-level event makes the default --fail-on exit 1")
    }

    func firstDifference(_ a: String, _ b: String) -> String {
        let la = a.components(separatedBy: "\n"), lb = b.components(separatedBy: "\n")
        for i in 0..<max(la.count, lb.count) {
            let x = i < la.count ? la[i] : "<end>", y = i < lb.count ? lb[i] : "<end>"
            if x != y { return "line \(i + 1):\n  got:      \(x)\n  expected: \(y)" }
        }
        return ""
    }
}
