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

    /// `UTC = own clock + 1489554188.000000 s (offset between … and …, width 500 ms)`.
    static func mapping(_ seg: ClockSegment) -> String {
        let sign = seg.offset < 0 ? "−" : "+"
        return "UTC = own clock \(sign) \(String(format: "%.6f", abs(seg.offset))) s (offset between \(String(format: "%.6f", seg.offsetEarliest)) and "
            + "\(String(format: "%.6f", seg.offsetLatest)) s, width \(TimeText.duration(seg.uncertainty)))"
    }

    /// Markup for one segment, escaped.
    static func segmentHTML(_ seg: ClockSegment) -> String {
        var html = "<li><b>\(HTMLEscape.string(seg.method))</b>: own clock \(HTMLEscape.string(range(seg))): \(HTMLEscape.string(mapping(seg)))"
        if !seg.evidence.isEmpty {
            html += "<ul class=\"evidence\">" + seg.evidence.map { "<li><code>\(HTMLEscape.string($0))</code></li>" }.joined() + "</ul>"
        }
        return html + "</li>"
    }
}
