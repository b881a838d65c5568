import FoundationEssentials
import LockscanKit

/// A clocksource (usually the TSC) declared unstable, and the watchdog checks
/// that were skipped.
///
/// The clocksource watchdog (kernel/time/clocksource.c) compares the current
/// clocksource against a second one every half second; when they disagree by
/// more than the allowed skew it marks the current one unstable and the
/// kernel switches to a slower one (hpet, acpi_pm). The TSC code
/// (arch/x86/kernel/tsc.c) also marks the TSC unstable on its own checks.
/// In a guest the usual cause is the host: vCPUs descheduled or the VM paused
/// long enough that the two clocks disagree, not broken hardware.
public final class ClocksourceAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "clocksource",
        title: "Clocksource marked unstable",
        explanation: explanation,
        eventKinds: ["clocksource_unstable", "clocksource_watchdog_skipped"],
        triggers: ["unstable", "Unstable", "TSC warp", "skipping watchdog check", "read-back delay",
                   "Hypervisor detected", "kvm-clock", "TSC synchronization [CPU#"],
        examples: examples,
        make: { ClocksourceAnalyzer() })

    static let explanation = """
        The kernel stopped trusting a clocksource: the clocksource watchdog saw it drift \
        from a reference clock (hpet, acpi_pm, kvm-clock) by more than the allowed skew, \
        or the TSC failed a synchronization check. Timekeeping falls back to a slower \
        clocksource; timestamps around the event can jump. On bare metal suspect firmware \
        (SMIs) or broken TSC; in a KVM/Xen guest suspect the host: the guest's vCPUs were \
        not running (host overload, VM paused, a host driver reload) while the watchdog \
        interval elapsed.
        """

    static let skippedExplanation = """
        The clocksource watchdog could not take a trustworthy measurement (reading the \
        watchdog clock took too long, or the interval between checks was too long) and \
        skipped its check instead of judging the clocksource. Nothing was marked unstable, \
        but repeated skips mean the CPU was delayed, often by SMIs or by a busy host \
        descheduling this guest's vCPUs.
        """

    private var pending: Event?
    private var pendingLines = 0
    /// `TSC synchronization [CPU#0 -> CPU#1]:` announces the pair a warp
    /// report that follows is about: the source CPU and the one coming up.
    private var syncPair: (source: Int, target: Int, record: Record)?
    private var isGuest = false
    private var emitted: [Event] = []

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        if text.includes("Hypervisor detected") || text.includes("kvm-clock") { isGuest = true }
        if let pair = Self.syncPair(text) {
            syncPair = (pair.source, pair.target, record)
            return .collecting
        }
        var report = Report.parse(text)
        // The verdict after a warp ("Marking TSC unstable due to
        // check_tsc_sync_source failed") is the same report, not a new one.
        if let p = pending, p.details["warpCycles"] != nil, report?.details["reason"]?.hasPrefix("check_tsc_sync_source") == true {
            report?.startsNewReport = false
        }
        if let report, report.startsNewReport || pending == nil {
            flush(emit)
            var e = Event(analyzer: Self.descriptor.id, kind: report.kind, title: report.title, severity: report.severity,
                          source: SourceLocation(record), time: record.clock, evidence: [text],
                          explanation: report.kind == "clocksource_unstable" ? Self.explanation : Self.skippedExplanation,
                          details: report.details)
            e.cpu = report.cpu
            if report.details["warpCycles"] != nil, let pair = syncPair, record.line - pair.record.line <= 3 {
                // The CPU whose TSC did not match is the one being brought up.
                // The announcement is the report's first line.
                e.cpu = pair.target
                e.details["cpus"] = "\(pair.source) -> \(pair.target)"
                e.title = "clocksource tsc unstable (TSC warp between CPU \(pair.source) and CPU \(pair.target))"
                e.evidence.insert(pair.record.text, at: 0)
                e.source = SourceLocation(pair.record)
                e.source.endLine = record.lastLine
                e.time = pair.record.clock
            }
            pending = e
            pendingLines = 0
            return .collecting
        }
        guard let p = pending else { return .idle }
        if p.kind == "clocksource_unstable", report != nil || continues(text) {
            absorb(record)
            return .collecting
        }
        if p.kind == "clocksource_watchdog_skipped", let report {
            if report.kind == "clocksource_watchdog_skipped" {
                absorb(record)
                return .collecting
            }
            if p.details["reason"] == "watchdog read-back delay", !p.evidence.contains(where: { $0.contains("skipped") }) {
                // A read-back-delay line cut short (or an older wording) followed by the
                // TSC's own "Marking TSC unstable due to clocksource watchdog": it was
                // instability after all.
                var upgraded = p
                upgraded.kind = "clocksource_unstable"
                upgraded.severity = .warning
                upgraded.title = "clocksource tsc unstable (watchdog read-back delay)"
                upgraded.explanation = Self.explanation
                upgraded.details["clocksource"] = upgraded.details["clocksource"] ?? "tsc"
                pending = upgraded
                absorb(record)
                return .collecting
            }
            flush(emit)
            return consume(record, emit: emit)
        }
        pendingLines += 1
        if pendingLines > 3 {
            flush(emit)
            return .idle
        }
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        flush(emit)
    }

    /// `TSC synchronization [CPU#0 -> CPU#1]:`
    static func syncPair(_ text: String) -> (source: Int, target: Int)? {
        guard let r = text.firstOccurrence(of: "TSC synchronization [CPU#") else { return nil }
        let rest = text[r.upperBound...]
        guard let arrow = rest.firstOccurrence(of: " -> CPU#") else { return nil }
        guard let a = Int(rest[..<arrow.lowerBound]), let b = Int(rest[arrow.upperBound...].prefix { $0.isNumber }) else { return nil }
        return (a, b)
    }

    /// Follow-up lines of one report: the indented `clocksource:` detail
    /// lines, the TSC's own verdict, the switch to another clocksource.
    private func continues(_ text: String) -> Bool {
        let t = text.drop(while: { $0 == " " })
        if t.hasPrefix("clocksource:"), text.includes("wd_") || text.includes("cs_") || text.includes(" skewed ")
            || text.includes("is current clocksource") || text.includes("Switched to clocksource")
            || text.includes("No current clocksource") || text.includes("Clocksource '") { return true }
        if t.hasPrefix("'") && (text.includes("wd_") || text.includes("cs_")) { return true } // older: no "clocksource:" prefix
        if t.hasPrefix("Switched to clocksource") { return true }
        if t.hasPrefix("tsc: Marking TSC unstable due to clocksource watchdog") { return true }
        if t.hasPrefix("Marking TSC unstable due to clocksource watchdog") { return true }
        if t.hasPrefix("TSC found unstable after boot") { return true }
        if t.hasPrefix("sched_clock: Marking unstable") { return true }
        return false
    }

    private func absorb(_ record: Record) {
        guard var e = pending else { return }
        let text = record.text
        e.evidence.append(text)
        e.source.endLine = record.lastLine
        Report.parseDetail(text, into: &e.details)
        pending = e
        pendingLines = 0
    }

    private func flush(_ emit: (Event) -> Void) {
        guard var e = pending else { return }
        pending = nil
        if e.kind == "clocksource_unstable" {
            if let wd = e.details["watchdog"], let cs = e.details["clocksource"] {
                e.title = "clocksource \(cs) unstable against \(wd)"
            }
            e.hints = hints(for: e)
        }
        emit(e)
    }

    private func hints(for e: Event) -> [Hint] {
        var h: [Hint] = []
        if isGuest || e.details["watchdog"] == "kvm-clock" || e.details["clocksource"] == "kvm-clock" {
            h.append(Hint("This is a virtual machine: check the host around this time for vCPU starvation (host load, steal time), a VM pause/resume or migration, or a host driver reset (e.g. an SR-IOV VF reload); the guest cannot tell those from a broken TSC.",
                          reference: "Documentation/virt/kvm/x86/timekeeping.rst"))
        }
        h.append(Hint("Check which clocksource is in use now (/sys/devices/system/clocksource/clocksource0/current_clocksource) and whether the slower fallback hurts; tsc=reliable / clocksource= on the kernel command line override the watchdog only when the TSC is known good.",
                      reference: "Documentation/admin-guide/kernel-parameters.txt"))
        return h
    }

    /// The wordings that start a report.
    struct Report {
        var kind = "clocksource_unstable"
        var title: String
        var severity: Severity = .warning
        var cpu: Int?
        var details: [String: String] = [:]
        var startsNewReport = true

        static let quick = TriggerSearch(["nstable", "read-back", "TSC warp", "skipping watchdog"].map { Array($0.utf8) })

        static func parse(_ text: String) -> Report? {
            guard quick.matches(text) else { return nil }
            // RHEL 6 era: "Clocksource tsc unstable (delta = 6824818792 ns).  Enable clocksource failover …"
            if let r = text.firstOccurrence(of: "Clocksource "), text.includes(" unstable (delta = ") {
                let name = text[r.upperBound...].prefix(while: { $0 != " " })
                var rep = Report(title: "clocksource \(name) unstable")
                rep.details["clocksource"] = String(name)
                if let d = text.integer(after: "delta = ") ?? negative(text, after: "delta = ") { rep.details["deltaNs"] = String(d) }
                return rep
            }
            // "clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:"
            if text.includes("Marking clocksource '"), text.includes("as unstable") {
                let name = quoted(text, after: "Marking clocksource '")
                var rep = Report(title: "clocksource \(name ?? "?") unstable")
                rep.details["clocksource"] = name
                rep.cpu = text.integer(after: "watchdog on CPU")
                return rep
            }
            // kernel/time/clocksource.c cs_watchdog_read(): a slow watchdog read
            // either gives up on the clocksource ("… marking tsc unstable";
            // before 5.15 "wd-tsc-wd read-back delay 1000614ns, attempt 3,
            // marking unstable") or skips the check, in two lines:
            // "…: hpet wd-wd read-back delay of 50370ns" then
            // "wd-tsc-wd read-back delay of 161744ns, clock-skew test skipped!".
            if text.includes("read-back delay") {
                if text.includes("marking"), text.includes("unstable") {
                    var rep = Report(title: "clocksource unstable (watchdog read-back delay)")
                    rep.cpu = text.integer(after: "watchdog on CPU")
                    if let after = text.components(separatedBy: "marking ").last?.split(separator: " ").first,
                       after != "unstable" {
                        rep.details["clocksource"] = String(after)
                        rep.title = "clocksource \(after) unstable (watchdog read-back delay)"
                    }
                    if let d = text.integer(after: "read-back delay of ") ?? text.integer(after: "read-back delay ") {
                        rep.details["readBackDelayNs"] = String(d)
                    }
                    return rep
                }
                var rep = Report(kind: "clocksource_watchdog_skipped", title: "clocksource watchdog check skipped", severity: .info)
                rep.cpu = text.integer(after: "watchdog on CPU")
                rep.details["reason"] = "watchdog read-back delay"
                // The second line of the pair continues the first.
                rep.startsNewReport = !text.includes("clock-skew test skipped")
                return rep
            }
            if text.includes("Long readout interval, skipping watchdog check") {
                var rep = Report(kind: "clocksource_watchdog_skipped", title: "clocksource watchdog check skipped", severity: .info)
                rep.details["reason"] = "long readout interval"
                return rep
            }
            // "tsc: Marking TSC unstable due to clocksource watchdog" / "…due to TSCs unsynchronized"
            if let r = text.firstOccurrence(of: "Marking TSC unstable due to ") {
                let reason = String(text[r.upperBound...]).trimmingBlanks()
                var rep = Report(title: "clocksource tsc unstable")
                rep.details["clocksource"] = "tsc"
                rep.details["reason"] = reason
                if reason.hasPrefix("TSCs unsynchronized") || reason.hasPrefix("check_tsc_sync_source") {
                    // Found while bringing CPUs up: the TSC is never trusted, nothing drifted at run time.
                    rep.severity = .info
                }
                rep.startsNewReport = !reason.hasPrefix("clocksource watchdog")
                return rep
            }
            if text.includes("TSC found unstable after boot") {
                var rep = Report(title: "clocksource tsc unstable")
                rep.details["clocksource"] = "tsc"
                rep.details["reason"] = "TSC found unstable after boot"
                rep.startsNewReport = false
                return rep
            }
            // "Measured 1234 cycles TSC warp between CPUs, turning off TSC clock."
            if text.includes("TSC warp") {
                var rep = Report(title: "clocksource tsc unstable (TSC warp)")
                rep.details["clocksource"] = "tsc"
                if let c = text.integer(after: "Measured ") { rep.details["warpCycles"] = String(c) }
                return rep
            }
            return nil
        }

        /// Numbers from the detail lines of a watchdog report.
        static func parseDetail(_ text: String, into d: inout [String: String]) {
            // "clocksource:                       'hpet' wd_now: 5b8a3ef wd_last: 5a4b4d8 mask: ffffffff"
            // newer: "'hpet' wd_nsec: 511990584 wd_now: …" / "'tsc' cs_nsec: 507994213 cs_now: …"
            if text.includes(" wd_"), let name = quoted(text, after: "'") {
                d["watchdog"] = name
                if let ns = text.integer(after: "wd_nsec: ") { d["watchdogIntervalNs"] = String(ns) }
            }
            if text.includes(" cs_"), let name = quoted(text, after: "'") {
                d["clocksource"] = name
                if let ns = text.integer(after: "cs_nsec: ") { d["clocksourceIntervalNs"] = String(ns) }
            }
            // "Clocksource 'tsc' skewed 3996371 ns (3 ms) over watchdog 'hpet' interval of 511990584 ns (511 ms)"
            if let skew = text.integer(after: " skewed ") ?? negative(text, after: " skewed ") { d["skewNs"] = String(skew) }
            if text.includes("over watchdog '"), let wd = quoted(text, after: "over watchdog '") { d["watchdog"] = wd }
            if let r = text.firstOccurrence(of: "Switched to clocksource ") {
                d["switchedTo"] = String(text[r.upperBound...].prefix(while: { $0 != " " }))
            }
            if let wd = d["watchdogIntervalNs"].flatMap(Int.init), let cs = d["clocksourceIntervalNs"].flatMap(Int.init),
               d["skewNs"] == nil {
                d["skewNs"] = String(abs(wd - cs))
            }
        }

        static func quoted(_ text: String, after marker: String) -> String? {
            guard let r = text.firstOccurrence(of: marker) else { return nil }
            let name = text[r.upperBound...].prefix(while: { $0 != "'" })
            return name.isEmpty ? nil : String(name)
        }

        static func negative(_ text: String, after marker: String) -> Int? {
            guard let r = text.firstOccurrence(of: marker + "-") else { return nil }
            return Int(text[r.upperBound...].prefix(while: { $0.isNumber })).map { -$0 }
        }
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("TSC warp found while bringing a CPU up: both CPUs named, one report", """
            TSC synchronization [CPU#0 -> CPU#1]:
            Measured 6520 cycles TSC warp between CPUs, turning off TSC clock.
            tsc: Marking TSC unstable due to check_tsc_sync_source failed
            """, expect: [.init(kind: "clocksource_unstable", title: "clocksource tsc unstable (TSC warp between CPU 0 and CPU 1)",
                                cpu: 1, line: 1)]),
        AnalyzerExample("RHEL 6 guest wording", """
            Clocksource tsc unstable (delta = 6824818792 ns).  Enable clocksource failover by adding clocksource_failover kernel parameter.
            """, expect: [.init(kind: "clocksource_unstable", title: "clocksource tsc unstable", severity: .warning, line: 1)]),
        AnalyzerExample("watchdog report with wd/cs lines and the switch", """
            clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:
            clocksource:                       'hpet' wd_now: 5b8a3ef wd_last: 5a4b4d8 mask: ffffffff
            clocksource:                       'tsc' cs_now: 2f0bdb8b4d cs_last: 2ec3cd5e0d mask: ffffffffffffffff
            tsc: Marking TSC unstable due to clocksource watchdog
            TSC found unstable after boot, most likely due to broken BIOS. Use 'tsc=unstable'.
            sched_clock: Marking unstable (2423264824259, -4354)<-(2423264870193, -49933)
            clocksource: Switched to clocksource hpet
            """, expect: [.init(kind: "clocksource_unstable", title: "clocksource tsc unstable against hpet", cpu: 1, line: 1)]),
        AnalyzerExample("newer report with nsec and skew summary", """
            clocksource: timekeeping watchdog on CPU3: Marking clocksource 'tsc' as unstable because the skew is too large:
            clocksource:                       'kvm-clock' wd_nsec: 511990584 wd_now: 2f0bdb8 wd_last: 2a8b7b3 mask: ffffffffffffffff
            clocksource:                       'tsc' cs_nsec: 507994213 cs_now: 2f0bdb8b4d cs_last: 2ec3cd5e0d mask: ffffffffffffffff
            clocksource:                       Clocksource 'tsc' skewed 3996371 ns (3 ms) over watchdog 'kvm-clock' interval of 511990584 ns (511 ms)
            clocksource:                       'kvm-clock' (not 'tsc') is current clocksource.
            tsc: Marking TSC unstable due to clocksource watchdog
            """, expect: [.init(kind: "clocksource_unstable", title: "clocksource tsc unstable against kvm-clock", cpu: 3, line: 1)]),
        AnalyzerExample("TSCs unsynchronized at boot is low severity", """
            tsc: Marking TSC unstable due to TSCs unsynchronized
            """, expect: [.init(kind: "clocksource_unstable", severity: .info, line: 1)]),
        AnalyzerExample("skipped checks are their own kind", """
            clocksource: timekeeping watchdog on CPU2: hpet wd-wd read-back delay of 50370ns
            clocksource: wd-tsc-wd read-back delay of 161744ns, clock-skew test skipped!
            clocksource: Long readout interval, skipping watchdog check: cs_nsec: 1000000000 wd_nsec: 1000000000
            """, expect: [.init(kind: "clocksource_watchdog_skipped", cpu: 2, severity: .info, line: 1),
                          .init(kind: "clocksource_watchdog_skipped", severity: .info, line: 3)]),
        AnalyzerExample("5.13-era read-back wording without the clocksource name", """
            clocksource: timekeeping watchdog on CPU13: wd-tsc-wd read-back delay 1000614ns, attempt 3, marking unstable
            tsc: Marking TSC unstable due to clocksource watchdog
            """, expect: [.init(kind: "clocksource_unstable", cpu: 13, severity: .warning, line: 1)]),
        AnalyzerExample("a slow watchdog read that gives up on the TSC is instability", """
            clocksource: timekeeping watchdog on CPU227: wd-tsc-wd excessive read-back delay of 153560ns vs. limit of 125000ns, wd-wd read-back delay only 11440ns, attempt 3, marking tsc unstable
            tsc: Marking TSC unstable due to clocksource watchdog
            TSC found unstable after boot, most likely due to broken BIOS. Use 'tsc=unstable'.
            """, expect: [.init(kind: "clocksource_unstable", title: "clocksource tsc unstable (watchdog read-back delay)", cpu: 227,
                                severity: .warning, line: 1)]),
        AnalyzerExample("boot-time registration and switching are not instability", """
            clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x3985c314e25, max_idle_ns: 881590612270 ns
            clocksource: Switched to clocksource kvm-clock
            clocksource: Switched to clocksource tsc
            tsc: Refined TSC clocksource calibration: 2095.078 MHz
            """, expect: []),
    ]
}
