// The zone a reader of the page wants times in, beside UTC, and how the page
// writes an instant in both. Apart from TimeText.swift (durations) because a
// zone has an offset that changes with the instant (summer time), which the
// tables, the tooltips, the axis and the page's script must all take from
// one place.

import FoundationEssentials
import LockscanKit

/// A zone to show beside UTC: what the user typed (`Asia/Shanghai`,
/// `+08:00`) and the zone it names. UTC itself is no second zone: a page
/// asked for `UTC` shows UTC once.
public struct DisplayZone: Equatable, Sendable {
    /// As the user spelled it, so the page says the zone they asked for.
    public let name: String
    let zone: TimeZone

    /// nil for a spelling `WallClock.zone` does not accept (the same spellings as `--tz`).
    public init?(_ spelling: String) {
        guard let zone = WallClock.zone(spelling) else { return nil }
        self.name = spelling
        self.zone = zone
    }

    /// True for a zone that is UTC at every instant (`UTC`, `+00:00`, `Etc/UTC`).
    public var isUTC: Bool {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 0 && zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: 0)) == nil
    }

    /// Seconds east of UTC at `t`. Foundation bounds offsets to a day, so
    /// `t + offset` cannot leave the range a time already had.
    func offset(at t: Double) -> Int {
        guard t.isFinite else { return 0 }
        return zone.secondsFromGMT(for: Date(timeIntervalSince1970: t))
    }

    /// `+08:00`, `-04:30`: the offset in force at `t`.
    func offsetText(at t: Double) -> String {
        let o = offset(at: t), a = abs(o)
        return (o < 0 ? "-" : "+") + PrintfFormat.clock(a / 3600, a % 3600 / 60)
    }

    /// The offsets in force from `start` to `end`: the offset at `start`,
    /// then one entry per change (summer time) inside the range, so the
    /// page's script can label any instant it can be zoomed or panned to
    /// without a zone database of its own.
    func offsets(from start: Double, to end: Double) -> [(from: Double, offset: Int)] {
        guard start.isFinite, end.isFinite else { return [] }
        var out = [(from: start, offset: offset(at: start))]
        var at = Date(timeIntervalSince1970: start)
        // A zone changes offset at most a few times a year; the cap keeps a
        // two-century axis from writing thousands of entries.
        while out.count < 512, let next = zone.nextDaylightSavingTimeTransition(after: at), next.timeIntervalSince1970 <= end {
            out.append((next.timeIntervalSince1970, offset(at: next.timeIntervalSince1970)))
            at = next
        }
        return out
    }
}

/// Every instant on the page, written the same way everywhere: a date-time
/// in UTC and, when a display zone was chosen, the same instant in that zone.
/// Never epoch seconds: a reader compares these with the logs they hold.
struct PageClock {
    let zone: DisplayZone?

    init(_ zone: DisplayZone?) {
        self.zone = zone.flatMap { $0.isUTC ? nil : $0 }
    }

    /// `2017-03-15 06:03:48.180000 UTC`.
    func utc(_ t: Double) -> String {
        spaced(WallClock.iso(t, fractionDigits: 6, suffix: "")) + " UTC"
    }

    /// `2017-03-15 14:03:48.180000 +08:00`, or nil without a display zone.
    func local(_ t: Double) -> String? {
        guard let zone else { return nil }
        let shifted = t + Double(zone.offset(at: t))
        return spaced(WallClock.iso(shifted, fractionDigits: 6, suffix: "")) + " " + zone.offsetText(at: t)
    }

    /// ISO 8601's `T` between date and time as a space, which reads as a date and a time.
    private func spaced(_ iso: String) -> String {
        iso.replacing("T", with: " ")
    }

    /// UTC, then the zone's reading of the same instant: `… UTC = … +08:00 Asia/Shanghai`.
    func both(_ t: Double) -> String {
        guard let zone, let local = local(t) else { return utc(t) }
        let named = zone.name == zone.offsetText(at: t) ? "" : " " + zone.name
        return utc(t) + " = " + local + named
    }

    /// The header of the table column for the zone: `Asia/Shanghai`, `+08:00`.
    var zoneHeading: String? { zone?.name }
}
