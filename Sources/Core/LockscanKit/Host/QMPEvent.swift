import Foundation

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
            guard let object = QMPEventLine.object(Array(t.utf8)), let name = object["event"] as? String else { return nil }
            return QMPEvent(name: name, data: flatten(object["data"]))
        }
        // virsh: "event NAME for domain DOM: DETAILS" (DETAILS is JSON or <null>)
        guard t.hasPrefix("event ") else { return nil }
        let rest = t.dropFirst(6)
        let name = rest.prefix(while: { $0 != " " })
        guard !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) else { return nil }
        var event = QMPEvent(name: String(name))
        if let r = rest.range(of: " for domain ") {
            let after = rest[r.upperBound...]
            if let colon = after.range(of: ": ") {
                event.domain = String(after[..<colon.lowerBound]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                let details = after[colon.upperBound...]
                if details.first == "{", let obj = QMPEventLine.object(Array(details.utf8)) { event.data = flatten(obj) }
            }
        }
        return event
    }

    static func flatten(_ value: Any?) -> [String: String] {
        guard let dict = value as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in dict {
            switch v {
            case let s as String: out[k] = s
            case let n as NSNumber:
                // JSON true/false arrive as NSNumbers of type char.
                out[k] = String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : n.stringValue
            default:
                if let d = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]) {
                    out[k] = String(decoding: d, as: UTF8.self)
                }
            }
        }
        return out
    }
}
