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
/// - Layout.swift: geometry: time axis, a lane per source, each mark's x, sub-row and label side.
/// - Lanes.swift: greedy interval packing of marks and their labels into a lane's sub-rows.
/// - Labels.swift: the label beside each mark and its estimated width.
/// - Ticks.swift: gridlines at round times and their labels in UTC and the display zone.
/// - SVG.swift: the drawing made from that geometry: lanes, labels, cluster bands, clock breaks, marks.
/// - Sections.swift: the tables under the drawing and the words for an event and a source's clock.
/// - DisplayZone.swift: the zone shown beside UTC, and every instant written in both.
/// - TimeText.swift: durations and uncertainties in words, one way for the whole page.
/// - Script.swift: the script: fit to the window, zoom, pan, labels packed again at each zoom.
/// - Style.swift: the stylesheet and how each severity looks.
/// - Escape.swift: escaping of log text, alone so a security review can read it alone.
public enum TimelineHTML {
    /// `zone`: shown beside UTC in every time on the page (nil or UTC: UTC only).
    public static func render(_ doc: TimelineDocument, zone: DisplayZone? = nil) -> String {
        let clock = PageClock(zone)
        let layout = TimelineLayout(doc, zoned: clock.zone != nil)
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
        html += "<p class=\"summary\">" + summary(doc, layout, clock) + "</p>"
        html += legend()
        // Shown by the script, which is what makes them work; without it the page is the static drawing.
        html += "<div class=\"controls\" hidden><button type=\"button\" data-zoom=\"in\" title=\"zoom in (+, wheel, pinch)\">+</button>"
            + "<button type=\"button\" data-zoom=\"out\" title=\"zoom out (−)\">−</button><button type=\"button\" data-zoom=\"fit\" title=\"show everything (0)\">fit</button>"
            + "<span class=\"view-range\"></span></div>"
        html += "<div class=\"drawing\">" + TimelineSVG.render(doc, layout, clock: clock) + "</div>"
        html += "<div class=\"tables\">"
        html += TimelineHTMLSections.sources(doc, clock)
        html += TimelineHTMLSections.clusters(doc, clock)
        html += TimelineHTMLSections.placedEvents(doc, clock)
        html += TimelineHTMLSections.unplacedEvents(doc, clock)
        html += TimelineHTMLSections.diagnostics(doc)
        html += "</div><script>\n\(TimelineScript.source)\n</script>\n</body></html>\n"
        return html
    }

    static func summary(_ doc: TimelineDocument, _ layout: TimelineLayout, _ clock: PageClock) -> String {
        let unplaced = doc.events.filter { $0.drawnTime == nil }.count
        var s = "\(doc.sources.count) sources, \(doc.events.count) events (\(unplaced) unplaced), \(doc.clusters.count) clusters"
        if let axis = layout.axis {
            s += "; drawn from \(clock.both(axis.start)) to \(clock.both(axis.end)) (\(TimeText.duration(axis.end - axis.start)))"
        }
        if let zone = clock.zone {
            s += "; times in UTC and in <span class=\"zone-name\">\(HTMLEscape.string(zone.name))</span>"
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
