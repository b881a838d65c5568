// The drawing's geometry, as numbers: the time axis and its gridlines, which
// events are drawn at all, one lane per source, and each mark's x and
// sub-row. Apart from SVG.swift so the geometry is settled once, before any
// markup is written, and tests can check positions without parsing SVG.

import FoundationEssentials
import LockscanKit

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
/// the sub-rows its marks and labels need (`LanePacker`). These numbers are
/// also handed to the page's script (`geometryJSON`), which lays the same
/// drawing out again at the window's width and at every zoom.
struct TimelineLayout {
    static let plotLeft = 262.0
    /// Leaves 38 px on the right for half of the last tick's label.
    static let plotWidth = 1060.0
    static let totalWidth = 1360.0
    /// Time and date in UTC; with a display zone, time and date in it under them.
    static func axisHeight(zoned: Bool) -> Double { zoned ? 72 : 44 }
    static let rowHeight = 15.0
    static let lanePadding = 10.0
    /// Room for the four lines of the lane label, and a fifth for hidden labels or shared rows.
    static let minimumLaneHeight = 82.0
    /// Two lines of cluster labels.
    static let footerHeight = 36.0

    struct Mark {
        var event: Int
        var x: Double
        var xEarliest: Double
        var xLatest: Double
        var row: Int
        var label: LabelSide = .hidden
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
        /// Marks drawn without their label because no row had room for it (the tooltip and table have it).
        var hiddenLabels: Int
        /// Events of this source with no time, listed apart and never drawn.
        var unplaced: Int
    }

    let axis: TimeAxis?
    let axisHeight: Double
    let lanes: [Lane]
    let height: Double

    init(_ doc: TimelineDocument, zoned: Bool = false) {
        var times: [Double] = []
        for e in doc.events { if let t = e.drawnTime { times += [t.earliest, t.utc, t.latest] } }
        for c in doc.clusters where c.earliest.isFinite && c.latest.isFinite { times += [c.earliest, c.latest] }
        let axis = TimeAxis(covering: times, left: Self.plotLeft, width: Self.plotWidth)
        self.axis = axis
        axisHeight = Self.axisHeight(zoned: zoned)

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
        let packer = LanePacker(plotLeft: Self.plotLeft, plotRight: Self.plotLeft + Self.plotWidth)
        var lanes: [Lane] = []
        var top = axisHeight
        for id in order {
            var marks = marksBySource[id] ?? []
            let items = marks.map { m in
                PackItem(x: m.x, xEarliest: m.xEarliest, xLatest: m.xLatest, labelWidth: EventLabel.estimatedWidth(EventLabel.text(doc.events[m.event])),
                         priority: Self.labelPriority(doc.events[m.event]))
            }
            let packed = packer.pack(items)
            for (k, p) in packed.placed.enumerated() {
                marks[k].row = p.row
                marks[k].label = p.label
            }
            let height = max(Self.minimumLaneHeight, Double(packed.rows) * Self.rowHeight + 2 * Self.lanePadding)
            lanes.append(Lane(id: id, source: doc.sources.first { $0.id == id }, top: top, height: height, marks: marks,
                              overlapping: packed.placed.filter(\.overlapping).count,
                              hiddenLabels: packed.placed.filter { $0.label == .hidden }.count, unplaced: unplacedBySource[id] ?? 0))
            top += height
        }
        self.lanes = lanes
        height = top + Self.footerHeight
    }

    /// Severity first, a cluster's members next: the labels a reader of an
    /// incident needs when there is room for only some.
    static func labelPriority(_ te: TimelineEvent) -> Int {
        let severity = Severity.allCases.firstIndex(of: te.event.severity) ?? 0
        return severity * 2 + (te.cluster == nil ? 0 : 1)
    }

    func rowY(_ lane: Lane, _ row: Int) -> Double { lane.top + Self.lanePadding + (Double(row) + 0.5) * Self.rowHeight }
    var lanesBottom: Double { lanes.last.map { $0.top + $0.height } ?? axisHeight }
}
