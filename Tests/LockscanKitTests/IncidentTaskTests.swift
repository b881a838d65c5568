import Foundation
import LockscanKit
import XCTest

/// A task printed twice in one report — once by sched_show_task() without a
/// CPU, once as the running task of a CPU's backtrace — is one CPU of the
/// incident, with that CPU.
final class IncidentTaskTests: XCTestCase {
    /// The real capture's kthread task dump (`task:rcu_preempt … pid:16`) and
    /// CPU 0's NMI backtrace of the same task (`CPU: 0 … PID: 16 Comm: rcu_preempt`).
    func testTaskDumpAndItsCPUsBacktraceAreOneCPU() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("corpora/public/rcu-stall-lkml-20241003-rcutorture-stall-then-fqs-starved.log")
        let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        let records = lines.enumerated().dropFirst(100).prefix(61).map { i, line -> Record in
            let bytes = Array(line.utf8)
            return Record(line: i + 1, text: String(decoding: bytes[LinePrefix.parse(bytes).messageStart...], as: UTF8.self))
        }
        XCTAssertTrue(records.first?.text.hasPrefix("rcu: RCU grace-period kthread stack dump:") == true, "\(records.first?.text ?? "")")
        var dumps = ReportDumps(header: records[0])
        for r in records.dropFirst() { _ = dumps.feed(r) }
        let all = dumps.close()
        XCTAssertEqual(all.count, 2, "the task dump and CPU 0's backtrace")
        XCTAssertEqual(all.first?.comm, "rcu_preempt", "sched_show_task's header names the task")
        XCTAssertEqual(all.first?.pid, 16)
        let cpus = Incident.build(all).cpus
        XCTAssertEqual(cpus.count, 1, "\(cpus.map(\.cpu))")
        XCTAssertEqual(cpus.first?.cpu, 0)
        XCTAssertEqual(cpus.first?.comm, "rcu_preempt")
    }
}
