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

/// Which part of the machine a frame ran in, from the `<NMI>`, `<IRQ>`,
/// `<TASK>` markers (or crash's `--- <NMI exception stack> ---` switches).
public enum FrameContext: String, Codable, Sendable {
    case nmi, irq, softirq, task, exception
}

/// One backtrace frame as printed. Addresses are kept as printed text and as a
/// number so symbolization can use either.
public struct Frame: Codable, Sendable, Equatable {
    public var function: String?
    public var offset: UInt64?
    public var size: UInt64?
    public var module: String?
    public var address: String?
    /// False for `? func+…` frames: the unwinder found the address on the stack
    /// but could not prove it is a return address.
    public var reliable: Bool
    public var context: FrameContext?
    /// True for a `RIP:` / `[exception RIP: …]` frame: the interrupted
    /// instruction itself, not a return address (symbolize at, not before it).
    public var isInstructionPointer: Bool
    /// Source position, when the log was already symbolized
    /// (`func+0x18/0x90 kernel/sched/core.c:6490`) or after `symbolize`.
    public var file: String?
    public var line: Int?
    /// An inlined call printed as its own frame (`context_switch kernel/sched/core.c:5178 [inline]`).
    public var inlined: Bool = false

    public init(function: String? = nil, offset: UInt64? = nil, size: UInt64? = nil, module: String? = nil,
                address: String? = nil, reliable: Bool = true, context: FrameContext? = nil,
                isInstructionPointer: Bool = false) {
        self.function = function
        self.offset = offset
        self.size = size
        self.module = module
        self.address = address
        self.reliable = reliable
        self.context = context
        self.isInstructionPointer = isInstructionPointer
    }

    enum CodingKeys: String, CodingKey {
        case function, offset, size, module, address, reliable, context, isInstructionPointer = "ip", file, line, inlined
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(function, forKey: .function)
        try c.encodeIfPresent(offset.map(hex), forKey: .offset)
        try c.encodeIfPresent(size.map(hex), forKey: .size)
        try c.encodeIfPresent(module, forKey: .module)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encode(reliable, forKey: .reliable)
        try c.encodeIfPresent(context, forKey: .context)
        if isInstructionPointer { try c.encode(true, forKey: .isInstructionPointer) }
        try c.encodeIfPresent(file, forKey: .file)
        try c.encodeIfPresent(line, forKey: .line)
        if inlined { try c.encode(true, forKey: .inlined) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        function = try c.decodeIfPresent(String.self, forKey: .function)
        offset = try c.decodeIfPresent(String.self, forKey: .offset).flatMap(parseHex)
        size = try c.decodeIfPresent(String.self, forKey: .size).flatMap(parseHex)
        module = try c.decodeIfPresent(String.self, forKey: .module)
        address = try c.decodeIfPresent(String.self, forKey: .address)
        reliable = try c.decode(Bool.self, forKey: .reliable)
        context = try c.decodeIfPresent(FrameContext.self, forKey: .context)
        isInstructionPointer = try c.decodeIfPresent(Bool.self, forKey: .isInstructionPointer) ?? false
        file = try c.decodeIfPresent(String.self, forKey: .file)
        line = try c.decodeIfPresent(Int.self, forKey: .line)
        inlined = try c.decodeIfPresent(Bool.self, forKey: .inlined) ?? false
    }

    /// `func+0x18/0x90 [mod]`, the way dmesg prints it.
    public var display: String {
        var s = function ?? address ?? "?"
        if let offset { s += "+" + hex(offset) }
        if let size { s += "/" + hex(size) }
        if let module { s += " [\(module)]" }
        return s
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

func parseHex(_ s: String) -> UInt64? {
    var t = Substring(s)
    if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
    return UInt64(t, radix: 16)
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
    var inputIndex: Int?

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

/// Repeats of one report (`--group`): a stuck CPU reports its soft lockup
/// every ~28 s, khungtaskd repeats hung tasks.
public struct Occurrences: Codable, Sendable, Equatable {
    public var count: Int
    public var first: Clock
    public var last: Clock
    public var lines: [Int]
}
