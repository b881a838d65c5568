// Which sub-row of its lane each mark goes in, and where its label goes:
// greedy interval packing of marks and their labels. The page's script
// (Script.swift, `pack`) runs the same algorithm again with the labels'
// measured widths at every zoom; the browser test checks its result there.

/// One mark to place: where it is and how wide its label is (0 for none).
struct PackItem {
    var x: Double
    var xEarliest: Double
    var xLatest: Double
    var labelWidth: Double
    /// Higher goes first: more severe events and clustered ones get their labels before the rest.
    var priority: Int
}

/// Where a label went: right of its mark, left of it (near the right end
/// of the plot), or nowhere because no row had room.
enum LabelSide: Equatable {
    case right, left, hidden
}

struct PackedItem: Equatable {
    var row: Int
    var label: LabelSide
    /// The mark had to share a row with another because the lane ran out of rows.
    var overlapping: Bool
}

/// Places marks in sub-rows so that no two overlap, and each label beside
/// its mark where no other mark or label is, inside the plot. Items go in
/// order of priority (then time); each takes the first row where mark and
/// label fit, a new row while the lane has fewer than `maxRows`, else the
/// first row where the mark alone fits (its label hidden and counted), else
/// shares a row (counted). So labels never overlap each other or a placed
/// mark, and a lane never grows past `maxRows`.
struct LanePacker {
    static let maxRows = 16
    /// Half the width of a mark plus a gap, in pixels.
    static let markRadius = 7.0
    /// Between a mark and its label.
    static let labelGap = 3.0

    let plotLeft: Double
    let plotRight: Double

    /// The pixels an item covers with its label on `side`; nil when that would leave the plot.
    func extent(_ item: PackItem, _ side: LabelSide) -> (Double, Double)? {
        let lo = min(item.xEarliest, item.x - Self.markRadius), hi = max(item.xLatest, item.x + Self.markRadius)
        switch side {
        case .hidden: return (lo, hi)
        case .right:
            let start = item.x + Self.markRadius + Self.labelGap, end = start + item.labelWidth
            return start >= plotLeft && end <= plotRight ? (lo, max(hi, end)) : nil
        case .left:
            let end = item.x - Self.markRadius - Self.labelGap, start = end - item.labelWidth
            return start >= plotLeft && end <= plotRight ? (min(lo, start), hi) : nil
        }
    }

    func pack(_ items: [PackItem]) -> (placed: [PackedItem], rows: Int) {
        let order = items.indices.sorted { (-items[$0].priority, items[$0].xEarliest, $0) < (-items[$1].priority, items[$1].xEarliest, $1) }
        var rows: [RowOccupancy] = []
        var placed = Array(repeating: PackedItem(row: 0, label: .hidden, overlapping: false), count: items.count)
        var shared = 0
        for i in order {
            let item = items[i]
            let sides: [LabelSide] = item.labelWidth > 0 ? [.right, .left] : [.hidden]
            let labelled = sides.compactMap { side in extent(item, side).map { (side, $0) } }
            if let (row, side, span) = firstFit(labelled, rows) {
                rows[row].insert(span)
                placed[i] = PackedItem(row: row, label: side, overlapping: false)
            } else if rows.count < Self.maxRows, let (side, span) = labelled.first ?? extent(item, .hidden).map({ (.hidden, $0) }) {
                rows.append(RowOccupancy())
                rows[rows.count - 1].insert(span)
                placed[i] = PackedItem(row: rows.count - 1, label: side, overlapping: false)
            } else if let bare = extent(item, .hidden), let (row, _, span) = firstFit([(.hidden, bare)], rows) {
                rows[row].insert(span)
                placed[i] = PackedItem(row: row, label: .hidden, overlapping: false)
            } else {
                // Spread what cannot fit over the rows rather than piling it on one.
                placed[i] = PackedItem(row: shared % max(1, rows.count), label: .hidden, overlapping: true)
                shared += 1
            }
        }
        return (placed, max(1, rows.count))
    }

    private func firstFit(_ candidates: [(LabelSide, (Double, Double))], _ rows: [RowOccupancy]) -> (Int, LabelSide, (Double, Double))? {
        for (r, row) in rows.enumerated() {
            for (side, span) in candidates where row.isFree(span) { return (r, side, span) }
        }
        return nil
    }
}

/// The spans taken in one row, sorted and disjoint, so a new span is
/// checked against its neighbours only.
struct RowOccupancy {
    private var spans: [(lo: Double, hi: Double)] = []

    /// Index of the first span that ends after `x`.
    private func firstEnding(after x: Double) -> Int {
        var lo = 0, hi = spans.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if spans[mid].hi <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func isFree(_ span: (Double, Double)) -> Bool {
        let i = firstEnding(after: span.0)
        return i == spans.count || spans[i].lo >= span.1
    }

    mutating func insert(_ span: (Double, Double)) {
        spans.insert((span.0, span.1), at: firstEnding(after: span.0))
    }
}
