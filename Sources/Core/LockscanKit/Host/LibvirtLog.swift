/// Messages of libvirt's two logs, after `LinePrefix` has taken the stamp
/// (and in libvirtd.log the thread id and level).

/// A libvirtd.log message: `qemuMonitorIO:689 : internal error: End of file from monitor`
/// (the function and line libvirt's logging macros add, then the text).
/// Under journald the same message arrives without the function.
public struct LibvirtMessage: Sendable, Equatable {
    public var function: String?
    public var sourceLine: Int?
    public var message: String

    public static func parse(_ text: String) -> LibvirtMessage {
        // "name:123 : rest" — the function is one identifier word.
        if let r = text.firstOccurrence(of: " : ") {
            let head = text[..<r.lowerBound]
            if let colon = head.lastIndex(of: ":"), let n = Int(head[head.index(after: colon)...]),
               head[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), colon != head.startIndex {
                return LibvirtMessage(function: String(head[..<colon]), sourceLine: n, message: String(text[r.upperBound...]))
            }
        }
        return LibvirtMessage(function: nil, sourceLine: nil, message: text)
    }
}

/// The lines libvirt itself writes into a qemu domain log (as opposed to
/// qemu's stderr, which follows them).
public enum QemuDomainLog {
    /// `starting up libvirt version: 1.3.1, package: 1ubuntu10.8 (…), qemu
    /// version: 2.5.0(Debian 1:2.5+dfsg-5ubuntu10.9), kernel: …, hostname: host1`
    public struct StartingUp: Sendable, Equatable {
        public var libvirtVersion: String?
        public var libvirtPackage: String?
        public var qemuVersion: String?
        public var kernel: String?
        public var hostname: String?

        static let keys = ["libvirt version", "package", "qemu version", "kernel", "hostname"]

        public static func parse(_ text: String) -> StartingUp? {
            guard let start = text.firstOccurrence(of: "starting up") else { return nil }
            let body = String(text[start.upperBound...])
            // Values may hold commas and parentheses; each runs to the next ", KEY: ".
            var positions: [(key: String, valueStart: String.Index, keyStart: String.Index)] = []
            for key in keys {
                if let r = body.firstOccurrence(of: key + ": ") { positions.append((key, r.upperBound, r.lowerBound)) }
            }
            positions.sort { $0.keyStart < $1.keyStart }
            var values: [String: String] = [:]
            for (i, p) in positions.enumerated() {
                var end = i + 1 < positions.count ? positions[i + 1].keyStart : body.endIndex
                var v = body[p.valueStart..<end]
                if v.hasSuffix(", ") { end = body.index(end, offsetBy: -2); v = body[p.valueStart..<end] }
                values[p.key] = v.trimmingBlanks()
            }
            guard !values.isEmpty else { return nil }
            return StartingUp(libvirtVersion: values["libvirt version"], libvirtPackage: values["package"],
                              qemuVersion: values["qemu version"], kernel: values["kernel"], hostname: values["hostname"])
        }
    }

    /// `shutting down, reason=crashed` → `crashed`.
    public static func shutdownReason(_ text: String) -> String? {
        guard let r = text.firstOccurrence(of: "shutting down, reason=") else { return nil }
        return String(text[r.upperBound...].prefix(while: { !$0.isWhitespace }))
    }
}
