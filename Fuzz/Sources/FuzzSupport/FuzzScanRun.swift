import Foundation
import LockscanKit

/// What `lockscan scan` does with one file, for the harnesses that feed
/// analyzers: the engine, incidents joined, events grouped, the run's
/// closing events, then every output scan prints: text, JSON (which must
/// parse), NDJSON lines, Markdown.
public enum FuzzScanRun {
    public static func run(_ path: String, analyzers descriptors: [AnalyzerDescriptor]) {
        let engine = ScanEngine(analyzers: descriptors)
        var events: [Event] = []
        let summary = engine.scan(.path(path)) { events.append($0) }
        events.sort { ($0.source.line, $0.source.byteOffset) < ($1.source.line, $1.source.byteOffset) }
        let incidents = IncidentJoin.join(events, roles: EventRoles(descriptors))
        IncidentJoin.mark(&events, with: incidents)
        let grouped = EventGrouping.group(events)
        var runEvents: [Event] = []
        let runDiagnostics = engine.finishRun { runEvents.append($0) }
        let all = grouped + runEvents

        let text = TextRenderer(color: false)
        for e in all { _ = text.render(e) }
        for i in incidents { _ = text.render(i) }
        _ = text.summary([summary], events: all.count, kinds: all.map(\.kind), diagnostics: runDiagnostics)
        for e in all { FuzzJSON.requireValid(Data(JSONRendering.line(e)), "an NDJSON event line") }
        for i in incidents { FuzzJSON.requireValid(Data(JSONRendering.line(i)), "an NDJSON incident line") }
        for d in summary.diagnostics + runDiagnostics { FuzzJSON.requireValid(Data(JSONRendering.line(d)), "an NDJSON diagnostic line") }
        let report = ScanReport(inputs: [summary], events: all, diagnostics: runDiagnostics, incidents: incidents)
        FuzzJSON.requireValid(Data(JSONRendering.document(report)), "scan --json")
        _ = MarkdownRenderer.render(report)
    }

    /// The built-in analyzers with these ids; a missing one stops the
    /// harness at once (an id was renamed), rather than fuzz nothing.
    public static func pick(_ ids: [String], from all: [AnalyzerDescriptor]) -> [AnalyzerDescriptor] {
        let picked = all.filter { ids.contains($0.id) }
        guard picked.count == ids.count else { fatalError("fuzz harness: some of \(ids) are not built-in analyzer ids (\(all.map(\.id)))") }
        return picked
    }
}
