import LockscanKit

/// What the host did to a VM, from the logs a KVM host keeps about it: the
/// qemu domain log libvirt writes (/var/log/libvirt/qemu/NAME.log: `starting
/// up` with versions and the qemu command line, qemu's own `-msg
/// timestamp=on` messages, `shutting down, reason=…`), libvirtd.log (monitor
/// EOF, migration failures, log-file trouble) and QMP events (STOP, RESUME,
/// SHUTDOWN, GUEST_PANICKED, RESET, …, as qemu's JSON or `virsh
/// qemu-monitor-event` lines).
///
/// None of these is a lockup by itself; they are the host half of a guest's
/// story. A guest paused by the host logs nothing (its clock just jumps), a
/// qemu that died shows in the guest as a log that simply stops: only these
/// lines say so. Severity follows whether the host event was planned (start,
/// pause, shutdown by libvirt: info) or not (monitor EOF, guest panic:
/// error).
public final class HostVirtAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "host-vm-event",
        title: "Host-side VM events (qemu, libvirt, QMP)",
        explanation: explanation,
        eventKinds: ["qemu_start", "qemu_shutdown", "qemu_signal", "domain_tainted", "libvirt_monitor_eof",
                     "migration_failed", "libvirt_log_busy", "qmp_stop", "qmp_resume", "guest_panicked",
                     "guest_reset", "guest_shutdown", "qmp_migration", "qmp_watchdog", "nmi_injected"],
        // What the timeline aligns a guest's clock with: the VM's run as the
        // host saw it.
        roles: ["qemu_start": .vmStart, "qmp_stop": .vmPause, "qmp_resume": .vmResume, "qmp_migration": .vmMigratedAway,
                "guest_shutdown": .vmEnd, "qemu_shutdown": .vmEnd, "qemu_signal": .vmEnd, "guest_panicked": .guestPanic,
                "guest_reset": .guestReset, "nmi_injected": .nmiInjected],
        // Each trigger holds a byte pair that is rare in kernel logs, so the
        // scan's prefilter stops on few dmesg lines: `log file: '` rather
        // than `Cannot open log file` (`nn`), `Domain id=` rather than
        // `is tainted: `. QMP messages by the quoted names of the events
        // reported, not by `"event":`: a QMP log is mostly RTC_CHANGE and
        // the like, and a line no trigger holds is never made a record.
        triggers: ["starting up libvirt", "shutting down", "terminating on signal", "End of file from monitor",
                   "unexpectedly failed", "log file: '", "Domain id=", " for domain ", "\"inject-nmi\""]
            + reportedQMPEvents.sorted().map { "\"\($0)\"" },
        examples: examples,
        make: { HostVirtAnalyzer() })

    static let explanation = """
        Something the host did to the VM or saw happen to it, from the qemu domain log, \
        libvirtd.log or QMP events: qemu started (with its versions and command line), \
        paused (STOP) or resumed, the guest shut down, reset or panicked, qemu was \
        signalled or exited under libvirt (monitor end of file), a migration failed. Put \
        these next to the guest's own log: a guest paused by the host shows no message of \
        its own, only a jump in time and often lockup or clocksource reports after it.
        """

    /// A `starting up` line whose command line is still being read.
    private var start: Event?
    /// The time of the start just read, for the unstamped lines libvirt
    /// writes with it.
    private var startedAt: Clock?
    private var commandLine = QemuCommandLine.Collector()
    private var readingCommandLine = false
    private var injectedNMIs: Set<String> = []
    /// Command-line values that could not be read (an `-smp` count no
    /// qemu accepts): said, not guessed.
    private var diagnostics: [Diagnostic] = []
    public var inputDiagnostics: [Diagnostic] { diagnostics }

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        // A QMP log is one JSON object per line and mostly events that say
        // nothing about the run (RTC_CHANGE, BLOCK_IO_ERROR, …): name them
        // from the bytes and parse only the ones this analyzer reports.
        if start == nil, text.utf8.first == UInt8(ascii: "{") {
            guard let name = Self.qmpEventName(text), Self.reportedQMPEvents.contains(name) else { return .idle }
            if let q = QMPEvent.parse(text), let e = Self.qmp(q, record) { emit(e) }
            return .idle
        }
        // libvirtd at debug level logs each monitor command, several times
        // (Send command, QEMU_MONITOR_SEND_MSG, IO_WRITE): one event per
        // command id. The guest's "NMI received" comes after it.
        if text.includes("\"inject-nmi\"") {
            let id = text.firstOccurrence(of: "\"id\":").map { String(text[$0.upperBound...].prefix { $0 != "}" && $0 != "," }) } ?? ""
            if injectedNMIs.insert(id).inserted {
                var e = event(record, kind: "nmi_injected", title: "host injected an NMI into the guest (inject-nmi)", severity: .info)
                Self.libvirtDetails(text, into: &e)
                emit(e)
            }
            return .idle
        }
        if var e = start {
            if readingCommandLine || QemuCommandLine.Collector.begins(text) {
                readingCommandLine = true
                e.evidence.append(text)
                e.source.endLine = record.lastLine
                start = e
                if commandLine.add(text) { return .collecting }
            }
            startedAt = e.time
            flushStart(emit)
            if readingCommandLine { readingCommandLine = false; return .idle }
        }
        // libvirt writes the taint lines of a start (`Domain id=27 is
        // tainted: high-privileges`) right after the command line, without a
        // stamp in libvirt before 3.x: they take the `starting up` time.
        if let at = startedAt, record.clock.isEmpty, text.includes("is tainted: "), var e = Self.classify(record) {
            e.time = at
            emit(e)
            return .idle
        }
        startedAt = nil
        if let up = QemuDomainLog.StartingUp.parse(text), up.libvirtVersion != nil {
            var e = event(record, kind: "qemu_start", title: "qemu started", severity: .info)
            e.details["libvirtVersion"] = up.libvirtVersion
            e.details["qemuVersion"] = up.qemuVersion
            e.details["hostname"] = up.hostname
            e.details["hostKernel"] = up.kernel
            start = e
            commandLine = QemuCommandLine.Collector()
            return .collecting
        }
        if let e = Self.classify(record) { emit(e) }
        return .idle
    }

    public func finish(emit: (Event) -> Void) {
        flushStart(emit)
    }

    /// Emits the pending start with what its command line said.
    private func flushStart(_ emit: (Event) -> Void) {
        guard var e = start else { return }
        start = nil
        if let c = commandLine.commandLine {
            e.details["guest"] = c.guestName
            if let vcpus = c.smp?.vcpus { e.details["vcpus"] = String(vcpus) }
            if let refused = c.smp?.refused, !refused.isEmpty {
                diagnostics.append(Diagnostic(file: "", line: e.source.line, message: "-smp \(refused.joined(separator: ",")): not a count qemu accepts (1 to 4096), so the guest's vCPU count is not given"))
            }
            if let smp = c.arguments.firstIndex(of: "-smp").flatMap({ $0 + 1 < c.arguments.count ? c.arguments[$0 + 1] : nil }) {
                e.details["smp"] = smp
            }
            if let cpu = c.cpu {
                e.details["cpuModel"] = cpu.model
                e.details["cpuFlags"] = cpu.flags.map(\.printed).joined(separator: ",")
                let hv = ["hv-relaxed", "hv-vapic", "hv-spinlocks", "hv-time"].filter { cpu.hasEnlightenment($0) }
                e.details["hypervEnlightenments"] = hv.isEmpty ? "none" : hv.joined(separator: ",")
            }
            e.details["machine"] = c.machineType
            e.details["accelerator"] = c.accelerator
            // `-incoming tcp:…` / `defer`: this qemu receives a running guest
            // by migration; the guest does not boot here.
            if let i = c.arguments.firstIndex(of: "-incoming") {
                e.details[EventRole.incomingMigrationDetail] = i + 1 < c.arguments.count ? c.arguments[i + 1] : "yes"
            }
            if !c.rtc.isEmpty { e.details["rtc"] = c.rtc.keys.sorted().map { "\($0)=\(c.rtc[$0]!)" }.joined(separator: ",") }
        }
        var title = e.details[EventRole.incomingMigrationDetail] != nil ? "qemu started for an incoming migration" : "qemu started"
        if let g = e.details["guest"] { title += ": \(g)" }
        let versions = [e.details["qemuVersion"].map { "qemu \(Self.shortVersion($0))" },
                        e.details["libvirtVersion"].map { "libvirt \($0)" }].compactMap { $0 }
        if !versions.isEmpty { title += " (" + versions.joined(separator: ", ") + ")" }
        e.title = title
        emit(e)
    }

    /// `2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9)` → `2.5.0`; `7.2.22Debian 1:7.2…` → `7.2.22`.
    static func shortVersion(_ v: String) -> String {
        String(v.prefix(while: { $0.isNumber || $0 == "." }))
    }

    private func event(_ record: Record, kind: String, title: String, severity: Severity) -> Event {
        Self.event(record, kind: kind, title: title, severity: severity)
    }

    static func event(_ record: Record, kind: String, title: String, severity: Severity) -> Event {
        Event(analyzer: descriptor.id, kind: kind, title: title, severity: severity, source: SourceLocation(record),
              time: record.clock, evidence: [record.text], explanation: explanation)
    }

    /// One-line events.
    static func classify(_ record: Record) -> Event? {
        let text = record.text
        if let reason = QemuDomainLog.shutdownReason(text) {
            // libvirt's reasons (src/qemu/qemu_process.c): shutdown, destroyed,
            // crashed, migrated, saved, failed, from-snapshot, daemon.
            let bad = reason == "crashed" || reason == "failed"
            var e = event(record, kind: "qemu_shutdown", title: "qemu shutting down, reason=\(reason)", severity: bad ? .error : .info)
            e.details["reason"] = reason
            return e
        }
        if text == "shutting down" {
            // libvirt before 3.x gave no reason.
            return event(record, kind: "qemu_shutdown", title: "qemu shutting down", severity: .info)
        }
        if let r = text.firstOccurrence(of: "terminating on signal ") {
            // qemu-system-x86_64: terminating on signal 15 from pid 18436 (libvirtd)
            let rest = text[r.upperBound...]
            let signal = Int(rest.prefix(while: { $0.isNumber }))
            let sender = rest.firstOccurrence(of: "(").map { String(rest[$0.upperBound...].prefix(while: { $0 != ")" })) }
            var title = "qemu terminating on signal \(signal.map(String.init) ?? "?")"
            if let sender { title += " from \(sender)" }
            var e = event(record, kind: "qemu_signal", title: title, severity: sender == "libvirtd" || sender == "virtqemud" ? .info : .warning)
            e.details["signal"] = signal.map(String.init)
            e.pid = text.integer(after: "from pid ")
            e.comm = sender
            return e
        }
        if text.includes("End of file from monitor") {
            var e = event(record, kind: "libvirt_monitor_eof", title: "libvirt: End of file from monitor", severity: .error)
            libvirtDetails(text, into: &e)
            e.hints = [Hint("libvirt lost qemu's monitor socket: the qemu process exited or crashed underneath it. Look at the domain log (/var/log/libvirt/qemu/NAME.log) for qemu's last words and `shutting down, reason=`, and at the host's kernel log for an OOM kill or a segfault of qemu at this time.")]
            return e
        }
        if text.includes("migration"), text.includes("job"), text.includes("unexpectedly failed") || text.includes("cancel") {
            var e = event(record, kind: "migration_failed", title: "libvirt: migration job failed", severity: .error)
            libvirtDetails(text, into: &e)
            return e
        }
        if let r = text.firstOccurrence(of: "Cannot open log file") {
            let busy = text.includes("Device or resource busy")
            var e = event(record, kind: "libvirt_log_busy",
                          title: busy ? "libvirt: cannot open domain log file (device or resource busy)" : "libvirt: cannot open domain log file",
                          severity: .warning)
            libvirtDetails(text, into: &e)
            if let q = text[r.upperBound...].firstOccurrence(of: "'") {
                e.details["logFile"] = String(text[q.upperBound...].prefix(while: { $0 != "'" }))
            }
            return e
        }
        if let r = text.firstOccurrence(of: "is tainted: ") {
            let reason = String(text[r.upperBound...].prefix(while: { !$0.isWhitespace }))
            var e = event(record, kind: "domain_tainted", title: "domain tainted: \(reason)", severity: .info)
            e.details["taint"] = reason
            return e
        }
        if let q = QMPEvent.parse(text) { return qmp(q, record) }
        return nil
    }

    static let reportedQMPEvents: Set<Substring> = ["STOP", "RESUME", "GUEST_PANICKED", "RESET", "SHUTDOWN", "WATCHDOG", "MIGRATION"]

    /// The value of the first `"event"` key of a QMP line, found on bytes.
    static func qmpEventName(_ text: String) -> Substring? {
        let key = Array("\"event\"".utf8)
        let u = text.utf8
        var i = u.startIndex
        while let start = u[i...].firstIndex(of: key[0]) {
            if u[start...].starts(with: key) {
                // skip `"event"`, spaces and the colon, to the opening quote
                guard let open = u[u.index(start, offsetBy: key.count)...].firstIndex(where: { $0 == UInt8(ascii: "\"") }) else { return nil }
                let from = u.index(after: open)
                guard let close = u[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return Substring(text[from..<close])
            }
            i = u.index(after: start)
        }
        return nil
    }

    static func libvirtDetails(_ text: String, into e: inout Event) {
        let m = LibvirtMessage.parse(text)
        e.details["function"] = m.function
        e.details["message"] = m.message
    }

    static func qmp(_ q: QMPEvent, _ record: Record) -> Event? {
        let reason = q.data["reason"]
        var e: Event
        switch q.name {
        case "STOP": e = event(record, kind: "qmp_stop", title: "QMP STOP (guest paused)", severity: .info)
        case "RESUME": e = event(record, kind: "qmp_resume", title: "QMP RESUME", severity: .info)
        case "GUEST_PANICKED":
            e = event(record, kind: "guest_panicked", title: "QMP GUEST_PANICKED", severity: .error)
            e.details["action"] = q.data["action"]
        case "RESET":
            e = event(record, kind: "guest_reset", title: "QMP RESET" + (reason.map { " (\($0))" } ?? ""),
                      severity: reason == "guest-panic" || reason == "watchdog" ? .warning : .info)
        case "SHUTDOWN":
            e = event(record, kind: "guest_shutdown", title: "QMP SHUTDOWN" + (reason.map { " (\($0))" } ?? ""),
                      severity: reason == "guest-panic" ? .error : .info)
        case "WATCHDOG":
            e = event(record, kind: "qmp_watchdog", title: "QMP WATCHDOG (\(q.data["action"] ?? "?"))", severity: .warning)
        case "MIGRATION":
            let status = q.data["status"] ?? "?"
            if status == "failed" || status == "cancelled" {
                e = event(record, kind: "migration_failed", title: "QMP MIGRATION \(status)", severity: .error)
            } else if status == "completed" {
                e = event(record, kind: "qmp_migration", title: "QMP MIGRATION completed", severity: .info)
            } else {
                return nil // setup, active, …: steps, not outcomes
            }
        default:
            return nil
        }
        for (k, v) in q.data { e.details[k] = v }
        e.details["qmpEvent"] = q.name
        e.details["domain"] = q.domain
        return e
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("libvirtd debug log: one inject-nmi command logged three times is one injection", """
            2017-03-15 06:03:40.100+0000: 13914: debug : qemuMonitorJSONCommandWithFd:301 : Send command '{"execute":"inject-nmi","id":"libvirt-16"}' for write with FD -1
            2017-03-15 06:03:40.100+0000: 13914: info : qemuMonitorSend:1033 : QEMU_MONITOR_SEND_MSG: mon=0x7f4c1c00e210 msg={"execute":"inject-nmi","id":"libvirt-16"} fd=-1
            2017-03-15 06:03:40.101+0000: 13911: info : qemuMonitorIOWrite:543 : QEMU_MONITOR_IO_WRITE: mon=0x7f4c1c00e210 buf={"execute":"inject-nmi","id":"libvirt-16"} len=42 ret=42 errno=0
            2017-03-15 06:05:00.000+0000: 13914: debug : qemuMonitorJSONCommandWithFd:301 : Send command '{"execute":"inject-nmi","id":"libvirt-17"}' for write with FD -1
            """, expect: [.init(kind: "nmi_injected", severity: .info, line: 1), .init(kind: "nmi_injected", severity: .info, line: 4)]),
        AnalyzerExample("libvirt 1.3 domain log: header, one-line command line, shutdown", """
            2017-03-16 02:55:46.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9), hostname: kvm-host-07
            LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin QEMU_AUDIO_DRV=none /usr/bin/qemu-system-x86_64 -name vm105 -S -machine pc-i440fx-xenial,accel=kvm,usb=off -cpu SandyBridge,+pdpe1gb,+vme -m 4096 -smp 2,sockets=1,cores=2,threads=1 -rtc base=localtime,driftfix=slew -no-hpet
            Domain id=12 is tainted: high-privileges
            2017-03-16T08:10:02.113000Z qemu-system-x86_64: terminating on signal 15 from pid 1873
            2017-03-16 08:10:02.514+0000: shutting down, reason=destroyed
            2017-03-16 08:10:05.001+0000: shutting down
            """, expect: [.init(kind: "qemu_start", title: "qemu started: vm105 (qemu 2.5.0, libvirt 1.3.1)", severity: .info, line: 1),
                          .init(kind: "domain_tainted", severity: .info, line: 3),
                          .init(kind: "qemu_signal", title: "qemu terminating on signal 15", severity: .warning, line: 4),
                          .init(kind: "qemu_shutdown", title: "qemu shutting down, reason=destroyed", severity: .info, line: 5),
                          .init(kind: "qemu_shutdown", title: "qemu shutting down", severity: .info, line: 6)]),
        AnalyzerExample("libvirt 9 domain log: one word per line", """
            2026-11-22 03:02:29.412+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4+deb12u2 (Debian), qemu version: 7.2.22Debian 1:7.2+dfsg-7+deb12u18+b3, kernel: 6.18.44-fc-v657, hostname: vm
            LC_ALL=C \\
            /usr/bin/qemu-system-x86_64 \\
            -name guest=lockscan-vm-pause,debug-threads=on \\
            -cpu max,la57=off \\
            -smp 2,sockets=1,dies=1,cores=2,threads=1 \\
            -msg timestamp=on
            2026-11-22 03:03:20.391+0000: shutting down, reason=crashed
            """, expect: [.init(kind: "qemu_start", title: "qemu started: lockscan-vm-pause (qemu 7.2.22, libvirt 9.0.0)", line: 1),
                          .init(kind: "qemu_shutdown", severity: .error, line: 8)]),
        AnalyzerExample("libvirtd.log around a Windows guest's hang", """
            2017-03-15 06:03:48.180+0000: 13914: error : qemuMonitorIO:689 : internal error: End of file from monitor
            2017-03-15 06:03:48.212+0000: 13911: error : virNetClientProgramDispatchError:177 : Cannot open log file: '/var/log/libvirt/qemu/vm105.log': Device or resource busy
            2017-03-15 06:05:10.004+0000: 13912: error : qemuMigrationCheckJobStatus:2641 : operation failed: migration job: unexpectedly failed
            """, expect: [.init(kind: "libvirt_monitor_eof", severity: .error, line: 1),
                          .init(kind: "libvirt_log_busy", severity: .warning, line: 2),
                          .init(kind: "migration_failed", severity: .error, line: 3)]),
        AnalyzerExample("QMP events as qemu sends them", """
            {"timestamp": {"seconds": 1795316557, "microseconds": 665930}, "event": "STOP"}
            {"timestamp": {"seconds": 1795316572, "microseconds": 713145}, "event": "RESUME"}
            {"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "GUEST_PANICKED", "data": {"action": "pause"}}
            {"timestamp": {"seconds": 1795316598, "microseconds": 584727}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}
            """, expect: [.init(kind: "qmp_stop", severity: .info, line: 1), .init(kind: "qmp_resume", line: 2),
                          .init(kind: "guest_panicked", severity: .error, line: 3),
                          .init(kind: "guest_shutdown", title: "QMP SHUTDOWN (guest-shutdown)", severity: .info, line: 4)]),
        AnalyzerExample("virsh qemu-monitor-event --timestamp", """
            2017-03-15 06:03:48.180+0000: event STOP for domain vm105: <null>
            2017-03-15 06:03:49.001+0000: event RESET for domain vm105: {"guest":true,"reason":"guest-reset"}
            """, expect: [.init(kind: "qmp_stop", line: 1), .init(kind: "guest_reset", title: "QMP RESET (guest-reset)", severity: .info, line: 2)]),
        AnalyzerExample("routine host lines are not events", """
            2026-11-22 02:54:46.081+0000: 18439: info : libvirt version: 9.0.0, package: 9.0.0-4+deb12u2 (Debian)
            2026-11-22 02:54:46.081+0000: 18439: info : hostname: vm
            {"timestamp": {"seconds": 1795316557, "microseconds": 1}, "event": "MIGRATION", "data": {"status": "active"}}
            {"timestamp": {"seconds": 1795316557, "microseconds": 2}, "event": "BALLOON_CHANGE", "data": {"actual": 1073741824}}
            {"return": {}}
            the event loop for domain controllers was restarted
            """, expect: []),
    ]
}
