/// What an event means to parts of lockscan other than the analyzer that
/// emitted it. The timeline must know when the host started, paused,
/// resumed and ended a VM to align a guest's clock; it asks "is this a
/// pause?" instead of knowing what kind string one analyzer gives a pause.
/// An analyzer declares the roles of its kinds in `AnalyzerDescriptor.roles`;
/// `EventRoles` looks an event's role up.
///
/// Named values rather than an enum: a plugin may declare a role that only
/// a newer consumer reads without the type it compiles against changing.
public struct EventRole: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// The guest kernel booted: its boot-relative clock restarts at 0 here.
    public static let guestBoot = EventRole("guest-boot")
    /// The guest received an NMI that nothing in it claimed: on a VM, usually
    /// one the host injected, so it follows the host's `nmiInjected`.
    public static let guestUnclaimedNMI = EventRole("guest-unclaimed-nmi")
    /// The host started the VM's process: the guest boots after it, unless
    /// the event's `details[EventRole.incomingMigrationDetail]` is set (the
    /// process receives an already running guest by migration).
    public static let vmStart = EventRole("vm-start")
    /// The VM stopped running (QMP `STOP`): guest time stands still until a resume.
    public static let vmPause = EventRole("vm-pause")
    /// The VM runs again after a pause, or for the first time when its
    /// process was started paused (libvirt's `-S`).
    public static let vmResume = EventRole("vm-resume")
    /// A migration away from this host completed: the guest runs on at the
    /// destination, so this side's later stop and end are not the guest's.
    public static let vmMigratedAway = EventRole("vm-migrated-away")
    /// The guest or its VM process ended (shutdown, qemu exiting or killed).
    public static let vmEnd = EventRole("vm-end")
    /// The hypervisor saw the guest panic.
    public static let guestPanic = EventRole("guest-panic")
    /// The guest was reset: it boots again from here.
    public static let guestReset = EventRole("guest-reset")
    /// The host injected an NMI into the guest (`virsh inject-nmi`).
    public static let nmiInjected = EventRole("nmi-injected")

    /// A CPU or task in the kernel stopped making progress: a lockup, a
    /// stall, a task hung. `CrashAftermath` tells such an event when the
    /// kernel had already crashed before it in the same boot.
    public static let lockup = EventRole("lockup")
    /// The kernel crashed: an Oops or BUG that killed a task (the kernel runs
    /// on, with whatever that task held still held), or a panic (it stopped).
    /// `details[EventRole.panicDetail] == "true"` says which.
    public static let crash = EventRole("crash")

    /// The `details` key an event sets to `"true"` when the report ended in
    /// `Kernel panic - not syncing`: the machine stopped there.
    public static let panicDetail = "panic"

    /// The `details` key a `vmStart` event sets when its process receives a
    /// running guest by migration instead of booting one (qemu's `-incoming`).
    public static let incomingMigrationDetail = "incomingMigration"
}

/// The roles declared by a set of analyzers, to look an event's up by the
/// analyzer that emitted it and its kind (two analyzers may use one kind
/// string for different things).
public struct EventRoles: Sendable {
    private let byAnalyzer: [String: [String: EventRole]]

    public init(_ descriptors: [AnalyzerDescriptor]) {
        var map: [String: [String: EventRole]] = [:]
        for d in descriptors where !d.roles.isEmpty {
            map[d.id, default: [:]].merge(d.roles) { first, _ in first }
        }
        byAnalyzer = map
    }

    public func role(of event: Event) -> EventRole? {
        byAnalyzer[event.analyzer]?[event.kind]
    }
}
