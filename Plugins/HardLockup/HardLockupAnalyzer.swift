import FoundationEssentials
import LockscanKit

/// Hard lockups: a CPU that did not take its timer interrupt for the watchdog
/// threshold, detected by the perf NMI watchdog, the buddy detector (another
/// CPU notices), or powerpc's watchdog.
///
/// One event per lockup. The detection line, the dump that follows it and a
/// later `Kernel panic - not syncing: Hard LOCKUP` are one event. When the
/// console showed no stack but crash's `bt` of the stuck CPU follows (a vmcore
/// session pasted after the log), its exception RIP names the function.
public final class HardLockupAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "hard-lockup",
        title: "Hard LOCKUP (NMI / buddy watchdog)",
        explanation: explanation,
        eventKinds: ["hard_lockup"],
        roles: ["hard_lockup": .lockup],
        // "Comm: " is the banner of any dump: a hard lockup whose detection
        // line was lost is recognised by its stack (see `orphan`).
        triggers: ["hard LOCKUP", "Hard LOCKUP", "hardlockup", "watchdog_overflow_callback", "exception RIP", " TASK: ", "Comm: "],
        // The detection line (x86/arm64 perf and buddy; powerpc's own
        // watchdog in both its forms), and the panic when the lockup ends in one.
        reportHeaders: ["Watchdog detected hard LOCKUP", "self-detected hard LOCKUP @", "detected Hard LOCKUP other CPUS:",
                        "not syncing: Hard LOCKUP", "not syncing: hardlockup"],
        examples: examples,
        make: { HardLockupAnalyzer() })

    static let explanation = """
        A hard lockup means a CPU ran with interrupts disabled for longer than the \
        hard-lockup threshold (kernel.watchdog_thresh, 10 s by default; twice that is the \
        soft-lockup threshold). The perf NMI detector catches it on the CPU itself; the \
        buddy detector notices it from the next CPU. Its timer interrupt \
        never ran, so the NMI watchdog interrupted it and printed where it was: the \
        interrupted function is in the RIP line or the first frame after the NMI stack. \
        Typical causes are a spinlock held or awaited with interrupts off, a very long \
        loop under such a lock, or a device/firmware stall (SMI, hypervisor not running \
        the vCPU).
        """

    /// The report being assembled: emitted when the next lockup starts or at
    /// the end, so a trailing panic line can still join it.
    private var pending: Event?
    private var pendingFromWarning = false
    private var collector: StackDumpCollector?
    private var collectorForCrash = false
    /// Every dump after the header (the stuck CPU's, then the NMI backtraces
    /// of the others with hardlockup_all_cpu_backtrace): the incident.
    private var incidentDumps: ReportDumps?
    /// A dump seen with no report open: if its stack runs through the perf
    /// detector's `watchdog_overflow_callback`, it is a hard lockup whose
    /// detection line the capture lost (a serial console dropped it, or the
    /// paste starts at the banner).
    private var orphan: StackDumpCollector?
    private var orphanStart: Record?
    /// The orphan's NMI section held the perf callback: read it to its end.
    private var orphanHasCallback = false

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        if incidentDumps != nil {
            // Another report ends the incident; a later detection line of
            // this lockup ("… hard LOCKUP on cpu N" again) does not. Fed where
            // it lies, not through a copy that shared (and so copied) its arrays.
            let otherReport = record.startsReport && !record.text.includes("hard LOCKUP")
            if otherReport || !incidentDumps!.feed(record) { closeIncident(incidentDumps!) }
        }
        switch collector.step(record) {
        case .accepted: return .collecting
        case let .finished(dump): attach(dump, crash: collectorForCrash)
        case .idle: break
        }
        let text = record.text
        let header = Header.parse(text)
        if header == nil, pending == nil {
            switch orphan.step(record) {
            case .accepted:
                // The perf detector's callback runs in the NMI, whose
                // section a stack prints first. Past it without the
                // callback, this is not a hard lockup's dump (every soft
                // lockup's and stall's dump comes here): the rest is not read.
                if !orphanHasCallback, let o = orphan, o.pastNMISection {
                    if o.dump.frames.contains(where: Self.isCallback) {
                        orphanHasCallback = true
                    } else {
                        orphan = nil
                        orphanStart = nil
                        return interest
                    }
                }
                return .collecting
            case let .finished(dump): adoptOrphan(dump, emit)
            case .idle: break
            }
            if Self.opensOrphan(text) {
                var c = StackDumpCollector(start: record, midTrace: !text.includes("Comm: ") && !text.includes(" TASK: "))
                _ = c.feed(record)
                orphan = c
                orphanStart = record
                orphanHasCallback = false
                return .collecting
            }
        } else {
            orphan = nil
        }
        if let header {
            if header.isPanic, var p = pending {
                p.source.endLine = record.lastLine
                p.evidence.append(text)
                p.details["panic"] = "true"
                p.severity = .critical
                pending = p
                if p.stack.isEmpty { startCollector(record, crash: false) }
                return interest
            }
            if let p = pending, pendingFromWarning, record.line - p.source.line <= 8, !header.isPanic {
                // `WARNING: … watchdog_overflow_callback` then the detection line: one report.
                pending?.evidence.append(text)
                if let cpu = header.cpu { pending?.cpu = cpu }
                pendingFromWarning = false
                return interest
            }
            flush(emit)
            var e = Event(analyzer: Self.descriptor.id, kind: "hard_lockup", title: "hard LOCKUP",
                          severity: header.isPanic ? .critical : .error, source: SourceLocation(record),
                          time: record.clock, cpu: header.cpu, evidence: [text], explanation: Self.explanation)
            if let others = header.otherCPUs { e.details["cpus"] = others }
            if let f = header.function {
                e.stack = [f]
                e.title = "hard LOCKUP in \(FunctionName.base(f.function ?? "?"))"
            }
            if header.isPanic { e.details["panic"] = "true" }
            e.details["detector"] = header.detector
            if let r = header.reporter { e.details["reportedBy"] = "cpu \(r)" }
            pending = e
            pendingFromWarning = header.detector == "warning"
            startCollector(record, crash: false)
            incidentDumps = ReportDumps(header: record)
            return .collecting
        }
        if let p = pending, p.stack.isEmpty,
           text.includes("[exception RIP:") || (text.includes(" TASK: ") && text.includes("COMMAND:")) {
            var c = StackDumpCollector(start: record)
            _ = c.feed(record)
            collector = c
            collectorForCrash = true
            return .collecting
        }
        return interest
    }

    private var interest: Interest { collector != nil || incidentDumps != nil || orphan != nil ? .collecting : .idle }

    private func closeIncident(_ d: ReportDumps) {
        var d = d
        let all = d.close()
        if let note = d.capNote(all) { pending?.details[Event.cappedDetail] = note }
        incidentDumps = nil
        // Other CPUs' dumps after the report (NMI backtraces, a crash bt of
        // another CPU): the incident, even when the stuck CPU showed none.
        let cpus = Set(all.compactMap(\.cpu))
        if cpus.count >= 2 || cpus.contains(where: { $0 != pending?.cpu }) { pending?.incident = Incident.build(all) }
    }

    public func finish(emit: (Event) -> Void) {
        if let c = collector { attach(c.dump, crash: collectorForCrash) }
        collector = nil
        flush(emit)
        if let o = orphan { adoptOrphan(o.dump, emit) }
        orphan = nil
    }

    /// A banner (`CPU: 3 PID: 0 Comm: swapper/3`) or the detector's own
    /// frame with no report open may start a header-less hard lockup.
    static func opensOrphan(_ text: String) -> Bool {
        if text.includes("watchdog_overflow_callback") { return true }
        guard text.includes("Comm: ") || text.includes(" TASK: ") else { return false }
        switch TraceLineParser.parse(text) {
        case .taskHeader, .crashTask: return true
        default: return false
        }
    }

    static func isCallback(_ f: Frame) -> Bool { f.function.map(FunctionName.base) == "watchdog_overflow_callback" }

    /// Emits a header-less dump as a hard lockup when the perf NMI
    /// detector's callback is on its stack: only the stuck CPU runs it.
    private func adoptOrphan(_ dump: StackDump, _ emit: (Event) -> Void) {
        orphan = nil
        guard let start = orphanStart,
              dump.frames.contains(where: Self.isCallback) else { return }
        orphanStart = nil
        var e = Event(analyzer: Self.descriptor.id, kind: "hard_lockup", title: "hard LOCKUP", severity: .error,
                      source: SourceLocation(start), time: start.clock, cpu: dump.cpu, evidence: [],
                      explanation: Self.explanation)
        e.details["detector"] = "perf"
        e.details["header"] = "not in the capture: recognised by watchdog_overflow_callback on the stack"
        pending = e
        attach(dump, crash: false)
        flush(emit)
    }

    private func startCollector(_ record: Record, crash: Bool) {
        collector = StackDumpCollector(start: record)
        collectorForCrash = crash
    }

    private func flush(_ emit: (Event) -> Void) {
        if let d = incidentDumps { closeIncident(d) }
        if let p = pending { emit(finalize(p)) }
        pending = nil
        pendingFromWarning = false
    }

    /// Folds a dump into the pending event. A crash dump joins only if it is
    /// of the stuck CPU (or does not say) and the console gave no stack.
    private func attach(_ dump: StackDump, crash: Bool) {
        guard var e = pending else { return }
        let interrupted = dump.interruptedFrames
        if crash {
            if interrupted.isEmpty, e.cpu == nil, let c = dump.cpu {
                // crash's task line alone (its frames follow after a blank
                // line): the panicking task's CPU.
                pending?.cpu = c
                return
            }
            guard e.stack.isEmpty, !interrupted.isEmpty else { return }
            if let c = dump.cpu, let stuck = e.cpu, c != stuck { return }
            e.details["stackFrom"] = "crash bt"
        } else if dump.frames.isEmpty && dump.pid == nil {
            return
        }
        if let c = dump.cpu, e.cpu == nil { e.cpu = c }
        e.kernel = dump.release ?? e.kernel
        e.taint = dump.taint ?? e.taint
        if let c = dump.cpu, let stuck = e.cpu, c != stuck {
            // The CPU that noticed printed its own stack (a panic from the
            // buddy or hrtimer detector): how it found the lockup, not where
            // the stuck CPU was. Keep it as evidence, never as the title.
            if e.details["reportedBy"] == nil { e.details["reportedBy"] = "cpu \(c)" }
            if e.stack.isEmpty {
                e.details["stackNote"] = "the stack printed is the reporting CPU \(c)'s, not the stuck CPU \(stuck)'s"
            }
            e.source.endLine = max(e.source.endLine, dump.lastLine)
            for line in dump.evidence.prefix(80) where e.evidence.last != line || line.isEmpty { e.evidence.append(line) }
            pending = e
            return
        }
        e.pid = dump.pid ?? e.pid
        e.comm = dump.comm ?? e.comm
        if dump.showsOnlyPlumbing, e.stack.isEmpty {
            e.stack = dump.frames
            e.details["stackNote"] = "the stack shows only NMI, watchdog and interrupt plumbing, not the code the CPU was running"
            e.title = "hard LOCKUP (stack shows only watchdog plumbing)"
        } else if !interrupted.isEmpty || !dump.frames.isEmpty {
            // powerpc's "self-detected hard LOCKUP @ func" names the IP in the header itself.
            let headerIP = e.stack.first { $0.isInstructionPointer }
            e.stack = (dump.instructionPointer == nil ? headerIP.map { [$0] } ?? [] : []) + dump.frames
            e.noteSpinLock(dump)
            let innermost = ((dump.instructionPointer == nil ? headerIP.map { [$0] } ?? [] : []) + interrupted)
                .compactMap { $0.function.map(FunctionName.base) }
            if let name = Self.lockCaller(innermost) {
                e.title = "hard LOCKUP in \(name)"
                if let spin = innermost.first, spin != name { e.details["spinningIn"] = spin }
            }
        }
        if let irq = dump.irqsDisabled { e.details["irqsDisabled"] = String(irq) }
        e.source.endLine = max(e.source.endLine, dump.lastLine)
        for line in dump.evidence.prefix(80) where e.evidence.last != line || line.isEmpty { e.evidence.append(line) }
        pending = e
    }

    /// The function a hard lockup is titled by: the innermost interrupted
    /// frame, past spinlock primitives — `_raw_spin_lock_irqsave` says only
    /// that the CPU spun; its caller says which lock (the convention bug
    /// trackers use for soft lockups). The primitive is kept as `spinningIn`.
    static func lockCaller(_ names: [String]) -> String? {
        names.first { !isLockPrimitive($0) } ?? names.first
    }

    static func isLockPrimitive(_ name: String) -> Bool {
        if LockFrames.spin.contains(name) { return true }
        return ["_raw_spin_", "raw_spin_rq_lock", "_raw_spin_rq_lock", "do_raw_spin_", "queued_spin_", "native_queued_spin_",
                "__pv_queued_spin_", "pv_queued_spin_", "arch_spin_", "_raw_read_", "_raw_write_", "queued_read_",
                "queued_write_", "__raw_spin_", "_spin_lock"].contains { name.hasPrefix($0) }
    }

    private func finalize(_ e: Event) -> Event {
        var e = e
        e.hints = StackHints.matching(e.stack)
        if e.hints.isEmpty {
            e.hints = [Hint("Read the interrupted stack (after the NMI frames) for the lock or loop it was in; if it spins on a lock, the holder is in another CPU's backtrace (enable kernel.hardlockup_all_cpu_backtrace=1 to get them).",
                            reference: "Documentation/admin-guide/lockup-watchdogs.rst")]
        }
        return e
    }

    /// The wordings of a hard-lockup report.
    struct Header {
        var cpu: Int?
        var otherCPUs: String?
        var function: Frame?
        var isPanic = false
        var detector: String
        /// The CPU that printed the report, when the wording names it.
        var reporter: Int?

        static let quick = TriggerSearch(["LOCKUP", "lockup", "watchdog_overflow_callback"].map { Array($0.utf8) })

        static func parse(_ text: String) -> Header? {
            guard quick.matches(text) else { return nil }
            if text.includes("Kernel panic - not syncing:") {
                guard text.includes("Hard LOCKUP") || text.includes("hardlockup") || text.includes("hard LOCKUP") else { return nil }
                var h = Header(detector: "panic")
                h.isPanic = true
                h.cpu = text.integer(after: "hard LOCKUP on cpu ")
                return h
            }
            if let r = text.firstOccurrence(of: "Watchdog detected hard LOCKUP on cpu ") {
                var h = Header(detector: "perf")
                h.cpu = text.integer(after: "hard LOCKUP on cpu ")
                // 6.5+ names the CPU that noticed: "watchdog: CPU2: Watchdog detected hard
                // LOCKUP on cpu 3". A different CPU than the stuck one is the buddy
                // detector; the same one is the CPU's own (perf) detector.
                let before = text[..<r.lowerBound]
                if let c = before.lastOccurrence(of: "CPU"),
                   let reporter = Int(before[c.upperBound...].prefix(while: { $0.isNumber })) {
                    h.reporter = reporter
                    if reporter != h.cpu { h.detector = "buddy" }
                }
                return h
            }
            // powerpc: "Watchdog CPU:15 detected Hard LOCKUP other CPUS:9-11",
            // "watchdog: CPU 4 self-detected hard LOCKUP @ plpar_hcall_norets+0x1c/0x28",
            // "watchdog: CPU 9 detected hard LOCKUP on other CPUs 10-11".
            for marker in ["detected Hard LOCKUP other CPUS:", "detected hard LOCKUP on other CPUs "] where text.contains(marker) {
                // The stuck CPUs are listed ("9-11"); the first is the event's cpu.
                var h = Header(detector: "powerpc")
                h.otherCPUs = text.components(separatedBy: marker).last?.trimmingBlanks()
                h.cpu = h.otherCPUs.flatMap { Int($0.prefix(while: { $0.isNumber })) }
                return h
            }
            if text.includes("self-detected hard LOCKUP @ ") {
                var h = Header(detector: "powerpc")
                h.cpu = text.integer(after: "CPU ")
                if let at = text.components(separatedBy: "hard LOCKUP @ ").last,
                   case let .frames(_, frame?) = TraceLineParser.parse(at) {
                    var f = frame
                    f.isInstructionPointer = true
                    h.function = f
                }
                return h
            }
            if text.hasPrefix("WARNING:"), text.includes("watchdog_overflow_callback") {
                var h = Header(detector: "warning")
                h.cpu = text.integer(after: "CPU: ")
                return h
            }
            return nil
        }
    }

    /// A 3.10 (CentOS 7) hard-lockup dump after its detection line: the
    /// panic comes from the NMI, the stuck frames after `<<EOE>>`.
    static let centos7Dump = """
        CPU: 50 PID: 0 Comm: swapper/50 Tainted: G           OE  ------------   3.10.0-514.16.1.el7.x86_64 #1
        Hardware name: Dell Inc. PowerEdge R730/0WCJNT, BIOS 2.4.3 01/17/2017
         ffffffff81a1d0e0 7f4b3b0ac11d7c8a ffff882f7fc85b18 ffffffff81686ac3
        Call Trace:
         <NMI>  [<ffffffff81686ac3>] dump_stack+0x19/0x1b
         [<ffffffff8167fd5c>] panic+0xe3/0x1f2
         [<ffffffff81085abf>] nmi_panic+0x3f/0x40
         [<ffffffff8112f4d6>] watchdog_overflow_callback+0xf6/0x100
         <<EOE>>  <IRQ>  [<ffffffff810c9658>] tg_unthrottle_up+0x18/0x90
         [<ffffffff810bc4d5>] walk_tg_tree_from+0x85/0x100
         [<ffffffff810d4b8e>] unthrottle_cfs_rq+0x9e/0x180
        """

    static let examples: [AnalyzerExample] = [
        // The detection lines of several CPUs in a row (seen in a real 5.8
        // coresched report: cpu 14, then cpu 38): one report each, never
        // one report whose "preamble" swallows the others.
        AnalyzerExample("powerpc: a self-detected lockup, then CPU 0 reporting others", """
            watchdog: CPU 3 self-detected hard LOCKUP @ snooze_loop+0x30/0x80
            watchdog: CPU 3 TB:1234, last heartbeat TB:1200 (2000ms ago)
            Watchdog CPU:0 detected Hard LOCKUP other CPUS:2-5
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in snooze_loop", cpu: 3, line: 1),
                          .init(kind: "hard_lockup", line: 3)]),
        AnalyzerExample("several CPUs print their detection line one after another", """
            NMI watchdog: Watchdog detected hard LOCKUP on cpu 14
            NMI watchdog: Watchdog detected hard LOCKUP on cpu 38
            NMI watchdog: Watchdog detected hard LOCKUP on cpu 5
            Modules linked in: kvm_intel kvm irqbypass
            CPU: 5 PID: 0 Comm: swapper/5 Not tainted 5.8.0-rc4 #1
            RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP", cpu: 14, line: 1),
                          .init(kind: "hard_lockup", title: "hard LOCKUP", cpu: 38, line: 2),
                          .init(kind: "hard_lockup", title: "hard LOCKUP in native_queued_spin_lock_slowpath", cpu: 5, line: 3)]),
        AnalyzerExample("4.x perf NMI watchdog with interrupted RIP", """
            watchdog: Watchdog detected hard LOCKUP on cpu 3
            Modules linked in: kvm_intel kvm irqbypass
            CPU: 3 PID: 2101 Comm: stress-ng Tainted: G           OE     5.15.0-91-generic #101-Ubuntu
            Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
            RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200
            Code: 8b 45 00 85 c0 75 ef 5d c3 cc cc cc cc
            RSP: 0018:ffffb3a4c0003e48 EFLAGS: 00000002
            RAX: 0000000000000001 RBX: ffff9c8fbfd2c000 RCX: 0000000000000000
            Call Trace:
             <NMI>
             ? watchdog_overflow_callback+0x6a/0x80
             ? __perf_event_overflow+0x52/0xf0
             </NMI>
             <TASK>
             _raw_spin_lock+0x2a/0x30
             double_rq_lock+0x3e/0x80
             load_balance+0x55c/0xa30
             </TASK>
            Kernel panic - not syncing: Hard LOCKUP
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in double_rq_lock", cpu: 3,
                                severity: .critical, line: 1)]),
        AnalyzerExample("3.10 panic from the NMI, old frames, stack after <<EOE>>",
                        "Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu 50\n" + centos7Dump, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in tg_unthrottle_up", cpu: 50, severity: .critical, line: 1)]),
        AnalyzerExample("buddy detector names the stuck CPU, not the printer", """
            CPU2: Watchdog detected hard LOCKUP on cpu 3
            Sending NMI from CPU 2 to CPUs 3:
            NMI backtrace for cpu 3
            CPU: 3 PID: 17 Comm: migration/3 Not tainted 6.6.0 #1
            RIP: 0010:multi_cpu_stop+0x4b/0x130
            Call Trace:
             <NMI>
             ? nmi_cpu_backtrace+0xa4/0x110
             </NMI>
             <TASK>
             cpu_stopper_thread+0xd5/0x140
             </TASK>
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in multi_cpu_stop", cpu: 3, severity: .error, line: 1)]),
        AnalyzerExample("vmcore bt pasted after the console line supplies the function", """
            NMI watchdog: Watchdog detected hard LOCKUP on cpu 50
            PID: 0      TASK: ffff882f7fc0c000  CPU: 50  COMMAND: "swapper/50"
             #0 [ffff882f7fc85e48] crash_nmi_callback at ffffffff8104fd91
             #1 [ffff882f7fc85e58] nmi_handle at ffffffff8168f2b9
                [exception RIP: tg_unthrottle_up+24]
                RIP: ffffffff810c9658  RSP: ffff882f7fc83dc8  RFLAGS: 00000046
            --- <NMI exception stack> ---
             #5 [ffff882f7fc83dc8] tg_unthrottle_up at ffffffff810c9658
             #6 [ffff882f7fc83de0] walk_tg_tree_from at ffffffff810bc4d5
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in tg_unthrottle_up", cpu: 50, line: 1)]),
        AnalyzerExample("powerpc watchdog: another CPU reports, NIP names the function", """
            Watchdog CPU:128 detected Hard LOCKUP other CPUS:168
            Watchdog CPU:168 Hard LOCKUP
            CPU: 168 PID: 0 Comm: swapper/168 Tainted: G           OE    4.15.0-21-generic #22-Ubuntu
            NIP [c000000000024420] udelay+0x40/0x60
            LR [c0080000107e970c] __tg3_readphy+0xa4/0x1d0 [tg3]
            Call Trace:
            [c00020397b4d3660] [c0080000107e972c] __tg3_readphy+0xc4/0x1d0 [tg3] (unreliable)
            [c00020397b4d36b0] [c0080000107fcf84] tg3_setup_copper_phy+0x64c/0x1130 [tg3]
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in udelay", cpu: 168, line: 1)]),
        AnalyzerExample("powerpc self-detected, a wrapped preamble line is not the stack", """
            watchdog: CPU 16 self-detected hard LOCKUP @ .do_raw_spin_lock+0x90/0x1d0
            hardirqs last  enabled at (3697757): [<c0000000003d8d84>]
            .__slab_free+0x3b4/0x5f0
            CPU: 16 PID: 292187 Comm: kworker/16:0 Tainted: G      D           5.14.0-rc1-TalosII #2
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in do_raw_spin_lock", cpu: 16, line: 1)]),
        // The same dump with its detection line lost.
        AnalyzerExample("the detection line was lost: the perf callback on the stack is enough", centos7Dump, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in tg_unthrottle_up", cpu: 50, line: 1)]),
        AnalyzerExample("the detection line was lost, 4.x layout: the callback is found after dump_stack in the NMI section", """
            CPU: 3 PID: 2101 Comm: stress-ng Tainted: G           OE     4.15.0-91-generic #101-Ubuntu
            Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
            Call Trace:
             <NMI>
             dump_stack+0x63/0x8e
             watchdog_overflow_callback+0xa9/0xd0
             __perf_event_overflow+0x54/0xe0
             perf_event_overflow+0x14/0x20
             intel_pmu_handle_irq+0x203/0x4b0
             perf_event_nmi_handler+0x2d/0x50
             nmi_handle+0x69/0x110
             default_do_nmi+0x4e/0x100
             do_nmi+0xd9/0x140
             end_repeat_nmi+0x1a/0x1e
            RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200
            RSP: 0018:ffffb3a4c0003e48 EFLAGS: 00000002
             </NMI>
             <IRQ>
             _raw_spin_lock+0x2a/0x30
             double_rq_lock+0x3e/0x80
             load_balance+0x55c/0xa30
             </IRQ>
            """, expect: [.init(kind: "hard_lockup", title: "hard LOCKUP in double_rq_lock", cpu: 3, line: 1)]),
        AnalyzerExample("not a lockup: another report's banner and stack", """
            CPU: 3 PID: 2101 Comm: stress-ng Not tainted 6.1.0 #1
            Call Trace:
             <TASK>
             dump_stack_lvl+0x44/0x5c
             ext4_writepages+0x2a/0x80
             </TASK>
            """, expect: []),
        AnalyzerExample("not a lockup: perf NMI watchdog disabled under qemu", """
            NMI watchdog: Perf NMI watchdog permanently disabled
            INFO: NMI handler (perf_event_nmi_handler) took too long to run: 29.847 msecs
            """, expect: []),
    ]
}

