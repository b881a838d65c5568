import Foundation
import XCTest

/// The rules for reading one report right — which CPU, which function, what
/// the stack can and cannot say — each checked on the real public capture
/// that showed it was needed (corpora/public/README.md says where each is from).
final class ReportRuleTests: XCTestCase {
    func events(_ file: String, _ extra: [String] = []) throws -> [[String: Any]] {
        let r = try CLI.run(["scan", "--json"] + extra + [file])
        XCTAssertNotEqual(r.status, 2, r.stderr)
        return try CLI.events(r.stdout)
    }

    func details(_ e: [String: Any]?) -> [String: String] { e?["details"] as? [String: String] ?? [:] }

    /// A panic printed by the CPU that noticed (CPU 7) names the stuck one (0):
    /// the stack is the reporter's watchdog path and idle loop, never the title.
    func testReporterStackDoesNotTitleTheStuckCPU() throws {
        let e = try events("corpora/public/hard-lockup-panic-arm64-linux-arm-kernel-20200426-coresight-other-cpu.log")
        XCTAssertEqual(e.count, 1)
        XCTAssertEqual(e.first?["cpu"] as? Int, 0)
        XCTAssertEqual(e.first?["title"] as? String, "hard LOCKUP")
        XCTAssertEqual(details(e.first)["reportedBy"], "cpu 7")
        XCTAssertEqual(details(e.first)["panic"], "true")
        XCTAssertNotNil(details(e.first)["stackNote"])
    }

    /// `? func` frames are the unwinder's guesses: the first reliable frame is
    /// named, also when the paste lost its `Call Trace:` line and timestamps.
    func testUnreliableFramesNeverNameTheFunction() throws {
        let e = try events("corpora/public/hard-lockup-stable-20230711-amdgpu-vkms-unprefixed.log")
        XCTAssertEqual(e.map { $0["title"] as? String }, ["hard LOCKUP in hrtimer_cancel"])
        XCTAssertEqual(e.first?["cpu"] as? Int, 1)
    }

    /// Three detection lines in a row, no stacks: three complete events, each
    /// with its CPU and line, under three levels of mail quoting.
    func testHeadersWithoutStacksAreEventsOfTheirOwn() throws {
        let e = try events("corpora/public/hard-lockup-stable-20210714-5.13.2-rc-boot-three-cpus-quoted.log")
        XCTAssertEqual(e.compactMap { $0["cpu"] as? Int }, [0, 2, 4])
        XCTAssertEqual(e.compactMap { ($0["source"] as? [String: Any])?["line"] as? Int }, [2, 3, 4])
        XCTAssertEqual(Set(e.compactMap { $0["kind"] as? String }), ["hard_lockup"])
    }

    /// The same real report with its WARNING and detection lines cut (a
    /// serial console dropped them): the perf callback on the stack still
    /// makes it a hard lockup in the same function.
    func testHardLockupWithoutItsHeaderLines() throws {
        let real = try String(contentsOf: CLI.packageRoot.appendingPathComponent("corpora/public/hard-lockup-linux-mm-20121030-3.7-warn-wrapped.log"), encoding: .utf8)
        let lines = real.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[4].contains("Watchdog detected hard LOCKUP"), "the capture changed")
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("headerless-\(getpid()).log")
        try lines.dropFirst(5).joined(separator: "\n").write(to: cut, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: cut) }
        let e = try events(cut.path)
        XCTAssertEqual(e.map { $0["title"] as? String }, ["hard LOCKUP in pagevec_lru_move_fn"])
        XCTAssertNotNil(details(e.first)["header"])
    }

    /// A soft lockup whose capture ends at its header is not "in corrupted":
    /// the title says nothing it cannot know and the event says why.
    func testHeaderOnlySoftLockupSaysItHasNoStack() throws {
        let e = try events("corpora/public/soft-lockup-lkml-20210923-kvm-5.14-oops-cpu0-kvm-wrapped.log")
        let soft = try XCTUnwrap(e.first { $0["kind"] as? String == "soft_lockup" })
        XCTAssertEqual(soft["title"] as? String, "BUG: soft lockup")
        XCTAssertEqual(soft["cpu"] as? Int, 22)
        XCTAssertEqual(details(soft)["stackNote"], "the capture holds no stack for this report")
    }

    /// The runqueue lock's holder: CPU 1 in the scheduler tick (task_tick_fair
    /// under scheduler_tick) while CPU 0 spins in double_rq_lock — in the JSON,
    /// the terminal text and Markdown.
    func testRunqueueLockHolderIsShownWithItsWaiters() throws {
        let file = "corpora/generated/rq-lock/guest-console.log"
        let rq = try XCTUnwrap(try events(file).first { $0["kind"] as? String == "rq_lock_deadlock" })
        XCTAssertEqual(details(rq)["holderCPU"], "1")
        let incident = try XCTUnwrap(rq["incident"] as? [String: Any])
        XCTAssertEqual(incident["waitsFor"] as? [[Int]], [[0, 1]])
        let states = (incident["cpus"] as? [[String: Any]] ?? []).map { "\($0["cpu"] as? Int ?? -1):\($0["state"] as? String ?? "")" }
        XCTAssertEqual(Set(states), ["1:holding", "0:spinning"])
        let text = try CLI.run(["scan", file]).stdout
        XCTAssertTrue(text.contains("holder: CPU 1 in task_tick_fair; waiting: CPU 0"), text)
        let markdown = try CLI.run(["scan", "--markdown", file]).stdout
        XCTAssertTrue(markdown.contains("holder: CPU 1 in task_tick_fair; waiting: CPU 0"), markdown)
    }

    /// A task asleep in `__schedule` (the RCU grace-period kthread's dump) holds
    /// no runqueue lock; a CPU caught inside `__schedule` → `pick_task_dl` does.
    func testSleepingInScheduleIsNotHoldingTheRunqueue() throws {
        let e = try events("corpora/public/rcu-stall-lkml-20241003-rcutorture-stall-then-fqs-starved.log")
        let rcu = try XCTUnwrap(e.first { $0["kind"] as? String == "rcu_stall" })
        let cpus = (rcu["incident"] as? [String: Any])?["cpus"] as? [[String: Any]] ?? []
        for c in cpus where c["cpu"] == nil {
            XCTAssertNotEqual(c["state"] as? String, "holding", "a task dump without a CPU is asleep, not holding")
        }
        XCTAssertEqual(cpus.first { $0["cpu"] as? Int == 12 }?["state"] as? String, "holding")
    }

    func incidents(_ file: String) throws -> [[String: Any]] {
        let r = try CLI.run(["scan", "--json", file])
        return try CLI.json(r.stdout)["incidents"] as? [[String: Any]] ?? []
    }

    func memberLines(_ incident: [String: Any]) -> [Int] {
        (incident["events"] as? [[String: Any]] ?? []).compactMap { $0["line"] as? Int }
    }

    /// An RCU stall on CPU 3, then 84 ms later the hard lockup of CPU 3: one
    /// incident, in every output format.
    func testStallAndHardLockupOfOneCPUAreOneIncident() throws {
        let file = "corpora/public/rcu-stall-then-hard-lockup-lkml-20231012-arm64-meson-uart-quoted.log"
        let inc = try incidents(file)
        XCTAssertEqual(inc.count, 1)
        XCTAssertEqual(inc.first.map(memberLines), [2, 10])
        XCTAssertTrue((inc.first?["why"] as? [String])?.first?.contains("CPU 3") == true)
        let events = try CLI.events(try CLI.run(["scan", "--json", file]).stdout)
        XCTAssertEqual(events.compactMap { $0["incidentId"] as? Int }, [1, 1])
        let ndjson = try CLI.run(["scan", "--ndjson", file]).stdout
        XCTAssertEqual(ndjson.split(separator: "\n").filter { $0.hasPrefix("{\"incident\":") }.count, 1)
        XCTAssertTrue(try CLI.run(["scan", file]).stdout.contains("incident 1: 2 reports are one incident"))
        XCTAssertTrue(try CLI.run(["scan", "--markdown", file]).stdout.contains("## Incidents"))
    }

    /// The ABBA deadlock printed as two reports: CPU 0's soft lockup with
    /// only its own stack, later CPU 1's RCU stall with only its own (cut
    /// from the real generated capture). Two CPUs spinning on two different
    /// locks: one incident, each waiting for the other.
    func testABBAPrintedAsTwoReportsIsOneIncident() throws {
        let real = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("corpora/generated/abba-deadlock/guest-console.log"))
        // A serial console: CRLF line ends, which Swift's String sees as one
        // Character, so the lines are split as bytes.
        let lines = real.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard lines.count > 552 else { return XCTFail("the capture changed") }
        XCTAssertTrue(lines[420].contains("soft lockup - CPU#0") && lines[520].contains("detected stalls"), "the capture changed")
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("abba-split-\(getpid()).log")
        try (Array(lines[420..<446]) + Array(lines[520..<552])).joined(separator: "\n").write(to: cut, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: cut) }
        let inc = try incidents(cut.path)
        XCTAssertEqual(inc.count, 1)
        XCTAssertEqual(inc.first?["pattern"] as? String, "abba")
        XCTAssertEqual(Set((inc.first?["waitsFor"] as? [[Int]]) ?? []), [[0, 1], [1, 0]])
    }

    /// Three CPUs printing their hard-LOCKUP lines together: one stall of
    /// the machine. Reports of other CPUs far apart stay separate incidents.
    func testReportsPrintedTogetherAreOneIncidentOthersAreNot() throws {
        let together = try incidents("corpora/public/hard-lockup-stable-20210714-5.13.2-rc-boot-three-cpus-quoted.log")
        XCTAssertEqual(together.map(memberLines), [[2, 3, 4]])
        // CPU 14 at line 12, CPU 26 at lines 22 and 32: only CPU 26's two reports are one.
        let apart = try incidents("corpora/public/rcu-stall-xen-devel-20230419-old-brace-form-task-dump.log")
        XCTAssertEqual(apart.map(memberLines), [[22, 32]])
    }

    /// A CPU caught in the softirq loop itself (`__do_softirq` right below the
    /// interrupt entry) is stalled "in __do_softirq", as bug trackers title
    /// it; pstore's `Panic#1 Part4` headers inside a stack do not cut it.
    func testDispatcherLoopAndPstorePartsTitleTheReport() throws {
        XCTAssertEqual(try events("corpora/public/rcu-stall-linux-media-20190531-imx6q-quoted-printable-wrapped.log").map { $0["title"] as? String },
                       ["INFO: rcu detected stall in __do_softirq"])
        let soft = try events("corpora/public/soft-lockup-dri-devel-20250708-pstore-panic-parts-quoted.log")
        XCTAssertEqual(soft.map { $0["title"] as? String }, ["BUG: soft lockup in handle_softirqs"])
        let stack = (soft.first?["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
        XCTAssertTrue(stack.contains("dma_fence_signal"), "the frames after `Panic#1 Part4` are part of the stack")
    }

    /// A softlockup panic that comes after its report was already closed
    /// by another report is said, never dropped without a word.
    func testALateSoftlockupPanicIsNotSilent() throws {
        let log = """
            [  100.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:42]
            [  100.000100] CPU: 1 PID: 42 Comm: spin Not tainted 6.1.0 #1
            [  100.000200] rcu: INFO: rcu_preempt self-detected stall on CPU
            [  100.000300] rcu: \t1-....: (5249 ticks this GP) idle=1894/1/0x4000000000000000 softirq=1/1 fqs=1
            [  100.000400] Kernel panic - not syncing: softlockup: hung tasks
            """
        let file = try CLI.tempFile("late-panic.log", Data((log + "\n").utf8))
        let r = try CLI.run(["scan", "--json", file])
        let problems = ((try CLI.json(r.stdout))["inputs"] as? [[String: Any]] ?? []).flatMap { $0["diagnostics"] as? [[String: Any]] ?? [] }
        let events = try CLI.events(r.stdout)
        let joined = events.contains { ($0["details"] as? [String: String])?["panic"] == "true" }
        XCTAssertTrue(joined || problems.contains { ($0["message"] as? String)?.contains("softlockup panic") == true },
                      "the panic is neither joined nor reported: \(r.stdout)")
    }
}
