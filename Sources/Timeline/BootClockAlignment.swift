import FoundationEssentials
import LockscanKit

/// What the host's own UTC-stamped logs say about when a guest could run:
/// qemu started (the guest boots after), paused and resumed (QMP `STOP` /
/// `RESUME`, libvirt suspend, a dump), ended, and saw a guest panic.
public struct HostRunFacts: Sendable, Equatable {
    /// qemu started or was first resumed: the guest's boot follows.
    public var starts: [Double] = []
    /// The guest was stopped at `stop` and ran again from `resume`.
    public var pauses: [(stop: Double, resume: Double)] = []
    /// The VM stopped for good (QMP SHUTDOWN, qemu terminating or shutting
    /// down, a STOP never resumed): the guest printed nothing after.
    public var ends: [Double] = []
    /// QMP GUEST_PANICKED: the guest reported a panic it had already printed.
    public var panics: [Double] = []
    /// inject-nmi sent to qemu (libvirtd's debug log): the guest's
    /// "NMI received for unknown reason" comes after.
    public var nmiInjections: [Double] = []
    /// The host lines each fact came from.
    public var evidence: [Double: String] = [:]

    public init() {}

    public static func == (a: HostRunFacts, b: HostRunFacts) -> Bool {
        a.starts == b.starts && a.ends == b.ends && a.panics == b.panics && a.nmiInjections == b.nmiInjections
            && a.pauses.map(\.stop) == b.pauses.map(\.stop) && a.pauses.map(\.resume) == b.pauses.map(\.resume)
    }
}

/// `--anchor guest:123.456=2017-03-15T06:03:08Z`: the user read that the
/// guest's line at boot-relative 123.456 was printed at that UTC instant.
public struct ClockAnchor: Sendable, Equatable {
    public var source: String
    public var monotonic: Double
    public var utc: Double

    public init(source: String, monotonic: Double, utc: Double) {
        self.source = source
        self.monotonic = monotonic
        self.utc = utc
    }
}

/// Maps a guest's boot-relative clock (printk seconds) onto UTC.
///
/// The guest's clock does not run while the host has it paused: kvmclock is
/// saved at `stop` and restored at `cont`, and under TCG qemu's virtual clock
/// stops with the vCPUs (measured on the generated vm-pause capture: 15.047 s
/// paused by QMP, 1.02 s between two guest ticks a second apart, 16.07 s of
/// host time). So UTC = boot-relative + offset₀ + the pauses before, and the
/// mapping is piecewise with a break at each pause.
///
/// offset₀ is an interval, never a guess: an anchor pins it (to the
/// anchor's precision); without one it is bounded by what the host saw —
/// the guest's first line came after qemu started, its last line before the
/// VM ended, its panic before QMP reported it.
public struct BootClockAlignment: Sendable {
    /// Console latency allowed around an anchor: an anchor read off a
    /// console server's column is an arrival time, and arrival times of
    /// neighbouring lines scatter by up to 8 ms around the guest's stamps
    /// on the generated captures.
    public static let anchorSlack = 0.02
    /// How far a pause's effect on the guest clock may differ from the
    /// host's STOP→RESUME time (the events are stamped after the vCPUs stop).
    public static let pauseSlack = 0.01
    /// Allowed rate difference between guest and host clocks (500 ppm,
    /// far above what NTP-less guests measured here: ~80 ppm).
    public static let drift = 500e-6

    public var offsetEarliest: Double
    public var offsetLatest: Double
    /// Pauses in effect for this guest run, in time order.
    public let pauses: [(stop: Double, resume: Double)]
    /// When the run the guest log belongs to started and ended (UTC), if known.
    public let runStart: Double?
    public let runEnd: Double?
    /// The anchor used (its boot-relative time), for drift allowance.
    public let anchorMonotonic: Double?
    /// Where the guest's clock settled on its final clocksource
    /// (`clocksource: Switched to clocksource hpet`). printk times before it
    /// can sit on another basis: on the generated TCG boots, lines before
    /// the switch are up to 0.12 s off the later ones.
    public var settledMonotonic: Double?
    public static let basisSlack = 0.25
    /// The console's last bytes can reach the host a little after qemu
    /// reports the end (measured: 2 ms on the rt-throttling capture).
    public static let endSlack = 0.05
    /// The latest offset the host's own evidence allows (the VM's end, a
    /// reported panic), apart from any anchor.
    public private(set) var hostLatest = Double.infinity
    public var method: String
    public var evidence: [String]

    public var aligned: Bool { offsetEarliest.isFinite && offsetLatest.isFinite }

    /// - Parameters:
    ///   - firstMonotonic/lastMonotonic: the earliest and latest boot-relative
    ///     times the guest log printed.
    ///   - panicMonotonic: when the guest printed `Kernel panic`, if it did.
    public init(firstMonotonic: Double?, lastMonotonic: Double?, panicMonotonic: Double? = nil,
                settledMonotonic: Double? = nil, nmiMonotonics: [Double] = [], anchors: [ClockAnchor],
                sameRecord: (lo: Double, hi: Double, evidence: String)? = nil, facts: HostRunFacts) {
        // The run this log belongs to: the last qemu start (a log normally
        // holds the latest boot), and what happened between it and its end.
        let start = facts.starts.max()
        let end = facts.ends.filter { start == nil || $0 >= start! }.min().map { $0 + Self.endSlack }
        runStart = start
        runEnd = end
        pauses = facts.pauses.filter { p in (start.map { p.stop >= $0 } ?? true) && (end.map { p.resume <= $0 } ?? true) }
            .sorted { $0.stop < $1.stop }
        var lo = -Double.infinity, hi = Double.infinity
        var evidence: [String] = []
        var method = "unaligned"
        if let a = anchors.first {
            // The guest printed the anchor line while running: the pauses
            // that ended before the anchor's UTC are behind it.
            let shift = pauses.filter { $0.resume <= a.utc }.reduce(0) { $0 + $1.resume - $1.stop }
            let slack = Self.anchorSlack + Self.pauseSlack * Double(pauses.filter { $0.resume <= a.utc }.count)
            lo = a.utc - a.monotonic - shift - slack
            hi = a.utc - a.monotonic - shift + slack
            anchorMonotonic = a.monotonic
            method = "anchor"
            evidence.append("--anchor \(a.source):\(a.monotonic)=\(UTCFormat.string(a.utc))"
                            + (shift > 0 ? " (after \(PrintfFormat.fixed(shift, decimals: 3)) s of host pauses)" : ""))
        } else if let same = sameRecord {
            // Another log of this kernel printed both clocks on its lines.
            lo = same.lo - Self.anchorSlack
            hi = same.hi + Self.anchorSlack
            anchorMonotonic = nil
            method = "same record"
            evidence.append(same.evidence)
        } else {
            anchorMonotonic = nil
        }
        var boundedByHost = false
        self.settledMonotonic = settledMonotonic
        let firstSlack = settledMonotonic.map { s in (firstMonotonic ?? 0) < s ? Self.basisSlack : 0 } ?? 0
        if let start, let first = firstMonotonic, start - first - firstSlack > lo {
            // Every line was printed after qemu started.
            lo = start - first - firstSlack
            boundedByHost = true
            evidence.append("first guest line (\(first) s) came after qemu started at \(UTCFormat.string(start))")
        }
        // Host-injected NMIs, paired in order with the guest's reports of
        // them: each report came after its injection. Pauses may lie in
        // between, so the bound assumes all of them did (still a bound).
        let injections = facts.nmiInjections.filter { t in (start.map { t >= $0 } ?? true) && (end.map { t <= $0 } ?? true) }.sorted()
        if !injections.isEmpty || !nmiMonotonics.isEmpty {
            if injections.count == nmiMonotonics.count {
                let allPauses = pauses.reduce(0) { $0 + $1.resume - $1.stop + Self.pauseSlack }
                for (t, m) in zip(injections, nmiMonotonics.sorted()) where t - m - allPauses > lo {
                    lo = t - m - allPauses
                    boundedByHost = true
                    evidence.append("the guest's NMI report at \(m) s came after the host injected an NMI at \(UTCFormat.string(t))")
                }
            } else {
                evidence.append("\(injections.count) host NMI injection(s) and \(nmiMonotonics.count) guest NMI report(s): not paired")
            }
        }
        self.offsetEarliest = lo
        self.offsetLatest = hi
        self.method = method
        self.evidence = evidence
        // Upper bounds: the last line before the end, the panic before its
        // report. Which pauses precede them depends on the offset; iterate.
        for _ in 0..<4 {
            var changed = false
            if let end, let last = lastMonotonic {
                let bound = end - last - minimumShift(before: last)
                hostLatest = min(hostLatest, bound)
                if bound < offsetLatest {
                    offsetLatest = bound
                    changed = true
                }
            }
            if let panic = panicMonotonic, let reported = facts.panics.filter({ start == nil || $0 >= start! }).min() {
                let bound = reported - panic - minimumShift(before: panic)
                hostLatest = min(hostLatest, bound)
                if bound < offsetLatest {
                    offsetLatest = bound
                    changed = true
                }
            }
            if !changed { break }
            boundedByHost = true
        }
        if let end, let last = lastMonotonic, end - last - minimumShift(before: last) <= offsetLatest {
            self.evidence.append("last guest line (\(last) s) came before the VM ended at \(UTCFormat.string(end))")
        }
        if panicMonotonic != nil, let reported = facts.panics.min() {
            self.evidence.append("guest panic reported by QMP GUEST_PANICKED at \(UTCFormat.string(reported))")
        }
        if !pauses.isEmpty {
            self.evidence.append(pauses.map { "paused \(UTCFormat.string($0.stop)) → \(UTCFormat.string($0.resume)) (QMP STOP/RESUME): the guest clock stood still" }
                .joined(separator: "; "))
        }
        if self.method == "unaligned", boundedByHost, aligned { self.method = "paired events" }
        if offsetEarliest > offsetLatest {
            self.evidence.append("the evidence contradicts itself (earliest offset after latest): is this guest log from this qemu run?")
        }
    }

    /// The pauses certainly behind a guest time `m` (the guest's clock at
    /// the pause's STOP is at most `m` for every allowed offset).
    func minimumShift(before m: Double) -> Double {
        var shift = 0.0
        for p in pauses {
            // Guest time at this STOP: stop - offset₀ - shift so far; it is
            // certainly ≤ m when even the smallest offset puts it there.
            guard offsetEarliest.isFinite, p.stop - offsetEarliest - shift <= m else { break }
            shift += p.resume - p.stop - Self.pauseSlack
        }
        return max(shift, 0)
    }

    /// Where a guest line printed at boot-relative `m` falls in UTC: every
    /// pause segment it could belong to, limited to when the guest was running.
    public func place(_ m: Double) -> EventTime? {
        guard aligned, offsetEarliest <= offsetLatest else { return nil }
        var driftAllowance = anchorMonotonic.map { Self.drift * abs(m - $0) } ?? 0
        // Before the clocksource settles, stamps sit on another basis and
        // the console is not up yet (early lines reach it late): widen, and
        // likewise when the anchor was taken before it.
        if let s = settledMonotonic, m < s || (anchorMonotonic.map { $0 < s } ?? false) { driftAllowance += Self.basisSlack }
        var shift = 0.0
        var slack = 0.0
        var earliest = Double.infinity, latest = -Double.infinity
        var best: Double?
        for j in 0...pauses.count {
            let running = (j == 0 ? (runStart ?? -.infinity) : pauses[j - 1].resume,
                           j < pauses.count ? pauses[j].stop : (runEnd ?? .infinity))
            let lo = m + offsetEarliest + shift - slack - driftAllowance
            let hi = m + offsetLatest + shift + slack + driftAllowance
            let clippedLo = max(lo, running.0), clippedHi = min(hi, running.1)
            if clippedLo <= clippedHi {
                earliest = min(earliest, clippedLo)
                latest = max(latest, clippedHi)
                if best == nil { best = (clippedLo + clippedHi) / 2 }
            }
            if j < pauses.count {
                shift += pauses[j].resume - pauses[j].stop
                slack += Self.pauseSlack
            }
        }
        guard let utc = best, earliest.isFinite, latest.isFinite else { return nil }
        return EventTime(utc: utc, earliest: earliest, latest: latest, monotonic: m)
    }

    /// The model as clock segments, one per stretch between pauses.
    public func segments() -> [ClockSegment] {
        guard aligned else {
            return [ClockSegment(offset: .nan, offsetEarliest: -.infinity, offsetLatest: .infinity, method: "unaligned",
                                 evidence: evidence + ["nothing places this clock: give --anchor SOURCE:SECONDS=UTC, or the qemu/QMP logs of the run"])]
        }
        var out: [ClockSegment] = []
        var shift = 0.0, slack = 0.0
        var from: Double?
        for j in 0...pauses.count {
            let to: Double? = j < pauses.count ? pauses[j].stop - (offsetEarliest + offsetLatest) / 2 - shift : nil
            out.append(ClockSegment(from: from, to: to, offset: (offsetEarliest + offsetLatest) / 2 + shift,
                                    offsetEarliest: offsetEarliest + shift - slack, offsetLatest: offsetLatest + shift + slack,
                                    method: j == 0 ? method : "pause", evidence: j == 0 ? evidence
                                        : ["after the pause \(UTCFormat.string(pauses[j - 1].stop)) → \(UTCFormat.string(pauses[j - 1].resume)): offset grows by the paused \(PrintfFormat.fixed(pauses[j - 1].resume - pauses[j - 1].stop, decimals: 6)) s"]))
            from = to
            if j < pauses.count {
                shift += pauses[j].resume - pauses[j].stop
                slack += Self.pauseSlack
            }
        }
        return out
    }
}
