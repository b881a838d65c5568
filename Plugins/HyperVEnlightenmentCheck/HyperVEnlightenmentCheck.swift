import LockscanKit

/// A multi-vCPU guest started without the Hyper-V enlightenments that keep
/// Windows from declaring a descheduled vCPU hung, seen together with the
/// hang they prevent.
///
/// The evidence usually sits in two files: the qemu command line in the host's
/// domain log (/var/log/libvirt/qemu/NAME.log) and the crash in the guest's
/// WinDbg `!analyze -v` output (bug check 0x101 CLOCK_WATCHDOG_TIMEOUT) or
/// console (a soft lockup). Per-file analyzers cannot join them, so this one
/// is `AnalyzerScope.run`: one instance sees every input of a `lockscan scan`
/// and concludes in `finish`, after the last. It reads only what it needs:
/// the command line (through `QemuCommandLine`, shared with the host-vm-event
/// analyzer) and whether a 0x101 or a soft lockup header was printed;
/// describing those crashes is the other analyzers' job.
///
/// The advice is for Windows guests only, so a guest gets it only with
/// evidence that it runs Windows (`WindowsGuestEvidence`, the domain XML, or
/// a WinDbg bug check that can only be its own); the event says which.
/// The event takes the time of the `starting up` line above the command
/// line: libvirt stamps that line, not the command line itself.
public final class HyperVEnlightenmentCheck: Analyzer {
    public static let descriptor = AnalyzerDescriptor(
        id: "hyperv-enlightenments",
        title: "Hyper-V enlightenments missing on a guest that hung",
        explanation: explanation,
        eventKinds: ["hyperv_enlightenments_missing"],
        // " -cpu " finds a command line pasted without its domain-log
        // header whatever the binary is called (Ubuntu's kvm-spice, wrappers).
        // "Kernel Version" is WinDbg's `… MP (2 procs) …` line; the XML
        // triggers read a libvirt domain XML given in the same run.
        triggers: ["starting up libvirt", "qemu-system-", "/qemu-kvm", " -cpu ", "CLOCK_WATCHDOG_TIMEOUT (101)", "BUGCHECK_CODE:",
                   "BugCheck 101,", "BUG: soft lockup", "Kernel Version", "<name>"] + DomainXMLWindowsHints.triggers,
        examples: examples,
        scope: .run,
        make: { HyperVEnlightenmentCheck() })

    static let explanation = """
        The guest has more than one vCPU and its qemu -cpu lacks hv_relaxed and/or \
        hv_spinlocks, and the inputs show the hang these prevent. Without hv_relaxed, \
        Windows keeps its clock watchdog armed as on bare metal, so a vCPU the host did not \
        schedule for a few ticks is declared hung (bug check 0x101 CLOCK_WATCHDOG_TIMEOUT). \
        Without hv_spinlocks, a vCPU spinning on a lock whose holder's vCPU is descheduled \
        never tells the hypervisor, and spins until the watchdog fires. hv_vapic and \
        hv_time (with libvirt's hypervclock timer) cut APIC exits and give Windows a \
        stable reference clock.
        """

    /// One guest's command line and where it was printed.
    private struct Guest {
        var commandLine: QemuCommandLine
        var at: Record
        var cpuLine: String
        var smpLine: String?
        /// The clock of the `starting up` line the command line follows.
        var started: Clock
    }

    private var guests: [String: Guest] = [:]
    private var guestOrder: [String] = []
    private var bugcheck: Record?
    /// Processors of the Windows system WinDbg analysed (`MP (2 procs)`).
    private var dumpProcessors: Int?
    private var softLockup: Record?
    private var xml = DomainXMLWindowsHints()
    private var startingUp = Clock()

    private var collector: QemuCommandLine.Collector?
    private var afterHeader = false
    private var firstRecord: Record?
    private var cpuRecord: Record?
    private var lines: [String] = []

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        if afterHeader || collector != nil {
            afterHeader = false
            if collector == nil {
                guard QemuCommandLine.Collector.begins(text) else { return consume(record, emit: emit) }
                collector = QemuCommandLine.Collector()
            }
            if firstRecord == nil { firstRecord = record }
            if text.includes("-cpu ") || text.includes("-smp ") { lines.append(text) }
            if text.includes("-cpu ") { cpuRecord = record }
            if collector!.add(text) { return .collecting }
            remember(collector!.commandLine)
            return .idle
        }
        if text.includes("starting up libvirt") {
            afterHeader = true
            startingUp = record.clock
            return .collecting
        }
        if xml.consume(record) { return .idle }
        if dumpProcessors == nil, text.includes("Kernel Version") {
            // `… MP (2 procs) Free x86 compatible`, or `… UP Free …` for one.
            if let p = text.integer(after: "MP ("), text.includes("MP (\(p) procs)") { dumpProcessors = p } else if text.includes(" UP ") { dumpProcessors = 1 }
        }
        if text.includes(" -cpu "), QemuCommandLine.parse(line: text) != nil {
            // A command line pasted without its domain-log header.
            collector = QemuCommandLine.Collector()
            startingUp = Clock()
            return consume(record, emit: emit)
        }
        let t = text.drop(while: { $0 == " " })
        if bugcheck == nil, t.hasPrefix("CLOCK_WATCHDOG_TIMEOUT (101)") || t.hasPrefix("BugCheck 101,")
            || (t.hasPrefix("BUGCHECK_CODE:") && t.dropFirst(14).drop(while: { $0 == " " }) == "101") {
            bugcheck = record
        }
        if softLockup == nil, text.includes("BUG: soft lockup") { softLockup = record }
        return .idle
    }

    private func remember(_ c: QemuCommandLine?) {
        defer { collector = nil; firstRecord = nil; cpuRecord = nil; lines = [] }
        guard let c, let at = cpuRecord ?? firstRecord else { return }
        let name = c.guestName ?? "(unnamed guest)"
        if guests[name] == nil { guestOrder.append(name) }
        // A later start of the same guest replaces the earlier one.
        guests[name] = Guest(commandLine: c, at: at, cpuLine: lines.first { $0.includes("-cpu ") } ?? at.text,
                             smpLine: lines.first { $0.includes("-smp ") }, started: startingUp)
    }

    public func finish(emit: (Event) -> Void) {
        if collector != nil { remember(collector!.commandLine) }
        guard let crash = bugcheck ?? softLockup else { return }
        let isBugcheck = bugcheck != nil
        // A Windows crash dump names no VM: it is a guest's own evidence only
        // when that guest is the one started here that it can come from.
        let dumpGuests = guestOrder.filter { name in
            guard let v = guests[name]?.commandLine.smp?.vcpus, v > 1 else { return false }
            return dumpProcessors.map { $0 == v } ?? true
        }
        for name in guestOrder {
            guard let g = guests[name], let vcpus = g.commandLine.smp?.vcpus, vcpus > 1 else { continue }
            let cpu = g.commandLine.cpu
            let missing = ["hv-relaxed", "hv-spinlocks"].filter { cpu?.hasEnlightenment($0) != true }
            guard !missing.isEmpty else { continue }
            var windows = WindowsGuestEvidence.of(g.commandLine) + xml.evidence(for: name)
            if let b = bugcheck, dumpGuests == [name] {
                let procs = dumpProcessors.map { " on \($0) processors" } ?? ""
                windows.append("WinDbg's bug check 0x101\(procs) (line \(b.line) of its input) can only be this guest's: the only guest started in these inputs with \(vcpus) vCPUs")
            }
            // No evidence of Windows: Hyper-V flags are not advice for it.
            guard !windows.isEmpty else { continue }
            let add = ["hv_relaxed", "hv_spinlocks=0x1fff", "hv_vapic", "hv_time"].filter { flag in
                let key = String(flag.prefix(while: { $0 != "=" }))
                return cpu?.hasEnlightenment(key) != true
            }
            let spelled = missing.map { $0.replacing("-", with: "_") }
            var e = Event(analyzer: Self.descriptor.id, kind: "hyperv_enlightenments_missing",
                          title: "Hyper-V enlightenments missing for \(name) (\(vcpus) vCPUs): no \(spelled.joined(separator: ", "))",
                          severity: isBugcheck ? .warning : .info, source: SourceLocation(g.at), time: g.started.isEmpty ? g.at.clock : g.started,
                          evidence: [g.cpuLine] + (g.smpLine.map { $0 == g.cpuLine ? [] : [$0] } ?? []) + [crash.text],
                          explanation: Self.explanation)
            e.details["guest"] = name
            e.details["windowsEvidence"] = windows.joined(separator: "; ")
            e.details["vcpus"] = String(vcpus)
            e.details["cpuModel"] = cpu?.model
            e.details["missing"] = spelled.joined(separator: ",")
            e.details["crash"] = isBugcheck ? "CLOCK_WATCHDOG_TIMEOUT (101)" : "soft lockup"
            e.details["crashLine"] = String(crash.line)
            let cpuArgument = ([cpu.map { ([$0.model] + $0.flags.map(\.printed)).joined(separator: ",") } ?? "host"] + add).joined(separator: ",")
            e.details["qemuCPU"] = cpuArgument
            e.hints = [
                Hint("qemu: start the guest with -cpu \(cpuArgument) (hv_relaxed: Windows relaxes its watchdog timeouts on a hypervisor; hv_spinlocks=0x1fff: after 8191 spins Windows notifies the hypervisor instead of spinning on; hv_vapic and hv_time: fewer APIC exits and a stable reference clock).",
                     reference: "qemu docs/system/i386/hyperv.rst"),
                Hint("libvirt: add <features><hyperv><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/></hyperv></features> and <clock><timer name='hypervclock' present='yes'/></clock> to the domain XML (virsh edit \(name)), then restart the guest.",
                     reference: "https://libvirt.org/formatdomain.html#hypervisor-features"),
            ]
            e.hints.append(Hint("Taken to be a Windows guest because: \(windows.joined(separator: "; "))."))
            if !isBugcheck {
                e.hints.append(Hint("The hang here is a soft lockup, which a Linux kernel prints; these flags matter to Windows guests (a Linux guest uses kvm-clock and KVM's own PV features). Check which guest the soft lockup came from before changing its configuration."))
            }
            emit(e)
        }
    }

    /// WinDbg's `!analyze -v` of the guest's bug check, as the examples append it.
    static let windbg101 = """

        CLOCK_WATCHDOG_TIMEOUT (101)
        Arg1: 00000061, Clock interrupt time out interval in nominal clock ticks.
        Arg2: 00000000, 0.
        Arg3: 807a3120, The PRCB address of the hung processor.
        Arg4: 00000001, 0.
        """

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("2-vCPU Windows guest without hv flags, and its bug check 0x101", """
            2017-03-16 02:55:46.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9), hostname: kvm-host-07
            LC_ALL=C PATH=/usr/bin QEMU_AUDIO_DRV=none /usr/bin/qemu-system-x86_64 -name vm105 -S -machine pc-i440fx-xenial,accel=kvm,usb=off -cpu SandyBridge,+pdpe1gb,+vme -m 4096 -smp 2,sockets=1,cores=2,threads=1
            """ + windbg101, expect: [.init(kind: "hyperv_enlightenments_missing",
                                title: "Hyper-V enlightenments missing for vm105 (2 vCPUs): no hv_relaxed, hv_spinlocks",
                                severity: .warning, line: 2)]),
        AnalyzerExample("Ubuntu 16.04 starts qemu as kvm-spice: the arguments, not the name, make the command line", """
            2017-03-16 02:55:46.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9), hostname: kvm-host-07
            LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin QEMU_AUDIO_DRV=spice /usr/bin/kvm-spice -name win7-42 -S -machine pc-i440fx-xenial,accel=kvm,usb=off -cpu SandyBridge -m 4096 -realtime mlock=off -smp 2,sockets=2,cores=1,threads=1 -uuid 5f1c4e6a-0b7e-4a43-9d5e-5c7f1a4f2b10
            """ + windbg101, expect: [.init(kind: "hyperv_enlightenments_missing",
                                title: "Hyper-V enlightenments missing for win7-42 (2 vCPUs): no hv_relaxed, hv_spinlocks",
                                severity: .warning, line: 2)]),
        AnalyzerExample("a command line pasted without its header, from a wrapper script", """
            /opt/vmtools/bin/start-vm -name guest=w2k19,debug-threads=on -machine pc-q35-6.2,accel=kvm -cpu Cascadelake-Server -smp 4 -drive file=/var/lib/vm/w2k19.qcow2,if=virtio
            BugCheck 101, {31, 0, ffffb2813c9c3180, 3}
            """, expect: [.init(kind: "hyperv_enlightenments_missing",
                                title: "Hyper-V enlightenments missing for w2k19 (4 vCPUs): no hv_relaxed, hv_spinlocks",
                                severity: .warning, line: 1)]),
        AnalyzerExample("a soft lockup next to a per-line command line without hv-spinlocks", """
            2026-11-22 03:02:29.412+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4+deb12u2 (Debian), qemu version: 7.2.22, hostname: vm
            /usr/bin/qemu-system-x86_64 \\
            -name guest=win10,debug-threads=on \\
            -cpu host,hv-relaxed=on,hv-vapic=on \\
            -smp 4,sockets=1,cores=4,threads=1
            watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [swapper/1:0]
            """, expect: [.init(kind: "hyperv_enlightenments_missing", title: "Hyper-V enlightenments missing for win10 (4 vCPUs): no hv_spinlocks",
                                severity: .info, line: 4)]),
        AnalyzerExample("a Linux guest (rtc in UTC; driftfix, the PIT policy and -no-hpet are virt-manager's defaults for every guest) and a soft lockup: no Hyper-V advice", """
            2018-03-24 22:19:36.664+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.19, qemu version: 2.5.0 (Debian 1:2.5+dfsg-5ubuntu10.24), hostname: hands
            LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin QEMU_AUDIO_DRV=spice /usr/bin/kvm-spice -name U1404VM2 -S -machine pc-i440fx-xenial,accel=kvm,usb=off -cpu Westmere,+rdtscp,+vme -m 512 -smp 2,sockets=2,cores=1,threads=1 -rtc base=utc,driftfix=slew -global kvm-pit.lost_tick_policy=discard -no-hpet -device usb-tablet,id=input0
            watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [swapper/1:0]
            """, expect: []),
        AnalyzerExample("two 2-vCPU guests and one Windows dump: only the guest whose command line says Windows", """
            2017-03-15 00:10:57.604+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0, hostname: h
            LC_ALL=C /usr/bin/kvm-spice -name vm104 -cpu SandyBridge -smp 2,sockets=1,cores=2,threads=1 -rtc base=utc,driftfix=slew -no-hpet
            2017-03-15 00:11:07.604+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0, hostname: h
            LC_ALL=C /usr/bin/kvm-spice -name vm105 -cpu SandyBridge -smp 2,sockets=1,cores=2,threads=1 -rtc base=localtime,driftfix=slew -no-hpet
            Windows 7 Kernel Version 7601 (Service Pack 1) MP (2 procs) Free x86 compatible
            BugCheck 101, {61, 0, 807a3120, 1}
            """, expect: [.init(kind: "hyperv_enlightenments_missing", title: "Hyper-V enlightenments missing for vm105 (2 vCPUs): no hv_relaxed, hv_spinlocks",
                                severity: .warning, line: 4)]),
        AnalyzerExample("enlightened or single-vCPU guests, or no hang: nothing to say", """
            2017-03-16 02:55:46.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0, hostname: h
            LC_ALL=C /usr/bin/qemu-system-x86_64 -name vm106 -cpu SandyBridge,hv_relaxed,hv_spinlocks=0x1fff -smp 2,sockets=1,cores=2,threads=1
            2017-03-16 02:55:47.227+0000: starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (Ubuntu), qemu version: 2.5.0, hostname: h
            LC_ALL=C /usr/bin/qemu-system-x86_64 -name vm107 -cpu SandyBridge -smp 1
            """ + windbg101, expect: []),
    ]
}
