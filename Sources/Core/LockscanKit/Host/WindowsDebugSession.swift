/// The two clock lines WinDbg prints when it opens a Windows crash dump:
/// `Debug session time: Wed Mar 15 13:11:54.777 2017 (GMT+8)` (the time of
/// the crash, in the crashed machine's zone; newer WinDbg writes the zone as
/// `(UTC + 8:00)`) and `System Uptime: 0 days 5:00:52.740`. Together they
/// give the guest's boot time, which places the guest on a host timeline.
public enum WindowsDebugSession {
    /// `Debug session time: …` → ISO 8601 with the printed offset
    /// (`2017-03-15T13:11:54.777+08:00`); nil when the line is not one.
    public static func sessionTime(_ text: String) -> String? {
        guard let r = text.firstOccurrence(of: "Debug session time: ") else { return nil }
        var s = ByteScanner(Array(text[r.upperBound...].utf8))
        s.skipSpaces()
        // ctime order with the year after the time: "Wed Mar 15 13:11:54.777 2017"
        guard let local = LinePrefix.parseCtime(&s) else { return nil }
        s.skipSpaces()
        guard s.skip(UInt8(ascii: "(")) else { return local }
        guard s.skip("GMT") || s.skip("UTC") else { return local }
        s.skipSpaces()
        var sign = "+"
        if s.skip(UInt8(ascii: "-")) { sign = "-" } else { s.skip(UInt8(ascii: "+")) }
        s.skipSpaces()
        guard let h = s.digits(max: 2) else { return local + "+00:00" }
        var m = 0
        if s.skip(UInt8(ascii: ":")), let mm = s.digits(min: 2, max: 2) { m = mm.value }
        return local + sign + pad2(h.value) + ":" + pad2(m)
    }

    /// `System Uptime: 0 days 5:00:52.740` → seconds. (`not available` → nil.)
    public static func uptime(_ text: String) -> Double? {
        if case let .success(u)? = parseUptime(text) { return u }
        return nil
    }

    /// The same, saying why a printed uptime cannot be one: its fields come
    /// from the dump's text and are checked before any arithmetic (hours
    /// below 24, minutes and seconds below 60, at most 100,000 days).
    public static func parseUptime(_ text: String) -> Result<Double, UptimeError>? {
        guard let r = text.firstOccurrence(of: "System Uptime: ") else { return nil }
        let parts = text[r.upperBound...].split(separator: " ")
        guard parts.count >= 3, parts[1].hasPrefix("day") else { return nil }
        let hms = parts[2].split(separator: ":")
        guard let days = Int(parts[0]), hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), let sec = Double(hms[2]),
              (0...100_000).contains(days), (0..<24).contains(h), (0..<60).contains(m), sec >= 0, sec < 60 else {
            return .failure(UptimeError(message: "System Uptime '\(text[r.upperBound...].prefix(60))' is not an uptime (days, then h:mm:ss with hours below 24); the boot time is not computed"))
        }
        return .success(Double(days) * 86400 + Double(h * 3600 + m * 60) + sec)
    }

    public struct UptimeError: Error, Sendable {
        public var message: String
    }

    /// Session time minus uptime, in the session time's zone, to the millisecond.
    public static func bootTime(sessionTime iso: String, uptime: Double) -> String? {
        // "YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM"
        let zoneText = String(iso.suffix(6))
        guard iso.utf8.count >= 25, let zone = WallClock.zone(zoneText), let t = WallClock.parse(iso) else { return nil }
        return WallClock.iso(t.utc + Double(zone.secondsFromGMT()) - uptime, fractionDigits: 3, suffix: zoneText)
    }
}
