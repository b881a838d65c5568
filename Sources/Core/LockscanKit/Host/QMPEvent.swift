import FoundationEssentials

/// A QMP event (qemu's machine protocol), from either of the two ways it is
/// logged: the JSON object qemu sends,
/// `{"timestamp": {"seconds": 1489557828, "microseconds": 180000}, "event": "STOP"}`,
/// or `virsh qemu-monitor-event --timestamp` output, whose libvirt stamp the
/// line prefix parser has already taken: `event STOP for domain vm105: <null>`.
public struct QMPEvent: Sendable, Equatable {
    /// `STOP`, `RESUME`, `SHUTDOWN`, `GUEST_PANICKED`, `RESET`, `MIGRATION`, …
    public var name: String
    /// The `data` member flattened to strings (`guest` → `true`, `reason` →
    /// `guest-panic`; nested objects as compact JSON).
    public var data: [String: String]
    /// The domain, when virsh named it.
    public var domain: String?

    public init(name: String, data: [String: String] = [:], domain: String? = nil) {
        self.name = name
        self.data = data
        self.domain = domain
    }

    /// Parses a record's text; nil when it is neither form.
    public static func parse(_ text: String) -> QMPEvent? {
        let t = text.drop(while: { $0 == " " })
        if t.first == "{" {
            guard let object = QMPEventLine.object(Array(t.utf8)), let name = object["event"]?.string else { return nil }
            return QMPEvent(name: name, data: flatten(object["data"]))
        }
        // virsh: "event NAME for domain DOM: DETAILS" (DETAILS is JSON or <null>)
        guard t.hasPrefix("event ") else { return nil }
        let rest = t.dropFirst(6)
        let name = rest.prefix(while: { $0 != " " })
        guard !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) else { return nil }
        var event = QMPEvent(name: String(name))
        if let r = rest.firstOccurrence(of: " for domain ") {
            let after = rest[r.upperBound...]
            if let colon = after.firstOccurrence(of: ": ") {
                event.domain = String(after[..<colon.lowerBound]).trimming { $0 == "'" }
                let details = after[colon.upperBound...]
                if details.first == "{", let obj = QMPEventLine.object(Array(details.utf8)) { event.data = flatten(.object(obj)) }
            }
        }
        return event
    }

    static func flatten(_ value: JSONValue?) -> [String: String] {
        guard let dict = value?.object else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in dict {
            switch v {
            case let .string(s): out[k] = s
            case let .bool(b): out[k] = b ? "true" : "false"
            case let .integer(i): out[k] = String(i)
            case let .unsigned(u): out[k] = String(u)
            case let .number(d): out[k] = JSONValue.number(d).compactText
            case .null: continue   // nothing to show
            case .array, .object: out[k] = v.compactText
            }
        }
        return out
    }
}
