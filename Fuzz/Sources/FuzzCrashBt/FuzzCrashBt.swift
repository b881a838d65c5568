import FuzzSupport
import LockscanKit
import PluginHost

/// The stack readers: each line through `TraceLineParser` (x86 and arm64
/// traces, crash `bt`), and the lines as records through `ReportDumps` (a
/// report's dumps, one `StackDumpCollector` each) from the first line, then
/// what the analyzers ask of a dump: where the CPU was, its culprit, its
/// interrupted frames, whether interrupts were off.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCrashBt(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    FuzzLines.forEach(bytes) { line, _, _ in _ = TraceLineParser.parse(line) }
    let records = FuzzLines.records(bytes)
    guard let header = records.first else { return 0 }
    var report = ReportDumps(header: header)
    for r in records.dropFirst() {
        _ = ReportDumps.startsDump(r.text)
        if !report.feed(r) { break }
    }
    let dumps = report.close()
    _ = report.capNote(dumps)
    for d in dumps {
        _ = d.instructionPointer
        _ = d.interruptedFrames
        _ = d.irqsDisabled
        _ = d.showsOnlyPlumbing
        let stuck = FrameAttribution.stuckContext(d)
        _ = FrameAttribution.stallCulprit(stuck)
        _ = FrameAttribution.stallCulprit(d.frames, skipRCU: true)
        _ = FrameAttribution.hungTaskCulprit(d.frames)
    }
    return 0
}

@main
enum FuzzCrashBtMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzCrashBt(data, size) },
                       examples: BuiltinAnalyzers.all)
    }
}
