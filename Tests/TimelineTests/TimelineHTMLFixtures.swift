import LockscanKit
@testable import Timeline

/// Documents for the HTML tests, built by hand so the tests do not depend on
/// the timeline builder: a realistic postmortem (a guest paused by the host,
/// its qemu/libvirt/QMP logs, the host kernel, a Windows guest no evidence
/// aligns) and the degenerate shapes every renderer must survive.
enum TimelineHTMLFixtures {
    /// 2017-03-15T06:03:08Z.
    static let t0 = 1_489_557_788.0

    static func event(_ title: String, kind: String = "soft_lockup", severity: Severity = .error, file: String = "guest.log",
                      line: Int = 1, evidence: [String] = [], hints: [Hint] = [], cpu: Int? = nil) -> Event {
        Event(analyzer: kind, kind: kind, title: title, severity: severity,
              source: SourceLocation(file: file, line: line, endLine: line + max(0, evidence.count - 1), byteOffset: 0),
              cpu: cpu, evidence: evidence, hints: hints)
    }

    static func placed(_ e: Event, _ source: String, at t: Double, before: Double = 0, after: Double = 0, cluster: Int? = nil) -> TimelineEvent {
        TimelineEvent(event: e, sourceID: source, time: EventTime(utc: t, earliest: t - before, latest: t + after), cluster: cluster)
    }

    static func source(_ id: String, _ role: SourceRole, file: String? = nil, clock: String = "UTC", method: String = "printed",
                       width: Double = 0) -> TimelineSource {
        TimelineSource(id: id, role: role, file: file ?? "\(id).log", clock: clock,
                       segments: [ClockSegment(offset: 0, offsetEarliest: -width / 2, offsetLatest: width / 2, method: method, evidence: [])])
    }

    static let realisticSourceIDs = ["guest", "host", "libvirt", "qemu", "qmp", "guest-2"]

    /// Six lanes over ten minutes, 240 events with bursts dense enough to
    /// need sub-rows, two clusters, a pause in the guest's clock, one event
    /// that cannot be placed.
    static func realistic() -> TimelineDocument {
        let pauseStart = t0 + 300, pauseLength = 42.0
        let guestBoot = t0 - 3600.0
        let guest = TimelineSource(id: "guest", role: .guest, file: "corpora/vm113/guest-console.log", clock: "boot-relative", segments: [
            ClockSegment(to: 3900, offset: guestBoot, offsetEarliest: guestBoot - 0.25, offsetLatest: guestBoot + 0.25, method: "anchor",
                         evidence: ["--anchor guest:123.456=2017-03-15T06:03:08Z"]),
            ClockSegment(from: 3900, offset: guestBoot + pauseLength, offsetEarliest: guestBoot + pauseLength - 0.3,
                         offsetLatest: guestBoot + pauseLength + 0.3, method: "pause",
                         evidence: ["QMP STOP at 06:08:08.000000Z", "QMP RESUME at 06:08:50.000000Z"]),
        ])
        let host = TimelineSource(id: "host", role: .host, file: "host-kern.log", clock: "boot-relative", segments: [
            ClockSegment(offset: t0 - 86400, offsetEarliest: t0 - 86400.001, offsetLatest: t0 - 86399.999, method: "same record",
                         evidence: ["Mar 15 06:03:09 hv3 kernel: [86401.000000] ixgbe 0000:03:00.0: VF reset"]),
        ])
        let windows = TimelineSource(id: "guest-2", role: .guest, file: "MEMORY.DMP.analyze.txt", clock: "boot-relative",
                                     segments: [ClockSegment(offset: 0, offsetEarliest: 0, offsetLatest: 0, method: "unaligned", evidence: [])])
        let sources = [guest, host, source("libvirt", .libvirt, file: "/var/log/libvirt/libvirtd.log"),
                       source("qemu", .qemu, file: "/var/log/libvirt/qemu/vm113.log"), source("qmp", .qmp, file: "qmp-events.json"), windows]

        // A Weyl sequence: spread, deterministic, no generator needed.
        var k = 0.0
        func unit() -> Double { k += 1; return (k * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) }
        var events: [TimelineEvent] = []
        let severities: [Severity] = [.info, .warning, .error, .critical]
        for i in 0 ..< 236 {
            let lane = ["guest", "guest", "host", "libvirt", "qemu", "qmp"][i % 6]
            // Two bursts (around the pause and at 06:11) and a background spread.
            let t: Double = switch i % 3 {
            case 0: pauseStart - 2 + unit() * 4
            case 1: t0 + 480 + unit() * 1.5
            default: t0 + unit() * 600
            }
            let width = lane == "guest" ? 0.25 + unit() : lane == "host" ? 0.001 : 0
            let sev = severities[Int(unit() * 4) % 4]
            let e = event("event \(i) on \(lane)", kind: lane == "guest" ? "soft_lockup" : "host_vm_event", severity: sev,
                          file: "\(lane).log", line: 10 + i, evidence: ["line \(i) of \(lane)", "second line"], cpu: i % 4)
            events.append(placed(e, lane, at: t, before: width / 2, after: width / 2))
        }
        let stop = event("QMP STOP", kind: "vm_stop", severity: .warning, file: "qmp-events.json", line: 3,
                         evidence: [#"{"timestamp": {"seconds": 1489558088, "microseconds": 0}, "event": "STOP"}"#])
        let lockup = event("BUG: soft lockup in native_safe_halt", severity: .error, file: "guest-console.log", line: 812,
                           evidence: ["watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [swapper/1:0]"], cpu: 1)
        let vfReset = event("VF reset on 0000:03:00.0", kind: "host_vf_reset", severity: .warning, file: "host-kern.log", line: 77)
        let tscUnstable = event("clocksource tsc unstable", kind: "clocksource_unstable", severity: .critical, file: "guest-console.log", line: 90,
                                hints: [Hint("the guest lost time while paused", reference: "Documentation/virt/kvm/x86/timekeeping.rst")])
        events += [placed(stop, "qmp", at: pauseStart, cluster: 0), placed(lockup, "guest", at: pauseStart + 0.4, before: 0.3, after: 0.3, cluster: 0),
                   placed(vfReset, "host", at: t0 + 120, before: 0.001, after: 0.001, cluster: 1),
                   placed(tscUnstable, "guest", at: t0 + 120.5, before: 0.25, after: 0.25, cluster: 1)]
        let bugcheck = event("CLOCK_WATCHDOG_TIMEOUT (101)", kind: "windows_clock_watchdog", severity: .critical, file: "MEMORY.DMP.analyze.txt",
                             line: 12, evidence: ["Arg1: 00000061, Clock interrupt time out interval in nominal clock ticks."])
        events.append(TimelineEvent(event: bugcheck, sourceID: "guest-2", time: nil))
        let clusters = [
            TimelineCluster(events: [236, 237], earliest: pauseStart, latest: pauseStart + 0.7, summary: "qemu STOP next to a guest soft lockup"),
            TimelineCluster(events: [238, 239], earliest: t0 + 119.999, latest: t0 + 120.75, summary: "host VF reset next to guest clocksource tsc unstable"),
        ]
        return TimelineDocument(sources: sources, events: events, clusters: clusters,
                                diagnostics: ["guest-2: no evidence aligns MEMORY.DMP.analyze.txt's clock; its events are unplaced"])
    }
}
