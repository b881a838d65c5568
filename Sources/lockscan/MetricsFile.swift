import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import Prometheus

/// `--metrics-file PATH`: what a run found, as node_exporter's textfile
/// collector reads it (`--collector.textfile.directory`), so a fleet that
/// runs lockscan from cron on every host sees lockups in Prometheus. The
/// file is written whole and renamed into place (the collector never reads
/// half a file), and describes the last run only: every value is a gauge.
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "Also write this run's counts as Prometheus textfile-collector metrics (events per kind and severity, last event time per kind, input bytes, diagnostics), atomically.",
        valueName: "PATH"))
    var metricsFile: String?
}

enum MetricsFile {
    /// The run's numbers, as the commands know them.
    struct Run {
        var command: String
        var events: EventTally
        /// Bytes read (scan; the timeline does not count them).
        var inputBytes: Int?
        var inputs: Int
        var diagnostics: Int
        /// Timeline sources not placed on UTC (scan: none).
        var unplacedSources = 0
    }

    /// The exposition text, from swift-prometheus's registry.
    static func text(_ run: Run, now: Date = Date()) -> String {
        let registry = PrometheusCollectorRegistry()
        for (key, count) in run.events.counts.sorted(by: { $0.key.joined() < $1.key.joined() }) {
            registry.makeGauge(name: "lockscan_events", labels: [("command", run.command), ("kind", key[0]), ("severity", key[1])],
                               help: "Events the last run found, by kind and severity.").set(Double(count))
        }
        for (kind, t) in run.events.latest.sorted(by: { $0.key < $1.key }) {
            registry.makeGauge(name: "lockscan_last_event_timestamp_seconds", labels: [("command", run.command), ("kind", kind)],
                               help: "UTC time of the latest event of each kind that carried a wall clock with its zone.").set(t)
        }
        let labels = [("command", run.command)]
        if let bytes = run.inputBytes {
            registry.makeGauge(name: "lockscan_input_bytes", labels: labels, help: "Bytes the last run read (after decompression).").set(Double(bytes))
        }
        registry.makeGauge(name: "lockscan_inputs", labels: labels, help: "Inputs the last run read.").set(Double(run.inputs))
        registry.makeGauge(name: "lockscan_diagnostics", labels: labels, help: "Problems the last run reported (it exits 2 when there are any).").set(Double(run.diagnostics))
        registry.makeGauge(name: "lockscan_unplaced_sources", labels: labels, help: "Timeline sources that could not be placed on UTC.").set(Double(run.unplacedSources))
        registry.makeGauge(name: "lockscan_last_run_timestamp_seconds", labels: labels, help: "When the last run finished (UTC).").set(now.timeIntervalSince1970)
        return registry.emitToString()
    }

    /// What the metrics say of a run's events, counted as they come: a
    /// streamed scan keeps no events, so the numbers cannot be taken from
    /// them at the end.
    struct EventTally {
        /// Events by [kind, severity].
        private(set) var counts: [[String]: Int] = [:]
        /// The latest UTC time of each kind's events that carried a wall clock with its zone.
        private(set) var latest: [String: Double] = [:]

        init() {}

        init(_ events: [Event]) { for e in events { add(e) } }

        mutating func add(_ e: Event) {
            counts[[e.kind, e.severity.rawValue], default: 0] += 1
            guard let utc = e.time.wall.flatMap({ WallClock.parse($0)?.utc }) else { return }
            latest[e.kind] = max(latest[e.kind] ?? -.infinity, utc)
        }
    }

    /// Writes the file, or says why not (the command exits 2).
    static func write(_ run: Run, to path: String) -> String? {
        OutputFile.write(Array(text(run).utf8), to: path)
    }
}
