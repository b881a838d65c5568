import FoundationEssentials
import LockscanKit
#if canImport(Glibc)
import Glibc
#endif

/// Loads a plugin's shared object: only ever inside a plugin worker
/// process (`PluginWorker`), never in the lockscan that reads the user's
/// logs, because loading runs the plugin's code (its constructors first).
///
/// A plugin exports two C functions: `lockscan_plugin_abi_version` (returns
/// `Int32`) and `lockscan_plugin_entry` (returns a retained `PluginManifest`).
/// `PluginSymbolCheck` has made sure both are functions before `dlopen`; the
/// version is checked before any Swift type crosses the boundary, so a
/// plugin built against another LockscanKit is refused instead of crashing.
/// Plugins are never unloaded: their code backs the analyzers' types for the
/// rest of the worker.
public enum PluginLoader {
    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static let abiSymbol = "lockscan_plugin_abi_version"
    public static let entrySymbol = "lockscan_plugin_entry"

    /// Why the file cannot be a plugin, judged without running any of it;
    /// nil when it may be loaded (in a worker). lockscan asks this before it
    /// starts a worker, the worker again before `dlopen`.
    public static func fileProblem(_ path: String) -> String? {
        var isDir = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return "no such file" }
        if isDir { return "is a directory, not a plugin" }
        return PluginSymbolCheck.problem(path)
    }

    public static func load(_ path: String) -> Result<PluginManifest, LoadError> {
        if let problem = fileProblem(path) { return .failure(LoadError(path: path, reason: problem)) }
        // dlopen resolves relative names through the library search path; a
        // path the user typed must mean that file.
        let resolved = path.contains("/") ? path : "./" + path
        guard let handle = dlopen(resolved, RTLD_NOW | RTLD_LOCAL) else {
            let msg = dlerror().map { String(cString: $0) } ?? "unknown error"
            return .failure(LoadError(path: path, reason: "cannot be loaded: \(msg)"))
        }
        guard let abiSym = dlsym(handle, abiSymbol) else {
            return .failure(LoadError(path: path, reason: "not a lockscan plugin (no \(abiSymbol) symbol)"))
        }
        typealias VersionFn = @convention(c) () -> Int32
        let version = unsafeBitCast(abiSym, to: VersionFn.self)()
        guard version == lockscanPluginABIVersion else {
            return .failure(LoadError(path: path, reason: "plugin ABI version \(version), this lockscan needs \(lockscanPluginABIVersion); rebuild the plugin against this LockscanKit"))
        }
        guard let entrySym = dlsym(handle, entrySymbol) else {
            return .failure(LoadError(path: path, reason: "not a lockscan plugin (no \(entrySymbol) symbol)"))
        }
        typealias EntryFn = @convention(c) () -> UnsafeMutableRawPointer?
        guard let raw = unsafeBitCast(entrySym, to: EntryFn.self)() else {
            return .failure(LoadError(path: path, reason: "\(entrySymbol) returned no manifest"))
        }
        let object = Unmanaged<AnyObject>.fromOpaque(raw).takeRetainedValue()
        guard let manifest = object as? PluginManifest else {
            return .failure(LoadError(path: path, reason: "\(entrySymbol) did not return a PluginManifest (built against a different LockscanKit?)"))
        }
        if let bad = manifest.analyzers.first(where: { $0.id.isEmpty || $0.eventKinds.isEmpty }) {
            return .failure(LoadError(path: path, reason: "analyzer '\(bad.id)' has no id or no event kinds"))
        }
        return .success(manifest)
    }

    /// Every `*.so` in the directories of a colon-separated path list
    /// (`LOCKSCAN_PLUGIN_PATH`), sorted for a stable order.
    public static func discover(searchPath: String) -> [String] {
        var out: [String] = []
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: String(dir))) ?? []
            out += names.filter { $0.hasSuffix(".so") }.sorted().map { String(dir) + "/" + $0 }
        }
        return out
    }
}
