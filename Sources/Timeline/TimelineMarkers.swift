import LockscanKit

/// The timeline's own analyzer: the `Linux version …` banner every boot
/// prints at boot-relative 0. A log holding several boots restarts its
/// clock at each; placing an earlier boot's lines with the latest boot's
/// evidence would be silently wrong, so the builder needs to know where
/// each boot starts. The boots are also worth seeing on the timeline next
/// to qemu's start. Not registered for `scan`: it reports no problem.
final class BootMarker: Analyzer {
    static let kind = "guest_boot"

    static let descriptor = AnalyzerDescriptor(
        id: "boot-marker",
        title: "Kernel boot banner (timeline only)",
        explanation: "The kernel printed its version banner: a boot, where the boot-relative clock starts at 0.",
        eventKinds: [kind],
        roles: [kind: .guestBoot],
        triggers: ["Linux version "],
        examples: [
            AnalyzerExample("banner", "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)",
                            expect: [.init(kind: kind, title: "kernel booted: 6.1.0-56-cloud-amd64", severity: .info, line: 1)]),
            AnalyzerExample("a later mention is not a boot", "lockscan: running on Linux version 6.1.0 since boot", expect: []),
        ],
        make: { BootMarker() })

    func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        // The banner begins the message; a mention later in a line is not a boot.
        guard text.hasPrefix("Linux version ") else { return .idle }
        let release = text.dropFirst("Linux version ".count).prefix { $0 != " " }
        emit(Event(analyzer: Self.descriptor.id, kind: Self.kind, title: "kernel booted: \(release)", severity: .info,
                   source: SourceLocation(record), time: record.clock, evidence: [text],
                   explanation: Self.descriptor.explanation))
        return .idle
    }

    func finish(emit: (Event) -> Void) {}
}

/// The timeline's other marker: x86's `Uhhuh. NMI received for unknown
/// reason 30 on CPU 0.`, what a guest prints when the host injects an NMI
/// (virsh inject-nmi) and nothing in the guest claims it. It came after the
/// host's command: a lower bound on the guest's clock offset.
final class UnknownNMIMarker: Analyzer {
    static let kind = "guest_unknown_nmi"

    static let descriptor = AnalyzerDescriptor(
        id: "unknown-nmi-marker",
        title: "NMI of unknown reason received (timeline only)",
        explanation: "The CPU received an NMI no handler claimed: on a VM, usually one the host injected.",
        eventKinds: [kind],
        roles: [kind: .guestUnclaimedNMI],
        triggers: ["NMI received for unknown reason"],
        examples: [
            AnalyzerExample("inject-nmi seen by the guest", "Uhhuh. NMI received for unknown reason 30 on CPU 1.",
                            expect: [.init(kind: kind, title: "NMI received for unknown reason on CPU 1", cpu: 1, severity: .info, line: 1)]),
        ],
        make: { UnknownNMIMarker() })

    func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        guard let r = text.firstOccurrence(of: "NMI received for unknown reason") else { return .idle }
        let cpu = text[r.upperBound...].firstOccurrence(of: "on CPU ").flatMap { Int(text[$0.upperBound...].prefix { $0.isNumber }) }
        var e = Event(analyzer: Self.descriptor.id, kind: Self.kind, title: "NMI received for unknown reason" + (cpu.map { " on CPU \($0)" } ?? ""),
                      severity: .info, source: SourceLocation(record), time: record.clock, evidence: [text],
                      explanation: Self.descriptor.explanation)
        e.cpu = cpu
        emit(e)
        return .idle
    }

    func finish(emit: (Event) -> Void) {}
}
