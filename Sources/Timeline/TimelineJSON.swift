import Foundation
import LockscanKit

/// `lockscan.timeline/1`: the document as JSON. Event items keep every field
/// `scan --json` gives an event, with `time` replaced by the placed time
/// (`utc`, `earliest`, `latest` as ISO 8601 UTC, `monotonic` as printed) and
/// `sourceID`/`cluster` added, so tools reading scan output read these too.
public enum TimelineJSON {
    public static func object(_ doc: TimelineDocument) throws -> [String: Any] {
        let encoder = JSONEncoder()
        var events: [[String: Any]] = []
        events.reserveCapacity(doc.events.count)
        for e in doc.events {
            guard var item = try JSONSerialization.jsonObject(with: encoder.encode(e.event)) as? [String: Any] else { continue }
            item["time"] = e.time.map(timeObject) ?? NSNull()
            item["sourceID"] = e.sourceID
            item["cluster"] = e.cluster ?? NSNull()
            if let note = e.timeNote { item["timeNote"] = note }
            events.append(item)
        }
        return [
            "schema": TimelineDocument.schemaVersion,
            "sources": doc.sources.map(sourceObject),
            "events": events,
            "clusters": doc.clusters.map { c -> [String: Any] in
                ["events": c.events, "earliest": UTCFormat.string(c.earliest), "latest": UTCFormat.string(c.latest), "summary": c.summary]
            },
            "diagnostics": doc.diagnostics,
        ]
    }

    public static func data(_ doc: TimelineDocument, pretty: Bool = true) throws -> Data {
        try JSONSerialization.data(withJSONObject: object(doc), options: pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys])
    }

    static func timeObject(_ t: EventTime) -> [String: Any] {
        var o: [String: Any] = ["utc": UTCFormat.string(t.utc), "earliest": UTCFormat.string(t.earliest), "latest": UTCFormat.string(t.latest)]
        if let m = t.monotonic { o["monotonic"] = number(m) }
        return o
    }

    /// JSON has no NaN or infinity: an unaligned clock's offset (unknown,
    /// unbounded) is null, and the source says `"placed": false`.
    static func number(_ d: Double) -> Any {
        d.isFinite ? d : NSNull()
    }

    static func sourceObject(_ s: TimelineSource) -> [String: Any] {
        [
            "id": s.id, "role": s.role.rawValue, "file": s.file, "clock": s.clock, "placed": s.placed,
            "segments": s.segments.map { seg -> [String: Any] in
                var o: [String: Any] = ["offsetSeconds": number(seg.offset), "offsetEarliest": number(seg.offsetEarliest),
                                        "offsetLatest": number(seg.offsetLatest), "uncertaintySeconds": number(seg.uncertainty),
                                        "method": seg.method, "evidence": seg.evidence]
                if let f = seg.from { o["from"] = number(f) }
                if let t = seg.to { o["to"] = number(t) }
                return o
            },
        ]
    }
}
