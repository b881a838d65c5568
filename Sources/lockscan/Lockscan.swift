import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit

@main
struct Lockscan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockscan",
        abstract: "Kernel-hang postmortems for Linux/KVM: find lockups, stalls and their causes in logs.",
        version: "0.1.0",
        subcommands: [Scan.self, Symbolize.self, Addr2line.self, TimelineCommand.self, Analyzers.self, PluginWorkerCommand.self])

    /// grep's convention: 2 for a usage error, not ArgumentParser's 64.
    /// A command's own ExitCode (1, 2, timeline's 3) passes unchanged.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(withError: code)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 1 || code.rawValue == 2 { exit(withError: error) }
            StandardStream.error.write(fullMessage(for: error) + "\n")
            Glibc.exit(2)
        }
    }
}
