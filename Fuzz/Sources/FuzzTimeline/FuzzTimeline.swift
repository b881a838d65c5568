import Foundation
import FuzzSupport
import LockscanKit
import PluginHost
import Timeline

/// The timeline builder with two sources, as `lockscan timeline --guest G
/// --qmp Q` (or --libvirt, --qemu, --host) runs it, then its three outputs;
/// the JSON must parse. The input is the guest's log, a NUL byte, one byte
/// that picks the second source's role, and that source's bytes (the seeds
/// script pairs corpora/ files this way). Without a NUL the whole input is
/// both sources, the second's role picked by the input's size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimeline(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let hostRoles: [SourceRole] = [.qmp, .libvirt, .qemu, .host]
    var guest = bytes, other = bytes
    var role = hostRoles[size % hostRoles.count]
    if let nul = bytes.firstIndex(of: 0) {
        guest = UnsafeBufferPointer(rebasing: bytes[..<nul])
        let rest = bytes.index(after: nul)
        if rest < bytes.endIndex {
            role = hostRoles[Int(bytes[rest]) % hostRoles.count]
            other = UnsafeBufferPointer(rebasing: bytes[bytes.index(after: rest)...])
        } else {
            other = UnsafeBufferPointer(rebasing: bytes[rest...])
        }
    }
    let inputs = [TimelineInput(role: .guest, path: FuzzFile.write(guest, name: "guest")),
                  TimelineInput(role: role, path: FuzzFile.write(other, name: "other"))]
    let (doc, _) = TimelineBuilder(inputs: inputs).build(analyzers: BuiltinAnalyzers.all)
    _ = TimelineText.render(doc)
    do {
        FuzzJSON.requireValid(Data(try TimelineJSON.data(doc)), "timeline --json")
    } catch {
        fatalError("fuzz finding: timeline --json could not be written: \(error)")
    }
    _ = TimelineHTML.render(doc)
    return 0
}

@main
enum FuzzTimelineMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzTimeline(data, size) },
                       examples: BuiltinAnalyzers.all)
    }
}
