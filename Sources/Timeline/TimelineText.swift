import Foundation
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
                when = "(not placed)".padding(toLength: 40, withPad: " ", startingAt: 0)
            }
            let cluster = e.cluster.map { " [c\($0 + 1)]" } ?? ""
            out += "  \(when)  \(e.sourceID.padding(toLength: 8, withPad: " ", startingAt: 0)) "
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
        if s < 0.001 { return String(format: "%.0fµs", s * 1e6) }
        if s < 1 { return String(format: "%.0fms", s * 1e3) }
        if s < 120 { return String(format: "%.1fs", s) }
        return String(format: "%.0fmin", s / 60)
    }

    static func trim(_ v: Double) -> String { String(format: "%.6f", v) }
}
