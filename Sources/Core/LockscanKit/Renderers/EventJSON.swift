import LockscanInput

/// An event's `--ndjson` line written by hand, for the types a storm's
/// events are made of (the event, its frames, clock, location and hints):
/// the same members as their `encode(to:)`, in key order, for a fraction
/// of what `Encodable` costs (`CompactJSONWriter` says why). The rarer parts
/// (`incident`, `occurrences`) go through `SortedJSONEncoder`.
///
/// `JSONRenderingEquivalenceTests` and `SortedJSONEncoderTests` compare every
/// line with `JSONEncoder`'s; the latter fails when a type gains a field the
/// full fixture does not set, so a new field cannot be missed here quietly.
enum EventJSON {
    /// The line without its line end; nil when the writer failed (the
    /// caller then uses `SortedJSONEncoder`).
    static func compactLine(_ e: Event) -> [UInt8]? {
        var w = CompactJSONWriter(capacity: 1024 + e.stack.count * 96 + e.evidence.reduce(0) { $0 &+ $1.utf8.count &+ 4 })
        write(e, to: &w)
        return w.failed ? nil : w.bytes
    }

    static func write(_ e: Event, to w: inout CompactJSONWriter) {
        w.object { w in
            w.key("analyzer"); w.string(e.analyzer)
            w.member("comm", e.comm)
            w.member("cpu", e.cpu)
            w.key("details"); writeDetails(e.details, to: &w)
            w.key("evidence"); w.array(e.evidence) { w, line in w.string(line) }
            w.key("explanation"); w.string(e.explanation)
            w.key("hints"); w.array(e.hints) { w, hint in write(hint, to: &w) }
            w.member("incident", encodable: e.incident)
            w.member("incidentId", e.incidentId)
            w.member("kernel", e.kernel)
            w.key("kind"); w.string(e.kind)
            w.member("occurrences", encodable: e.occurrences)
            w.member("pid", e.pid)
            w.key("severity"); w.string(e.severity.rawValue)
            w.key("source"); write(e.source, to: &w)
            w.key("stack"); w.array(e.stack) { w, frame in write(frame, to: &w) }
            w.member("taint", e.taint)
            w.key("time"); write(e.time, to: &w)
            w.key("title"); w.string(e.title)
        }
    }

    /// `{"incident":{…}}` without its line end; nil when the writer failed.
    /// Written by hand because an incident that spans a storm names every
    /// report of it: 13,000 reports of one stuck CPU made a 3 MB line whose
    /// tree, built to sort keys, took 17 MB, the largest thing a streamed
    /// scan held. The CPUs (a few, classified) go the generic way.
    static func incidentLine(_ i: JoinedIncident) -> [UInt8]? {
        var w = CompactJSONWriter(capacity: 512 + i.members.count * 112 + i.why.reduce(0) { $0 &+ $1.utf8.count &+ 4 })
        w.object { w in
            w.key("incident")
            w.object { w in
                // `JoinedIncident.encode(to:)`: the stacks are in the member events already.
                w.key("cpus"); w.encodable(i.cpus.map { cpu -> Incident.CPU in var cpu = cpu; cpu.stack = []; return cpu })
                w.key("events"); w.array(i.members) { w, m in write(m, to: &w) }
                w.key("id"); w.integer(i.id)
                w.member("pattern", i.pattern)
                w.key("waitsFor"); w.array(i.waitsFor) { w, pair in w.array(pair) { w, cpu in w.integer(cpu) } }
                w.key("why"); w.array(i.why) { w, reason in w.string(reason) }
            }
        }
        return w.failed ? nil : w.bytes
    }

    static func write(_ m: JoinedIncident.Member, to w: inout CompactJSONWriter) {
        w.object { w in
            w.member("cpu", m.cpu)
            w.key("file"); w.string(m.file)
            w.key("kind"); w.string(m.kind)
            w.key("line"); w.integer(m.line)
            w.key("title"); w.string(m.title)
        }
    }

    /// A `[String: String]`'s keys are only known at run time: sorted here
    /// by their UTF-8 bytes, as `.sortedKeys` sorts them.
    static func writeDetails(_ details: [String: String], to w: inout CompactJSONWriter) {
        let sorted = details.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        w.object { w in
            for (k, v) in sorted {
                w.runtimeKey(k)
                w.string(v)
            }
        }
    }

    /// `Frame.encode(to:)`: `offset` and `size` as `0x…` strings, `ip` and
    /// `inlined` only when true.
    static func write(_ f: Frame, to w: inout CompactJSONWriter) {
        w.object { w in
            w.member("address", f.address)
            w.member("context", f.context?.rawValue)
            w.member("file", f.file)
            w.member("function", f.function)
            if f.inlined { w.key("inlined"); w.bool(true) }
            if f.isInstructionPointer { w.key("ip"); w.bool(true) }
            w.member("line", f.line)
            w.member("module", f.module)
            if let offset = f.offset { w.key("offset"); w.hexString(offset) }
            w.key("reliable"); w.bool(f.reliable)
            if let size = f.size { w.key("size"); w.hexString(size) }
        }
    }

    static func write(_ s: SourceLocation, to w: inout CompactJSONWriter) {
        w.object { w in
            w.key("byteOffset"); w.integer(s.byteOffset)
            w.key("endLine"); w.integer(s.endLine)
            w.key("file"); w.string(s.file)
            w.key("line"); w.integer(s.line)
        }
    }

    static func write(_ c: Clock, to w: inout CompactJSONWriter) {
        w.object { w in
            if let m = c.monotonic { w.key("monotonic"); w.number(m) }
            w.member("wall", c.wall)
            w.member("wallPrinted", c.wallPrinted)
        }
    }

    static func write(_ h: Hint, to w: inout CompactJSONWriter) {
        w.object { w in
            w.member("reference", h.reference)
            w.key("text"); w.string(h.text)
        }
    }
}
