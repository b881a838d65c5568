// How the page looks: its one stylesheet, and each
// severity's colour, glyph, mark shape and word. Severity is here, not with
// the tables or the drawing, because the stylesheet is generated from it and
// the legend, the tables and the marks all take it from this one place, so
// they cannot drift apart.

import LockscanKit

/// The page's only stylesheet, inline so the file opens offline and
/// fetches nothing. Severity colours come from `SeverityStyle`, so the
/// drawing, the legend and the tables cannot drift apart.
enum TimelineHTMLStyle {
    static var css: String {
        var css = """
        body{font:14px/1.4 "DejaVu Sans",sans-serif;margin:16px;color:#111;background:#fff}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
        .summary{color:#333;margin:0 0 8px}
        .legend{display:flex;flex-wrap:wrap;gap:16px;margin:8px 0;padding:0;list-style:none}
        .drawing{overflow-x:auto;border:1px solid #ccc;touch-action:pan-y}
        svg.timeline{display:block;font:12px "DejaVu Sans",sans-serif;user-select:none}
        .controls[hidden]{display:none}.controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin:6px 0}.controls button{font:inherit;min-width:2.2em}
        .view-range{color:#333;font-size:13px}.tick-local,.zone-name{fill:#0f766e;color:#0f766e}
        .ev-label{font-size:11px;fill:#111;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-opacity:.8;stroke-linejoin:round}
        svg.narrow .lane-meta,svg.narrow .axis-name{display:none}
        .tables{overflow-x:auto}
        .lane-bg-0{fill:#f7f7f7}.lane-bg-1{fill:#ececec}
        .lane-id{font-weight:bold;font-size:13px}.lane-role{font-weight:normal;fill:#555}.lane-meta{fill:#444;font-size:11px}.lane-warning{fill:#b91c1c;font-size:11px}
        .grid{stroke:#bbb;stroke-width:1}.axis-line{stroke:#333}
        .tick{text-anchor:middle;fill:#222}.tick-date{text-anchor:middle;fill:#666;font-size:11px}.axis-name{font-weight:bold}
        .cluster rect{fill:#fde68a;fill-opacity:.55;stroke:#d97706;stroke-dasharray:3 2}
        .cluster text{text-anchor:middle;font-weight:bold;fill:#92400e}
        .clock-break rect{fill:#9ca3af;fill-opacity:.35}.clock-break line{stroke:#4b5563;stroke-dasharray:4 3}
        .ev{fill:currentColor}.ev .interval{fill-opacity:.35}.ev .cap{stroke:currentColor;stroke-width:1.5;fill:none}
        .ev.in-cluster>.shape{stroke:#111;stroke-width:1.2}
        .ev:hover>.shape,.ev:focus>.shape{stroke:#000;stroke-width:2.5}.ev:hover>.ev-label{text-decoration:underline}
        .empty{fill:#555}.unplaced-note text{fill:#555;font-style:italic;text-decoration:underline}
        table{border-collapse:collapse;margin:4px 0}th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
        th{background:#f0f0f0}td.utc,td.local,td.unc{white-space:nowrap;font-family:"DejaVu Sans Mono",monospace;font-size:12px}
        tr:target,li:target{background:#fff3bf}
        pre{margin:4px 0;white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:4px}
        dl{display:grid;grid-template-columns:max-content auto;gap:0 8px;margin:4px 0}dt{font-weight:bold}dd{margin:0}
        .label{font-weight:bold;margin:4px 0 0}
        """
        for s in Severity.allCases {
            css += "\n.\(SeverityStyle.cssClass(s)){color:\(SeverityStyle.colour(s))}"
            css += "\ntr.\(SeverityStyle.cssClass(s)){color:inherit}tr.\(SeverityStyle.cssClass(s)) .sev{color:\(SeverityStyle.colour(s));font-weight:bold}"
        }
        return css
    }
}

/// How a severity looks on the page. Each has its own colour, its own mark
/// shape and its own word, so the drawing still reads in greyscale, for a
/// colour-blind reader, and in a text browser.
enum SeverityStyle {
    static func cssClass(_ s: Severity) -> String { "sev-" + s.rawValue }

    static func colour(_ s: Severity) -> String {
        switch s {
        case .info: "#2563eb"
        case .warning: "#b45309"
        case .error: "#dc2626"
        case .critical: "#7e22ce"
        }
    }

    /// A text glyph with the same shape as the SVG mark, for tables and the legend.
    static func glyph(_ s: Severity) -> String {
        switch s {
        case .info: "●"
        case .warning: "▲"
        case .error: "■"
        case .critical: "◆"
        }
    }

    static func word(_ s: Severity) -> String { s.rawValue.uppercased() }

    /// The SVG mark centred on (x, y): circle, triangle, square, diamond.
    static func mark(_ s: Severity, x: Double, y: Double) -> String {
        switch s {
        case .info:
            return "<circle class=\"shape\" cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"4.5\"/>"
        case .warning:
            return "<polygon class=\"shape\" points=\"\(px(x)),\(px(y - 5.5)) \(px(x + 5.5)),\(px(y + 4.5)) \(px(x - 5.5)),\(px(y + 4.5))\"/>"
        case .error:
            return "<rect class=\"shape\" x=\"\(px(x - 4.5))\" y=\"\(px(y - 4.5))\" width=\"9\" height=\"9\"/>"
        case .critical:
            return "<polygon class=\"shape\" points=\"\(px(x)),\(px(y - 6.5)) \(px(x + 6.5)),\(px(y)) \(px(x)),\(px(y + 6.5)) \(px(x - 6.5)),\(px(y))\"/>"
        }
    }
}
