import FoundationEssentials

/// A `JSONValue` written back as JSON, as every other JSON lockscan writes:
/// through `SortedJSONEncoder`, keys in UTF-8 order, `/` unescaped, numbers
/// as `JSONEncoder` writes them (`2.0` → `2`, `1e+20`).
extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case let .bool(b): var c = encoder.singleValueContainer(); try c.encode(b)
        case let .integer(i): var c = encoder.singleValueContainer(); try c.encode(i)
        case let .unsigned(u): var c = encoder.singleValueContainer(); try c.encode(u)
        // JSON has no NaN or infinity; a value read from JSON never holds one.
        case let .number(d): var c = encoder.singleValueContainer(); if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case let .string(s): var c = encoder.singleValueContainer(); try c.encode(s)
        case let .array(a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case let .object(o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in o { try c.encode(v, forKey: AnyKey(stringValue: k)) }
        }
    }

    /// One line of JSON.
    public var compactText: String { text(pretty: false) }

    /// Indented JSON, as `scan --json` writes.
    public var prettyText: String { text(pretty: true) }

    private func text(pretty: Bool) -> String {
        String(decoding: (try? SortedJSONEncoder.encode(self, pretty: pretty)) ?? Array("null".utf8), as: UTF8.self)
    }
}
