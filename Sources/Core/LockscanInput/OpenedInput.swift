#if canImport(Glibc)
import Glibc
#endif

/// An opened input's file descriptor, what kind of file it is, and how far it
/// may be read.
///
/// Regular files are read with `read(2)` into a reused buffer rather than
/// mapped: a log that is truncated or rotated while it is mapped turns the next
/// access into SIGBUS, which would kill the whole run; the copy costs less than
/// the line counting that follows it.
final class OpenedInput {
    enum Kind { case regular, pipe, terminal, device, other }

    let name: String
    let fd: Int32
    let kind: Kind
    /// Bytes that may still be read; nil when unbounded (a terminal: the user
    /// ends it with ^D).
    private(set) var remaining: Int64?
    /// What a regular file's size was when it was opened.
    let sizeAtOpen: Int64?
    private let ownsDescriptor: Bool
    private let bound: Int64?
    /// Set when reading stopped at `bound` before the input ended.
    private(set) var stoppedAtBound = false

    private init(name: String, fd: Int32, owns: Bool, limits: InputLimits) {
        self.name = name
        self.fd = fd
        ownsDescriptor = owns
        var st = stat()
        if fstat(fd, &st) != 0 { st.st_mode = 0 }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            // /proc and /sys report size 0 (or a page) for files that are
            // generated on read: those are streams of unknown size.
            if st.st_size > 0 {
                kind = .regular
                sizeAtOpen = Int64(st.st_size)
                bound = Int64(st.st_size)
            } else {
                kind = .other
                sizeAtOpen = nil
                bound = limits.maxStreamBytes
            }
        case S_IFIFO, S_IFSOCK:
            kind = .pipe; sizeAtOpen = nil; bound = limits.maxStreamBytes
        case S_IFCHR:
            if isatty(fd) != 0 {
                kind = .terminal; sizeAtOpen = nil; bound = nil
            } else {
                kind = .device; sizeAtOpen = nil; bound = limits.maxDeviceBytes
            }
        default:
            kind = .other; sizeAtOpen = nil; bound = limits.maxStreamBytes
        }
        remaining = bound
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Opens `spec`; a failure is the diagnostic to print.
    static func open(_ spec: InputSpec, limits: InputLimits) -> Result<OpenedInput, Diagnostic> {
        let name = spec.displayName
        switch spec {
        case .standardInput:
            return .success(OpenedInput(name: name, fd: 0, owns: false, limits: limits))
        case let .path(path), let .member(path, _):
            var st = stat()
            if stat(path, &st) != 0 { return .failure(Diagnostic(file: name, message: String(cString: strerror(errno)))) }
            if (st.st_mode & S_IFMT) == S_IFDIR { return .failure(Diagnostic(file: name, message: "is a directory")) }
            // A FIFO without a writer would block open(2) for ever: open it
            // without blocking, then read it as an ordinary pipe.
            let isFIFO = (st.st_mode & S_IFMT) == S_IFIFO
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | (isFIFO ? O_NONBLOCK : 0))
            if fd < 0 { return .failure(Diagnostic(file: name, message: String(cString: strerror(errno)))) }
            if isFIFO {
                let flags = fcntl(fd, F_GETFL)
                _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
            }
            return .success(OpenedInput(name: name, fd: fd, owns: true, limits: limits))
        }
    }

    /// Reads at most `count` bytes; 0 at the end (or at the bound), -1 with
    /// errno on error.
    func read(into p: UnsafeMutableRawPointer, count: Int) -> Int {
        var want = count
        if let r = remaining {
            if r <= 0 {
                if kind != .regular, !stoppedAtBound { stoppedAtBound = probeMore() }
                return 0
            }
            want = Int(min(Int64(count), r))
        }
        while true {
            let n = Glibc.read(fd, p, want)
            if n < 0 && errno == EINTR { continue }
            if n > 0, let r = remaining { remaining = r - Int64(n) }
            return n
        }
    }

    /// Whether a bounded stream still had bytes when the bound was reached.
    private func probeMore() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }

    /// Bytes a regular file gained while it was read (it is still being
    /// written); nil when it did not grow.
    func growthSinceOpen() -> Int64? {
        guard kind == .regular, let size = sizeAtOpen else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) > size else { return nil }
        return Int64(st.st_size) - size
    }

    var boundDescription: String {
        switch kind {
        case .device: "a character device"
        case .pipe: "a pipe"
        default: "an input of unknown size"
        }
    }

    var bytesBound: Int64? { bound }
}
