import FoundationEssentials
import LockscanKit

/// The plain-text timeline: how each source's clock was placed, then one
/// line per event — UTC time ± half its interval, source, kind, title — and
/// the clusters of related events.
public enum TimelineText {
    public static func render(_ doc: TimelineDocument, style: TerminalStyle = TerminalStyle(color: false)) -> String {
        var out = style.bold("Sources:") + "\n"
        for s in doc.sources {
            out += "  \(style.bold(s.id))  \(s.file)  (\(s.role.rawValue), \(s.clock))\n"
            for seg in s.segments {
                if seg.method == "printed" {
                    for e in seg.evidence.dropFirst() { out += style.dim("      · \(e)") + "\n" }
                    continue
                }
                let range = [seg.from.map { "from \(trim($0)) s" }, seg.to.map { "to \(trim($0)) s" }].compactMap { $0 }.joined(separator: " ")
                if seg.offset.isNaN {
                    out += "    " + style.paint("unaligned:", "33") + " \(seg.evidence.last ?? "")\n"
                    continue
                }
                out += "    \(range.isEmpty ? "all" : range): UTC = own clock + \(UTCFormat.string(seg.offset)) ± \(duration(seg.uncertainty / 2)) (\(seg.method))\n"
                for e in seg.evidence { out += style.dim("      · \(e)") + "\n" }
            }
        }
        out += "\n" + style.bold("Events:") + "\n"
        for e in doc.events {
            let when: String
            if let t = e.time {
                when = "\(UTCFormat.string((t.earliest + t.latest) / 2)) ±\(duration((t.latest - t.earliest) / 2))"
            } else {
                when = fit("(not placed)", 40)
            }
            let cluster = e.cluster.map { " [c\($0 + 1)]" } ?? ""
            out += "  \(when)  \(fit(e.sourceID, 8)) "
                + style.colored("\(e.event.kind): \(e.event.title)", as: e.event.severity) + "\(cluster)\n"
            if let note = e.timeNote { out += style.dim("      (\(note))") + "\n" }
        }
        if !doc.clusters.isEmpty {
            out += "\n" + style.bold("Related across sources:") + "\n"
            for (i, c) in doc.clusters.enumerated() { out += "  c\(i + 1)  \(c.summary)\n" }
        }
        for d in doc.diagnostics { out += style.paint("note:", "33") + " \(d)\n" }
        return out
    }

    static func duration(_ s: Double) -> String {
        if s < 0.001 { return PrintfFormat.fixed(s * 1e6, decimals: 0) + "µs" }
        if s < 1 { return PrintfFormat.fixed(s * 1e3, decimals: 0) + "ms" }
        if s < 120 { return PrintfFormat.fixed(s, decimals: 1) + "s" }
        return PrintfFormat.fixed(s / 60, decimals: 0) + "min"
    }

    static func trim(_ v: Double) -> String { PrintfFormat.fixed(v, decimals: 6) }

    /// Exactly `width` characters: cut, or filled with spaces (a column).
    static func fit(_ s: String, _ width: Int) -> String {
        s.count >= width ? String(s.prefix(width)) : s + String(repeating: " ", count: width - s.count)
    }
}
