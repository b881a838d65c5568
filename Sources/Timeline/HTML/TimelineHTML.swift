import LockscanKit

/// `lockscan timeline --html`: one HTML5 page that draws the timeline in SVG
/// and lists every fact in plain tables under it.
///
/// The page is self-contained (inline style, one small inline script, no
/// fetch of any kind, enforced by its Content-Security-Policy) so the one
/// file can be kept with a postmortem and opened offline later, and so a page
/// full of text written by the machine under investigation never loads
/// anything. That text is escaped wherever it lands (`HTMLEscape`), so it
/// stays text.
///
/// `render` below is the page from top to bottom. The files of HTML/:
/// - TimelineHTML.swift: the page: head, summary, legend, the order of its parts.
/// - Layout.swift: geometry: time axis and gridlines, a lane per source, each mark's x and sub-row.
/// - SVG.swift: the drawing made from that geometry: lanes, labels, cluster bands, clock breaks, marks.
/// - Sections.swift: the tables under the drawing and the words for an event and a source's clock.
/// - TimeText.swift: durations and placed times in words, one way for the whole page.
/// - Style.swift: the stylesheet, the script, and how each severity looks.
/// - Escape.swift: escaping of log text, alone so a security review can read it alone.
public enum TimelineHTML {
    public static func render(_ doc: TimelineDocument) -> String {
        let layout = TimelineLayout(doc)
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>lockscan timeline</title>
        <style>
        \(TimelineHTMLStyle.css)
        </style></head><body>
        <h1>lockscan timeline</h1>
        """
        html += "<p class=\"summary\">" + summary(doc, layout) + "</p>"
        html += legend()
        html += "<div class=\"drawing\">" + TimelineSVG.render(doc, layout) + "</div>"
        html += TimelineHTMLSections.sources(doc)
        html += TimelineHTMLSections.clusters(doc)
        html += TimelineHTMLSections.placedEvents(doc)
        html += TimelineHTMLSections.unplacedEvents(doc)
        html += TimelineHTMLSections.diagnostics(doc)
        html += "<script>\n\(TimelineHTMLStyle.script)\n</script>\n</body></html>\n"
        return html
    }

    static func summary(_ doc: TimelineDocument, _ layout: TimelineLayout) -> String {
        let unplaced = doc.events.filter { $0.drawnTime == nil }.count
        var s = "\(doc.sources.count) sources, \(doc.events.count) events (\(unplaced) unplaced), \(doc.clusters.count) clusters"
        if let axis = layout.axis {
            s += "; drawn from \(UTCFormat.string(axis.start)) to \(UTCFormat.string(axis.end)) (\(TimeText.duration(axis.end - axis.start)))"
        }
        if !doc.diagnostics.isEmpty { s += "; <a href=\"#diagnostics\">\(doc.diagnostics.count) diagnostics</a>" }
        return s + ". Schema \(TimelineDocument.schemaVersion)."
    }

    static func legend() -> String {
        var s = "<ul class=\"legend\">"
        for sev in Severity.allCases {
            s += "<li class=\"\(SeverityStyle.cssClass(sev))\"><span class=\"glyph\">\(SeverityStyle.glyph(sev))</span> \(SeverityStyle.word(sev))</li>"
        }
        return s + "<li>bar with end caps: the interval the event is known to lie in</li>"
            + "<li>shaded band: a cluster of related events</li><li>grey hatch in a lane: a break in that source's clock (pause)</li></ul>"
    }
}
