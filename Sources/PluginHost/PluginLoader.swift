import Foundation
import LockscanKit
#if canImport(Glibc)
import Glibc
#endif

/// Loads external analyzers from shared objects.
///
/// A plugin exports two C symbols: `lockscan_plugin_abi_version` (returns
/// `Int32`) and `lockscan_plugin_entry` (returns a retained `PluginManifest`).
/// The version is checked before any Swift type crosses the boundary, so a
/// plugin built against another LockscanKit is refused instead of crashing.
/// Plugins are never unloaded: their code backs the analyzers' types for the
/// rest of the process.
public enum PluginLoader {
    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static let abiSymbol = "lockscan_plugin_abi_version"
    public static let entrySymbol = "lockscan_plugin_entry"

    public static func load(_ path: String) -> Result<PluginManifest, LoadError> {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            return .failure(LoadError(path: path, reason: "no such file"))
        }
        if isDir.boolValue { return .failure(LoadError(path: path, reason: "is a directory, not a plugin")) }
        if let problem = elfProblem(path) { return .failure(LoadError(path: path, reason: problem)) }
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

    /// Refuses files that are not ELF shared objects before dlopen sees them
    /// (dlopen of a text file or an executable gives confusing messages).
    static func elfProblem(_ path: String) -> String? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return "cannot be opened" }
        defer { try? fh.close() }
        let head = (try? fh.read(upToCount: 18)) ?? Data()
        guard head.count >= 18, head.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]) else {
            return "not a shared object (no ELF header)"
        }
        let type = UInt16(head[16]) | UInt16(head[17]) << 8
        guard type == 3 else { return "not a shared object (ELF type \(type), expected ET_DYN)" }
        return nil
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
