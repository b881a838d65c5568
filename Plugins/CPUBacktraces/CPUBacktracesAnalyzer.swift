import LockscanKit

/// All-CPU backtraces that no lockup report triggered: sysrq `l`
/// (`sysrq: Show backtrace of all active CPUs`), an all-CPU dump before a
/// panic, a crash `bt -a`. Backtraces that follow a report header (any
/// loaded analyzer's, as `Record.startsReport` says) belong to that report's
/// incident (its analyzer attaches them); this one only speaks for the
/// rest, as one informational `cpu_backtraces` event carrying the
/// classified incident — which can still show a deadlock.
public final class CPUBacktracesAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "cpu-backtraces",
        title: "CPU backtraces (sysrq-l, NMI, crash bt -a)",
        explanation: explanation,
        eventKinds: ["cpu_backtraces"],
        triggers: ["NMI backtrace for cpu", "Sending NMI from CPU", "Show backtrace of all active CPUs", " TASK: "],
        // Every analyzer's report header must reach it: backtraces printed
        // after one belong to that report, whichever analyzer owns it.
        triggeredByReportHeaders: true,
        examples: examples,
        make: { CPUBacktracesAnalyzer() })

    static let explanation = """
        Backtraces of several CPUs printed together without a lockup report around \
        them: someone asked (sysrq-l, a crash `bt -a`) or the kernel dumped all CPUs \
        before a panic. Each CPU is classified — spinning on a lock, holding one in a \
        long path, idle, or running — and the waits-for relation that the stacks show \
        is listed: two CPUs spinning on each other's locks is an ABBA deadlock.
        """

    /// Line of the last report header, or of the last backtrace that followed one.
    private var ownedUntil: Int?
    private var group: ReportDumps?
    private var groupStart: Record?
    private var how = ""
    private static let ownership = 300

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        // Fed where it lies: a copy stored back shared the dumps' arrays, so
        // every line of a long backtrace copied them.
        if group != nil {
            if !record.startsReport, group!.feed(record) { return .collecting }
            close(group!, emit)
        }
        if record.startsReport {
            ownedUntil = record.line
            return .idle
        }
        guard let kind = Self.start(text) else { return .idle }
        if let owned = ownedUntil, record.line - owned <= Self.ownership {
            // Part of the report just printed: keep its ownership going.
            ownedUntil = record.line
            return .idle
        }
        var g = ReportDumps(header: record)
        // The opening line may itself name the task and CPU (crash's `PID: … CPU: …`).
        _ = g.feed(record)
        group = g
        groupStart = record
        how = kind
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        if let g = group { close(g, emit) }
    }

    private func close(_ g: ReportDumps, _ emit: (Event) -> Void) {
        var g = g
        let dumps = g.close()
        group = nil
        guard let start = groupStart, !dumps.isEmpty else { return }
        // One task of crash's `bt` whose stack runs through panic() is the
        // panicking task: the report of whatever panicked, not backtraces
        // of several CPUs.
        if how == "crash", dumps.count == 1,
           dumps[0].frames.contains(where: { ["panic", "nmi_panic", "vpanic"].contains($0.function.map(FunctionName.base) ?? "") }) {
            return
        }
        let incident = Incident.build(dumps)
        let last = dumps.map(\.lastLine).max() ?? start.line
        var e = Event(analyzer: Self.descriptor.id, kind: "cpu_backtraces", title: "", severity: .info,
                      source: SourceLocation(start, through: last), time: start.clock, evidence: [start.text],
                      explanation: Self.explanation)
        e.incident = incident
        let n = incident.cpus.count
        let unit = how == "crash" ? "task" : "CPU"
        e.title = "\(how == "sysrq" ? "sysrq-l: " : how == "crash" ? "crash bt: " : "")backtraces of \(n) \(unit)\(n == 1 ? "" : "s")"
        let spinning = incident.cpus.filter { $0.state == .spinning }
        if incident.pattern == "abba" {
            let pair = spinning.compactMap(\.cpu).map(String.init).joined(separator: " and ")
            e.title += ", ABBA deadlock suspected on CPUs \(pair)"
            e.hints.append(Hint("CPUs \(pair) spin on two different locks (addresses from RDI) while no other CPU is in a lock path: each most likely holds the lock the other waits for. Check the code paths for the two locks taken in opposite orders; lockdep (CONFIG_PROVE_LOCKING) reports such inversions before they deadlock.",
                                reference: "Documentation/locking/lockdep-design.rst"))
        } else if !spinning.isEmpty {
            e.title += ", \(spinning.count) spinning"
        }
        for d in dumps.prefix(16) { e.evidence += d.evidence.prefix(30) }
        if let c = spinning.first { e.cpu = c.cpu }
        emit(e)
    }

    /// Lines that open a group of backtraces, and how it was asked for.
    static func start(_ text: String) -> String? {
        if text.includes("Show backtrace of all active CPUs") { return "sysrq" }
        if text.includes("Sending NMI from CPU") || text.includes("NMI backtrace for cpu") { return "nmi" }
        if text.includes(" TASK: "), text.includes("COMMAND: ") { return "crash" }
        return nil
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("sysrq-l with two CPUs spinning on each other's locks", """
            sysrq: Show backtrace of all active CPUs
            NMI backtrace for cpu 0
            CPU: 0 PID: 812 Comm: lockA Tainted: G           O       6.1.0-18-cloud-amd64 #1  Debian 6.1.76-1
            RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x1f0
            RSP: 0018:ffffb0c1c0623e40 EFLAGS: 00000002
            RAX: 0000000000000001 RBX: 0000000000000000 RCX: 0000000000000001
            RDX: 0000000000000000 RSI: 0000000000000001 RDI: ffffffffc0a45120
            Call Trace:
             <TASK>
             _raw_spin_lock+0x25/0x30
             thread_a+0x2c/0x60 [abba]
             kthread+0xd7/0x100
             ret_from_fork+0x22/0x30
             </TASK>
            Sending NMI from CPU 0 to CPUs 1:
            NMI backtrace for cpu 1
            CPU: 1 PID: 813 Comm: lockB Tainted: G           O       6.1.0-18-cloud-amd64 #1  Debian 6.1.76-1
            RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x1f0
            RSP: 0018:ffffb0c1c062be40 EFLAGS: 00000002
            RAX: 0000000000000001 RBX: 0000000000000000 RCX: 0000000000000001
            RDX: 0000000000000000 RSI: 0000000000000001 RDI: ffffffffc0a45100
            Call Trace:
             <TASK>
             _raw_spin_lock+0x25/0x30
             thread_b+0x2c/0x60 [abba]
             kthread+0xd7/0x100
             ret_from_fork+0x22/0x30
             </TASK>
            """, expect: [.init(kind: "cpu_backtraces", title: "sysrq-l: backtraces of 2 CPUs, ABBA deadlock suspected on CPUs 0 and 1",
                                cpu: 0, severity: .info, line: 1)]),
        AnalyzerExample("backtraces that follow a soft lockup belong to it", """
            watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]
            CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0 #1
            RIP: 0010:spin_thread+0x11/0x30 [lockmod]
            Call Trace:
             kthread+0xd7/0x100
            Sending NMI from CPU 1 to CPUs 0:
            NMI backtrace for cpu 0
            CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0 #1
            RIP: 0010:default_idle+0xb/0x10
            Call Trace:
             default_idle_call+0x2c/0xe0
            """, expect: []),
    ]
}
