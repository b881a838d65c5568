import Foundation

/// The reader of QMP event logs (`InputFormat.qmp`): one JSON object per
/// line. Each becomes a record whose text is the line as written (so events
/// quote it as evidence) and whose clock is the event's `timestamp` in UTC.
package enum QMPEventLine {
    package static func object(_ bytes: [UInt8]) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    /// The record for one line, or the reason it is not a QMP message.
    ///
    /// A QMP log of a long-running VM holds millions of lines; building a
    /// dictionary for each cost 12 µs a line. Lines whose structure checks
    /// out on bytes (one object, strings closed, brackets balanced) get
    /// their timestamp read from the bytes; anything else goes through
    /// JSONSerialization, which says what is wrong.
    package static func record(_ bytes: [UInt8], line: Int, offset: Int, input: Int) -> Result<Record?, QMPLineError> {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .success(nil) }
        if wellFormedObject(bytes), let text = String(validating: bytes, as: UTF8.self) {
            var clock = Clock()
            if let sec = number(after: "\"seconds\"", in: bytes), let usec = number(after: "\"microseconds\"", in: bytes), sec >= 0, usec >= 0 {
                clock.wall = WallClock.isoUTC(microseconds: sec * 1_000_000 + usec)
            }
            return .success(Record(inputIndex: input, line: line, byteOffset: offset, clock: clock, text: text))
        }
        guard let obj = object(bytes) else {
            return .failure(QMPLineError(message: String(validating: bytes, as: UTF8.self) == nil
                ? "not valid UTF-8 JSON; a QMP log holds one JSON object per line"
                : "not a JSON object; a QMP log holds one JSON object per line"))
        }
        var clock = Clock()
        if let ts = obj["timestamp"] as? [String: Any],
           let sec = (ts["seconds"] as? NSNumber)?.int64Value, let usec = (ts["microseconds"] as? NSNumber)?.int64Value,
           sec >= 0, usec >= 0 { // qemu writes -1/-1 when it could not read the clock
            clock.wall = WallClock.isoUTC(microseconds: sec * 1_000_000 + usec)
        }
        return .success(Record(inputIndex: input, line: line, byteOffset: offset, clock: clock,
                               text: String(decoding: bytes, as: UTF8.self)))
    }
}

extension QMPEventLine {
    /// `{ … }` with every string closed and every bracket matched, checked
    /// byte by byte (not a full JSON grammar: what a cut or garbled line breaks).
    package static func wellFormedObject(_ b: [UInt8]) -> Bool {
        var depth = 0
        var inString = false, escaped = false
        var first = true, closedAt = -1
        for (i, c) in b.enumerated() {
            if inString {
                if c < 0x20 { return false } // JSON strings hold no raw control characters
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                continue
            }
            if c == 0x20 || c == 0x09 || c == 0x0D { continue }
            if closedAt >= 0 { return false } // something after the object
            switch c {
            case 0x22: inString = true
            case 0x7B, 0x5B:
                if first && c != 0x7B { return false }
                depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth < 0 { return false }
                if depth == 0 { closedAt = i }
            default:
                if c < 0x20 { return false }
                if depth == 0 { return false }
            }
            first = false
        }
        return !inString && depth == 0 && closedAt >= 0
    }

    /// The integer after `"key"` and its colon (qemu writes the timestamp first).
    package static func number(after key: String, in b: [UInt8]) -> Int64? {
        let k = Array(key.utf8)
        guard b.count > k.count else { return nil }
        var i = 0
        while i + k.count <= b.count {
            if b[i] == k[0], Array(b[i..<(i + k.count)]) == k {
                var j = i + k.count
                while j < b.count, b[j] == 0x20 || b[j] == 0x3A { j += 1 }
                var negative = false
                if j < b.count, b[j] == 0x2D { negative = true; j += 1 }
                var v: Int64 = 0
                var digits = 0
                while j < b.count, b[j] >= 0x30, b[j] <= 0x39, digits < 18 {
                    v = v * 10 + Int64(b[j] - 0x30)
                    j += 1
                    digits += 1
                }
                return digits > 0 ? (negative ? -v : v) : nil
            }
            i += 1
        }
        return nil
    }
}

package struct QMPLineError: Error {
    package var message: String
}
