import Foundation
import LockscanKit

/// The first and last boot-relative times a log printed, read from its head
/// and tail only: alignment needs the extremes (the first line came after
/// qemu started, the last before the VM ended), and a 10-million-line log
/// should not be read twice for two numbers.
public struct ClockExtent: Sendable, Equatable {
    public var firstMonotonic: Double?
    public var lastMonotonic: Double?
    /// Boot-relative time of a `Kernel panic - not syncing` near the end.
    public var panicMonotonic: Double?
    /// When the kernel settled on its final clocksource
    /// (`clocksource: Switched to clocksource …`), if the head shows it.
    public var settledMonotonic: Double?
    /// Whether lines carry a wall clock with a zone (journal, RFC 3339
    /// syslog, a console server's column): those place themselves.
    public var zonedWallClock: Bool
    /// Lines that printed both clocks (syslog `kernel: [ts]`, journal JSON,
    /// a console column): the spread of UTC − boot-relative over the head and
    /// tail, widened by the wall clock's printed resolution. The best
    /// evidence there is for the same kernel's boot-relative logs elsewhere.
    public var sameRecordOffset: (lo: Double, hi: Double, samples: Int)?

    public static func == (a: ClockExtent, b: ClockExtent) -> Bool {
        a.firstMonotonic == b.firstMonotonic && a.lastMonotonic == b.lastMonotonic && a.panicMonotonic == b.panicMonotonic
            && a.settledMonotonic == b.settledMonotonic && a.zonedWallClock == b.zonedWallClock
            && a.sameRecordOffset?.lo == b.sameRecordOffset?.lo && a.sameRecordOffset?.hi == b.sameRecordOffset?.hi
    }

    mutating func sample(_ clock: Clock) {
        guard let m = clock.monotonic, let w = clock.wall, WallClock.hasZone(w), let t = WallClock.parse(w) else { return }
        let o = t.utc - m
        let r = sameRecordOffset
        sameRecordOffset = (min(r?.lo ?? o, o), max(r?.hi ?? o + t.resolution, o + t.resolution), (r?.samples ?? 0) + 1)
    }

    /// How much of each end is read.
    static let window = 256 * 1024

    public static func read(path: String) -> ClockExtent? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: 0)
        let head = (try? handle.read(upToCount: window)) ?? Data()
        var tail = Data()
        if size > UInt64(window) {
            try? handle.seek(toOffset: size - UInt64(window))
            tail = (try? handle.read(upToCount: window)) ?? Data()
            // The first line of the tail window is likely cut.
            if let nl = tail.firstIndex(of: 0x0A) { tail = tail[(nl + 1)...] }
        } else {
            tail = head
        }
        // Compressed input: nothing readable here (the scan reports it).
        if head.starts(with: [0x1F, 0x8B]) || head.starts(with: [0xFD, 0x37, 0x7A, 0x58]) || head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
            return nil
        }
        var extent = ClockExtent(zonedWallClock: false)
        var zoned = 0, lines = 0
        for line in Self.lines(head) {
            let p = LinePrefix.parse(line)
            lines += 1
            if let w = p.clock.wall, WallClock.hasZone(w) { zoned += 1 }
            extent.sample(p.clock)
            guard let m = p.clock.monotonic else { continue }
            extent.firstMonotonic = min(extent.firstMonotonic ?? m, m)
            if Self.contains(line, "clocksource: Switched to clocksource") { extent.settledMonotonic = m }
        }
        extent.zonedWallClock = lines > 0 && zoned * 2 > lines
        let tailIsHead = size <= UInt64(window)
        for line in Self.lines(tail) {
            let p = LinePrefix.parse(line)
            if !tailIsHead { extent.sample(p.clock) }
            guard let m = p.clock.monotonic else { continue }
            extent.lastMonotonic = max(extent.lastMonotonic ?? m, m)
            if extent.panicMonotonic == nil, Self.contains(line, "Kernel panic - not syncing") {
                extent.panicMonotonic = m
            }
        }
        return extent
    }

    static func contains(_ line: [UInt8], _ needle: String) -> Bool {
        line.count >= needle.utf8.count && String(decoding: line, as: UTF8.self).contains(needle)
    }

    /// Boot-relative time of the last timestamped line before `byteOffset`
    /// (reads at most 8 KiB back): a line stamped earlier than the one before
    /// it shows the clock stood still or the line was logged late.
    public static func previousMonotonic(path: String, before byteOffset: Int) -> Double? {
        guard byteOffset > 0, let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let start = max(0, byteOffset - 8192)
        try? handle.seek(toOffset: UInt64(start))
        guard let data = try? handle.read(upToCount: byteOffset - start) else { return nil }
        for line in lines(data).reversed() {
            if let m = LinePrefix.parse(line).clock.monotonic { return m }
        }
        return nil
    }

    /// The nearest timestamped lines around `byteOffset` (8 KiB each way):
    /// a line without a stamp of its own (a qemu command line, libvirt's
    /// taint line) was written between them.
    public static func surroundingClocks(path: String, at byteOffset: Int) -> (before: Clock?, after: Clock?) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (nil, nil) }
        defer { try? handle.close() }
        let start = max(0, byteOffset - 8192)
        try? handle.seek(toOffset: UInt64(start))
        let back = (try? handle.read(upToCount: byteOffset - start)) ?? Data()
        let ahead = (try? handle.read(upToCount: 8192)) ?? Data()
        let before = lines(back).reversed().lazy.map { LinePrefix.parse($0).clock }.first { !$0.isEmpty }
        let after = lines(ahead).dropFirst().lazy.map { LinePrefix.parse($0).clock }.first { !$0.isEmpty }
        return (before, after)
    }

    /// The clock printed on the line at `byteOffset`, for an event whose
    /// analyzer left its time empty.
    public static func clock(path: String, at byteOffset: Int) -> Clock? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(max(0, byteOffset)))
        guard let data = try? handle.read(upToCount: 4096), let line = lines(data).first else { return nil }
        let c = LinePrefix.parse(line).clock
        return c.isEmpty ? nil : c
    }

    static func lines(_ data: Data) -> [[UInt8]] {
        data.split(separator: 0x0A, omittingEmptySubsequences: true).map { line in
            line.last == 0x0D ? Array(line.dropLast()) : Array(line)
        }
    }
}
