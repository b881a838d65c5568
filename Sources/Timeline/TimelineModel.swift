import FoundationEssentials
import LockscanKit

/// The document `lockscan timeline --json` prints and the HTML view draws:
/// every source with the model that maps its clock onto UTC, and every event
/// placed on UTC with the interval the evidence allows.
///
/// Times are seconds since the Unix epoch (UTC) in memory and ISO 8601 UTC
/// strings with microseconds in JSON. Nothing is ever placed at a single
/// instant unless the source printed that instant in UTC: an interval of
/// zero width means "printed", not "guessed".
public struct TimelineDocument: Sendable, Equatable {
    public static let schemaVersion = "lockscan.timeline/1"
    public var sources: [TimelineSource]
    /// In time order (by `time.utc`, then source, then line).
    public var events: [TimelineEvent]
    /// Groups of events from different sources whose intervals fall within
    /// the clustering window of each other.
    public var clusters: [TimelineCluster]
    /// Problems met while building (unreadable inputs, contradictory evidence).
    public var diagnostics: [String]

    public init(sources: [TimelineSource], events: [TimelineEvent], clusters: [TimelineCluster], diagnostics: [String] = []) {
        self.sources = sources
        self.events = events
        self.clusters = clusters
        self.diagnostics = diagnostics
    }
}

/// What a source is, which decides how its clock can be aligned.
public enum SourceRole: String, Codable, Sendable, CaseIterable {
    /// A guest kernel's log: dmesg/console (boot-relative), journal, WinDbg text.
    case guest
    /// The host kernel's log.
    case host
    /// libvirtd.log (UTC wall clock).
    case libvirt
    /// A qemu domain log as libvirt writes it (UTC wall clock).
    case qemu
    /// QMP events (UTC epoch seconds).
    case qmp
}

/// One input file and its clock model.
public struct TimelineSource: Sendable, Equatable {
    /// Short unique name shown in lanes and text output: `guest`, `host`,
    /// `libvirt`, `qemu`, `qmp`, with `-2`, `-3` … for repeats.
    public var id: String
    public var role: SourceRole
    public var file: String
    /// The clock the source prints: `boot-relative`, `UTC`, `wall clock +08:00`, …
    public var clock: String
    /// Piecewise mapping of the source's own clock onto UTC. A boot-relative
    /// clock has one segment per stretch the guest ran without a pause.
    public var segments: [ClockSegment]
    /// False when nothing put the source's clock on UTC (a boot-relative log
    /// without an anchor or host evidence) or nothing could be read from it:
    /// its events are listed but not on the axis, and `timeline` says so in
    /// every output and in its exit status.
    public var placed: Bool

    public init(id: String, role: SourceRole, file: String, clock: String, segments: [ClockSegment], placed: Bool = true) {
        self.id = id
        self.role = role
        self.file = file
        self.clock = clock
        self.segments = segments
        self.placed = placed
    }
}

/// UTC = own clock + offset, for own-clock values in [from, to).
public struct ClockSegment: Sendable, Equatable {
    /// Range of the source's own clock (seconds since boot for boot-relative
    /// sources) this segment covers; nil = unbounded on that side.
    public var from: Double?
    public var to: Double?
    /// Best estimate and the interval it is known to lie in (seconds).
    public var offset: Double
    public var offsetEarliest: Double
    public var offsetLatest: Double
    /// How it was found, best evidence first: `printed`, `same record`,
    /// `anchor`, `paired events`, `pause`, `unaligned`.
    public var method: String
    /// The lines or reasoning the offset rests on, for the reader to check.
    public var evidence: [String]

    public init(from: Double? = nil, to: Double? = nil, offset: Double, offsetEarliest: Double, offsetLatest: Double,
                method: String, evidence: [String]) {
        self.from = from
        self.to = to
        self.offset = offset
        self.offsetEarliest = offsetEarliest
        self.offsetLatest = offsetLatest
        self.method = method
        self.evidence = evidence
    }

    public var uncertainty: Double { offsetLatest - offsetEarliest }
}

/// When an event happened: the best estimate and the interval.
public struct EventTime: Sendable, Equatable {
    public var utc: Double
    public var earliest: Double
    public var latest: Double
    /// The source's own boot-relative seconds, when it printed them.
    public var monotonic: Double?

    public init(utc: Double, earliest: Double, latest: Double, monotonic: Double? = nil) {
        self.utc = utc
        self.earliest = earliest
        self.latest = latest
        self.monotonic = monotonic
    }
}

/// A scan event placed on the timeline.
public struct TimelineEvent: Sendable, Equatable {
    public var event: Event
    /// `TimelineSource.id` of the input it came from.
    public var sourceID: String
    /// nil when no evidence places the source's clock at all.
    public var time: EventTime?
    /// Index into `TimelineDocument.clusters`.
    public var cluster: Int?
    /// Why the interval is as wide as it is, when the event's own stamp
    /// could not be trusted (printed late, a clock that stood still).
    public var timeNote: String?

    public init(event: Event, sourceID: String, time: EventTime?, cluster: Int? = nil) {
        self.event = event
        self.sourceID = sourceID
        self.time = time
        self.cluster = cluster
    }
}

/// Related events from different sources.
public struct TimelineCluster: Sendable, Equatable {
    /// Indexes into `TimelineDocument.events`.
    public var events: [Int]
    public var earliest: Double
    public var latest: Double
    /// One line saying why they are shown together.
    public var summary: String

    public init(events: [Int], earliest: Double, latest: Double, summary: String) {
        self.events = events
        self.earliest = earliest
        self.latest = latest
        self.summary = summary
    }
}

/// ISO 8601 UTC with microseconds, the form every time in the JSON takes.
public enum UTCFormat {
    public static func string(_ t: Double) -> String {
        WallClock.iso(t, fractionDigits: 6, suffix: "Z")
    }
}
