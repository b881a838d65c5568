import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit

/// `--since`, `--until`, `--kind`, `--min-severity`: which events a run
/// shows, for a fleet that wants only today's hard lockups. Filtering
/// happens after the analyzers, which still read every line (a report that
/// began before `--since` is still understood), and decides the exit status
/// too: an event left out is not a finding.
struct EventFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only events at or after WHEN: boot seconds (`4474426.2`, against the log's [seconds]) or an ISO 8601 time with its zone (`2024-05-01T10:00:00Z`, against the wall clock).", valueName: "WHEN"))
    var since: String?

    @Option(help: ArgumentHelp("Only events at or before WHEN (as --since).", valueName: "WHEN"))
    var until: String?

    @Option(help: ArgumentHelp("Only events of this kind (repeatable; `lockscan analyzers` lists the kinds).", valueName: "KIND"))
    var kind: [String] = []

    @Option(name: .customLong("min-severity"), help: ArgumentHelp("Only events at least this severe.", valueName: "SEVERITY"))
    var minSeverity: Severity?

    /// A bound of the time window, on one of the two clocks an event can carry.
    enum Bound: Equatable {
        case boot(Double)
        case utc(Double)

        static func parse(_ text: String, option: String) throws -> Bound {
            if let s = Double(text), s.isFinite, s >= 0, s < 1e12, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                return .boot(s)
            }
            guard let (utc, _) = WallClock.parse(text), utc.isFinite else {
                throw ValidationError("\(option) \(text): give boot seconds (4474426.2) or an ISO 8601 time with its zone (2024-05-01T10:00:00Z, +08:00)")
            }
            return .utc(utc)
        }
    }

    var isActive: Bool { since != nil || until != nil || !kind.isEmpty || minSeverity != nil }

    func validate() throws {
        _ = try window()
    }

    func window() throws -> (since: Bound?, until: Bound?) {
        (try since.map { try Bound.parse($0, option: "--since") }, try until.map { try Bound.parse($0, option: "--until") })
    }

    /// Every kind named must be one some analyzer emits: a typo would
    /// otherwise silently show nothing.
    func checkKinds(known: Set<String>) throws {
        if let unknown = kind.first(where: { !known.contains($0) }) {
            throw ValidationError("--kind \(unknown): no analyzer emits it (kinds: \(known.sorted().joined(separator: ", ")))")
        }
    }
}

/// The filter applied, counting the events a time bound had to leave out
/// because they carry no time on that clock (said as a diagnostic).
final class EventFilter {
    let kinds: Set<String>
    let minSeverity: Severity?
    let since: EventFilterOptions.Bound?
    let until: EventFilterOptions.Bound?
    private(set) var undated = 0

    init(_ o: EventFilterOptions) throws {
        kinds = Set(o.kind)
        minSeverity = o.minSeverity
        (since, until) = try o.window()
    }

    func keeps(_ e: Event) -> Bool {
        if !kinds.isEmpty && !kinds.contains(e.kind) { return false }
        if let minSeverity, e.severity < minSeverity { return false }
        for (bound, after) in [(since, true), (until, false)] {
            guard let bound else { continue }
            let t: Double?
            let limit: Double
            switch bound {
            case let .boot(s): (t, limit) = (e.time.monotonic, s)
            case let .utc(u): (t, limit) = (e.time.wall.flatMap { WallClock.parse($0)?.utc }, u)
            }
            guard let t else {
                undated += 1
                return false
            }
            if after ? t < limit : t > limit { return false }
        }
        return true
    }

    /// What the time bounds could not decide, for the run's diagnostics.
    var undatedDiagnostic: Diagnostic? {
        guard undated > 0 else { return nil }
        return Diagnostic(file: "lockscan", message: "\(undated) event\(undated == 1 ? "" : "s") left out by --since/--until: no time on the clock the bound uses (boot seconds or a wall clock with its zone)")
    }
}
