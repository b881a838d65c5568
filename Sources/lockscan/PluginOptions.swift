import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import PluginHost

/// `--plugin`, `--plugin-timeout` and `LOCKSCAN_PLUGIN_PATH`, shared by every command that runs analyzers.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: ArgumentHelp("Load an external analyzer from a shared object (repeatable). It runs in a process of its own.", valueName: "PATH"))
    var plugins: [String] = []

    @Option(name: .customLong("plugin-timeout"), help: ArgumentHelp("Seconds a plugin may take to load and for each line; one that takes longer is stopped and said so (default: 10).", valueName: "SECONDS"))
    var pluginTimeout: Double = PluginSession.defaultTimeout

    func validate() throws {
        guard pluginTimeout.isFinite, pluginTimeout > 0, pluginTimeout <= 86_400 else {
            throw ValidationError("--plugin-timeout must be more than 0 and at most 86400 seconds")
        }
    }

    /// Built-in analyzers plus every plugin that loaded. Plugins that could
    /// not be used are the session's `loadProblems`; the command reports
    /// them in its outputs and exits 2 at the end.
    func analyzers() -> (descriptors: [AnalyzerDescriptor], plugins: PluginSession) {
        var paths = plugins
        if let env = ProcessInfo.processInfo.environment["LOCKSCAN_PLUGIN_PATH"] {
            paths += PluginLoader.discover(searchPath: env)
        }
        let session = PluginSession(paths: paths, taken: Set(BuiltinAnalyzers.all.map(\.id)), timeout: pluginTimeout)
        return (BuiltinAnalyzers.all + session.descriptors, session)
    }
}

/// `lockscan plugin-worker PATH`: not for users. lockscan starts it to load
/// one plugin away from its own process (PluginHost's `PluginWorker`).
struct PluginWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugin-worker", shouldDisplay: false)

    @Argument var path: String

    func run() throws {
        Glibc.exit(PluginWorker.serve(pluginPath: path))
    }
}

/// Diagnostics to standard error, as every command prints them.
func printDiagnostics(_ diagnostics: [Diagnostic]) {
    for d in diagnostics { warn("\(d)") }
}
