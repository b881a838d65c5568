import FoundationEssentials
import LockscanKit

/// The external analyzers of one lockscan run: each plugin checked from its
/// file, then loaded in a worker process of its own, its analyzers offered
/// to the engine as `RemoteAnalyzer` proxies. lockscan itself never loads a
/// plugin.
///
/// What went wrong is kept as diagnostics: `loadProblems` for plugins that
/// could not be used at all, and those a command takes with
/// `takeRunProblems()` for plugins that failed while analysing (each names
/// the input file and line being read, the plugin and what happened).
/// Used from one thread, as the engine is.
public final class PluginSession: @unchecked Sendable {
    /// Descriptors of every analyzer that loaded, in plugin order.
    public private(set) var descriptors: [AnalyzerDescriptor] = []
    /// Plugins refused or skipped, one diagnostic each, `file` the plugin's path.
    public private(set) var loadProblems: [Diagnostic] = []
    /// Display names of the inputs by index, for diagnostics about a record
    /// a plugin failed on (the records carry only the index).
    public var inputNames: [Int: String] = [:]
    private var runProblems: [Diagnostic] = []
    private var processes: [PluginProcess] = []
    private var nextInstance = 0

    /// The default time a plugin has for each record (and for loading).
    public static let defaultTimeout = 10.0

    /// Loads every plugin in `paths`; an analyzer id already in `taken`
    /// (a built-in, an earlier plugin) is skipped with a diagnostic.
    public init(paths: [String], taken: Set<String>, timeout: Double = PluginSession.defaultTimeout) {
        var ids = taken
        for path in paths {
            let process: PluginProcess
            let wire: [WireDescriptor]
            switch Self.load(path, timeout: timeout) {
            case let .success(loaded): (process, wire) = loaded
            case let .failure(problem):
                loadProblems.append(problem)
                continue
            }
            processes.append(process)
            for (index, w) in wire.enumerated() {
                guard ids.insert(w.id).inserted else {
                    loadProblems.append(Diagnostic(file: path, message: "analyzer id '\(w.id)' is already loaded; skipped"))
                    continue
                }
                let id = w.id
                descriptors.append(w.descriptor {
                    RemoteAnalyzer(session: self, process: process, analyzerIndex: index, id: id)
                })
            }
        }
    }

    /// One plugin checked, started in its worker and described; or why not.
    /// A worker that is not kept ends when its `PluginProcess` goes away.
    static func load(_ path: String, timeout: Double) -> Result<(PluginProcess, [WireDescriptor]), Diagnostic> {
        if let problem = PluginLoader.fileProblem(path) { return .failure(Diagnostic(file: path, message: problem)) }
        let process: PluginProcess
        switch PluginProcess.start(pluginPath: path, timeout: timeout) {
        case let .success(p): process = p
        case let .failure(failure): return .failure(Diagnostic(file: path, message: failure.reason))
        }
        switch process.call(.describe) {
        case let .reply(reply):
            if let refusal = reply.refusal { return .failure(Diagnostic(file: path, message: refusal)) }
            let wire = reply.descriptors ?? []
            if let bad = wire.first(where: { $0.id.isEmpty || $0.eventKinds.isEmpty }) {
                return .failure(Diagnostic(file: path, message: "analyzer '\(bad.id)' has no id or no event kinds"))
            }
            return .success((process, wire))
        case let .died(how):
            return .failure(Diagnostic(file: path, message: "not loaded: its worker \(how) while loading it (in the plugin's constructors, \(PluginLoader.abiSymbol) or \(PluginLoader.entrySymbol))"))
        case .gone:
            return .failure(Diagnostic(file: path, message: "not loaded: its worker ended before it was asked anything"))
        }
    }

    /// Ends every worker; a command calls it when its analyzers are done.
    public func close() {
        for p in processes { p.stop() }
    }

    /// Diagnostics of plugins that failed since the last call, in order.
    public func takeRunProblems() -> [Diagnostic] {
        defer { runProblems = [] }
        return runProblems
    }

    func report(_ diagnostic: Diagnostic) { runProblems.append(diagnostic) }

    func newInstanceID() -> Int {
        nextInstance += 1
        return nextInstance
    }

    func inputName(_ index: Int?) -> String? { index.flatMap { inputNames[$0] } }
}

/// An analyzer of a plugin, running in the plugin's worker process: the
/// engine hands it records like any analyzer, it forwards them and replays
/// the events that come back. When the worker fails it says so once
/// (through the session) and stays idle: the engine and every other
/// analyzer go on as if this one had nothing more to say.
final class RemoteAnalyzer: Analyzer {
    let session: PluginSession
    let process: PluginProcess
    let analyzerIndex: Int
    let id: String
    /// The worker's instance, made at the first record or at `finish`.
    private var instance: Int?
    /// The input of the last record seen, to name it when `finish` fails.
    private var lastInput: Int?
    private var diagnostics: [Diagnostic] = []

    init(session: PluginSession, process: PluginProcess, analyzerIndex: Int, id: String) {
        self.session = session
        self.process = process
        self.analyzerIndex = analyzerIndex
        self.id = id
    }

    var inputDiagnostics: [Diagnostic] { diagnostics }

    func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        lastInput = record.inputIndex
        let file = session.inputName(record.inputIndex) ?? "input \(record.inputIndex + 1)"
        guard let instance = started(file: file, line: record.line, doing: "starting on this line") else { return .idle }
        guard let reply = answer(process.call(.consume(instance: instance, record: record)),
                                 file: file, line: record.line, doing: "on this line") else { return .idle }
        for e in reply.events ?? [] { emit(e.restored) }
        return reply.collecting == true ? .collecting : .idle
    }

    func finish(emit: (Event) -> Void) {
        let file = session.inputName(lastInput) ?? "(all inputs)"
        guard let instance = started(file: file, line: nil, doing: "starting at the end of the input") else { return }
        self.instance = nil
        guard let reply = answer(process.call(.finish(instance: instance)), file: file, line: nil,
                                 doing: "at the end of the input") else { return }
        for e in reply.events ?? [] { emit(e.restored) }
        diagnostics = reply.diagnostics ?? []
    }

    func inputWentQuiet(emit: (Event) -> Void) -> Interest? {
        // No instance yet: it has seen no record, so nothing is open.
        guard let instance else { return nil }
        let file = session.inputName(lastInput) ?? "(all inputs)"
        guard let reply = answer(process.call(.inputWentQuiet(instance: instance)), file: file, line: nil,
                                 doing: "when the followed input paused") else { return .idle }
        for e in reply.events ?? [] { emit(e.restored) }
        return reply.collecting.map { $0 ? .collecting : .idle }
    }

    /// The worker's instance of this analyzer, made on first use.
    private func started(file: String, line: Int?, doing: String) -> Int? {
        if let instance { return instance }
        let id = session.newInstanceID()
        guard answer(process.call(.make(analyzer: analyzerIndex, instance: id)), file: file, line: line, doing: doing) != nil else {
            return nil
        }
        instance = id
        return id
    }

    /// The reply, or nil after telling the session how the worker ended.
    private func answer(_ outcome: PluginProcess.Outcome, file: String, line: Int?, doing: String) -> WorkerReply? {
        switch outcome {
        case let .reply(reply): return reply
        case .gone: return nil
        case let .died(how):
            session.report(Diagnostic(file: file, line: line, message:
                "plugin \(process.pluginPath), analyzer '\(id)', \(doing): its worker \(how); the plugin's findings from here on are missing"))
            return nil
        }
    }
}
