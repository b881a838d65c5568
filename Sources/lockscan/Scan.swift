import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import Symbolizer

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find lockup-class events in kernel logs.",
        discussion: """
            Exit status: 0 no event at or above --fail-on, 1 some event at or above it, \
            2 a usage error or an input or plugin that could not be used (everything else \
            is still analysed). Events left out by --since, --until, --kind or \
            --min-severity count for nothing.
            """)

    @Argument(help: ArgumentHelp("Log files; '-' or none reads standard input.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .customLong("files-from"), help: ArgumentHelp("Read the input paths from this file, one per line ('-': from standard input), after any FILE arguments. For many inputs: the argument parser's cost grows with the square of the arguments, this list's only linearly.", valueName: "LIST"))
    var filesFrom: String?

    @Flag(help: "Print one JSON document.") var json = false
    @Flag(help: "Print one JSON event per line as events are found.") var ndjson = false
    @Flag(help: "Print a Markdown summary for incident documents.") var markdown = false

    @Option(help: ArgumentHelp("Input format for every file, instead of sniffing each.", valueName: "FORMAT"))
    var format: InputFormat?

    @Flag(help: ArgumentHelp("Follow one input as it grows: a file as `tail -f` does (from its start; a truncation or a new file at the path is said, and reading goes on from the new start), or standard input from `dmesg -w` or `journalctl -kf -o json`. Each event is printed (text or --ndjson) as soon as its report is complete: by its structure, or when the input has been silent for a second. SIGINT or SIGTERM ends the run with its summary. Reports are not joined into incidents; --json, --markdown, --group, --metrics-file and several inputs need the whole input and are refused."))
    var follow = false

    @Option(name: .customLong("quiet-after"), help: ArgumentHelp("With --follow: seconds without input after which every open report is closed (0.05 to 3600).", valueName: "SECONDS"))
    var quietAfter: Double = 1

    @Flag(help: "Collapse repeated reports of one signature (title, CPU, top frames) into one entry with a count and first/last time. With --ndjson, events are then printed at the end of each input.")
    var group = false

    @Option(name: .customLong("fail-on"), help: ArgumentHelp("Exit 1 when an event is at least this severe.", valueName: "SEVERITY"))
    var failOn: Severity = .warning

    @OptionGroup var pluginOptions: PluginOptions
    @OptionGroup var inputLimits: InputLimitOptions
    @OptionGroup var jobsOption: JobsOption
    @OptionGroup var filterOptions: EventFilterOptions
    @OptionGroup var metrics: MetricsOptions

    @Option(name: .customLong("vmlinux"), help: ArgumentHelp("Symbolize the events' stacks with this kernel's debug vmlinux.", valueName: "PATH"))
    var vmlinux: String?

    @Option(name: .customLong("modules"), help: ArgumentHelp("With --vmlinux: a directory with module debug files (repeatable).", valueName: "DIR"))
    var modules: [String] = []

    @Flag(help: "With --vmlinux: use it even when it does not look like a Linux kernel image, or its release differs from an event's.") var force = false

    func validate() throws {
        if [json, ndjson, markdown].filter({ $0 }).count > 1 {
            throw ValidationError("--json, --ndjson and --markdown exclude each other")
        }
        // As grep: no file means standard input, unless that is a terminal
        // (then the user most likely forgot the file).
        if files.isEmpty && filesFrom == nil && isatty(0) != 0 { throw ValidationError("no input: name files, or pipe a log into standard input") }
        if let m = metrics.metricsFile, let same = OutputFile.inputNamed(by: m, among: files) {
            throw ValidationError("--metrics-file \(m) is the input \(same): lockscan never writes over what it reads")
        }
        if filesFrom == "-", files.contains("-") { throw ValidationError("--files-from - and the input '-' both want standard input") }
        if follow { try validateFollow() }
        guard quietAfter.isFinite, quietAfter >= 0.05, quietAfter <= 3600 else {
            throw ValidationError("--quiet-after \(quietAfter): give seconds from 0.05 to 3600")
        }
    }

    /// What `--follow` cannot do: anything that is written once the whole
    /// input is known, which a followed input never is.
    func validateFollow() throws {
        let whole = [(json, "--json (one document)"), (markdown, "--markdown (one summary)"), (group, "--group (repeats counted over the whole input)"),
                     (metrics.metricsFile != nil, "--metrics-file (written once, at the end)")].filter(\.0).map(\.1)
        if let first = whole.first {
            throw ValidationError("--follow prints each event when its report is complete; \(first) needs the whole input: use the text output or --ndjson")
        }
        if files.count > 1 || filesFrom != nil {
            throw ValidationError("--follow reads one input (a file, or standard input); run one lockscan per input to follow several")
        }
    }

    func run() throws {
        let out = StandardOutput()
        let (descriptors, plugins) = pluginOptions.analyzers()
        defer { plugins.close() }
        try filterOptions.checkKinds(known: Set(descriptors.flatMap(\.eventKinds)))
        let filter = try EventFilter(filterOptions)
        // Plugins' problems belong to the run, not to one input: those that
        // could not load, then those that failed on a line, as they happen.
        var pluginDiagnostics = plugins.loadProblems
        printDiagnostics(plugins.loadProblems)
        if ndjson { for d in plugins.loadProblems { out.write(JSONRendering.line(d)) } }
        func takePluginProblems() {
            let problems = plugins.takeRunProblems()
            printDiagnostics(problems)
            if ndjson { for d in problems { out.write(JSONRendering.line(d)) } }
            pluginDiagnostics += problems
        }
        // Followed, SIGINT and SIGTERM end the input, not lockscan: the
        // reports still open are closed and the summary printed.
        var followSettings: FollowSettings?
        if follow {
            var f = FollowSettings()
            f.quietSeconds = quietAfter
            f.settleSeconds = min(f.settleSeconds, quietAfter)
            f.stopDescriptor = StopSignals.install()
            followSettings = f
        }
        var options = ScanOptions(format: format, limits: try inputLimits.limits(), follow: followSettings)
        jobsOption.apply(to: &options)
        let engine = ScanEngine(analyzers: descriptors, options: options)
        var symbolizer: KernelFrameSymbolizer?
        var symbolizerFailed = false
        var symbolKernel: KernelDebugInfo?
        if let vmlinux {
            do {
                let mods = KernelFinder.moduleFiles(in: modules, release: nil).values.sorted()
                let kernel = try KernelDebugInfo(vmlinux: vmlinux, modules: mods)
                let refusal = KernelCheck.notAKernel(kernel, force: force)
                if let refusal { warn("\(refusal.message)") }
                if refusal?.refused == true {
                    symbolizerFailed = true
                } else {
                    symbolizer = KernelFrameSymbolizer(kernel: kernel)
                    symbolKernel = kernel
                    if let n = KernelCheck.noDebugInfo(kernel) { warn("\(n)") }
                }
            } catch let e as DWARFError {
                warn("\(vmlinux): \(e.message)")
                symbolizerFailed = true
            }
        }
        let text = TextRenderer(color: TerminalStyle.standardOutput().color)

        // An event's own kernel release against the vmlinux's: decided once
        // per release, said once, and a refused one keeps its frames as printed.
        var releaseAllowed: [String: Bool] = [:]
        // Problems met while readying events for output (symbolization, filters).
        var outputDiagnostics: [Diagnostic] = []
        func symbolized(_ event: Event) -> Event {
            guard let symbolizer, let kernel = symbolKernel else { return event }
            if let release = event.kernel {
                if releaseAllowed[release] == nil {
                    let problems = KernelCheck.mismatches(logRelease: release, logBuildID: nil, kernel: kernel, force: force)
                    for p in problems {
                        warn("\(event.source.file): \(p.message)")
                        if p.refused { outputDiagnostics.append(Diagnostic(file: event.source.file, line: event.source.line, message: p.message)) }
                    }
                    releaseAllowed[release] = !problems.contains { $0.refused }
                }
                if releaseAllowed[release] == false { return event }
            }
            // Frames printed only as addresses need the KASLR slide; the
            // event's frames printed both ways give it (a log without
            // them keeps such frames as printed).
            let frames = event.stack + (event.incident?.cpus.flatMap(\.stack) ?? [])
            if frames.contains(where: { $0.function == nil && $0.address != nil }) {
                switch KaslrOffset.fromFrames(frames, in: kernel) {
                case let .success(slide?): return event.symbolized(by: KernelFrameSymbolizer(kernel: kernel, slide: slide))
                case .success(nil): break
                case let .failure(e):
                    outputDiagnostics.append(Diagnostic(file: event.source.file, line: event.source.line,
                                                        message: "\(e.description); frames printed only as addresses are left as printed"))
                }
            }
            return event.symbolized(by: symbolizer)
        }

        var summaries: [InputSummary] = []
        var allEvents: [Event] = []
        var incidents: [JoinedIncident] = []
        let roles = EventRoles(descriptors)
        var worst: Severity?
        var inputs = files
        if let list = filesFrom {
            guard let data = list == "-" ? FileDescriptor.readToEnd(0) : FileManager.default.contents(atPath: list).map(Array.init) else {
                throw ValidationError("--files-from \(list): cannot be read")
            }
            // One path per line, as `find` prints them; CR of CRLF lists and empty lines dropped.
            for line in data.split(separator: 0x0A) {
                var bytes = line
                if bytes.last == 0x0D { bytes = bytes.dropLast() }
                if !bytes.isEmpty { inputs.append(String(decoding: bytes, as: UTF8.self)) }
            }
        }
        // A support bundle (sosreport, supportconfig; folder or tarball)
        // stands for the logs chosen in it; it says which.
        var specs: [InputSpec] = []
        var bundles: [SupportBundle] = []
        defer { for b in bundles { b.close() } }
        for file in inputs.isEmpty ? ["-"] : inputs {
            switch file == "-" ? nil : SupportBundle.open(file) {
            case nil: specs.append(InputSpec(argument: file))
            case let .success(bundle):
                bundles.append(bundle)
                warn("\(bundle.summary)")
                specs += bundle.members.map(\.spec)
            case let .failure(problem):
                printDiagnostics([problem])
                outputDiagnostics.append(problem)
            }
        }
        if follow, specs.count > 1 {
            throw ValidationError("--follow reads one input; \(inputs.first ?? "-") stands for \(specs.count) logs")
        }
        // Followed: events are printed and counted, not kept (the input may
        // run for weeks); diagnostics are printed when they arise.
        var followedKinds: [String] = []
        var toldDiagnostics: [Diagnostic] = []
        func tell(_ d: Diagnostic) {
            printDiagnostics([d])
            if ndjson { out.write(JSONRendering.line(d)); out.flush() }
            toldDiagnostics.append(d)
        }
        // A streamed scan writes each event as it is found and keeps only
        // what the incident join and the metrics read: memory stays flat
        // however many reports a storm holds.
        let streaming = ndjson && !group
        var tally = MetricsFile.EventTally()
        for (index, input) in specs.enumerated() {
            plugins.inputNames[index] = input.displayName
            var events: [Event] = []
            var candidates = IncidentJoin.Candidates(roles: roles)
            let summary = engine.scan(input, inputIndex: index, diagnosed: tell) { event in
                guard filter.keeps(event) else { return }
                let event = symbolized(event)
                if streaming { out.write(JSONRendering.line(event)); out.flush() }
                if follow {
                    if !ndjson { out.write(text.render(event)); out.flush() }
                    followedKinds.append(event.kind)
                } else if streaming {
                    candidates.add(event)
                    tally.add(event)
                } else {
                    events.append(event)
                }
                if worst.map({ event.severity > $0 }) ?? true { worst = event.severity }
            }
            events.sort { ($0.source.line, $0.source.byteOffset) < ($1.source.line, $1.source.byteOffset) }
            for e in events { candidates.add(e) }
            let joined = candidates.incidents(firstID: incidents.count + 1)
            IncidentJoin.mark(&events, with: joined)
            incidents += joined
            if group { events = EventGrouping.group(events) }
            if ndjson && group { for e in events { out.write(JSONRendering.line(e)) } }
            if ndjson { for i in joined { out.write(JSONRendering.line(i)) } }
            if !json && !ndjson && !markdown {
                for e in events { out.write(text.render(e)) }
                for i in joined { out.write(text.render(i)) }
            }
            allEvents += events
            summaries.append(summary)
            let untold = summary.diagnostics.filter { !toldDiagnostics.contains($0) }
            if ndjson { for d in untold { out.write(JSONRendering.line(d)) } }
            printDiagnostics(untold)
            takePluginProblems()
        }
        // Conclusions that needed several inputs (a guest crash in one file,
        // its qemu configuration in another) come after the last one.
        var runEvents: [Event] = []
        let runDiagnostics = engine.finishRun { event in
            guard filter.keeps(event) else { return }
            if streaming { out.write(JSONRendering.line(event)); out.flush(); tally.add(event) } else { runEvents.append(event) }
            if worst.map({ event.severity > $0 }) ?? true { worst = event.severity }
        }
        if ndjson && group { for e in runEvents { out.write(JSONRendering.line(e)) } }
        if !json && !ndjson && !markdown { for e in runEvents { out.write(text.render(e)) } }
        allEvents += runEvents
        if let d = filter.undatedDiagnostic { outputDiagnostics.append(d) }
        printDiagnostics(runDiagnostics)
        if ndjson { for d in runDiagnostics + outputDiagnostics { out.write(JSONRendering.line(d)) } }
        takePluginProblems()
        let problems = pluginDiagnostics + runDiagnostics + outputDiagnostics
        let report = ScanReport(inputs: summaries, events: allEvents, diagnostics: problems, incidents: incidents)
        var metricsProblem: String?
        if let path = metrics.metricsFile {
            metricsProblem = MetricsFile.write(MetricsFile.Run(command: "scan", events: streaming ? tally : .init(allEvents), inputBytes: summaries.reduce(0) { $0 + $1.bytes },
                                                               inputs: summaries.count, diagnostics: report.allDiagnostics.count), to: path)
            if let metricsProblem { warn("\(metricsProblem)") }
        }
        if json { out.write(JSONRendering.document(report)) }
        if markdown { out.write(MarkdownRenderer.render(report)) }
        if !json && !ndjson && !markdown {
            let kinds = allEvents.map(\.kind) + followedKinds
            out.write(text.summary(summaries, events: kinds.count, kinds: kinds, diagnostics: problems))
        }
        out.flush()

        if symbolizerFailed || metricsProblem != nil || !outputDiagnostics.isEmpty || !pluginDiagnostics.isEmpty || summaries.contains(where: { !$0.diagnostics.isEmpty }) || !runDiagnostics.isEmpty { throw ExitCode(2) }
        if let worst, worst >= failOn { throw ExitCode(1) }
    }
}

extension InputFormat: @retroactive ExpressibleByArgument {}
extension Severity: @retroactive ExpressibleByArgument {}

/// Buffered stdout: one write(2) per 64 KiB instead of per event.
final class StandardOutput {
    private var buffer: [UInt8] = []

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        StandardStream.output.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
