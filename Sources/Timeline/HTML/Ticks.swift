// The time axis's gridlines and their labels, in UTC and in the display
// zone. The page's script labels the axis again at every zoom with the same
// step ladder (Script.swift reads `TimeTicks.steps` from the drawing), so the
// static page and the zoomed one count the same way.

import FoundationEssentials
import LockscanKit
import Glibc

/// One labelled gridline of the time axis. `date` is set on the first tick
/// and wherever the UTC day changes, drawn under the time so that labels stay
/// narrow at millisecond steps; `local` and `localDate` are the same instant
/// in the display zone, when there is one.
struct TimeTick: Equatable {
    var time: Double
    var label: String
    var date: String?
    var local: String? = nil
    var localDate: String? = nil
}

/// Gridlines at round UTC values, so a reader can count along the axis:
/// steps from 100 µs to four weeks in the 1-2-5 (and clock-face) series, the
/// smallest one that keeps the number of ticks at or under `maxTicks`.
enum TimeTicks {
    static let day = 86400.0
    static let steps: [Double] = [
        1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
        3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, day, 2 * day, 7 * day, 14 * day, 28 * day,
    ]

    static func step(span: Double, maxTicks: Int) -> Double {
        let needed = span / Double(max(1, maxTicks))
        if let step = steps.first(where: { $0 >= needed }) { return step }
        return (needed / (28 * day)).rounded(.up) * 28 * day
    }

    static func ticks(from start: Double, to end: Double, maxTicks: Int = 10, zone: DisplayZone? = nil) -> [TimeTick] {
        guard end > start else { return [] }
        let step = step(span: end - start, maxTicks: maxTicks)
        // Week steps fall on Mondays (the epoch was a Thursday); others on multiples of the step.
        let origin = step >= 7 * day && step.truncatingRemainder(dividingBy: 7 * day) == 0 ? 4 * day : 0
        let first = ((start - origin) / step).rounded(.up), last = ((end - origin) / step).rounded(.down)
        guard first <= last else { return [] }
        var ticks: [TimeTick] = []
        var previousDay: String?, previousLocalDay: String?
        var k = first
        while k <= last {
            let t = origin + k * step
            let (text, date) = Self.label(t, step: step)
            // Day steps already print the date as the label.
            let shownDate = step >= day || date == previousDay ? nil : date
            var tick = TimeTick(time: t, label: text, date: shownDate)
            if let zone {
                let (local, localDate) = Self.label(t, step: min(step, 12 * 3600), offset: zone.offset(at: t))
                tick.local = local
                tick.localDate = localDate == previousLocalDay ? nil : localDate
                previousLocalDay = localDate
            }
            ticks.append(tick)
            previousDay = date
            k += 1
        }
        return ticks
    }

    /// The label shows as much of the time as the step resolves, and the
    /// date apart; `offset` (seconds east of UTC) reads the instant in a zone.
    /// A zone's ticks at day steps keep the time of day, since a round UTC
    /// day is not midnight there.
    static func label(_ t: Double, step: Double, offset: Int = 0) -> (String, date: String) {
        let decimals = step >= 1 ? 0 : Int((-log10(step) - 1e-9).rounded(.up))
        let scale = pow(10, Double(decimals))
        let units = ((t + Double(offset)) * scale).rounded()
        let seconds = (units / scale).rounded(.down)
        // Times are bounded where they are read (no input gives one past
        // ~1e13 s), but a conversion that would trap is still checked here.
        guard let whole = Int(exactly: seconds), let fraction = Int(exactly: units - seconds * scale) else { return ("(out of range)", "") }
        let f = UTCFields(epochSeconds: whole)
        if step >= day { return (f.date, f.date) }
        if step >= 60 { return (PrintfFormat.clock(f.hour, f.minute), f.date) }
        var label = PrintfFormat.clock(f.hour, f.minute, f.second)
        if decimals > 0 { label += "." + PrintfFormat.zeroPadded(fraction, width: decimals) }
        return (label, f.date)
    }
}
