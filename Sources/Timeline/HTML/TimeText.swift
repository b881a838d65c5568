// Spans of time in words for the page: durations, uncertainties, and the
// calendar fields tick labels are cut from. One file so the summary, lane
// labels, tooltips and tables write a span the same way; instants are
// written by PageClock (DisplayZone.swift). Only the HTML view uses it: the
// plain-text view (TimelineText) keeps its own shorter forms.

import FoundationEssentials
import LockscanKit
import Glibc

/// Calendar fields of a UTC instant, for labels that show only some of them.
struct UTCFields: Equatable {
    var year, month, day, hour, minute, second: Int

    init(epochSeconds: Int) {
        var tm = tm()
        var time = time_t(epochSeconds)
        gmtime_r(&time, &tm)
        year = Int(tm.tm_year) + 1900
        month = Int(tm.tm_mon) + 1
        day = Int(tm.tm_mday)
        hour = Int(tm.tm_hour)
        minute = Int(tm.tm_min)
        second = Int(tm.tm_sec)
    }

    var date: String { PrintfFormat.date(year: year, month: month, day: day) }
}

/// Durations as a reader of a postmortem wants them: the unit that keeps the
/// number short, and every placed time's uncertainty, so a guess never reads as exact.
enum TimeText {
    /// `0 s`, `250 µs`, `12.5 ms`, `1.25 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`.
    static func duration(_ seconds: Double) -> String {
        let s = abs(seconds)
        // An unaligned clock's uncertainty is unbounded (or unknown).
        if !s.isFinite { return s.isNaN ? "unknown" : "unbounded" }
        if s == 0 { return "0 s" }
        if s < 1e-3 { return trimmed(s * 1e6) + " µs" }
        if s < 1 { return trimmed(s * 1e3) + " ms" }
        if s < 60 { return trimmed(s) + " s" }
        // Beyond a million years the exact figure says nothing more.
        guard s < 3.2e13 else { return "more than a million years" }
        let whole = Int(s.rounded())
        if whole < 3600 { return "\(whole / 60) min" + (whole % 60 == 0 ? "" : " \(whole % 60) s") }
        if whole < 86400 { return "\(whole / 3600) h" + (whole % 3600 / 60 == 0 ? "" : " \(whole % 3600 / 60) min") }
        return "\(whole / 86400) d" + (whole % 86400 / 3600 == 0 ? "" : " \(whole % 86400 / 3600) h")
    }

    /// At most three significant digits, no trailing zeros.
    private static func trimmed(_ v: Double) -> String {
        let decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2
        var s = PrintfFormat.fixed(v, decimals: decimals)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// `± 0.5 s` when the interval is symmetric about the estimate, else
    /// `−0.2 s / +0.8 s`; `± 0 s` for a time the source printed in UTC.
    static func uncertainty(_ t: EventTime) -> String {
        let before = max(0, t.utc - t.earliest), after = max(0, t.latest - t.utc)
        if abs(before - after) <= 1e-9 * max(1, before) { return "± " + duration(before) }
        return "−\(duration(before)) / +\(duration(after))"
    }
}
