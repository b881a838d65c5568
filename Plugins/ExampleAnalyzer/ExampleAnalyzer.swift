import LockscanKit

/// An out-of-tree analyzer, built as `libExampleAnalyzer.so` and loaded with
/// `lockscan scan --plugin`. It reports `BUG: workqueue lockup` lines — a
/// member of the lockup family the built-ins leave to later work — so the
/// example is useful as well as small. Copy this module to start your own.
public final class WorkqueueLockupExample: Analyzer {
    public static let descriptor = AnalyzerDescriptor(
        id: "example-workqueue-lockup",
        title: "Workqueue lockup (example plugin)",
        explanation: """
            A worker pool made no forward progress for longer than \
            workqueue.watchdog_thresh (30 s by default): work items queued on it are stuck, \
            usually behind one that blocks or spins.
            """,
        eventKinds: ["workqueue_lockup"],
        triggers: ["BUG: workqueue lockup"],
        examples: [
            AnalyzerExample("pool stuck", """
                BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 41s!
                """, expect: [.init(kind: "workqueue_lockup", title: "BUG: workqueue lockup", cpu: 1, line: 1)]),
        ],
        make: { WorkqueueLockupExample() })

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        guard record.text.contains("BUG: workqueue lockup") else { return .idle }
        var e = Event(analyzer: Self.descriptor.id, kind: "workqueue_lockup", title: "BUG: workqueue lockup",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      evidence: [record.text], explanation: Self.descriptor.explanation)
        e.cpu = record.text.integer(after: "pool cpus=")
        if let stuck = record.text.integer(after: "stuck for ") { e.details["stuckSeconds"] = String(stuck) }
        emit(e)
        return .idle
    }

    public func finish(emit: (Event) -> Void) {}
}

@_cdecl("lockscan_plugin_abi_version")
public func lockscanPluginABIVersionEntry() -> Int32 { lockscanPluginABIVersion }

@_cdecl("lockscan_plugin_entry")
public func lockscanPluginEntry() -> UnsafeMutableRawPointer {
    PluginManifest(name: "ExampleAnalyzer", analyzers: [WorkqueueLockupExample.descriptor]).retainedPointer()
}
