import LockscanKit

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
            return "<circle cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"4.5\"/>"
        case .warning:
            return "<polygon points=\"\(px(x)),\(px(y - 5.5)) \(px(x + 5.5)),\(px(y + 4.5)) \(px(x - 5.5)),\(px(y + 4.5))\"/>"
        case .error:
            return "<rect x=\"\(px(x - 4.5))\" y=\"\(px(y - 4.5))\" width=\"9\" height=\"9\"/>"
        case .critical:
            return "<polygon points=\"\(px(x)),\(px(y - 6.5)) \(px(x + 6.5)),\(px(y)) \(px(x)),\(px(y + 6.5)) \(px(x - 6.5)),\(px(y))\"/>"
        }
    }
}

/// SVG coordinates with one decimal: enough for a screen, and it keeps a
/// 5,000-event page small.
func px(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}
