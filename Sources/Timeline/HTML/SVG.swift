// SVG markup for the drawing, made from Layout.swift's geometry. Apart from
// Sections.swift because the drawing only summarises: each mark links to its
// row in the tables, and where it cannot show something (unplaced events,
// marks that had to share a row) it says so and points there.

/// The drawing: a UTC axis with gridlines, a lane per source labelled with
/// how its clock was aligned, cluster bands across all lanes, and each event
/// as a severity-shaped mark at its best estimate over a bar spanning the
/// interval it is known to lie in. Every mark links to its table entry (the
/// root has no `role="img"`, which would hide those links from screen readers).
enum TimelineSVG {
    typealias L = TimelineLayout

    static func render(_ doc: TimelineDocument, _ layout: TimelineLayout) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"\(px(L.totalWidth))\" height=\"\(px(layout.height))\" "
            + "viewBox=\"0 0 \(px(L.totalWidth)) \(px(layout.height))\" aria-label=\"timeline of \(doc.events.count) events in \(layout.lanes.count) lanes\">"
        for (k, lane) in layout.lanes.enumerated() {
            svg += "<rect class=\"lane-bg lane-bg-\(k % 2)\" x=\"0\" y=\"\(px(lane.top))\" width=\"\(px(L.totalWidth))\" height=\"\(px(lane.height))\"/>"
        }
        if let axis = layout.axis {
            svg += ticks(axis, layout)
            svg += clusterBands(doc, axis, layout)
        }
        for (k, lane) in layout.lanes.enumerated() {
            svg += "<g class=\"lane\" id=\"lane-\(k)\" data-source=\"\(HTMLEscape.string(lane.id))\">"
            svg += laneLabel(lane)
            if let axis = layout.axis, let source = lane.source { svg += clockBreaks(source, lane, axis) }
            for mark in lane.marks { svg += eventMark(mark, lane, doc, layout) }
            if lane.unplaced > 0 {
                // An empty-looking lane must not read as "nothing happened".
                svg += "<a href=\"#unplaced\" class=\"unplaced-note\"><text x=\"\(px(L.plotLeft + 8))\" y=\"\(px(lane.top + lane.height - 8))\">"
                    + "\(lane.unplaced) event\(lane.unplaced == 1 ? "" : "s") of this source could not be placed in time: see Unplaced events</text></a>"
            }
            svg += "</g>"
        }
        if layout.axis == nil {
            svg += "<text class=\"empty\" x=\"\(px(L.plotLeft + 12))\" y=\"\(px(L.axisHeight - 12))\">no event could be placed in time</text>"
        }
        return svg + "</svg>"
    }

    static func ticks(_ axis: TimeAxis, _ layout: TimelineLayout) -> String {
        var s = "<g class=\"axis\"><line class=\"axis-line\" x1=\"\(px(axis.left))\" x2=\"\(px(axis.left + axis.width))\" "
            + "y1=\"\(px(L.axisHeight))\" y2=\"\(px(L.axisHeight))\"/>"
        for tick in TimeTicks.ticks(from: axis.start, to: axis.end) {
            let x = px(axis.x(tick.time))
            s += "<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(px(L.axisHeight - 5))\" y2=\"\(px(layout.lanesBottom))\"/>"
            s += "<text class=\"tick\" x=\"\(x)\" y=\"15\">\(tick.label)</text>"
            if let date = tick.date { s += "<text class=\"tick-date\" x=\"\(x)\" y=\"29\">\(date)</text>" }
        }
        // In the label column, clear of a tick label at the left end of the axis.
        return s + "<text class=\"axis-name\" x=\"8\" y=\"15\">time (UTC)</text></g>"
    }

    /// A band narrower than a few pixels would vanish; it is widened about its
    /// centre. Labels of neighbouring bands alternate between two lines.
    static func clusterBands(_ doc: TimelineDocument, _ axis: TimeAxis, _ layout: TimelineLayout) -> String {
        var s = "<g class=\"clusters\">"
        var lastLabel: (x: Double, line: Int)?
        for (c, cluster) in doc.clusters.enumerated() where cluster.earliest.isFinite && cluster.latest.isFinite {
            var x0 = axis.x(cluster.earliest), x1 = axis.x(cluster.latest)
            if x1 - x0 < 6 { let mid = (x0 + x1) / 2; x0 = mid - 3; x1 = mid + 3 }
            var line = 0
            if let last = lastLabel, abs((x0 + x1) / 2 - last.x) < 30 { line = 1 - last.line }
            lastLabel = ((x0 + x1) / 2, line)
            let name = EventText.clusterName(c)
            s += "<a href=\"#cluster-\(c)\" class=\"cluster\" id=\"band-\(c)\"><title>\(HTMLEscape.string("cluster \(name): \(cluster.summary)"))</title>"
                + "<rect x=\"\(px(x0))\" y=\"\(px(L.axisHeight))\" width=\"\(px(x1 - x0))\" height=\"\(px(layout.lanesBottom - L.axisHeight))\"/>"
                + "<text x=\"\(px((x0 + x1) / 2))\" y=\"\(px(layout.lanesBottom + 15 + Double(line) * 13))\">\(name)</text></a>"
        }
        return s + "</g>"
    }

    /// Id, role, file, clock and the alignment of each segment; SVG text does
    /// not wrap, so long values are shortened here and given whole in the tooltip.
    static func laneLabel(_ lane: TimelineLayout.Lane) -> String {
        let role = lane.source?.role.rawValue ?? "unknown source"
        let file = lane.source?.file ?? "—"
        let clock = lane.source?.clock ?? "—"
        let alignment = lane.source.map(SourceText.alignment) ?? "no clock model"
        var full = "\(lane.id) (\(role))\nfile: \(file)\nclock: \(clock)\nalignment: \(alignment)"
        if lane.overlapping > 0 { full += "\n\(lane.overlapping) marks share a row with another: see the table" }
        let y = lane.top + 17
        return "<g class=\"lane-label\"><title>\(HTMLEscape.string(full))</title>"
            + "<text class=\"lane-id\" x=\"8\" y=\"\(px(y))\">\(HTMLEscape.string(shortened(lane.id, keepEnd: false, limit: 24)))<tspan class=\"lane-role\"> \(HTMLEscape.string(role))</tspan></text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 14))\">\(HTMLEscape.string(shortened(file, keepEnd: true)))</text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 28))\">\(HTMLEscape.string(shortened(clock, keepEnd: false)))</text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 42))\">\(HTMLEscape.string(shortened(alignment, keepEnd: false)))</text>"
            + (lane.overlapping > 0 ? "<text class=\"lane-warning\" x=\"8\" y=\"\(px(y + 56))\">\(lane.overlapping) marks overlap: see the table</text>" : "")
            + "</g>"
    }

    /// Lane labels have about 240 px; longer text is cut, with an ellipsis on the side that was dropped.
    static func shortened(_ s: String, keepEnd: Bool, limit: Int = 38) -> String {
        guard s.count > limit else { return s }
        return keepEnd ? "…" + s.suffix(limit - 1) : s.prefix(limit - 1) + "…"
    }

    /// Where a source's clock model changes segment (a pause, a migration),
    /// the stretch between the end of one segment and the start of the next
    /// is hatched; a break with no measurable gap is a dashed line.
    static func clockBreaks(_ source: TimelineSource, _ lane: TimelineLayout.Lane, _ axis: TimeAxis) -> String {
        var s = ""
        for (a, b) in zip(source.segments, source.segments.dropFirst()) {
            guard let end = a.to, let start = b.from else { continue }
            let t0 = end + a.offset, t1 = max(t0, start + b.offset)
            guard t1 >= axis.start, t0 <= axis.end else { continue }
            let x0 = min(max(axis.x(t0), axis.left), axis.left + axis.width)
            let x1 = min(max(axis.x(t1), axis.left), axis.left + axis.width)
            let title = HTMLEscape.string("clock break at own clock \(end) s → \(start) s: \(TimeText.duration(t1 - t0)) of UTC "
                + "between the segments; the next one aligned by \(b.method), offset known within \(TimeText.duration(b.uncertainty))")
            s += "<g class=\"clock-break\"><title>\(title)</title>"
            if x1 - x0 >= 1 {
                s += "<rect x=\"\(px(x0))\" y=\"\(px(lane.top))\" width=\"\(px(x1 - x0))\" height=\"\(px(lane.height))\"/>"
            } else {
                s += "<line x1=\"\(px(x0))\" x2=\"\(px(x0))\" y1=\"\(px(lane.top))\" y2=\"\(px(lane.top + lane.height))\"/>"
            }
            s += "</g>"
        }
        return s
    }

    static func eventMark(_ mark: TimelineLayout.Mark, _ lane: TimelineLayout.Lane, _ doc: TimelineDocument, _ layout: TimelineLayout) -> String {
        let te = doc.events[mark.event]
        let y = layout.rowY(lane, mark.row)
        var cls = "ev " + SeverityStyle.cssClass(te.event.severity)
        if te.cluster != nil { cls += " in-cluster" }
        var s = "<a href=\"#ev-\(mark.event)\" id=\"mark-\(mark.event)\" class=\"\(cls)\"><title>\(HTMLEscape.string(EventText.tooltip(te, in: doc)))</title>"
        if mark.xLatest - mark.xEarliest >= 0.5 {
            s += "<rect class=\"interval\" x=\"\(px(mark.xEarliest))\" y=\"\(px(y - 2))\" width=\"\(px(mark.xLatest - mark.xEarliest))\" height=\"4\"/>"
                + "<path class=\"cap\" d=\"M\(px(mark.xEarliest)) \(px(y - 4))v8M\(px(mark.xLatest)) \(px(y - 4))v8\"/>"
        }
        return s + SeverityStyle.mark(te.event.severity, x: mark.x, y: y) + "</a>"
    }
}

/// SVG coordinates with one decimal: enough for a screen, and it keeps a
/// 5,000-event page small.
func px(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    // Int(exactly:) is nil for inf and beyond Int's range: printed as Double then.
    return r == r.rounded() ? Int(exactly: r).map(String.init) ?? String(r) : String(r)
}
