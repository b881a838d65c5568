import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import Timeline

struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Put guest and host logs on one UTC timeline, each time with its uncertainty.",
        discussion: """
            Every source option is repeatable. Boot-relative guest clocks are placed from \
            --anchor, or bounded by the qemu/QMP logs of the same run (the guest printed after \
            qemu started and before the VM ended; its clock stands still while QMP says it \
            was paused). One source may be '-', standard input. Exit status, as scan's: 2 \
            when an input could not be read or used, a source could not be placed on UTC \
            (its events are listed without a time), or the --html page could not be \
            written (everything else is still used and printed); else 1 when an event is \
            at or above --fail-on; else 0.
            """)

    @Option(help: ArgumentHelp("A guest kernel log (dmesg, console, journal, WinDbg text).", valueName: "FILE")) var guest: [String] = []
    @Option(help: ArgumentHelp("A host's support bundle (sosreport or supportconfig, folder or tarball): its kernel, libvirt and qemu logs, each in its role.", valueName: "PATH"))
    var bundle: [String] = []
    @Option(help: ArgumentHelp("The host kernel log.", valueName: "FILE")) var host: [String] = []
    @Option(help: ArgumentHelp("libvirtd.log.", valueName: "FILE")) var libvirt: [String] = []
    @Option(help: ArgumentHelp("A qemu domain log (/var/log/libvirt/qemu/NAME.log).", valueName: "FILE")) var qemu: [String] = []
    @Option(help: ArgumentHelp("QMP events, one JSON object per line, or virsh qemu-monitor-event output.", valueName: "FILE")) var qmp: [String] = []
    @Option(help: ArgumentHelp("SOURCE:SECONDS=UTC: the line printed at boot-relative SECONDS in SOURCE (guest, guest-2, host, or the file) was printed at that UTC time.", valueName: "ANCHOR"))
    var anchor: [String] = []
    @Option(help: ArgumentHelp("FILE=ZONE for a file whose wall clock has no zone (+08:00, Asia/Shanghai, UTC).", valueName: "FILE=ZONE"))
    var tz: [String] = []
    @Option(help: ArgumentHelp("FILE=YYYY: the year of the first syslog stamp (`Oct 11 05:39:13 host …`) in FILE, which syslog does not print; later stamps advance at each December → January. Without it the year is taken from a line of FILE that printed a full date.", valueName: "FILE=YYYY"))
    var year: [String] = []
    @Option(help: ArgumentHelp("Events of different sources this close (seconds) are shown as related.", valueName: "SECONDS"))
    var window: Double = 10
    @Flag(help: "Print the lockscan.timeline/1 JSON document.") var json = false
    @Option(help: ArgumentHelp("Also write a self-contained HTML page.", valueName: "FILE")) var html: String?
    @Option(name: .customLong("display-tz"),
            help: ArgumentHelp("The zone the HTML page shows every time in, beside UTC (+08:00, Asia/Shanghai, UTC for UTC only). Default: the zone of --tz when every --tz names the same one, else UTC only.", valueName: "ZONE"))
    var displayTZ: String?

    @Option(name: .customLong("fail-on"), help: ArgumentHelp("Exit 1 when an event is at least this severe.", valueName: "SEVERITY"))
    var failOn: Severity = .warning

    @OptionGroup var pluginOptions: PluginOptions
    @OptionGroup var inputLimits: InputLimitOptions
    @OptionGroup var jobsOption: JobsOption
    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        if (guest + host + libvirt + qemu + qmp + bundle).isEmpty { throw ValidationError("no input: give at least one of --guest, --host, --libvirt, --qemu, --qmp, --bundle") }
        let all = guest + host + libvirt + qemu + qmp + bundle
        if all.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("'-' (standard input) can be only one of the sources: it can be read once")
        }
        if let html {
            if let same = OutputFile.inputNamed(by: html, among: all) {
                throw ValidationError("--html \(html) is the input \(same): lockscan never writes over what it reads")
            }
        }
        if let m = metrics.metricsFile, let same = OutputFile.inputNamed(by: m, among: all) {
            throw ValidationError("--metrics-file \(m) is the input \(same): lockscan never writes over what it reads")
        }
        if !(window >= 0) { throw ValidationError("--window must be a number of seconds, 0 or more") }
        for a in anchor where Self.parseAnchor(a) == nil {
            throw ValidationError("--anchor '\(a)': expected SOURCE:SECONDS=UTC with SECONDS a boot-relative time (0 or more, below 1e10) and UTC a date in years 1-9999, e.g. guest:123.456=2017-03-15T06:03:08Z")
        }
        for y in year where Self.parseYear(y) == nil {
            throw ValidationError("--year '\(y)': expected FILE=YYYY with a year from 1 to 9999, e.g. /var/log/kern.log=2017")
        }
        for z in tz {
            guard let eq = z.lastIndex(of: "="), WallClock.zone(String(z[z.index(after: eq)...])) != nil else {
                throw ValidationError("--tz '\(z)': expected FILE=ZONE with a zone like +08:00, UTC or Asia/Shanghai" + WallClock.namedZonesProblem)
            }
        }
        if let displayTZ, DisplayZone(displayTZ) == nil {
            throw ValidationError("--display-tz '\(displayTZ)': expected a zone like +08:00, UTC or Asia/Shanghai" + WallClock.namedZonesProblem)
        }
    }

    /// The page's second zone: the one asked for; else the one every --tz
    /// names (the zone the hosts' logs were written in, which is how their
    /// readers think of the incident); else none. Several different --tz
    /// zones pick none: choosing one of them would be a guess.
    func displayZone() -> DisplayZone? {
        if let displayTZ { return DisplayZone(displayTZ) }
        let zones = Set(tz.compactMap { spec in spec.lastIndex(of: "=").map { String(spec[spec.index(after: $0)...]) } })
        guard zones.count == 1, let only = zones.first else { return nil }
        return DisplayZone(only)
    }

    /// `FILE=2017` → (FILE, 2017); the year as four digits at most, 1-9999.
    static func parseYear(_ s: String) -> (file: String, year: Int)? {
        guard let eq = s.lastIndex(of: "=") else { return nil }
        let digits = s[s.index(after: eq)...]
        guard (1...4).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let y = Int(digits), y >= 1 else { return nil }
        return (String(s[..<eq]), y)
    }

    static func parseAnchor(_ s: String) -> ClockAnchor? {
        guard let eq = s.firstIndex(of: "="), let colon = s[..<eq].lastIndex(of: ":"),
              let mono = Double(s[s.index(after: colon)..<eq]),
              // Seconds since boot: a number, not negative, and not more
              // than a few centuries (inf, nan or 1e15 would place nothing
              // sensibly, or trap in later arithmetic).
              mono.isFinite, mono >= 0, mono < 1e10,
              let utc = WallClock.parse(String(s[s.index(after: eq)...]))?.utc else { return nil }
        return ClockAnchor(source: String(s[..<colon]), monotonic: mono, utc: utc)
    }

    func run() throws {
        var zones: [String: TimeZone] = [:]
        for z in tz {
            let eq = z.lastIndex(of: "=")!
            zones[String(z[..<eq])] = WallClock.zone(String(z[z.index(after: eq)...]))
        }
        let roles: [(SourceRole, [String])] = [(.guest, guest), (.host, host), (.libvirt, libvirt), (.qemu, qemu), (.qmp, qmp)]
        var years: [String: Int] = [:]
        for y in year.compactMap(Self.parseYear) { years[y.file] = y.year }
        var inputs = roles.flatMap { role, files in files.map { TimelineInput(role: role, path: $0, zone: zones[$0], year: years[$0]) } }
        // A support bundle's logs join by what they are: the host's kernel
        // (and a crashed kernel's dmesg) as host sources, libvirt and qemu as theirs.
        var bundles: [SupportBundle] = []
        defer { for b in bundles { b.close() } }
        var bundleProblems: [Diagnostic] = []
        for path in bundle {
            switch SupportBundle.open(path) {
            case nil: bundleProblems.append(Diagnostic(file: path, message: "not a support bundle (no sos_commands/ or basic-environment.txt in it)"))
            case let .failure(problem): bundleProblems.append(problem)
            case let .success(b):
                bundles.append(b)
                warn("\(b.summary)")
                for m in b.members {
                    let role: SourceRole
                    switch m.role {
                    case .hostKernel, .crashedKernel: role = .host
                    case .libvirt: role = .libvirt
                    case .qemu: role = .qemu
                    case .domainXML:
                        // Configuration, with no time to place: `scan` reads it.
                        warn("\(m.spec.displayName): a domain's XML has no times; not on the timeline (scan reads it)")
                        continue
                    }
                    let name = m.spec.displayName
                    inputs.append(TimelineInput(role: role, path: name, zone: zones[name], year: years[name],
                                                readFrom: m.spec.filePath == name ? nil : m.spec.filePath))
                }
            }
        }
        let (descriptors, plugins) = pluginOptions.analyzers()
        defer { plugins.close() }
        for (i, input) in inputs.enumerated() { plugins.inputNames[i] = InputSpec(argument: input.path).displayName }
        let builder = TimelineBuilder(inputs: inputs, anchors: anchor.compactMap(Self.parseAnchor), window: window)
        var options = ScanOptions(limits: try inputLimits.limits())
        jobsOption.apply(to: &options)
        let (built, diagnostics) = builder.build(analyzers: descriptors, options: options)
        var doc = built
        // Plugins that could not be used, or failed on a line, are said in
        // every view like the inputs' problems.
        let pluginProblems = plugins.loadProblems + plugins.takeRunProblems()
        doc.diagnostics += (bundleProblems + pluginProblems).map(\.description)
        // doc.diagnostics holds the input diagnostics first, then the notes.
        for d in doc.diagnostics { warn("\(d)") }
        if json {
            StandardStream.output.write(try TimelineJSON.data(doc))
            StandardStream.output.write("\n")
        } else {
            StandardStream.output.write(TimelineText.render(doc, style: TerminalStyle.standardOutput()))
        }
        var unwritten = false
        if let html, let problem = OutputFile.write(Array(TimelineHTML.render(doc, zone: displayZone()).utf8), to: html) {
            warn("\(problem)")
            unwritten = true
        }
        if let path = metrics.metricsFile {
            let run = MetricsFile.Run(command: "timeline", events: .init(doc.events.map(\.event)), inputBytes: nil, inputs: doc.sources.count,
                                      diagnostics: doc.diagnostics.count, unplacedSources: doc.sources.filter { !$0.placed }.count)
            if let problem = MetricsFile.write(run, to: path) {
                warn("\(problem)")
                unwritten = true
            }
        }
        // A source that could not be placed is an input that could not be
        // fully used: grep's 2, like an unreadable one (the diagnostic says which).
        if !diagnostics.isEmpty || !pluginProblems.isEmpty || !bundleProblems.isEmpty || unwritten || doc.sources.contains(where: { !$0.placed }) {
            throw ExitCode(2)
        }
        if doc.events.contains(where: { $0.event.severity >= failOn }) { throw ExitCode(1) }
    }
}
