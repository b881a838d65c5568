/// How bad an event is. Ordered, so `--fail-on` can compare.
public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
    case info, warning, error, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        case .critical: 3
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Where an event's evidence is, so a user can open the file at it.
public struct SourceLocation: Codable, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var endLine: Int
    public var byteOffset: Int
    /// Which input of the scan the location is in, so the engine can name the
    /// file of an event that an analyzer spanning all inputs emits after the
    /// last one (see `AnalyzerScope.run`). Not part of the output: `file` is.
    /// Public so an event emitted in a plugin's worker process can carry it
    /// back across the pipe (PluginHost), where the engine names the file.
    public var inputIndex: Int?

    public init(file: String, line: Int, endLine: Int, byteOffset: Int) {
        self.file = file
        self.line = line
        self.endLine = endLine
        self.byteOffset = byteOffset
    }

    enum CodingKeys: String, CodingKey { case file, line, endLine, byteOffset }

    public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.endLine, a.byteOffset) == (b.file, b.line, b.endLine, b.byteOffset)
    }
}

/// Advice attached to an event. `reference` must point at something real and
/// verified (a kernel document path or an upstream commit).
public struct Hint: Codable, Sendable, Equatable {
    public var text: String
    public var reference: String?

    public init(_ text: String, reference: String? = nil) {
        self.text = text
        self.reference = reference
    }
}

/// One finding. Analyzers fill what the log showed and leave the rest nil;
/// the engine fills `source.file` and sorts.
public struct Event: Codable, Sendable, Equatable {
    public var analyzer: String
    public var kind: String
    public var title: String
    public var severity: Severity
    public var source: SourceLocation
    public var time: Clock
    /// The CPU the event is about (the stuck one), not the one that printed it.
    public var cpu: Int?
    public var pid: Int?
    public var comm: String?
    public var kernel: String?
    public var taint: String?
    public var stack: [Frame]
    public var evidence: [String]
    public var explanation: String
    public var hints: [Hint]
    /// Kind-specific facts (numbers parsed from the message, the waiting CPUs, …).
    public var details: [String: String]
    /// The CPUs whose stacks came with the report, classified, and who waits for whom.
    public var incident: Incident?
    /// With `--group`: how many reports of this signature the input had, and when.
    public var occurrences: Occurrences?
    /// The `JoinedIncident` this report is part of, with other reports.
    public var incidentId: Int?

    public init(analyzer: String, kind: String, title: String, severity: Severity,
                source: SourceLocation, time: Clock = Clock(), cpu: Int? = nil, pid: Int? = nil,
                comm: String? = nil, kernel: String? = nil, taint: String? = nil, stack: [Frame] = [],
                evidence: [String] = [], explanation: String = "", hints: [Hint] = [],
                details: [String: String] = [:]) {
        self.analyzer = analyzer
        self.kind = kind
        self.title = title
        self.severity = severity
        self.source = source
        self.time = time
        self.cpu = cpu
        self.pid = pid
        self.comm = comm
        self.kernel = kernel
        self.taint = taint
        self.stack = stack
        self.evidence = evidence
        self.explanation = explanation
        self.hints = hints
        self.details = details
    }
}

extension Event {
    /// The `details` key of what a collection cap left out of the report
    /// (a dump cut, dumps past the CPU cap). The engine also reports it as a
    /// diagnostic: nothing the user gave is dropped silently.
    public static let cappedDetail = "capped"
}

/// Repeats of one report (`--group`): a stuck CPU reports its soft lockup
/// every ~28 s, khungtaskd repeats hung tasks.
public struct Occurrences: Codable, Sendable, Equatable {
    public var count: Int
    public var first: Clock
    public var last: Clock
    public var lines: [Int]
}
