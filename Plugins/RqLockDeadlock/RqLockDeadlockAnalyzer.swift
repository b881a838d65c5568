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
public final class RqLockDeadlockAnalyzer: Analyzer {
    public static let descriptor = AnalyzerDescriptor(
        id: "rq-lock-deadlock",
        title: "Runqueue-lock spinning (double_rq_lock)",
        explanation: explanation,
        eventKinds: ["rq_lock_deadlock"],
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
    private var incident: [Classified] = []
    private var collector: StackDumpCollector?
    private var lockdepUntil = 0
    private static let incidentGap = 300
    private static let maxDumps = 512

    struct Classified {
        var dump: StackDump
        var role: Role
    }

    enum Role: Equatable {
        case waiting(via: String)
        case holding(in: String)
        case other
    }

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        switch collector.step(record) {
        case .accepted: return .collecting
        case let .finished(dump): add(dump, emit)
        case .idle: break
        }
        let text = record.text
        if text.contains("possible circular locking") || text.contains("possible recursive locking")
            || text.contains("inconsistent lock state") {
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

    private func add(_ dump: StackDump, _ emit: (Event) -> Void) {
        guard !dump.frames.isEmpty else { return }
        if dump.firstLine <= lockdepUntil { return }
        if let last = incident.last, dump.firstLine - last.dump.lastLine > Self.incidentGap { closeIncident(emit) }
        if incident.count < Self.maxDumps { incident.append(Classified(dump: dump, role: Self.classify(dump))) }
    }

    private func closeIncident(_ emit: (Event) -> Void) {
        defer { incident = [] }
        // The same CPU may be dumped twice (lockup report, then NMI backtrace): keep its last dump.
        var byCPU: [Int: Classified] = [:]
        var anonymous: [Classified] = []
        for c in incident {
            if let cpu = c.dump.cpu { byCPU[cpu] = c } else { anonymous.append(c) }
        }
        // Log order, not CPU order: the first dump is usually the CPU the watchdog reported.
        let all = (byCPU.values + anonymous).sorted { $0.dump.firstLine < $1.dump.firstLine }
        let waiters = all.filter { if case .waiting = $0.role { return true } else { return false } }
        guard let first = waiters.first else { return }
        let holders = all.filter { if case .holding = $0.role { return true } else { return false } }
        let start = incident.map(\.dump).min { $0.firstLine < $1.firstLine }!
        let end = incident.map(\.dump.lastLine).max()!

        var e = Event(analyzer: Self.descriptor.id, kind: "rq_lock_deadlock", title: "",
                      severity: holders.isEmpty && waiters.count == 1 ? .error : .critical,
                      source: SourceLocation(file: "", line: start.firstLine, endLine: end, byteOffset: start.byteOffset),
                      cpu: first.dump.cpu, pid: first.dump.pid, comm: first.dump.comm, kernel: first.dump.release,
                      taint: first.dump.taint, explanation: Self.explanation)
        e.time.monotonic = nil
        e.stack = first.dump.frames
        e.details["waitingCPUs"] = waiters.map { $0.dump.cpu.map(String.init) ?? "?" }.joined(separator: ",")
        let vias = waiters.compactMap { c -> String? in if case let .waiting(via) = c.role { return via } else { return nil } }
        e.details["waitingIn"] = vias.first { $0.contains("double") } ?? vias.first
        if let h = holders.first, case let .holding(fn) = h.role {
            e.details["holderCPU"] = h.dump.cpu.map(String.init) ?? "?"
            e.details["holderFunction"] = fn
            e.title = "rq lock held too long in \(fn)"
        } else {
            e.details["holderCPU"] = "unknown"
            e.title = "rq lock spin in \(e.details["waitingIn"] ?? "double_rq_lock")"
        }
        if let rdi = first.dump.registers["RDI"], let value = UInt64(rdi, radix: 16), value != 0 {
            e.details["lockAddress"] = "0x" + String(value, radix: 16)
        }
        for c in waiters + holders {
            e.evidence.append("--- cpu \(c.dump.cpu.map(String.init) ?? "?") (\(describe(c.role))) ---")
            e.evidence += c.dump.evidence.prefix(40)
        }
        e.hints = StackHints.matching(holders.first?.dump.frames ?? [])
        if holders.isEmpty {
            e.hints.append(Hint("No CPU in the capture shows the holder's path: get all CPUs' backtraces (kernel.hardlockup_all_cpu_backtrace=1, or sysrq-l, or crash `bt -a` on a vmcore) and look for the CPU that owns the lock address in RDI."))
        }
        emit(e)
    }

    private func describe(_ r: Role) -> String {
        switch r {
        case let .waiting(via): "waiting in \(via)"
        case let .holding(fn): "holding, in \(fn)"
        case .other: "other"
        }
    }

    /// Spinlock slow paths and wrappers, innermost part of a spinning stack.
    static let spinFrames: Set<String> = [
        "native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
        "pv_queued_spin_lock_slowpath", "do_raw_spin_lock", "_raw_spin_lock", "_raw_spin_lock_irqsave",
        "_raw_spin_lock_irq", "_raw_spin_lock_nested", "__raw_spin_lock", "_spin_lock", "_spin_lock_irqsave",
        "__ticket_spin_lock", "arch_spin_lock", "__spin_lock_debug", "delay_tsc", "__delay", "kvm_wait", "pv_wait",
        "queued_spin_lock", "do_raw_spin_lock_flags",
    ]
    /// Functions that take a runqueue lock.
    static let rqLockFrames: Set<String> = [
        "double_rq_lock", "double_lock_balance", "_double_lock_balance", "raw_spin_rq_lock_nested", "raw_spin_rq_lock",
        "_raw_spin_rq_lock", "raw_spin_rq_lock_irqsave", "__task_rq_lock", "task_rq_lock", "rq_lock", "rq_lock_irqsave",
        "rq_lock_irq", "double_rq_lock_irq",
    ]
    /// Scheduler paths that take rq locks (so a bare `_raw_spin_lock` under them is an rq lock).
    static let schedulerCallers: Set<String> = [
        "load_balance", "sched_balance_rq", "move_queued_task", "__migrate_task", "migration_cpu_stop", "try_to_wake_up",
        "ttwu_queue", "push_rt_task", "pull_rt_task", "push_dl_task", "pull_dl_task", "active_load_balance_cpu_stop",
        "idle_balance", "newidle_balance", "sched_balance_newidle", "rebalance_domains", "sched_balance_domains",
        "sched_ttwu_pending", "__schedule", "scheduler_tick", "sched_tick", "move_task", "detach_tasks", "sched_core_balance",
    ]
    /// Paths known to hold an rq lock for a long time.
    static let longHolderFrames: [String] = [
        "tg_unthrottle_up", "tg_throttle_down", "walk_tg_tree_from", "unthrottle_cfs_rq", "distribute_cfs_runtime",
        "do_sched_cfs_period_timer", "sched_cfs_period_timer", "update_blocked_averages", "__update_blocked_fair",
    ]
    /// Lockdep's own frames: a stack with them is a lockdep report, not a spin.
    static let lockdepFrames: Set<String> = ["lock_acquire", "__lock_acquire", "print_circular_bug", "check_noncircular",
                                              "validate_chain", "lockdep_print_held_locks"]

    static func classify(_ dump: StackDump) -> Role {
        let frames = dump.interruptedFrames.prefix(16).compactMap { $0.function.map(FunctionName.base) }
        if frames.contains(where: lockdepFrames.contains) { return .other }
        if let spinIndex = frames.firstIndex(where: spinFrames.contains), spinIndex < 4 {
            let after = frames[(spinIndex + 1)...].prefix(8)
            let wrappersSkipped = after.drop(while: spinFrames.contains)
            if let rq = wrappersSkipped.prefix(6).first(where: { $0 == "double_rq_lock" || $0 == "double_lock_balance" || $0 == "_double_lock_balance" }) {
                return .waiting(via: rq)
            }
            if let rq = wrappersSkipped.prefix(3).first(where: rqLockFrames.contains) { return .waiting(via: rq) }
            if let caller = wrappersSkipped.first, schedulerCallers.contains(caller) {
                // try_to_wake_up takes p->pi_lock with raw_spin_lock_irqsave before any rq lock:
                // that spin is on a task's lock, not a runqueue's.
                let lastWrapper = frames[spinIndex...].prefix(while: spinFrames.contains).last
                if caller == "try_to_wake_up", lastWrapper == "_raw_spin_lock_irqsave" { return .other }
                return .waiting(via: caller)
            }
            return .other
        }
        if let holder = frames.prefix(8).first(where: { longHolderFrames.contains($0) }) { return .holding(in: holder) }
        return .other
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
