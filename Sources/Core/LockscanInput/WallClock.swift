import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// ISO 8601 wall-clock strings as the readers produce them
/// (`2026-11-22T03:02:29.864197Z`, `2017-03-15T06:03:48.180+00:00`,
/// `2017-03-15T13:11:54.777+08:00`, zone-less local times).
///
/// One parser and one formatter for every ISO 8601 time lockscan reads or
/// writes: readers stamp records with it, WinDbg's boot time and the
/// timeline compute with it.
public enum WallClock {
    /// Epoch seconds and the resolution the string was printed with; nil
    /// without a zone unless `zone` says which.
    public static func parse(_ s: String, zone: TimeZone? = nil) -> (utc: Double, resolution: Double)? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 19, let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
              let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2) else { return nil }
        var i = 19
        var fraction = 0.0, resolution = 1.0
        if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
            i += 1
            var scale = 0.1
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                resolution = scale
                scale /= 10
                i += 1
            }
        }
        var offset: Int?
        if i < b.count {
            if b[i] == 0x5A {
                offset = 0
            } else if b[i] == 0x2B || b[i] == 0x2D, let h = num(i + 1, 2) {
                let m = num(i + 3, 2) ?? (i + 4 < b.count ? num(i + 4, 2) : nil) ?? 0
                offset = (b[i] == 0x2D ? -1 : 1) * (h * 3600 + m * 60)
            }
        }
        let days = daysFromCivil(year, month, day)
        let local = Double(days * 86400 + hour * 3600 + minute * 60 + second) + fraction
        if let offset { return (local - Double(offset), resolution) }
        guard let zone else { return nil }
        // The zone's offset at (about) that instant.
        let guess = Date(timeIntervalSince1970: local)
        return (local - Double(zone.secondsFromGMT(for: guess.addingTimeInterval(-Double(zone.secondsFromGMT(for: guess))))), resolution)
    }

    public static func hasZone(_ s: String) -> Bool {
        s.hasSuffix("Z") || s.dropFirst(19).contains("+") || s.dropFirst(19).contains("-")
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    /// `YYYY-MM-DDTHH:MM:SS` of an epoch time (shifted by the zone's offset
    /// beforehand for a local time), with `fractionDigits` digits rounded,
    /// then `suffix` (`Z`, `+08:00`).
    public static func iso(_ epoch: Double, fractionDigits: Int, suffix: String) -> String {
        var scale: Int64 = 1
        for _ in 0..<min(max(fractionDigits, 0), 9) { scale *= 10 }
        // Computed values (an anchor's offset plus a stamp) can be anything:
        // outside years 1…9999 there is no ISO 8601 date to print, and the
        // conversion to Int64 below would trap.
        let scaled = (epoch * Double(scale)).rounded()
        guard scaled.isFinite, epoch >= -62_135_596_800, epoch < 253_402_300_800 else { return epoch.isNaN ? "(no time)" : "(out of range)" }
        let ticks = Int64(scaled)
        return iso(ticks: ticks, scale: scale, fractionDigits: fractionDigits, suffix: suffix)
    }

    /// UTC with microseconds, as journal and QMP stamps are read.
    public static func isoUTC(microseconds: Int64) -> String {
        iso(ticks: microseconds, scale: 1_000_000, fractionDigits: 6, suffix: "Z")
    }

    static func iso(ticks: Int64, scale: Int64, fractionDigits: Int, suffix: String) -> String {
        var seconds = ticks / scale, fraction = ticks % scale
        if fraction < 0 { fraction += scale; seconds -= 1 }
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let date = "\(String(Int(tmv.tm_year) + 1900).leftPadded(to: 4))-\(pad2(Int(tmv.tm_mon) + 1))-\(pad2(Int(tmv.tm_mday)))"
        let time = "\(pad2(Int(tmv.tm_hour))):\(pad2(Int(tmv.tm_min))):\(pad2(Int(tmv.tm_sec)))"
        let frac = fractionDigits > 0 ? "." + String(fraction).leftPadded(to: fractionDigits) : ""
        return date + "T" + time + frac + suffix
    }

    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Empty when zone names can be read; otherwise why not, to follow a
    /// message that refused a zone.
    public static var namedZonesProblem: String {
        ZoneDatabase.available ? ""
            : " (zone names need ICU's zone data, libFoundationInternationalization.so beside lockscan's Swift libraries,"
            + " which could not be loaded: give the offset instead)"
    }

    /// `+08:00`, `-0500`, `+08`, `UTC`, `Asia/Shanghai`.
    ///
    /// The offset is read as exactly two digits of hours (at most 14, the
    /// largest offset in use) and optionally two of minutes (below 60):
    /// it comes from the command line or a dump's text, and anything longer
    /// (`+0099999999999999999`) would overflow the seconds computed from it.
    public static func zone(_ s: String) -> TimeZone? {
        if s == "UTC" || s == "GMT" || s == "Z" { return TimeZone(secondsFromGMT: 0) }
        let b = Array(s.utf8)
        if let first = b.first, first != 0x2B, first != 0x2D {
            // A name: ICU's zone database, loaded on first use.
            return ZoneDatabase.available ? TimeZone(identifier: s) : nil
        }
        func twoDigits(_ i: Int) -> Int? {
            guard i + 1 < b.count, isDigit(b[i]), isDigit(b[i + 1]) else { return nil }
            return Int(b[i] - 0x30) * 10 + Int(b[i + 1] - 0x30)
        }
        guard b.count >= 3, b[0] == 0x2B || b[0] == 0x2D, let h = twoDigits(1), h <= 14 else { return nil }
        var m = 0
        switch b.count {
        case 3: break
        case 5: guard let mm = twoDigits(3) else { return nil }; m = mm
        case 6: guard b[3] == 0x3A, let mm = twoDigits(4) else { return nil }; m = mm
        default: return nil
        }
        guard m < 60 else { return nil }
        return TimeZone(secondsFromGMT: (b[0] == 0x2D ? -1 : 1) * (h * 3600 + m * 60))
    }
}
