import FoundationEssentials
import LockscanKit

/// `sched: RT throttling activated`.
///
/// The kernel prints it with `printk_deferred_once` (kernel/sched/rt.c,
/// sched_rt_runtime_exceeded): once per boot, without CPU or task, and its
/// timestamp may lag. So the finding is "real-time tasks used up
/// sched_rt_runtime_us of a period at least once before this point", never
/// "now". What the capture shows of real-time tasks is listed with it.
public final class RTThrottlingAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "rt-throttling",
        title: "RT throttling activated",
        explanation: explanation,
        eventKinds: ["rt_throttling"],
        triggers: ["RT throttling", "SCHED_FIFO", "SCHED_RR", " Comm: ", "COMMAND: ", "pick_next_task_rt",
                   "sched_rt_period_timer", "update_curr_rt"],
        examples: examples,
        make: { RTThrottlingAnalyzer() })

    static let explanation = """
        Real-time (SCHED_FIFO/SCHED_RR) tasks used up their budget, sched_rt_runtime_us \
        (default 950000) of every sched_rt_period_us (default 1000000), and the scheduler \
        throttled them to let other tasks run. The kernel prints this once per boot, with \
        no CPU or task and possibly a late timestamp: it means the budget was exhausted at \
        least once before this line, not that it is happening now. A runaway RT task \
        starves everything else on its CPU (kernel threads, the watchdog-feeding daemon), \
        which is why hardware-watchdog resets often follow silently.
        """

    private var throttled: [Event] = []
    /// Real-time tasks the capture shows, by name; capped so memory stays bounded.
    private var rtTasks: [String] = []
    private static let maxTasks = 32

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        if text.includes("RT throttling activated") {
            var e = Event(analyzer: Self.descriptor.id, kind: "rt_throttling", title: "RT throttling activated",
                          severity: .warning, source: SourceLocation(record), time: record.clock,
                          evidence: [text], explanation: Self.explanation)
            if let cpu = text.integer(after: "on CPU") ?? text.integer(after: "cpu ") { e.cpu = cpu }
            throttled.append(e)
            return .idle
        }
        if let task = Self.realTimeTask(in: text) { note(task) }
        return .idle
    }

    public func finish(emit: (Event) -> Void) {
        for var e in throttled {
            if !rtTasks.isEmpty { e.details["realtimeTasks"] = rtTasks.joined(separator: ", ") }
            e.hints = [
                Hint("Find the SCHED_FIFO/SCHED_RR task that spins (ps -eLo pid,cls,rtprio,comm; chrt -p PID) and check sched_rt_runtime_us / sched_rt_period_us; setting the runtime to -1 removes the safety net, it does not fix the task.",
                     reference: "Documentation/scheduler/sched-rt-group.rst"),
                Hint("RT throttling is often the only line before a hardware or hypervisor watchdog resets the machine: a starved watchdog daemon stops petting /dev/watchdog. Check the BMC/IPMI SEL or the hypervisor for a watchdog reset after this point."),
            ]
            if !rtTasks.isEmpty {
                e.hints.append(Hint("Real-time tasks visible in this capture: \(rtTasks.joined(separator: ", ")); the throttled one is likely among them."))
            }
            emit(e)
        }
        // Emitted once: a followed input finishes at each pause.
        throttled = []
    }

    private func note(_ task: String) {
        if rtTasks.count < Self.maxTasks, !rtTasks.contains(task) { rtTasks.append(task) }
    }

    /// Names of tasks the capture shows as real-time: `SCHED_FIFO`/`SCHED_RR`
    /// mentions, kernel threads that always run with an RT policy, and stacks
    /// in the RT scheduling class.
    static func realTimeTask(in text: String) -> String? {
        if let r = text.firstOccurrence(of: " Comm: ") ?? text.firstOccurrence(of: "COMMAND: \"") {
            let comm = text[r.upperBound...].prefix(while: { $0 != " " && $0 != "\"" })
            if rtKernelThreadPrefixes.contains(where: { comm.hasPrefix($0) }) { return String(comm) }
            return nil
        }
        if text.includes("SCHED_FIFO") || text.includes("SCHED_RR") {
            return String(text.trimmingBlanks().prefix(80))
        }
        return nil
    }

    /// Kernel threads created with a real-time policy (stop-machine,
    /// threaded IRQs, RCU boost/callback threads on PREEMPT_RT).
    static let rtKernelThreadPrefixes = ["migration/", "irq/", "rcuc/", "rcub/", "watchdog/", "ktimersoftd/", "posixcputmr/"]

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("single line on a serial console", """
            sched: RT throttling activated
            """, expect: [.init(kind: "rt_throttling", title: "RT throttling activated", severity: .warning, line: 1)]),
        AnalyzerExample("with a real-time task visible later", """
            sched: RT throttling activated
            CPU: 1 PID: 23 Comm: irq/24-eth0 Not tainted 5.10.0-rt #1
            """, expect: [.init(kind: "rt_throttling", line: 1)]),
        AnalyzerExample("RT group scheduling settings are not throttling", """
            sched: RT runtime set to 950000 us
            """, expect: []),
    ]
}
