/// The parts of the page below the drawing. They carry every fact the drawing
/// shows, as plain tables and lists, so the page works without SVG, in a text
/// browser, and for events too dense to pick out by eye.
enum TimelineHTMLSections {
    static func sources(_ doc: TimelineDocument) -> String {
        var html = "<section id=\"sources\"><h2>Sources and clock alignment</h2>"
        if doc.sources.isEmpty { return html + "<p>No sources.</p></section>" }
        html += "<table><thead><tr><th>id</th><th>role</th><th>file</th><th>clock</th><th>segments (own clock → UTC)</th></tr></thead><tbody>"
        for s in doc.sources {
            html += "<tr><td class=\"source-id\">\(HTMLEscape.string(s.id))</td><td>\(s.role.rawValue)</td><td><code>\(HTMLEscape.string(s.file))</code></td>"
                + "<td>\(HTMLEscape.string(s.clock))</td><td>"
            html += s.segments.isEmpty ? "no clock model" : "<ol class=\"segments\">" + s.segments.map(SourceText.segmentHTML).joined() + "</ol>"
            html += "</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    static func clusters(_ doc: TimelineDocument) -> String {
        var html = "<section id=\"clusters\"><h2>Clusters of related events</h2>"
        if doc.clusters.isEmpty { return html + "<p>No cluster: no events from different sources fell within one window.</p></section>" }
        html += "<ol>"
        for (c, cluster) in doc.clusters.enumerated() {
            html += "<li id=\"cluster-\(c)\"><b>\(EventText.clusterName(c))</b> \(HTMLEscape.string(cluster.summary)) "
                + "<span class=\"when\">\(range(cluster))</span><ul>"
            for i in cluster.events where doc.events.indices.contains(i) {
                let te = doc.events[i]
                html += "<li><a href=\"#ev-\(i)\">\(HTMLEscape.string(te.sourceID)): \(HTMLEscape.string(te.event.title))</a></li>"
            }
            html += "</ul></li>"
        }
        return html + "</ol></section>"
    }

    static func range(_ c: TimelineCluster) -> String {
        guard c.earliest.isFinite, c.latest.isFinite else { return "time unknown" }
        return "\(UTCFormat.string(c.earliest)) … \(UTCFormat.string(c.latest)) (\(TimeText.duration(c.latest - c.earliest)))"
    }

    /// Placed events in time order; the order the document gives is kept for
    /// equal times, so the table and the JSON agree.
    static func placedEvents(_ doc: TimelineDocument) -> String {
        let placed = doc.events.indices.filter { doc.events[$0].drawnTime != nil }
            .sorted { (doc.events[$0].drawnTime!.utc, $0) < (doc.events[$1].drawnTime!.utc, $1) }
        let html = "<section id=\"events\"><h2>Events in time order (\(placed.count))</h2>"
        if placed.isEmpty { return html + "<p>No event could be placed in time.</p></section>" }
        return html + table(placed, doc, withTime: true) + "</section>"
    }

    static func unplacedEvents(_ doc: TimelineDocument) -> String {
        let unplaced = doc.events.indices.filter { doc.events[$0].drawnTime == nil }
        var html = "<section id=\"unplaced\"><h2>Unplaced events (\(unplaced.count))</h2>"
        if unplaced.isEmpty { return html + "<p>None: every event was placed in time.</p></section>" }
        html += "<p>No evidence aligns these events' clocks to UTC, so they are not drawn; guessing a time would mislead.</p>"
        return html + table(unplaced, doc, withTime: false) + "</section>"
    }

    static func table(_ indexes: [Int], _ doc: TimelineDocument, withTime: Bool) -> String {
        var html = "<table class=\"events\"><thead><tr><th>#</th>"
        if withTime { html += "<th>UTC</th><th>±</th>" }
        html += "<th>source</th><th>severity</th><th>kind</th><th>event (click for evidence)</th><th>where</th></tr></thead><tbody>"
        for i in indexes {
            let te = doc.events[i], e = te.event
            html += "<tr id=\"ev-\(i)\" class=\"\(SeverityStyle.cssClass(e.severity))\"><td>\(withTime ? "<a href=\"#mark-\(i)\">\(i + 1)</a>" : String(i + 1))</td>"
            if withTime, let t = te.drawnTime {
                html += "<td class=\"utc\">\(UTCFormat.string(t.utc))</td><td class=\"unc\">\(HTMLEscape.string(TimeText.uncertainty(t)))</td>"
            }
            html += "<td>\(HTMLEscape.string(te.sourceID))</td>"
                + "<td class=\"sev\"><span class=\"glyph\">\(SeverityStyle.glyph(e.severity))</span> \(SeverityStyle.word(e.severity))</td>"
                + "<td>\(HTMLEscape.string(e.kind))</td><td>\(EventText.details(te, in: doc))</td>"
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
