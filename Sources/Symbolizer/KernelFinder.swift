import Foundation
import LockscanKit

/// Which kernel a log came from, and where its debug files are.
public enum KernelFinder {
    /// The release the log names: `Linux version 6.1.0-18-amd64 (…)` or the
    /// task header `CPU: 3 PID: 1 Comm: x Not tainted 6.1.0-18-amd64 #1`,
    /// or crash's `RELEASE: 3.10.0-…`.
    public static func release(in lines: [String]) -> String? {
        for line in lines {
            if let r = line.range(of: "Linux version ") {
                return String(line[r.upperBound...].prefix { $0 != " " })
            }
            if let r = line.range(of: "RELEASE: ") {
                let v = line[r.upperBound...].prefix { $0 != " " }
                if !v.isEmpty { return String(v) }
            }
            if line.contains(" Comm: ") {
                let bytes = Array(line.utf8)
                let p = LinePrefix.parse(bytes)
                if case let .taskHeader(h) = TraceLineParser.parse(Array(bytes[p.messageStart...])), let rel = h.release {
                    return rel
                }
            }
        }
        return nil
    }

    /// Distribution locations of a release's debug vmlinux.
    public static func vmlinuxCandidates(release: String) -> [String] {
        ["/usr/lib/debug/boot/vmlinux-\(release)", "/usr/lib/debug/lib/modules/\(release)/vmlinux",
         "/lib/modules/\(release)/build/vmlinux", "/boot/vmlinux-\(release)"]
    }

    /// Module object files under the given directories (and the release's
    /// distribution directories), by the name the kernel prints. `.ko.xz`
    /// is read by libdw itself; `.ko.zst` is not (elfutils 0.188), so such
    /// modules are listed in `unreadable` with the reason.
    public static func moduleFiles(in dirs: [String], release: String?) -> [String: String] {
        moduleSearch(in: dirs, release: release).found
    }

    public static func moduleSearch(in dirs: [String], release: String?) -> (found: [String: String], unreadable: [String: String]) {
        var roots = dirs
        if let r = release { roots += ["/usr/lib/debug/lib/modules/\(r)", "/lib/modules/\(r)"] }
        var found: [String: String] = [:]
        var unreadable: [String: String] = [:]
        for root in roots {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            for case let rel as String in walker {
                let name = KernelDebugInfo.moduleName(forFile: rel)
                if rel.hasSuffix(".ko.zst") {
                    unreadable[name] = root + "/" + rel + " is zstd-compressed, which this libdw cannot read; decompress it (zstd -d) and give the directory with --modules"
                    continue
                }
                guard rel.hasSuffix(".ko") || rel.hasSuffix(".ko.debug") || rel.hasSuffix(".ko.xz") else { continue }
                // A .ko.debug (separate debug info) beats a stripped or compressed .ko.
                if found[name] == nil || rel.hasSuffix(".ko.debug") { found[name] = root + "/" + rel }
            }
        }
        for name in found.keys { unreadable.removeValue(forKey: name) }
        return (found, unreadable)
    }

    /// Module names the log's frames mention (`[kvm]`).
    public static func modulesMentioned(in lines: [String]) -> Set<String> {
        var names: Set<String> = []
        for line in lines {
            let parsed = StackAnnotator.parse(line)
            if let m = parsed.frame?.module { names.insert(m) }
        }
        return names
    }
}
