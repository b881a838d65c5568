import Glibc

/// Reading a descriptor whole: a child's pipe, or standard input holding a
/// list of paths (never a log: logs are read as streams by `LineReader`).
public enum FileDescriptor {
    /// Every byte until end of file; nil when a read fails.
    public static func readToEnd(_ fd: Int32) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}
