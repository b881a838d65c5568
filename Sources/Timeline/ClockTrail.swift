import LockscanKit

/// What the timeline needs to know about a source's clock besides its
/// events, gathered while the scan reads it (a `ScanObserver`), so no input
/// is opened twice and a compressed log is measured like a plain one:
///
/// - the clock extent: the head's and the tail's stamps (`ClockExtent`);
/// - for each record whose line is stamped earlier than the stamped line
///   before it, that earlier line's time (the clock stood still, or the line
///   was logged late);
/// - for each record whose line has no stamp (a qemu command line, libvirt's
///   taint line), the stamped lines around it;
/// - the clocks of recent records, for events an analyzer left without time;
/// - the year of each syslog stamp (`SyslogYears`).
///
/// Everything kept is bounded: the head and tail windows, the last chunk's
/// end, and a ring of recent record clocks.
final class ClockTrail: ScanObserver {
    /// How much of each end of the log the extent is measured on.
    static let window = 256 * 1024
    /// How far a neighbour of an event line is looked for.
    static let neighbourhood = 8192
    /// Record clocks remembered for events that come later than their line.
    static let rememberedClocks = 1 << 16

    private(set) var extent = ClockExtent(zonedWallClock: false)
    /// The years of the source's syslog stamps, which print none.
    let years = SyslogYears()
    private(set) var bytesSeen = 0
    private var headLines = 0, headZoned = 0
    private var tail: [UInt8] = []
    /// The latest stamped line seen before `examinedTo` (absolute offsets):
    /// a record's previous clock is looked for only between the last record
    /// and its own line, so a source whose lines carry no prefix stamp (a QMP
    /// log: every line a record) costs one line per record, not a
    /// neighbourhood each. It carries over chunk boundaries.
    private var lastStamp: (lineStart: Int, clock: Clock)?
    private var examinedTo = 0
    /// The last forward search for a stamped line after an unstamped record:
    /// the pieces of a paste and a run of unstamped lines share one.
    private var nextStamp: (from: Int, found: (lineStart: Int, clock: Clock)?, searchedTo: Int)?
    private(set) var earlierThanPrevious: [Int: Double] = [:]
    private(set) var unstamped: [Int: (before: Clock?, after: Clock?)] = [:]
    /// Unstamped records whose next stamped line is in a later chunk.
    private var awaitingAfter: [Int] = []
    private var recentClocks: [Int: Clock] = [:]
    private var recentOrder: [Int] = []
    private var recentNext = 0

    // MARK: ScanObserver

    func beginChunk(_ chunk: LineChunk) {
        guard chunk.kind != .overlongRest else { return }
        line = (0, 0, nil, nil)
        if !awaitingAfter.isEmpty, let after = Self.firstStamp(in: chunk.bytes, from: 0)?.clock {
            for offset in awaitingAfter { unstamped[offset]?.after = after }
            awaitingAfter.removeAll()
        }
        if bytesSeen < Self.window { measureHead(chunk, upTo: Self.window - bytesSeen) }
    }

    /// The physical line of the last record: the pieces of a collapsed line
    /// (thousands in a long paste) share it, and its neighbours are looked
    /// up once, not once per piece.
    private var line: (start: Int, scannedTo: Int, before: Clock??, after: Clock??) = (0, 0, nil, nil)

    func sawRecord(_ record: Record, in chunk: LineChunk) {
        let at = record.byteOffset - chunk.byteOffset
        guard at >= 0, at <= chunk.bytes.count else { return }
        // Records come in input order: look back for a newline only as far
        // as the previous record.
        if at < line.scannedTo { line = (0, 0, nil, nil) }
        if let nl = chunk.bytes[line.scannedTo..<at].lastIndex(of: 0x0A), nl + 1 > line.start {
            line = (nl + 1, at, nil, nil)
        } else {
            line.scannedTo = at
        }
        if !record.clock.isEmpty { remember(record.byteOffset, record.clock) }
        years.observe(offset: record.byteOffset, line: record.line, clock: record.clock)
        if line.before == nil { line.before = .some(previousClock(chunk, before: line.start)) }
        let before = line.before!
        if let m = record.clock.monotonic, let p = before?.monotonic, p > m + 1e-6 {
            earlierThanPrevious[record.byteOffset] = p
        }
        if record.clock.isEmpty {
            if line.after == nil {
                let lineEnd = chunk.bytes[at...].firstIndex(of: 0x0A).map { $0 + 1 } ?? chunk.bytes.count
                line.after = .some(nextClock(chunk, from: lineEnd))
            }
            let after = line.after!
            unstamped[record.byteOffset] = (before, after)
            if after == nil { awaitingAfter.append(record.byteOffset) }
        }
    }

    func endChunk(_ chunk: LineChunk) {
        guard chunk.kind != .overlongRest else { return }
        bytesSeen += chunk.bytes.count
        // A slice, not `suffix`: on a raw buffer that is Sequence's, which
        // copies the whole chunk through a ring buffer (a seventh of a
        // timeline's time).
        let kept = chunk.bytes[max(0, chunk.bytes.count - Self.window)...]
        if kept.count >= Self.window { tail = Array(kept) } else { tail += kept }
        if tail.count > Self.window { tail.removeFirst(tail.count - Self.window) }
        // The chunk's last stamped line, for the next chunk's first record.
        _ = previousClock(chunk, before: chunk.bytes.count)
        nextStamp = nil
    }

    /// After the scan: the tail's stamps.
    func finish() {
        extent.zonedWallClock = headLines > 0 && headZoned * 2 > headLines
        let tailIsHead = bytesSeen <= Self.window
        var lines = tail.split(separator: 0x0A, omittingEmptySubsequences: true)
        // The first line of a cut tail is likely cut.
        if !tailIsHead, !lines.isEmpty { lines.removeFirst() }
        for raw in lines {
            let line = Array(raw.last == 0x0D ? raw.dropLast() : raw)
            let p = LinePrefix.parse(line)
            if !tailIsHead { extent.sample(p.clock) }
            guard let m = p.clock.monotonic else { continue }
            extent.lastMonotonic = max(extent.lastMonotonic ?? m, m)
            if extent.panicMonotonic == nil, Self.contains(line, "Kernel panic - not syncing") { extent.panicMonotonic = m }
        }
        tail = []
    }

    /// The clock printed on the line of a record the scan saw lately.
    func clock(at byteOffset: Int) -> Clock? { recentClocks[byteOffset] }

    // MARK: Helpers

    /// Every line of the head: the extent, and the syslog years (which need
    /// the full-date lines no analyzer asks for).
    private func measureHead(_ chunk: LineChunk, upTo limit: Int) {
        let bytes = chunk.bytes.prefix(limit)
        for (n, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !raw.isEmpty {
            let line = Array(raw.last == 0x0D ? raw.dropLast() : raw)
            let p = LinePrefix.parse(line)
            if chunk.kind == .lines { years.observe(offset: chunk.byteOffset + raw.startIndex, line: chunk.firstLine + n, clock: p.clock) }
            headLines += 1
            if let w = p.clock.wall, WallClock.hasZone(w) { headZoned += 1 }
            extent.sample(p.clock)
            guard let m = p.clock.monotonic else { continue }
            extent.firstMonotonic = min(extent.firstMonotonic ?? m, m)
            if Self.contains(line, "clocksource: Switched to clocksource") { extent.settledMonotonic = m }
        }
    }

    private func remember(_ offset: Int, _ clock: Clock) {
        if recentOrder.count < Self.rememberedClocks {
            recentOrder.append(offset)
        } else {
            recentClocks.removeValue(forKey: recentOrder[recentNext])
            recentOrder[recentNext] = offset
            recentNext = (recentNext + 1) % Self.rememberedClocks
        }
        recentClocks[offset] = clock
    }

    /// The nearest stamped line before `lineStart` (an index in the chunk)
    /// within the neighbourhood, looked for backwards and only among lines
    /// not examined for an earlier record; earlier lines are `lastStamp`.
    private func previousClock(_ chunk: LineChunk, before lineStart: Int) -> Clock? {
        let start = chunk.byteOffset + lineStart
        let from = max(0, lineStart - Self.neighbourhood, examinedTo - chunk.byteOffset)
        if from < lineStart, let found = Self.lastStamp(in: chunk.bytes, from: from, to: lineStart) {
            lastStamp = (chunk.byteOffset + found.lineStart, found.clock)
        }
        examinedTo = max(examinedTo, start)
        guard let last = lastStamp, last.lineStart >= start - Self.neighbourhood else { return nil }
        return last.clock
    }

    /// The first stamped line at or after `from` (an index in the chunk)
    /// within the neighbourhood; the last search is reused when it covers
    /// this one.
    private func nextClock(_ chunk: LineChunk, from: Int) -> Clock? {
        let start = chunk.byteOffset + from
        if let memo = nextStamp, memo.from <= start {
            if let found = memo.found, found.lineStart >= start {
                return found.lineStart - start < Self.neighbourhood ? found.clock : nil
            }
            if memo.found == nil, memo.searchedTo >= min(chunk.byteOffset + chunk.bytes.count, start + Self.neighbourhood) { return nil }
        }
        let to = min(chunk.bytes.count, from + Self.neighbourhood)
        let found = Self.firstStamp(in: chunk.bytes, from: from)
        nextStamp = (start, found.map { (chunk.byteOffset + $0.lineStart, $0.clock) }, chunk.byteOffset + to)
        return found?.clock
    }

    /// The last line in `bytes[from..<to]` with a prefix stamp, read from the
    /// end; a first line cut by `from` is read as it is.
    static func lastStamp(in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> (lineStart: Int, clock: Clock)? {
        var end = to
        while end > from {
            var start = end - 1
            // `end` is just past a line's "\n" (or the region's end): the
            // line starts after the previous "\n".
            if bytes[start] == 0x0A { end = start; continue }
            while start > from, bytes[start - 1] != 0x0A { start -= 1 }
            let c = clock(of: bytes, start..<end)
            if !c.isEmpty { return (start, c) }
            end = start
        }
        return nil
    }

    /// The first line at or after `from` with a prefix stamp, within the
    /// neighbourhood.
    static func firstStamp(in bytes: UnsafeRawBufferPointer, from: Int) -> (lineStart: Int, clock: Clock)? {
        let to = min(bytes.count, from + neighbourhood)
        var start = from
        while start < to {
            var end = start
            while end < to, bytes[end] != 0x0A { end += 1 }
            if end > start {
                let c = clock(of: bytes, start..<end)
                if !c.isEmpty { return (start, c) }
            }
            start = end + 1
        }
        return nil
    }

    private static func clock(of bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Clock {
        var line = Array(bytes[range])
        if line.last == 0x0D { line.removeLast() }
        return LinePrefix.parse(line).clock
    }

    static func contains(_ line: [UInt8], _ needle: String) -> Bool {
        line.count >= needle.utf8.count && String(decoding: line, as: UTF8.self).contains(needle)
    }
}
