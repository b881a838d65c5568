import Foundation
import LockscanKit
import XCTest

/// The host-side readers on real lines: libvirt 9.0.0's own logs from
/// corpora/generated (captured, not written by hand) and the lines quoted in
/// issue 6.
final class HostSourcesTests: XCTestCase {
    func parse(_ s: String) -> (LinePrefix, String) {
        let bytes = Array(s.utf8)
        let p = LinePrefix.parse(bytes)
        return (p, String(decoding: bytes[p.messageStart...], as: UTF8.self))
    }

    func testLibvirtdLogPrefix() {
        var (p, m) = parse("2017-03-15 06:03:48.180+0000: 13914: error : qemuMonitorIO:689 : internal error: End of file from monitor")
        XCTAssertEqual(p.clock.wall, "2017-03-15T06:03:48.180+00:00")
        XCTAssertEqual(p.thread, 13914)
        XCTAssertEqual(p.level, 3)
        XCTAssertEqual(m, "qemuMonitorIO:689 : internal error: End of file from monitor")
        let msg = LibvirtMessage.parse(m)
        XCTAssertEqual(msg.function, "qemuMonitorIO")
        XCTAssertEqual(msg.sourceLine, 689)
        XCTAssertEqual(msg.message, "internal error: End of file from monitor")

        // corpora/generated/soft-lockup/libvirtd.log
        (p, m) = parse("2026-11-22 02:54:46.081+0000: 18439: info : libvirt version: 9.0.0, package: 9.0.0-4+deb12u2 (Debian)")
        XCTAssertEqual(p.level, 6)
        XCTAssertEqual(m, "libvirt version: 9.0.0, package: 9.0.0-4+deb12u2 (Debian)")
        XCTAssertNil(LibvirtMessage.parse(m).function)
    }

    func testLibvirtdInsideJournalPrefix() {
        let (p, m) = parse("Mar 15 06:03:48 kvm-host-07 libvirtd[13914]: 2017-03-15 06:03:48.180+0000: 13914: error : qemuMonitorIO:689 : internal error: End of file from monitor")
        XCTAssertEqual(p.host, "kvm-host-07")
        XCTAssertEqual(p.clock.wallPrinted, "Mar 15 06:03:48")
        XCTAssertEqual(p.clock.wall, "2017-03-15T06:03:48.180+00:00", "libvirt's own UTC stamp")
        XCTAssertEqual(p.thread, 13914)
        XCTAssertEqual(m, "qemuMonitorIO:689 : internal error: End of file from monitor")
    }

    func testQemuDomainLogLines() {
        var (p, m) = parse("2017-03-16 02:55:46.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9), hostname: kvm-host-07")
        XCTAssertEqual(p.clock.wall, "2017-03-16T02:55:46.227+00:00")
        XCTAssertNil(p.thread)
        let up = QemuDomainLog.StartingUp.parse(m)
        XCTAssertEqual(up?.libvirtVersion, "1.3.1")
        XCTAssertEqual(up?.libvirtPackage, "1ubuntu10.8 (Ubuntu)")
        XCTAssertEqual(up?.qemuVersion, "2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9)")
        XCTAssertEqual(up?.hostname, "kvm-host-07")

        // -msg timestamp=on, as in corpora/generated/*/domain.log
        (p, m) = parse("2026-11-22T03:03:18.586570Z qemu-system-x86_64: terminating on signal 15 from pid 18436 (libvirtd)")
        XCTAssertEqual(p.clock.wall, "2026-11-22T03:03:18.586570Z")
        XCTAssertEqual(m, "qemu-system-x86_64: terminating on signal 15 from pid 18436 (libvirtd)")
        (p, m) = parse("2026-11-22 03:03:20.391+0000: shutting down, reason=shutdown")
        XCTAssertEqual(QemuDomainLog.shutdownReason(m), "shutdown")
        (_, m) = parse("2026-11-22 02:56:09.228+0000: Domain id=5 is tainted: custom-argv")
        XCTAssertEqual(m, "Domain id=5 is tainted: custom-argv")
    }

    func testEveryGeneratedDomainLogHeaderParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("corpora/generated")
        let scenarios = try FileManager.default.contentsOfDirectory(atPath: root.path).filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/domain.log").path)
        }
        XCTAssertFalse(scenarios.isEmpty)
        for s in scenarios {
            let lines = try String(contentsOf: root.appendingPathComponent("\(s)/domain.log"), encoding: .utf8)
                .components(separatedBy: "\n")
            let (p, m) = parse(lines[0])
            XCTAssertNotNil(p.clock.wall, s)
            XCTAssertEqual(QemuDomainLog.StartingUp.parse(m)?.libvirtVersion, "9.0.0", s)
            var collector = QemuCommandLine.Collector()
            var i = 1
            XCTAssertTrue(QemuCommandLine.Collector.begins(lines[i]), s)
            while collector.add(lines[i]) { i += 1 }
            let c = try XCTUnwrap(collector.commandLine, s)
            XCTAssertEqual(c.guestName, "lockscan-\(s)")
            XCTAssertEqual(c.smp?.vcpus, 2)
            XCTAssertEqual(c.cpu?.model, "max")
            XCTAssertEqual(c.cpu?.flag("la57")?.enabled, false)
            XCTAssertEqual(c.rtc["base"], "utc")
            XCTAssertEqual(c.accelerator, "tcg")
            XCTAssertEqual(c.environment.first, "LC_ALL=C")
            let append = try XCTUnwrap(c.arguments.firstIndex(of: "-append").map { c.arguments[$0 + 1] }, s)
            XCTAssertTrue(append.hasPrefix("console=ttyS0,115200 printk.time=1 ") && append.hasSuffix(" lockscan_scenario=\(s)"),
                          "the quoted -append value is one word: \(append)")
        }
    }

    func testQMPEventForms() {
        // corpora/generated/vm-pause/qmp-events.json
        var e = QMPEvent.parse(#"{"timestamp": {"seconds": 1795316598, "microseconds": 587224}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-signal"}}"#)
        XCTAssertEqual(e?.name, "SHUTDOWN")
        XCTAssertEqual(e?.data["guest"], "false")
        XCTAssertEqual(e?.data["reason"], "host-signal")
        e = QMPEvent.parse(#"{"timestamp": {"seconds": 1795316598, "microseconds": 1}, "event": "DUMP_COMPLETED", "data": {"result": {"total": 10, "status": "completed"}}}"#)
        XCTAssertEqual(e?.data["result"], #"{"status":"completed","total":10}"#)
        // virsh qemu-monitor-event --timestamp, after its libvirt stamp
        let (p, m) = parse("2017-03-15 06:03:48.180+0000: event STOP for domain vm105: <null>")
        XCTAssertEqual(p.clock.wall, "2017-03-15T06:03:48.180+00:00")
        e = QMPEvent.parse(m)
        XCTAssertEqual(e, QMPEvent(name: "STOP", domain: "vm105"))
        e = QMPEvent.parse(#"event SHUTDOWN for domain 'vm105': {"guest":true,"reason":"guest-panic"}"#)
        XCTAssertEqual(e?.domain, "vm105")
        XCTAssertEqual(e?.data["reason"], "guest-panic")
        XCTAssertNil(QMPEvent.parse("event loop restarted"))
        XCTAssertNil(QMPEvent.parse(#"{"return": {}}"#))
    }

    func testQMPInputGivesUTCClocksAndReportsBrokenLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qmp-\(UUID().uuidString).json")
        var bytes = Array(#"{"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "STOP"}"#.utf8) + [0x0A]
        bytes += Array(#"{"timestamp": {"seconds": 1489557829, "microseconds": 5}, "event": "RES"#.utf8) + [0x0A] // cut off
        bytes += [0x7B, 0xFF, 0xFE, 0x7D, 0x0A] // invalid UTF-8
        bytes += Array(#"{"timestamp": {"seconds": 1489557830, "microseconds": 0}, "event": "RESUME"}"#.utf8) + [0x0A]
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        final class Collect: Analyzer, @unchecked Sendable {
            var records: [Record] = []
            func consume(_ record: Record, emit: (Event) -> Void) -> Interest { records.append(record); return .idle }
            func finish(emit: (Event) -> Void) {}
        }
        let collect = Collect()
        let d = AnalyzerDescriptor(id: "t", title: "t", explanation: "", eventKinds: ["t"], triggers: ["\"event\""],
                                   examples: [], make: { collect })
        let summary = ScanEngine(analyzers: [d]).scan(.path(url.path)) { _ in }
        XCTAssertEqual(summary.format, "qmp")
        XCTAssertEqual(collect.records.map(\.line), [1, 4], "the good lines around the broken ones are read")
        XCTAssertEqual(collect.records.first?.clock.wall, "2017-03-15T06:03:48.180000Z")
        // Line 3 twice: the input layer's UTF-8 check, and the QMP reader
        // saying it skipped the line.
        XCTAssertEqual(summary.diagnostics.map(\.line), [2, 3, 3])
        XCTAssertTrue(summary.diagnostics[0].message.contains("not a JSON object"), summary.diagnostics[0].message)
        XCTAssertTrue(summary.diagnostics[1...].allSatisfy { $0.message.contains("UTF-8") }, "\(summary.diagnostics)")
    }

    func testWindowsDebugSessionClocks() {
        XCTAssertEqual(WindowsDebugSession.sessionTime("Debug session time: Wed Mar 15 13:11:54.777 2017 (GMT+8)"),
                       "2017-03-15T13:11:54.777+08:00")
        XCTAssertEqual(WindowsDebugSession.sessionTime("Debug session time: Tue Dec 18 10:39:02.334 2018 (UTC + 8:00)"),
                       "2018-12-18T10:39:02.334+08:00")
        XCTAssertEqual(WindowsDebugSession.sessionTime("Debug session time: Mon Jan  6 01:02:03.004 2020 (UTC - 5:00)"),
                       "2020-01-06T01:02:03.004-05:00")
        XCTAssertEqual(WindowsDebugSession.uptime("System Uptime: 0 days 5:00:52.740"), 18052.74)
        let expected: Double = 344587.653 // 3 days 23:43:07.653
        XCTAssertEqual(WindowsDebugSession.uptime("System Uptime: 3 days 23:43:07.653") ?? 0, expected, accuracy: 0.0005)
        XCTAssertNil(WindowsDebugSession.uptime("System Uptime: not available"))
        // Hostile fields are refused with a reason, never multiplied into a trap.
        for bad in ["System Uptime: 0 days 9223372036854775807:00:52.740", "System Uptime: 99999999999999999999 days 1:00:52.740",
                    "System Uptime: 0 days 5:61:52.740", "System Uptime: 0 days 5:00:nan"] {
            guard case .failure? = WindowsDebugSession.parseUptime(bad) else { return XCTFail("accepted: \(bad)") }
            XCTAssertNil(WindowsDebugSession.uptime(bad))
        }
        XCTAssertEqual(WindowsDebugSession.bootTime(sessionTime: "2017-03-15T13:11:54.777+08:00", uptime: 18052.74),
                       "2017-03-15T08:11:02.037+08:00")
        XCTAssertEqual(WindowsDebugSession.bootTime(sessionTime: "2017-03-01T00:10:00.000+00:00", uptime: 900),
                       "2017-02-28T23:55:00.000+00:00", "across a month boundary")
    }
}

final class QemuCommandLineTests: XCTestCase {
    /// libvirt 1.3 (Ubuntu 16.04) printed everything on one line.
    func testOldOneLineLayoutWithoutHyperV() throws {
        let c = try XCTUnwrap(QemuCommandLine.parse(line: "LC_ALL=C PATH=/usr/bin QEMU_AUDIO_DRV=none /usr/bin/qemu-system-x86_64 -name vm105 -S -machine pc-i440fx-xenial,accel=kvm,usb=off -cpu SandyBridge,+pdpe1gb,+vme -m 4096 -realtime mlock=off -smp 2,sockets=1,cores=2,threads=1 -rtc base=localtime,driftfix=slew -no-hpet"))
        XCTAssertEqual(c.environment, ["LC_ALL=C", "PATH=/usr/bin", "QEMU_AUDIO_DRV=none"])
        XCTAssertEqual(c.binary, "/usr/bin/qemu-system-x86_64")
        XCTAssertEqual(c.guestName, "vm105")
        XCTAssertEqual([c.smp?.cpus, c.smp?.sockets, c.smp?.cores, c.smp?.threads], [2, 1, 2, 1])
        XCTAssertEqual(c.machineType, "pc-i440fx-xenial")
        XCTAssertEqual(c.accelerator, "kvm")
        XCTAssertEqual(c.rtc, ["base": "localtime", "driftfix": "slew"])
        let cpu = try XCTUnwrap(c.cpu)
        XCTAssertEqual(cpu.model, "SandyBridge")
        XCTAssertEqual(cpu.flags.map(\.name), ["pdpe1gb", "vme"])
        XCTAssertFalse(cpu.hasEnlightenment("hv-relaxed"))
        XCTAssertFalse(cpu.hasEnlightenment("hv_spinlocks"))
    }

    func testBothHyperVSpellings() throws {
        let old = try XCTUnwrap(QemuCommandLine.parse(line: "/usr/bin/kvm -cpu host,hv_time,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff -smp 2")?.cpu)
        let new = try XCTUnwrap(QemuCommandLine.parse(line: "qemu-system-x86_64 -cpu host,hv-time=on,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff -smp 2")?.cpu)
        for cpu in [old, new] {
            for hv in ["hv-relaxed", "hv_relaxed", "hv-vapic", "hv-time", "hv-spinlocks"] {
                XCTAssertTrue(cpu.hasEnlightenment(hv), "\(hv) in \(cpu.flags.map(\.printed))")
            }
            XCTAssertEqual(cpu.flag("hv_spinlocks")?.value, "0x1fff")
        }
        let off = try XCTUnwrap(QemuCommandLine.parse(line: "qemu-system-x86_64 -cpu host,hv-relaxed=off,-hv_vapic,hv_spinlocks=0xffffffff")?.cpu)
        XCTAssertFalse(off.hasEnlightenment("hv-relaxed"), "=off")
        XCTAssertFalse(off.hasEnlightenment("hv-vapic"), "-flag")
        XCTAssertFalse(off.hasEnlightenment("hv-spinlocks"), "0xffffffff is qemu's never-notify")
        let passthrough = try XCTUnwrap(QemuCommandLine.parse(line: "qemu-system-x86_64 -cpu host,hv-passthrough")?.cpu)
        XCTAssertTrue(passthrough.hasEnlightenment("hv-relaxed"))
    }

    /// libvirt 9 prints one word per line ending in ` \`, shell-quoted.
    func testPerLineLayout() throws {
        let lines = [
            "LC_ALL=C \\",
            "HOME=/var/lib/libvirt/qemu/domain-10-win \\",
            "/usr/bin/qemu-system-x86_64 \\",
            "-name guest=win,debug-threads=on \\",
            "-object '{\"qom-type\":\"secret\",\"id\":\"masterKey0\"}' \\",
            "-machine pc-q35-7.2,usb=off \\",
            "-cpu Skylake-Client,hv-relaxed=on,hv-spinlocks=0x1fff \\",
            "-smp 4,sockets=1,dies=1,cores=2,threads=2 \\",
            "-msg timestamp=on",
        ]
        var collector = QemuCommandLine.Collector()
        XCTAssertTrue(QemuCommandLine.Collector.begins(lines[0]))
        XCTAssertFalse(QemuCommandLine.Collector.begins("2026-11-22 03:02:29.413+0000: Domain id=10 is tainted: custom-argv"))
        for (i, l) in lines.enumerated() { XCTAssertEqual(collector.add(l), i < lines.count - 1) }
        let c = try XCTUnwrap(collector.commandLine)
        XCTAssertEqual(c.guestName, "win")
        XCTAssertEqual(c.smp?.vcpus, 4)
        XCTAssertEqual(c.smp?.threads, 2)
        XCTAssertEqual(c.machineType, "pc-q35-7.2")
        XCTAssertEqual(c.cpu?.model, "Skylake-Client")
        XCTAssertTrue(c.cpu?.hasEnlightenment("hv_relaxed") == true)
        XCTAssertTrue(c.arguments.contains(#"{"qom-type":"secret","id":"masterKey0"}"#))
    }

    func testSMPTopologyOnly() {
        XCTAssertEqual(QemuCommandLine.parse(line: "qemu-system-x86_64 -smp sockets=2,cores=2,threads=1")?.smp?.vcpus, 4)
        XCTAssertEqual(QemuCommandLine.parse(line: "qemu-system-x86_64 -smp cpus=3")?.smp?.vcpus, 3)
        XCTAssertNil(QemuCommandLine.parse(line: "LC_ALL=C /usr/bin/true -smp 2"), "no qemu binary")
    }
}

/// A qemu command line is recognised by its arguments: distributions and
/// wrappers give the binary other names (Ubuntu 16.04: /usr/bin/kvm-spice).
final class QemuCommandLineRecognitionTests: XCTestCase {
    func testRenamedBinariesAndWrappersAreCommandLines() throws {
        let lines = [
            "LC_ALL=C QEMU_AUDIO_DRV=spice /usr/bin/kvm-spice -name win7-42 -S -machine pc-i440fx-xenial,accel=kvm -smp 2",
            "/usr/bin/qemu-system-x86_64-spice -name a -machine pc,accel=kvm -smp 2",
            "/usr/libexec/qemu-kvm -name guest=b -smp 4",
            "/opt/vmtools/bin/start-vm -name guest=w2k19 -machine pc-q35-6.2,accel=kvm -cpu host -smp 4",
        ]
        for line in lines {
            let c = try XCTUnwrap(QemuCommandLine.parse(line: line), line)
            XCTAssertNotNil(c.guestName, line)
            XCTAssertNotNil(c.smp?.cpus, line)
        }
        XCTAssertEqual(QemuCommandLine.parse(line: lines[0])?.binary, "/usr/bin/kvm-spice")
        XCTAssertEqual(QemuCommandLine.parse(line: lines[0])?.accelerator, "kvm")
        XCTAssertEqual(QemuCommandLine.parse(line: lines[3])?.binary, "/opt/vmtools/bin/start-vm")
    }

    func testOrdinaryCommandsAreNot() {
        for line in ["ls -l -a /tmp", "/usr/bin/rsync -a -v --delete src dst", "cp -r a b", "/bin/sh -c 'echo -name -cpu'"] {
            XCTAssertNil(QemuCommandLine.parse(line: line), line)
        }
    }
}
