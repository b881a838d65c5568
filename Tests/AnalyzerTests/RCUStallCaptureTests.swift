import Foundation
import LockscanKit
import PluginHost
import XCTest

/// The RCU stall rules on real captures (corpora/public, sources in its
/// README), each capture also re-rendered under every prefix variant.
final class RCUStallCaptureTests: XCTestCase {
    static let publicCorpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpora/public")

    /// The capture's RCU stall events under every prefix variant: its own
    /// prefixes are peeled off and each variant's put on instead.
    func stalls(_ name: String, _ check: (_ events: [Event], _ variant: String) throws -> Void) throws {
        let text = try String(contentsOf: Self.publicCorpus.appendingPathComponent(name), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        lines = lines.map { line in
            let bytes = Array(line.utf8)
            return String(decoding: bytes[LinePrefix.parse(bytes).messageStart...], as: UTF8.self)
        }
        let rcu = try XCTUnwrap(BuiltinAnalyzers.all.first { $0.id == "rcu-stall" })
        for variant in PrefixVariant.all {
            try check(try ExampleHarness.run(rcu, text: variant.render(lines)), "\(name) / \(variant.name)")
        }
    }

    /// The event's CPU and the details a reader is shown (nil: must be absent).
    func expect(_ e: Event, cpu: Int?, _ details: [String: String?], _ v: String, line: UInt = #line) {
        XCTAssertEqual(e.cpu, cpu, v, line: line)
        for (key, value) in details.sorted(by: { $0.key < $1.key }) { XCTAssertEqual(e.details[key], value, "\(v): \(key)", line: line) }
    }

    /// 3.x and older print the stalled CPUs on the header line, `{ 14} (detected by 10, t=60002 jiffies, …)`;
    /// each header is its own report, and `Task dump for CPU 14:` gives the dump its CPU.
    func testOldBraceFormNamesCPUsDetectorAndDuration() throws {
        try stalls("rcu-stall-xen-devel-20230419-old-brace-form-task-dump.log") { events, v in
            XCTAssertEqual(events.map(\.source.line), [12, 22, 32], v)
            XCTAssertEqual(events.map(\.cpu), [14, 26, 26], v)
            XCTAssertEqual(events.map { $0.details["detectedBy"] }, ["10", "24", "24"], v)
            XCTAssertEqual(events.map { $0.details["stallJiffies"] }, ["60002", "60002", "60002"], v)
            XCTAssertTrue(events.allSatisfy { $0.details["stalledCPUsWithoutStack"] == nil }, "\(v): each stalled CPU has its task dump")
        }
    }

    /// New form with several stalled CPUs and NMI backtraces: every listed CPU
    /// is stalled and shows its own stack in the incident; the grace-period
    /// kthread's sleeping stack is not a CPU of the incident.
    func testEveryListedCPUGetsItsOwnStackAndTheKthreadStackIsNoCPU() throws {
        try stalls("rcu-stall-lkml-20241003-rcutorture-stall-then-fqs-starved.log") { events, v in
            let e = try XCTUnwrap(events.first, v)
            expect(e, cpu: 10, ["stalledCPUs": "10,12", "kthreadCPU": "0"], v)
            let cpus = try XCTUnwrap(e.incident, v).cpus
            XCTAssertEqual(cpus.compactMap(\.cpu), [10, 12, 0], v)
            // CPU 0 runs the kthread (its NMI backtrace); the kthread's own sleeping task dump is no CPU.
            XCTAssertEqual(cpus.count, 3, "\(v): the kthread's task dump is no CPU of the incident")
            XCTAssertEqual(cpus.first { $0.cpu == 12 }?.stack.first?.function, "ktime_get", v)
        }
    }

    /// `->cpu=5` of a starved kthread is where it last ran, not a stalled CPU:
    /// with all quiescent states seen the report names no stalled CPU at all.
    func testKthreadCPUIsNotAStalledCPU() throws {
        try stalls("rcu-stall-lkml-20241003-rcutorture-gp-kthread-starved.log") { events, v in
            let e = try XCTUnwrap(events.first, v)
            expect(e, cpu: nil, ["stalledCPUs": nil, "kthreadCPU": "5", "allQuiescentStatesSeen": "true"], v)
            XCTAssertTrue(e.hints.contains { $0.text.contains("no CPU holds up this grace period") }, "\(v): \(e.hints)")
        }
    }

    /// The kernel's own diagnosis is read: the timer wakeup that did not
    /// happen, the suspect CPU, the OOM warning; the title is syzbot's (the
    /// mail's subject), never taken from the kthread's stack.
    func testTimerHandlingHintAndSyzbotTitle() throws {
        try stalls("rcu-stall-syzbot-20250728-timer-handling-kthread-starved.log") { events, v in
            XCTAssertEqual(events.count, 1, v)
            let e = try XCTUnwrap(events.first, v)
            XCTAssertEqual(e.title, "INFO: rcu detected stall in exit_to_user_mode_loop", v)
            expect(e, cpu: 0, ["timerIssueCPU": "0", "timerSoftirqCount": "10563", "kthreadTimerWakeupMissedJiffies": "10501",
                               "oomExpected": "true"], v)
            XCTAssertTrue(e.hints.contains { $0.text.contains("timer handling on CPU 0") }, "\(v): \(e.hints)")
            XCTAssertFalse(e.stack.contains { $0.function == "rcu_gp_kthread" }, v)
        }
    }

    /// Expedited stall on a two-level rcu_node tree: the leaf's mask bit 0 of
    /// `l=1:96-111:0x1` is CPU 96; the root's `0x40` names a child node, not CPU 6.
    func testExpeditedMasksOfATwoLevelTree() throws {
        try stalls("rcu-stall-expedited-lkml-20250520-two-level-leaf-mask-cpu96.log") { events, v in
            let e = try XCTUnwrap(events.first, v)
            expect(e, cpu: 96, ["stalledCPUs": "96", "expeditedRootMask": "0x40", "stallJiffies": "3"], v)
            XCTAssertEqual(e.title, "INFO: rcu detected stall in hub_event", v)
        }
    }
}
