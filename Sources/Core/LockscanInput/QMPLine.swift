import FoundationEssentials

/// The reader of QMP event logs (`InputFormat.qmp`): one JSON object per
/// line. Each becomes a record whose text is the line as written (so events
/// quote it as evidence) and whose clock is the event's `timestamp` in UTC.
package enum QMPEventLine {
    package static func object(_ bytes: [UInt8]) -> [String: JSONValue]? {
        JSONValue.object(bytes)
    }

    /// The record for one line, or the reason it is not a QMP message.
    ///
    /// A QMP log of a long-running VM holds millions of lines; building a
    /// dictionary for each cost 12 µs a line. Lines whose structure checks
    /// out on bytes (one object, strings closed, brackets balanced) get
    /// their timestamp read from the bytes; anything else goes through
    /// the JSON decoder, which says what is wrong.
    package static func record(_ bytes: [UInt8], line: Int, offset: Int, input: Int) -> Result<Record?, QMPLineError> {
        if isBlank(bytes) { return .success(nil) }
        if let stamp = plainTimestamp(bytes), let text = String(validating: bytes, as: UTF8.self) {
            var clock = Clock()
            switch stamp {
            case let .success(us): clock.wall = us.map(WallClock.isoUTC(microseconds:))
            case let .failure(e): return .failure(e)
            }
            return .success(Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count, clock: clock, text: text))
        }
        guard let obj = object(bytes) else {
            return .failure(QMPLineError(message: String(validating: bytes, as: UTF8.self) == nil
                ? "not valid UTF-8 JSON; a QMP log holds one JSON object per line"
                : "not a JSON object; a QMP log holds one JSON object per line"))
        }
        var clock = Clock()
        if let ts = obj["timestamp"]?.object, let sec = ts["seconds"]?.double, let usec = ts["microseconds"]?.double {
            switch wall(seconds: sec, microseconds: usec) {
            case let .success(w): clock.wall = w
            case let .failure(e): return .failure(e)
            }
        }
        return .success(Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count, clock: clock,
                               text: String(decoding: bytes, as: UTF8.self)))
    }
}

extension QMPEventLine {
    static func contains(_ b: [UInt8], _ key: String) -> Bool {
        index(of: key, in: b) != nil
    }

    /// Where `key` first starts in `b`.
    static func index(of key: String, in b: [UInt8]) -> Int? {
        let k = Array(key.utf8)
        guard !k.isEmpty, b.count >= k.count else { return nil }
        return (0...(b.count - k.count)).first { i in b[i] == k[0] && b[i..<(i + k.count)].elementsEqual(k) }
    }

    /// The latest second a timestamp may name: 9999-12-31T23:59:59Z.
    static let latestSecond: Double = 253_402_300_799

    /// The UTC time of a QMP timestamp, checked before any arithmetic: the
    /// numbers come from the input, and `seconds * 1_000_000` of an absurd
    /// one would trap. -1/-1 (qemu could not read its clock) is no time at
    /// all; anything else outside 1970…9999 (other negative values too) or a
    /// microsecond field outside 0…999999 is refused with the reason.
    static func wall(seconds: Double, microseconds: Double) -> Result<String?, QMPLineError> {
        microsecondsSinceEpoch(seconds: seconds, microseconds: microseconds).map { $0.map(WallClock.isoUTC(microseconds:)) }
    }

    static func microsecondsSinceEpoch(seconds: Double, microseconds: Double) -> Result<Int64?, QMPLineError> {
        if seconds == -1 && microseconds == -1 { return .success(nil) } // qemu writes -1/-1 when it could not read the clock
        guard seconds.isFinite, microseconds.isFinite, seconds >= 0, seconds <= latestSecond, microseconds >= 0, microseconds < 1_000_000,
              seconds == seconds.rounded(.towardZero), microseconds == microseconds.rounded(.towardZero) else {
            return .failure(QMPLineError(message: "timestamp \(seconds) s \(microseconds) µs is not a time between 1970 and 9999"))
        }
        return .success(Int64(seconds) * 1_000_000 + Int64(microseconds))
    }

    /// Why a line no analyzer asked for is not a QMP message, or nil: the
    /// checks `record` makes, without building its record, so a long QMP log
    /// is still checked line by line (a broken line is said) at the cost of
    /// one pass over its bytes.
    package static func problem(_ bytes: [UInt8]) -> QMPLineError? {
        if isBlank(bytes) { return nil }
        if bytes.allSatisfy({ $0 < 0x80 }), let stamp = plainTimestamp(bytes) {
            if case let .failure(e) = stamp { return e }
            return nil
        }
        // Anything less plain: the record's own path says what is wrong.
        if case let .failure(e) = record(bytes, line: 0, offset: 0, input: 0) { return e }
        return nil
    }

    static func isBlank(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }

    /// For a line that is one well-formed object whose timestamp, if it has
    /// one, is two plain integers: that time (nil: none, or qemu's -1/-1),
    /// or why it is no time. nil for any other line, which only
    /// the JSON decoder can judge.
    static func plainTimestamp(_ bytes: [UInt8]) -> Result<Int64?, QMPLineError>? {
        let sec = number(after: "\"seconds\"", in: bytes), usec = number(after: "\"microseconds\"", in: bytes)
        let plain = (sec != nil && usec != nil) || !contains(bytes, "\"timestamp\"")
        guard plain, wellFormedObject(bytes) else { return nil }
        guard let sec, let usec else { return .success(nil) }
        return microsecondsSinceEpoch(seconds: Double(sec), microseconds: Double(usec))
    }

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
        guard let start = index(of: key, in: b) else { return nil }
        var j = start + key.utf8.count
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
        // Only a plain integer of at most 18 digits is read here: a
        // fraction, an exponent or more digits go to the JSON decoder.
        if j < b.count, (b[j] >= 0x30 && b[j] <= 0x39) || b[j] == 0x2E || b[j] == 0x65 || b[j] == 0x45 { return nil }
        return digits > 0 ? (negative ? -v : v) : nil
    }
}

package struct QMPLineError: Error {
    package var message: String
}
