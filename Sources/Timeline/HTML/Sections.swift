// The tables and lists under the drawing, and the words that fill them:
// what is said about an event (EventText) and about how a source's clock was
// put on UTC (SourceText). The words live with the tables because that is
// where they are said in full; the tooltips and lane labels of the drawing
// reuse them, so hovering and reading the table cannot disagree.

import LockscanKit

/// The parts of the page below the drawing. They carry every fact the drawing
/// shows, as plain tables and lists, so the page works without SVG, in a text
/// browser, and for events too dense to pick out by eye.
enum TimelineHTMLSections {
    static func sources(_ doc: TimelineDocument, _ clock: PageClock) -> String {
        var html = "<section id=\"sources\"><h2>Sources and clock alignment</h2>"
        if doc.sources.isEmpty { return html + "<p>No sources.</p></section>" }
        html += "<table><thead><tr><th>id</th><th>role</th><th>file</th><th>clock</th><th>segments (own clock → UTC)</th></tr></thead><tbody>"
        for s in doc.sources {
            html += "<tr><td class=\"source-id\">\(HTMLEscape.string(s.id))</td><td>\(s.role.rawValue)</td><td><code>\(HTMLEscape.string(s.file))</code></td>"
                + "<td>\(HTMLEscape.string(s.clock))</td><td>"
            html += s.segments.isEmpty ? "no clock model" : "<ol class=\"segments\">" + s.segments.map { SourceText.segmentHTML($0, clock) }.joined() + "</ol>"
            html += "</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    static func clusters(_ doc: TimelineDocument, _ clock: PageClock) -> String {
        var html = "<section id=\"clusters\"><h2>Clusters of related events</h2>"
        if doc.clusters.isEmpty { return html + "<p>No cluster: no events from different sources fell within one window.</p></section>" }
        html += "<ol>"
        for (c, cluster) in doc.clusters.enumerated() {
            html += "<li id=\"cluster-\(c)\"><b>\(EventText.clusterName(c))</b> \(HTMLEscape.string(cluster.summary)) "
                + "<span class=\"when\">\(HTMLEscape.string(range(cluster, clock)))</span><ul>"
            for i in cluster.events where doc.events.indices.contains(i) {
                let te = doc.events[i]
                html += "<li><a href=\"#ev-\(i)\">\(HTMLEscape.string(te.sourceID)): \(HTMLEscape.string(te.event.title))</a></li>"
            }
            html += "</ul></li>"
        }
        return html + "</ol></section>"
    }

    static func range(_ c: TimelineCluster, _ clock: PageClock) -> String {
        guard c.earliest.isFinite, c.latest.isFinite else { return "time unknown" }
        return "\(clock.both(c.earliest)) … \(clock.both(c.latest)) (\(TimeText.duration(c.latest - c.earliest)))"
    }

    /// Placed events in time order; the order the document gives is kept for
    /// equal times, so the table and the JSON agree.
    static func placedEvents(_ doc: TimelineDocument, _ clock: PageClock) -> String {
        let placed = doc.events.indices.filter { doc.events[$0].drawnTime != nil }
            .sorted { (doc.events[$0].drawnTime!.utc, $0) < (doc.events[$1].drawnTime!.utc, $1) }
        let html = "<section id=\"events\"><h2>Events in time order (\(placed.count))</h2>"
        if placed.isEmpty { return html + "<p>No event could be placed in time.</p></section>" }
        return html + table(placed, doc, withTime: true, clock) + "</section>"
    }

    static func unplacedEvents(_ doc: TimelineDocument, _ clock: PageClock) -> String {
        let unplaced = doc.events.indices.filter { doc.events[$0].drawnTime == nil }
        var html = "<section id=\"unplaced\"><h2>Unplaced events (\(unplaced.count))</h2>"
        if unplaced.isEmpty { return html + "<p>None: every event was placed in time.</p></section>" }
        html += "<p>No evidence aligns these events' clocks to UTC, so they are not drawn; guessing a time would mislead.</p>"
        return html + table(unplaced, doc, withTime: false, clock) + "</section>"
    }

    /// With a display zone, the time is given twice, UTC and the zone, each in its own column.
    static func table(_ indexes: [Int], _ doc: TimelineDocument, withTime: Bool, _ clock: PageClock) -> String {
        var html = "<table class=\"events\"><thead><tr><th>#</th>"
        if withTime {
            html += "<th>UTC</th>"
            if let zone = clock.zoneHeading { html += "<th class=\"zone-name\">\(HTMLEscape.string(zone))</th>" }
            html += "<th>±</th>"
        }
        html += "<th>source</th><th>severity</th><th>kind</th><th>event (click for evidence)</th><th>where</th></tr></thead><tbody>"
        for i in indexes {
            let te = doc.events[i], e = te.event
            html += "<tr id=\"ev-\(i)\" class=\"\(SeverityStyle.cssClass(e.severity))\"><td>\(withTime ? "<a href=\"#mark-\(i)\">\(i + 1)</a>" : String(i + 1))</td>"
            if withTime, let t = te.drawnTime {
                html += "<td class=\"utc\">\(clock.utc(t.utc))</td>"
                if let local = clock.local(t.utc) { html += "<td class=\"local\">\(local)</td>" }
                html += "<td class=\"unc\">\(HTMLEscape.string(TimeText.uncertainty(t)))</td>"
            }
            html += "<td>\(HTMLEscape.string(te.sourceID))</td>"
                + "<td class=\"sev\"><span class=\"glyph\">\(SeverityStyle.glyph(e.severity))</span> \(SeverityStyle.word(e.severity))</td>"
                + "<td>\(HTMLEscape.string(e.kind))</td><td>\(EventText.details(te, in: doc, clock: clock))</td>"
                + "<td><code>\(HTMLEscape.string(EventText.location(e)))</code></td></tr>"
        }
        return html + "</tbody></table>"
    }

    static func diagnostics(_ doc: TimelineDocument) -> String {
        guard !doc.diagnostics.isEmpty else { return "" }
        return "<section id=\"diagnostics\"><h2>Diagnostics</h2><ul>"
            + doc.diagnostics.map { "<li>\(HTMLEscape.string($0))</li>" }.joined() + "</ul></section>"
    }
}

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

    /// `2017-03-15 06:03:48.180000 UTC = 2017-03-15 14:03:48.180000 +08:00 ± 500 ms (between … and …)`.
    static func time(_ t: EventTime?, _ clock: PageClock) -> String {
        guard let t else { return "not placed: no evidence aligns this source's clock" }
        var s = clock.both(t.utc) + " " + TimeText.uncertainty(t)
        if t.latest > t.earliest { s += " (between \(clock.utc(t.earliest)) and \(clock.utc(t.latest)))" }
        if let m = t.monotonic { s += ", printed as [\(PrintfFormat.fixed(m, decimals: 6))]" }
        return s
    }

    static func hint(_ h: Hint) -> String { h.reference.map { "\(h.text) (\($0))" } ?? h.text }

    static func clusterName(_ index: Int) -> String { "C\(index + 1)" }

    /// Unescaped plain text; the caller escapes it for the `<title>` it goes in.
    static func tooltip(_ te: TimelineEvent, in doc: TimelineDocument, clock: PageClock) -> String {
        let e = te.event
        var lines = ["\(SeverityStyle.word(e.severity)): \(e.title)",
                     "\(e.kind) · \(te.sourceID) · \(location(e))",
                     time(te.drawnTime, clock)]
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
    static func details(_ te: TimelineEvent, in doc: TimelineDocument, clock: PageClock) -> String {
        let e = te.event
        var facts: [(String, String)] = [("kind", HTMLEscape.string(e.kind)), ("analyzer", HTMLEscape.string(e.analyzer)),
                                         ("where", HTMLEscape.string(location(e))), ("when", HTMLEscape.string(time(te.drawnTime, clock)))]
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

/// How a source's clock was put on UTC, in words: short for the lane label,
/// whole (every segment with its range, offset, interval, method and the
/// evidence it rests on) for the sources table.
enum SourceText {
    /// `anchor ± 0.5 s; pause ± 2 ms` — one entry per segment.
    static func alignment(_ source: TimelineSource) -> String {
        if !source.placed { return "not placed on UTC" }
        if source.segments.isEmpty { return "no clock model" }
        return source.segments.map { "\($0.method) within \(TimeText.duration($0.uncertainty))" }.joined(separator: "; ")
    }

    static func range(_ seg: ClockSegment) -> String {
        let from = seg.from.map { "\($0) s" } ?? "start"
        let to = seg.to.map { "\($0) s" } ?? "end"
        return "\(from) … \(to)"
    }

    /// A clock that counts from boot (an offset of years) is said by the
    /// instant its 0 stands for: `own clock 0 s = 2017-03-15 05:03:08.000000 UTC
    /// ± 250 ms`; a clock that already reads UTC or close to it, by the shift:
    /// `UTC = own clock + 42 s ± 300 ms`. Never as epoch seconds.
    static func mapping(_ seg: ClockSegment, _ clock: PageClock) -> String {
        let spread = TimeText.uncertainty(EventTime(utc: seg.offset, earliest: seg.offsetEarliest, latest: seg.offsetLatest))
        let width = "offset known within \(TimeText.duration(seg.uncertainty))"
        if abs(seg.offset) >= 366 * 86400 {
            return "own clock 0 s = \(clock.both(seg.offset)) \(spread) (\(width))"
        }
        let sign = seg.offset < 0 ? "−" : "+"
        return "UTC = own clock \(sign) \(TimeText.duration(seg.offset)) \(spread) (\(width))"
    }

    /// Markup for one segment, escaped.
    static func segmentHTML(_ seg: ClockSegment, _ clock: PageClock) -> String {
        var html = "<li><b>\(HTMLEscape.string(seg.method))</b>: own clock \(HTMLEscape.string(range(seg))): \(HTMLEscape.string(mapping(seg, clock)))"
        if !seg.evidence.isEmpty {
            html += "<ul class=\"evidence\">" + seg.evidence.map { "<li><code>\(HTMLEscape.string($0))</code></li>" }.joined() + "</ul>"
        }
        return html + "</li>"
    }
}
