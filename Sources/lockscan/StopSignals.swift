import FoundationEssentials
import Glibc

/// The write end of the pipe SIGINT and SIGTERM are reported through; -1
/// until `StopSignals.install`. Read by the handler only, which may touch
/// nothing but this and `write(2)`.
nonisolated(unsafe) private var stopPipeWriteEnd: Int32 = -1

/// SIGINT and SIGTERM as a descriptor that becomes readable, so a followed
/// input's wait (`FollowWait`, a `poll(2)`) wakes up and the run ends as if
/// the input had: open reports are closed, the summary and diagnostics
/// printed, the usual exit status given. The handler is reset after it ran
/// once (`SA_RESETHAND`): a second ^C ends lockscan at once, as usual.
enum StopSignals {
    /// The read end to poll; nil when the pipe could not be made (then the
    /// signals keep their default: the run ends without its summary).
    static func install() -> Int32? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        stopPipeWriteEnd = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(stopPipeWriteEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        // No SA_RESTART: a blocking call returns EINTR and looks again.
        action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        return fds[0]
    }
}
