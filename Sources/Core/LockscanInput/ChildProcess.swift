import Glibc

/// Runs a system tool and collects its standard output: posix_spawn with a
/// pipe, standard error to /dev/null, no shell. Used for `tar`, whose
/// formats and compressions lockscan leaves to it.
public enum ChildProcess {
    /// The tool's standard output, or nil when it could not start or did
    /// not exit with status 0. `argv[0]` is looked up in `PATH`.
    public static func output(_ argv: [String]) -> [UInt8]? {
        guard !argv.isEmpty else { return nil }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        close(fds[1])
        guard spawned == 0 else { close(fds[0]); return nil }
        let out = FileDescriptor.readToEnd(fds[0])
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited (low 7 bits 0) with status 0.
        return (status & 0x7f) == 0 && (status >> 8) & 0xff == 0 ? out : nil   // out: nil when the pipe failed
    }
}
