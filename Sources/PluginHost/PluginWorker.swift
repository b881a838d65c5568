import CLibdw
import FoundationEssentials
import LockscanKit
#if canImport(Glibc)
import Glibc
#endif

/// The worker side of plugin isolation: `lockscan plugin-worker PATH` loads
/// one plugin and runs its analyzers for the lockscan that started it,
/// answering `WorkerRequest`s on its standard input (a socket) until that
/// closes. Whatever the plugin does wrong — crash, trap, loop, print — ends
/// at most this process; `PluginProcess` tells the user what happened.
public enum PluginWorker {
    /// Serves until the channel closes; the exit status.
    public static func serve(pluginPath: String) -> Int32 {
        // Killed with lockscan, even while a plugin loops.
        _ = lockscan_die_with_parent()
        // The channel arrives as fd 0. Moved aside, the plugin sees an empty
        // standard input and prints to lockscan's standard error (fd 1 was
        // pointed there at spawn): it cannot read or write the protocol.
        let fd = dup(0)
        guard fd >= 0 else { return 3 }
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 { dup2(null, 0); close(null) }
        let channel = LineChannel(fd: fd)

        let loaded = PluginLoader.load(pluginPath)
        var instances: [Int: any Analyzer] = [:]
        while case let .success(line) = channel.receive(timeout: nil) {
            guard let request = WireCoding.decode(WorkerRequest.self, line) else { return 3 }
            var reply = WorkerReply()
            switch (request, loaded) {
            case (.describe, let .success(manifest)):
                reply.descriptors = manifest.analyzers.map(WireDescriptor.init)
            case (.describe, let .failure(error)):
                reply.refusal = error.reason
            case let (.make(analyzer, instance), .success(manifest)) where manifest.analyzers.indices.contains(analyzer):
                instances[instance] = manifest.analyzers[analyzer].make()
            case let (.consume(instance, record), _):
                guard let analyzer = instances[instance] else { return 3 }
                var events: [WireEvent] = []
                let interest = analyzer.consume(record) { events.append(WireEvent($0)) }
                reply.events = events
                reply.collecting = Self.collects(interest)
            case let (.finish(instance), _):
                guard let analyzer = instances.removeValue(forKey: instance) else { return 3 }
                var events: [WireEvent] = []
                analyzer.finish { events.append(WireEvent($0)) }
                reply.events = events
                reply.diagnostics = analyzer.inputDiagnostics
            case let (.inputWentQuiet(instance), _):
                guard let analyzer = instances[instance] else { return 3 }
                var events: [WireEvent] = []
                let interest = analyzer.inputWentQuiet { events.append(WireEvent($0)) }
                reply.events = events
                reply.collecting = interest.map(Self.collects)
            case (.make, _):
                return 3
            }
            guard let bytes = WireCoding.line(reply), channel.send(bytes) else { return 3 }
        }
        return 0
    }

    /// A plugin between dumps gets every line: the wire has no waiting
    /// state, and more lines never change an answer.
    static func collects(_ interest: Interest) -> Bool {
        switch interest {
        case .idle: false
        case .collecting, .waiting, .waitingForDump: true
        }
    }
}
