import Foundation
import LockscanKit

/// RCU CPU stall warnings (kernel/rcu/tree_stall.h): a grace period did not
/// end in time because some CPU (or task) did not pass a quiescent state.
///
/// Wordings: `INFO: rcu_preempt self-detected stall on CPU`,
/// `INFO: rcu_sched detected stalls on CPUs/tasks:` with per-CPU lines and
/// `(detected by 0, t=10502 jiffies, …)`, expedited variants
/// (`detected expedited stalls on CPUs/tasks: { 1-... }`), `rcu_tasks`,
/// and the grace-period kthread starvation line
/// (`rcu_preempt kthread starved for 5252 jiffies! … ->cpu=1`), which joins
/// the stall it belongs to.
public final class RCUStallAnalyzer: Analyzer {
    public static let descriptor = AnalyzerDescriptor(
        id: "rcu-stall",
        title: "RCU stall",
        explanation: explanation,
        eventKinds: ["rcu_stall"],
        triggers: ["detected stall", "detected expedited stall", "kthread starved for"],
        // Every wording above, and the panic of rcupdate.rcu_cpu_stall_panic.
        reportHeaders: ["detected stall", "self-detected stall", "detected stalls", "detected expedited stalls",
                        "kthread starved for", "not syncing: RCU Stall"],
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

    private var pending: PendingReport?

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        if var p = pending {
            if let starved = Starvation.parse(text) {
                // Printed inside the stall report it explains.
                p.event.details["kthreadStarvedJiffies"] = String(starved.jiffies)
                if let cpu = starved.cpu { p.event.details["kthreadCPU"] = String(cpu) }
                p.event.evidence.append(text)
                pending = p
                return .collecting
            }
            if let line = StallLine.parse(text) { apply(line, to: &p.event) }
            if p.feed(record) {
                pending = p
                return .collecting
            }
            finish(p, emit)
            pending = nil
        }
        if let header = Header.parse(text) {
            var e = Event(analyzer: Self.descriptor.id, kind: "rcu_stall", title: "INFO: rcu detected stall",
                          severity: .error, source: SourceLocation(record), time: record.clock,
                          evidence: [text], explanation: Self.explanation)
            e.details["flavor"] = header.flavor
            e.details["detection"] = header.detection
            if let cpus = header.cpus { e.details["stalledCPUs"] = cpus.map(String.init).joined(separator: ",") }
            e.cpu = header.cpus?.first ?? (header.detection == "self-detected" ? record.callerCPU : nil)
            pending = PendingReport(event: e, header: record)
            return .collecting
        }
        if let starved = Starvation.parse(text) {
            var e = Event(analyzer: Self.descriptor.id, kind: "rcu_stall", title: "INFO: rcu kthread starved",
                          severity: .error, source: SourceLocation(record), time: record.clock,
                          cpu: starved.cpu, evidence: [text], explanation: Self.explanation)
            e.details["flavor"] = starved.flavor
            e.details["kthreadStarvedJiffies"] = String(starved.jiffies)
            pending = PendingReport(event: e, header: record)
            return .collecting
        }
        return .idle
    }

    public func finish(emit: (Event) -> Void) {
        if let p = pending { finish(p, emit) }
        pending = nil
    }

    private func apply(_ line: StallLine, to e: inout Event) {
        switch line {
        case let .stalledCPU(cpu):
            var cpus = e.details["stalledCPUs"].map { $0.split(separator: ",").compactMap { Int($0) } } ?? []
            // The first stalled-CPU line names the event's CPU, over the printing CPU's caller id.
            if cpus.isEmpty { e.cpu = cpu }
            if !cpus.contains(cpu), cpus.count < 64 { cpus.append(cpu) }
            e.details["stalledCPUs"] = cpus.map(String.init).joined(separator: ",")
        case let .detectedBy(cpu, jiffies):
            if let cpu { e.details["detectedBy"] = String(cpu) }
            if let jiffies { e.details["stallJiffies"] = String(jiffies) }
        }
    }

    private func finish(_ report: PendingReport, _ emit: (Event) -> Void) {
        var report = report
        var (e, dumps) = report.close()
        if e.title.hasSuffix("starved") {
            emit(e)
            return
        }
        // The stalled CPU's dump; the first one that yields a culprit otherwise.
        var chosen: StackDump?
        var culprit: String?
        let ordered = dumps.filter { $0.cpu != nil && $0.cpu == e.cpu } + dumps.filter { $0.cpu == nil || $0.cpu != e.cpu }
        for d in ordered {
            if let c = FrameAttribution.stallCulprit(FrameAttribution.stuckContext(d), skipRCU: true) {
                chosen = d
                culprit = c
                break
            }
        }
        chosen = chosen ?? ordered.first
        e.adopt(chosen)
        if let d = chosen {
            e.pid = d.pid
            e.comm = d.comm
            if e.cpu == nil { e.cpu = d.cpu }
        }
        e.setTitle("INFO: rcu detected stall", culprit: culprit)
        e.hints = StackHints.matching(e.stack)
        if e.details["kthreadStarvedJiffies"] != nil {
            e.hints.append(Hint("The RCU grace-period kthread was starved of CPU time: look for real-time or busy tasks and softirq load on the CPU it last ran on (kthreadCPU); RCU cannot end grace periods without it.",
                                reference: "Documentation/RCU/stallwarn.rst"))
        } else {
            e.hints.append(Hint("Read the stalled CPU's backtrace below the timer interrupt: a loop without cond_resched(), a lock spin with preemption off, or a vCPU that was not running (check the host).",
                                reference: "Documentation/RCU/stallwarn.rst"))
        }
        emit(e)
    }

    struct Header {
        var flavor: String
        var detection: String
        var cpus: [Int]?

        static func parse(_ text: String) -> Header? {
            // "INFO: rcu_preempt self-detected stall on CPU", "INFO: rcu_sched detected stalls on CPUs/tasks:",
            // "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21020 jiffies s: 1285",
            // "INFO: rcu_tasks detected stalls on tasks:"
            guard text.includes("INFO: rcu"), let info = text.range(of: "INFO: rcu") else { return nil }
            let rest = text[info.lowerBound...]
            let detection: String
            if rest.includes("self-detected stall") {
                detection = "self-detected"
            } else if rest.includes("detected expedited stall") {
                detection = "expedited"
            } else if rest.includes("detected stall") {
                detection = "detected"
            } else {
                return nil
            }
            let flavor = String(rest.dropFirst("INFO: ".count).prefix(while: { $0 != " " }))
            var h = Header(flavor: flavor, detection: detection)
            if let open = rest.firstIndex(of: "{"), let close = rest.firstIndex(of: "}"), open < close {
                // expedited: "{ 1-... 3-... }"
                h.cpus = rest[rest.index(after: open)..<close].split(separator: " ").compactMap { tok in
                    Int(tok.prefix(while: { $0.isNumber }))
                }
            }
            return h
        }
    }

    enum StallLine {
        case stalledCPU(Int)
        case detectedBy(Int?, Int?)

        /// "\t1-...!: (0 ticks this GP) idle=…", "rcu: \t0-....: (10500 ticks this GP)",
        /// "\t(detected by 0, t=10502 jiffies, g=…)", "\t(t=10501 jiffies g=… q=…)".
        static func parse(_ text: String) -> StallLine? {
            var t = Substring(text)
            if t.hasPrefix("rcu:") { t = t.dropFirst(4) }
            t = t.drop(while: { $0 == " " || $0 == "\t" })
            if t.hasPrefix("(detected by ") || t.hasPrefix("(t=") {
                let s = String(t)
                return .detectedBy(s.integer(after: "detected by "), s.integer(after: "t="))
            }
            let digits = t.prefix(while: { $0.isNumber })
            guard !digits.isEmpty, let cpu = Int(digits) else { return nil }
            let after = t.dropFirst(digits.count)
            guard after.hasPrefix("-"), after.includes("):") || after.includes(": (") else { return nil }
            return .stalledCPU(cpu)
        }
    }

    struct Starvation {
        var flavor: String
        var jiffies: Int
        var cpu: Int?

        /// "rcu_preempt kthread starved for 10502 jiffies! g14549 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1"
        static func parse(_ text: String) -> Starvation? {
            guard text.includes(" kthread starved for "), let r = text.range(of: " kthread starved for ") else { return nil }
            let before = text[..<r.lowerBound]
            let flavor = String(before.split(separator: " ").last ?? "rcu")
            guard let jiffies = text.integer(after: "starved for ") else { return nil }
            return Starvation(flavor: flavor, jiffies: jiffies, cpu: text.integer(after: "->cpu="))
        }
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
