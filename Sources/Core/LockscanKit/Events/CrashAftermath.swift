/// A lockup in a kernel that had already crashed: the task an Oops kills
/// never releases what it held, so the next CPU that needs that spinlock
/// spins for ever (a soft or hard lockup) and the next task that needs that
/// mutex sleeps for ever (a hung task). The lockup report then shows the
/// victim, and the Oops before it is the bug to fix. This pass says so on the
/// lockup's event.
///
/// Two signs, both analyzer-neutral: an event whose role is `.crash` and
/// that did not panic earlier in the same input and boot, or the lockup's own
/// banner taint holding `D` (TAINT_DIE: the kernel oopsed since boot, maybe
/// before the capture began). Roles come from the descriptors, so the pass
/// knows no analyzer's kinds or wordings.
///
/// It sees events in the order analyzers emit them, which is line order for
/// a crash before a lockup: the lockup's header ends the crash's report
/// (report headers), so the crash is out before the lockup is complete.
public struct CrashAftermath {
    /// The `details` key set on a lockup that may be a crash's consequence:
    /// `file:line` of the crash, or `before this capture` from the taint alone.
    public static let detail = "afterCrash"

    private let roles: EventRoles
    private var lastCrash: Event?

    public init(roles: EventRoles) {
        self.roles = roles
    }

    /// Passes one event of the input through, with a hint added when it is
    /// a lockup that may follow from a crash.
    public mutating func pass(_ event: Event) -> Event {
        switch roles.role(of: event) {
        case .crash?:
            // A crash that panicked stopped the machine: a lockup after it
            // in the same input belongs to a later boot.
            if event.details[EventRole.panicDetail] == "true" {
                if let c = lastCrash, c.source.line > event.source.line { return event }
                lastCrash = nil
            } else {
                lastCrash = event
            }
            return event
        case .lockup?:
            return annotated(event)
        default:
            return event
        }
    }

    private func annotated(_ event: Event) -> Event {
        var e = event
        if let crash = lastCrash, crash.source.line < e.source.line, Self.sameBoot(crash, e) {
            let at = "\(crash.source.file):\(crash.source.line)"
            e.details[Self.detail] = at
            e.hints.insert(Hint("The kernel crashed before this (\(crash.title), \(at)): this may be its consequence — a task killed by an Oops keeps the locks it held, and whoever needs them next spins or blocks for ever. Fix that crash first; look for the lock it held in its stack."), at: 0)
        } else if let taint = e.taint, taint.contains("D") {
            e.details[Self.detail] = "before this capture"
            e.hints.insert(Hint("The kernel is tainted D: it already oopsed in this boot, before this capture. This may be that crash's consequence — a task killed by an Oops keeps the locks it held. Find the first Oops of this boot (the full dmesg, journalctl -k -b, pstore) and fix it first.",
                                reference: "Documentation/admin-guide/tainted-kernels.rst"), at: 0)
        }
        return e
    }

    /// Nothing says otherwise: the boot-relative clock did not go back and
    /// the kernel release did not change between the two.
    static func sameBoot(_ crash: Event, _ lockup: Event) -> Bool {
        if let a = crash.time.monotonic, let b = lockup.time.monotonic, b < a { return false }
        if let a = crash.kernel, let b = lockup.kernel, a != b { return false }
        return true
    }
}
