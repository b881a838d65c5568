import FoundationEssentials
import LockscanKit

/// Oopses, kernel BUGs and panics that are not a lockup's.
///
/// lockscan looks for hangs, but a machine that crashed is never "nothing
/// found": the crash is reported as context (severity info), and a lockup
/// later in the same boot learns that it may be that crash's consequence
/// (`CrashAftermath`). One report — the fault line, die()'s line with its
/// dump, and the panic it ends in — is one event. A panic another analyzer
/// claims (its report header: `Hard LOCKUP`, `softlockup: hung tasks`,
/// `hung_task: blocked tasks`, `RCU Stall`) is that analyzer's and not
/// reported here a second time.
public final class KernelCrashAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "kernel-crash",
        title: "Kernel Oops, BUG or panic (context)",
        explanation: oopsExplanation,
        eventKinds: ["oops", "kernel_panic"],
        roles: ["oops": .crash, "kernel_panic": .crash],
        triggers: CrashLine.triggers,
        reportHeaders: CrashLine.reportHeaders,
        // A lockup's header ends the crash report waiting for its panic.
        triggeredByReportHeaders: true,
        examples: examples,
        make: { KernelCrashAnalyzer() })

    static let oopsExplanation = """
        The kernel hit a fault or a BUG() in kernel mode (an Oops): it printed where \
        (the RIP / pc / NIP line) and killed the task that was running, or panicked when \
        the fault was in an interrupt, in init, or panic_on_oops was set. Whatever that \
        task held — spinlocks, mutexes, references — stays held, so hangs later in the \
        same boot are often its consequence. lockscan reports it as context for the \
        hang analysis; the crash itself is the first thing to fix.
        """

    static let panicExplanation = """
        The kernel stopped on purpose: panic() printed its reason and halted or \
        rebooted the machine. Nothing after this line in the same boot ran. The reason \
        says why (a root filesystem that could not be mounted, init that exited, a \
        SysRq-triggered crash, a fatal exception); a lockup that panicked is reported \
        by its own analyzer instead.
        """

    /// The report being read.
    private var pending: PendingCrash?

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let line = CrashLine.classify(record.text)
        // Fed where it lies: a copy stored back shared the crash's arrays,
        // so every line of its dump copied them.
        if pending != nil {
            switch pending!.feed(record, line) {
            case .accepted:
                return .collecting
            case .complete:
                emit(pending!.event)
                pending = nil
                return .idle
            case .ended:
                emit(pending!.event)
                pending = nil
            }
        }
        switch line {
        case let .fault(reason)?:
            pending = PendingCrash(fault: reason, record)
        case let .die(reason, count)?:
            var p = PendingCrash(fault: nil, record)
            p.joinDie(reason, count, record)
            pending = p
        case let .panic(reason)? where !Self.claimedByAnotherAnalyzer(record):
            pending = PendingCrash(panic: reason, record)
        default:
            return .idle
        }
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        if var p = pending {
            p.close()
            emit(p.event)
        }
        pending = nil
    }

    /// A panic line that starts another analyzer's report (a lockup that
    /// panicked): this analyzer's own headers never name a panic.
    static func claimedByAnotherAnalyzer(_ record: Record) -> Bool {
        record.startsReport && !CrashLine.reportHeaders.contains { record.text.includes($0) }
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("5.x NULL dereference in a vCPU thread: fault, die and dump are one event", """
            BUG: kernel NULL pointer dereference, address: 0000000000000000
            #PF: supervisor read access in kernel mode
            #PF: error_code(0x0000) - not-present page
            PGD 0 P4D 0
            Oops: 0000 [#1] SMP NOPTI
            CPU: 3 PID: 1185197 Comm: CPU 7/KVM Tainted: G            E     5.14.3 #26
            RIP: 0010:internal_get_user_pages_fast+0x738/0xda0
            RSP: 0018:ffffb6a2c7b0fd68 EFLAGS: 00010046
            Call Trace:
             get_user_pages_fast_only+0x13/0x20
             hva_to_pfn+0xa9/0x3e0 [kvm]
             kvm_vcpu_ioctl+0x3d3/0x630 [kvm]
             __x64_sys_ioctl+0x83/0xb0
             do_syscall_64+0x40/0xb0
             entry_SYSCALL_64_after_hwframe+0x44/0xae
            CR2: 0000000000000000
            ---[ end trace 8b5ba2d2b0d3a3f1 ]---
            """, expect: [.init(kind: "oops", title: "BUG: kernel NULL pointer dereference in internal_get_user_pages_fast",
                                cpu: 3, severity: .info, line: 1)]),
        AnalyzerExample("an Oops and the panic it ends in are one event", """
            general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1] PREEMPT SMP KASAN
            CPU: 2 PID: 10215 Comm: rmmod Tainted: G        W        N 6.6.0-rc2+ #20
            RIP: 0010:__kobject_del+0x62/0x1c0
            Call Trace:
             <TASK>
             kobject_del+0x32/0x50
             </TASK>
            ---[ end trace 0000000000000000 ]---
            RIP: 0010:__kobject_del+0x62/0x1c0
            Kernel panic - not syncing: Fatal exception
            Kernel Offset: disabled
            ---[ end Kernel panic - not syncing: Fatal exception ]---
            """, expect: [.init(kind: "oops", title: "general protection fault in __kobject_del", cpu: 2, line: 1)]),
        AnalyzerExample("arm64: paging request, then the internal error with pc", """
            Unable to handle kernel paging request at virtual address ffff800012345678
            Mem abort info:
              ESR = 0x96000007
            Internal error: Oops: 96000007 [#1] PREEMPT SMP
            CPU: 1 PID: 80 Comm: kworker/1:2 Not tainted 5.10.0 #1
            pc : mmc_blk_mq_complete+0x1c/0x40
            lr : blk_done_softirq+0xa0/0xd0
            Call trace:
             mmc_blk_mq_complete+0x1c/0x40
             blk_done_softirq+0xa0/0xd0
            """, expect: [.init(kind: "oops", title: "BUG: unable to handle page fault in mmc_blk_mq_complete", cpu: 1, line: 1)]),
        AnalyzerExample("2.6 i386: EIP is at, Process line", """
            BUG: unable to handle kernel NULL pointer dereference at virtual address 00000000
             printing eip:
            c0154210
            Oops: 0000 [#1]
            CPU:    0
            EIP:    0060:[<c0154210>]    Not tainted VLI
            EIP is at kmem_cache_alloc+0x40/0x90
            Process java (pid: 26272, threadinfo=f2c3e000 task=f7a1d030)
            """, expect: [.init(kind: "oops", title: "BUG: kernel NULL pointer dereference in kmem_cache_alloc", cpu: 0, line: 1)]),
        AnalyzerExample("kernel BUG at, x86 invalid opcode", """
            kernel BUG at mm/slub.c:3859!
            invalid opcode: 0000 [#1] SMP PTI
            CPU: 0 PID: 1 Comm: swapper/0 Not tainted 4.19.0 #1
            RIP: 0010:kfree+0x1b6/0x1c0
            """, expect: [.init(kind: "oops", title: "kernel BUG in kfree", cpu: 0, line: 1)]),
        AnalyzerExample("a panic without an Oops, with the panicking task's stack", """
            Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)
            CPU: 3 PID: 1 Comm: swapper/0 Not tainted 5.14.10-300.fc35.x86_64 #1
            Call Trace:
             dump_stack_lvl+0x46/0x5a
             panic+0xf1/0x2d3
             mount_block_root+0x299/0x313
             prepare_namespace+0x13b/0x16a
            """, expect: [.init(kind: "kernel_panic", title: "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
                                cpu: 3, severity: .info, line: 1)]),
        AnalyzerExample("a lockup's panic is the lockup analyzer's", """
            watchdog: BUG: soft lockup - CPU#8 stuck for 26s! [bash:1031]
            Kernel panic - not syncing: softlockup: hung tasks
            Kernel panic - not syncing: Hard LOCKUP
            Kernel panic - not syncing: hung_task: blocked tasks
            ---[ end Kernel panic - not syncing: Hard LOCKUP ]---
            """, expect: []),
        AnalyzerExample("words about crashes are not a crash", """
            systemd[1]: Started Process Core Dump (PID 1234/UID 0).
            audit: kernel BUG reports are collected by kdump
            md: array [#1] resynced
            """, expect: []),
    ]
}

/// One crash report while it is read: the event so far, the dump being
/// collected, and how long to wait after the dump for the panic it may end in.
struct PendingCrash {
    enum Step { case accepted, complete, ended }

    var event: Event
    private var collector: StackDumpCollector?
    private var sawDie = false
    private var sawPanic = false
    private var lastLine: Int
    /// Lines to wait after the dump for the panic: x86 reprints RIP and the
    /// registers after `---[ end trace`, and ftrace or kmsg-dumper lines may
    /// come before `Kernel panic - not syncing: Fatal exception`.
    static let panicWindow = 60
    /// Lines between a fault line and die()'s line (arm64 prints a dozen
    /// lines of abort syndrome in between).
    static let dieWindow = 30

    init(fault reason: String?, _ record: Record) {
        event = Event(analyzer: KernelCrashAnalyzer.descriptor.id, kind: "oops", title: reason ?? "Oops", severity: .info,
                      source: SourceLocation(record), time: record.clock, evidence: [record.text],
                      explanation: KernelCrashAnalyzer.oopsExplanation)
        if let reason { event.details["fault"] = reason }
        if let at = CrashLine.bugLocation(record.text) { event.details["bugAt"] = at }
        event.cpu = record.callerCPU
        lastLine = record.lastLine
        collector = StackDumpCollector(start: record)
    }

    init(panic reason: String, _ record: Record) {
        event = Event(analyzer: KernelCrashAnalyzer.descriptor.id, kind: "kernel_panic",
                      title: "Kernel panic - not syncing: \(reason)", severity: .info,
                      source: SourceLocation(record), time: record.clock, evidence: [record.text],
                      explanation: KernelCrashAnalyzer.panicExplanation)
        event.details["panic"] = "true"
        event.details["panicReason"] = reason
        event.cpu = record.callerCPU
        sawPanic = true
        lastLine = record.lastLine
        collector = StackDumpCollector(start: record)
    }

    mutating func joinDie(_ reason: String, _ count: Int?, _ record: Record) {
        sawDie = true
        if event.details["fault"] == nil {
            event.details["fault"] = reason
            event.title = reason
        }
        if let count { event.details["oopsCount"] = String(count) }
        if record.line != event.source.line { note(record) }
        // The banner and stack follow die()'s line: collect from here.
        collector = StackDumpCollector(start: record)
    }

    mutating func feed(_ record: Record, _ line: CrashLine?) -> Step {
        switch line {
        case let .die(reason, count)? where !sawDie && !sawPanic && record.line - event.source.line <= Self.dieWindow && !hasFrames:
            joinDie(reason, count, record)
            return .accepted
        case .fault?, .die?:
            close()
            return .ended
        case let .panic(reason)?:
            close()
            if sawPanic || KernelCrashAnalyzer.claimedByAnotherAnalyzer(record) { return .ended }
            sawPanic = true
            event.details["panic"] = "true"
            event.details["panicReason"] = reason
            note(record)
            return .complete
        case .panicEnd?:
            if sawPanic { note(record); close(); return .complete }
        case nil:
            break
        }
        if faultSite == nil, let site = FaultSite.parse(record.text) { faultSite = site }
        if event.pid == nil, let who = OldBanner.process(record.text) {
            event.comm = who.comm
            event.pid = who.pid
        }
        if let cpu = OldBanner.cpu(record.text) { oldBannerCPU = cpu }
        switch collector.step(record) {
        case .accepted:
            lastLine = record.lastLine
            return .accepted
        case let .finished(dump):
            adopt(dump)
        case .idle:
            break
        }
        if record.startsReport && line == nil {
            // Another analyzer's report: this one is over.
            close()
            return .ended
        }
        if record.line - lastLine > (sawDie || sawPanic ? Self.panicWindow : Self.dieWindow) {
            close()
            return .ended
        }
        return .accepted
    }

    /// The fault site from a line the stack parser does not read (`EIP is at …`).
    private var faultSite: Frame?
    /// i386's `CPU:    0`: the banner's CPU, over a caller id's.
    private var oldBannerCPU: Int?
    private var hasFrames: Bool { collector?.hasFrames ?? !event.stack.isEmpty }

    /// Ends the report: folds in the dump still being collected and names
    /// the function the kernel says it faulted in.
    mutating func close() {
        if let c = collector { adopt(c.dump) }
        collector = nil
        if let cpu = oldBannerCPU { event.cpu = cpu }
        guard event.kind == "oops" else { return }
        if !event.stack.contains(where: \.isInstructionPointer), let site = faultSite { event.stack.insert(site, at: 0) }
        if let ip = event.stack.first(where: { $0.isInstructionPointer && $0.function != nil }) {
            event.details["faultAt"] = ip.display
            event.title = "\(event.details["fault"] ?? "Oops") in \(FunctionName.base(ip.function!))"
        } else {
            event.title = event.details["fault"] ?? "Oops"
        }
        if event.hints.isEmpty {
            event.hints = [Hint("Decode the faulting address (lockscan symbolize --vmlinux, or scripts/decode_stacktrace.sh) and fix the crash first: locks the killed task held stay held, so hangs later in this boot are likely its consequence.",
                                reference: "Documentation/admin-guide/bug-hunting.rst")]
        }
    }

    private mutating func adopt(_ dump: StackDump) {
        collector = nil
        lastLine = max(lastLine, dump.lastLine)
        guard !dump.frames.isEmpty || dump.pid != nil || dump.cpu != nil else { return }
        if event.stack.isEmpty { event.stack = dump.frames }
        event.cpu = dump.cpu ?? event.cpu
        event.pid = dump.pid ?? event.pid
        event.comm = dump.comm ?? event.comm
        event.kernel = dump.release ?? event.kernel
        event.taint = dump.taint ?? event.taint
        event.source.endLine = max(event.source.endLine, dump.lastLine)
        for line in dump.evidence.prefix(80) where event.evidence.last != line { event.evidence.append(line) }
    }

    private mutating func note(_ record: Record) {
        event.source.endLine = max(event.source.endLine, record.line)
        lastLine = record.lastLine
        if event.evidence.count < 160 { event.evidence.append(record.text) }
    }
}
