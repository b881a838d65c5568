import LockscanKit

/// An out-of-tree analyzer, built as `libExampleAnalyzer.so` and loaded with
/// `lockscan scan --plugin`. It reports `INFO: task … can't die` — a task
/// that was killed but has not exited for a long time (kernel/hung_task.c
/// on some trees, syzkaller-patched kernels) — which the built-ins leave
/// alone, so the example is useful as well as small. Copy this module to
/// start your own; the shared helpers of LockscanKit (PendingReport,
/// FrameAttribution, StackDump) are all available to it.
public final class TaskCantDieExample: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "example-task-cant-die",
        title: "Task can't die (example plugin)",
        explanation: """
            A task that has been sent SIGKILL is still running or sleeping after the \
            reported time: it is stuck in the kernel in a place that does not check for \
            fatal signals, usually a loop or an uninterruptible wait.
            """,
        eventKinds: ["task_cant_die"],
        triggers: ["can't die for more than"],
        // Declared, its header also ends a stack another analyzer (built in
        // or not) is collecting when the report follows it.
        reportHeaders: ["can't die for more than"],
        examples: [
            AnalyzerExample("killed task still alive", """
                INFO: task syz-executor.1:12632 can't die for more than 143 seconds.
                """, expect: [.init(kind: "task_cant_die", title: "INFO: task can't die", line: 1)]),
        ],
        make: { TaskCantDieExample() })

    public init() {}

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        guard let task = record.text.firstOccurrence(of: "INFO: task "),
              let cant = record.text.firstOccurrence(of: " can't die for more than ") else { return .idle }
        var e = Event(analyzer: Self.descriptor.id, kind: "task_cant_die", title: "INFO: task can't die",
                      severity: .error, source: SourceLocation(record), time: record.clock,
                      evidence: [record.text], explanation: Self.descriptor.explanation)
        let who = record.text[task.upperBound..<cant.lowerBound]
        if let colon = who.lastIndex(of: ":"), let pid = Int(who[who.index(after: colon)...]) {
            e.comm = String(who[..<colon])
            e.pid = pid
        }
        emit(e)
        return .idle
    }

    public func finish(emit: (Event) -> Void) {}
}

@_cdecl("lockscan_plugin_abi_version")
public func lockscanPluginABIVersionEntry() -> Int32 { lockscanPluginABIVersion }

@_cdecl("lockscan_plugin_entry")
public func lockscanPluginEntry() -> UnsafeMutableRawPointer {
    PluginManifest(name: "ExampleAnalyzer", analyzers: [TaskCantDieExample.descriptor]).retainedPointer()
}
