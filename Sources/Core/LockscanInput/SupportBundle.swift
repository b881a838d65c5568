import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A support bundle as one input: an sosreport (a folder or its tarball,
/// laid out as the sos project writes it: `sos_commands/kernel/dmesg`,
/// `sos_commands/logs/journalctl_--no-pager*`, `var/log/messages*`,
/// `var/log/libvirt/qemu/*.log`, `var/crash/*/vmcore-dmesg.txt` …) or a
/// SUSE supportconfig (`messages.txt`, `boot.txt`). Support engineers
/// receive these, not single logs; lockscan picks the files that hold
/// kernel, libvirt and qemu messages, says which it read and which it left
/// out and why, and hands each on as an ordinary input named inside the
/// bundle (`sosreport-h1.tar.xz:var/log/messages`).
///
/// One kernel log is read, the most complete there is — the full journal,
/// else the syslog files (oldest rotation first), else the ring buffer
/// copy — because the same messages in two of them would be counted twice.
/// A crashed kernel's vmcore-dmesg and pstore records hold boots the live
/// logs do not, so each is read too.
public struct SupportBundle {
    public enum Role: String, Sendable {
        case hostKernel = "host kernel log"
        case crashedKernel = "dmesg of a crashed kernel"
        case libvirt = "libvirtd.log"
        case qemu = "qemu domain log"
        /// `/etc/libvirt/qemu/NAME.xml`: no log, but what the domain runs
        /// (Windows features, a local-time clock) for the checks that read it.
        case domainXML = "libvirt domain XML"
    }

    public struct Member: Sendable {
        public var spec: InputSpec
        public var role: Role
        /// Path inside the bundle.
        public var path: String
    }

    public var name: String
    /// `sosreport` or `supportconfig`.
    public var kind: String
    public var members: [Member] = []
    /// Candidate files not read, each with the reason.
    public var skipped: [(path: String, reason: String)] = []
    /// The folder a tarball's members were extracted to; removed by `close`.
    private var scratch: String?

    /// nil when `path` is not a bundle; a failure when it is one that
    /// cannot be read (a tarball tar cannot list or extract).
    public static func open(_ path: String) -> Result<SupportBundle, Diagnostic>? {
        var isDir = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return nil }
        if isDir {
            // A bundle is told by its top level; only then is it walked (a
            // folder that is not one, even `/`, costs one listing).
            guard let top = try? FileManager.default.contentsOfDirectory(atPath: path),
                  kind(of: Set(top.map { $0 == "sos_commands" ? "sos_commands/" : $0 })) != nil,
                  let files = try? FileManager.default.subpathsOfDirectory(atPath: path),
                  let kind = kind(of: Set(files)) else { return nil }
            var bundle = SupportBundle(name: path, kind: kind)
            bundle.choose(from: files.filter { isRegularFile(path + "/" + $0) }) { rel in
                .path(PathName.join(path, rel))
            }
            return .success(bundle)
        }
        guard isTarball(path) else { return nil }
        guard let listing = tar(["-t", "-f", path]) else {
            return .failure(Diagnostic(file: path, message: "tar cannot list this archive (truncated or not a tarball); no member read"))
        }
        let names = listing.split(separator: "\n").map(String.init)
        // Members are under one top folder (sosreport-HOST-DATE/); paths are
        // taken relative to it.
        let root = names.lazy.compactMap { n -> String? in
            for marker in ["sos_commands/", "basic-environment.txt"] {
                if let r = n.firstRange(of: marker) { return String(n[..<r.lowerBound]) }
            }
            return nil
        }.first
        guard let root else { return nil }
        let relative = names.filter { $0.hasPrefix(root) && !$0.hasSuffix("/") }.map { String($0.dropFirst(root.count)) }
        guard let kind = kind(of: Set(relative)) else { return nil }
        var bundle = SupportBundle(name: path, kind: kind)
        bundle.choose(from: relative) { _ in .standardInput }
        // A fresh folder of our own (mode 0700), where TMPDIR says.
        let tmp = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array(PathName.join(tmp, "lockscan-bundle-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            return .failure(Diagnostic(file: path, message: "no folder to extract into under \(tmp) (\(String(cString: strerror(errno))))"))
        }
        let scratch = String(cString: made)
        bundle.scratch = scratch
        let wanted = bundle.members.map { root + $0.path }
        if !wanted.isEmpty, tar(["-x", "-f", path, "-C", scratch, "--no-same-owner", "--no-same-permissions", "--"] + wanted) == nil {
            bundle.close()
            return .failure(Diagnostic(file: path, message: "tar could not extract the logs chosen from this archive (truncated?); no member read"))
        }
        // Only what tar wrote as a regular file is read (never a link out of the folder).
        var kept: [Member] = []
        for var m in bundle.members {
            let extracted = scratch + "/" + root + m.path
            if isRegularFile(extracted) {
                m.spec = .member(path: extracted, shownAs: path + ":" + m.path)
                kept.append(m)
            } else {
                bundle.skipped.append((m.path, "not a regular file in the archive"))
            }
        }
        bundle.members = kept
        return .success(bundle)
    }

    /// Removes what was extracted.
    public func close() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    /// One sentence for the user: what was read, what not.
    public var summary: String {
        let read = members.map { "\($0.path) (\($0.role.rawValue))" }
        let left = skipped.map { "\($0.path) (\($0.reason))" }
        return "\(name): \(kind) bundle; reading \(read.isEmpty ? "nothing (no kernel, libvirt or qemu log in it)" : read.joined(separator: ", "))"
            + (left.isEmpty ? "" : "; not reading \(left.joined(separator: ", "))")
    }

    static func kind(of files: Set<String>) -> String? {
        if files.contains(where: { $0.hasPrefix("sos_commands/") }) { return "sosreport" }
        if files.contains("basic-environment.txt") { return "supportconfig" }
        return nil
    }

    static func isTarball(_ path: String) -> Bool {
        [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst"].contains { path.hasSuffix($0) }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Picks the members; `spec` makes a member's input from its path.
    mutating func choose(from files: [String], spec: (String) -> InputSpec) {
        func add(_ paths: [String], _ role: Role) {
            for p in paths { members.append(Member(spec: spec(p), role: role, path: p)) }
        }
        func skip(_ paths: [String], _ reason: String) {
            for p in paths { skipped.append((p, reason)) }
        }
        let sorted = files.sorted()
        func matching(_ pattern: String) -> [String] { sorted.filter { fnmatch(pattern, $0, FNM_PATHNAME) == 0 } }

        // The host kernel log: one source, the most complete.
        let journals = matching("sos_commands/logs/journalctl_--no-pager*")
        let fullJournal = journals.filter { !$0.contains("--boot") && !$0.contains("--disk-usage") && !$0.contains("--list") }
        let bootJournals = journals.filter { $0.contains("--boot") }
        let kern = Self.oldestFirst(matching("var/log/kern.log*"))
        let messages = Self.oldestFirst(matching("var/log/messages*"))
        let syslog = Self.oldestFirst(matching("var/log/syslog*"))
        // Copies of one buffer, best first: supportconfig's messages.txt
        // (it holds boot.txt's lines too), the ring buffer with raw stamps,
        // the same with -T, the boot-time copy.
        let ring = ["messages.txt", "sos_commands/kernel/dmesg", "sos_commands/kernel/dmesg_-T", "var/log/dmesg", "boot.txt"]
            .flatMap(matching)
        let candidates: [(String, [String])] = [("the full journal", Array(fullJournal.prefix(1))), ("the journals of each boot", bootJournals),
                                                ("kern.log", kern), ("messages", messages), ("syslog", syslog),
                                                ("\(ring.first ?? "the kernel ring buffer")", Array(ring.prefix(1)))]
        if let (label, pick) = candidates.first(where: { !$0.1.isEmpty }) {
            add(pick, .hostKernel)
            let rest = (fullJournal + bootJournals + kern + messages + syslog + ring).filter { !pick.contains($0) }
            skip(rest, "its kernel messages are in \(label) too")
        }
        add(matching("var/crash/*/vmcore-dmesg.txt") + matching("var/lib/systemd/pstore/*/dmesg*") + matching("sys/fs/pstore/dmesg-*"),
            .crashedKernel)
        add(Self.oldestFirst(matching("var/log/libvirt/libvirtd.log*")), .libvirt)
        // Each domain's log with its rotations (sos takes `*.log*`), oldest first.
        let domainLogs = Dictionary(grouping: matching("var/log/libvirt/qemu/*.log*")) { p in
            String(PathName.last(p).split(separator: ".log", maxSplits: 1, omittingEmptySubsequences: false)[0])
        }
        for domain in domainLogs.keys.sorted() { add(Self.oldestFirst(domainLogs[domain]!), .qemu) }
        // The persistent definition of each domain; the live copy under
        // run/ only for a domain that has none (a transient one).
        let defined = matching("etc/libvirt/qemu/*.xml")
        let names = Set(defined.map { PathName.last($0) })
        let live = matching("run/libvirt/qemu/*.xml")
        add(defined + live.filter { !names.contains(PathName.last($0)) }, .domainXML)
        skip(live.filter { names.contains(PathName.last($0)) }, "the live copy of a domain defined in etc/libvirt/qemu")
        skip(matching("var/log/journal/*/*.journal*"),
             "a binary systemd journal: lockscan reads journal exports (journalctl -o json, or the sos_commands/logs/journalctl_* text)")
    }

    /// Rotated logs in the order they were written: `messages-20240501`
    /// and `.4.gz` … `.1` before the live file.
    static func oldestFirst(_ paths: [String]) -> [String] {
        func rank(_ p: String) -> (Int, String) {
            let name = PathName.last(p)
            let parts = name.split(separator: ".")
            if let n = parts.dropFirst().compactMap({ Int($0) }).first { return (-n, p) }   // .N or .N.gz: higher is older
            if name.contains("-"), name.last?.isNumber == true || name.hasSuffix(".gz") || name.hasSuffix(".xz") { return (-1_000_000, p) }
            return (0, p)                                                                     // the live file last
        }
        return paths.sorted { rank($0) < rank($1) }
    }

    /// tar's standard output, or nil when it failed.
    static func tar(_ args: [String]) -> String? {
        ChildProcess.output(["tar"] + args).map { String(decoding: $0, as: UTF8.self) }
    }
}
