import FoundationEssentials

/// Writes an `Encodable` value as the same bytes `JSONEncoder` writes with
/// `.sortedKeys, .withoutEscapingSlashes` (and `.prettyPrinted` when asked),
/// at a fraction of its cost: it uses the types' own `encode(to:)`, so there
/// is one encoding per type and nothing to keep in step, but builds a
/// `JSONTree` of flat arrays instead of `JSONEncoder`'s dictionaries of
/// boxed values, and writes scalars' bytes as they come.
///
/// What it does not reproduce exactly it refuses (`JSONTree.Refusal`), and
/// `encode` then returns `JSONEncoder`'s own answer: a refused value costs
/// the old price, never different bytes.
enum SortedJSONEncoder {
    static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
        do {
            return try tree(value).write(pretty: pretty)
        } catch {
            return Array(try reference(pretty: pretty).encode(value))
        }
    }

    /// Only the fast path: throws the refusal instead of asking `JSONEncoder`
    /// (for tests, which must see that the fast path answered).
    static func encodeWithoutFallback<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
        try tree(value).write(pretty: pretty)
    }

    /// The encoder whose output this one reproduces.
    static func reference(pretty: Bool) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    private static func tree<T: Encodable>(_ value: T) throws -> JSONTree {
        let tree = JSONTree()
        try tree.encodeValue(value, into: JSONTree.root)
        return tree
    }
}

extension JSONTree {
    func encodeNil(into node: Int) {
        setScalar(node) { $0.append(contentsOf: "null".utf8) }
    }

    func encodeBool(_ value: Bool, into node: Int) {
        setScalar(node) { $0.append(contentsOf: value ? "true".utf8 : "false".utf8) }
    }

    func encodeString(_ value: String, into node: Int) {
        setScalar(node) { JSONText.appendString(value, to: &$0) }
    }

    func encodeInteger<T: FixedWidthInteger>(_ value: T, into node: Int) {
        setScalar(node) { JSONText.appendInteger(value, to: &$0) }
    }

    func encodeFloat<T: BinaryFloatingPoint & CustomStringConvertible>(_ value: T, into node: Int) throws {
        var finite = true
        setScalar(node) { finite = JSONText.appendFloat(value, to: &$0) }
        if !finite { throw Refusal.nonFiniteNumber }
    }

    /// A value through its own `encode(to:)`, except the Foundation types
    /// `JSONEncoder` writes its own way (checked by type, not by a cast, so
    /// the check costs nothing for every other value).
    func encodeValue<T: Encodable>(_ value: T, into node: Int) throws {
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            throw Refusal.foundationValue
        }
        try value.encode(to: JSONTreeEncoder(tree: self, node: node))
        if let refused { throw refused }
    }
}

/// The `Encoder` for one node of a `JSONTree`; also its single-value container.
struct JSONTreeEncoder: Encoder, SingleValueEncodingContainer {
    let tree: JSONTree
    let node: Int

    var codingPath: [any CodingKey] { tree.codingPath(to: node) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        _ = tree.become(.object, node)
        return KeyedEncodingContainer(JSONTreeKeyedContainer<Key>(tree: tree, node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        _ = tree.become(.array, node)
        return JSONTreeUnkeyedContainer(tree: tree, node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { tree.encodeNil(into: node) }
    func encode(_ value: Bool) throws { tree.encodeBool(value, into: node) }
    func encode(_ value: String) throws { tree.encodeString(value, into: node) }
    func encode(_ value: Double) throws { try tree.encodeFloat(value, into: node) }
    func encode(_ value: Float) throws { try tree.encodeFloat(value, into: node) }
    func encode(_ value: Int) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: Int8) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: Int16) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: Int32) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: Int64) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: UInt) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: UInt8) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: UInt16) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: UInt32) throws { tree.encodeInteger(value, into: node) }
    func encode(_ value: UInt64) throws { tree.encodeInteger(value, into: node) }
    func encode<T: Encodable>(_ value: T) throws {
        guard tree.kind(of: node) == .unset else { return tree.refuse(.unusualEncoding) }
        try tree.encodeValue(value, into: node)
    }
}

/// An object's members: each `encode(_:forKey:)` adds a member node at its
/// key's sorted place and encodes the value into it.
struct JSONTreeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let tree: JSONTree
    let node: Int

    var codingPath: [any CodingKey] { tree.codingPath(to: node) }

    private func member(_ key: Key) -> JSONTreeEncoder {
        JSONTreeEncoder(tree: tree, node: tree.addMember(to: node, key: key.stringValue))
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key).encodeNil() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key).encode(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try member(key).encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        member(key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        member(key).unkeyedContainer()
    }

    /// `JSONEncoder` fills a super-encoder's slot only when it is released:
    /// not reproduced, refused.
    mutating func superEncoder() -> any Encoder {
        tree.refuse(.unusualEncoding)
        return JSONTreeEncoder(tree: tree, node: tree.addMember(to: node, key: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        tree.refuse(.unusualEncoding)
        return member(key)
    }
}

/// An array's elements, appended in order.
struct JSONTreeUnkeyedContainer: UnkeyedEncodingContainer {
    let tree: JSONTree
    let node: Int

    var codingPath: [any CodingKey] { tree.codingPath(to: node) }
    var count: Int { tree.count(of: node) }

    private func element() -> JSONTreeEncoder {
        JSONTreeEncoder(tree: tree, node: tree.appendElement(to: node))
    }

    mutating func encodeNil() throws { try element().encodeNil() }
    mutating func encode(_ value: Bool) throws { try element().encode(value) }
    mutating func encode(_ value: String) throws { try element().encode(value) }
    mutating func encode(_ value: Double) throws { try element().encode(value) }
    mutating func encode(_ value: Float) throws { try element().encode(value) }
    mutating func encode(_ value: Int) throws { try element().encode(value) }
    mutating func encode(_ value: Int8) throws { try element().encode(value) }
    mutating func encode(_ value: Int16) throws { try element().encode(value) }
    mutating func encode(_ value: Int32) throws { try element().encode(value) }
    mutating func encode(_ value: Int64) throws { try element().encode(value) }
    mutating func encode(_ value: UInt) throws { try element().encode(value) }
    mutating func encode(_ value: UInt8) throws { try element().encode(value) }
    mutating func encode(_ value: UInt16) throws { try element().encode(value) }
    mutating func encode(_ value: UInt32) throws { try element().encode(value) }
    mutating func encode(_ value: UInt64) throws { try element().encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try element().encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        element().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        element().unkeyedContainer()
    }

    /// Refused for the same reason as the keyed container's.
    mutating func superEncoder() -> any Encoder {
        tree.refuse(.unusualEncoding)
        return element()
    }
}
