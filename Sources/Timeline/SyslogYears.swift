import FoundationEssentials
import LockscanKit

/// The year of each BSD syslog stamp (`Oct 11 05:39:13 host kernel: …`) in
/// one source, which syslog does not print.
///
/// Where the year comes from, in order:
/// 1. the user's `--year FILE=YYYY`: the year of the file's first syslog stamp;
/// 2. a line of the same file that printed a full date (a libvirt stamp, a
///    `journalctl -o short-iso` or RFC 3339 line, `dmesg -T`): the syslog
///    stamp next to it is given the year that puts it nearest that date.
/// Other files of the run are not used: a host's syslog may be another
/// host's, or a year older than the libvirt log beside it, and nothing in
/// the lines says which.
///
/// From there the year advances at each roll-over: a stamp whose month is
/// earlier than the stamp before it (Dec → Jan). Only the records the scan
/// turned into records are seen, so a gap of more than a year between two of
/// them cannot be told from a few months; the timeline says where the year
/// came from.
final class SyslogYears {
    /// Byte offsets of the first stamp of each new year.
    private var rollovers: [Int] = []
    /// More roll-overs than any real log has (a hostile or garbled input).
    static let maxRollovers = 1000
    private(set) var overflowed = false
    private var last: (month: Int, day: Int)?
    /// A full date seen before any syslog stamp, waiting for one.
    private var pendingReference: (year: Int, month: Int, day: Int, line: Int)?
    /// The year of the first syslog stamp, from a full date in the file.
    private(set) var baseYear: Int?
    private(set) var baseEvidence: String?
    private(set) var sawSyslogStamp = false
    private(set) var firstPrinted: String?

    /// The last offset observed: the head's lines are seen once by the
    /// trail's head measurement and again as records.
    private var lastOffset = -1

    /// A line's clock, in input order; a line seen before is skipped.
    func observe(offset: Int, line: Int, clock: Clock) {
        guard offset > lastOffset else { return }
        lastOffset = offset
        if let printed = clock.wallPrinted, let s = SyslogStamp(printed) {
            sawSyslogStamp = true
            if firstPrinted == nil { firstPrinted = printed }
            if let l = last, s.month < l.month {
                if rollovers.count < Self.maxRollovers { rollovers.append(offset) } else { overflowed = true }
            }
            last = (s.month, s.day)
            if baseYear == nil, let r = pendingReference {
                settle(stamp: s, reference: r, printed: printed)
            }
        } else if baseYear == nil, let w = clock.wall, let d = Self.date(w) {
            let r = (year: d.year, month: d.month, day: d.day, line: line)
            if let l = last {
                settle(stamp: SyslogStamp(month: l.month, day: l.day, time: ""), reference: r, printed: nil)
            } else if pendingReference == nil {
                pendingReference = r
            }
        }
    }

    private func settle(stamp: SyslogStamp, reference r: (year: Int, month: Int, day: Int, line: Int), printed: String?) {
        let nearest = [r.year - 1, r.year, r.year + 1].min { a, b in
            abs(WallClock.daysFromCivil(a, stamp.month, stamp.day) - WallClock.daysFromCivil(r.year, r.month, r.day))
                < abs(WallClock.daysFromCivil(b, stamp.month, stamp.day) - WallClock.daysFromCivil(r.year, r.month, r.day))
        }!
        baseYear = nearest - rollovers.count
        baseEvidence = "the year from line \(r.line), which printed a full date (\(PrintfFormat.date(year: r.year, month: r.month, day: r.day)))"
    }

    /// The year of the syslog stamp at `byteOffset`, given the year of the
    /// first stamp (or the one found in the file).
    func year(at byteOffset: Int, firstYear: Int?) -> Int? {
        guard !overflowed, let base = firstYear ?? baseYear else { return nil }
        return base + rollovers.prefix { $0 <= byteOffset }.count
    }

    /// `2017-03-15T06:03:48.180+00:00` → its printed date.
    static func date(_ iso: String) -> (year: Int, month: Int, day: Int)? {
        let b = Array(iso.utf8)
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D,
              let y = Int(String(decoding: b[0..<4], as: UTF8.self)), let m = Int(String(decoding: b[5..<7], as: UTF8.self)),
              let d = Int(String(decoding: b[8..<10], as: UTF8.self)), (1...12).contains(m), (1...31).contains(d) else { return nil }
        return (y, m, d)
    }
}

/// `Oct 11 05:39:13` or `Oct  1 05:39:13.123456`, as `LinePrefix` keeps a
/// syslog stamp it cannot date.
struct SyslogStamp {
    var month: Int
    var day: Int
    /// `05:39:13.123456`
    var time: String

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    init(month: Int, day: Int, time: String) {
        self.month = month
        self.day = day
        self.time = time
    }

    init?(_ printed: String) {
        let parts = printed.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, let m = Self.months.firstIndex(of: String(parts[0])),
              parts[1].count <= 2, let d = Int(parts[1]), (1...31).contains(d) else { return nil }
        let t = parts[2]
        let clock = Array(t.utf8)
        guard clock.count >= 8, clock[2] == 0x3A, clock[5] == 0x3A,
              let h = Int(String(t.prefix(2))), let mi = Int(String(t.dropFirst(3).prefix(2))), let s = Int(String(t.dropFirst(6).prefix(2))),
              h < 24, mi < 60, s < 61 else { return nil }
        month = m + 1
        day = d
        time = String(t)
    }

    /// ISO 8601 without a zone in `year`, or nil when the day does not exist
    /// in that year (Feb 29 of a common year, Apr 31).
    func iso(year: Int) -> String? {
        guard (1...9999).contains(year) else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return nil }
        return PrintfFormat.date(year: year, month: month, day: day) + "T" + time
    }
}
