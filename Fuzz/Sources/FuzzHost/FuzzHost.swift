import FuzzSupport
import LockscanKit
import PluginHost

/// The host-side readers: each line as a QMP event (raw and as `qmp`-format
/// records, whose timestamps become wall clocks), a libvirtd.log message, a
/// qemu domain log's start-up and shutdown lines, a qemu command line (also
/// gathered across lines as libvirt wraps it); then the host analyzers
/// through the engine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHost(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    var collector: QemuCommandLine.Collector?
    FuzzLines.forEach(bytes) { line, number, offset in
        _ = LineRecords.parse(line, format: .qmp, line: number, offset: offset, input: 0) { _ in }
    }
    for r in FuzzLines.records(bytes) {
        let text = r.text
        _ = QMPEvent.parse(text)
        _ = LibvirtMessage.parse(text)
        _ = QemuDomainLog.StartingUp.parse(text)
        _ = QemuDomainLog.shutdownReason(text)
        _ = QemuCommandLine.options(text)
        _ = ShellWords.split(text)
        if let q = QemuCommandLine.parse(line: text) { inspect(q) }
        if QemuCommandLine.Collector.begins(text) { collector = QemuCommandLine.Collector() }
        if var c = collector {
            let more = c.add(text)
            collector = more ? c : nil
            if !more, let q = c.commandLine { inspect(q) }
        }
    }
    FuzzScanRun.run(FuzzFile.write(bytes), analyzers: FuzzScanRun.pick(["host-vm-event", "hyperv-enlightenments"], from: BuiltinAnalyzers.all))
    return 0
}

/// What the analyzers read from a parsed command line.
private func inspect(_ q: QemuCommandLine) {
    _ = q.smp?.vcpus
    if let cpu = q.cpu {
        for f in cpu.flags { _ = cpu.flag(f.name) }
        _ = cpu.hasEnlightenment("hv-time")
    }
}

@main
enum FuzzHostMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzHost(data, size) },
                       examples: FuzzScanRun.pick(["host-vm-event", "hyperv-enlightenments"], from: BuiltinAnalyzers.all))
    }
}
