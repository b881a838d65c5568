/// Analyzers by their index in the engine, as bits: which ones are
/// collecting, which wait between dumps, which hold a trigger of the
/// record being delivered.
///
/// Each record inside a window is handed to the union of the three, in
/// index order. Kept as one `[Bool]` per question, that cost three
/// class-property reads per analyzer per record, each under exclusivity
/// checks (~2,000 instructions a record); as words, one read per 64. The
/// first word is held inline, so a build's analyzers (fewer than 64) never
/// touch an array.
struct AnalyzerSet: Equatable {
    private var first: UInt64 = 0
    /// Words for analyzers 64 and up.
    private var rest: [UInt64]

    init(count: Int) {
        rest = [UInt64](repeating: 0, count: max(0, (count + 63) / 64 - 1))
    }

    /// Every analyzer of `count`.
    static func all(_ count: Int) -> AnalyzerSet {
        var s = AnalyzerSet(count: count)
        for i in 0..<count { s.insert(i) }
        return s
    }

    var wordCount: Int { 1 + rest.count }

    /// Analyzers `64 * w` to `64 * w + 63`, one bit each.
    func word(_ w: Int) -> UInt64 { w == 0 ? first : rest[w - 1] }

    var isEmpty: Bool { first == 0 && (rest.isEmpty || rest.allSatisfy { $0 == 0 }) }

    mutating func insert(_ i: Int) {
        if i < 64 { first |= 1 << UInt64(i) } else { rest[(i >> 6) - 1] |= 1 << UInt64(i & 63) }
    }

    mutating func remove(_ i: Int) {
        if i < 64 { first &= ~(1 << UInt64(i)) } else { rest[(i >> 6) - 1] &= ~(1 << UInt64(i & 63)) }
    }
}

/// What each analyzer asked to hear next (`Interest`), kept as one value so
/// that the engine reads or changes it in one access per record.
struct Listeners {
    /// The analyzers that get every line (`Interest.collecting`).
    private(set) var collecting: AnalyzerSet
    /// The analyzers waiting between a report's dumps (`Interest.waiting`);
    /// they get every record made meanwhile.
    private(set) var waiting: AnalyzerSet
    /// Of those, the ones waiting for their header's dump
    /// (`Interest.waitingForDump`): lines are then screened with more words.
    private(set) var waitingForDump: AnalyzerSet
    /// Per waiting analyzer, the line from which it wants every line.
    private var waitingFrom: [Int?]

    init(count: Int) {
        collecting = AnalyzerSet(count: count)
        waiting = AnalyzerSet(count: count)
        waitingForDump = AnalyzerSet(count: count)
        waitingFrom = [Int?](repeating: nil, count: count)
    }

    mutating func set(_ i: Int, collects: Bool, waitsUntil line: Int?, forDump: Bool = false) {
        if collects { collecting.insert(i) } else { collecting.remove(i) }
        if line != nil { waiting.insert(i) } else { waiting.remove(i) }
        if line != nil && forDump { waitingForDump.insert(i) } else { waitingForDump.remove(i) }
        waitingFrom[i] = line
    }

    /// The first line from which a waiting analyzer wants every line.
    var earliestWaitEnd: Int? {
        waiting.isEmpty ? nil : waitingFrom.reduce(nil as Int?) { m, w in w.map { min(m ?? $0, $0) } ?? m }
    }

    /// Of analyzers `64 * w` to `64 * w + 63`, those that get a record
    /// holding a trigger of the `wanted` ones.
    func hearing(_ wanted: AnalyzerSet, word w: Int) -> UInt64 {
        collecting.word(w) | waiting.word(w) | wanted.word(w)
    }
}
