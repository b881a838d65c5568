import FoundationEssentials
import LockscanKit

/// `lockscan.timeline/1`: the document as JSON. Event items keep every field
/// `scan --json` gives an event, with `time` replaced by the placed time
/// (`utc`, `earliest`, `latest` as ISO 8601 UTC, `monotonic` as printed) and
/// `sourceID`/`cluster` added, so tools reading scan output read these too.
public enum TimelineJSON {
    public static func object(_ doc: TimelineDocument) throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        var events: [JSONValue] = []
        events.reserveCapacity(doc.events.count)
        for e in doc.events {
            // The event as scan writes it, then the timeline's own fields.
            guard var item = JSONValue.object(Array(try encoder.encode(e.event))) else { continue }
            item["time"] = e.time.map(timeObject) ?? .null
            item["sourceID"] = .string(e.sourceID)
            item["cluster"] = e.cluster.map { .integer(Int64($0)) } ?? .null
            if let note = e.timeNote { item["timeNote"] = .string(note) }
            events.append(.object(item))
        }
        return [
            "schema": .string(TimelineDocument.schemaVersion),
            "sources": .array(doc.sources.map(sourceObject)),
            "events": .array(events),
            "clusters": .array(doc.clusters.map { c in
                .object(["events": .array(c.events.map { .integer(Int64($0)) }), "earliest": .string(UTCFormat.string(c.earliest)),
                         "latest": .string(UTCFormat.string(c.latest)), "summary": .string(c.summary)])
            }),
            "diagnostics": .array(doc.diagnostics.map { .string($0) }),
        ]
    }

    public static func data(_ doc: TimelineDocument, pretty: Bool = true) throws -> [UInt8] {
        let o = JSONValue.object(try object(doc))
        return Array((pretty ? o.prettyText : o.compactText).utf8)
    }

    static func timeObject(_ t: EventTime) -> JSONValue {
        var o: [String: JSONValue] = ["utc": .string(UTCFormat.string(t.utc)), "earliest": .string(UTCFormat.string(t.earliest)),
                                      "latest": .string(UTCFormat.string(t.latest))]
        if let m = t.monotonic { o["monotonic"] = number(m) }
        return .object(o)
    }

    /// JSON has no NaN or infinity: an unaligned clock's offset (unknown,
    /// unbounded) is null, and the source says `"placed": false`.
    static func number(_ d: Double) -> JSONValue {
        d.isFinite ? .number(d) : .null
    }

    static func sourceObject(_ s: TimelineSource) -> JSONValue {
        .object([
            "id": .string(s.id), "role": .string(s.role.rawValue), "file": .string(s.file), "clock": .string(s.clock),
            "placed": .bool(s.placed),
            "segments": .array(s.segments.map { seg in
                var o: [String: JSONValue] = ["offsetSeconds": number(seg.offset), "offsetEarliest": number(seg.offsetEarliest),
                                              "offsetLatest": number(seg.offsetLatest), "uncertaintySeconds": number(seg.uncertainty),
                                              "method": .string(seg.method), "evidence": .array(seg.evidence.map { .string($0) })]
                if let f = seg.from { o["from"] = number(f) }
                if let t = seg.to { o["to"] = number(t) }
                return .object(o)
            }),
        ])
    }
}
