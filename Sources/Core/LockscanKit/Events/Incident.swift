import Synchronization

/// Several CPUs' stacks seen together (NMI backtraces after a lockup, an RCU
/// stall's dumps, sysrq-l, crash `bt -a`), each CPU classified, with the
/// waits-for relation the stacks show. This is where a deadlock is seen: one
/// CPU's stack alone only says "spinning", the set says on whom.
public struct Incident: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// In a spinlock slow path (the lock is named, its address when RDI shows it).
        case spinning
        /// In a path known to keep a lock for long (the CFS unthrottle walk under an rq lock).
        case holding
        /// In the idle loop: not part of the problem.
        case idle
        /// Anywhere else.
        case running
        /// The report named the CPU but showed no stack of it.
        case unknown
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var cpu: Int?
        public var pid: Int?
        public var comm: String?
        public var state: State
        /// The function taking the lock (spinning) or the long path (holding).
        public var lock: String?
        /// From RDI when the CPU is inside the slow path, whose first argument is the lock.
        public var lockAddress: String?
        /// "runqueue" when the lock is a scheduler runqueue lock.
        public var lockClass: String?
        public var irqsDisabled: Bool?
        /// For a CPU spinning on a runqueue lock: a scheduler path further
        /// down its own stack that already holds a runqueue lock (it waits
        /// for itself when both are the same runqueue's).
        public var alsoHolds: String?
        /// Line of the dump in the input.
        public var line: Int
        public var stack: [Frame]

        public init(cpu: Int?, pid: Int? = nil, comm: String? = nil, state: State, lock: String? = nil,
                    lockAddress: String? = nil, lockClass: String? = nil, irqsDisabled: Bool? = nil, line: Int, stack: [Frame]) {
            self.cpu = cpu
            self.pid = pid
            self.comm = comm
            self.state = state
            self.lock = lock
            self.lockAddress = lockAddress
            self.lockClass = lockClass
            self.irqsDisabled = irqsDisabled
            self.line = line
            self.stack = stack
        }
    }

    public var cpus: [CPU]
    /// `[a, b]`: CPU a waits for something CPU b holds.
    public var waitsFor: [[Int]]
    /// A recognised shape: "abba" (two CPUs spinning, each on a lock the other
    /// seems to hold), "rq-holder" (waiters and a known rq-lock holder).
    public var pattern: String?

    public init(cpus: [CPU], waitsFor: [[Int]], pattern: String? = nil) {
        self.cpus = cpus
        self.waitsFor = waitsFor
        self.pattern = pattern
    }

    /// Classifies every dump (the last dump of a CPU wins: a lockup report
    /// and a later NMI backtrace of the same CPU are the same CPU) in log order.
    /// A task printed twice — once without a CPU (a task dump, crash's panic
    /// task) and once as a CPU's running task — is that CPU, counted once.
    public static func build(_ dumps: [StackDump]) -> Incident {
        var seen: [Int: Int] = [:]
        var cpus: [CPU] = []
        let onCPU = Set(dumps.filter { $0.cpu != nil }.compactMap(TaskKey.init))
        let lastOffCPU = Dictionary(dumps.filter { $0.cpu == nil }.compactMap { d in TaskKey(d).map { ($0, d.firstLine) } },
                                    uniquingKeysWith: max)
        for d in dumps.sorted(by: { $0.firstLine < $1.firstLine }) {
            if d.cpu == nil, let key = TaskKey(d), onCPU.contains(key) || lastOffCPU[key] != d.firstLine { continue }
            let c = classify(d)
            if let n = d.cpu, let i = seen[n] {
                cpus[i] = c
            } else {
                if let n = d.cpu { seen[n] = cpus.count }
                cpus.append(c)
            }
        }
        let relation = relate(cpus)
        return Incident(cpus: cpus, waitsFor: relation.waitsFor, pattern: relation.pattern)
    }

    /// Who waits for whom among classified CPUs: spinners and the one
    /// holder of their lock class, or two CPUs spinning on two different
    /// locks with nobody else in a lock path (ABBA).
    public static func relate(_ cpus: [CPU]) -> (waitsFor: [[Int]], pattern: String?) {
        var waits: [[Int]] = []
        var pattern: String?
        let spinners = cpus.filter { $0.state == .spinning && $0.cpu != nil }
        let holders = cpus.filter { $0.state == .holding && $0.cpu != nil }
        if holders.count == 1, let h = holders[0].cpu {
            for s in spinners where s.lockClass == holders[0].lockClass || holders[0].lockClass == nil {
                waits.append([s.cpu!, h])
            }
            if !waits.isEmpty { pattern = holders[0].lockClass == "runqueue" ? "rq-holder" : "holder" }
        } else if holders.isEmpty, spinners.count == 1, let me = spinners[0].cpu, spinners[0].alsoHolds != nil {
            // One CPU spinning on a runqueue lock it took further down its own stack.
            waits = [[me, me]]
            pattern = "self"
        } else if holders.isEmpty, spinners.count == 2, let a = spinners[0].lockAddress, let b = spinners[1].lockAddress, a != b {
            // Two CPUs spinning on two different locks, nobody else in a lock path:
            // each most likely holds the lock the other wants.
            waits = [[spinners[0].cpu!, spinners[1].cpu!], [spinners[1].cpu!, spinners[0].cpu!]]
            pattern = "abba"
        }
        return (waits, pattern)
    }

    /// "holder: CPU 1 in task_tick_fair; waiting: CPU 0, CPU 3" when the
    /// waits-for relation names a holder: the line a reader looks for first.
    public var holderSentence: String? {
        let holders = Set(waitsFor.map { $0[1] })
        guard !holders.isEmpty else { return nil }
        let parts = holders.sorted().map { h -> String in
            let c = cpus.first { $0.cpu == h }
            let lock = c?.lock.map { " in \($0)" } ?? ""
            let waiting = waitsFor.filter { $0[1] == h }.map { "CPU \($0[0])" }
            return "holder: CPU \(h)\(lock); waiting: \(waiting.joined(separator: ", "))"
        }
        return parts.joined(separator: "; ")
    }

    /// Who a dump's task is, when its header said (pid and comm both).
    struct TaskKey: Hashable {
        var pid: Int
        var comm: String

        init?(_ d: StackDump) {
            guard let pid = d.pid, let comm = d.comm else { return nil }
            self.pid = pid
            self.comm = comm
        }
    }

    /// What `classify` reads of a stack: the interrupted frames, the base
    /// names of the first 16, and each name's roles, looked up once for
    /// every list it is on (the checks asked up to 70 sets, a hash of the
    /// name each time).
    static func frameFacts(_ frames: [Frame]) -> (interrupted: [Frame], names: [String], roles: [LockFrames.Roles]) {
        if let known = lastFrameFacts.withLock({ last in last.flatMap { $0.frames == frames ? $0.facts : nil } }) { return known }
        let interrupted = StackDump.interruptedFrames(of: frames)
        let names = interrupted.prefix(16).compactMap { $0.function.map(FunctionName.base) }
        let facts = (interrupted, names, names.map(LockFrames.roles(of:)))
        lastFrameFacts.withLock { $0 = (frames, facts) }
        return facts
    }

    /// The stack classified last and its facts. One report's stack is
    /// classified three times, one after another: for the report's own
    /// event (`noteSpinLock`), by the rq-lock check's incident, and when
    /// incidents are joined; the three copies share their frames' storage,
    /// or hold equal frames, and the facts were a third of an event's cost
    /// in a storm of one stuck CPU's reports.
    private static let lastFrameFacts = Mutex<(frames: [Frame], facts: (interrupted: [Frame], names: [String], roles: [LockFrames.Roles]))?>(nil)

    public static func classify(_ d: StackDump) -> CPU {
        var c = CPU(cpu: d.cpu, pid: d.pid, comm: d.comm, state: .running, irqsDisabled: d.irqsDisabled, line: d.firstLine,
                    stack: d.frames)
        let (interrupted, names, roles) = frameFacts(d.frames)
        if roles.contains(where: { $0.contains(.lockdep) }) { return c }
        if let spin = roles.firstIndex(where: { $0.contains(.spin) }), spin < 4 {
            c.state = .spinning
            let afterSpin = names[(spin + 1)...].drop(while: LockFrames.spin.contains)
            c.lock = afterSpin.first
            if let rq = LockFrames.runqueueLockTaker(names, spinIndex: spin) {
                c.lock = rq
                c.lockClass = "runqueue"
                // printk from under the rq lock, waking a task onto the same
                // runqueue, and the like: the lock is already held below.
                let below = interrupted.compactMap { $0.function.map(FunctionName.base) }
                if let taker = below.firstIndex(of: rq), taker + 2 < below.count {
                    // Not the taker's own caller (that one is taking the lock now).
                    c.alsoHolds = below[(taker + 2)...].prefix(24).first(where: LockFrames.runqueueAlwaysHeld.contains)
                }
            }
            // The slow path's first argument is the lock: RDI, when the CPU was caught inside it.
            if let ip = interrupted.first, ip.isInstructionPointer, let f = ip.function,
               LockFrames.slowPaths.contains(FunctionName.base(f)),
               let rdi = d.registers["RDI"], let v = UInt64(rdi, radix: 16), v != 0 {
                c.lockAddress = "0x" + String(v, radix: 16)
            }
            return c
        }
        if let i = roles.prefix(8).firstIndex(where: { $0.contains(.longHolder) }) {
            let holder = names[i]
            c.state = .holding
            c.lock = holder
            c.lockClass = LockFrames.runqueueHolders.contains(holder) ? "runqueue" : nil
            return c
        }
        if let holder = LockFrames.runqueueHolder(names.prefix(8), roles: roles.prefix(8)) {
            c.state = .holding
            c.lock = holder
            c.lockClass = "runqueue"
            return c
        }
        if !names.isEmpty, roles.prefix(3).contains(where: { $0.contains(.idle) }) {
            c.state = .idle
        }
        return c
    }
}

/// Function names that tell what a CPU is doing with locks. Data, one place.
public enum LockFrames {
    /// Spinlock slow paths and wrappers: the innermost part of a spinning stack.
    public static let spin: Set<String> = [
        "native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
        "pv_queued_spin_lock_slowpath", "do_raw_spin_lock", "_raw_spin_lock", "_raw_spin_lock_irqsave",
        "_raw_spin_lock_irq", "_raw_spin_lock_bh", "_raw_spin_lock_nested", "__raw_spin_lock", "_spin_lock",
        "_spin_lock_irqsave", "__ticket_spin_lock", "arch_spin_lock", "__spin_lock_debug", "delay_tsc", "__delay",
        "kvm_wait", "pv_wait", "queued_spin_lock", "do_raw_spin_lock_flags", "queued_read_lock_slowpath",
        "queued_write_lock_slowpath", "_raw_read_lock", "_raw_write_lock", "_raw_write_lock_irqsave", "_raw_read_lock_irqsave",
    ]
    /// Slow paths whose first argument (RDI on x86-64) is the lock.
    public static let slowPaths: Set<String> = [
        "native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
        "pv_queued_spin_lock_slowpath", "do_raw_spin_lock", "queued_read_lock_slowpath", "queued_write_lock_slowpath",
    ]
    /// Functions that take a runqueue lock.
    public static let runqueueLockTakers: Set<String> = [
        "double_rq_lock", "double_lock_balance", "_double_lock_balance", "raw_spin_rq_lock_nested", "raw_spin_rq_lock",
        "_raw_spin_rq_lock", "raw_spin_rq_lock_irqsave", "__task_rq_lock", "task_rq_lock", "rq_lock", "rq_lock_irqsave",
        "rq_lock_irq", "double_rq_lock_irq",
    ]
    /// Scheduler paths whose plain spinlock is a runqueue lock.
    public static let schedulerCallers: Set<String> = [
        // Not try_to_wake_up: a slow path right under it is p->pi_lock (its rq lock
        // is taken through ttwu_queue / raw_spin_rq_lock, which show as frames).
        "load_balance", "sched_balance_rq", "move_queued_task", "__migrate_task", "migration_cpu_stop", "ttwu_queue", "push_rt_task", "pull_rt_task", "push_dl_task", "pull_dl_task", "active_load_balance_cpu_stop",
        "idle_balance", "newidle_balance", "sched_balance_newidle", "rebalance_domains", "sched_balance_domains",
        "sched_ttwu_pending", "__schedule", "scheduler_tick", "sched_tick", "move_task", "detach_tasks", "sched_core_balance",
        "resched_cpu",
    ]
    /// Paths known to keep a lock for long.
    public static let longHolders: Set<String> = runqueueHolders
    public static let runqueueHolders: Set<String> = [
        "tg_unthrottle_up", "tg_throttle_down", "walk_tg_tree_from", "unthrottle_cfs_rq", "distribute_cfs_runtime",
        "do_sched_cfs_period_timer", "sched_cfs_period_timer", "update_blocked_averages", "__update_blocked_fair",
    ]
    /// Scheduler paths that run with a runqueue lock held (taken by their
    /// caller): a CPU caught in one of them, not spinning, holds that lock —
    /// the scheduler tick (`scheduler_tick` → `task_tick_*`), a wake-up
    /// enqueueing on the target runqueue (`ttwu_do_activate` →
    /// `enqueue_task_*`), load balancing between its `double_lock` and
    /// unlock, a migration moving a task.
    public static let runqueueHeldBy: Set<String> = [
        "scheduler_tick", "sched_tick", "task_tick_fair", "task_tick_rt", "task_tick_dl", "task_tick_idle",
        "ttwu_do_activate", "ttwu_do_wakeup", "enqueue_task_fair", "enqueue_task_rt", "enqueue_task_dl", "enqueue_task",
        "activate_task", "check_preempt_curr", "wakeup_preempt", "pick_next_task_fair", "pick_next_task", "__pick_next_task",
        "load_balance", "sched_balance_rq", "detach_tasks", "attach_tasks", "move_queued_task", "__migrate_task",
        "migration_cpu_stop", "__migrate_swap_task", "migrate_swap_stop", "push_rt_task", "pull_rt_task",
        "__schedule",
    ]
    /// Scheduler class hooks that only ever run with their runqueue's lock
    /// held: one below a CPU's own rq-lock spin means the lock is taken twice.
    public static let runqueueAlwaysHeld: Set<String> = [
        "enqueue_task_fair", "enqueue_task_rt", "enqueue_task_dl", "dequeue_task_fair", "dequeue_task_rt",
        "dequeue_task_dl", "task_tick_fair", "task_tick_rt", "task_tick_dl", "ttwu_do_activate", "activate_task",
        "deactivate_task", "check_preempt_curr", "wakeup_preempt", "check_preempt_wakeup", "check_preempt_wakeup_fair",
        "put_prev_task_fair", "set_next_task_fair", "pick_next_task_fair", "scheduler_tick", "sched_tick",
    ]

    /// Frames that mean `__schedule` already switched away: its rq lock is
    /// released in `finish_task_switch`, and a sleeping task's stack always
    /// shows `__schedule`.
    static let switchedAway: Set<String> = ["context_switch", "finish_task_switch", "__switch_to", "__switch_to_asm",
                                            "finish_task_switch.isra.0", "schedule_idle"]

    /// The first runqueue-holding scheduler frame among `names` (innermost
    /// first), unless the stack shows the switch that drops the lock. A
    /// stack that starts at `__schedule` is a task asleep in it (newer
    /// kernels inline `context_switch`), not a CPU running the scheduler;
    /// inside `__schedule` the frame it called (`pick_task_dl`, …) is named.
    public static func runqueueHolder<C: Collection>(_ names: C) -> String? where C.Element == String {
        runqueueHolder(names, roles: names.map(roles(of:)))
    }

    /// The same, with each name's `roles(of:)` already looked up.
    static func runqueueHolder<C: Collection, R: Collection>(_ names: C, roles: R) -> String?
    where C.Element == String, R.Element == Roles {
        var previous: String?
        for (name, role) in zip(names, roles) {
            if role.contains(.switchedAway) { return nil }
            if name == "__schedule" {
                guard let inner = previous else { return nil }
                return inner
            }
            if role.contains(.runqueueHeldBy) { return name }
            previous = name
        }
        return nil
    }

    /// The lists above a name is on, as one value.
    public struct Roles: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let lockdep = Roles(rawValue: 1 << 0)
        public static let spin = Roles(rawValue: 1 << 1)
        public static let longHolder = Roles(rawValue: 1 << 2)
        public static let switchedAway = Roles(rawValue: 1 << 3)
        public static let runqueueHeldBy = Roles(rawValue: 1 << 4)
        public static let idle = Roles(rawValue: 1 << 5)
    }

    /// Every name on one of the lists, with the lists it is on: built from
    /// the lists, so they stay the one place the names are written.
    static let rolesByName: [String: Roles] = {
        var table: [String: Roles] = [:]
        for (list, role) in [(lockdep, Roles.lockdep), (spin, .spin), (longHolders, .longHolder), (switchedAway, .switchedAway),
                             (runqueueHeldBy, .runqueueHeldBy), (idle, .idle)] {
            for name in list { table[name, default: []].insert(role) }
        }
        return table
    }()

    public static func roles(of name: String) -> Roles { rolesByName[name] ?? [] }

    /// Lockdep's own frames: such a stack is a lockdep report, not a spin.
    public static let lockdep: Set<String> = ["lock_acquire", "__lock_acquire", "print_circular_bug", "check_noncircular",
                                              "validate_chain", "lockdep_print_held_locks"]
    /// The idle loop.
    public static let idle: Set<String> = [
        "default_idle", "native_safe_halt", "arch_safe_halt", "safe_halt", "cpuidle_enter_state", "cpuidle_enter",
        "intel_idle", "intel_idle_irq", "acpi_idle_do_entry", "acpi_idle_enter", "acpi_safe_halt", "mwait_idle",
        "mwait_idle_with_hints", "poll_idle", "io_idle", "cpu_idle_poll", "arch_cpu_idle", "default_idle_call",
        "do_idle", "cpu_startup_entry", "native_halt", "pv_native_safe_halt", "cpu_do_idle", "arch_cpu_idle_enter",
        "amd_e400_idle", "hlt_play_dead", "xen_safe_halt", "kvm_wait_idle",
    ]

    /// The runqueue-lock taker a spinning stack spins under, if any: a
    /// `double_rq_lock`-style taker near the spin, an rq-lock helper right
    /// above it, or a plain spinlock taken directly by a scheduler path.
    public static func runqueueLockTaker(_ names: [String], spinIndex: Int) -> String? {
        let afterSpin = names[(spinIndex + 1)...].prefix(8).drop(while: spin.contains)
        if let d = afterSpin.prefix(6).first(where: { $0 == "double_rq_lock" || $0 == "double_lock_balance" || $0 == "_double_lock_balance" }) {
            return d
        }
        if let rq = afterSpin.prefix(3).first(where: runqueueLockTakers.contains) { return rq }
        if let caller = afterSpin.first, schedulerCallers.contains(caller) { return caller }
        return nil
    }
}
