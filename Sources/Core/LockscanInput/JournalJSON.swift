import Foundation

/// `journalctl -o json` lines. `MESSAGE` may be a string or, when not valid
/// UTF-8, an array of byte values (journald's own convention).
package enum JournalJSON {
    package static func record(_ bytes: [UInt8], line: Int, offset: Int, input: Int) -> Record? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return bytes.isEmpty ? nil : Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count,
                                                text: String(decoding: bytes, as: UTF8.self))
        }
        var text = ""
        if let m = obj["MESSAGE"] as? String {
            text = m
        } else if let arr = obj["MESSAGE"] as? [Any] {
            text = String(decoding: arr.compactMap { ($0 as? NSNumber).map { UInt8(truncatingIfNeeded: $0.intValue) } }, as: UTF8.self)
        }
        var clock = Clock()
        // For kernel messages _SOURCE_MONOTONIC_TIMESTAMP is the printk time
        // dmesg shows; __MONOTONIC_TIMESTAMP is when journald received it.
        let mono = (obj["_SOURCE_MONOTONIC_TIMESTAMP"] as? String) ?? (obj["__MONOTONIC_TIMESTAMP"] as? String)
        if let mono = mono.flatMap(Double.init) { clock.monotonic = mono / 1_000_000 }
        if let real = (obj["__REALTIME_TIMESTAMP"] as? String).flatMap(Int64.init) { clock.wall = WallClock.isoUTC(microseconds: real) }
        var level: Int?
        if let p = (obj["PRIORITY"] as? String).flatMap(Int.init) { level = p }
        // A record carries the message; a multi-line MESSAGE (rare for the
        // kernel) is kept as one record's text.
        return Record(inputIndex: input, line: line, byteOffset: offset, byteCount: bytes.count, clock: clock, level: level,
                      host: obj["_HOSTNAME"] as? String, text: text)
    }
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
