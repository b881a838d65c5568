import ArgumentParser
import Foundation
import LockscanKit
import PluginHost

/// `--plugin` and `LOCKSCAN_PLUGIN_PATH`, shared by every command that runs analyzers.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: ArgumentHelp("Load an external analyzer from a shared object (repeatable).", valueName: "PATH"))
    var plugins: [String] = []

    /// Built-in analyzers plus every plugin that loaded; failures are
    /// reported on stderr and returned so the command can exit 2 at the end.
    func analyzers() -> (descriptors: [AnalyzerDescriptor], failures: [String]) {
        var paths = plugins
        if let env = ProcessInfo.processInfo.environment["LOCKSCAN_PLUGIN_PATH"] {
            paths += PluginLoader.discover(searchPath: env)
        }
        var descriptors = BuiltinAnalyzers.all
        var failures: [String] = []
        for path in paths {
            switch PluginLoader.load(path) {
            case let .success(manifest):
                for d in manifest.analyzers {
                    if descriptors.contains(where: { $0.id == d.id }) {
                        failures.append("plugin \(path): analyzer id '\(d.id)' is already loaded; skipped")
                    } else {
                        descriptors.append(d)
                    }
                }
            case let .failure(err):
                failures.append("plugin \(err)")
            }
        }
        for f in failures { FileHandle.standardError.write(Data("lockscan: \(f)\n".utf8)) }
        return (descriptors, failures)
    }
}
