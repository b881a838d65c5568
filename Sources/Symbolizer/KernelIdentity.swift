import CLibdw
import Foundation

/// Which kernel a vmlinux is: its build ID, its `Linux version` banner and
/// release. Each is read on
/// first use: `--addresses` never needs the release, and finding one symbol
/// by name is a pass over the symbol table.
final class KernelIdentity {
    private let module: OpaquePointer
    private let symbols: ElfSymbolTable

    init(module: OpaquePointer, symbols: ElfSymbolTable) {
        self.module = module
        self.symbols = symbols
    }

    /// Release from the banner ("6.1.0-18-cloud-amd64").
    lazy var release: String? = banner.flatMap(Self.release(fromBanner:))
    lazy var banner: String? = readBanner()
    lazy var buildID: String? = readBuildID()

    static func release(fromBanner text: String) -> String? {
        text.range(of: "Linux version ").map { String(text[$0.upperBound...].prefix { $0 != " " }) }
    }

    private func readBuildID() -> String? {
        var bits: UnsafePointer<UInt8>?
        var vaddr: GElf_Addr = 0
        let n = dwfl_module_build_id(module, &bits, &vaddr)
        guard n > 0, let bits else { return nil }
        return (0..<Int(n)).map { String(format: "%02x", bits[$0]) }.joined()
    }

    /// The `linux_banner` string.
    private func readBanner() -> String? {
        guard let sym = symbols.index("vmlinux")?.named("linux_banner").first,
              let bytes = readBytes(address: sym.address, count: Int(min(sym.size == 0 ? 256 : sym.size, 512)))
        else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Bytes at a link-time address, from the section that holds it.
    private func readBytes(address: UInt64, count: Int) -> [UInt8]? {
        var bias: GElf_Addr = 0
        guard let elf = dwfl_module_getelf(module, &bias) else { return nil }
        let target = address - bias
        var scn: OpaquePointer? = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            if gelf_getshdr(s, &shdr) != nil, shdr.sh_type == UInt32(SHT_PROGBITS),
               target >= shdr.sh_addr, target < shdr.sh_addr + shdr.sh_size,
               let data = elf_getdata(s, nil), let buf = data.pointee.d_buf {
                let start = Int(target - shdr.sh_addr)
                let available = min(count, Int(shdr.sh_size) - start, data.pointee.d_size - start)
                guard available > 0 else { return nil }
                let p = buf.advanced(by: start).assumingMemoryBound(to: UInt8.self)
                return Array(UnsafeBufferPointer(start: p, count: available))
            }
            scn = elf_nextscn(elf, s)
        }
        return nil
    }
}
