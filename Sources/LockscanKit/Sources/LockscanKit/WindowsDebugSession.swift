#if canImport(Glibc)
import Glibc
#endif

/// The two clock lines WinDbg prints when it opens a Windows crash dump:
/// `Debug session time: Wed Mar 15 13:11:54.777 2017 (GMT+8)` (the time of
/// the crash, in the crashed machine's zone; newer WinDbg writes the zone as
/// `(UTC + 8:00)`) and `System Uptime: 0 days 5:00:52.740`. Together they
/// give the guest's boot time, which places the guest on a host timeline.
public enum WindowsDebugSession {
    /// `Debug session time: …` → ISO 8601 with the printed offset
    /// (`2017-03-15T13:11:54.777+08:00`); nil when the line is not one.
    public static func sessionTime(_ text: String) -> String? {
        guard let r = text.range(of: "Debug session time: ") else { return nil }
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
        guard let r = text.range(of: "System Uptime: ") else { return nil }
        let parts = text[r.upperBound...].split(separator: " ")
        guard parts.count >= 3, let days = Int(parts[0]), parts[1].hasPrefix("day") else { return nil }
        let hms = parts[2].split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), let sec = Double(hms[2]) else { return nil }
        return Double(days * 86400 + h * 3600 + m * 60) + sec
    }

    /// Session time minus uptime, in the session time's zone, to the millisecond.
    public static func bootTime(sessionTime iso: String, uptime: Double) -> String? {
        // "YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM"
        let u = Array(iso.utf8)
        guard u.count >= 25 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? { Int(String(decoding: u[a..<b], as: UTF8.self)) }
        let zoneStart = u.count - 6
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let hh = num(11, 13), let mi = num(14, 16),
              let ss = num(17, 19), num(zoneStart + 1, zoneStart + 3) != nil else { return nil }
        let frac = zoneStart > 20 ? Double("0" + String(decoding: u[19..<zoneStart], as: UTF8.self)) ?? 0 : 0
        var t = tm()
        t.tm_year = Int32(y - 1900); t.tm_mon = Int32(mo - 1); t.tm_mday = Int32(d)
        t.tm_hour = Int32(hh); t.tm_min = Int32(mi); t.tm_sec = Int32(ss)
        let localEpoch = Double(timegm(&t)) + frac
        let bootLocalMillis = Int64(((localEpoch - uptime) * 1000).rounded())
        var secs = time_t(bootLocalMillis / 1000)
        var out = tm()
        gmtime_r(&secs, &out)
        let ms = String(bootLocalMillis % 1000).leftPadded(to: 3)
        return "\(out.tm_year + 1900)-\(pad2(Int(out.tm_mon) + 1))-\(pad2(Int(out.tm_mday)))T\(pad2(Int(out.tm_hour))):\(pad2(Int(out.tm_min))):\(pad2(Int(out.tm_sec))).\(ms)" + String(iso.suffix(6))
    }
}
