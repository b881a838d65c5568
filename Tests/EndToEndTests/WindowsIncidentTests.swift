import Foundation
import XCTest

/// Issue 6's Windows guest: `lockscan scan` over the reconstructed incident
/// (corpora/incidents/windows-clock-watchdog/) must show the bug check, the
/// host events around it, and — joining the WinDbg output with the domain
/// log — which Hyper-V flags and libvirt XML the guest lacked.
final class WindowsIncidentTests: XCTestCase {
    let dir = "corpora/incidents/windows-clock-watchdog/"

    func testScanOverTheIncidentDirectory() throws {
        let r = try CLI.run(["scan", "--json", dir + "windbg-analyze.txt", dir + "vm105.log", dir + "libvirtd.log"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let events = try CLI.events(r.stdout)
        let kinds = events.compactMap { $0["kind"] as? String }
        XCTAssertEqual(Set(kinds), ["windows_clock_watchdog", "qemu_start", "domain_tainted", "qemu_shutdown", "migration_failed",
                                    "libvirt_monitor_eof", "libvirt_log_busy", "hyperv_enlightenments_missing"])

        let bugcheck = try XCTUnwrap(events.first { $0["kind"] as? String == "windows_clock_watchdog" })
        XCTAssertEqual(bugcheck["title"] as? String, "CLOCK_WATCHDOG_TIMEOUT (101) on processor 1")
        XCTAssertEqual(bugcheck["cpu"] as? Int, 1)
        XCTAssertEqual(bugcheck["severity"] as? String, "critical")
        let d = try XCTUnwrap(bugcheck["details"] as? [String: String])
        XCTAssertEqual(d["arg1"], "0x61")
        XCTAssertEqual(d["timeoutTicks"], "97")
        XCTAssertEqual(d["prcb"], "0x807a3120")
        XCTAssertEqual(d["bugcheckString"], "CLOCK_WATCHDOG_TIMEOUT_2_PROC")
        XCTAssertEqual(d["crashTime"], "2017-03-15T13:11:54.777+08:00")
        XCTAssertEqual(d["bootTime"], "2017-03-15T08:11:02.037+08:00")
        XCTAssertEqual((bugcheck["time"] as? [String: Any])?["wall"] as? String, "2017-03-15T13:11:54.777+08:00")
        let stack = try XCTUnwrap(bugcheck["stack"] as? [[String: Any]])
        XCTAssertEqual(stack.first?["function"] as? String, "KeBugCheckEx")
        XCTAssertEqual(stack.first?["module"] as? String, "nt")
        XCTAssertEqual(stack.count, 4)

        let start = try XCTUnwrap(events.first { $0["kind"] as? String == "qemu_start" })
        XCTAssertEqual(start["title"] as? String, "qemu started: vm105 (qemu 2.5.0, libvirt 1.3.1)")
        let sd = try XCTUnwrap(start["details"] as? [String: String])
        XCTAssertEqual(sd["vcpus"], "2")
        XCTAssertEqual(sd["hypervEnlightenments"], "none")
        XCTAssertEqual((start["time"] as? [String: Any])?["wall"] as? String, "2017-03-15T00:10:57.604+00:00")

        let eof = try XCTUnwrap(events.first { $0["kind"] as? String == "libvirt_monitor_eof" })
        XCTAssertEqual(eof["severity"] as? String, "error")
        XCTAssertEqual((eof["time"] as? [String: Any])?["wall"] as? String, "2017-03-15T06:03:48.180+00:00")

        let hint = try XCTUnwrap(events.first { $0["kind"] as? String == "hyperv_enlightenments_missing" })
        let source = try XCTUnwrap(hint["source"] as? [String: Any])
        XCTAssertEqual(source["file"] as? String, dir + "vm105.log", "points at the command line, in its own file")
        XCTAssertEqual(source["line"] as? Int, 2)
        let hints = try XCTUnwrap(hint["hints"] as? [[String: Any]]).compactMap { $0["text"] as? String }.joined(separator: "\n")
        XCTAssertTrue(hints.contains("-cpu SandyBridge,+pdpe1gb,"), hints)
        XCTAssertTrue(hints.contains(",+vme,hv_relaxed,hv_spinlocks=0x1fff,hv_vapic,hv_time"), hints)
        XCTAssertTrue(hints.contains("<features><hyperv><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/></hyperv></features>"), hints)
        XCTAssertTrue(hints.contains("<clock><timer name='hypervclock' present='yes'/></clock>"), hints)
        XCTAssertEqual((hint["evidence"] as? [String])?.last, "BugCheck 101, {61, 0, 807a3120, 1}", "the crash it joins")
    }

    func testTextReportNamesTheFix() throws {
        let r = try CLI.run(["scan", dir + "vm105.log", dir + "windbg-analyze.txt"])
        XCTAssertTrue(r.stdout.contains("CLOCK_WATCHDOG_TIMEOUT (101) on processor 1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Hyper-V enlightenments missing for vm105 (2 vCPUs): no hv_relaxed, hv_spinlocks"), r.stdout)
    }

    func testOneFileAloneGivesNoCrossInputHint() throws {
        let r = try CLI.run(["scan", "--json", dir + "vm105.log"])
        XCTAssertFalse(try CLI.events(r.stdout).contains { $0["kind"] as? String == "hyperv_enlightenments_missing" })
    }

    /// Bad input: a WinDbg block cut off before Arg4, a QMP log with a broken
    /// line, invalid UTF-8 — a message with file and line, exit 2, the rest
    /// still analysed, no crash.
    func testBrokenHostInputsAreReportedAndTheRestAnalysed() throws {
        let windbg = try CLI.tempFile("cut.txt", Data("""
            CLOCK_WATCHDOG_TIMEOUT (101)
            Arguments:
            Arg1: 00000061, Clock interrupt time out interval in nominal clock ticks.
            Arg2: 00000000, 0.
            """.utf8))
        let qmp = try CLI.tempFile("qmp.json", Data("""
            {"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "STOP"}
            {"timestamp": {"seconds": 1489557829, "microseconds": 0}, "event": "GUEST_PANI
            {"timestamp": {"seconds": 1489557830, "microseconds": 0}, "event": "GUEST_PANICKED", "data": {"action": "pause"}}
            """.utf8))
        let libvirtLine = Array("2017-03-15 06:03:48.180+0000: 13914: error : qemuMonitorIO:689 : internal error: End of file from monitor ".utf8)
        let libvirt = try CLI.tempFile("libvirtd-bad.log", Data(libvirtLine + [0xFF, 0x0A]))

        let r = try CLI.run(["scan", "--json", windbg, qmp, libvirt])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(windbg):1: WinDbg CLOCK_WATCHDOG_TIMEOUT block is cut off (no Arg3, Arg4)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(qmp):2: not a JSON object"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(libvirt):1: invalid UTF-8"), r.stderr)
        let kinds = try CLI.events(r.stdout).compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds, ["windows_clock_watchdog", "qmp_stop", "guest_panicked", "libvirt_monitor_eof"])
    }

    /// The user's own hosts (Ubuntu 16.04) start qemu as /usr/bin/kvm-spice:
    /// the same domain log with that binary gives the same findings.
    func testUbuntuKvmSpiceDomainLogGivesTheSameFindings() throws {
        let original = try String(contentsOfFile: CLI.packageRoot.appendingPathComponent(dir + "vm105.log").path, encoding: .utf8)
        XCTAssertTrue(original.contains("/usr/bin/qemu-system-x86_64"))
        let spice = try CLI.tempFile("vm105-kvm-spice.log", Data(original.replacingOccurrences(of: "/usr/bin/qemu-system-x86_64", with: "/usr/bin/kvm-spice").utf8))
        func kinds(_ domainLog: String) throws -> [String] {
            let r = try CLI.run(["scan", "--json", domainLog, dir + "windbg-analyze.txt"])
            return try CLI.events(r.stdout).compactMap { $0["kind"] as? String }.sorted()
        }
        let expected = try kinds(dir + "vm105.log")
        XCTAssertTrue(expected.contains("hyperv_enlightenments_missing"))
        XCTAssertEqual(try kinds(spice), expected)
    }
}
