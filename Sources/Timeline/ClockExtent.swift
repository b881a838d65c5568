import LockscanKit

/// The first and last boot-relative times a log printed, from its head and
/// tail only: alignment needs the extremes (the first line came after qemu
/// started, the last before the VM ended). `ClockTrail` measures it while
/// the scan reads the log.
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
}
