/// Known stack signatures and what they usually mean. Data, so tests check
/// every entry (each carries a stack it must match) and a new one is one
/// entry. Every `reference` was checked against the kernel tree or its
/// history: a `Documentation/` path that exists upstream, or a commit id
/// quoted with its subject.
public enum StackHints {
    public struct Signature: Sendable {
        public var id: String
        /// Matches when any of these is among the interrupted frames (base names).
        public var anyOf: Set<String>
        public var hint: Hint
        /// A stack (innermost first) this signature must match: the test data.
        public var example: [String]
    }

    public static let signatures: [Signature] = [
        Signature(
            id: "cfs-bandwidth-unthrottle",
            anyOf: ["tg_unthrottle_up", "walk_tg_tree_from", "distribute_cfs_runtime", "unthrottle_cfs_rq"],
            hint: Hint("CFS bandwidth control unthrottling many cgroups while holding the runqueue lock (tg_unthrottle_up under walk_tg_tree_from / distribute_cfs_runtime): check how many cgroups have cpu.cfs_quota_us (cpu.max) set and how small their periods are; other CPUs then spin on this rq lock in double_rq_lock.",
                       reference: "Documentation/scheduler/sched-bwc.rst"),
            example: ["tg_unthrottle_up", "walk_tg_tree_from", "unthrottle_cfs_rq", "distribute_cfs_runtime"]),
        Signature(
            id: "cfs-period-timer-loop",
            anyOf: ["sched_cfs_period_timer", "do_sched_cfs_period_timer"],
            hint: Hint("The CFS bandwidth period timer kept re-running with very short cpu.cfs_period_us and many cgroups; upstream bounds that loop and scales the period up: commit 2e8e19226398 \"sched/fair: Limit sched_cfs_period_timer() loop to avoid hard lockup\" (and its follow-up fixes). Check whether this kernel has it and raise the period.",
                       reference: "commit 2e8e19226398"),
            example: ["distribute_cfs_runtime", "do_sched_cfs_period_timer", "sched_cfs_period_timer", "__hrtimer_run_queues"]),
        Signature(
            id: "spinlock-spin",
            anyOf: ["native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
                    "_raw_spin_lock", "_raw_spin_lock_irqsave", "_raw_spin_lock_irq", "do_raw_spin_lock"],
            hint: Hint("The CPU was spinning on a spinlock: the holder is another CPU, visible in its NMI backtrace (the lock address is in RDI of the spinning CPU's registers).",
                       reference: "Documentation/admin-guide/lockup-watchdogs.rst"),
            example: ["native_queued_spin_lock_slowpath", "_raw_spin_lock", "double_rq_lock"]),
        Signature(
            id: "cross-cpu-call",
            anyOf: ["smp_call_function_single", "smp_call_function_many", "smp_call_function_many_cond", "on_each_cpu_cond_mask",
                    "csd_lock_wait"],
            hint: Hint("The CPU waits for other CPUs to run a cross-CPU function call (IPI): a target CPU has interrupts disabled or is itself stuck; its backtrace shows where. In a VM, a target vCPU that is not scheduled on the host has the same effect.",
                       reference: "Documentation/admin-guide/lockup-watchdogs.rst"),
            example: ["smp_call_function_single", "on_each_cpu", "text_poke_bp"]),
    ]

    /// Hints for the interrupted part of a stack (first 16 frames not on the NMI stack).
    public static func matching(_ stack: [Frame]) -> [Hint] {
        // Each name is looked up once, for every signature it is in: a set
        // of the stack's names compared with each signature's hashed every
        // name again per signature, for every report of a storm.
        var hit = [Bool](repeating: false, count: signatures.count)
        for f in stack.lazy.filter({ $0.context != .nmi }).prefix(16) {
            guard let name = f.function else { continue }
            for i in signaturesByName[FunctionName.base(name)] ?? [] { hit[i] = true }
        }
        return signatures.indices.filter { hit[$0] }.map { signatures[$0].hint }
    }

    /// Function name → the signatures (by index) whose `anyOf` holds it.
    static let signaturesByName: [String: [Int]] = {
        var index: [String: [Int]] = [:]
        for (i, s) in signatures.enumerated() {
            for name in s.anyOf { index[name, default: []].append(i) }
        }
        return index
    }()
}
