import Foundation
import XCTest

/// The caps that keep a report's collection bounded never drop data without
/// a word: what they leave out is a diagnostic (file and line) in every
/// output format, and the exit status says the input was not read whole.
final class CollectionCapTests: XCTestCase {
    /// A soft lockup whose stack runs on past the 1000-line dump cap (a
    /// runaway recursion): the event is reported and the cut is a diagnostic.
    func testADumpCutAtTheCapIsADiagnostic() throws {
        var lines = ["watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [kworker/3:1:99]",
                     "CPU: 3 PID: 99 Comm: kworker/3:1 Not tainted 6.1.0 #1", "Call Trace:", " <TASK>"]
        for i in 0..<1200 { lines.append(" recurse_\(i % 7)+0x\(String(16 + i % 200, radix: 16))/0x200") }
        lines += [" process_one_work+0x1c4/0x380", " worker_thread+0x4d/0x380", " </TASK>"]
        let file = try CLI.tempFile("cap-dump.log", Data((lines.joined(separator: "\n") + "\n").utf8))
        let r = try CLI.run(["scan", "--json", file])
        XCTAssertEqual(r.status, 2, r.stderr)
        let doc = try CLI.json(r.stdout)
        let events = try CLI.events(r.stdout)
        XCTAssertEqual(events.first?["kind"] as? String, "soft_lockup")
        XCTAssertNotNil((events.first?["details"] as? [String: String])?["capped"])
        let inputs = doc["inputs"] as? [[String: Any]] ?? []
        let diagnostics = inputs.flatMap { $0["diagnostics"] as? [[String: Any]] ?? [] }
        XCTAssertTrue(diagnostics.contains { ($0["message"] as? String)?.contains("past 1000 lines") == true }, "\(diagnostics)")
        XCTAssertTrue(try CLI.run(["scan", file]).stdout.contains("past 1000 lines"))
        let ndjson = try CLI.run(["scan", "--ndjson", file]).stdout
        XCTAssertTrue(ndjson.split(separator: "\n").contains { $0.hasPrefix("{\"diagnostic\":") && $0.contains("past 1000 lines") })
    }
}
