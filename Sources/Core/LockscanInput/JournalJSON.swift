import FoundationEssentials

/// `journalctl -o json` lines. `MESSAGE` may be a string or, when not valid
/// UTF-8, an array of byte values (journald's own convention).
package enum JournalJSON {
    /// The record of one line, and what in its timestamps was refused.
    package static func record(_ bytes: [UInt8], line: Int, offset: Int, input: Int) -> (record: Record?, problem: String?) {
        guard let obj = JSONValue.object(bytes) else {
            return (bytes.isEmpty ? nil : Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count,
                                                 text: String(decoding: bytes, as: UTF8.self)), nil)
        }
        var text = ""
        if let m = obj["MESSAGE"]?.string {
            text = m
        } else if let arr = obj["MESSAGE"]?.array {
            // Byte values; anything else in the array is not a byte and is left out.
            text = String(decoding: arr.compactMap { v -> UInt8? in
                if case let .integer(i) = v { return UInt8(exactly: i) }
                return nil
            }, as: UTF8.self)
        }
        var clock = Clock()
        var problems: [String] = []
        // For kernel messages _SOURCE_MONOTONIC_TIMESTAMP is the printk time
        // dmesg shows; __MONOTONIC_TIMESTAMP is when journald received it.
        // journald writes both stamps as decimal microseconds (u64); they
        // are read as such, not as any Double ("1e300", "inf" would place
        // an event nowhere, or trap where a time becomes an integer).
        let monoKey = obj["_SOURCE_MONOTONIC_TIMESTAMP"]?.string != nil ? "_SOURCE_MONOTONIC_TIMESTAMP" : "__MONOTONIC_TIMESTAMP"
        if let mono = obj[monoKey]?.string {
            if let us = UInt64(mono) { clock.monotonic = Double(us) / 1_000_000 } else { problems.append("\(monoKey) '\(mono.prefix(40))' is not microseconds since boot") }
        }
        if let real = obj["__REALTIME_TIMESTAMP"]?.string {
            // 1970 up to the end of 9999, the years an ISO 8601 stamp can print.
            if let us = Int64(real), us >= 0, us < 253_402_300_800_000_000 {
                clock.wall = WallClock.isoUTC(microseconds: us)
            } else {
                problems.append("__REALTIME_TIMESTAMP '\(real.prefix(40))' is not microseconds between 1970 and 9999")
            }
        }
        let level = obj["PRIORITY"]?.string.flatMap { Int($0) }
        // A record carries the message; a multi-line MESSAGE (rare for the
        // kernel) is kept as one record's text.
        let record = Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count, clock: clock, level: level,
                            host: obj["_HOSTNAME"]?.string, text: text)
        return (record, problems.isEmpty ? nil : problems.joined(separator: "; ") + "; the line is read without that time")
    }
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
