import FoundationEssentials
import LockscanKit

/// `INFO: task khugepaged:123 blocked for more than 120 seconds.`
///
/// khungtaskd (kernel/hung_task.c) found a task in uninterruptible sleep (D
/// state) that was not woken for hung_task_timeout_secs. It prints at most
/// hung_task_warnings reports (10 by default), each with the task's stack.
/// When several blocked tasks wait at the same place, they most likely wait
/// for the same lock or event, and the owner is someone else: that is worth
/// saying, so reports are held to the end of the input and compared.
public final class HungTaskAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "hung-task",
        title: "Hung task",
        explanation: explanation,
        eventKinds: ["hung_task"],
        roles: ["hung_task": .lockup],
        triggers: ["blocked for more than", "blocked in I/O wait for more than", "hung_task: blocked tasks"],
        // Each task's INFO line starts a report, and so does the panic of
        // kernel.hung_task_panic.
        reportHeaders: ["blocked for more than", "blocked in I/O wait for more than", "not syncing: hung_task"],
        examples: examples,
        make: { HungTaskAnalyzer() })

    static let explanation = """
        A task sat in uninterruptible sleep (D state) for longer than \
        kernel.hung_task_timeout_secs (120 s by default): it waits for a lock, an I/O or \
        an event that nobody completes. The function it is "in" is the first frame past \
        the sleep and locking primitives; the lock's owner is another task, often one \
        that is itself blocked or stuck elsewhere (look at the other reports and at \
        sysrq-w / "Showing all locks held").
        """

    private var pending: PendingReport?
    private var reports: [Event] = []
    private var sawInfoLine = false
    /// khungtaskd prints 10 reports per boot by default
    /// (kernel.hung_task_warnings); past this many, reports are counted.
    private static let maxReports = 4096
    private var droppedReports = 0
    private var droppedFrom: Int?

    public init() {}

    private func keep(_ e: Event) {
        if reports.count < Self.maxReports {
            reports.append(e)
        } else {
            droppedReports += 1
            droppedFrom = droppedFrom ?? e.source.line
        }
    }

    public var inputDiagnostics: [Diagnostic] {
        guard droppedReports > 0 else { return [] }
        return [Diagnostic(file: "", line: droppedFrom, message: "\(droppedReports) hung-task reports after the first \(Self.maxReports) not reported")]
    }

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        switch pending.step(record) {
        case .accepted: return .collecting
        case let .finished(p): close(p)
        case .idle: break
        }
        let text = record.text
        if let header = Header.parse(text) {
            sawInfoLine = true
            var e = Event(analyzer: Self.descriptor.id, kind: "hung_task", title: "INFO: task hung", severity: .error,
                          source: SourceLocation(record), time: record.clock, pid: header.pid, comm: header.comm,
                          evidence: [text], explanation: Self.explanation)
            if let s = header.seconds { e.details["blockedSeconds"] = String(s) }
            if header.ioWait { e.details["ioWait"] = "true" }
            pending = PendingReport(event: e, header: record, window: 300)
            return .collecting
        }
        let panic = text.includes("Kernel panic - not syncing: hung_task: blocked tasks")
            && !text.drop(while: { $0 == " " }).hasPrefix("---[ end ")
        if panic, sawInfoLine, var last = reports.popLast() {
            // kernel.hung_task_panic: khungtaskd panicked after this report.
            last.details["panic"] = "true"
            last.severity = .critical
            last.evidence.append(text)
            reports.append(last)
            return .idle
        }
        if panic, !sawInfoLine {
            // The INFO line itself was lost (console overrun): the panic still says what happened.
            var e = Event(analyzer: Self.descriptor.id, kind: "hung_task", title: "kernel panic: hung_task: blocked tasks",
                          severity: .critical, source: SourceLocation(record), time: record.clock,
                          evidence: [text], explanation: Self.explanation)
            e.details["panic"] = "true"
            e.cpu = record.callerCPU
            keep(e)
        }
        return .idle
    }

    public func finish(emit: (Event) -> Void) {
        if let p = pending { close(p) }
        pending = nil
        markSharedWaits()
        for e in reports { emit(e) }
        reports = []
    }

    private func close(_ report: PendingReport) {
        var report = report
        var (e, dumps) = report.close()
        // The blocked task's own dump (hung tasks are not running: no CPU).
        let dump = dumps.first { $0.pid == e.pid && e.pid != nil } ?? dumps.first
        e.adopt(dump)
        let culprit = dump.flatMap { FrameAttribution.hungTaskCulprit($0.frames) }
        e.setTitle("INFO: task hung", culprit: culprit)
        if let d = dump, let site = Self.waitSite(d.frames) { e.details["waitsIn"] = site }
        e.hints = [Hint("Find who holds what this task waits for: sysrq-w or the \"Showing all locks held\" dump lists lock owners; a task blocked in I/O points at the device or filesystem below it.",
                        reference: "Documentation/admin-guide/sysctl/kernel.rst")]
        keep(e)
    }

    /// Reports whose tasks wait in the same primitive called from the same
    /// function: probably one lock (or event) and one owner elsewhere.
    private func markSharedWaits() {
        var bySite: [String: [Int]] = [:]
        for (i, e) in reports.enumerated() {
            if let site = e.details["waitsIn"] { bySite[site, default: []].append(i) }
        }
        for (site, indices) in bySite where indices.count > 1 {
            let tasks = indices.map { i in reports[i].comm.map { c in reports[i].pid.map { "\(c):\($0)" } ?? c } ?? "?" }
            for i in indices {
                let others = tasks.enumerated().filter { indices[$0.offset] != i }.map(\.element)
                reports[i].details["sameWaitAs"] = others.joined(separator: ", ")
                reports[i].hints.insert(Hint("\(indices.count) blocked tasks wait at the same place (\(site)): they most likely wait for the same lock or event, held by a task that is not among them; find that owner."), at: 0)
            }
        }
    }

    /// Where a task sleeps, as a lock would be named: a specific lock
    /// function (`rtnl_lock`) stands for its lock; a generic primitive
    /// (`__mutex_lock`, `down_write`, `wait_for_completion`) only means the
    /// same lock together with its caller (`__mutex_lock ← foo_ioctl`).
    static func waitSite(_ frames: [Frame]) -> String? {
        let names = frames.filter(\.reliable).compactMap { $0.function.map(FunctionName.base) }
        guard let culpritIndex = names.firstIndex(where: { n in
            !FrameAttribution.sleeping.contains(where: n.contains) && !FrameAttribution.isPlumbing(n)
        }) else { return nil }
        let waiting = names[..<culpritIndex].filter { n in !genericSleep.contains { n.hasPrefix($0) } }
        if let specific = waiting.last { return specific }
        let primitive = names[..<culpritIndex].last { !$0.hasPrefix("schedule") && !$0.hasPrefix("__schedule") && !$0.hasPrefix("io_schedule") }
        return (primitive.map { $0 + " ← " } ?? "") + names[culpritIndex]
    }

    /// Sleep primitives that say nothing about which lock or event.
    static let genericSleep = ["schedule", "__schedule", "io_schedule", "preempt_schedule", "__mutex_lock", "mutex_lock",
                               "__down", "down", "rwsem_down", "__rwsem", "wait_for_completion", "__wait_for_common",
                               "wait_for_common", "do_wait_for_common", "__wait_on", "wait_on", "bit_wait", "out_of_line_wait",
                               "folio_wait", "__folio_lock", "__lock_page", "rt_mutex", "__rt_mutex", "rwbase_", "percpu_rwsem",
                               "percpu_down", "context_switch", "__switch_to", "usleep_range", "msleep", "schedule_timeout",
                               "kthread", "ww_mutex", "__ww_mutex"]

    /// `INFO: task comm:pid blocked for more than N seconds.` (and `blocked in I/O wait for more than`).
    struct Header {
        var comm: String?
        var pid: Int?
        var seconds: Int?
        var ioWait = false

        static func parse(_ text: String) -> Header? {
            guard text.includes(" blocked "),
                  let blocked = text.firstOccurrence(of: " blocked for more than ") ?? text.firstOccurrence(of: " blocked in I/O wait for more than "),
                  text[blocked.upperBound...].contains("second")
            else { return nil }
            var h = Header()
            h.ioWait = text[blocked].contains("I/O")
            // "INFO: task " may be lost or garbled on a busy console; the
            // "comm:pid blocked for more than N seconds" part still says it all.
            let start = text.firstOccurrence(of: "INFO: task ")?.upperBound ?? text.startIndex
            let who = text[start..<blocked.lowerBound]
            guard who.contains(":") else { return nil }
            // Comms contain colons and spaces: the pid is after the last colon.
            if let colon = who.lastIndex(of: ":"), let pid = Int(who[who.index(after: colon)...]) {
                h.comm = String(who[..<colon])
                h.pid = pid
            } else {
                h.comm = String(who)
            }
            h.seconds = Int(text[blocked.upperBound...].prefix(while: { $0.isNumber }))
            return h
        }
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("3.18 getty waiting on the tty ldisc semaphore", """
            INFO: task getty:2986 blocked for more than 120 seconds.
                  Not tainted 3.18.0-13280-g93f6785-dirty #12
            "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
            getty           D ffffffff83e27d60 28152  2986      1 0x00000002
            Call Trace:
             [<ffffffff835bdeb4>] schedule+0x64/0x160
             [<ffffffff835c9c1a>] schedule_timeout+0x2fa/0x5d0
             [<ffffffff835c9920>] ? console_conditional_schedule+0x30/0x30
             [<ffffffff835cb4ec>] ldsem_down_write+0x1ac/0x357
             [<ffffffff835cbdd2>] tty_ldisc_lock_pair_timeout+0xb2/0x160
             [<ffffffff81f8b03f>] tty_ldisc_hangup+0x21f/0x720
            """, expect: [.init(kind: "hung_task", title: "INFO: task hung in tty_ldisc_hangup", severity: .error, line: 1)]),
        AnalyzerExample("two tasks waiting for rtnl_lock", """
            INFO: task kworker/1:3:4520 blocked for more than 143 seconds.
            task:kworker/1:3     state:D stack:27704 pid:4520  ppid:2      flags:0x00004000
            Call Trace:
             <TASK>
             __schedule+0x8f1/0x2120
             schedule+0xcf/0x270
             schedule_preempt_disabled+0x13/0x20
             __mutex_lock+0x81b/0x14f0
             rtnl_lock+0x15/0x20
             linkwatch_event+0xb/0x60
             process_one_work+0x9b1/0x1640
             </TASK>
            INFO: task ip:9141 blocked for more than 143 seconds.
            task:ip              state:D stack:27104 pid:9141  ppid:9140   flags:0x00004006
            Call Trace:
             <TASK>
             __schedule+0x8f1/0x2120
             schedule+0xcf/0x270
             schedule_preempt_disabled+0x13/0x20
             __mutex_lock+0x81b/0x14f0
             rtnl_lock+0x15/0x20
             rtnetlink_rcv_msg+0x3b8/0xc20
             </TASK>
            """, expect: [.init(kind: "hung_task", title: "INFO: task hung in rtnl_lock", line: 1),
                          .init(kind: "hung_task", title: "INFO: task hung in rtnl_lock", line: 13)]),
        AnalyzerExample("the panic when the INFO line was lost", """
            Kernel panic - not syncing: hung_task: blocked tasks
            """, expect: [.init(kind: "hung_task", title: "kernel panic: hung_task: blocked tasks", severity: .critical, line: 1)]),
        AnalyzerExample("kernel.hung_task_panic: the panic joins the report, its end marker is no second one", """
            INFO: task find:560 blocked for more than 120 seconds.
            find            D    0   560    551 0x00000000
            Call trace:
             __switch_to+0x68/0x98
             __schedule+0x2d0/0x6a0
             schedule+0x38/0xa0
             io_schedule+0x18/0x38
             __lock_page+0xf4/0x1f8
             f2fs_write_data_pages+0x1b0/0x2e0
            Kernel panic - not syncing: hung_task: blocked tasks
            ---[ end Kernel panic - not syncing: hung_task: blocked tasks ]---
            """, expect: [.init(kind: "hung_task", severity: .critical, line: 1)]),
        AnalyzerExample("the hint about the sysctl alone is not a report", """
            "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
            """, expect: []),
    ]
}
