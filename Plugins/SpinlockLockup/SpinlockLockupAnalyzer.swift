import FoundationEssentials
import LockscanKit

/// `BUG: spinlock lockup suspected on CPU#2, syz-executor/12636`
///
/// Printed by the CONFIG_DEBUG_SPINLOCK slow path (kernel/locking/spinlock_debug.c,
/// removed in 4.x) after spinning about a second on one lock, with the lock's
/// owner and owner CPU, then the spinner's stack.
public final class SpinlockLockupAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "spinlock-lockup",
        title: "Spinlock lockup (debug spinlocks)",
        explanation: explanation,
        eventKinds: ["spinlock_lockup"],
        roles: ["spinlock_lockup": .lockup],
        triggers: ["BUG: spinlock lockup"],
        reportHeaders: ["BUG: spinlock lockup"],
        examples: examples,
        make: { SpinlockLockupAnalyzer() })

    static let explanation = """
        With debug spinlocks a CPU reported that it spun on one spinlock for about a \
        second. The lock line names the owner task and the CPU it ran on: that CPU's \
        backtrace shows what the owner does while holding the lock (or that it already \
        released it without the debug code seeing it: lock corruption).
        """

    private var pending: PendingReport?

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        if var p = pending {
            let text = record.text
            if text.includes(".owner_cpu:") {
                // " lock: 0xffff…, .magic: dead4ead, .owner: syz-executor/12636, .owner_cpu: 1"
                if let lock = text.components(separatedBy: "lock: ").dropFirst().first?.split(separator: ",").first {
                    p.event.details["lockAddress"] = String(lock)
                }
                if let owner = text.components(separatedBy: ".owner: ").dropFirst().first?.split(separator: ",").first {
                    p.event.details["owner"] = String(owner)
                }
                if let cpu = text.integer(after: ".owner_cpu: ") { p.event.details["ownerCPU"] = String(cpu) }
                p.event.evidence.append(text)
            }
            if p.feed(record) {
                pending = p
                return .collecting
            }
            finish(p, emit)
            pending = nil
        }
        // 2.6.16–3.x: "BUG: spinlock lockup on CPU#0, java/26272, c17c5490"; later "… suspected on CPU#2, …".
        guard record.text.includes("BUG: spinlock lockup"),
              let r = record.text.firstOccurrence(of: "BUG: spinlock lockup suspected on CPU#") ?? record.text.firstOccurrence(of: "BUG: spinlock lockup on CPU#")
        else { return .idle }
        let rest = String(record.text[r.upperBound...])
        var e = Event(analyzer: Self.descriptor.id, kind: "spinlock_lockup", title: "BUG: spinlock lockup suspected",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      cpu: Int(rest.prefix(while: { $0.isNumber })), evidence: [record.text], explanation: Self.explanation)
        if let comma = rest.firstIndex(of: ",") {
            // "comm/pid" and, in the oldest wording, ", lockaddr" after it.
            let who = rest[rest.index(after: comma)...].split(separator: ",").first.map { $0.trimmingBlanks() } ?? ""
            if let slash = who.lastIndex(of: "/"), let pid = Int(who[who.index(after: slash)...]) {
                e.comm = String(who[..<slash])
                e.pid = pid
            }
        }
        pending = PendingReport(event: e, header: record, window: 200)
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        if let p = pending { finish(p, emit) }
        pending = nil
    }

    private func finish(_ report: PendingReport, _ emit: (Event) -> Void) {
        var report = report
        var (e, dumps) = report.close()
        // The reporting CPU's own dump (its banner names it); a stack printed
        // before that banner is another task's (4.4 prints the owner's first).
        let dump = dumps.first { $0.cpu != nil && $0.cpu == e.cpu } ?? dumps.first
        e.adopt(dump)
        if let d = dump {
            e.source.endLine = max(e.source.endLine, d.lastLine)
            if d.firstLine != dumps.first?.firstLine { e.evidence += d.evidence.prefix(40) }
        }
        let culprit = dump.flatMap { FrameAttribution.stallCulprit(FrameAttribution.stuckContext($0)) }
        e.setTitle("BUG: spinlock lockup suspected", culprit: culprit)
        e.hints = [Hint("The lock line names the owner and its CPU: read that CPU's backtrace (NMI backtrace or sysrq-l) for what it does with the lock held.")]
        emit(e)
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("debug spinlock report with owner", """
            BUG: spinlock lockup suspected on CPU#2, syz-executor/12636
             lock: 0xffff88003ec17f00, .magic: dead4ead, .owner: syz-executor/12635, .owner_cpu: 1
            CPU: 2 PID: 12636 Comm: syz-executor Not tainted 4.9.0+ #1
            Call Trace:
             [<ffffffff8234ac89>] do_raw_spin_lock+0x1f9/0x2e0
             [<ffffffff83fa2c51>] _raw_spin_lock+0x41/0x50
             [<ffffffff8167e0b7>] sock_def_readable+0x47/0x1e0
             [<ffffffff83a1a4d2>] sock_sendmsg+0xd2/0x110
             [<ffffffff83a1c2a0>] SyS_sendto+0x250/0x2f0
            """, expect: [.init(kind: "spinlock_lockup", title: "BUG: spinlock lockup suspected in sock_def_readable", cpu: 2, line: 1)]),
        AnalyzerExample("2.6.16 wording, lock address after the task", """
            BUG: spinlock lockup on CPU#0, java/26272, c17c5490
            """, expect: [.init(kind: "spinlock_lockup", title: "BUG: spinlock lockup suspected", cpu: 0, line: 1)]),
        AnalyzerExample("an ordinary BUG is not this", """
            BUG: spinlock bad magic on CPU#0, swapper/0/1
            """, expect: []),
    ]
}
