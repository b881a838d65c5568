import FoundationEssentials

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

    /// Groups of two or more reports of `events` (one input's, any order)
    /// that are one incident. `roles` says which events are stuck-CPU
    /// reports. For events already in hand; a streamed scan adds them to
    /// `Candidates` as they come.
    public static func join(_ events: [Event], roles: EventRoles, firstID: Int = 1) -> [JoinedIncident] {
        var candidates = Candidates(roles: roles)
        for e in events { candidates.add(e) }
        return candidates.incidents(firstID: firstID)
    }

    /// The reports of one input that may join, kept as the join reads them
    /// and not as whole events: a stuck CPU repeating its soft lockup for
    /// days is tens of thousands of reports, and `scan --ndjson` has written
    /// each one already, so holding their stacks and evidence until the end
    /// of the input only to join them grew memory with the log.
    public struct Candidates {
        let roles: EventRoles
        private var members: [(member: JoinedIncident.Member, byteOffset: Int, view: View)] = []

        public init(roles: EventRoles) { self.roles = roles }

        /// Takes an event in any order; only stuck-CPU reports are kept.
        /// A report about a CPU: hung tasks (no CPU) are lockups too, but
        /// nothing ties them to a CPU's incident here.
        public mutating func add(_ e: Event) {
            guard roles.role(of: e) == .lockup, !e.source.file.isEmpty, e.cpu != nil || e.incident != nil else { return }
            members.append((.init(file: e.source.file, line: e.source.line, kind: e.kind, title: e.title, cpu: e.cpu),
                            e.source.byteOffset, View(e)))
        }

        /// The incidents, numbered from `firstID`, as if every pair of reports
        /// were compared in line order (see `closePairs`).
        public func incidents(firstID: Int) -> [JoinedIncident] {
            guard members.count >= 2 else { return [] }
            // Events reach `add` as reports close; the join reads them in line order.
            let candidates = members.sorted { ($0.member.line, $0.byteOffset) < ($1.member.line, $1.byteOffset) }
            let views = candidates.map(\.view)
            var parent = Array(candidates.indices)
            func root(_ i: Int) -> Int {
                var i = i
                while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
                return i
            }
            var reasons: [Int: [String]] = [:]
            let pairs = ClosePairs(views)
            for j in views.indices {
                for i in pairs.earlier(than: j) {
                    guard views[i].file == views[j].file else { continue }
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
            for (r, group) in groups.sorted(by: { $0.value.first! < $1.value.first! }) where group.count >= 2 {
                let cpus = mergedCPUs(group.map { views[$0] })
                let relation = Incident.relate(cpus)
                out.append(JoinedIncident(id: firstID + out.count, members: group.map { candidates[$0].member },
                                          cpus: cpus, waitsFor: relation.waitsFor, pattern: relation.pattern, why: reasons[r] ?? []))
            }
            return out
        }
    }

    /// For each report, the earlier ones (by index, in line order) close
    /// enough in time to be its incident, in increasing index order: the
    /// order a comparison of every pair would meet them, so the same links
    /// and the same reasons come out, without comparing every pair (a storm
    /// of 20,000 reports was 200 million comparisons).
    struct ClosePairs {
        let views: [View]
        /// Indexes of the reports with a clock, by their seconds.
        private let bySeconds: [Int]

        init(_ views: [View]) {
            self.views = views
            // A clock that is not finite is close to no other (as `close` finds).
            bySeconds = views.indices.filter { views[$0].seconds?.isFinite == true }.sorted { views[$0].seconds! < views[$1].seconds! }
        }

        func earlier(than j: Int) -> [Int] {
            var found: [Int] = []
            let v = views[j]
            // Compared by lines: a pair where either has no clock. Views are
            // in line order, so those within `lineWindow` lines are a run of
            // indexes ending at j.
            var i = j - 1
            while i >= 0, views[i].line >= v.line - lineWindow {
                if v.seconds == nil || views[i].seconds == nil, IncidentJoin.close(views[i], v) { found.append(i) }
                i -= 1
            }
            // Compared by clock: both have one; clocks need not follow lines
            // (a reboot starts again at zero), so they are looked up by value.
            if let s = v.seconds, s.isFinite {
                var lo = 0, hi = bySeconds.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if views[bySeconds[mid]].seconds! < s - window { lo = mid + 1 } else { hi = mid }
                }
                var k = lo
                while k < bySeconds.count, views[bySeconds[k]].seconds! <= s + window {
                    let i = bySeconds[k]
                    if i < j, IncidentJoin.close(views[i], v) { found.append(i) }
                    k += 1
                }
            }
            return found.sorted()
        }
    }

    /// Sets `incidentId` on the events `incidents` name (a later incident
    /// naming the same report wins, as it always did).
    public static func mark(_ events: inout [Event], with incidents: [JoinedIncident]) {
        struct Key: Hashable { var file: String; var line: Int; var kind: String }
        var ids: [Key: Int] = [:]
        for inc in incidents {
            for m in inc.members { ids[Key(file: m.file, line: m.line, kind: m.kind)] = inc.id }
        }
        guard !ids.isEmpty else { return }
        for i in events.indices {
            if let id = ids[Key(file: events[i].source.file, line: events[i].source.line, kind: events[i].kind)] {
                events[i].incidentId = id
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
            seconds = e.time.monotonic ?? e.time.wall.flatMap { WallClock.parse($0, zone: TimeZone(secondsFromGMT: 0))?.utc }
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
            // The join reads states, locks and CPUs; the stacks stay with
            // the events (`JoinedIncident` leaves them out too).
            self.cpus = cpus.map { var c = $0; c.stack = []; return c }
        }
    }

    static func close(_ a: View, _ b: View) -> Bool {
        if let x = a.seconds, let y = b.seconds { return abs(x - y) <= window }
        return abs(a.line - b.line) <= lineWindow
    }

    /// Why two reports are one incident, or nil.
    static func related(_ a: View, _ b: View) -> String? {
        let gap = a.seconds.flatMap { x in b.seconds.map { y in PrintfFormat.fixed(abs(x - y), decimals: 2) + " s apart" } }
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
