import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One end of a connected socket carrying newline-terminated messages, with
/// a deadline on reads so a peer that stops answering cannot stop lockscan.
///
/// A socket rather than two pipes: `send(MSG_NOSIGNAL)` reports a peer that
/// died as an error instead of killing lockscan with SIGPIPE (lockscan keeps
/// SIGPIPE's default so `lockscan scan | head` ends quietly).
final class LineChannel {
    enum Failure: Error {
        /// The peer closed its end (exited or was killed).
        case closed
        /// No complete line before the deadline.
        case timedOut
        /// A line longer than `maxLine`: not the protocol.
        case overlong
    }

    let fd: Int32
    /// The longest line accepted; a peer flooding bytes without a newline
    /// is cut off here instead of filling memory.
    let maxLine: Int
    private var buffer: [UInt8] = []
    /// Where the next search for a newline starts (bytes before were searched).
    private var scanned = 0
    /// Read space, kept between calls (one receive per record).
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init(fd: Int32, maxLine: Int = 64 << 20) {
        self.fd = fd
        self.maxLine = maxLine
    }

    deinit { close(fd) }

    /// Writes all of `bytes`; false when the peer is gone.
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// The next line without its newline. `timeout` nil waits for ever.
    func receive(timeout: Double?) -> Result<[UInt8], Failure> {
        let deadline = timeout.map { Self.now() + $0 }
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                scanned = 0
                return .success(line)
            }
            scanned = buffer.count
            if buffer.count > maxLine { return .failure(.overlong) }
            if let deadline {
                let left = deadline - Self.now()
                guard left > 0 else { return .failure(.timedOut) }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                // Whole milliseconds, rounded up, at most a day per wait.
                let ms = Int32(min(left * 1000, 86_400_000).rounded(.up))
                let ready = poll(&pfd, 1, ms)
                if ready < 0 && errno == EINTR { continue }
                if ready == 0 { continue }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return .failure(.closed) }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
