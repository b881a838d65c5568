import Foundation
import FuzzSupport
import LockscanKit
import Symbolizer

/// The ELF/DWARF path: the bytes as a vmlinux (and, when the header says
/// ET_REL, also as a module beside it), opened through `KernelDebugInfo`
/// (libdwfl, then `ElfSymbolTable`'s own symbol index and `DwarfLines`),
/// then every question scan and symbolize ask: the kernel checks, symbols
/// at addresses taken from the file itself and past the symbols found,
/// `symbol+offset` with hostile offsets and sizes, file:line and inline
/// chains, and printed frames through `FrameAddressPolicy`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzElf(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let path = FuzzFile.write(bytes, name: "vmlinux")
    guard let kernel = try? KernelDebugInfo(vmlinux: path) else { return 0 }
    var modules: [String?] = [nil]
    if size > 17, bytes[16] == 1, bytes[17] == 0 {   // e_type ET_REL, little-endian
        let mod = FuzzFile.write(bytes, name: "fuzz_mod.ko")
        if (try? kernel.addModule(path: mod)) != nil { modules.append("fuzz_mod") }
    }
    _ = KernelCheck.notAKernel(kernel, force: false)
    _ = KernelCheck.notAKernel(kernel, force: true)
    _ = KernelCheck.noDebugInfo(kernel)
    _ = KernelCheck.mismatches(logRelease: "6.1.0-99-fixture", logBuildID: "00112233", kernel: kernel, force: false)
    _ = kernel.banner
    _ = kernel.buildID

    // Addresses the file itself holds (entry point, header words, …) and
    // the extremes.
    var addresses: [UInt64] = [0, 1, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, .max]
    var at = 0
    while at + 8 <= bytes.count, addresses.count < 24 {
        var word: UInt64 = 0
        for k in 0..<8 { word |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
        addresses.append(word)
        at += max(8, bytes.count / 16) & ~7
    }
    let symbolizer = KernelFrameSymbolizer(kernel: kernel)
    for module in modules {
        var names: Set<String> = ["outer", "helper", "main", "end_repeat_nmi", "_start"]
        for a in addresses {
            if let s = kernel.symbol(at: a, module: module) {
                names.insert(s.name)
                _ = kernel.symbol(at: a &- s.offset &+ s.size, module: module)
            }
            _ = kernel.symbolize(a, module: module)
        }
        kernel.preloadSymbols(named: names, module: module)
        for name in names.sorted().prefix(12) {
            for (offset, size) in [(0, nil), (0x10, 0x10), (.max, 0x10), (0x7fff_ffff_ffff_ffff, nil),
                                   (0x8000_0000_0000_0000, .max)] as [(UInt64, UInt64?)] {
                if let a = kernel.address(symbol: name, offset: offset, size: size, module: module) {
                    _ = kernel.symbolize(a, module: module, symbolName: name)
                }
                let frame = Frame(function: name, offset: offset, size: size, module: module)
                _ = symbolizer.symbolize(frame)
            }
            for r in kernel.ranges(ofSymbol: name, module: module) ?? [] {
                _ = kernel.symbolize(r.start &+ r.size, module: module)
            }
            if let module { _ = kernel.moduleCodeOffset(symbol: name, module: module) }
        }
    }
    return 0
}

@main
enum FuzzElfMain {
    /// What the ELF path looks for by name: sections, symbols, the banner.
    static let words = [".rodata", ".text", ".symtab", ".strtab", ".debug_info", ".debug_line", ".debug_abbrev",
                        ".debug_str", ".zdebug_info", ".note.gnu.build-id", ".gnu_debuglink", "__ksymtab",
                        "linux_banner", "_stext", "_text", "Linux version "]

    static func main() {
        FuzzDriver.run({ data, size in fuzzElf(data, size) }, words: words)
    }
}
