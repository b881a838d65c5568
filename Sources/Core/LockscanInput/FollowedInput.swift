#if canImport(Glibc)
import Glibc
#endif

/// How an input is read when it is followed (`scan --follow`): it has no end
/// but the one the user gives it (a signal, which `stopDescriptor` reports,
/// or the writer closing a pipe), and its pauses are what tells a report
/// that nothing more of it is coming.
public struct FollowSettings: Sendable {
    /// No byte for this long after the last line that ended a stack
    /// (`Record` after `</TASK>`, `---[ end trace`): the report it closed is
    /// not followed by more of itself. Short, but longer than the gap
    /// between a CPU's dump and the NMI backtraces of the others.
    public var settleSeconds = 0.2
    /// No byte for this long: whatever is open is as complete as it will
    /// get, and is closed.
    public var quietSeconds = 1.0
    /// How often a regular file at its end is looked at again (its size,
    /// and whether the path now names another file).
    public var filePollSeconds = 0.1
    /// Becomes readable when the run must end (SIGINT, SIGTERM): the read
    /// then ends as if the input had.
    public var stopDescriptor: Int32?

    public init() {}
}

/// A followed input has stopped giving bytes for a while; the reader's
/// consumer decides what that closes.
public enum FollowPause: Sendable {
    /// `FollowSettings.settleSeconds` without a byte.
    case settled
    /// `FollowSettings.quietSeconds` without a byte.
    case quiet
}

/// Waits for a followed input's next bytes: polls a pipe or terminal (and
/// the stop descriptor) with timeouts, looks at a regular file at its end
/// again every `filePollSeconds`, and tells `paused` when the input settles
/// and when it goes quiet, once each per silence. Never spins: every wait
/// is a `poll(2)` with a timeout.
final class FollowWait {
    let settings: FollowSettings
    /// Set once the stop descriptor fired: every later read is the end.
    private(set) var stopped = false

    init(_ settings: FollowSettings) { self.settings = settings }

    enum Ready { case input, stop, timeout }

    /// Blocks until `fd` is readable (or hung up), the stop descriptor
    /// fires, or `seconds` pass; `fd` nil waits for the stop or the time only.
    func poll(_ fd: Int32?, seconds: Double?) -> Ready {
        var fds: [pollfd] = []
        if let fd { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        if let s = settings.stopDescriptor { fds.append(pollfd(fd: s, events: Int16(POLLIN), revents: 0)) }
        // Whole milliseconds, bounded: a setting is the program's, but a
        // timeout must never become negative (poll's "for ever") by rounding.
        let ms: Int32 = seconds.map { Int32(min(max($0, 0), 86_400) * 1000) } ?? -1
        while true {
            let n = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), ms) }
            if n < 0 && errno == EINTR {
                // A signal whose handler writes the stop descriptor: look again
                // at once, the byte is there.
                continue
            }
            if n <= 0 { return .timeout }
            if let s = settings.stopDescriptor, fds.last?.fd == s, fds.last!.revents != 0 {
                stopped = true
                return .stop
            }
            return .input
        }
    }

    /// The silences of one wait, told to `paused` once each in order.
    struct Silence {
        var waited = 0.0
        var settled = false
        var quiet = false

        /// How long to wait before the next pause is due; nil once both were told.
        func untilNext(_ s: FollowSettings) -> Double? {
            if !settled { return max(0, s.settleSeconds - waited) }
            if !quiet { return max(0, s.quietSeconds - waited) }
            return nil
        }

        /// Tells the pauses that are due after `waited`.
        mutating func tell(_ s: FollowSettings, _ paused: (FollowPause) -> Void) {
            if !settled, waited >= s.settleSeconds { settled = true; paused(.settled) }
            if !quiet, waited >= s.quietSeconds { quiet = true; paused(.quiet) }
        }
    }
}

/// Where a followed regular file stands against its path: the same file
/// (perhaps grown), the same file cut short (copytruncate), or another file
/// now at the path (rotation: the old one was renamed, a new one created).
enum FileAtPath {
    case same
    case truncated
    case replaced(Int32)

    /// Looks at `fd` (read up to `offset`) and at `path`.
    static func check(fd: Int32, path: String?, offset: Int64) -> FileAtPath {
        var open = stat()
        guard fstat(fd, &open) == 0 else { return .same }
        if Int64(open.st_size) < offset { return .truncated }
        guard let path else { return .same }
        var named = stat()
        // No file at the path: rotated away, the new one not there yet.
        guard stat(path, &named) == 0, (named.st_mode & S_IFMT) == S_IFREG else { return .same }
        guard named.st_ino != open.st_ino || named.st_dev != open.st_dev else { return .same }
        let fresh = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        return fresh >= 0 ? .replaced(fresh) : .same
    }
}
