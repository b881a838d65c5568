import Foundation

/// One labelled gridline of the time axis. `date` is set on the first tick
/// and wherever the UTC day changes, drawn under the time so that labels stay
/// narrow at millisecond steps.
struct TimeTick: Equatable {
    var time: Double
    var label: String
    var date: String?
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

    static func ticks(from start: Double, to end: Double, maxTicks: Int = 10) -> [TimeTick] {
        guard end > start else { return [] }
        let step = step(span: end - start, maxTicks: maxTicks)
        // Week steps fall on Mondays (the epoch was a Thursday); others on multiples of the step.
        let origin = step >= 7 * day && step.truncatingRemainder(dividingBy: 7 * day) == 0 ? 4 * day : 0
        let first = ((start - origin) / step).rounded(.up), last = ((end - origin) / step).rounded(.down)
        guard first <= last else { return [] }
        var ticks: [TimeTick] = []
        var previousDay: String?
        var k = first
        while k <= last {
            let t = origin + k * step
            let (label, date) = label(t, step: step)
            // Day steps already print the date as the label.
            let shownDate = step >= day || date == previousDay ? nil : date
            ticks.append(TimeTick(time: t, label: label, date: shownDate))
            previousDay = date
            k += 1
        }
        return ticks
    }

    /// The label shows as much of the time as the step resolves, and the date apart.
    static func label(_ t: Double, step: Double) -> (String, date: String) {
        let decimals = step >= 1 ? 0 : Int((-log10(step) - 1e-9).rounded(.up))
        let scale = pow(10, Double(decimals))
        let units = (t * scale).rounded()
        let seconds = (units / scale).rounded(.down)
        let fraction = Int(units - seconds * scale)
        let f = UTCFields(epochSeconds: Int(seconds))
        if step >= day { return (f.date, f.date) }
        if step >= 60 { return (String(format: "%02d:%02d", f.hour, f.minute), f.date) }
        var label = String(format: "%02d:%02d:%02d", f.hour, f.minute, f.second)
        if decimals > 0 { label += "." + String(format: "%0\(decimals)d", fraction) }
        return (label, f.date)
    }
}
