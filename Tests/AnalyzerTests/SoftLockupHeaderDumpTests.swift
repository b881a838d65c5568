import Foundation
@testable import LockscanKit
import LockscanInput
import PluginHost
import XCTest

/// A soft-lockup report waits for its dump's first line (`ReportDumps.HeaderDump.atFirstDumpLine`):
/// prose a busy console printed in between is another subsystem's and is
/// passed over, the watchdog's own status lines (6.10+) stay the report's,
/// and skipping lines on their bytes while it waits never changes an answer.
final class SoftLockupHeaderDumpTests: XCTestCase {
    static let header = "watchdog: BUG: soft lockup - CPU#2 stuck for 23s! [CPU 0/KVM:31664]"
    static let dump = [
        "CPU: 2 PID: 31664 Comm: CPU 0/KVM Tainted: G             L    6.1.0-18-amd64 #1  Debian 6.1.76-1",
        "RIP: 0010:kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]",
        "Call Trace:",
        " <TASK>",
        " kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]",
        " kvm_vm_ioctl+0x3ee/0xe80 [kvm]",
        " __x64_sys_ioctl+0x90/0xd0",
        " </TASK>",
    ]
    /// Prose as dmesg has it, some holding words a frame or a register line
    /// has (`0x`, `Code:`, `RSP`), none a line a dump opens with.
    static let prose = [
        "docker0: port 3(veth01) entered disabled state",
        "a.out[4242]: segfault at 0 ip 000055d0c0ffee00 sp 00007ffd1 error 4 in a.out[55d0c0ffe000+1000]",
        "Code: 58 cc 1e 92 44 92 77 90 1c c7 28 74 58 cb a9 34 2a 4e b6 65 d8 3c 82 37",
        "ACPI: RSDP 0x00000000000F5A10 000024 (v02 BOCHS )",
        "usb 1-1.3: new high-speed USB device number 98 using ehci-pci",
        "RSP is a register name, said in passing",
    ]

    static func scan(_ text: String, skipping: Bool = true) throws -> [Event] {
        try scanBothWays(text, skipping: [skipping])[0]
    }

    /// The text as a timestamped dmesg in one file, scanned once per mode.
    static func scanBothWays(_ text: String, skipping modes: [Bool] = [false, true], readSize: Int = 1 << 20) throws -> [[Event]] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-header-dump-\(UUID().uuidString).log")
        let stamped = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { "[  100.\(String(format: "%06d", $0.offset + 1))] \($0.element)" }.joined(separator: "\n")
        try Data((stamped + "\n").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return modes.map { WaitingBetweenDumpsTests.scan(url.path, skipping: $0, readSize: readSize).events }
    }

    func testProseBeforeTheDumpIsPassedOverAndTheDumpIsStillTheReports() throws {
        let text = ([Self.header] + Self.prose + Self.dump).joined(separator: "\n")
        let events = try Self.scan(text).filter { $0.kind == "soft_lockup" }
        XCTAssertEqual(events.count, 1)
        let e = try XCTUnwrap(events.first)
        XCTAssertEqual(e.title, "BUG: soft lockup in kvm_vm_ioctl")
        XCTAssertEqual(e.kernel, "6.1.0-18-amd64")
        for line in Self.prose {
            XCTAssertFalse(e.evidence.contains { $0.hasSuffix(line) }, "prose kept as evidence: \(line)")
        }
        XCTAssertTrue(e.evidence.contains { $0.hasSuffix("Call Trace:") })
        XCTAssertEqual(e.source.endLine, 1 + Self.prose.count + Self.dump.count)
    }

    /// The dump must open within 40 lines of its header; a dump whose first
    /// line is no dump's opening word (`Modules linked in:`, then the
    /// registers and frames: a paste that lost the banner and `Call
    /// Trace:`) later than that is not taken for this report's own stack.
    func testTheHeadersDumpOpensWithinFortyLines() throws {
        let dump = ["Modules linked in: kvm_intel kvm", "RIP: 0010:kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]",
                    " kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]", " kvm_vm_ioctl+0x3ee/0xe80 [kvm]", " __x64_sys_ioctl+0x90/0xd0"]
        for gap in [0, 38, 39, 40, 41, 45] {
            let filler = (0..<gap).map { Self.prose[$0 % Self.prose.count] }
            let text = ([Self.header] + filler + dump).joined(separator: "\n")
            for skipping in [true, false] {
                let e = try XCTUnwrap(try Self.scan(text, skipping: skipping).first { $0.kind == "soft_lockup" })
                XCTAssertEqual(e.title, gap < 40 ? "BUG: soft lockup in kvm_vm_ioctl" : "BUG: soft lockup", "gap \(gap), skipping \(skipping)")
                XCTAssertEqual(e.evidence.first.map { $0.hasSuffix(Self.header) }, true)
                XCTAssertEqual(e.evidence.count, gap < 40 ? 1 + dump.count : 1, "gap \(gap): \(e.evidence)")
            }
        }
    }

    /// Lone headers from a CPU stuck for days, prose after each, and now and
    /// then the dump, at every distance around the 40 lines and the 300-line
    /// window: skipping what the waiting report cannot use changes nothing.
    func testLoneHeaderStormsGiveTheSameEventsWhenLinesAreSkipped() throws {
        var lines: [String] = []
        for k in 0..<24 {
            lines.append(Self.header.replacingOccurrences(of: "23s", with: "\(23 + 28 * k)s"))
            let gap = [0, 1, 5, 39, 40, 41, 120, 299, 300, 301, 350, 2][k % 12]
            for n in 0..<gap { lines.append(Self.prose[(n + k) % Self.prose.count]) }
            if k % 3 != 1 { lines += Self.dump }
        }
        let text = lines.joined(separator: "\n")
        for readSize in [4096, 1 << 20] {
            let both = try Self.scanBothWays(text, readSize: readSize)
            let (every, skipping) = (both[0], both[1])
            XCTAssertEqual(every.filter { $0.kind == "soft_lockup" }.count, 24)
            XCTAssertTrue(skipping == every, zip(skipping, every).first { $0 != $1 }.map { "\($0.0.source.line): \($0.0.title) vs \($0.1.title)" } ?? "counts \(skipping.count) vs \(every.count)")
        }
    }

    /// Another analyzer's finding right after a waiting report's window, or
    /// a few lines before its end: the search that skipped the window must
    /// not have skipped it (what it passed over is taken as searched).
    func testAFindingAroundTheWindowsEndIsKept() throws {
        let clocksource = "clocksource: timekeeping watchdog on CPU3: Marking clocksource 'tsc' as unstable because the skew is too large:"
        for offset in [295, 299, 300, 301, 302, 303, 340] {
            var lines = [Self.header]
            for n in 0..<offset { lines.append(Self.prose[n % Self.prose.count]) }
            lines.append(clocksource)
            for n in 0..<30 { lines.append(Self.prose[n % Self.prose.count]) }
            lines.append(Self.header)
            lines.append(clocksource)
            for readSize in [4096, 1 << 20] {
                let both = try Self.scanBothWays(lines.joined(separator: "\n"), readSize: readSize)
                XCTAssertEqual(both[0].filter { $0.kind == "clocksource_unstable" }.count, 2, "offset \(offset)")
                XCTAssertTrue(both[1] == both[0], "offset \(offset), reads of \(readSize): \(both[1].map(\.kind)) vs \(both[0].map(\.kind))")
            }
        }
    }

    func testTheWatchdogsStatusLinesAreTheReportsAndNameAnInterruptStorm() throws {
        let text = """
            watchdog: BUG: soft lockup - CPU#9 stuck for 23s! [kworker/9:1:214]
            CPU#9 Utilization every 4s during lockup:
             #1:   0% system,          0% softirq,   100% hardirq,     0% idle
             #2:   0% system,          0% softirq,    99% hardirq,     1% idle
            CPU#9 Detect HardIRQ Time exceeds 50%. Most frequent HardIRQs:
             #1: 330985      irq#7(IPI)
             #2: 5000        irq#10(arch_timer)
            Call trace:
             __do_softirq+0xa8/0x364
            """
        let e = try XCTUnwrap(try Self.scan(text).first { $0.kind == "soft_lockup" })
        XCTAssertEqual(e.details["utilization"], "system 0%, softirq 0%, hardirq 99%, idle 1%")
        XCTAssertEqual(e.details["mostFrequentIRQs"], "irq#7(IPI) 330985, irq#10(arch_timer) 5000")
        XCTAssertEqual(e.details["interruptStorm"], "true")
        XCTAssertTrue(e.hints.first?.text.contains("interrupt storm") ?? false)
        XCTAssertEqual(e.evidence.count, 9, "\(e.evidence)")
    }

    /// Another CPU's status block (two reports interleaved) is not this
    /// report's, and mostly-system time is no storm.
    func testAnotherCPUsStatusLinesAreNotTaken() throws {
        let text = """
            watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [syz-executor782:6625]
            CPU#3 Utilization every 4s during lockup:
            \t#1:  98% system,\t  0% softirq,\t  3% hardirq,\t  0% idle
            CPU#0 Utilization every 4s during lockup:
            \t#1:  97% system,\t  1% softirq,\t  2% hardirq,\t  0% idle
            Modules linked in:
            CPU: 0 PID: 6625 Comm: syz-executor782 Tainted: G        W          6.10.0-rc2 #0
            """
        let e = try XCTUnwrap(try Self.scan(text).first { $0.kind == "soft_lockup" })
        XCTAssertEqual(e.details["utilization"], "system 97%, softirq 1%, hardirq 2%, idle 0%")
        XCTAssertNil(e.details["interruptStorm"])
        XCTAssertFalse(e.evidence.contains { $0.contains("CPU#3 Utilization") })
    }

    /// The header's numbers and task, read on its bytes: comms with colons
    /// and spaces, the pid after the last colon, numbers too large for an
    /// Int read as none (never a trap), a header wrapped after `BUG:`.
    func testTheHeadersNumbersAndTask() throws {
        let cases: [(String, cpu: Int?, seconds: String?, comm: String?, pid: Int?)] = [
            ("watchdog: BUG: soft lockup - CPU#2 stuck for 23s! [CPU 0/KVM:31664]", 2, "23", "CPU 0/KVM", 31664),
            ("BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]", 0, "134", "kworker/0:2", 1400),
            ("NMI watchdog: BUG: soft lockup - CPU#12 stuck for 22s! [dockerd-current:39156]", 12, "22", "dockerd-current", 39156),
            ("watchdog: BUG: soft lockup - CPU#99999999999999999999999 stuck for 99999999999999999999999s! [a:1]", nil, nil, "a", 1),
            ("watchdog: BUG: soft lockup - CPU#7 stuck for 23s! [no pid here]", 7, "23", nil, nil),
            ("watchdog: BUG: soft lockup - CPU#7 stuck for 23s! [täsk:12x]", 7, "23", nil, nil),
            ("watchdog: BUG: soft lockup - CPU#5 stuck for 41s! [täsk/ü:77]", 5, "41", "täsk/ü", 77),
        ]
        for c in cases {
            let e = try XCTUnwrap(try Self.scan(c.0).first { $0.kind == "soft_lockup" }, c.0)
            XCTAssertEqual(e.cpu, c.cpu, c.0)
            XCTAssertEqual(e.details["stuckSeconds"], c.seconds, c.0)
            XCTAssertEqual(e.comm, c.comm, c.0)
            XCTAssertEqual(e.pid, c.pid, c.0)
        }
    }

    /// What opens the header's dump, and what does not.
    func testWhatOpensTheHeadersDump() {
        for line in ["Modules linked in: kvm_intel kvm", "irq event stamp: 73096", "CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1",
                     "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)", "RIP: 0010:f+0x1/0x2", " func+0x18/0x90 [kvm]",
                     "pc : queued_spin_lock_slowpath+0x1c0/0x3f0", "Call Trace:", " <IRQ>", "NMI backtrace for cpu 1",
                     "Sending NMI from CPU 2 to CPUs 0-1,3:", "Workqueue: events jump_label_update_timeout", "PID: 0  TASK: ffff882f7fc0c000  CPU: 50  COMMAND: \"swapper/50\""] {
            XCTAssertTrue(ReportDumps.opensHeadersDump(line), line)
            XCTAssertTrue(Self.waitSearch.matches(line), "the engine would skip \(line)")
        }
        for line in Self.prose + ["RSP: 0018:ffff8801d2ac6f00 EFLAGS: 00000293", "INFO: lockdep is turned off.", "Code: 0f 0b"] {
            XCTAssertFalse(ReportDumps.opensHeadersDump(line), line)
        }
    }

    static let waitSearch = TriggerSearch(ReportDumps.wordsWhileAwaitingDump)
}
