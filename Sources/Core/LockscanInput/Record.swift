/// The time of a record exactly as the log printed it. Logs carry boot-relative
/// seconds, wall clocks with or without a zone, or both; nothing here converts
/// one into the other (that is the timeline's job, with stated uncertainty).
public struct Clock: Codable, Sendable, Equatable {
    /// Seconds since boot (`[ 4474426.249700]`, kmsg microseconds, journal monotonic).
    /// Never NaN or infinite, whatever a reader computed: a non-finite time
    /// cannot be placed, compared or printed as JSON, so it is no time.
    /// (Readers bound their numbers and say what they refused; this is the
    /// last guard.)
    public var monotonic: Double? {
        didSet { if let m = monotonic, !m.isFinite { monotonic = nil } }
    }
    /// ISO 8601 wall-clock time, only when the printed stamp had a full date.
    /// Carries the zone when one was printed (`Z`, `+08:00`); none means local
    /// time of an unknown zone.
    public var wall: String?
    /// The wall-clock stamp as printed, when it could not be made ISO 8601
    /// (a syslog stamp without a year).
    public var wallPrinted: String?

    public init(monotonic: Double? = nil, wall: String? = nil, wallPrinted: String? = nil) {
        self.monotonic = monotonic.flatMap { $0.isFinite ? $0 : nil }
        self.wall = wall
        self.wallPrinted = wallPrinted
    }

    public var isEmpty: Bool { monotonic == nil && wall == nil && wallPrinted == nil }
}

/// One message of a log, its prefix removed and described. Codable so it
/// can cross into the process that runs a plugin's analyzers (PluginHost).
public struct Record: Codable, Sendable, Equatable {
    /// Index of the input in the scan (stable across renderers).
    public var inputIndex: Int
    /// 1-based line number in the input as the user sees it (before any splitting
    /// of a collapsed line; pieces of one line share its number).
    public var line: Int
    /// The last physical line the message came from: `line` unless the
    /// input layer joined lines back (a hard wrap, a quoted-printable soft
    /// break, a syslog broadcast's two lines).
    public var lastLine: Int
    /// Byte offset of the message's line (or piece) in the input.
    public var byteOffset: Int
    /// How many bytes from `byteOffset` the line (or piece) has, without its
    /// line end: `byteOffset..<byteOffset + byteCount` is exactly what was read.
    public var byteCount: Int
    public var clock: Clock
    /// printk caller id as printed, `T123` or `C3`.
    public var callerID: String?
    /// CPU from a `[  C3]` caller id (printed from interrupt context on that CPU).
    public var callerCPU: Int?
    /// Console log level from `<4>`, kmsg or `dmesg -x` prefixes.
    public var level: Int?
    /// Host name from syslog/journal prefixes.
    public var host: String?
    /// Thread id of the writer, from libvirtd.log's `2017-03-15 06:03:48.180+0000: 13914: error : …`.
    public var thread: Int?
    /// The message without any prefix.
    public var text: String
    /// The message holds a header some loaded analyzer declared
    /// (`AnalyzerDescriptor.reportHeaders`): a new report starts here, so a
    /// stack or report collected from the lines before ends. Set by the
    /// engine (`ReportHeaders`) before any analyzer sees the record, so that
    /// analyzers and the collectors ask this instead of knowing wordings.
    public var startsReport: Bool

    public init(inputIndex: Int = 0, line: Int, lastLine: Int? = nil, byteOffset: Int = 0, byteCount: Int = 0, clock: Clock = Clock(),
                callerID: String? = nil, callerCPU: Int? = nil, level: Int? = nil,
                host: String? = nil, thread: Int? = nil, text: String, startsReport: Bool = false) {
        self.inputIndex = inputIndex
        self.line = line
        self.lastLine = max(line, lastLine ?? line)
        self.byteOffset = byteOffset
        self.byteCount = byteCount
        self.clock = clock
        self.callerID = callerID
        self.callerCPU = callerCPU
        self.level = level
        self.host = host
        self.thread = thread
        self.text = text
        self.startsReport = startsReport
    }
}
