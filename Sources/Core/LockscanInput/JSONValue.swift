import FoundationEssentials

/// A JSON document of no fixed shape: journal export lines and QMP events,
/// whose keys differ from line to line. Read with FoundationEssentials'
/// `JSONDecoder` (the full Foundation's `JSONSerialization` is not loaded);
/// written back by LockscanKit's renderers (`compactText`, `prettyText`).
/// Integers stay integers when they fit 64 bits, so `"seconds": 1700000000`
/// is not rewritten as a Double where it is quoted back; a longer integer is
/// read as the nearest Double (QMP and journald write none). Of a key given
/// twice, one value is kept (JSON leaves it open which).
public enum JSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// Above `Int64.max` (QMP's u64 values).
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The document in `bytes`, or nil when it is not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// `bytes` when it holds one JSON object, as a dictionary.
    public static func object(_ bytes: [UInt8]) -> [String: JSONValue]? {
        if case let .object(o)? = parse(bytes) { return o }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var o: [String: JSONValue] = [:]
            for key in keyed.allKeys { o[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key) }
            self = .object(o)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var a: [JSONValue] = []
            if let n = list.count { a.reserveCapacity(n) }
            while !list.isAtEnd { a.append(try list.decode(JSONValue.self)) }
            self = .array(a)
            return
        }
        let one = try decoder.singleValueContainer()
        if one.decodeNil() { self = .null }
        else if let b = try? one.decode(Bool.self) { self = .bool(b) }
        else if let i = try? one.decode(Int64.self) { self = .integer(i) }
        else if let u = try? one.decode(UInt64.self) { self = .unsigned(u) }
        else if let d = try? one.decode(Double.self) { self = .number(d) }
        else { self = .string(try one.decode(String.self)) }
    }

    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var object: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }
    public var array: [JSONValue]? { if case let .array(a) = self { return a }; return nil }

    /// A number, integer or not, as a Double.
    public var double: Double? {
        switch self {
        case let .integer(i): Double(i)
        case let .unsigned(u): Double(u)
        case let .number(d): d
        default: nil
        }
    }

    /// A key known only at run time (an object's members).
    package struct AnyKey: CodingKey {
        package var stringValue: String
        package var intValue: Int? { nil }
        package init(stringValue: String) { self.stringValue = stringValue }
        package init?(intValue: Int) { nil }
    }
}
