import LockscanKit

/// `BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 32s!`
///
/// The workqueue watchdog (kernel/workqueue.c, wq_watchdog_timer_fn) saw a
/// worker pool make no progress for workqueue.watchdog_thresh seconds. It
/// then prints "Showing busy workqueues and worker pools:", which is kept as
/// evidence.
public final class WorkqueueLockupAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "workqueue-lockup",
        title: "Workqueue lockup",
        explanation: explanation,
        eventKinds: ["workqueue_lockup"],
        roles: ["workqueue_lockup": .lockup],
        triggers: ["BUG: workqueue lockup"],
        reportHeaders: ["BUG: workqueue lockup"],
        examples: examples,
        make: { WorkqueueLockupAnalyzer() })

    static let explanation = """
        A worker pool made no forward progress for longer than workqueue.watchdog_thresh \
        (30 s by default): the work items queued on it are stuck behind one that blocks \
        or spins, or the pool's CPU is monopolised (a soft lockup or RT task on it). The \
        "Showing busy workqueues" dump after it names the work items in flight.
        """

    private var pending: Event?
    private var extraLines = 0

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        if var e = pending {
            // Keep the busy-pool dump that follows (indented "pwq"/"pool"/"in-flight" lines).
            let t = text.drop(while: { $0 == " " || $0 == "\t" })
            if extraLines < 40, !text.includes("BUG: workqueue lockup"),
               t.hasPrefix("Showing busy") || t.hasPrefix("workqueue ") || t.hasPrefix("pwq ") || t.hasPrefix("pool ")
                || t.hasPrefix("in-flight") || t.hasPrefix("pending:") || t.hasPrefix("delayed:") || t.hasPrefix("inactive:") {
                e.evidence.append(text)
                e.source.endLine = record.line
                extraLines += 1
                pending = e
                return .collecting
            }
            emit(e)
            pending = nil
        }
        guard text.includes("BUG: workqueue lockup"), let r = text.firstOccurrence(of: "BUG: workqueue lockup") else { return .idle }
        let rest = String(text[r.upperBound...])
        var e = Event(analyzer: Self.descriptor.id, kind: "workqueue_lockup", title: "BUG: workqueue lockup",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      evidence: [text], explanation: Self.explanation)
        e.cpu = rest.integer(after: "pool cpus=")
        if let cpus = rest.components(separatedBy: "pool cpus=").dropFirst().first?.split(separator: " ").first {
            e.details["poolCPUs"] = String(cpus)
        }
        if let s = rest.integer(after: "stuck for ") { e.details["stuckSeconds"] = String(s) }
        e.hints = [Hint("Read the in-flight work items in the busy-pool dump and the backtrace of the worker running them (sysrq-t); check the pool's CPU for a soft lockup or a real-time task.",
                        reference: "Documentation/core-api/workqueue.rst")]
        pending = e
        extraLines = 0
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        if let e = pending { emit(e) }
        pending = nil
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("pool stuck, busy pools listed", """
            BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 32s!
            Showing busy workqueues and worker pools:
            workqueue events: flags=0x0
              pwq 0: cpus=0 node=0 flags=0x0 nice=0 active=2/256 refcnt=3
                in-flight: 1400:jump_label_update_timeout
            """, expect: [.init(kind: "workqueue_lockup", title: "BUG: workqueue lockup", cpu: 0, severity: .error, line: 1)]),
        AnalyzerExample("a busy-pool dump from sysrq alone is not a lockup", """
            Showing busy workqueues and worker pools:
            workqueue events: flags=0x0
            """, expect: []),
    ]
}
