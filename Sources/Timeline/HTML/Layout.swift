// The drawing's geometry, as numbers: the time axis and its gridlines, which
// events are drawn at all, one lane per source, and each mark's x and
// sub-row. Apart from SVG.swift so the geometry is settled once, before any
// markup is written, and tests can check positions without parsing SVG.

import Foundation

/// The horizontal scale every lane shares: UTC seconds to SVG x.
struct TimeAxis {
    /// The narrowest window drawn. Events at one instant (or a single event)
    /// get this much room around them instead of a division by zero.
    static let minimumSpan = 0.01
    let start: Double
    let end: Double
    let left: Double
    let width: Double

    /// Covers `times` with a 3 % margin so marks at the ends are not cut in half; nil when there is nothing to place.
    init?(covering times: [Double], left: Double, width: Double) {
        let finite = times.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return nil }
        if hi - lo < Self.minimumSpan {
            let mid = (lo + hi) / 2
            lo = mid - Self.minimumSpan / 2
            hi = mid + Self.minimumSpan / 2
        } else {
            let pad = (hi - lo) * 0.03
            lo -= pad
            hi += pad
        }
        start = lo
        end = hi
        self.left = left
        self.width = width
    }

    func x(_ t: Double) -> Double { left + (t - start) / (end - start) * width }
}

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
        // Times are bounded where they are read (no input gives one past
        // ~1e13 s), but a conversion that would trap is still checked here.
        guard let whole = Int(exactly: seconds), let fraction = Int(exactly: units - seconds * scale) else { return ("(out of range)", "") }
        let f = UTCFields(epochSeconds: whole)
        if step >= day { return (f.date, f.date) }
        if step >= 60 { return (String(format: "%02d:%02d", f.hour, f.minute), f.date) }
        var label = String(format: "%02d:%02d:%02d", f.hour, f.minute, f.second)
        if decimals > 0 { label += "." + String(format: "%0\(decimals)d", fraction) }
        return (label, f.date)
    }
}

extension TimelineEvent {
    /// The time the page draws and lists the event at: nil when the document
    /// gives none, and also when any of its values is not a finite number, so
    /// a bad value upstream lands in the unplaced list instead of at a `nan`
    /// coordinate or a made-up place on the axis.
    var drawnTime: EventTime? {
        guard let t = time, t.utc.isFinite, t.earliest.isFinite, t.latest.isFinite else { return nil }
        return t
    }
}

/// Where everything goes in the drawing: one lane per source, each as tall as
/// the sub-rows its overlapping marks need.
struct TimelineLayout {
    static let plotLeft = 262.0
    /// Leaves 38 px on the right for half of the last tick's label.
    static let plotWidth = 1060.0
    static let totalWidth = 1360.0
    static let axisHeight = 44.0
    static let rowHeight = 15.0
    static let lanePadding = 10.0
    /// Room for the four lines of the lane label.
    static let minimumLaneHeight = 68.0
    /// Two lines of cluster labels.
    static let footerHeight = 36.0

    struct Mark {
        var event: Int
        var x: Double
        var xEarliest: Double
        var xLatest: Double
        var row: Int
    }

    struct Lane {
        var id: String
        /// nil for events whose source id names no source in the document.
        var source: TimelineSource?
        var top: Double
        var height: Double
        var marks: [Mark]
        /// Marks that had to share a sub-row with another because the lane ran out of rows.
        var overlapping: Int
        /// Events of this source with no time, listed apart and never drawn.
        var unplaced: Int
    }

    let axis: TimeAxis?
    let lanes: [Lane]
    let height: Double

    init(_ doc: TimelineDocument) {
        var times: [Double] = []
        for e in doc.events { if let t = e.drawnTime { times += [t.earliest, t.utc, t.latest] } }
        for c in doc.clusters where c.earliest.isFinite && c.latest.isFinite { times += [c.earliest, c.latest] }
        let axis = TimeAxis(covering: times, left: Self.plotLeft, width: Self.plotWidth)
        self.axis = axis

        var order: [String] = doc.sources.map(\.id)
        var known = Set(order)
        for e in doc.events where !known.contains(e.sourceID) {
            known.insert(e.sourceID)
            order.append(e.sourceID)
        }
        var marksBySource: [String: [Mark]] = [:]
        var unplacedBySource: [String: Int] = [:]
        for e in doc.events where e.drawnTime == nil { unplacedBySource[e.sourceID, default: 0] += 1 }
        if let axis {
            for (i, e) in doc.events.enumerated() {
                guard let t = e.drawnTime else { continue }
                marksBySource[e.sourceID, default: []].append(
                    Mark(event: i, x: axis.x(t.utc), xEarliest: axis.x(min(t.earliest, t.utc)), xLatest: axis.x(max(t.latest, t.utc)), row: 0))
            }
        }
        var lanes: [Lane] = []
        var top = Self.axisHeight
        for id in order {
            var marks = marksBySource[id] ?? []
            let packed = SubRowPacker.pack(&marks)
            let height = max(Self.minimumLaneHeight, Double(packed.rows) * Self.rowHeight + 2 * Self.lanePadding)
            lanes.append(Lane(id: id, source: doc.sources.first { $0.id == id }, top: top, height: height,
                              marks: marks, overlapping: packed.overlapping, unplaced: unplacedBySource[id] ?? 0))
            top += height
        }
        self.lanes = lanes
        height = top + Self.footerHeight
    }

    func rowY(_ lane: Lane, _ row: Int) -> Double { lane.top + Self.lanePadding + (Double(row) + 0.5) * Self.rowHeight }
    var lanesBottom: Double { lanes.last.map { $0.top + $0.height } ?? Self.axisHeight }
}

/// Stacks marks whose drawn extents (mark plus interval bar) would overlap
/// into sub-rows, first fit in time order, so dense bursts stay visible. A
/// lane stops growing at `maxRows`; past that a mark goes to the row that
/// frees up first and is counted, and the table below still lists it.
enum SubRowPacker {
    static let maxRows = 16
    /// Half the width of a mark plus a gap, in pixels.
    static let markRadius = 7.0

    static func pack(_ marks: inout [TimelineLayout.Mark]) -> (rows: Int, overlapping: Int) {
        marks.sort { ($0.xEarliest, $0.x, $0.event) < ($1.xEarliest, $1.x, $1.event) }
        var rowEnds: [Double] = []
        var overlapping = 0
        for i in marks.indices {
            let start = min(marks[i].xEarliest, marks[i].x - markRadius)
            let end = max(marks[i].xLatest, marks[i].x + markRadius)
            let row: Int
            if let free = rowEnds.firstIndex(where: { $0 <= start }) {
                row = free
            } else if rowEnds.count < maxRows {
                row = rowEnds.count
                rowEnds.append(-.infinity)
            } else {
                row = rowEnds.indices.min { rowEnds[$0] < rowEnds[$1] } ?? 0
                overlapping += 1
            }
            rowEnds[row] = max(rowEnds[row], end)
            marks[i].row = row
        }
        return (max(1, rowEnds.count), overlapping)
    }
}
