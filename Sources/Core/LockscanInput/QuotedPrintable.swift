#if canImport(Glibc)
import Glibc
#endif

/// A mail body read raw in its quoted-printable transfer encoding (RFC 2045
/// §6.7), as saved from a mail client's "view source", a list archive's raw
/// message or a bug tracker that stored the mail as it came: `=` at a line
/// end joins the next line (a soft line break), `=XX` is the byte XX
/// (`=3D` is `=`, `=20` a space).
///
/// An input is read this way only when its head says it is encoded, so a
/// log that merely contains `=` is never rewritten: a header line
/// `Content-Transfer-Encoding: quoted-printable`, or at least
/// `minimumEscapes` escapes only an encoder writes — `=3D` (an encoded `=`),
/// a soft line break, an escaped UTF-8 sequence `=C2=A0` — while nearly all
/// of the head's `=` signs are escapes. A plain log has `key=value`
/// (`idle=1894`, `q=75`, `rx=81234` look like escapes, but `=3D` and an
/// escaped UTF-8 sequence do not occur), an encoded one has only escapes.
/// Detection says nothing (no diagnostic): it is how the input is framed,
/// like its format, and decoding loses nothing the mail did not add.
public enum QuotedPrintable {
    static let minimumEscapes = 3
    static let header = Array("content-transfer-encoding: quoted-printable".utf8)

    /// Whether the first bytes of an input are a quoted-printable body.
    public static func detect(_ head: UnsafeRawBufferPointer) -> Bool {
        guard let base = head.baseAddress else { return false }
        var escapes = 0
        var encoderOnly = 0
        var equals = 0
        var lineStart = 0
        // Line by line and `=` by `=` with memchr: this runs once per input
        // over its whole first chunk, and a loop over every byte cost 5 ms
        // of a 60 ms scan.
        while true {
            var lineEnd = head.count
            if let nl = memchr(base + lineStart, 0x0A, head.count - lineStart) { lineEnd = UnsafeRawPointer(nl) - base }
            var from = lineStart
            while from < lineEnd, let eq = memchr(base + from, 0x3D, lineEnd - from) {
                let i = UnsafeRawPointer(eq) - base
                equals += 1
                let next = i + 1 < head.count ? head[i + 1] : 0x0A
                if next == 0x0A || next == 0x0D {
                    escapes += 1
                    encoderOnly += 1
                } else if i + 2 < head.count, isUpperHex(next), isUpperHex(head[i + 2]) {
                    escapes += 1
                    if next == UInt8(ascii: "3") && head[i + 2] == UInt8(ascii: "D") { encoderOnly += 1 }
                    // A UTF-8 lead byte escaped and followed by an escaped
                    // continuation byte (`=C2=A0`); a lone `=81` is as likely
                    // `rx=81234`.
                    if next >= UInt8(ascii: "C"), i + 5 < head.count, head[i + 3] == UInt8(ascii: "="),
                       (UInt8(ascii: "8")...UInt8(ascii: "B")).contains(head[i + 4]), isUpperHex(head[i + 5]) { encoderOnly += 1 }
                }
                from = i + 1
            }
            if lowercasedStarts(head, lineStart, with: header) { return true }
            if lineEnd >= head.count { break }
            lineStart = lineEnd + 1
        }
        return encoderOnly >= minimumEscapes && escapes * 10 >= equals * 9
    }

    /// One physical line decoded, and whether it ended in a soft line break
    /// (the next physical line continues it). Trailing blanks are dropped as
    /// RFC 2045 says a decoder must (they were added in transport; real
    /// trailing blanks are encoded as `=20`); an `=` not followed by two hex
    /// digits is kept as it is.
    public static func decode(_ line: [UInt8]) -> (bytes: [UInt8], softBreak: Bool) {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        var soft = false
        if end > 0, line[end - 1] == UInt8(ascii: "=") {
            soft = true
            end -= 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(end)
        var i = 0
        while i < end {
            let b = line[i]
            if b == UInt8(ascii: "="), i + 2 < end, isHex(line[i + 1]), isHex(line[i + 2]) {
                out.append(hexValue(line[i + 1]) << 4 | hexValue(line[i + 2]))
                i += 3
                continue
            }
            out.append(b)
            i += 1
        }
        return (out, soft)
    }

    static func lowercasedStarts(_ head: UnsafeRawBufferPointer, _ start: Int, with lower: [UInt8]) -> Bool {
        guard start + lower.count <= head.count else { return false }
        for k in 0..<lower.count {
            var b = head[start + k]
            if b >= 0x41, b <= 0x5A { b += 0x20 }
            if b != lower[k] { return false }
        }
        return true
    }

    @inline(__always) static func isUpperHex(_ b: UInt8) -> Bool { isDigit(b) || (b >= 0x41 && b <= 0x46) }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        default: b - 0x61 + 10
        }
    }
}
