import LockscanKit

/// One stall report while it is read: the event taking shape, the CPUs and
/// tasks the report named, the kernel's diagnosis lines, and which of the
/// dumps that follow belong to whom.
struct StallReport {
    /// Whose stack a dump is, from the line printed just before it.
    enum DumpRole { case gracePeriodKthread, kthreadLastCPU }

    private var pending: PendingReport
    private let detection: StallHeader.Detection?
    private var stalledCPUs = StalledSet()
    private var stalledTasks = StalledSet()
    private var expeditedLeaves: [ExpeditedNodeMask] = []
    private var expeditedRootMask: UInt64?
    /// Lines announcing the kthread's stack or its CPU's: each starts the dump that is that one.
    private var roleMarkers: [(line: Int, role: DumpRole)] = []
    /// `NMI backtrace for cpu N skipped: idling at …`: a one-frame dump.
    private var idleDumps: [StackDump] = []
    private var timerIssueCPU: Int?
    /// The report's own lines (per-CPU lines, summary, the kernel's hints), for the evidence.
    private var reportLines: [String] = []
    private var lastReportLine: Int

    init(header: StallHeader, record: Record) {
        var e = Event(analyzer: RCUStallAnalyzer.descriptor.id, kind: "rcu_stall", title: "INFO: rcu detected stall",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      evidence: [record.text], explanation: RCUStallAnalyzer.explanation)
        e.details["flavor"] = header.flavor
        e.details["detection"] = header.detection.rawValue
        if let by = header.detectedBy { e.details["detectedBy"] = String(by) }
        if let j = header.jiffies { e.details["stallJiffies"] = String(j) }
        detection = header.detection
        lastReportLine = record.line
        pending = PendingReport(event: e, header: record)
        for c in header.cpus { stalledCPUs.insert(c) }
        for t in header.tasks { stalledTasks.insert(t) }
        expeditedRootMask = header.expeditedRootMask
        // A CPU reporting its own stall without naming itself prints from its own context.
        if header.detection == .selfDetected, header.cpus.isEmpty, let me = record.callerCPU { selfCPU = me }
    }

    /// A starvation line with no stall header before it: the kthread's own report.
    init(starvation: KthreadStarvation, record: Record) {
        var e = Event(analyzer: RCUStallAnalyzer.descriptor.id, kind: "rcu_stall", title: "INFO: rcu kthread starved",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      evidence: [record.text], explanation: RCUStallAnalyzer.explanation)
        e.details["flavor"] = starvation.flavor
        detection = nil
        lastReportLine = record.line
        pending = PendingReport(event: e, header: record)
        apply(.kthreadStarved(starvation), line: record.line)
    }

    /// The printing CPU of a self-detected report whose header named none.
    private var selfCPU: Int?

    /// False when the record is not part of the report (it must then be
    /// looked at as a fresh line).
    mutating func feed(_ record: Record) -> Bool {
        let line = StallLine.parse(record.text)
        if case .kthreadStarved? = line, record.line != pending.dumps.headerLine {
            // Its wording is a report header (it can stand alone), but inside a report it belongs to it.
            apply(line!, line: record.line, text: record.text)
            return true
        }
        if line == .kthreadStackFollows || line == .kthreadCPUStackFollows, !record.startsReport {
            // Whose stack follows is known only from this line: it starts a dump of its own.
            pending.dumps.startDump(at: record)
            apply(line!, line: record.line, text: record.text)
            return true
        }
        guard pending.feed(record) else { return false }
        if let line { apply(line, line: record.line, text: record.text) }
        return true
    }

    private mutating func apply(_ line: StallLine, line number: Int, text: String? = nil) {
        if let text, reportLines.count < 64 { reportLines.append(text) }
        lastReportLine = max(lastReportLine, number)
        switch line {
        case let .stalledCPU(cpu): stalledCPUs.insert(cpu)
        case let .blockedTasks(tasks): for t in tasks { stalledTasks.insert(t) }
        case let .summary(by, jiffies):
            if let by { pending.event.details["detectedBy"] = String(by) }
            if let jiffies { pending.event.details["stallJiffies"] = String(jiffies) }
        case let .expeditedNodes(nodes): expeditedLeaves += nodes.prefix(64)
        case let .kthreadStarved(s):
            pending.event.details["kthreadStarvedJiffies"] = String(s.jiffies)
            if let cpu = s.cpu { pending.event.details["kthreadCPU"] = String(cpu) }
            if let state = s.gpState { pending.event.details["kthreadState"] = state }
        case let .kthreadTimerWakeupMissed(j):
            if let j { pending.event.details["kthreadTimerWakeupMissedJiffies"] = String(j) }
        case let .timerHandlingIssue(cpu, softirq):
            timerIssueCPU = cpu
            if let cpu { pending.event.details["timerIssueCPU"] = String(cpu) }
            if let softirq { pending.event.details["timerSoftirqCount"] = String(softirq) }
        case .oomExpected: pending.event.details["oomExpected"] = "true"
        case let .allQuiescentStatesSeen(activity):
            pending.event.details["allQuiescentStatesSeen"] = "true"
            if let activity { pending.event.details["kthreadActivityJiffies"] = String(activity) }
        case .kthreadStackFollows: if roleMarkers.count < 16 { roleMarkers.append((number, .gracePeriodKthread)) }
        case .kthreadCPUStackFollows: if roleMarkers.count < 16 { roleMarkers.append((number, .kthreadLastCPU)) }
        case let .idleBacktrace(cpu, frame):
            guard let frame, idleDumps.count < StalledSet.limit else { break }
            // Right after `Stack dump where RCU GP kthread last ran:` (and its
            // `Sending NMI` line) it is that CPU's, not a stalled one's.
            let afterMarker = roleMarkers.last.flatMap { number - $0.line <= 2 ? $0.line : nil }
            var d = StackDump(firstLine: afterMarker ?? number, byteOffset: 0)
            d.cpu = cpu
            d.frames = [frame]
            idleDumps.append(d)
        }
    }

    /// The finished event.
    func finish() -> Event {
        var pending = pending
        var (e, collected) = pending.close()
        guard let detection else {
            // A starvation line alone: no stalled CPU, no culprit to name.
            e.cpu = e.details["kthreadCPU"].flatMap { Int($0) }
            return e
        }
        let stalled = allStalledCPUs()
        var dumps = collected + idleDumps
        let roles = assignRoles(dumps)
        if detection == .selfDetected, let me = stalled.first ?? selfCPU {
            // A self-detected report's dumps without a CPU header are the reporting CPU's own.
            for i in dumps.indices where dumps[i].cpu == nil && roles[i] == nil { dumps[i].cpu = me }
        }
        if !stalled.isEmpty { e.details["stalledCPUs"] = stalled.map(String.init).joined(separator: ",") }
        if !stalledTasks.items.isEmpty { e.details["stalledTasks"] = stalledTasks.joined }
        if let mask = expeditedRootMask { e.details["expeditedRootMask"] = "0x" + String(mask, radix: 16) }
        let withStack = Set(dumps.indices.filter { roles[$0] == nil }.compactMap { dumps[$0].cpu })
        let missing = stalled.filter { !withStack.contains($0) }
        if !missing.isEmpty, !dumps.isEmpty { e.details["stalledCPUsWithoutStack"] = missing.map(String.init).joined(separator: ",") }
        e.cpu = stalled.first ?? selfCPU

        let (chosen, culprit) = titleDump(dumps, roles: roles, stalled: stalled)
        e.adopt(chosen)
        if let d = chosen {
            e.pid = d.pid
            e.comm = d.comm
        }
        e.evidence = evidence(header: e.evidence.first, title: chosen)
        e.source.endLine = max(e.source.endLine, lastReportLine, dumps.map(\.lastLine).max() ?? 0)
        if culprit == nil, stalled.isEmpty, stalledTasks.items.isEmpty, e.details["kthreadStarvedJiffies"] != nil {
            // No CPU or task held the grace period up (All QSes seen): the
            // grace-period kthread itself did not run. That is the finding,
            // not a cut stack.
            e.title = "INFO: rcu detected stall (grace-period kthread starved)"
            e.details["stackNote"] = "no CPU or task held the grace period: the grace-period kthread was starved"
        } else {
            e.setTitle("INFO: rcu detected stall", culprit: culprit)
        }
        // The incident is every CPU the report showed, the kthread's sleeping stack excepted.
        let cpuDumps = dumps.indices.filter { roles[$0] != .gracePeriodKthread }.map { dumps[$0] }
        e.incident = Set(cpuDumps.compactMap(\.cpu)).count >= 2 ? Incident.build(cpuDumps) : nil
        e.hints = StackHints.matching(e.stack) + StallHints.hints(for: e, stalled: stalled, timerIssueCPU: timerIssueCPU)
        return e
    }

    /// The header, the report's own lines, then the lines of the dump the
    /// title comes from (each line once).
    private func evidence(header: String?, title dump: StackDump?) -> [String] {
        var out = header.map { [$0] } ?? []
        var seen = Set(out)
        for line in reportLines + (dump?.evidence ?? []) where out.count < 160 && seen.insert(line).inserted {
            out.append(line)
        }
        return out
    }

    /// CPUs from the header and per-CPU lines, then those the expedited
    /// masks add. A leaf's mask bits are CPUs; the root's are CPUs only when
    /// no other node was listed (the root is then the only, leaf, node) and
    /// are used only when nothing else named a CPU.
    private func allStalledCPUs() -> [Int] {
        var set = stalledCPUs
        if let leafLevel = expeditedLeaves.map(\.level).max() {
            for node in expeditedLeaves where node.level == leafLevel { for c in node.leafCPUs { set.insert(c) } }
        } else if set.items.isEmpty, let root = expeditedRootMask {
            for bit in 0..<64 where root & (UInt64(1) << UInt64(bit)) != 0 { set.insert(bit) }
        }
        return set.items
    }

    /// The role of each dump: the dump a role line started (see `feed`).
    private func assignRoles(_ dumps: [StackDump]) -> [DumpRole?] {
        dumps.map { d in roleMarkers.first { $0.line == d.firstLine }?.role }
    }

    /// The dump the title comes from: a stalled CPU's (in the order the
    /// report listed them), then any other CPU's the report printed (old
    /// kernels dump the detecting CPU), the kthread's last CPU only when
    /// nothing else gives a culprit; never the kthread's own stack.
    private func titleDump(_ dumps: [StackDump], roles: [DumpRole?], stalled: [Int]) -> (StackDump?, String?) {
        var order: [Int] = []
        for cpu in stalled { order += dumps.indices.filter { roles[$0] == nil && dumps[$0].cpu == cpu } }
        order += dumps.indices.filter { roles[$0] == nil && !order.contains($0) }
        order += dumps.indices.filter { roles[$0] == .kthreadLastCPU }
        for i in order {
            if let c = FrameAttribution.stallCulprit(FrameAttribution.stuckContext(dumps[i]), skipRCU: true) { return (dumps[i], c) }
        }
        return (order.first.map { dumps[$0] }, nil)
    }
}
