import FoundationEssentials
import LockscanKit

/// One input of `lockscan timeline` and what it is.
public struct TimelineInput: Sendable {
    public var role: SourceRole
    public var path: String
    /// For wall clocks printed without a zone (`--tz FILE=ZONE`).
    public var zone: TimeZone?
    /// The year of the first syslog stamp, which prints none (`--year FILE=YYYY`).
    public var year: Int?

    /// The file read, when `path` is only its name (a support bundle's
    /// member, named `bundle.tar.xz:var/log/messages`).
    public var readFrom: String?

    public init(role: SourceRole, path: String, zone: TimeZone? = nil, year: Int? = nil, readFrom: String? = nil) {
        self.role = role
        self.path = path
        self.readFrom = readFrom
        self.zone = zone
        self.year = year
    }
}

/// Builds the timeline: runs the analyzers on every input (one engine, so
/// checks that span inputs see them all), reads what the host's UTC logs say
/// about the guest's run, aligns each boot-relative clock, places every
/// event with its interval, and clusters related events across sources.
///
/// Memory is bounded by events: inputs are read once, by the scan engine,
/// which shows them to a `ClockTrail` each for the clock extents.
public struct TimelineBuilder {
    public var inputs: [TimelineInput]
    public var anchors: [ClockAnchor]
    /// Events from different sources whose intervals come within this many
    /// seconds of each other are shown as related.
    public var window: Double

    public init(inputs: [TimelineInput], anchors: [ClockAnchor] = [], window: Double = 10) {
        self.inputs = inputs
        self.anchors = anchors
        self.window = window
    }

    /// Source ids in input order: the role, `-2`, `-3` … for repeats.
    public static func sourceIDs(_ inputs: [TimelineInput]) -> [String] {
        var seen: [SourceRole: Int] = [:]
        return inputs.map { i in
            seen[i.role, default: 0] += 1
            return seen[i.role]! == 1 ? i.role.rawValue : "\(i.role.rawValue)-\(seen[i.role]!)"
        }
    }

    public func build(analyzers: [AnalyzerDescriptor], options: ScanOptions = ScanOptions()) -> (TimelineDocument, [Diagnostic]) {
        let ids = Self.sourceIDs(inputs)
        let descriptors = analyzers + [BootMarker.descriptor, UnknownNMIMarker.descriptor]
        let engine = ScanEngine(analyzers: descriptors, options: options)
        // What the events mean to the alignment (a boot, the VM's pause, …),
        // as the analyzers that emitted them declare it.
        let roles = EventRoles(descriptors)
        var eventsByInput = Array(repeating: [Event](), count: inputs.count)
        var diagnostics: [Diagnostic] = []
        var trails: [ClockTrail] = []
        // A source given twice (same file, or a copy) is read once: the
        // engine says so in a diagnostic, and the repeat adds no events.
        var sameContentAs: [Int: String] = [:]
        for (i, input) in inputs.enumerated() {
            let trail = ClockTrail()
            trails.append(trail)
            let spec = input.readFrom.map { InputSpec.member(path: $0, shownAs: input.path) } ?? InputSpec(argument: input.path)
            let summary = engine.scan(spec, inputIndex: i, observer: trail) { e in
                var e = e
                // An analyzer that left the time empty: the line's own stamp.
                if e.time.isEmpty, let c = trail.clock(at: e.source.byteOffset) { e.time = c }
                eventsByInput[i].append(e)
            }
            trail.finish()
            Self.dateSyslogStamps(&eventsByInput[i], input: input, years: trail.years)
            sameContentAs[i] = summary.sameContentAs
            diagnostics += summary.diagnostics
        }
        _ = engine.finishRun { e in
            if let i = inputs.firstIndex(where: { $0.path == e.source.file || InputSpec(argument: $0.path).displayName == e.source.file }) {
                eventsByInput[i].append(e)
            }
        }
        let facts = Self.hostFacts(inputs: inputs, events: eventsByInput, roles: roles)
        let extents: [ClockExtent?] = trails.map { $0.bytesSeen > 0 ? $0.extent : nil }
        var notes: [String] = []
        var sources: [TimelineSource] = []
        var events: [TimelineEvent] = []
        for (i, input) in inputs.enumerated() {
            let model = clockModel(i, id: ids[i], events: eventsByInput[i], roles: roles, extents: extents, facts: facts)
            if let earlier = sameContentAs[i] {
                sources.append(TimelineSource(id: ids[i], role: input.role, file: input.path, clock: "same content as \(earlier): read once, its events are shown there",
                                              segments: [], placed: true))
                continue
            }
            let unaligned = model.alignment.map { !$0.aligned } ?? false
            let unread = extents[i] == nil
            var segments = model.segments
            let syslog = Self.syslogDating(input: input, years: trails[i].years, events: eventsByInput[i])
            if let how = syslog.how, !segments.isEmpty { segments[0].evidence.append(how) }
            // Syslog stamps without their year or zone place nothing, unless
            // the same lines' boot-relative stamps were anchored.
            let undated = syslog.missing != nil && (model.alignment.map { !$0.aligned } ?? true)
            sources.append(TimelineSource(id: ids[i], role: input.role, file: input.path, clock: undated ? "syslog stamps, not dated" : model.clock,
                                          segments: undated ? [] : segments, placed: !unaligned && !unread && !undated))
            if let missing = syslog.missing, undated, !unread {
                notes.append("\(input.path): not placed on the timeline: \(missing)")
            } else if unread {
                notes.append("\(input.path): not placed on the timeline: nothing could be read from it")
            } else if unaligned {
                notes.append("\(input.path): not placed on the timeline: nothing places its boot-relative clock; give --anchor \(ids[i]):SECONDS=UTC")
            }
            var placer = EventPlacer(input: input, trail: trails[i], alignment: model.alignment, boots: model.boots)
            for e in eventsByInput[i].sorted(by: { $0.source.byteOffset < $1.source.byteOffset }) {
                events.append(placer.place(e, sourceID: ids[i]))
            }
            notes += placer.notes
        }
        events.sort { a, b in
            switch (a.time, b.time) {
            case let (x?, y?): return (x.utc, a.sourceID, a.event.source.line) < (y.utc, b.sourceID, b.event.source.line)
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (a.sourceID, a.event.source.line) < (b.sourceID, b.event.source.line)
            }
        }
        let clusters = Self.cluster(&events, window: window)
        // Input problems (unreadable, not UTF-8, cut lines) belong in the
        // document too, not only on standard error.
        notes = diagnostics.map(\.description) + notes
        return (TimelineDocument(sources: sources, events: events, clusters: clusters, diagnostics: notes), diagnostics)
    }

    /// Gives the events of syslog-stamped lines (`Oct 11 05:39:13 host …`)
    /// their date, when the source's year is known (`SyslogYears`). The
    /// zone comes later, from `--tz`, as for any zone-less wall clock.
    static func dateSyslogStamps(_ events: inout [Event], input: TimelineInput, years: SyslogYears) {
        for k in events.indices where events[k].time.wall == nil {
            guard let printed = events[k].time.wallPrinted, let stamp = SyslogStamp(printed),
                  let year = years.year(at: events[k].source.byteOffset, firstYear: input.year) else { continue }
            events[k].time.wall = stamp.iso(year: year)
        }
    }

    /// How a source's syslog stamps were dated, or what the user must give
    /// for them to be.
    static func syslogDating(input: TimelineInput, years: SyslogYears, events: [Event]) -> (how: String?, missing: String?) {
        guard years.sawSyslogStamp, let first = years.firstPrinted else { return (nil, nil) }
        let yearKnown = (input.year != nil || years.baseYear != nil) && !years.overflowed
        var missing: [String] = []
        if !yearKnown { missing.append("--year \(input.path)=YYYY (the year of its first line)") }
        if input.zone == nil { missing.append("--tz \(input.path)=ZONE (the zone its host logged in)") }
        if years.overflowed {
            return (nil, "its syslog stamps (`\(first)`) go back in month more than \(SyslogYears.maxRollovers) times: no year can be given to them")
        }
        if !missing.isEmpty {
            let lacks = [yearKnown ? nil : "no year", input.zone == nil ? "no zone" : nil].compactMap { $0 }.joined(separator: " and ")
            return (nil, "its syslog stamps (`\(first)`) carry \(lacks); give \(missing.joined(separator: " and "))")
        }
        let from = input.year.map { "--year \($0) for its first line" } ?? years.baseEvidence ?? ""
        let undatable = events.filter { $0.time.wallPrinted != nil && $0.time.wall == nil }.count
        return ("syslog stamps without a year: \(from), advancing at each December → January"
                    + (undatable > 0 ? "; \(undatable) stamp\(undatable == 1 ? "" : "s") name a day that year does not have" : ""), nil)
    }

    /// How one source's clock maps onto UTC: boot-relative clocks get an
    /// alignment from anchors, another log of the same kernel that printed
    /// both clocks, or the host's facts about the guest's run; wall clocks
    /// place each line themselves.
    func clockModel(_ i: Int, id: String, events: [Event], roles: EventRoles, extents: [ClockExtent?], facts: HostRunFacts)
        -> (clock: String, segments: [ClockSegment], alignment: BootClockAlignment?, boots: [Int]) {
        let input = inputs[i]
        let extent = extents[i]
        // Several boots in one log: the clock restarts at each banner,
        // and the host's evidence and anchors describe the latest run.
        let boots = events.filter { roles.role(of: $0) == .guestBoot }.map(\.source.byteOffset).sorted()
        let bootRelative = !(extent?.zonedWallClock ?? false) && events.allSatisfy { $0.time.wall == nil }
            && (input.role == .guest || input.role == .host)
        guard bootRelative else {
            var clock = input.zone.map { "wall clock \($0.identifier)" } ?? "wall clock as printed (UTC or with its zone)"
            var evidence = ["each line carries its own wall-clock time"]
            if input.role == .guest {
                // A guest's own wall clock is only as right as its RTC and NTP.
                if let check = Self.bootCheck(events, facts: facts, zone: input.zone) {
                    clock += ", the guest's own clock"
                    evidence.append(check)
                } else {
                    clock += ", the guest's own clock: not checked against the host"
                }
            }
            return (clock, [ClockSegment(offset: 0, offsetEarliest: 0, offsetLatest: 0, method: "printed", evidence: evidence)], nil, boots)
        }
        // Same kernel, both clocks on one line elsewhere: a log of the same
        // role whose boot-relative range overlaps this one's.
        let paired = extents.indices.first { j in
            guard j != i, inputs[j].role == input.role, let o = extents[j]?.sameRecordOffset, o.samples > 0,
                  let first = extents[j]?.firstMonotonic, let last = extents[j]?.lastMonotonic,
                  let a = extent?.firstMonotonic, let b = extent?.lastMonotonic else { return false }
            return a <= last + 1 && first <= b + 1
        }
        let sameRecord = paired.flatMap { j in
            extents[j]?.sameRecordOffset.map { o in
                (o.lo, o.hi, "\(inputs[j].path) printed both clocks on \(o.samples) lines: UTC − boot-relative within \(PrintfFormat.fixed(o.hi - o.lo, decimals: 3)) s")
            }
        }
        let lastBoot = boots.count > 1 ? boots.last : nil
        let firstOfRun = lastBoot.map { b in events.first { $0.source.byteOffset == b }?.time.monotonic } ?? extent?.firstMonotonic
        // One injected NMI reaches every vCPU: reports within a second are one.
        var nmis: [Double] = []
        for m in events.filter({ roles.role(of: $0) == .guestUnclaimedNMI && $0.source.byteOffset >= (lastBoot ?? 0) }).compactMap(\.time.monotonic).sorted()
            where nmis.last.map({ m - $0 > 1 }) ?? true {
            nmis.append(m)
        }
        // Host facts describe the guest's run; a host kernel's clock only
        // moves with an anchor or its own syslog.
        let a = BootClockAlignment(firstMonotonic: firstOfRun, lastMonotonic: extent?.lastMonotonic,
                                   panicMonotonic: extent?.panicMonotonic, settledMonotonic: extent?.settledMonotonic, nmiMonotonics: nmis,
                                   anchors: anchors.filter { $0.source == id || $0.source == input.path }, sameRecord: sameRecord,
                                   facts: input.role == .guest ? facts : HostRunFacts())
        let clock = "boot-relative" + (lastBoot != nil ? ", \(boots.count) boots: the last is aligned" : "")
        return (clock, a.segments(), a, boots)
    }

    /// A guest that printed its boot time by its own clock (WinDbg's
    /// `System Uptime` subtracted from the session time) against qemu's
    /// start by the host's: the guest booted after qemu started, so its
    /// clock is at most that far ahead of the host's; a boot "before" the
    /// start means the guest's clock is behind by at least that much.
    static func bootCheck(_ events: [Event], facts: HostRunFacts, zone: TimeZone?) -> String? {
        guard let boot = events.lazy.compactMap({ $0.details["bootTime"] }).first.flatMap({ WallClock.parse($0, zone: zone) })?.utc,
              let start = facts.starts.filter({ $0 <= boot + 86_400 }).max() ?? facts.starts.min() else { return nil }
        let d = boot - start
        let started = "qemu started at \(UTCFormat.string(start))"
        if d >= 0 {
            return "booted at \(UTCFormat.string(boot)) by the guest's clock, \(TimelineText.duration(d)) after \(started): the guest's clock is at most \(TimelineText.duration(d)) ahead of the host's"
        }
        return "booted at \(UTCFormat.string(boot)) by the guest's clock, \(TimelineText.duration(-d)) before \(started): the guest's clock is behind the host's by at least that"
    }

    /// The guest's run as the host saw it, from the host-side events whose
    /// analyzers declared a role for them (`AnalyzerDescriptor.roles`).
    static func hostFacts(inputs: [TimelineInput], events: [[Event]], roles: EventRoles) -> HostRunFacts {
        var facts = HostRunFacts()
        var timed: [(Double, Event)] = []
        for (i, input) in inputs.enumerated() where input.role != .guest {
            for e in events[i] {
                if let w = e.time.wall, let t = WallClock.parse(w, zone: input.zone) { timed.append((t.utc, e)) }
            }
        }
        timed.sort { $0.0 < $1.0 }
        var pendingStop: Double?
        var awaitingMigration = false, migratedAway = false
        var destinationFiles: Set<String> = []
        for (t, e) in timed {
            guard let role = roles.role(of: e) else { continue }
            let line = "\(e.source.file):\(e.source.line) \(e.title)"
            switch role {
            case .vmStart where e.details[EventRole.incomingMigrationDetail] != nil:
                destinationFiles.insert(e.source.file)
                // A destination of a migration: the guest arrives running, it
                // does not boot. With the source's QMP log given too, its
                // STOP and this side's RESUME make the migration's downtime
                // a pause; without it, the first RESUME here says nothing.
                awaitingMigration = true
            case .vmStart:
                facts.starts.append(t); facts.evidence[t] = line
                pendingStop = nil
                migratedAway = false
            case .vmResume:
                if let s = pendingStop {
                    facts.pauses.append((s, t)); facts.evidence[t] = line
                    pendingStop = nil
                    if awaitingMigration || migratedAway { destinationFiles.insert(e.source.file) }
                    awaitingMigration = false
                } else if awaitingMigration {
                    awaitingMigration = false
                } else {
                    // libvirt starts qemu paused (-S) and resumes it: the guest boots now.
                    facts.starts.append(t); facts.evidence[t] = line
                }
            case .vmPause:
                pendingStop = t
            case .vmMigratedAway:
                // Completed: the source stops and ends, the guest runs on.
                migratedAway = true
            case .vmEnd:
                // After a migration only the destination's end is the guest's.
                if migratedAway, !destinationFiles.contains(e.source.file) { continue }
                if let s = pendingStop { facts.ends.append(s); pendingStop = nil }
                facts.ends.append(t); facts.evidence[t] = line
            case .guestPanic:
                facts.panics.append(t); facts.evidence[t] = line
            case .nmiInjected:
                facts.nmiInjections.append(t); facts.evidence[t] = line
            case .guestReset:
                facts.starts.append(t); facts.evidence[t] = line
            default:
                break
            }
        }
        // Stopped and never resumed (a dump before destroy): the end.
        if let s = pendingStop { facts.ends.append(s) }
        return facts
    }

    /// Single-linkage over intervals in time order (by earliest); a cluster
    /// is kept when it has events of at least two sources.
    static func cluster(_ events: inout [TimelineEvent], window: Double) -> [TimelineCluster] {
        var clusters: [TimelineCluster] = []
        var current: [Int] = []
        var currentLatest = -Double.infinity
        func close() {
            let sourceIDs = Set(current.map { events[$0].sourceID })
            if sourceIDs.count >= 2 {
                let earliest = current.map { events[$0].time!.earliest }.min()!
                let latest = current.map { events[$0].time!.latest }.max()!
                let titles = current.prefix(4).map { "\(events[$0].sourceID): \(events[$0].event.title)" }
                let more = current.count > 4 ? " and \(current.count - 4) more" : ""
                for i in current { events[i].cluster = clusters.count }
                clusters.append(TimelineCluster(events: current, earliest: earliest, latest: latest,
                                                summary: "\(current.count) events from \(sourceIDs.sorted().joined(separator: ", ")) within \(PrintfFormat.fixed(latest - earliest, decimals: 1)) s: "
                                                    + titles.joined(separator: "; ") + more))
            }
            current = []
        }
        for (i, e) in events.enumerated() {
            // An event known only to lie somewhere in a span wider than the
            // window (a line without a stamp, a stale stamp) would join
            // everything it overlaps: it is drawn, not clustered.
            guard let t = e.time, t.latest - t.earliest <= window else { continue }
            if !current.isEmpty, t.earliest - currentLatest > window { close() }
            if current.isEmpty { currentLatest = t.latest }
            current.append(i)
            currentLatest = max(currentLatest, t.latest)
        }
        if !current.isEmpty { close() }
        return clusters
    }
}

/// Places one source's events in file order, keeping what earlier lines
/// showed: a stamp older than the line before it means later stamps can no
/// longer be trusted tightly.
struct EventPlacer {
    let input: TimelineInput
    let trail: ClockTrail
    let alignment: BootClockAlignment?
    /// Byte offsets of the boot banners (several: only the last boot is aligned).
    let boots: [Int]
    private var stalled = false
    private(set) var notes: [String] = []

    init(input: TimelineInput, trail: ClockTrail, alignment: BootClockAlignment?, boots: [Int]) {
        self.input = input
        self.trail = trail
        self.alignment = alignment
        self.boots = boots
    }

    mutating func place(_ event: Event, sourceID: String) -> TimelineEvent {
        var e = event
        if e.time.isEmpty, let c = trail.clock(at: e.source.byteOffset) { e.time = c }
        var time: EventTime?
        var note: String?
        if let w = e.time.wall, let t = WallClock.parse(w, zone: input.zone) {
            time = EventTime(utc: t.utc, earliest: t.utc, latest: t.utc + t.resolution - (t.resolution < 1e-6 ? 0 : 1e-6), monotonic: e.time.monotonic)
            if t.resolution >= 1 { time!.latest = t.utc + t.resolution }
        } else if let m = e.time.monotonic, let a = alignment {
            (time, note) = placeBootRelative(m, e, a)
        } else if alignment == nil, e.time.isEmpty {
            // No stamp on the line itself (a command line, a taint line): it
            // was written between its stamped neighbours.
            let around = trail.unstamped[e.source.byteOffset]
            if let b = around?.before?.wall.flatMap({ WallClock.parse($0, zone: input.zone) }) {
                let after = around?.after?.wall.flatMap { WallClock.parse($0, zone: input.zone) }
                time = EventTime(utc: b.utc, earliest: b.utc, latest: max(b.utc + b.resolution, after.map { $0.utc + $0.resolution } ?? b.utc + b.resolution))
                note = "the line has no time of its own: placed between the stamped lines around it"
            }
        } else if e.time.wall != nil, input.zone == nil {
            notes.append("\(input.path):\(e.source.line): a wall-clock time without a zone; give --tz \(input.path)=ZONE")
        }
        var placed = TimelineEvent(event: e, sourceID: sourceID, time: time)
        placed.timeNote = note
        return placed
    }

    private mutating func placeBootRelative(_ m: Double, _ e: Event, _ a: BootClockAlignment) -> (EventTime?, String?) {
        if boots.count > 1, let last = boots.last, e.source.byteOffset < last {
            let boot = boots.filter { $0 <= e.source.byteOffset }.count
            return (nil, "from boot \(max(boot, 1)) of \(boots.count) in this log: its clock restarted since, and the evidence describes the last boot")
        }
        // Before the clocksource settles, stamps out of order are expected
        // (and covered by the basis allowance).
        if !stalled, m > (a.settledMonotonic ?? 0),
           let previous = trail.earlierThanPrevious[e.source.byteOffset], previous > m + 1e-6 {
            stalled = true
            notes.append("\(input.path):\(e.source.line): stamped \(m) s after a line stamped \(previous) s: the guest clock stood still or the lines were logged late; from here on an event is only known to precede the VM's end")
        }
        guard let t = a.place(m) else { return (nil, nil) }
        guard stalled else { return (t, nil) }
        // Stale stamps (NMI backtraces printed during a lockup reach the
        // console seconds after their stamp) and a clock that stood still
        // leave only the VM's end as the upper bound.
        return (a.runEnd.map { EventTime(utc: t.utc, earliest: t.earliest, latest: max(t.latest, $0), monotonic: m) },
                "on or after a line stamped earlier than the one before it: only the VM's end bounds it")
    }
}
