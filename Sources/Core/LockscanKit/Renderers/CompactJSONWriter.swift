#if canImport(Glibc)
import Glibc
#endif

/// Compact JSON written member by member by code that knows the type
/// (`EventJSON`), for the one output too hot for `Encodable`: `--ndjson`'s
/// event lines. Even an encoder that does nothing costs ~17 µs for a storm's
/// event through `encode(to:)` (containers boxed, every call dynamically
/// dispatched), about what the whole line may cost.
///
/// The writer keeps what makes the bytes `JSONEncoder`'s: keys must come in
/// their UTF-8 byte order (`.sortedKeys`) and are checked as they come;
/// scalars use `JSONText`. A key out of order, a non-finite number or a
/// nested value `SortedJSONEncoder` refused marks the line `failed`, and
/// the caller writes it the generic way: a mistake in a hand-written
/// writer costs speed, never different bytes.
struct CompactJSONWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var failed = false
    /// Whether the current object or array has had a member yet.
    private var empty = true
    /// The current object's last key, to check the next one comes after it.
    private var lastKey: StaticString?

    init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// An object whose members `body` writes with `key` and a value each.
    mutating func object(_ body: (inout CompactJSONWriter) -> Void) {
        let outer = (empty, lastKey)
        (empty, lastKey) = (true, nil)
        bytes.append(UInt8(ascii: "{"))
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        (empty, lastKey) = outer
    }

    /// An array of `items`, each written by `element`.
    mutating func array<C: Collection>(_ items: C, _ element: (inout CompactJSONWriter, C.Element) -> Void) {
        let outer = (empty, lastKey)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for item in items {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            (empty, lastKey) = (true, nil)
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
        (empty, lastKey) = outer
    }

    /// The next member's key; its value must follow.
    mutating func key(_ k: StaticString) {
        if let last = lastKey, !Self.precedes(last, k) { failed = true }
        lastKey = k
        startMember(literal: k)
    }

    /// A key known only at run time (a dictionary's); the caller gives them
    /// in order. Not an overload of `key`: a literal would pick it and skip
    /// the order check.
    mutating func runtimeKey(_ k: String) {
        lastKey = nil
        var k = k
        k.withUTF8 { startMember($0) }
    }

    private mutating func startMember(_ key: UnsafeBufferPointer<UInt8>) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        JSONText.appendString(utf8: key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A key written in the code: `"key":` appended in one piece when it
    /// needs no escape (every key `EventJSON` writes), which a frame's six
    /// members made a tenth of an event line's cost.
    private mutating func startMember(literal key: StaticString) {
        let count = key.utf8CodeUnitCount
        let k = UnsafeBufferPointer(start: key.utf8Start, count: count)
        guard !k.contains(where: { $0 < 0x20 || $0 == JSONText.quote || $0 == JSONText.backslash }) else {
            return startMember(k)
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 4) { piece in
            var n = 0
            if !empty { piece[n] = UInt8(ascii: ","); n += 1 }
            piece[n] = JSONText.quote
            for b in k { n += 1; piece[n] = b }
            piece[n + 1] = JSONText.quote
            piece[n + 2] = UInt8(ascii: ":")
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: piece[..<(n + 3)]))
        }
        empty = false
    }

    /// UTF-8 byte order, as `.sortedKeys` sorts: memcmp, then length.
    private static func precedes(_ a: StaticString, _ b: StaticString) -> Bool {
        let n = min(a.utf8CodeUnitCount, b.utf8CodeUnitCount)
        let c = memcmp(a.utf8Start, b.utf8Start, n)
        return c != 0 ? c < 0 : a.utf8CodeUnitCount < b.utf8CodeUnitCount
    }

    mutating func string(_ s: String) { JSONText.appendString(s, to: &bytes) }
    mutating func integer<T: FixedWidthInteger>(_ v: T) { JSONText.appendInteger(v, to: &bytes) }
    mutating func bool(_ v: Bool) { bytes.append(contentsOf: v ? "true".utf8 : "false".utf8) }

    mutating func number<T: BinaryFloatingPoint & CustomStringConvertible>(_ v: T) {
        if !JSONText.appendFloat(v, to: &bytes) { failed = true }
    }

    /// `0x` and lower-case hex digits, quoted: `Frame`'s `hex`, without a String.
    mutating func hexString(_ v: UInt64) {
        bytes.append(contentsOf: [JSONText.quote, UInt8(ascii: "0"), UInt8(ascii: "x")])
        var shift = max(0, (64 - v.leadingZeroBitCount + 3) / 4 * 4 - 4)
        while true {
            let digit = UInt8(truncatingIfNeeded: (v >> UInt64(shift)) & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") &+ digit : UInt8(ascii: "a") &+ (digit &- 10))
            if shift == 0 { break }
            shift -= 4
        }
        bytes.append(JSONText.quote)
    }

    /// A value of a type without a writer of its own, the generic way.
    mutating func encodable<T: Encodable>(_ value: T) {
        do {
            bytes.append(contentsOf: try SortedJSONEncoder.encodeWithoutFallback(value, pretty: false))
        } catch {
            failed = true
        }
    }

    // Optional members are left out when nil, as `encodeIfPresent` does.

    mutating func member(_ k: StaticString, _ v: String?) {
        guard let v else { return }
        key(k)
        string(v)
    }

    mutating func member(_ k: StaticString, _ v: Int?) {
        guard let v else { return }
        key(k)
        integer(v)
    }

    mutating func member<T: Encodable>(_ k: StaticString, encodable v: T?) {
        guard let v else { return }
        key(k)
        encodable(v)
    }
}
