/// What an analyzer tells the engine after each record.
public enum Interest: Sendable, Equatable {
    /// Nothing pending: only lines containing one of the analyzer's triggers
    /// need to reach it.
    case idle
    /// In the middle of a report (a stack after a header): every following
    /// line must reach it until it says `.idle` again.
    case collecting
    /// A report is open but between its dumps (`ReportDumps.interest`): until
    /// line `everyLineFrom`, only lines holding a trigger (any analyzer's:
    /// another report's header ends this one) or a word a dump opens with
    /// need to reach it; from that line on, every line, as `.collecting`.
    /// A CPU stuck for days repeats its report every ~28 s, and the 300
    /// lines a report waits for more dumps were most of such a log's time.
    case waiting(everyLineFrom: Int)
    /// A report's header was read and its own dump has not begun
    /// (`ReportDumps.HeaderDump.atFirstDumpLine`): the same as `.waiting`,
    /// but a line holding any word a dump's first line may hold
    /// (`ReportDumps.wordsWhileAwaitingDump`: `Modules linked in:`, `RIP: `, a
    /// frame's `+0x`) must reach it too. Kept apart from `.waiting`
    /// because those words cost the search between dumps a few percent.
    case waitingForDump(everyLineFrom: Int)
}

/// A log snippet that must (or must not) produce an event, carried by the
/// analyzer itself so the suite tests it under every prefix variant.
public struct AnalyzerExample: Sendable {
    public var name: String
    /// Kernel messages, one per line, without any prefix: the test harness
    /// adds each prefix variant (plain `[ts]`, caller ids, `-T`, `<N>`,
    /// syslog, journal, kmsg, CRLF) itself.
    public var text: String
    /// Expected events in order; empty means "must not trigger".
    public var expect: [Expectation]

    public struct Expectation: Sendable {
        public var kind: String
        public var title: String?
        public var cpu: Int?
        public var severity: Severity?
        /// 1-based line of the snippet the event must point at.
        public var line: Int?

        public init(kind: String, title: String? = nil, cpu: Int? = nil, severity: Severity? = nil, line: Int? = nil) {
            self.kind = kind
            self.title = title
            self.cpu = cpu
            self.severity = severity
            self.line = line
        }
    }

    public init(_ name: String, _ text: String, expect: [Expectation]) {
        self.name = name
        self.text = text
        self.expect = expect
    }
}

/// How an analyzer introduces itself: to `lockscan analyzers`, to the engine
/// (its triggers and report headers), to the rest of lockscan (what its
/// event kinds mean) and to the test suite (its examples). Everything an
/// analyzer knows about the wording of its reports is here or in its own
/// module, never in the core.
public struct AnalyzerDescriptor: Sendable {
    public var id: String
    public var title: String
    /// One paragraph a user reads to understand what the finding means.
    public var explanation: String
    public var eventKinds: [String]
    /// What some of the event kinds mean to the rest of lockscan, by kind:
    /// the timeline aligns a guest's clock with the VM's start, pauses and
    /// end, and asks for those roles instead of knowing each analyzer's kind
    /// strings. Kinds without a role are only shown.
    public var roles: [String: EventRole]
    /// Byte strings whose presence in a line makes it worth handing to the
    /// analyzer while it is idle. Empty means "every line" (slow; external
    /// analyzers that cannot say better may do it).
    public var triggers: [String]
    /// Wordings that start one of this analyzer's reports, matched as
    /// substrings of a record's message (such as `BUG: soft lockup`). The
    /// engine gathers them from every loaded analyzer into `ReportHeaders`
    /// and marks each record holding one (`Record.startsReport`), so a stack
    /// or report another analyzer is collecting ends where this report
    /// begins. Without them the lines of a new kind of report would be read
    /// as more of the stack printed before it.
    public var reportHeaders: [String]
    /// Also hand this analyzer, while idle, every line that starts any
    /// loaded analyzer's report (its triggers grow by `ReportHeaders.all`).
    /// For analyzers whose findings depend on whether a report surrounds
    /// them, such as CPU backtraces that belong to a lockup report; ignored
    /// when `triggers` is empty (every line reaches it anyway).
    public var triggeredByReportHeaders: Bool
    public var examples: [AnalyzerExample]
    public var scope: AnalyzerScope
    public var make: @Sendable () -> any Analyzer

    /// `roles`, `reportHeaders` and `triggeredByReportHeaders` (plugin ABI 3)
    /// default to none, so an analyzer written before them still compiles
    /// and, rebuilt, behaves as it did.
    public init(id: String, title: String, explanation: String, eventKinds: [String], roles: [String: EventRole] = [:],
                triggers: [String], reportHeaders: [String] = [], triggeredByReportHeaders: Bool = false,
                examples: [AnalyzerExample], scope: AnalyzerScope = .input,
                make: @escaping @Sendable () -> any Analyzer) {
        self.id = id
        self.title = title
        self.explanation = explanation
        self.eventKinds = eventKinds
        self.roles = roles
        self.triggers = triggers
        self.reportHeaders = reportHeaders
        self.triggeredByReportHeaders = triggeredByReportHeaders
        self.examples = examples
        self.scope = scope
        self.make = make
    }
}

/// How long one analyzer instance lives.
public enum AnalyzerScope: Sendable {
    /// A fresh instance per input file; `finish` at the end of each file.
    /// Right for everything a log shows by itself.
    case input
    /// One instance sees the records of every input of a scan, in input order,
    /// and `finish` runs once after the last input (`ScanEngine.finishRun`).
    /// For conclusions that need two files: a guest's crash in one, the host's
    /// configuration of that guest in another. Records carry `inputIndex`, and
    /// `SourceLocation(record)` remembers it, so events still name their file.
    case run
}

/// The analyzer contract. An implementer must keep it:
///
/// - **Deterministic**: the same records give the same events.
/// - **Bounded**: state does not grow with input size beyond the events found
///   (cap evidence, cap remembered tasks).
/// - **Evidence-backed**: every event points at the lines that show it
///   (`source` from the records it used).
/// - **Pure**: no file access, no printing, no libdw. Records in, events out.
///
/// One instance serves one input file; the engine makes a fresh one per file.
public protocol Analyzer: AnyObject {
    /// Sees a record. Emit events as soon as they are complete, so `--ndjson`
    /// streams; keep at most one pending report when a later line may still
    /// belong to it.
    func consume(_ record: Record, emit: (Event) -> Void) -> Interest
    /// End of input: emit whatever is pending or needs the whole file.
    func finish(emit: (Event) -> Void)
    /// A followed input went quiet (`scan --follow`: no byte for a quiet
    /// second): the kernel has stopped printing, so a report still open is
    /// as complete as it will get. Emit it now, as `finish` would, but keep
    /// what spans reports (counters, the last report's line), because the
    /// input goes on. Returns the interest afterwards; nil means "nothing
    /// closed, as before" (the default, for analyzers written without it:
    /// their report then waits for the next line or the end).
    func inputWentQuiet(emit: (Event) -> Void) -> Interest?
    /// Problems with the input the analyzer could not get past (a report cut
    /// off before its essential lines), read by the engine after `finish`.
    /// Each becomes a diagnostic naming the file and line, and `scan` exits 2.
    /// `file` is left empty: the engine fills it.
    var inputDiagnostics: [Diagnostic] { get }
}

extension Analyzer {
    public var inputDiagnostics: [Diagnostic] { [] }
    public func inputWentQuiet(emit: (Event) -> Void) -> Interest? { nil }
}

/// An analyzer whose `finish` only emits what it holds and leaves it ready
/// for more records of the same input. A pause in a followed input then
/// closes its reports exactly as the end of the input would; what it had
/// compared across the whole input (hung tasks waiting at one place, the RT
/// tasks seen) covers the reports since the last pause.
public protocol ReusableAfterFinish: Analyzer {}

extension ReusableAfterFinish {
    public func inputWentQuiet(emit: (Event) -> Void) -> Interest? {
        finish(emit: emit)
        return .idle
    }
}

extension SourceLocation {
    /// The location an analyzer fills: the engine later replaces `file` with
    /// the input's name.
    public init(_ first: Record, through last: Int? = nil) {
        self.init(file: "", line: first.line, endLine: max(first.lastLine, last ?? first.line), byteOffset: first.byteOffset)
        inputIndex = first.inputIndex
    }
}

/// The C-ABI version external analyzers must export through
/// `lockscan_plugin_abi_version`. Bumped whenever `Analyzer`, `Record`,
/// `Event` or `PluginManifest` change in a way a compiled plugin would notice.
/// 2: `Record.thread`, `AnalyzerDescriptor.scope`, `Analyzer.inputDiagnostics`.
/// 3: `AnalyzerDescriptor.reportHeaders`, `.roles`, `.triggeredByReportHeaders`,
///    `Record.startsReport`, `EventRole` (the core no longer knows any
///    analyzer's header wording or kind strings); `Record.byteCount`;
///    `Record`, `Clock` and `Diagnostic` now live in LockscanInput
///    (re-exported by LockscanKit, so sources still compile unchanged).
/// 4: `Record.lastLine`, `Event.incidentId`, `Incident.State.unknown`, `EventRole.lockup` and
///    `.crash` (reports of one incident are joined; crashes before lockups).
/// 5: `Analyzer.inputWentQuiet` (follow mode closes open reports when the
///    input pauses).
public let lockscanPluginABIVersion: Int32 = 5

/// What a plugin's `lockscan_plugin_entry` returns (retained).
public final class PluginManifest {
    public let name: String
    public let analyzers: [AnalyzerDescriptor]

    public init(name: String, analyzers: [AnalyzerDescriptor]) {
        self.name = name
        self.analyzers = analyzers
    }

    /// For the plugin's `@_cdecl("lockscan_plugin_entry")` function.
    public func retainedPointer() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }
}
