import Foundation
import FuzzSupport
import LockscanKit
import PluginHost

/// Every built-in analyzer through the scan engine, as `lockscan scan` runs
/// them on one file, then everything scan prints (`FuzzScanRun`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScan(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzScanRun.run(FuzzFile.write(fuzzBytes(data, size)), analyzers: BuiltinAnalyzers.all)
    return 0
}

@main
enum FuzzScanMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzScan(data, size) },
                       examples: BuiltinAnalyzers.all)
    }
}
