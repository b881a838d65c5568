import Foundation
import LockscanKit
import PluginHost
import XCTest

final class GroupingAndIncidentTests: XCTestCase {
    func scan(_ text: String) throws -> [Event] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-group-\(UUID().uuidString).log")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var events: [Event] = []
        _ = ScanEngine(analyzers: BuiltinAnalyzers.all).scan(.path(url.path)) { events.append($0) }
        return events.sorted { $0.source.line < $1.source.line }
    }

    func softLockup(at t: Int, cpu: Int, function: String) -> String {
        """
        [\(t).000000] watchdog: BUG: soft lockup - CPU#\(cpu) stuck for 22s! [spin:115]
        [\(t).000001] CPU: \(cpu) PID: 115 Comm: spin Not tainted 6.1.0 #1
        [\(t).000002] RIP: 0010:\(function)+0x11/0x30 [lockmod]
        [\(t).000003] Call Trace:
        [\(t).000004]  kthread+0xd7/0x100
        [\(t).000005]  ret_from_fork+0x22/0x30

        """
    }

    func testRepeatedSoftLockupsCollapseButOtherCPUsStaySeparate() throws {
        let text = softLockup(at: 100, cpu: 1, function: "spin_thread") + softLockup(at: 128, cpu: 1, function: "spin_thread")
            + softLockup(at: 156, cpu: 1, function: "spin_thread") + softLockup(at: 160, cpu: 2, function: "spin_thread")
        let events = try scan(text)
        XCTAssertEqual(events.filter { $0.kind == "soft_lockup" }.count, 4, "one event per printed report")
        let grouped = EventGrouping.group(events)
        XCTAssertEqual(grouped.count, 2)
        XCTAssertEqual(grouped[0].occurrences?.count, 3)
        XCTAssertEqual(grouped[0].occurrences?.first.monotonic, 100)
        XCTAssertEqual(grouped[0].occurrences?.last.monotonic, 156)
        XCTAssertEqual(grouped[0].occurrences?.lines, [1, 7, 13])
        XCTAssertEqual(grouped[1].cpu, 2)
        XCTAssertEqual(grouped[1].occurrences?.count, 1)
    }

    /// The constructed crash `bt -a` the issue asks for: two CPUs spinning in
    /// double_rq_lock, a third holding the rq lock in the CFS unthrottle walk.
    func testCrashBtAWithCPUsSpinningInDoubleRqLock() throws {
        let text = """
            crash> bt -a
            PID: 0      TASK: ffff882f7fc0c000  CPU: 12  COMMAND: "swapper/12"
             #0 [ffff882f7fc85e48] crash_nmi_callback at ffffffff8104fd91
             #1 [ffff882f7fc85e58] nmi_handle at ffffffff8168f2b9
             #2 [ffff882f7fc85eb0] do_nmi at ffffffff8168f4d3
             #3 [ffff882f7fc85ef0] end_repeat_nmi at ffffffff8168e559
                [exception RIP: native_queued_spin_lock_slowpath+29]
                RIP: ffffffff810ffecd  RSP: ffff882f7fc83d98  RFLAGS: 00000093
                RAX: 0000000000000001  RBX: 0000000000000000  RCX: 0000000000000001
                RDX: 0000000000000000  RSI: 0000000000000001  RDI: ffff882f7fd16cc0
            --- <NMI exception stack> ---
             #4 [ffff882f7fc83d98] native_queued_spin_lock_slowpath at ffffffff810ffecd
             #5 [ffff882f7fc83da0] queued_spin_lock_slowpath at ffffffff8167f52b
             #6 [ffff882f7fc83db0] _raw_spin_lock at ffffffff8168cb30
             #7 [ffff882f7fc83dc0] double_rq_lock at ffffffff810c29ef
             #8 [ffff882f7fc83de0] load_balance at ffffffff810d7b6d

            PID: 0      TASK: ffff882f7fc0d000  CPU: 13  COMMAND: "swapper/13"
             #0 [ffff882f7fc95e48] crash_nmi_callback at ffffffff8104fd91
                [exception RIP: native_queued_spin_lock_slowpath+29]
                RIP: ffffffff810ffecd  RSP: ffff882f7fc93d98  RFLAGS: 00000093
                RAX: 0000000000000001  RBX: 0000000000000000  RCX: 0000000000000001
                RDX: 0000000000000000  RSI: 0000000000000001  RDI: ffff882f7fd16cc0
            --- <NMI exception stack> ---
             #4 [ffff882f7fc93d98] native_queued_spin_lock_slowpath at ffffffff810ffecd
             #6 [ffff882f7fc93db0] _raw_spin_lock at ffffffff8168cb30
             #7 [ffff882f7fc93dc0] double_rq_lock at ffffffff810c29ef
             #8 [ffff882f7fc93de0] load_balance at ffffffff810d7b6d

            PID: 0      TASK: ffff882f7fc0e000  CPU: 50  COMMAND: "swapper/50"
             #0 [ffff882f7fc85e48] crash_nmi_callback at ffffffff8104fd91
                [exception RIP: tg_unthrottle_up+24]
                RIP: ffffffff810c9658  RSP: ffff882f7fc83dc8  RFLAGS: 00000046
            --- <NMI exception stack> ---
             #5 [ffff882f7fc83dc8] tg_unthrottle_up at ffffffff810c9658
             #6 [ffff882f7fc83de0] walk_tg_tree_from at ffffffff810bc4d5
             #7 [ffff882f7fc83e30] unthrottle_cfs_rq at ffffffff810d4b8e
             #8 [ffff882f7fc83e68] distribute_cfs_runtime at ffffffff810d4d12

            """
        let events = try scan(text)
        let rq = try XCTUnwrap(events.first { $0.kind == "rq_lock_deadlock" })
        XCTAssertEqual(rq.title, "rq lock held too long in tg_unthrottle_up")
        XCTAssertEqual(rq.details["waitingCPUs"], "12,13")
        XCTAssertEqual(rq.details["holderCPU"], "50")
        let incident = try XCTUnwrap(rq.incident)
        XCTAssertEqual(incident.cpus.map(\.state), [.spinning, .spinning, .holding])
        XCTAssertEqual(incident.cpus[0].lockAddress, "0xffff882f7fd16cc0")
        XCTAssertEqual(incident.cpus[0].irqsDisabled, true)
        XCTAssertEqual(incident.waitsFor, [[12, 50], [13, 50]])
        XCTAssertEqual(incident.pattern, "rq-holder")
    }
}
