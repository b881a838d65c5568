import FoundationEssentials
import LockscanKit

/// Which kernel a log came from, and where its debug files are.
public enum KernelFinder {
    /// The release the log names: `Linux version 6.1.0-18-amd64 (…)` or the
    /// task header `CPU: 3 PID: 1 Comm: x Not tainted 6.1.0-18-amd64 #1`,
    /// or crash's `RELEASE: 3.10.0-…`.
    public static func release(in lines: [String]) -> String? {
        for line in lines {
            if let r = line.firstOccurrence(of: "Linux version ") {
                return String(line[r.upperBound...].prefix { $0 != " " })
            }
            if let r = line.firstOccurrence(of: "RELEASE: ") {
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

    /// The kernel's build ID as the log shows it: kernels built with
    /// CONFIG_STACKTRACE_BUILD_ID end the task header with it
    /// (`CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0-18-amd64 #1 <40 hex digits>`).
    /// Only the first task header is read: a kernel that prints the ID
    /// prints it on every one.
    public static func buildID(in lines: [String]) -> String? {
        taskHeaderBuildID(in: lines.map { Array($0.utf8)[...] }).buildID
    }

    /// The same for a stretch of an input read as it arrives: whether it
    /// held a task header (after which there is nothing more to learn) and
    /// the build ID on the first one. A byte search per line; only a task
    /// header becomes a String.
    public static func taskHeaderBuildID(in lines: [ArraySlice<UInt8>]) -> (sawTaskHeader: Bool, buildID: String?) {
        for line in lines {
            let hit = line.withUnsafeBytes { b in b.baseAddress.flatMap { taskHeader.firstHit($0, from: 0, to: b.count) } }
            guard hit != nil else { continue }
            let text = String(decoding: line, as: UTF8.self)
            guard text.contains(" PID: ") else { continue }
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\r" })
            guard words.count >= 2, let last = words.last, last.count == 40, last.allSatisfy(\.isHexDigit),
                  words[words.count - 2].hasPrefix("#") else { return (true, nil) }
            return (true, String(last))
        }
        return (false, nil)
    }

    private static let taskHeader = TriggerSearch([Array(" Comm: ".utf8)])

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
            guard let walker = try? FileManager.default.subpathsOfDirectory(atPath: root) else { continue }
            for rel in walker {
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
