import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A worker process (`lockscan plugin-worker PATH`) that has loaded one
/// plugin and runs its analyzers, seen from lockscan.
///
/// Every request waits at most `timeout` seconds for its answer. A worker
/// that does not answer in time is killed; one that dies, answers with
/// something that is not the protocol or closes its end is reaped. From
/// then on the process is `gone` and every request returns at once, so a
/// broken plugin costs only its own findings.
final class PluginProcess: @unchecked Sendable {
    /// What a request came to.
    enum Outcome {
        case reply(WorkerReply)
        /// The worker ended during this request; the words say how
        /// ("was killed by SIGSEGV (Segmentation fault)"). Reported once.
        case died(String)
        /// It had ended before; already reported.
        case gone
    }

    let pluginPath: String
    let timeout: Double
    private let pid: pid_t
    private var channel: LineChannel?

    /// The executable that serves `plugin-worker`: this very lockscan, so
    /// both ends speak the same protocol and link the same LockscanKit.
    static let workerExecutable = "/proc/self/exe"
    static let workerCommand = "plugin-worker"

    private init(pluginPath: String, timeout: Double, pid: pid_t, fd: Int32) {
        self.pluginPath = pluginPath
        self.timeout = timeout
        self.pid = pid
        channel = LineChannel(fd: fd)
    }

    deinit { stop() }

    /// Why the system would not start a worker (out of processes, no /proc).
    struct StartFailure: Error {
        var reason: String
    }

    static func start(pluginPath: String, timeout: Double) -> Result<PluginProcess, StartFailure> {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return .failure(StartFailure(reason: "cannot start a worker process: \(String(cString: strerror(errno)))"))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The worker's end becomes its standard input; its standard output
        // goes to lockscan's standard error, so whatever a plugin prints can
        // neither mix into lockscan's output nor into the protocol.
        posix_spawn_file_actions_adddup2(&actions, fds[1], 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        let args = ["lockscan", workerCommand, pluginPath]
        // A plugin that crashes is said in one diagnostic; Swift's runtime
        // backtracer would add a page of registers to standard error for
        // it. Its one-line fatal-error message stays; a plugin's author
        // who wants the backtrace sets SWIFT_BACKTRACE themselves.
        var environment = ProcessInfo.processInfo.environment
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in envp { free(p) } }
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, workerExecutable, &actions, nil, &argv, &envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return .failure(StartFailure(reason: "cannot start a worker process: \(String(cString: strerror(rc)))"))
        }
        return .success(PluginProcess(pluginPath: pluginPath, timeout: timeout, pid: pid, fd: fds[0]))
    }

    /// Sends one request and waits for its answer.
    func call(_ request: WorkerRequest) -> Outcome {
        guard let channel else { return .gone }
        guard let bytes = WireCoding.line(request) else {
            return .died(end(kill: true, "could not be sent a request (it holds a value JSON cannot carry)"))
        }
        guard channel.send(bytes) else { return .died(end(kill: false, nil)) }
        switch channel.receive(timeout: timeout) {
        case let .success(line):
            guard let reply = WireCoding.decode(WorkerReply.self, line) else {
                return .died(end(kill: true, "answered with something that is not lockscan's plugin protocol (did it print to its standard output?)"))
            }
            return .reply(reply)
        case .failure(.timedOut):
            return .died(end(kill: true, "did not answer within \(Self.seconds(timeout)) s"))
        case .failure(.overlong):
            return .died(end(kill: true, "answered with more than \(channel.maxLine >> 20) MiB in one line (not lockscan's plugin protocol)"))
        case .failure(.closed):
            return .died(end(kill: false, nil))
        }
    }

    /// Ends the worker for good and says how it ended: `why` when lockscan
    /// stopped it, otherwise what its exit status tells.
    private func end(kill killIt: Bool, _ why: String?) -> String {
        channel = nil
        if killIt {
            kill(pid, SIGKILL)
            _ = reap()
            return (why ?? "misbehaved") + " and was stopped"
        }
        let status = reap()
        return why ?? Self.describe(status)
    }

    /// Closes the channel and waits for the worker to end (it does at the
    /// end of its input; `reap` kills one that does not), so no worker
    /// outlives the run and its time is the run's.
    func stop() {
        guard channel != nil else { return }
        channel = nil
        _ = reap()
    }

    /// The worker's wait status. A worker that closed its end is exiting:
    /// waited for in short, growing steps (it usually is gone within a
    /// millisecond); one that runs on after a second is killed.
    private func reap() -> Int32? {
        var status: Int32 = 0
        var waited: useconds_t = 0
        var step: useconds_t = 100
        while waited < 1_000_000 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 { return nil }
            usleep(step)
            waited += step
            step = min(step * 2, 50_000)
        }
        kill(pid, SIGKILL)
        return waitpid(pid, &status, 0) == pid ? status : nil
    }

    /// `was killed by SIGSEGV (Segmentation fault)`, `exited with status 3`.
    static func describe(_ status: Int32?) -> String {
        guard let status else { return "ended (its exit status is unknown)" }
        let signal = status & 0x7F
        if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        let words = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
        return "was killed by \(signalName(signal)) (\(words))"
    }

    /// The C name of the signals a broken plugin ends with; a number otherwise.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
                                      SIGABRT: "SIGABRT", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM",
                                      SIGINT: "SIGINT", SIGPIPE: "SIGPIPE", SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU"]
        return names[signal] ?? "signal \(signal)"
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() && s < 1e9 ? String(Int(s)) : String(s)
    }
}
