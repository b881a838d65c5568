import LockscanKit

/// CPUs spinning on a runqueue lock.
///
/// The scheduler takes two runqueue locks at once in `double_rq_lock` /
/// `double_lock_balance` (load balancing, migration). When one CPU keeps an rq
/// lock for long — the CFS bandwidth unthrottle walk (`tg_unthrottle_up` under
/// `walk_tg_tree_from` from `distribute_cfs_runtime`) over thousands of cgroups
/// is the classic case — every other CPU that balances toward it spins with
/// interrupts off, and the NMI watchdog reports hard lockups on them.
///
/// Stacks from anywhere (a lockup's dump, NMI backtraces, crash `bt -a`) are
/// grouped into incidents by proximity in the log; one event per incident.
public final class RqLockDeadlockAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "rq-lock-deadlock",
        title: "Runqueue-lock spinning (double_rq_lock)",
        explanation: explanation,
        eventKinds: ["rq_lock_deadlock"],
        roles: ["rq_lock_deadlock": .lockup],
        triggers: [" Comm: ", "NMI backtrace for cpu", " TASK: ", "Call Trace", "exception RIP", "lock_acquire",
                   "possible circular locking", "possible recursive locking", "inconsistent lock state"],
        examples: examples,
        make: { RqLockDeadlockAnalyzer() })

    static let explanation = """
        One or more CPUs are spinning on a scheduler runqueue lock: their stacks show a \
        spinlock slow path under double_rq_lock (or an rq-lock helper called from load \
        balancing, migration or wake-up). Runqueue locks are taken with interrupts \
        disabled, so a CPU that holds one for long — or two CPUs waiting on each other — \
        turns into hard lockups on every CPU that needs it. The CPU shown as holder is \
        the one whose stack is in a known long-running path under an rq lock.
        """

    /// Dumps seen since the current incident started; bounded by `maxDumps`.
    private var dumps: [StackDump] = []
    private var collector: StackDumpCollector?
    private var lockdepUntil = 0
    private static let incidentGap = 300
    /// As many as the kernel has CPUs (8192); dumps past it are counted.
    private static let maxDumps = 8192
    private var droppedDumps = 0

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        switch collector.step(record) {
        case .accepted: return .collecting
        case let .finished(dump): add(dump, emit)
        case .idle: break
        }
        let text = record.text
        if text.includes("possible circular locking") || text.includes("possible recursive locking")
            || text.includes("inconsistent lock state") {
            // A lockdep report lists double_rq_lock in lock chains; it is a
            // prediction, not CPUs stuck now.
            lockdepUntil = record.line + 400
            return .idle
        }
        let line = TraceLineParser.parse(text)
        switch line {
        case .taskHeader, .crashTask, .nmiBacktrace, .callTraceHeader, .crashExceptionRIP:
            var c = StackDumpCollector(start: record)
            _ = c.feed(record, line)
            collector = c
            return .collecting
        default:
            return .idle
        }
    }

    public func finish(emit: (Event) -> Void) {
        if let c = collector { add(c.dump, emit) }
        collector = nil
        closeIncident(emit)
    }

    /// Stacks close to each other in the log (NMI backtraces of one dump,
    /// crash `bt -a`) form one incident; a gap of more than `incidentGap`
    /// lines starts the next, and so does a second dump of a CPU already in
    /// it: all-CPU backtraces show each CPU once, so a CPU shown again is a
    /// later look at the machine. Without that, a soft-lockup storm (one
    /// report every few dozen lines for hours) was one "incident" of
    /// thousands of dumps: CPUs from hours apart read as waiting on each
    /// other, and memory grew with the storm.
    private func add(_ dump: StackDump, _ emit: (Event) -> Void) {
        guard !dump.frames.isEmpty else { return }
        if dump.firstLine <= lockdepUntil { return }
        if let last = dumps.last, dump.firstLine - last.lastLine > Self.incidentGap { closeIncident(emit) }
        if let cpu = dump.cpu, dumps.contains(where: { $0.cpu == cpu }) { closeIncident(emit) }
        if dumps.count < Self.maxDumps { dumps.append(dump) } else { droppedDumps += 1 }
    }

    private func closeIncident(_ emit: (Event) -> Void) {
        defer { dumps = []; droppedDumps = 0 }
        // Without a CPU spinning on a runqueue lock there is nothing to
        // report: asked of each dump before the incident is built (every
        // soft lockup's and stall's dump comes here, nearly all of them not).
        guard dumps.contains(where: { d in
            let c = Incident.classify(d)
            return c.state == .spinning && c.lockClass == "runqueue"
        }) else { return }
        let incident = Incident.build(dumps)
        let waiters = incident.cpus.filter { $0.state == .spinning && $0.lockClass == "runqueue" }
        guard let first = waiters.first, let firstDump = dumps.first(where: { $0.firstLine == first.line }) else { return }
        let holders = incident.cpus.filter { $0.state == .holding && $0.lockClass == "runqueue" }
        let start = dumps.min { $0.firstLine < $1.firstLine }!
        let end = dumps.map(\.lastLine).max()!

        var e = Event(analyzer: Self.descriptor.id, kind: "rq_lock_deadlock", title: "",
                      severity: holders.isEmpty && waiters.count == 1 ? .error : .critical,
                      source: SourceLocation(file: "", line: start.firstLine, endLine: end, byteOffset: start.byteOffset),
                      cpu: first.cpu, pid: first.pid, comm: first.comm, kernel: firstDump.release,
                      taint: firstDump.taint, explanation: Self.explanation)
        e.stack = first.stack
        e.incident = incident
        e.details["waitingCPUs"] = waiters.map { $0.cpu.map(String.init) ?? "?" }.joined(separator: ",")
        let vias = waiters.compactMap(\.lock)
        e.details["waitingIn"] = vias.first { $0.contains("double") } ?? vias.first
        if holders.isEmpty, waiters.count == 1, let held = first.alsoHolds, let via = first.lock {
            // The waiter holds a runqueue lock itself, taken further down
            // its stack: printk or a wake-up from under the rq lock.
            e.details["holderCPU"] = first.cpu.map(String.init) ?? "?"
            e.details["holderFunction"] = held
            e.details["recursive"] = "true"
            e.title = "rq lock recursion in \(via)"
            e.severity = .critical
            e.hints.append(Hint("CPU \(first.cpu.map(String.init) ?? "?") waits in \(via) for a runqueue lock while \(held), further down the same stack, already holds one: with both the same runqueue it waits for itself. The usual cause is printk (a WARN) or a wake-up from under the rq lock; printk_deferred() exists for that."))
        } else if let h = holders.first, let fn = h.lock {
            e.details["holderCPU"] = h.cpu.map(String.init) ?? "?"
            e.details["holderFunction"] = fn
            e.title = "rq lock held too long in \(fn)"
        } else {
            e.details["holderCPU"] = "unknown"
            e.title = "rq lock spin in \(e.details["waitingIn"] ?? "double_rq_lock")"
        }
        if let address = first.lockAddress { e.details["lockAddress"] = address }
        for c in waiters + holders {
            e.evidence.append("--- cpu \(c.cpu.map(String.init) ?? "?") (\(c.state.rawValue)\(c.lock.map { " in " + $0 } ?? "")) ---")
            if let d = dumps.first(where: { $0.firstLine == c.line }) { e.evidence += d.evidence.prefix(40) }
        }
        e.hints += StackHints.matching(holders.first?.stack ?? [])
        if holders.isEmpty, e.details["recursive"] == nil {
            e.hints.append(Hint("No CPU in the capture shows the holder's path: get all CPUs' backtraces (kernel.hardlockup_all_cpu_backtrace=1, or sysrq-l, or crash `bt -a` on a vmcore) and look for the CPU that owns the lock address in RDI."))
        }
        if droppedDumps > 0 { e.details[Event.cappedDetail] = "\(droppedDumps) dumps after the first \(Self.maxDumps) not read" }
        emit(e)
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("NMI backtraces: two CPUs in double_rq_lock, one in the CFS unthrottle walk", """
            NMI backtrace for cpu 1
            CPU: 1 PID: 0 Comm: swapper/1 Tainted: G             L    5.4.0-150-generic #167-Ubuntu
            RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x1f0
            RSP: 0018:ffffa1e2c0138d88 EFLAGS: 00000002
            RAX: 0000000000000001 RBX: ffff8f3b3fa6b0c0 RCX: 0000000000000000 RDX: 0000000000000001
            RSI: 0000000000000001 RDI: ffff8f3b3faab0c0 RBP: ffffa1e2c0138d88 R08: 0000000000000000
            Call Trace:
             <IRQ>
             _raw_spin_lock+0x1e/0x30
             double_rq_lock+0x38/0x40
             load_balance+0x4a8/0x9e0
             rebalance_domains+0x2c8/0x3b0
             </IRQ>
            NMI backtrace for cpu 5
            CPU: 5 PID: 0 Comm: swapper/5 Tainted: G             L    5.4.0-150-generic #167-Ubuntu
            RIP: 0010:tg_unthrottle_up+0x20/0x90
            Call Trace:
             <IRQ>
             walk_tg_tree_from+0x6a/0xe0
             unthrottle_cfs_rq+0xc9/0x1b0
             distribute_cfs_runtime+0xd7/0x130
             sched_cfs_period_timer+0xe6/0x210
             </IRQ>
            """, expect: [.init(kind: "rq_lock_deadlock", title: "rq lock held too long in tg_unthrottle_up", cpu: 1,
                                severity: .critical, line: 1)]),
        AnalyzerExample("crash bt -a: one CPU spinning, holder not shown", """
            PID: 0      TASK: ffff882f7fc0c000  CPU: 12  COMMAND: "swapper/12"
             #0 [ffff882f7fc85e48] crash_nmi_callback at ffffffff8104fd91
             #1 [ffff882f7fc85e58] nmi_handle at ffffffff8168f2b9
             #2 [ffff882f7fc85eb0] do_nmi at ffffffff8168f4d3
             #3 [ffff882f7fc85ef0] end_repeat_nmi at ffffffff8168e559
                [exception RIP: native_queued_spin_lock_slowpath+29]
                RIP: ffffffff810ffecd  RSP: ffff882f7fc83d98  RFLAGS: 00000093
            --- <NMI exception stack> ---
             #4 [ffff882f7fc83d98] native_queued_spin_lock_slowpath at ffffffff810ffecd
             #5 [ffff882f7fc83da0] queued_spin_lock_slowpath at ffffffff8167f52b
             #6 [ffff882f7fc83db0] _raw_spin_lock at ffffffff8168cb30
             #7 [ffff882f7fc83dc0] double_rq_lock at ffffffff810c29ef
             #8 [ffff882f7fc83de0] load_balance at ffffffff810d7b6d

            """, expect: [.init(kind: "rq_lock_deadlock", title: "rq lock spin in double_rq_lock", cpu: 12, severity: .error, line: 1)]),
        AnalyzerExample("the same CPU reported again is a later look, not more CPUs of one incident", """
            CPU: 3 PID: 812 Comm: kworker/3:2 Not tainted 5.15.0-91-generic #101-Ubuntu
            RIP: 0010:native_queued_spin_lock_slowpath+0x13e/0x2a0
            Call Trace:
             <TASK>
             _raw_spin_lock+0x25/0x30
             double_rq_lock+0x2c/0x80
             active_load_balance_cpu_stop+0x1f0/0x390
             </TASK>
            CPU: 3 PID: 0 Comm: swapper/3 Tainted: G             L    5.15.0-91-generic #101-Ubuntu
            RIP: 0010:native_queued_spin_lock_slowpath+0x141/0x2a0
            RSP: 0018:ffffb3a4c0150e28 EFLAGS: 00000046
            Call Trace:
             <IRQ>
             _raw_spin_lock+0x25/0x30
             double_rq_lock+0x2c/0x80
             load_balance+0x3b1/0xa10
             rebalance_domains+0x2a6/0x3d0
             __do_softirq+0xd9/0x2e7
             </IRQ>
            """, expect: [.init(kind: "rq_lock_deadlock", cpu: 3, line: 1), .init(kind: "rq_lock_deadlock", cpu: 3, line: 9)]),
        AnalyzerExample("lockdep naming double_rq_lock is not a deadlock", """
            WARNING: possible circular locking dependency detected
            stress/1234 is trying to acquire lock:
            CPU: 0 PID: 1234 Comm: stress Not tainted 6.1.0 #1
            Call Trace:
             <TASK>
             dump_stack_lvl+0x45/0x5e
             check_noncircular+0x10e/0x130
             __lock_acquire+0x12b2/0x1f90
             lock_acquire+0xc2/0x2d0
             _raw_spin_lock+0x2f/0x40
             double_rq_lock+0x3a/0x80
             </TASK>
            """, expect: []),
        AnalyzerExample("waking a task spins on its pi_lock, not on a runqueue lock", """
            NMI backtrace for cpu 4
            CPU: 4 PID: 3120 Comm: java Not tainted 5.15.0-91-generic #101-Ubuntu
            RIP: 0010:native_queued_spin_lock_slowpath+0x1d0/0x200
            Call Trace:
             <TASK>
             _raw_spin_lock_irqsave+0x3d/0x50
             try_to_wake_up+0x1d8/0x5c0
             wake_up_q+0x4a/0x90
             futex_wake+0x160/0x190
             </TASK>
            """, expect: []),
        AnalyzerExample("an ordinary spinlock wait outside the scheduler is not an rq lock", """
            NMI backtrace for cpu 2
            CPU: 2 PID: 811 Comm: kworker/2:1 Not tainted 6.1.0 #1
            RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x1f0
            Call Trace:
             <TASK>
             _raw_spin_lock+0x1e/0x30
             ext4_es_lookup_extent+0x4a/0x260
             </TASK>
            """, expect: []),
    ]
}
