#if canImport(Glibc)
import Glibc
#endif

/// Remembers the regular files a run has read, to notice one given again:
/// the same path twice, another path to the same file (a link), or a copy
/// with the same bytes. Reading it again would count every event twice — in
/// a timeline, two of each report a few microseconds apart, clustered as if
/// two sources agreed.
///
/// Two inputs are the same when their sizes are equal and their bytes
/// compare equal, read in fixed-size blocks (so distinct logs cost one
/// `stat`). The device and inode alone are not enough: a file rewritten in
/// place, or a new file that got a deleted one's inode, keeps them with other
/// bytes. Standard input, pipes and devices are never compared: they can be
/// read only once.
public final class SameContentInputs {
    private struct Seen {
        var name: String
        var path: String
        var size: Int64
    }

    private var seen: [Seen] = []
    /// Bytes compared per read.
    static let block = 1 << 16

    public init() {}

    /// The display name of an earlier input with the same content as
    /// `spec`, or nil (and `spec` is remembered for later inputs).
    public func earlier(than spec: InputSpec) -> String? {
        guard case let .path(path) = spec else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else { return nil }
        let me = Seen(name: spec.displayName, path: path, size: Int64(st.st_size))
        if let copy = seen.first(where: { $0.size == me.size && Self.sameBytes($0.path, me.path) }) { return copy.name }
        seen.append(me)
        return nil
    }

    /// Whether two files hold the same bytes; false when either cannot be read.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC)
        defer {
            if fa >= 0 { close(fa) }
            if fb >= 0 { close(fb) }
        }
        guard fa >= 0, fb >= 0 else { return false }
        var ba = [UInt8](repeating: 0, count: block), bb = [UInt8](repeating: 0, count: block)
        while true {
            let na = readFully(fa, &ba), nb = readFully(fb, &bb)
            guard na == nb, na >= 0 else { return false }
            if na == 0 { return true }
            if memcmp(ba, bb, na) != 0 { return false }
        }
    }

    /// Reads up to a block, retrying short reads; -1 on error.
    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
