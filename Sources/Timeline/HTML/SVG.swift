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

    static func render(_ doc: TimelineDocument, _ layout: TimelineLayout, clock: PageClock) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"\(px(L.totalWidth))\" height=\"\(px(layout.height))\" "
            + "viewBox=\"0 0 \(px(L.totalWidth)) \(px(layout.height))\" aria-label=\"timeline of \(doc.events.count) events in \(layout.lanes.count) lanes\""
        if let axis = layout.axis { svg += " data-settings=\"\(HTMLEscape.string(ScriptSettings.json(axis, layout, clock: clock)))\"" }
        // Marks and labels are clipped to the plot while zoomed; the clip is in each lane's own coordinates.
        svg += "><defs><clipPath id=\"plot-clip\"><rect class=\"plot-clip\" x=\"\(px(L.plotLeft))\" y=\"0\" width=\"\(px(L.plotWidth))\" height=\"100000\"/></clipPath></defs>"
        svg += "<g class=\"lane-bgs\">"
        for (k, lane) in layout.lanes.enumerated() {
            svg += "<rect class=\"lane-bg lane-bg-\(k % 2)\" x=\"0\" y=\"\(px(lane.top))\" width=\"\(px(L.totalWidth))\" height=\"\(px(lane.height))\"/>"
        }
        svg += "</g>"
        if let axis = layout.axis {
            svg += ticks(axis, layout, clock: clock)
            svg += clusterBands(doc, axis, layout)
        }
        for (k, lane) in layout.lanes.enumerated() {
            svg += "<g class=\"lane\" id=\"lane-\(k)\" data-source=\"\(HTMLEscape.string(lane.id))\" transform=\"translate(0,\(px(lane.top)))\">"
            svg += laneLabel(lane)
            if let axis = layout.axis, let source = lane.source { svg += clockBreaks(source, lane, axis) }
            svg += "<g class=\"marks\" clip-path=\"url(#plot-clip)\">"
            for mark in lane.marks { svg += eventMark(mark, lane, doc, layout, clock: clock) }
            svg += "</g>"
            if lane.unplaced > 0 {
                // An empty-looking lane must not read as "nothing happened".
                svg += "<a href=\"#unplaced\" class=\"unplaced-note\"><text x=\"\(px(L.plotLeft + 8))\" y=\"\(px(lane.height - 8))\">"
                    + "\(lane.unplaced) event\(lane.unplaced == 1 ? "" : "s") of this source could not be placed in time: see Unplaced events</text></a>"
            }
            svg += "</g>"
        }
        if layout.axis == nil {
            svg += "<text class=\"empty\" x=\"\(px(L.plotLeft + 12))\" y=\"\(px(layout.axisHeight - 12))\">no event could be placed in time</text>"
        }
        return svg + "</svg>"
    }

    /// Gridlines with the time in UTC over its date, and with a display zone
    /// the same instant there under them. The script replaces the `ticks`
    /// group at every zoom; the axis names stay.
    static func ticks(_ axis: TimeAxis, _ layout: TimelineLayout, clock: PageClock) -> String {
        var s = "<g class=\"axis\"><line class=\"axis-line\" x1=\"\(px(axis.left))\" x2=\"\(px(axis.left + axis.width))\" "
            + "y1=\"\(px(layout.axisHeight))\" y2=\"\(px(layout.axisHeight))\"/><g class=\"ticks\">"
        for tick in TimeTicks.ticks(from: axis.start, to: axis.end, zone: clock.zone) {
            let x = px(axis.x(tick.time))
            s += "<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(px(layout.axisHeight - 5))\" y2=\"\(px(layout.lanesBottom))\"/>"
            s += "<text class=\"tick\" x=\"\(x)\" y=\"15\">\(tick.label)</text>"
            if let date = tick.date { s += "<text class=\"tick-date\" x=\"\(x)\" y=\"29\">\(date)</text>" }
            if let local = tick.local { s += "<text class=\"tick tick-local\" x=\"\(x)\" y=\"45\">\(local)</text>" }
            if let date = tick.localDate { s += "<text class=\"tick-date tick-local\" x=\"\(x)\" y=\"59\">\(date)</text>" }
        }
        // In the label column, clear of a tick label at the left end of the axis.
        s += "</g><text class=\"axis-name\" x=\"8\" y=\"15\">time (UTC)</text>"
        if let zone = clock.zone { s += "<text class=\"axis-name tick-local\" x=\"8\" y=\"45\">\(HTMLEscape.string(shortened(zone.name, keepEnd: false, limit: 30)))</text>" }
        return s + "</g>"
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
            s += "<a href=\"#cluster-\(c)\" class=\"cluster\" id=\"band-\(c)\" data-t0=\"\(seconds(cluster.earliest, axis))\" data-t1=\"\(seconds(cluster.latest, axis))\">"
                + "<title>\(HTMLEscape.string("cluster \(name): \(cluster.summary)"))</title>"
                + "<rect x=\"\(px(x0))\" y=\"\(px(layout.axisHeight))\" width=\"\(px(x1 - x0))\" height=\"\(px(layout.lanesBottom - layout.axisHeight))\"/>"
                + "<text x=\"\(px((x0 + x1) / 2))\" y=\"\(px(layout.lanesBottom + 15 + Double(line) * 13))\">\(name)</text></a>"
        }
        return s + "</g>"
    }

    /// Id, role, file, clock and the alignment of each segment; SVG text does
    /// not wrap, so long values are shortened here and given whole in the
    /// tooltip. The last line says what the drawing leaves out: marks that
    /// share a row, labels with no room (the script rewrites it at each zoom).
    static func laneLabel(_ lane: TimelineLayout.Lane) -> String {
        let role = lane.source?.role.rawValue ?? "unknown source"
        let file = lane.source?.file ?? "—"
        let clock = lane.source?.clock ?? "—"
        let alignment = lane.source.map(SourceText.alignment) ?? "no clock model"
        var full = "\(lane.id) (\(role))\nfile: \(file)\nclock: \(clock)\nalignment: \(alignment)"
        if lane.overlapping > 0 { full += "\n\(lane.overlapping) marks share a row with another: see the table" }
        let y = 17.0
        return "<g class=\"lane-label\"><title>\(HTMLEscape.string(full))</title>"
            + "<text class=\"lane-id\" x=\"8\" y=\"\(px(y))\">\(HTMLEscape.string(shortened(lane.id, keepEnd: false, limit: 24)))<tspan class=\"lane-role\"> \(HTMLEscape.string(role))</tspan></text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 14))\">\(HTMLEscape.string(shortened(file, keepEnd: true)))</text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 28))\">\(HTMLEscape.string(shortened(clock, keepEnd: false)))</text>"
            + "<text class=\"lane-meta\" x=\"8\" y=\"\(px(y + 42))\">\(HTMLEscape.string(shortened(alignment, keepEnd: false)))</text>"
            + "<text class=\"lane-warning\" x=\"8\" y=\"\(px(y + 56))\">\(leftOut(overlapping: lane.overlapping, hiddenLabels: lane.hiddenLabels))</text>"
            + "</g>"
    }

    /// `3 marks overlap, 12 labels hidden: zoom in or see the table`; empty when nothing is left out.
    static func leftOut(overlapping: Int, hiddenLabels: Int) -> String {
        var parts: [String] = []
        if overlapping > 0 { parts.append("\(overlapping) marks overlap") }
        if hiddenLabels > 0 { parts.append("\(hiddenLabels) label\(hiddenLabels == 1 ? "" : "s") hidden") }
        return parts.isEmpty ? "" : parts.joined(separator: ", ") + ": zoom in or see the table"
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
            s += "<g class=\"clock-break\" data-t0=\"\(seconds(t0, axis))\" data-t1=\"\(seconds(t1, axis))\"><title>\(title)</title>"
            if x1 - x0 >= 1 {
                s += "<rect x=\"\(px(x0))\" y=\"0\" width=\"\(px(x1 - x0))\" height=\"\(px(lane.height))\"/>"
            } else {
                s += "<line x1=\"\(px(x0))\" x2=\"\(px(x0))\" y1=\"0\" y2=\"\(px(lane.height))\"/>"
            }
            s += "</g>"
        }
        return s
    }

    /// One event: placed at its time (`transform`), its interval bar and
    /// caps relative to it, its severity's shape, and its label on the side
    /// the packer chose (`hidden` when no row had room). The times go along
    /// in `data-` attributes for the script, as seconds from the axis start.
    static func eventMark(_ mark: TimelineLayout.Mark, _ lane: TimelineLayout.Lane, _ doc: TimelineDocument, _ layout: TimelineLayout,
                          clock: PageClock) -> String {
        let te = doc.events[mark.event]
        let y = layout.rowY(lane, mark.row) - lane.top
        var cls = "ev " + SeverityStyle.cssClass(te.event.severity)
        if te.cluster != nil { cls += " in-cluster" }
        var s = "<a href=\"#ev-\(mark.event)\" id=\"mark-\(mark.event)\" class=\"\(cls)\" transform=\"translate(\(px(mark.x)),\(px(y)))\""
        if let axis = layout.axis, let t = te.drawnTime {
            s += " data-t=\"\(seconds(t.utc, axis))\" data-e=\"\(seconds(min(t.earliest, t.utc), axis))\" data-l=\"\(seconds(max(t.latest, t.utc), axis))\""
                + " data-p=\"\(TimelineLayout.labelPriority(te))\""
            s += "><title>\(HTMLEscape.string(EventText.tooltip(te, in: doc, clock: clock)))</title>"
            if t.latest > t.earliest {
                let x0 = mark.xEarliest - mark.x, x1 = mark.xLatest - mark.x
                s += "<rect class=\"interval\" x=\"\(px(x0))\" y=\"-2\" width=\"\(px(x1 - x0))\" height=\"4\"/>"
                    + "<path class=\"cap\" d=\"M\(px(x0)) -4v8M\(px(x1)) -4v8\"/>"
            }
        } else {
            s += ">"
        }
        s += SeverityStyle.mark(te.event.severity, x: 0, y: 0)
        let gap = LanePacker.markRadius + LanePacker.labelGap
        let placement = switch mark.label {
        case .right: "x=\"\(px(gap))\""
        case .left: "x=\"\(px(-gap))\" text-anchor=\"end\""
        case .hidden: "x=\"\(px(gap))\" visibility=\"hidden\""
        }
        return s + "<text class=\"ev-label\" \(placement) y=\"4\">\(HTMLEscape.string(EventLabel.text(te)))</text></a>"
    }

    /// Seconds from the axis start with microseconds, the script's time unit:
    /// short, and exact for any time the page can show.
    static func seconds(_ t: Double, _ axis: TimeAxis) -> String {
        let r = ((t - axis.start) * 1e6).rounded() / 1e6
        return r == r.rounded() ? Int(exactly: r).map(String.init) ?? String(r) : String(r)
    }
}

/// SVG coordinates with one decimal: enough for a screen, and it keeps a
/// 5,000-event page small.
func px(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    // Int(exactly:) is nil for inf and beyond Int's range: printed as Double then.
    return r == r.rounded() ? Int(exactly: r).map(String.init) ?? String(r) : String(r)
}
