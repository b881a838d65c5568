import FoundationEssentials
import LockscanKit

/// RCU CPU stall warnings (kernel/rcu/tree_stall.h, tree_exp.h, 2.6's
/// rcutree.c): a grace period did not end in time because some CPUs (or
/// tasks) did not pass a quiescent state.
///
/// One report is one event: its header (`StallHeader`, every wording from
/// 2.6.32's `INFO: RCU detected CPU stalls: 3 5` to 6.x), the stalled CPUs
/// and tasks it lists, the dumps that follow, and the kernel's own
/// diagnosis lines (`StallLine`). The grace-period kthread's starvation line
/// names the CPU the kthread last ran on — not a stalled CPU — and the
/// kthread's own stack is a sleeping task's, never the stall's culprit.
public final class RCUStallAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "rcu-stall",
        title: "RCU stall",
        explanation: explanation,
        eventKinds: ["rcu_stall"],
        roles: ["rcu_stall": .lockup],
        triggers: ["detected stall", "detected expedited stall", "RCU detected CPU", "kthread starved for"],
        // Every wording above, and the panic of rcupdate.rcu_cpu_stall_panic.
        reportHeaders: ["detected stall", "self-detected stall", "detected stalls", "detected expedited stalls",
                        "RCU detected CPU", "kthread starved for", "not syncing: RCU Stall"],
        examples: examples,
        make: { RCUStallAnalyzer() })

    static let explanation = """
        An RCU grace period has not completed for longer than the stall timeout \
        (rcupdate.rcu_cpu_stall_timeout, 21 s by default): the CPUs listed did not pass \
        through a quiescent state — they ran in the kernel with preemption or interrupts \
        disabled, looped without scheduling, or (in a VM) were not run at all. The \
        culprit is usually the code the stalled CPU's backtrace shows below the timer \
        interrupt. A starved grace-period kthread instead means the RCU kthread itself \
        could not run (RT tasks or softirq storms on its CPU).
        """

    private var pending: StallReport?

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        // Fed where it lies: a copy stored back shared the report's arrays,
        // so every line of its window copied them.
        if pending != nil {
            if pending!.feed(record) { return .collecting }
            emit(pending!.finish())
            pending = nil
        }
        if let header = StallHeader.parse(record.text) {
            pending = StallReport(header: header, record: record)
            return .collecting
        }
        if let starved = KthreadStarvation.parse(record.text) {
            pending = StallReport(starvation: starved, record: record)
            return .collecting
        }
        return .idle
    }

    public func finish(emit: (Event) -> Void) {
        if let report = pending { emit(report.finish()) }
        pending = nil
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("detected by another CPU, task dump of the stalled CPU", """
            INFO: rcu_sched detected stalls on CPUs/tasks:
            \t1-...!: (0 ticks this GP) idle=1c4/1/0x4000000000000000 softirq=10345/10345 fqs=0
            \t(detected by 0, t=10502 jiffies, g=6134, q=11)
            NMI backtrace for cpu 1
            CPU: 1 PID: 8640 Comm: syz-executor Not tainted 4.19.0+ #1
            RIP: 0010:__sanitizer_cov_trace_pc+0x2a/0x50
            Call Trace:
             snd_seq_write+0x2d3/0x600
             __vfs_write+0x119/0x9f0
             vfs_write+0x1f8/0x560
             ksys_write+0x101/0x260
             do_syscall_64+0x1a3/0x800
             entry_SYSCALL_64_after_hwframe+0x49/0xbe
            """, expect: [.init(kind: "rcu_stall", title: "INFO: rcu detected stall in snd_seq_write", cpu: 1, severity: .error, line: 1)]),
        AnalyzerExample("self-detected with the interrupted RIP inside the trace, kthread starved", """
            rcu: INFO: rcu_preempt self-detected stall on CPU
            rcu: \t0-....: (10499 ticks this GP) idle=a5c/1/0x4000000000000002 softirq=1334/1334 fqs=5210
            \t(t=10500 jiffies g=1529 q=74)
            rcu: rcu_preempt kthread starved for 5252 jiffies! g1529 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1
            NMI backtrace for cpu 0
            CPU: 0 PID: 115 Comm: spin Tainted: G           O       6.1.0-18-cloud-amd64 #1  Debian 6.1.76-1
            Call Trace:
             <IRQ>
             dump_stack_lvl+0x44/0x5c
             nmi_cpu_backtrace.cold+0x30/0x70
             rcu_dump_cpu_stacks+0xde/0x130
             rcu_sched_clock_irq.cold+0x1ff/0x46d
             update_process_times+0x8c/0xc0
             tick_sched_timer+0x81/0x90
             __hrtimer_run_queues+0x112/0x2b0
             hrtimer_interrupt+0xf8/0x230
             __sysvec_apic_timer_interrupt+0x55/0x120
             sysvec_apic_timer_interrupt+0x91/0xb0
             </IRQ>
             <TASK>
             asm_sysvec_apic_timer_interrupt+0x16/0x20
            RIP: 0010:spin_thread+0x11/0x30 [lockmod]
            RSP: 0018:ffffb0c1c0623ef0 EFLAGS: 00000246
             kthread+0xd7/0x100
             ret_from_fork+0x22/0x30
             </TASK>
            """, expect: [.init(kind: "rcu_stall", title: "INFO: rcu detected stall in spin_thread", cpu: 0, line: 1)]),
        AnalyzerExample("a stall that ended before the dump is not reported", """
            INFO: Stall ended before state dump start
            rcu: INFO: NMI handler (nmi_cpu_backtrace_handler) took too long to run: 29.847 msecs
            """, expect: []),
    ]
}
