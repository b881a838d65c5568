/// A cursor over the bytes of one line. Prefix and frame parsing run on bytes,
/// not on `String`, because they run on every line that reaches an analyzer
/// and Swift `String` indexing is an order of magnitude slower.
///
/// It lives in LockscanInput (the prefix parser) and is used by the stack
/// parsers in LockscanKit: `@inlinable` lets the optimizer inline it across
/// that module boundary as it did when both were one module (without it, a
/// 50 MB scan ran 2% more instructions in calls to `skip` alone).
@frozen
package struct ByteScanner {
    package let bytes: [UInt8]
    package var pos: Int

    @inlinable package init(_ bytes: [UInt8], at pos: Int = 0) {
        self.bytes = bytes
        self.pos = pos
    }

    @inlinable package var atEnd: Bool { pos >= bytes.count }
    @inlinable package var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    @inlinable package func peek(_ ahead: Int) -> UInt8? {
        let i = pos + ahead
        return i < bytes.count ? bytes[i] : nil
    }

    @inlinable package mutating func skipSpaces() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x09 { pos += 1 }
    }

    @discardableResult
    @inlinable package mutating func skip(_ byte: UInt8) -> Bool {
        if peek == byte { pos += 1; return true }
        return false
    }

    @discardableResult
    @inlinable package mutating func skip(_ literal: String) -> Bool {
        // Compares the literal's UTF-8 in place: copying it into an array
        // allocated on every call, and walking `String.UTF8View` byte by byte
        // cost 15% of a scan of a soft-lockup storm (the trace and prefix
        // parsers call this dozens of times per line). Literals are always
        // contiguous; the fallback is for a bridged string.
        guard pos <= bytes.count else { return false }
        let start = pos
        let matched = literal.utf8.withContiguousStorageIfAvailable { lit -> Bool in
            guard lit.count <= bytes.count - start else { return false }
            return bytes.withUnsafeBufferPointer { b in
                var k = 0
                while k < lit.count {
                    if b[start + k] != lit[k] { return false }
                    k += 1
                }
                return true
            }
        } ?? Array(literal.utf8).withUnsafeBufferPointer { lit in
            lit.count <= bytes.count - start && zip(bytes[start...], lit).allSatisfy { $0 == $1 }
        }
        if matched { pos += literal.utf8.count }
        return matched
    }

    /// For literals kept as bytes (lists compared against every line).
    @inlinable package func hasPrefix(_ literal: [UInt8]) -> Bool {
        guard pos <= bytes.count, literal.count <= bytes.count - pos else { return false }
        for k in literal.indices where bytes[pos + k] != literal[k] { return false }
        return true
    }

    @inlinable package func hasPrefix(_ literal: String) -> Bool {
        var copy = self
        return copy.skip(literal)
    }

    /// Decimal digits; returns the count taken. The digits come from the
    /// input, so a run whose value does not fit an `Int` is no number (nil,
    /// nothing taken) rather than a wrapped, silently wrong one: every
    /// number a prefix or frame parser reads goes through here.
    @discardableResult
    @inlinable package mutating func digits(min: Int = 1, max: Int = Int.max) -> (count: Int, value: Int)? {
        var n = 0
        var v = 0
        var fits = true
        while n < max, let b = peek, b >= 0x30, b <= 0x39 {
            let (times10, o1) = v.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int(b - 0x30))
            if o1 || o2 { fits = false }
            v = next
            pos += 1
            n += 1
        }
        if n < min || !fits { pos -= n; return nil }
        return (n, v)
    }

    /// Hex digits (no 0x); returns the text.
    @inlinable package mutating func hexDigits() -> String? {
        let start = pos
        while let b = peek, isHex(b) { pos += 1 }
        return pos > start ? String(decoding: bytes[start..<pos], as: UTF8.self) : nil
    }

    @inlinable package mutating func word(until stop: (UInt8) -> Bool) -> String? {
        let start = pos
        while let b = peek, !stop(b) { pos += 1 }
        return pos > start ? String(decoding: bytes[start..<pos], as: UTF8.self) : nil
    }

    @inlinable package func text(from start: Int, to end: Int? = nil) -> String {
        String(decoding: bytes[start..<(end ?? bytes.count)], as: UTF8.self)
    }

    package var rest: String { text(from: Swift.min(pos, bytes.count)) }
}

@inlinable @inline(__always) package func isHex(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
}

@inlinable @inline(__always) package func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

@inlinable @inline(__always) package func isSymbolByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b == 0x5f || b == 0x2e || b == 0x24
}
