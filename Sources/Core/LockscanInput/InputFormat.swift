import FoundationEssentials

/// How an input's lines are framed. Sniffed from its first bytes, or forced
/// with `--format`.
public enum InputFormat: String, Sendable, CaseIterable, Codable {
    /// Text lines with any of the prefix families of docs/input-formats.md (dmesg, syslog,
    /// journal short-*, consoles, crash output, pasted tickets).
    case log
    /// `/dev/kmsg` records: `6,1234,5678901,-;msg` plus ` KEY=val` continuation lines.
    case kmsg
    /// `journalctl -o json`: one JSON object per line.
    case journalJSON = "journal-json"
    /// QMP events as qemu sends them, one JSON object per line
    /// (`{"timestamp": {"seconds": …, "microseconds": …}, "event": "STOP"}`).
    case qmp
    /// Lines taken as messages, no prefix parsing.
    case raw

    /// Picks a format from the first chunk of an input.
    public static func sniff(_ head: UnsafeRawBufferPointer) -> InputFormat {
        var i = 0
        var checked = 0
        while i < head.count, checked < 5 {
            var j = i
            while j < head.count, head[j] != 0x0A { j += 1 }
            var k = i
            while k < j, head[k] == 0x20 || head[k] == 0x09 || head[k] == 0x0D { k += 1 }
            if k < j {
                let line = Array(head[k..<j])
                if line.first == UInt8(ascii: "{") {
                    let s = String(decoding: line, as: UTF8.self)
                    if s.contains("\"MESSAGE\"") || s.contains("\"__REALTIME_TIMESTAMP\"") { return .journalJSON }
                    // Only a file that starts with a QMP message is one: a text log may
                    // quote one later.
                    if checked == 0, (s.contains("\"event\"") && s.contains("\"timestamp\"")) || s.hasPrefix("{\"QMP\":") { return .qmp }
                }
                var sc = ByteScanner(line)
                if LinePrefix.parseKmsg(&sc) != nil { return .kmsg }
                checked += 1
            }
            i = j + 1
        }
        return .log
    }
}
