/// Decides, in one pass over a record's message, which idle analyzers want
/// it and whether it starts a report.
///
/// Every analyzer's triggers and every loaded report header are one literal
/// set; each literal remembers the analyzers it wakes and whether it is a
/// header. Inside the window after a report header every line becomes a
/// record, and asking each analyzer's trigger list in turn (one `memmem` per
/// trigger, then the header search) cost a third of a scan's instructions on
/// a log full of lone soft-lockup headers; this asks once.
struct RecordRouting {
    private let search: TriggerSearch
    /// Literal index → the analyzers (by descriptor index) it wakes.
    private let wakes: [[Int]]
    /// Literal index → it is a report header.
    private let isHeader: [Bool]

    /// `perAnalyzer`: each analyzer's triggers as the engine feeds it (with
    /// the report headers for those that asked for them); `headers`: every
    /// loaded analyzer's report headers.
    init(perAnalyzer: [[[UInt8]]], headers: [String]) {
        var index: [[UInt8]: Int] = [:]
        var literals: [[UInt8]] = []
        var wakes: [[Int]] = []
        var isHeader: [Bool] = []
        func slot(_ literal: [UInt8]) -> Int {
            if let i = index[literal] { return i }
            index[literal] = literals.count
            literals.append(literal)
            wakes.append([])
            isHeader.append(false)
            return literals.count - 1
        }
        for (a, triggers) in perAnalyzer.enumerated() {
            for t in triggers where !t.isEmpty {
                let i = slot(t)
                if !wakes[i].contains(a) { wakes[i].append(a) }
            }
        }
        for h in headers where !h.isEmpty { isHeader[slot(Array(h.utf8))] = true }
        search = TriggerSearch(literals)
        self.wakes = wakes
        self.isHeader = isHeader
    }

    /// Exactly the analyzers (of `count`) whose triggers `text` holds, and
    /// whether `text` starts a report.
    func route(_ text: String, analyzers count: Int) -> (wanted: AnalyzerSet, startsReport: Bool) {
        var wanted = AnalyzerSet(count: count)
        var text = text
        var header = false
        text.withUTF8 { buf in
            guard let base = buf.baseAddress, !buf.isEmpty else { return }
            search.forEachMatch(UnsafeRawPointer(base), from: 0, to: buf.count) { i in
                if isHeader[i] { header = true }
                for a in wakes[i] { wanted.insert(a) }
            }
        }
        return (wanted, header)
    }
}
