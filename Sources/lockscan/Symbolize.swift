import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import Symbolizer

struct Symbolize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbolize",
        abstract: "Add file:line and inline chains to kernel backtraces, keeping every other byte.",
        discussion: """
            Annotations are delimited by « », so they can be told from the log (and removed). \
            With --addresses the input holds one hex address or symbol+offset per line, each looked \
            up exactly as given (no -1), printed in the --output-style.
            """)

    @Option(name: .customLong("vmlinux"), help: ArgumentHelp("The kernel's debug vmlinux (repeatable; `guest=PATH`/`host=PATH` labels pair kernels with --guest/--host inputs).", valueName: "[LABEL=]PATH"))
    var vmlinux: [String] = []

    @Option(name: .customLong("modules"), help: ArgumentHelp("A directory with module debug files (.ko, .ko.debug), searched recursively (repeatable).", valueName: "DIR"))
    var modules: [String] = []

    @Flag(help: "Use the --vmlinux even when it does not look like a Linux kernel image, or its release or build ID differs from the log's.") var force = false
    @Flag(help: "The input is a list of addresses or symbol+offset, one per line.") var addresses = false
    @Option(help: ArgumentHelp("With --addresses: worker threads (default: every core). Each maps the vmlinux and keeps its own indexes: on Debian's 6.1 kernel, 10,000 addresses take 0.6 s and ~600 MiB with 2, 0.9 s and ~460 MiB with 1.", valueName: "N"))
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    @OptionGroup var inputLimits: InputLimitOptions

    @Option(name: .customLong("output-style"), help: "With --addresses: gnu (addr2line -f -i), llvm or json (llvm-symbolizer's).")
    var outputStyle: OutputStyle = .gnu

    @Argument(help: ArgumentHelp("Input; standard input when none or '-'.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .customLong("guest"), help: ArgumentHelp("A guest's log, served by --vmlinux guest=PATH (repeatable).", valueName: "FILE"))
    var guestFiles: [String] = []

    @Option(name: .customLong("host"), help: ArgumentHelp("A host's log, served by --vmlinux host=PATH (repeatable).", valueName: "FILE"))
    var hostFiles: [String] = []

    enum OutputStyle: String, ExpressibleByArgument { case gnu, llvm, json }

    func run() throws {
        var failed = false
        var inputs: [(path: String, label: String?)] = files.map { ($0, nil) } + guestFiles.map { ($0, "guest") }
            + hostFiles.map { ($0, "host") }
        if inputs.isEmpty { inputs = [("-", nil)] }
        // Kernels named on the command line are opened first, so a wrong
        // path is reported even for a log without frames.
        var loaded: [(label: String?, kernel: KernelDebugInfo)] = []
        for spec in vmlinuxSpecs {
            do {
                let k = try KernelDebugInfo(vmlinux: spec.path)
                KernelDebugInfo.keepUntilExit(k)
                if let p = KernelCheck.notAKernel(k, force: force) {
                    warn(p.message)
                    if p.refused { failed = true; continue }
                }
                loaded.append((spec.label, k))
            } catch let e as DWARFError {
                warn("\(spec.path): \(e.message)")
                failed = true
            } catch {
                warn("\(spec.path): \(error)")
                failed = true
            }
        }
        if !vmlinuxSpecs.isEmpty && loaded.isEmpty { throw ExitCode(2) }
        for (input, label) in inputs {
            let reader: LineReader
            switch LineReader.open(InputSpec(argument: input), limits: try inputLimits.limits()) {
            case let .success(r): reader = r
            case let .failure(d):
                warn(d.description)
                failed = true
                continue
            }
            if addresses {
                if !symbolizeAddresses(reader, loaded: loaded) { failed = true }
            } else {
                let stream = AnnotationStream(
                    input: reader.name,
                    chooseKernel: { release in chooseKernel(for: reader.name, label: label, release: release, loaded: loaded) },
                    modules: KernelFinder.moduleSearch(in: modules, release: nil),
                    force: force, warn: warn, write: { StandardStream.output.write($0) })
                stream.color = TerminalStyle.standardOutput().color
                reader.read(stream.consume)
                stream.finish()
                if stream.failed { failed = true }
            }
            for d in reader.diagnostics { warn(d.description) }
            if !reader.diagnostics.isEmpty { failed = true }
        }
        if failed { throw ExitCode(2) }
    }

    var vmlinuxSpecs: [(label: String?, path: String)] {
        vmlinux.map { spec in
            if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains("/") {
                return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
            }
            return (nil, spec)
        }
    }

    /// The kernel for an input: a labelled --vmlinux, the one whose release
    /// the log shows, the only one given, or the distribution's debug file
    /// for the log's release.
    func chooseKernel(for input: String, label: String?, release: String?, loaded: [(label: String?, kernel: KernelDebugInfo)]) -> KernelDebugInfo? {
        if let label, let labelled = loaded.first(where: { $0.label == label }) { return labelled.kernel }
        if !loaded.isEmpty {
            if let release, let match = loaded.first(where: { $0.kernel.release == release }) { return match.kernel }
            return loaded[0].kernel
        }
        guard let release else {
            warn("\(input): no --vmlinux given and the log names no kernel release")
            return nil
        }
        guard let found = KernelFinder.vmlinuxCandidates(release: release).first(where: FileManager.default.isReadableFile) else {
            warn("\(input): no --vmlinux given and no debug vmlinux for \(release) in \(KernelFinder.vmlinuxCandidates(release: release).joined(separator: ", ")) (install linux-image-\(release)-dbg)")
            return nil
        }
        do {
            let k = try KernelDebugInfo(vmlinux: found)
            KernelDebugInfo.keepUntilExit(k)
            if let p = KernelCheck.notAKernel(k, force: force) {
                warn(p.message)
                if p.refused { return nil }
            }
            return k
        } catch {
            warn("\(found): \((error as? DWARFError)?.message ?? "\(error)")")
            return nil
        }
    }

    /// `--addresses`: every line of the input is one address to look up.
    /// The answers stream in batches: from a pipe each read is answered
    /// before the next (a script that writes one address and waits gets its
    /// answer); from a file up to `batchSize` addresses are gathered, sorted
    /// and answered together — sorting is what lets a batch visit each
    /// compile unit once, so batches are as large as memory allows (about
    /// 80 MB of tokens and answers), and a million addresses need the
    /// memory of one batch, not of all.
    func symbolizeAddresses(_ reader: LineReader, loaded: [(label: String?, kernel: KernelDebugInfo)]) -> Bool {
        guard let kernel = loaded.first?.kernel else {
            warn("\(reader.name): --addresses needs --vmlinux: an address list names no kernel")
            return false
        }
        if let n = KernelCheck.noDebugInfo(kernel) { warn(n) }
        let style = outputStyle.rawValue
        let module = kernel.path
        let pool = ParallelSymbolizer.Pool(kernel: kernel, workers: max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount),
                                           keepUntilExit: true)
        var failure: Error?
        var tokens: [String] = []
        func answer() {
            guard !tokens.isEmpty, failure == nil else { return }
            defer { tokens.removeAll(keepingCapacity: true) }
            do {
                let results = try pool.run(
                    tokens: tokens,
                    resolve: { token, k in FrameAddressPolicy.asGiven(token, in: k)?.address },
                    render: { s, token in
                        guard let s else { return AddressOutput.unresolved(token, style: style) }
                        return AddressOutput.render(s, style: style, module: module, functions: true, inlines: true)
                    })
                StandardStream.output.write(results.joined())
            } catch {
                failure = error
            }
        }
        reader.read { chunk in
            guard chunk.kind == .lines, failure == nil else { return }
            for line in chunk.bytes.split(separator: 0x0A) {
                let t = Self.token(line)
                if !t.isEmpty { tokens.append(t) }
            }
            if !reader.isRegularFile || tokens.count >= Self.batchSize { answer() }
        }
        answer()
        if let failure {
            warn("\(kernel.path): \(failure)")
            return false
        }
        return true
    }

    /// An address line without the blanks around it. ASCII blanks are cut
    /// from the bytes (Foundation's trimming of every line was ~4% of a
    /// batch's CPU); a line that then still starts or ends with a non-ASCII
    /// byte goes through Foundation, which also knows Unicode's blanks.
    static func token<Line: BidirectionalCollection>(_ line: Line) -> String where Line.Element == UInt8 {
        func blank(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        guard let first = line.firstIndex(where: { !blank($0) }), let last = line.lastIndex(where: { !blank($0) }) else { return "" }
        let kept = line[first...last]
        if kept.first! < 0x80 && kept.last! < 0x80 { return String(decoding: kept, as: UTF8.self) }
        return String(decoding: kept, as: UTF8.self).trimmingWhitespace()
    }

    /// Addresses answered together from a file: 262,144 is ~80 MB of tokens
    /// and JSON answers, and makes a million random addresses visit each
    /// compile unit 4 times instead of once per megabyte read.
    static let batchSize = 1 << 18
}

/// A message to standard error, named as lockscan's.
func warn(_ s: String) {
    StandardStream.error.write("lockscan: \(s)\n")
}
