import FoundationEssentials
import LockscanKit

/// The messages between lockscan and a plugin worker (`lockscan
/// plugin-worker`), one JSON object per line. Each request gets exactly one
/// reply line. Both ends are the same lockscan binary, so the protocol needs
/// no version of its own.
enum WorkerRequest: Codable {
    /// The plugin's analyzers, after the worker loaded it.
    case describe
    /// A fresh instance of the analyzer at `analyzer` (index into the
    /// described list), known from now on as `instance`.
    case make(analyzer: Int, instance: Int)
    case consume(instance: Int, record: Record)
    /// End of the instance's input (or run): pending events, its input
    /// diagnostics; the worker forgets the instance.
    case finish(instance: Int)
    /// A followed input paused (`Analyzer.inputWentQuiet`): the events of
    /// the report it closed, and `collecting` unless nothing changed.
    case inputWentQuiet(instance: Int)
}

/// What the worker answers; which fields are set depends on the request.
struct WorkerReply: Codable {
    /// To `describe`: the plugin could not be used (wrong ABI, no manifest).
    var refusal: String?
    var descriptors: [WireDescriptor]?
    var events: [WireEvent]?
    /// To `consume`: the analyzer is in the middle of a report.
    var collecting: Bool?
    /// To `finish`: `Analyzer.inputDiagnostics`.
    var diagnostics: [Diagnostic]?
}

/// An event with the index of the input it points at, which `Event`'s own
/// encoding leaves out (it is not output) but the engine needs to name the
/// file of a run-scoped analyzer's event.
struct WireEvent: Codable {
    var event: Event
    var inputIndex: Int?

    init(_ event: Event) {
        self.event = event
        inputIndex = event.source.inputIndex
    }

    var restored: Event {
        var e = event
        e.source.inputIndex = inputIndex
        return e
    }
}

/// What of an `AnalyzerDescriptor` the parent needs. Examples stay in the
/// plugin (they are for its own tests); `make` becomes a proxy.
struct WireDescriptor: Codable {
    var id: String
    var title: String
    var explanation: String
    var eventKinds: [String]
    var roles: [String: String]
    var triggers: [String]
    var reportHeaders: [String]
    var triggeredByReportHeaders: Bool
    var spansRun: Bool

    init(_ d: AnalyzerDescriptor) {
        id = d.id
        title = d.title
        explanation = d.explanation
        eventKinds = d.eventKinds
        roles = d.roles.mapValues(\.rawValue)
        triggers = d.triggers
        reportHeaders = d.reportHeaders
        triggeredByReportHeaders = d.triggeredByReportHeaders
        spansRun = d.scope == .run
    }

    func descriptor(make: @escaping @Sendable () -> any Analyzer) -> AnalyzerDescriptor {
        AnalyzerDescriptor(id: id, title: title, explanation: explanation, eventKinds: eventKinds,
                           roles: roles.mapValues { EventRole($0) }, triggers: triggers, reportHeaders: reportHeaders,
                           triggeredByReportHeaders: triggeredByReportHeaders, examples: [],
                           scope: spansRun ? .run : .input, make: make)
    }
}

/// JSON lines: compact (no newline inside), one `\n` after each. A clock
/// parsed from hostile input may be infinite or NaN, which plain JSON cannot
/// hold: both ends spell those as strings.
enum WireCoding {
    static let floats = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// One coder each, made once: building them is a good part of a small
    /// message's cost, and both ends use them from one thread only.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: floats.positiveInfinity, negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: floats.positiveInfinity, negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        return decoder
    }()

    static func line<T: Encodable>(_ value: T) -> [UInt8]? {
        guard var data = try? encoder.encode(value) else { return nil }
        data.append(0x0A)
        return [UInt8](data)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ line: [UInt8]) -> T? {
        try? decoder.decode(type, from: Data(line))
    }
}
