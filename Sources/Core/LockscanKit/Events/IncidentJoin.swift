import Foundation

/// Reports that are one incident although the kernel printed them apart.
///
/// A deadlock is rarely printed as one report. An ABBA deadlock shows a soft
/// lockup on CPU 0, and CPU 1's stack only later, inside an RCU stall's NMI
/// backtrace; a CPU stuck with interrupts off first stalls RCU, then trips
/// the hard-lockup detector seconds later. Read one by one these look like
/// unrelated findings; the reader needs them as one incident with every CPU
/// classified and who waits for whom.
///
/// Two reports join when they are close in time (`window`, on the kernel's
/// clock; by line distance when the log has none) and either name a common
/// stuck CPU, or show CPUs waiting on each other's locks: two CPUs spinning
/// on two different lock addresses, or spinners and the runqueue lock's
/// holder. Only events whose analyzer declares them reports of a stuck CPU
/// (`EventRole.lockup`) take part: a clocksource verdict on the same CPU
/// is a consequence worth reading, not the same incident.
public struct JoinedIncident: Codable, Sendable, Equatable {
    /// One report of the incident, by where it is in the input.
    public struct Member: Codable, Sendable, Equatable {
        public var file: String
        public var line: Int
        public var kind: String
        public var title: String
        public var cpu: Int?
    }

    /// 1-based, in input order.
    public var id: Int
    public var members: [Member]
    /// Every CPU the reports showed (the latest dump of each), classified.
    public var cpus: [Incident.CPU]
    public var waitsFor: [[Int]]
    public var pattern: String?
    /// Why the reports were joined, in words.
    public var why: [String]

    enum CodingKeys: String, CodingKey { case id, members = "events", cpus, waitsFor, pattern, why }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(members, forKey: .members)
        // The stacks are in the member events already.
        try c.encode(cpus.map { cpu -> Incident.CPU in var cpu = cpu; cpu.stack = []; return cpu }, forKey: .cpus)
        try c.encode(waitsFor, forKey: .waitsFor)
        try c.encodeIfPresent(pattern, forKey: .pattern)
        try c.encode(why, forKey: .why)
    }
}

public enum IncidentJoin {
    /// Seconds between two reports of one incident: a stuck CPU's soft
    /// lockup repeats every ~20-30 s, an RCU stall after 21 s then every
    /// 63 s, so consecutive reports of one hang are within a minute.
    public static let window = 60.0
    /// The same for logs without a kernel clock, in lines.
    public static let lineWindow = 2000
    /// Reports of several CPUs printed within this many seconds of each
    /// other (or on adjacent lines) are one system-wide stall even when
    /// their stacks say nothing: five CPUs printing their hard-LOCKUP line
    /// in the same second are stuck on the same thing.
    public static let burst = 2.0

    /// Groups of two or more reports of `events` (one input's, in line order)
    /// that are one incident. `roles` says which events are stuck-CPU reports.
    public static func join(_ events: [Event], roles: EventRoles, firstID: Int = 1) -> [JoinedIncident] {
        // A report about a CPU: hung tasks (no CPU) are lockups too, but
        // nothing ties them to a CPU's incident here.
        let candidates = events.filter {
            roles.role(of: $0) == .lockup && !$0.source.file.isEmpty && ($0.cpu != nil || $0.incident != nil)
        }
        guard candidates.count >= 2 else { return [] }
        var parent = Array(candidates.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        var reasons: [Int: [String]] = [:]
        let views = candidates.map(View.init)
        for j in views.indices {
            for i in views.indices where i < j {
                guard views[i].file == views[j].file, close(views[i], views[j]) else { continue }
                // Only the link that brings a report in is told: n reports, n-1 reasons
                // (and reports already joined need no second look).
                let (a, b) = (root(i), root(j))
                guard a != b, let why = related(views[i], views[j]) else { continue }
                parent[b] = a
                reasons[a, default: []] += (reasons.removeValue(forKey: b) ?? []) + [why]
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in candidates.indices { groups[root(i), default: []].append(i) }
        var out: [JoinedIncident] = []
        for (r, members) in groups.sorted(by: { $0.value.first! < $1.value.first! }) where members.count >= 2 {
            let cpus = mergedCPUs(members.map { views[$0] })
            let relation = Incident.relate(cpus)
            out.append(JoinedIncident(
                id: firstID + out.count,
                members: members.map { i in
                    let e = candidates[i]
                    return .init(file: e.source.file, line: e.source.line, kind: e.kind, title: e.title, cpu: e.cpu)
                },
                cpus: cpus, waitsFor: relation.waitsFor, pattern: relation.pattern, why: reasons[r] ?? []))
        }
        return out
    }

    /// Sets `incidentId` on the events `incidents` name.
    public static func mark(_ events: inout [Event], with incidents: [JoinedIncident]) {
        for inc in incidents {
            for m in inc.members {
                for i in events.indices where events[i].source.file == m.file && events[i].source.line == m.line && events[i].kind == m.kind {
                    events[i].incidentId = inc.id
                }
            }
        }
    }

    /// What the join looks at in one event.
    struct View {
        var file: String
        var line: Int
        var seconds: Double?
        /// The CPU the report is about.
        var cpu: Int?
        /// The CPUs the report is about: its own and those it lists as stuck.
        var stuck: Set<Int>
        /// Every CPU the report showed a dump of, classified.
        var cpus: [Incident.CPU]

        init(_ e: Event) {
            file = e.source.file
            line = e.source.line
            cpu = e.cpu
            seconds = e.time.monotonic ?? e.time.wall.flatMap { WallClock.parse($0, zone: TimeZone(identifier: "UTC"))?.utc }
            var stuck = Set<Int>()
            if let c = e.cpu { stuck.insert(c) }
            for c in e.incident?.cpus ?? [] where c.state == .spinning || c.state == .holding {
                if let n = c.cpu { stuck.insert(n) }
            }
            self.stuck = stuck
            var cpus = e.incident?.cpus ?? []
            if let own = e.cpu, !cpus.contains(where: { $0.cpu == own }) {
                var dump = StackDump(firstLine: e.source.line, byteOffset: e.source.byteOffset)
                dump.cpu = own
                dump.pid = e.pid
                dump.comm = e.comm
                dump.frames = e.stack
                var own = Incident.classify(dump)
                own.lockAddress = own.lockAddress ?? e.details["spinningOn"]
                if e.stack.isEmpty { own.state = .unknown }
                cpus.append(own)
            }
            self.cpus = cpus
        }
    }

    static func close(_ a: View, _ b: View) -> Bool {
        if let x = a.seconds, let y = b.seconds { return abs(x - y) <= window }
        return abs(a.line - b.line) <= lineWindow
    }

    /// Why two reports are one incident, or nil.
    static func related(_ a: View, _ b: View) -> String? {
        let gap = a.seconds.flatMap { x in b.seconds.map { y in String(format: "%.2f s apart", abs(x - y)) } }
            ?? "\(abs(a.line - b.line)) lines apart"
        let common = a.stuck.intersection(b.stuck)
        if let shared = a.cpu.flatMap({ common.contains($0) ? $0 : nil }) ?? common.min() {
            return "CPU \(shared) is stuck in both reports (lines \(a.line) and \(b.line), \(gap))"
        }
        if let x = a.seconds, let y = b.seconds {
            if abs(x - y) <= burst { return "CPUs \(cpuList(a.stuck.union(b.stuck))) reported stuck together (lines \(a.line) and \(b.line), \(gap))" }
        } else if abs(a.line - b.line) <= 2 {
            return "CPUs \(cpuList(a.stuck.union(b.stuck))) reported stuck on adjacent lines \(a.line) and \(b.line)"
        }
        let merged = mergedCPUs([a, b])
        let relation = Incident.relate(merged)
        let crossing = relation.waitsFor.filter { pair in
            (a.stuck.contains(pair[0]) && b.stuck.contains(pair[1])) || (b.stuck.contains(pair[0]) && a.stuck.contains(pair[1]))
        }
        guard let pair = crossing.first else { return nil }
        let shape = relation.pattern == "abba" ? "each spins on a lock the other holds" : "CPU \(pair[0]) waits for CPU \(pair[1])"
        return "CPU \(pair[0]) and CPU \(pair[1]): \(shape) (lines \(a.line) and \(b.line), \(gap))"
    }

    static func cpuList(_ cpus: Set<Int>) -> String {
        cpus.sorted().map(String.init).joined(separator: ", ")
    }

    /// Every CPU of `views`, the latest dump of each (a later report shows
    /// where a CPU is now), in order of first appearance.
    static func mergedCPUs(_ views: [View]) -> [Incident.CPU] {
        var order: [Int] = []
        var latest: [Int: Incident.CPU] = [:]
        for v in views.sorted(by: { $0.line < $1.line }) {
            for c in v.cpus {
                guard let n = c.cpu else { continue }
                if latest[n] == nil { order.append(n) }
                latest[n] = c
            }
        }
        return order.compactMap { latest[$0] }
    }
}
