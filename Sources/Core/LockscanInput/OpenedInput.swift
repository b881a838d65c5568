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
    private(set) var fd: Int32
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
    /// Set when the input is followed (`scan --follow`).
    private let follow: FollowWait?
    /// The path a followed file was opened by, to notice a new file there.
    private let path: String?
    /// Bytes read from the current file, to notice it was cut short.
    private var fileOffset: Int64 = 0
    /// What happened to a followed file that made reading start over (set
    /// with the 0 that ends the old file's bytes; taken by the reader).
    private var restart: String?

    private init(name: String, fd: Int32, owns: Bool, path: String?, limits: InputLimits, follow: FollowSettings?) {
        self.name = name
        self.fd = fd
        self.path = path
        self.follow = follow.map(FollowWait.init)
        ownsDescriptor = owns
        var st = stat()
        if fstat(fd, &st) != 0 { st.st_mode = 0 }
        switch st.st_mode & S_IFMT {
        case S_IFREG where follow != nil:
            // Followed: read as long as it grows, from a size of 0 too.
            kind = .regular; sizeAtOpen = nil; bound = nil
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
        // A followed stream ends when the user ends it, not at a size.
        remaining = follow == nil ? bound : nil
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Opens `spec`; a failure is the diagnostic to print.
    static func open(_ spec: InputSpec, limits: InputLimits, follow: FollowSettings? = nil) -> Result<OpenedInput, Diagnostic> {
        let name = spec.displayName
        switch spec {
        case .standardInput:
            return .success(OpenedInput(name: name, fd: 0, owns: false, path: nil, limits: limits, follow: follow))
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
            return .success(OpenedInput(name: name, fd: fd, owns: true, path: path, limits: limits, follow: follow))
        }
    }

    /// Reads at most `count` bytes; 0 at the end (or at the bound), -1 with
    /// errno on error.
    func read(into p: UnsafeMutableRawPointer, count: Int, paused: (FollowPause) -> Void) -> Int {
        if let follow { return followRead(into: p, count: count, follow, paused) }
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

    /// A followed input's next bytes: waits for them, telling `paused` about
    /// the silence; 0 when the run is told to stop, when a pipe's writer
    /// closed it, or when a followed file starts over (`takeRestart`).
    private func followRead(into p: UnsafeMutableRawPointer, count: Int, _ follow: FollowWait, _ paused: (FollowPause) -> Void) -> Int {
        var silence = FollowWait.Silence()
        while !follow.stopped {
            if kind == .regular {
                let n = Glibc.read(fd, p, count)
                if n < 0 && errno == EINTR { continue }
                if n != 0 {
                    if n > 0 { fileOffset += Int64(n) }
                    return n
                }
                switch FileAtPath.check(fd: fd, path: path, offset: fileOffset) {
                case .same: break
                case .truncated:
                    _ = lseek(fd, 0, SEEK_SET)
                    fileOffset = 0
                    restart = "was truncated (copytruncate?); reading it again from its start"
                    return 0
                case let .replaced(fresh):
                    if ownsDescriptor { close(fd) }
                    fd = fresh
                    fileOffset = 0
                    restart = "is now another file (rotated); reading the new one from its start"
                    return 0
                }
                // At its end: look again after a while, or at once when the
                // user stops the run.
                let step = min(follow.settings.filePollSeconds, silence.untilNext(follow.settings) ?? follow.settings.filePollSeconds)
                if follow.poll(nil, seconds: step) == .stop { break }
                silence.waited += step
                silence.tell(follow.settings, paused)
                continue
            }
            let before = monotonicSeconds()
            switch follow.poll(fd, seconds: silence.untilNext(follow.settings)) {
            case .stop: return 0
            case .timeout:
                silence.waited += monotonicSeconds() - before
                silence.tell(follow.settings, paused)
            case .input:
                let n = Glibc.read(fd, p, count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        return 0
    }

    /// Why a followed file started over, once; nil when it did not.
    func takeRestart() -> String? {
        defer { restart = nil }
        return restart
    }

    /// Whether the run was told to stop while following.
    var stoppedBySignal: Bool { follow?.stopped ?? false }

    private func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
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
        guard kind == .regular, follow == nil, let size = sizeAtOpen else { return nil }
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
