/// Known stack signatures and what they usually mean. Data, so tests can
/// check every entry and a new one is one line.
public enum StackHints {
    public struct Signature: Sendable {
        public var anyOf: Set<String>
        public var hint: Hint
    }

    public static let signatures: [Signature] = [
        Signature(anyOf: ["tg_unthrottle_up", "walk_tg_tree_from", "distribute_cfs_runtime", "unthrottle_cfs_rq",
                          "sched_cfs_period_timer"],
                  hint: Hint("CFS bandwidth control unthrottling many cgroups while holding the runqueue lock (tg_unthrottle_up under walk_tg_tree_from / distribute_cfs_runtime): check how many cgroups have cpu.cfs_quota_us (cpu.max) set and how small their periods are; other CPUs then spin on this rq lock in double_rq_lock.",
                             reference: "Documentation/scheduler/sched-bwc.rst")),
        Signature(anyOf: ["native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
                          "_raw_spin_lock", "_raw_spin_lock_irqsave", "_raw_spin_lock_irq", "do_raw_spin_lock"],
                  hint: Hint("The CPU was spinning on a spinlock: the holder is another CPU, visible in its NMI backtrace (the lock address is in RDI of the spinning CPU's registers).",
                             reference: "Documentation/admin-guide/lockup-watchdogs.rst")),
    ]

    /// Hints for the interrupted part of a stack (first 16 frames).
    public static func matching(_ stack: [Frame]) -> [Hint] {
        let names = Set(stack.filter { $0.context != .nmi }.prefix(16).compactMap { $0.function.map(FunctionName.base) })
        return signatures.filter { !$0.anyOf.isDisjoint(with: names) }.map(\.hint)
    }
}
