import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit

/// `--jobs` for the commands that read logs: how many cores one large file
/// may use. Only the search for trigger words is shared out
/// (`ScanOptions.jobs`), so the answer never depends on it; the option
/// exists to measure that, and to leave a core to something else.
struct JobsOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Cores for one regular file of 32 MiB or more: its far part is searched for trigger words on a second core. The events are the same with 1 (default: 2 on a machine with two cores or more).",
        valueName: "N"))
    var jobs: Int?

    func validate() throws {
        if let jobs, !(1...1024).contains(jobs) { throw ValidationError("--jobs \(jobs): a count from 1 to 1024 is wanted") }
    }

    func apply(to options: inout ScanOptions) {
        options.jobs = jobs ?? min(2, ProcessInfo.processInfo.activeProcessorCount)
    }
}
