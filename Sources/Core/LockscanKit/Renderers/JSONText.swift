/// The bytes Foundation's `JSONEncoder` writes for one scalar, reproduced so
/// `SortedJSONEncoder` can write them without building its value tree.
///
/// Each form follows swift-foundation's `JSONWriter`/`JSONEncoder` with the
/// options lockscan uses (`.sortedKeys, .withoutEscapingSlashes`):
/// - a string is quoted; `"` and `\` get a backslash; the control characters
///   U+0000–U+001F are written `\b \f \n \r \t` or `\u00xx` (lower-case hex);
///   everything else — `/`, U+007F, U+2028, any non-ASCII character — is
///   written as its UTF-8 bytes. A Swift `String` is always valid UTF-8, so
///   there is no invalid sequence to repair here.
/// - an integer is its `description`.
/// - a `Double`/`Float` is its `description` without a trailing `.0`
///   (`12.0` → `12`, `1e+16` stays); NaN and infinities are refused, as
///   `JSONEncoder` refuses them under its default strategy.
/// `JSONRenderingEquivalenceTests` compares every form with `JSONEncoder`'s.
enum JSONText {
    /// Appends `s` as a quoted, escaped JSON string.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(utf8: $0, to: &out) }
    }

    static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(quote)
        if let base = bytes.baseAddress {
            let n = bytes.count
            var mark = 0
            var i = 0
            while i < n {
                // Most text needs no escape: step over it eight bytes at a time.
                if n - i >= 8, !needsEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = base[i]
                if b < 0x20 || b == quote || b == backslash {
                    if i > mark { out.append(contentsOf: UnsafeBufferPointer(start: base + mark, count: i - mark)) }
                    appendEscape(b, to: &out)
                    mark = i + 1
                }
                i += 1
            }
            if n > mark { out.append(contentsOf: UnsafeBufferPointer(start: base + mark, count: n - mark)) }
        }
        out.append(quote)
    }

    /// Whether any of eight bytes is below 0x20, `"` or `\` (the classic
    /// "has a zero byte" and "has a byte less than" word tests: exact for
    /// "any", which is all this asks).
    @inline(__always)
    private static func needsEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let control = (w &- ones &* 0x20) & ~w & high
        let q = w ^ (ones &* UInt64(quote))
        let bs = w ^ (ones &* UInt64(backslash))
        let special = ((q &- ones) & ~q | (bs &- ones) & ~bs) & high
        return control | special != 0
    }

    /// The escape of one byte that JSON does not allow bare.
    private static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        out.append(backslash)
        switch b {
        case quote, backslash: out.append(b)
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigit(b >> 4), hexDigit(b & 0xF)])
        }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") &+ v : UInt8(ascii: "a") &+ (v &- 10)
    }

    /// Appends an integer of up to 64 bits in decimal, `-` first when negative,
    /// without making a `String`. The magnitude is taken as unsigned, so
    /// `Int.min` needs no negation that could trap.
    static func appendInteger<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        guard T.bitWidth <= 64 else {
            out.append(contentsOf: v.description.utf8)
            return
        }
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = UInt64(truncatingIfNeeded: v.magnitude)
        // 20 digits hold UInt64.max.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                let (q, r) = m.quotientAndRemainder(dividingBy: 10)
                buf[23 - count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r)
                count += 1
                m = q
            } while m != 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - count)...]))
        }
    }

    /// Appends a finite floating-point number the way `JSONEncoder` writes it;
    /// false (and nothing appended) for NaN or an infinity.
    static func appendFloat<T: BinaryFloatingPoint & CustomStringConvertible>(_ v: T, to out: inout [UInt8]) -> Bool {
        guard v.isFinite else { return false }
        var text = v.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
        return true
    }

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
}
