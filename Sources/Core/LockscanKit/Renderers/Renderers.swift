import FoundationEssentials

/// The JSON document `scan --json` prints. Field names are the schema
/// (docs/json-schema.md); bump `schema` on an incompatible change.
public struct ScanReport: Codable, Sendable {
    public static let schemaVersion = "lockscan.scan/1"
    public var schema = ScanReport.schemaVersion
    public var inputs: [InputSummary]
    public var events: [Event]
    /// Problems that belong to no single input (an analyzer that needed all
    /// of them); absent when there are none. Each input's own are in its
    /// summary.
    public var diagnostics: [Diagnostic]?
    /// Reports that are one incident (`IncidentJoin`); absent when none are.
    public var incidents: [JoinedIncident]?

    public init(inputs: [InputSummary], events: [Event], diagnostics: [Diagnostic] = [], incidents: [JoinedIncident] = []) {
        self.inputs = inputs
        self.events = events
        self.diagnostics = diagnostics.isEmpty ? nil : diagnostics
        self.incidents = incidents.isEmpty ? nil : incidents
    }

    /// Every diagnostic of the run, inputs' first.
    public var allDiagnostics: [Diagnostic] { inputs.flatMap(\.diagnostics) + (diagnostics ?? []) }
}

/// `--json` and `--ndjson`, as the bytes written (the CLI writes bytes: a
/// `String` in between would only be checked for valid UTF-8 and taken
/// apart again). The bytes are `JSONEncoder`'s with `.sortedKeys` and
/// `.withoutEscapingSlashes`; `SortedJSONEncoder` writes them, since
/// `JSONEncoder` itself cost more than the analysis of a lockup storm
/// (its events carry kilobytes of stacks and evidence each).
public enum JSONRendering {
    /// The text of `value` and a line end; only the line end when it cannot
    /// be encoded at all (as before, when `JSONEncoder` refused NaN).
    static func text<T: Encodable>(_ value: T, pretty: Bool) -> [UInt8] {
        var bytes = (try? SortedJSONEncoder.encode(value, pretty: pretty)) ?? []
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func document(_ report: ScanReport) -> [UInt8] {
        text(report, pretty: true)
    }

    /// One line, for `--ndjson`: the hottest output, written by `EventJSON`.
    public static func line(_ event: Event) -> [UInt8] {
        guard var bytes = EventJSON.compactLine(event) else { return text(event, pretty: false) }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// A diagnostic as an `--ndjson` line, `{"diagnostic":{…}}`: told apart
    /// from events by its only key.
    public static func line(_ diagnostic: Diagnostic) -> [UInt8] {
        text(["diagnostic": diagnostic], pretty: false)
    }

    /// A joined incident as an `--ndjson` line, `{"incident":{…}}`, after the
    /// events of its input (they name it by `incidentId` only in `--json`:
    /// a streamed event is out before its incident is known).
    public static func line(_ incident: JoinedIncident) -> [UInt8] {
        guard var bytes = EventJSON.incidentLine(incident) else { return text(["incident": incident], pretty: false) }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}

/// Human-readable report for a terminal. Colour only when asked (the CLI
/// decides with `TerminalStyle.standardOutput()`).
public struct TextRenderer {
    public var style: TerminalStyle
    public var color: Bool { style.color }

    public init(color: Bool) { style = TerminalStyle(color: color) }

    func paint(_ s: String, _ code: String) -> String { style.paint(s, code) }

    func severityLabel(_ s: Severity) -> String { style.severity(s) }

    public func render(_ e: Event) -> String {
        var out = "\(severityLabel(e.severity))  \(paint(e.title, "1"))\n"
        var facts = ["\(e.source.file):\(e.source.line)" + (e.source.endLine > e.source.line ? "-\(e.source.endLine)" : "")]
        if let m = e.time.monotonic { facts.append("t=\(formatSeconds(m))s") }
        if let w = e.time.wall ?? e.time.wallPrinted { facts.append(w) }
        if let c = e.cpu { facts.append("cpu \(c)") }
        if let comm = e.comm { facts.append(e.pid.map { "\(comm):\($0)" } ?? comm) }
        if let k = e.kernel { facts.append(k) }
        if let t = e.taint { facts.append("tainted \(t)") }
        out += "  " + facts.joined(separator: "  ") + "\n"
        if let o = e.occurrences, o.count > 1 {
            let first = o.first.monotonic.map { formatSeconds($0) + "s" } ?? o.first.wall ?? "?"
            let last = o.last.monotonic.map { formatSeconds($0) + "s" } ?? o.last.wall ?? "?"
            out += "  repeated \(o.count) times, \(first) … \(last) (lines \(o.lines.prefix(8).map(String.init).joined(separator: ", "))\(o.lines.count > 8 ? ", …" : ""))\n"
        }
        if let inc = e.incident {
            out += "  cpus:" + (inc.pattern.map { " [\($0)]" } ?? "") + "\n"
            for c in inc.cpus.prefix(16) {
                var line = "    cpu \(c.cpu.map(String.init) ?? "?") \(c.state.rawValue)"
                if let l = c.lock { line += " in \(l)" }
                if let a = c.lockAddress { line += " (lock \(a))" }
                if let comm = c.comm { line += "  \(comm)" }
                out += line + "\n"
            }
            if inc.cpus.count > 16 { out += "    … \(inc.cpus.count - 16) more\n" }
            if !inc.waitsFor.isEmpty {
                out += "    waits for: " + inc.waitsFor.map { "\($0[0]) → \($0[1])" }.joined(separator: ", ") + "\n"
            }
            if let line = inc.holderSentence { out += "    " + line + "\n" }
        }
        for (k, v) in e.details.sorted(by: { $0.key < $1.key }) { out += "  \(k): \(v)\n" }
        if !e.stack.isEmpty {
            // The NMI handler's own frames say how the CPU was interrupted, not
            // where it was: the JSON keeps them, the terminal hides them.
            let shown = e.stack.filter { $0.context != .nmi }
            let hidden = e.stack.count - shown.count
            out += "  stack" + (hidden > 0 ? " (\(hidden) NMI-handler frames hidden)" : "") + ":\n"
            for f in shown.prefix(16) {
                let ctx = f.context.map { " (\($0.rawValue))" } ?? ""
                let src = f.file.map { " \($0):\(f.line ?? 0)" } ?? ""
                let name = f.inlined ? (f.function ?? "?") + " [inline]" : f.display
                out += "    \(f.reliable ? "" : "? ")\(name)\(src)\(ctx)\n"
            }
            if shown.count > 16 { out += "    … \(shown.count - 16) more\n" }
        }
        if !e.explanation.isEmpty { out += wrap(e.explanation, indent: "  ") }
        for h in e.hints {
            out += wrap("→ " + h.text + (h.reference.map { " [\($0)]" } ?? ""), indent: "  ")
        }
        return out + "\n"
    }

    /// A joined incident: its reports, why they are one, holder and waiters.
    public func render(_ incident: JoinedIncident) -> String {
        var out = paint("incident \(incident.id): \(incident.members.count) reports are one incident", "1") + "\n"
        for m in incident.members {
            out += "  \(m.file):\(m.line)  \(m.title)" + (m.cpu.map { "  cpu \($0)" } ?? "") + "\n"
        }
        for w in incident.why { out += wrap("because " + w, indent: "  ") }
        for c in incident.cpus.prefix(16) {
            var line = "    cpu \(c.cpu.map(String.init) ?? "?") \(c.state.rawValue)"
            if let l = c.lock { line += " in \(l)" }
            if let a = c.lockAddress { line += " (lock \(a))" }
            out += line + "\n"
        }
        if !incident.waitsFor.isEmpty {
            out += "    waits for: " + incident.waitsFor.map { "\($0[0]) → \($0[1])" }.joined(separator: ", ")
                + (incident.pattern.map { " [\($0)]" } ?? "") + "\n"
        }
        return out + "\n"
    }

    public func wrap(_ text: String, indent: String, width: Int = 88) -> String {
        var lines: [String] = []
        var cur = indent
        for word in text.split(separator: " ") {
            if cur.count + word.count + 1 > width && cur.count > indent.count {
                lines.append(cur)
                cur = indent + "  "
            }
            cur += (cur.hasSuffix(" ") || cur == indent ? "" : " ") + word
        }
        lines.append(cur)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The closing line: how many events in how many inputs and, when there
    /// are any, of which kinds (`1 oops, 1 soft_lockup`), so a capture whose
    /// only finding is a crash does not read like one where nothing was found.
    public func summary(_ inputs: [InputSummary], events: Int, kinds: [String] = [], diagnostics: [Diagnostic] = []) -> String {
        let files = inputs.count == 1 ? "1 input" : "\(inputs.count) inputs"
        var order: [String] = []
        var counts: [String: Int] = [:]
        for k in kinds {
            if counts[k] == nil { order.append(k) }
            counts[k, default: 0] += 1
        }
        let byKind = order.isEmpty ? "" : ": " + order.map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
        var out = paint("\(events) event\(events == 1 ? "" : "s") in \(files)\(byKind)", "1") + "\n"
        let problems = inputs.flatMap(\.diagnostics) + diagnostics
        if !problems.isEmpty {
            out += paint("\(problems.count) input problem\(problems.count == 1 ? "" : "s"):", "1;31") + "\n"
            for d in problems { out += "  \(d)\n" }
        }
        return out
    }
}

/// `--markdown`: a section per event, stacks in code blocks, for incident docs.
public enum MarkdownRenderer {
    public static func render(_ report: ScanReport) -> String {
        var out = "# lockscan report\n\n"
        out += "| input | format | lines | events |\n|---|---|---:|---:|\n"
        for i in report.inputs { out += "| `\(i.file)` | \(i.format ?? "–") | \(i.lines) | \(i.events) |\n" }
        out += "\n"
        let problems = report.allDiagnostics
        if !problems.isEmpty {
            out += "## Input problems\n\n" + problems.map { "- `\($0.description.replacing("`", with: "'"))`\n" }.joined() + "\n"
        }
        if let incidents = report.incidents {
            out += "## Incidents\n\n"
            for inc in incidents {
                out += "### Incident \(inc.id)\n\n"
                for m in inc.members {
                    out += "- `\(m.file)` line \(m.line): \(m.title)\(m.cpu.map { " (cpu \($0))" } ?? "")\n"
                }
                out += "\n" + inc.why.map { "Joined because \($0).\n" }.joined()
                if !inc.waitsFor.isEmpty {
                    out += "\nWaits for: " + inc.waitsFor.map { "CPU \($0[0]) → CPU \($0[1])" }.joined(separator: ", ")
                        + (inc.pattern.map { " (\($0))" } ?? "") + "\n"
                }
                out += "\n"
            }
        }
        for (n, e) in report.events.enumerated() {
            out += "## \(n + 1). \(e.title)\n\n"
            out += "- **kind:** `\(e.kind)`, **severity:** \(e.severity.rawValue)\n"
            out += "- **where:** `\(e.source.file)` line \(e.source.line)\(e.source.endLine > e.source.line ? "–\(e.source.endLine)" : "")\n"
            if let m = e.time.monotonic { out += "- **time:** \(formatSeconds(m)) s after boot\(e.time.wall.map { ", \($0)" } ?? "")\n" }
            if let c = e.cpu { out += "- **cpu:** \(c)\n" }
            if let comm = e.comm { out += "- **task:** \(comm)\(e.pid.map { " (pid \($0))" } ?? "")\n" }
            if let k = e.kernel { out += "- **kernel:** \(k)\(e.taint.map { ", tainted \($0)" } ?? "")\n" }
            if let o = e.occurrences, o.count > 1 { out += "- **repeated:** \(o.count) times (lines \(o.lines.prefix(12).map(String.init).joined(separator: ", ")))\n" }
            out += "\n\(e.explanation)\n\n"
            if let inc = e.incident {
                out += "| cpu | state | lock | address | irqs off | task |\n|---:|---|---|---|---|---|\n"
                for c in inc.cpus {
                    out += "| \(c.cpu.map(String.init) ?? "?") | \(c.state.rawValue) | \(c.lock.map { "`\($0)`" } ?? "") | \(c.lockAddress ?? "") | \(c.irqsDisabled.map { $0 ? "yes" : "no" } ?? "") | \(c.comm ?? "") |\n"
                }
                if !inc.waitsFor.isEmpty {
                    out += "\nWaits for: " + inc.waitsFor.map { "CPU \($0[0]) → CPU \($0[1])" }.joined(separator: ", ") + (inc.pattern.map { " (\($0))" } ?? "") + "\n"
                }
                if let line = inc.holderSentence { out += "\n**" + line + "**\n" }
                out += "\n"
            }
            if !e.stack.isEmpty {
                out += "```\n" + e.stack.map { ($0.reliable ? "" : "? ") + $0.display }.joined(separator: "\n") + "\n```\n\n"
            }
            for h in e.hints { out += "- \(h.text)\(h.reference.map { " (\($0))" } ?? "")\n" }
            out += "\n<details><summary>evidence</summary>\n\n```\n" + e.evidence.joined(separator: "\n") + "\n```\n</details>\n\n"
        }
        return out
    }
}

func formatSeconds(_ v: Double) -> String {
    PrintfFormat.fixed(v, decimals: 6)
}
