import LockscanKit

/// What the page says about one event, in the two forms it takes: plain text
/// for the SVG `<title>` tooltip and markup for the expandable entry in the
/// event table. Both carry the same facts (title, kind, file:line, placed
/// time with its uncertainty, evidence, hints), so hover and click agree.
enum EventText {
    /// Evidence lines shown in a tooltip; the table entry has them all.
    static let tooltipEvidenceLines = 8

    static func location(_ e: Event) -> String {
        let loc = e.source
        return loc.endLine > loc.line ? "\(loc.file):\(loc.line)-\(loc.endLine)" : "\(loc.file):\(loc.line)"
    }

    static func time(_ t: EventTime?) -> String {
        guard let t else { return "not placed: no evidence aligns this source's clock" }
        var s = TimeText.placed(t)
        if t.latest > t.earliest { s += " (between \(UTCFormat.string(t.earliest)) and \(UTCFormat.string(t.latest)))" }
        if let m = t.monotonic { s += ", printed as [\(String(format: "%.6f", m))]" }
        return s
    }

    static func hint(_ h: Hint) -> String { h.reference.map { "\(h.text) (\($0))" } ?? h.text }

    static func clusterName(_ index: Int) -> String { "C\(index + 1)" }

    /// Unescaped plain text; the caller escapes it for the `<title>` it goes in.
    static func tooltip(_ te: TimelineEvent, in doc: TimelineDocument) -> String {
        let e = te.event
        var lines = ["\(SeverityStyle.word(e.severity)): \(e.title)",
                     "\(e.kind) · \(te.sourceID) · \(location(e))",
                     time(te.drawnTime)]
        if let note = te.timeNote { lines.append("why so wide: \(note)") }
        if let cpu = e.cpu { lines.append("CPU \(cpu)") }
        if !e.evidence.isEmpty {
            lines.append("evidence:")
            lines += e.evidence.prefix(tooltipEvidenceLines).map { "  " + $0 }
            if e.evidence.count > tooltipEvidenceLines { lines.append("  … \(e.evidence.count - tooltipEvidenceLines) more (click)") }
        }
        if !e.hints.isEmpty {
            lines.append("hints:")
            lines += e.hints.map { "  - " + hint($0) }
        }
        if let c = te.cluster, doc.clusters.indices.contains(c) {
            lines.append("cluster \(clusterName(c)): \(doc.clusters[c].summary)")
        }
        return lines.joined(separator: "\n")
    }

    /// The `<details>` entry: the title as summary, every other fact inside.
    static func details(_ te: TimelineEvent, in doc: TimelineDocument) -> String {
        let e = te.event
        var facts: [(String, String)] = [("kind", HTMLEscape.string(e.kind)), ("analyzer", HTMLEscape.string(e.analyzer)),
                                         ("where", HTMLEscape.string(location(e))), ("when", HTMLEscape.string(time(te.drawnTime)))]
        if let note = te.timeNote { facts.append(("why so wide", HTMLEscape.string(note))) }
        if let cpu = e.cpu { facts.append(("CPU", String(cpu))) }
        if let pid = e.pid { facts.append(("task", HTMLEscape.string("\(e.comm ?? "?") [\(pid)]"))) }
        if let kernel = e.kernel { facts.append(("kernel", HTMLEscape.string(kernel))) }
        if let c = te.cluster, doc.clusters.indices.contains(c) {
            facts.append(("cluster", "<a href=\"#cluster-\(c)\">\(clusterName(c))</a> " + HTMLEscape.string(doc.clusters[c].summary)))
        }
        var html = "<details><summary>\(HTMLEscape.string(e.title))</summary><dl>"
        for (name, value) in facts { html += "<dt>\(name)</dt><dd>\(value)</dd>" }
        html += "</dl>"
        if !e.evidence.isEmpty {
            html += "<p class=\"label\">evidence</p><pre>" + e.evidence.map(HTMLEscape.string).joined(separator: "\n") + "</pre>"
        }
        if !e.hints.isEmpty {
            html += "<p class=\"label\">hints</p><ul>" + e.hints.map { "<li>" + HTMLEscape.string(hint($0)) + "</li>" }.joined() + "</ul>"
        }
        return html + "</details>"
    }
}
