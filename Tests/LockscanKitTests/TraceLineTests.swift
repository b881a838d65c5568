@testable import LockscanKit
import XCTest

final class TraceLineTests: XCTestCase {
    func testModernFrame() {
        guard case let .frames(markers, f?) = TraceLineParser.parse(" ? double_rq_lock+0x3e/0x80 [kvm]") else {
            return XCTFail("not a frame")
        }
        XCTAssertEqual(markers, [])
        XCTAssertEqual(f.function, "double_rq_lock")
        XCTAssertEqual(f.offset, 0x3e)
        XCTAssertEqual(f.size, 0x80)
        XCTAssertEqual(f.module, "kvm")
        XCTAssertFalse(f.reliable)
    }

    /// Seen in real captures (corpora/public README sections 13-14): arm64's
    /// `pc :` of a function starting with hex letters, 6.x arm64's ` (P)`
    /// frame mark, crash's address-less `#5 func+96`, pstore part headers,
    /// and a banner a mail client wrapped right after `Tainted:`.
    func testFormsFromRealCaptures() {
        guard case let .instructionPointer(pc) = TraceLineParser.parse("pc : arch_local_irq_restore+0x8/0x20") else { return XCTFail("pc") }
        XCTAssertEqual(pc.function, "arch_local_irq_restore")
        guard case let .instructionPointer(nip) = TraceLineParser.parse("NIP [c000000000024420] udelay+0x40/0x60") else { return XCTFail("NIP") }
        XCTAssertEqual(nip.function, "udelay")
        guard case let .frames(_, p?) = TraceLineParser.parse("   arch_local_irq_restore+0x8/0x20 (P)") else { return XCTFail("(P)") }
        XCTAssertEqual(p.function, "arch_local_irq_restore")
        guard case let .crashFrame(c) = TraceLineParser.parse("  #5 native_queued_spin_lock_slowpath+96 [kvm]") else { return XCTFail("crash") }
        XCTAssertEqual(c.function, "native_queued_spin_lock_slowpath")
        XCTAssertEqual(c.offset, 96)
        XCTAssertEqual(c.module, "kvm")
        XCTAssertEqual(TraceLineParser.parse("Panic#1 Part4"), .dumpDecoration)
        XCTAssertNotEqual(TraceLineParser.parse("Panic#1 Part4 was lost"), .dumpDecoration)
        guard case let .taskHeader(h) = TraceLineParser.parse("CPU: 0 PID: 1 Comm: swapper/0 Tainted:") else { return XCTFail("banner") }
        XCTAssertEqual(h.comm, "swapper/0")
    }

    func testOldFrameWithMarkers() {
        guard case let .frames(markers, f?) = TraceLineParser.parse(" <<EOE>>  <IRQ>  [<ffffffff810c9658>] ? tg_unthrottle_up+0x18/0x90") else {
            return XCTFail("not a frame")
        }
        XCTAssertEqual(markers, [.endOfException, .irqBegin])
        XCTAssertEqual(f.address, "0xffffffff810c9658")
        XCTAssertEqual(f.function, "tg_unthrottle_up")
    }

    func testProseIsNotAFrame() {
        XCTAssertEqual(TraceLineParser.parse("sched: RT throttling activated"), .other)
        XCTAssertEqual(TraceLineParser.parse("foo+0x1/0x2 happened"), .other)
    }

    func testRIPAndCrash() {
        guard case let .instructionPointer(f) = TraceLineParser.parse("RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200") else {
            return XCTFail("no RIP")
        }
        XCTAssertEqual(f.function, "native_queued_spin_lock_slowpath")
        XCTAssertTrue(f.isInstructionPointer)
        guard case let .crashExceptionRIP(e) = TraceLineParser.parse("    [exception RIP: tg_unthrottle_up+24]") else {
            return XCTFail("no exception RIP")
        }
        XCTAssertEqual(e.function, "tg_unthrottle_up")
        XCTAssertEqual(e.offset, 24, "crash offsets are decimal")
        guard case let .crashFrame(c) = TraceLineParser.parse(" #6 [ffff882f7fc83de0] walk_tg_tree_from at ffffffff810bc4d5 [kvm]") else {
            return XCTFail("no crash frame")
        }
        XCTAssertEqual(c.function, "walk_tg_tree_from")
        XCTAssertEqual(c.address, "0xffffffff810bc4d5")
        XCTAssertEqual(c.module, "kvm")
        XCTAssertEqual(TraceLineParser.parse("--- <NMI exception stack> ---"), .crashStackSwitch(.nmi))
    }

    func testTaskHeaders() {
        guard case let .taskHeader(h) = TraceLineParser.parse("CPU: 50 PID: 0 Comm: swapper/50 Tainted: G        W  OE  ------------   3.10.0-514.16.1.el7.x86_64 #1") else {
            return XCTFail("no header")
        }
        XCTAssertEqual(h.cpu, 50)
        XCTAssertEqual(h.pid, 0)
        XCTAssertEqual(h.comm, "swapper/50")
        XCTAssertEqual(h.taint, "GWOE")
        XCTAssertEqual(h.release, "3.10.0-514.16.1.el7.x86_64")
        guard case let .taskHeader(k) = TraceLineParser.parse("CPU: 0 UID: 0 PID: 31664 Comm: CPU 0/KVM Not tainted 6.12.0-1-amd64 #1 Debian") else {
            return XCTFail("no header")
        }
        XCTAssertEqual(k.comm, "CPU 0/KVM", "comms may contain spaces")
        XCTAssertEqual(k.release, "6.12.0-1-amd64")
        guard case let .taskHeader(old) = TraceLineParser.parse("Pid: 0, comm: swapper Not tainted 2.6.32-431.el6.x86_64 #1 Dell Inc. PowerEdge R620/0PXXHP") else {
            return XCTFail("no old header")
        }
        XCTAssertEqual(old.comm, "swapper")
        XCTAssertEqual(old.release, "2.6.32-431.el6.x86_64")
        XCTAssertNil(old.cpu)
        guard case let .crashTask(c) = TraceLineParser.parse("PID: 0      TASK: ffff882f7fc0c000  CPU: 50  COMMAND: \"swapper/50\"") else {
            return XCTFail("no crash task")
        }
        XCTAssertEqual(c.cpu, 50)
        XCTAssertEqual(c.comm, "swapper/50")
    }

    func testOtherArchitectures() {
        guard case let .frames(_, f?) = TraceLineParser.parse("[c00020397b4d3660] [c0080000107e972c] __tg3_readphy+0xc4/0x1d0 [tg3] (unreliable)") else {
            return XCTFail("no powerpc frame")
        }
        XCTAssertEqual(f.function, "__tg3_readphy")
        XCTAssertEqual(f.module, "tg3")
        XCTAssertEqual(f.address, "0xc0080000107e972c")
        XCTAssertFalse(f.reliable)
        guard case let .instructionPointer(nip) = TraceLineParser.parse("NIP [c000000000185e90] .do_raw_spin_lock+0x90/0x1d0") else {
            return XCTFail("no NIP")
        }
        XCTAssertEqual(nip.function, ".do_raw_spin_lock")
        XCTAssertEqual(FunctionName.base(nip.function!), "do_raw_spin_lock")
        guard case let .instructionPointer(pc) = TraceLineParser.parse("pc : queued_spin_lock_slowpath+0x1c0/0x3f0") else {
            return XCTFail("no arm64 pc")
        }
        XCTAssertEqual(pc.function, "queued_spin_lock_slowpath")
    }

    func testRegisters() {
        guard case let .registers(r) = TraceLineParser.parse("RSP: 0018:ffffb3a4c0003e48 EFLAGS: 00000002") else {
            return XCTFail("no regs")
        }
        XCTAssertEqual(r["EFLAGS"], "00000002")
        XCTAssertEqual(TraceLineParser.parse("Note: this is prose"), .other)
    }

    /// A register is found by its whole name (R1 is not R10), the last
    /// value wins when a line repeats a name, and every pair is there.
    func testRegisterLineLookups() {
        guard case let .registers(r) = TraceLineParser.parse("R10: 0000000000000001 R1: 00000000000000ff R10: 0000000000000002") else {
            return XCTFail("no regs")
        }
        XCTAssertEqual(r["R10"], "0000000000000002")
        XCTAssertEqual(r["R1"], "00000000000000ff")
        XCTAssertNil(r["R"])
        XCTAssertNil(r["R100"])
        XCTAssertNil(r[""])
        XCTAssertEqual(r.all, ["R10": "0000000000000002", "R1": "00000000000000ff"])
        guard case let .registers(crash) = TraceLineParser.parse("    RIP: ffffffff810c9658  RSP: ffff882f7fc83e28  RFLAGS: 00000046") else {
            return XCTFail("no crash regs")
        }
        XCTAssertEqual(crash["RIP"], "ffffffff810c9658")
        XCTAssertEqual(crash["RFLAGS"], "00000046")
    }

    /// The taint clause is read on bytes when it is ASCII; that reading must
    /// be the character loop's on every clause, not only on the headers in
    /// the corpora: random clauses built from what real headers print
    /// (letters in runs, RHEL dashes, releases, build numbers), plus
    /// pieces that end the letters early.
    func testTaintClauseReadOnBytesAsOnCharacters() {
        let pieces = ["G", "W", "OE", "L", "P", "D", "OEL", "ABCDEFGHIJKLMNOPQRSTUVWXY", "------------", "-", "--x",
                      "5.15.0-91-generic", "#101-Ubuntu", "3.10.0-514.16.1.el7.x86_64", "g", "W1", "Ubuntu", "\t", ""]
        var draw = Draw(state: 0x9E37_79B9_7F4A_7C15)
        func next(_ n: Int) -> Int { draw.below(n) }
        for _ in 0..<3000 {
            var body = String(repeating: " ", count: next(3))
            for _ in 0..<next(8) {
                body += pieces[next(pieces.count)] + String(repeating: " ", count: 1 + next(8))
            }
            let clause = Substring(body)
            guard let bytes = TraceLineParser.taintAndRelease(ascii: clause) else { return XCTFail("ASCII clause not read on bytes: \(body)") }
            let characters = TraceLineParser.taintAndRelease(characters: clause)
            XCTAssertEqual(bytes.taint, characters.taint, body)
            XCTAssertEqual(bytes.release, characters.release, body)
        }
        XCTAssertNil(TraceLineParser.taintAndRelease(ascii: "G W 6.1.0-ünicode"), "non-ASCII goes to the character loop")
        guard case let .taskHeader(h) = TraceLineParser.parse("CPU: 21 PID: 173 Comm: ksoftirqd/21 Tainted: G        W  OEL    5.15.0-91-generic #101-Ubuntu") else {
            return XCTFail("banner")
        }
        XCTAssertEqual(h.taint, "GWOEL")
        XCTAssertEqual(h.release, "5.15.0-91-generic")
        guard case let .taskHeader(u) = TraceLineParser.parse("CPU: 2 PID: 9 Comm: kworker/2:1 Tainted: G W 6.1.0-ünicode #1") else {
            return XCTFail("banner")
        }
        XCTAssertEqual(u.taint, "GW")
        XCTAssertEqual(u.release, "6.1.0-ünicode")
    }

    /// The banner's `CPU: n PID: n` head is read on bytes when it is ASCII;
    /// on generated heads (labels in any order, runs of blanks, signs,
    /// numbers too large, labels without values) that reading is the
    /// Character split's.
    func testBannerHeadReadOnBytesAsOnCharacters() {
        let pieces = ["CPU:", "PID:", "UID:", "cpu:", "CPU", "PID:x", "0", "21", "+5", "-1", "007", "99999999999999999999",
                      "x", "\t", "CPU:3", ""]
        var draw = Draw(state: 0x2545_F491_4F6C_DD1D)
        func next(_ n: Int) -> Int { draw.below(n) }
        for _ in 0..<3000 {
            var head = String(repeating: " ", count: next(3))
            for _ in 0..<next(7) { head += pieces[next(pieces.count)] + String(repeating: " ", count: 1 + next(3)) }
            guard let bytes = TraceLineParser.cpuAndPID(ascii: Substring(head)) else { return XCTFail("ASCII head not read on bytes: \(head)") }
            let characters = TraceLineParser.cpuAndPID(characters: Substring(head))
            XCTAssertEqual(bytes.cpu, characters.cpu, head)
            XCTAssertEqual(bytes.pid, characters.pid, head)
        }
        XCTAssertNil(TraceLineParser.cpuAndPID(ascii: "CPU: 1 PID: 2 ü"), "non-ASCII goes to the Character split")
        guard case let .taskHeader(h) = TraceLineParser.parse("CPU: 3 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1") else {
            return XCTFail("banner")
        }
        XCTAssertEqual(h.cpu, 3)
        XCTAssertEqual(h.pid, 1)
        XCTAssertEqual(h.release, "6.12.0")
        guard case let .taskHeader(w) = TraceLineParser.parse("CPU: 3 PID: 1 Comm: swapper/0 Tainted:") else { return XCTFail("wrapped banner") }
        XCTAssertEqual(w.comm, "swapper/0")
        XCTAssertNil(w.taint)
    }

    /// A line is handed to the frame parsers only when it holds one of the
    /// marks every frame form has (`mayHoldFrame`); each form is listed
    /// here, so a mark missing from that check fails its form. Prose with
    /// none of the marks stays prose.
    func testEveryFrameFormPassesTheFramePrecheck() {
        let frames: [(String, String?)] = [
            ("  tg_unthrottle_up+0x18/0x90 [kvm]", "tg_unthrottle_up"),
            (" ? 0xffffffffc0a1b2c3", nil),
            ("[<ffffffff810c9658>] 0xffffffff810c9658", nil),
            ("[<ffffffff810c9658>]", nil),
            (" [<8011218c>] (unwind_backtrace) from [<8010e300>] (show_stack+0x18/0x1c)", "unwind_backtrace"),
            ("[c00020397b4d3660] [c0080000107e972c] __tg3_readphy+0xc4/0x1d0 [tg3] (unreliable)", "__tg3_readphy"),
            (" context_switch kernel/sched/core.c:5178 [inline]", "context_switch"),
            (" ? context_switch kernel/sched/core.c:5178 [inline]  ", "context_switch"),
            ("remove_migration_pte (mm/migrate.c:137)", "remove_migration_pte"),
            (" __schedule+0x2e2/0x890 kernel/sched/core.c:6490", "__schedule"),
        ]
        for (text, function) in frames {
            switch TraceLineParser.parse(text) {
            case let .frames(_, f): XCTAssertEqual(f?.function, function, text)
            case let .armFrame(f, _): XCTAssertEqual(f.function, function, text)
            default: XCTFail("not read as a frame: \(text)")
            }
        }
        // ARM's memory dump under `Exception stack(…)`, padded or not, is part of the dump.
        XCTAssertEqual(TraceLineParser.parse("3f00: 20b35644 7effffff 00040000 00000055 00000000 1f4cabd4 20000100 20000118"), .dumpDecoration)
        XCTAssertEqual(TraceLineParser.parse("bfa0:                                     00000000 00000000 00000000 00000000"), .dumpDecoration)
        XCTAssertEqual(TraceLineParser.parse("bfe0: 00000000 00000013"), .dumpDecoration)
        guard case let .frames(markers, nil) = TraceLineParser.parse(" <IRQ>") else { return XCTFail("marker line") }
        XCTAssertEqual(markers, [.irqBegin])
        for prose in ["usb 1-1: new high-speed USB device number 2 using xhci_hcd", "EXT4-fs (sda1): mounted filesystem",
                      "igb 0000:3b:00.0 eno1: NIC Link is Up 1000 Mbps Full Duplex", "e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex",
                      "e1000e 0000:00:19.0: eth0: 10/100 speed: disabling TSO", "systemd[1]: Started Journal Service."] {
            XCTAssertEqual(TraceLineParser.parse(prose), .other, prose)
        }
    }
}

/// A fixed pseudo-random sequence (an LCG), so a failing input comes again.
struct Draw {
    var state: UInt64
    mutating func below(_ n: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(n))
    }
}
