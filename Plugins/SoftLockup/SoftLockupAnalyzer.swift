import FoundationEssentials
import LockscanKit

/// `BUG: soft lockup - CPU#3 stuck for 22s! [qemu-kvm:1234]`.
///
/// The softlockup detector (kernel/watchdog.c) notices that its per-CPU
/// watchdog thread has not run for 2 × watchdog_thresh seconds: the CPU kept
/// running kernel code without scheduling, interrupts on. The report repeats
/// about every 20–30 s while the CPU stays stuck, one event each.
public final class SoftLockupAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "soft-lockup",
        title: "Soft lockup",
        explanation: explanation,
        eventKinds: ["soft_lockup"],
        roles: ["soft_lockup": .lockup],
        triggers: ["soft lockup", "not syncing: softlockup"] + CPUStatus.words,
        reportHeaders: ["BUG: soft lockup", "soft lockup - CPU#", "not syncing: softlockup"],
        examples: examples,
        make: { SoftLockupAnalyzer() })

    static let explanation = """
        A CPU ran kernel code for longer than the soft-lockup threshold (2 × \
        kernel.watchdog_thresh, 20 s by default) without scheduling, so the per-CPU \
        watchdog task never ran. Interrupts still worked (the timer interrupt caught it). \
        Typical causes: a long loop without cond_resched(), spinning on a lock whose \
        holder does not release it, waiting for other CPUs in smp_call_function, or — in \
        a guest — the vCPU not running for long stretches (host overload, the VM \
        paused). The stuck function is where the RIP points and the frame above the \
        dispatch point (syscall, work item, timer) in the stack.
        """

    /// The watchdog prints nothing but dump lines between its header and
    /// the stuck CPU's stack (`Modules linked in:`, lockdep's stamps, the
    /// banner, `RIP:`): prose there is another CPU's, and a stuck CPU
    /// repeats its header for days with its dump often dropped by a busy
    /// console, so the report waits for the dump's first line.
    static let headerDump = ReportDumps.HeaderDump.atFirstDumpLine(within: 40)

    private var pending: PendingReport?
    /// The open report's `CPUStatus` lines (6.10+), read before its dump.
    private var status = CPUStatus()
    /// With kernel.softlockup_panic the report goes on after `Kernel panic -
    /// not syncing: softlockup: hung tasks` (the panicking CPU's stack, from
    /// inside the timer interrupt): the dumps read before the panic, and the
    /// panic's line.
    private var dumpsBeforePanic: [StackDump] = []
    private var panicLine: Int?
    /// The last report emitted, so that a panic printed after it was already
    /// complete is not taken for a report of its own.
    private var lastReportLine: Int?
    /// The caller id of a panic without its BUG line: the CPU when no banner says it.
    private var panicCallerCPU: Int?

    private var unjoinedPanics: [Diagnostic] = []

    public var inputDiagnostics: [Diagnostic] { unjoinedPanics }

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        switch pending.step(record) {
        // Between dumps only lines holding a trigger or a dump's first word
        // matter here too: the panic line is a trigger.
        case .accepted:
            let interest = pending?.interest ?? .collecting
            // Status lines come before the dump: while it is read, none is asked.
            if case .waitingForDump = interest, status.read(record, reportCPU: pending?.event.cpu) {
                pending?.event.evidence.append(record.text)
                if let end = pending?.event.source.endLine, end < record.lastLine { pending?.event.source.endLine = record.lastLine }
            }
            return interest
        case let .finished(p) where panicLine == nil && Self.isPanic(record.text):
            continueAfterPanic(p, record)
            return .collecting
        case let .finished(p): finish(p, emit)
        case .idle: break
        }
        let panic = Self.isPanic(record.text)
        if panic, lastReportLine.map({ record.line - $0 > 300 }) ?? true {
            // The panic without its BUG line (lost on a busy console): the
            // stack printed from the watchdog's timer interrupt still shows
            // where the CPU was stuck.
            var e = Event(analyzer: Self.descriptor.id, kind: "soft_lockup", title: "BUG: soft lockup", severity: .critical,
                          source: SourceLocation(record), time: record.clock,
                          evidence: [record.text], explanation: Self.explanation)
            e.details["panic"] = "true"
            panicCallerCPU = record.callerCPU
            panicLine = record.line
            pending = PendingReport(event: e, header: record, headerDump: Self.headerDump)
            return .collecting
        }
        if panic, let last = lastReportLine {
            // A panic close after a report that was already complete (another
            // report came between): said, not silently dropped.
            if unjoinedPanics.count < 16 {
                unjoinedPanics.append(Diagnostic(file: "", line: record.line, message: "softlockup panic not joined to the soft lockup at line \(last): that report was already complete"))
            }
            return .idle
        }
        guard let header = Header.parse(record.text) else { return .idle }
        var e = Event(analyzer: Self.descriptor.id, kind: "soft_lockup", title: "BUG: soft lockup", severity: .error,
                      source: SourceLocation(record), time: record.clock, cpu: header.cpu, pid: header.pid,
                      comm: header.comm, evidence: [record.text], explanation: Self.explanation)
        if let s = header.seconds { e.details["stuckSeconds"] = String(s) }
        let report = PendingReport(event: e, header: record, headerDump: Self.headerDump)
        pending = report
        status = CPUStatus()
        return report.interest
    }

    public func finish(emit: (Event) -> Void) {
        if let p = pending { finish(p, emit) }
        pending = nil
    }

    /// `Kernel panic - not syncing: softlockup: hung tasks`, not the
    /// `---[ end Kernel panic … ]---` line that closes its dump.
    static func isPanic(_ text: String) -> Bool {
        text.includes("not syncing: softlockup") && !text.drop(while: { $0 == " " }).hasPrefix("---[ end ")
    }

    /// The panic joins the report it ends; the dump printed after it is read too.
    private func continueAfterPanic(_ report: PendingReport, _ record: Record) {
        var report = report
        var (e, dumps) = report.close()
        e.details["panic"] = "true"
        e.severity = .critical
        e.evidence.append(record.text)
        e.source.endLine = record.lastLine
        dumpsBeforePanic = dumps
        panicLine = record.line
        pending = PendingReport(event: e, header: record, headerDump: Self.headerDump)
    }

    private func finish(_ report: PendingReport, _ emit: (Event) -> Void) {
        var report = report
        var (e, dumps) = report.close()
        dumps = dumpsBeforePanic + dumps
        // The stuck CPU's own dump: same CPU when it says, else the first.
        let dump = dumps.first { $0.cpu == e.cpu } ?? dumps.first
        e.adopt(dump)
        if let dump {
            if e.comm == nil { e.comm = dump.comm }
            if e.cpu == nil { e.cpu = dump.cpu ?? panicCallerCPU }
            if let irq = dump.irqsDisabled { e.details["irqsDisabled"] = String(irq) }
        }
        // The panic's own dump is printed from inside the timer interrupt:
        // the stuck code is below the interrupt entry.
        let fromPanic = dump.map { d in panicLine.map { d.firstLine >= $0 } ?? false } ?? false
        if e.cpu == nil { e.cpu = panicCallerCPU }
        dumpsBeforePanic = []
        panicLine = nil
        panicCallerCPU = nil
        lastReportLine = e.source.line
        let culprit = dump.flatMap { FrameAttribution.stallCulprit(FrameAttribution.stuckContext($0, afterTimerInterrupt: fromPanic)) }
        e.setTitle("BUG: soft lockup", culprit: culprit)
        e.hints = StackHints.matching(e.stack)
        if let sample = status.newestSample { e.details["utilization"] = sample }
        if let irqs = status.mostFrequentIRQs { e.details["mostFrequentIRQs"] = irqs }
        if status.looksLikeInterruptStorm {
            e.details["interruptStorm"] = "true"
            e.hints.insert(Hint("Hard interrupts took most of the stuck CPU's time (an interrupt storm): the stack shows only where the last interrupt landed. Find the storming source among the most frequent IRQs the kernel listed (compare /proc/interrupts over time), and its driver or device.",
                                reference: "kernel/watchdog.c (CONFIG_SOFTLOCKUP_DETECTOR_INTR_STORM)"), at: 0)
        }
        status = CPUStatus()
        if e.hints.isEmpty {
            e.hints = [Hint("Look at what the stuck function loops on; if it waits for a lock or for other CPUs (smp_call_function), find the CPU that holds or ignores it in the other CPUs' backtraces. In a VM, compare with the host's steal time and pause events around this time.",
                            reference: "Documentation/admin-guide/lockup-watchdogs.rst")]
        }
        emit(e)
    }

    /// The wordings: `watchdog: BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]`,
    /// older `BUG: soft lockup - CPU#3 stuck for 67s! [qemu-kvm:1234]` and
    /// `NMI watchdog: BUG: soft lockup - …`.
    struct Header {
        var cpu: Int?
        var seconds: Int?
        var comm: String?
        var pid: Int?

        static func parse(_ text: String) -> Header? {
            // `BUG: soft lockup - CPU#3 stuck for 22s!`; a mail client may
            // wrap the line after `BUG:`, so the rest of it is the header too.
            // Every line that ends a report is asked again here as a fresh
            // line: a byte search turns most away before Foundation's
            // `range(of:)`, which costs microseconds a call.
            guard text.includes("soft lockup"),
                  let r = text.firstOccurrence(of: "BUG: soft lockup") ?? text.firstOccurrence(of: "soft lockup - CPU#") else { return nil }
            let rest = text[r.lowerBound...]
            var h = Header()
            h.cpu = rest.integer(after: "CPU#")
            h.seconds = rest.integer(after: "stuck for ")
            // "[comm:pid]" at the end; comms contain spaces and colons ("CPU 0/KVM", "kworker/1:2"),
            // so the pid is after the last colon. Found on bytes: every mark is ASCII.
            if let (comm, pid) = rest.utf8.withContiguousStorageIfAvailable(task) ?? Array(rest.utf8).withUnsafeBufferPointer(task) {
                h.comm = comm
                h.pid = pid
            }
            return h
        }

        private static func task(_ b: UnsafeBufferPointer<UInt8>) -> (String, Int)? {
            guard let open = b.lastIndex(of: UInt8(ascii: "[")), let close = b.lastIndex(of: UInt8(ascii: "]")), open < close,
                  let colon = b[(open + 1)..<close].lastIndex(of: UInt8(ascii: ":")),
                  let pid = Int(String(decoding: UnsafeBufferPointer(rebasing: b[(colon + 1)..<close]), as: UTF8.self)) else { return nil }
            return (String(decoding: UnsafeBufferPointer(rebasing: b[(open + 1)..<colon]), as: UTF8.self), pid)
        }
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("a mail client wrapped the header after `BUG:`", """
            watchdog: BUG:
            soft lockup - CPU#58 stuck for 23s! [ksoftirqd/58:302]
            Call Trace:
             alloc_iova+0xf2/0x140
             run_ksoftirqd+0x2b/0x40
            """, expect: [.init(kind: "soft_lockup", title: "BUG: soft lockup in alloc_iova", cpu: 58, line: 2)]),
        AnalyzerExample("4.15 kworker stuck in smp_call_function_single", """
            watchdog: BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]
            Modules linked in:
            CPU: 0 PID: 1400 Comm: kworker/0:2 Not tainted 4.15.0-rc1+ #198
            Workqueue: events jump_label_update_timeout
            RIP: 0010:smp_call_function_single+0x364/0x560
            RSP: 0018:ffff8801d2ac6f00 EFLAGS: 00000293 ORIG_RAX: ffffffffffffff11
            Call Trace:
             smp_call_function_many+0x773/0x930
             on_each_cpu+0x3d/0x1b0
             jump_label_update_timeout+0x1f/0x30
             process_one_work+0xbfd/0x1be0
             worker_thread+0x223/0x1990
             kthread+0x37a/0x440
             ret_from_fork+0x24/0x30
            """, expect: [.init(kind: "soft_lockup", title: "BUG: soft lockup in smp_call_function", cpu: 0, severity: .error, line: 1)]),
        AnalyzerExample("comm with a space and a colon, stack through the ioctl dispatcher", """
            watchdog: BUG: soft lockup - CPU#2 stuck for 23s! [CPU 0/KVM:31664]
            CPU: 2 PID: 31664 Comm: CPU 0/KVM Tainted: G             L    6.1.0-18-amd64 #1  Debian 6.1.76-1
            RIP: 0010:kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]
            Call Trace:
             <IRQ>
             ? watchdog_timer_fn+0x1a8/0x210
             ? __hrtimer_run_queues+0x112/0x2b0
             </IRQ>
             <TASK>
             kvm_mmu_slot_gfn_write_protect+0x5a/0x110 [kvm]
             kvm_vm_ioctl+0x3ee/0xe80 [kvm]
             __x64_sys_ioctl+0x90/0xd0
             do_syscall_64+0x58/0xc0
             entry_SYSCALL_64_after_hwframe+0x64/0xce
             </TASK>
            """, expect: [.init(kind: "soft_lockup", title: "BUG: soft lockup in kvm_vm_ioctl", cpu: 2, line: 1)]),
        AnalyzerExample("softlockup_panic: the panic and the stack printed after it are the report's", """
            watchdog: BUG: soft lockup - CPU#8 stuck for 26s! [bash:1031]
            Kernel panic - not syncing: softlockup: hung tasks
            CPU: 8 PID: 1031 Comm: bash Tainted: G             L     6.10.0-rc5 #45
            Call Trace:
             <IRQ>
             panic+0x326/0x350
             watchdog_timer_fn+0x226/0x270
             __hrtimer_run_queues+0x1a8/0x360
             hrtimer_interrupt+0xfe/0x240
             __sysvec_apic_timer_interrupt+0x71/0x1f0
             sysvec_apic_timer_interrupt+0x6a/0x80
             </IRQ>
             <TASK>
             asm_sysvec_apic_timer_interrupt+0x1a/0x20
            RIP: 0010:migrate_pages_batch+0x780/0xd50
             migrate_pages+0xaa7/0xd70
             do_migrate_range+0x194/0x740
             offline_pages+0x4ab/0x6e0
             memory_subsys_offline+0x9e/0x1d0
             device_offline+0xe2/0x110
             state_store+0x6d/0xc0
             kernfs_fop_write_iter+0x12c/0x1d0
             vfs_write+0x380/0x540
             ksys_write+0x64/0xe0
             do_syscall_64+0xb9/0x1d0
             entry_SYSCALL_64_after_hwframe+0x77/0x7f
             </TASK>
            ---[ end Kernel panic - not syncing: softlockup: hung tasks ]---
            """, expect: [.init(kind: "soft_lockup", cpu: 8, severity: .critical, line: 1)]),
        AnalyzerExample("the panic whose BUG line was lost is still the soft lockup", """
            Kernel panic - not syncing: softlockup: hung tasks
            CPU: 1 PID: 10431 Comm: syz-executor2 Tainted: G             L   4.16.0+ #4
            Call Trace:
             <IRQ>
             panic+0x1e4/0x41c
             watchdog_timer_fn.cold.5+0xf3/0x126
             __hrtimer_run_queues+0x3ec/0xff0
             hrtimer_interrupt+0x2bc/0x7c0
             smp_apic_timer_interrupt+0x14a/0x700
             apic_timer_interrupt+0xf/0x20
             </IRQ>
            RIP: 0010:snd_rawmidi_write+0x2a3/0xe40
             __vfs_write+0x10b/0x880
             vfs_write+0x1f8/0x560
             ksys_write+0xf9/0x250
             do_syscall_64+0x29e/0x9d0
             entry_SYSCALL_64_after_hwframe+0x42/0xb7
            """, expect: [.init(kind: "soft_lockup", cpu: 1, severity: .critical, line: 1)]),
        AnalyzerExample("a kernel tainted L is not a new lockup", """
            CPU: 1 PID: 77 Comm: kworker/1:1 Tainted: G             L    6.1.0 #1
            WARNING: CPU: 1 PID: 77 at mm/page_alloc.c:5539 __alloc_pages+0x29b/0x320
            """, expect: []),
    ]
}
