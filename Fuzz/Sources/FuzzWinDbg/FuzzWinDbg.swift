import FuzzSupport
import LockscanKit
import PluginHost

/// The WinDbg reader: every line as a `Debug session time:` and a `System
/// Uptime:` line, every session time found with every uptime found (the
/// boot time), then the analyzers that read WinDbg sessions through the
/// engine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWinDbg(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    var sessions: [String] = [], uptimes: [Double] = []
    for r in FuzzLines.records(bytes) {
        if let s = WindowsDebugSession.sessionTime(r.text), sessions.count < 8 { sessions.append(s) }
        if case let .success(u)? = WindowsDebugSession.parseUptime(r.text), uptimes.count < 8 { uptimes.append(u) }
        _ = WindowsDebugSession.uptime(r.text)
    }
    for s in sessions { for u in uptimes { _ = WindowsDebugSession.bootTime(sessionTime: s, uptime: u) } }
    FuzzScanRun.run(FuzzFile.write(bytes),
                    analyzers: FuzzScanRun.pick(["windows-clock-watchdog", "hyperv-enlightenments"], from: BuiltinAnalyzers.all))
    return 0
}

@main
enum FuzzWinDbgMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzWinDbg(data, size) },
                       examples: FuzzScanRun.pick(["windows-clock-watchdog", "hyperv-enlightenments"], from: BuiltinAnalyzers.all))
    }
}
