import CLibdw
import FoundationEssentials
import LockscanKit
import Glibc

/// Which kernel a vmlinux is: its build ID, its `Linux version` banner and
/// release, and whether it is a Linux kernel image at all. Each is read on
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
    lazy var kind: KernelImageKind = classify()

    static func release(fromBanner text: String) -> String? {
        text.firstOccurrence(of: "Linux version ").map { String(text[$0.upperBound...].prefix { $0 != " " }) }
    }

    private func readBuildID() -> String? {
        var bits: UnsafePointer<UInt8>?
        var vaddr: GElf_Addr = 0
        let n = dwfl_module_build_id(module, &bits, &vaddr)
        guard n > 0, let bits else { return nil }
        return (0..<Int(n)).map { PrintfFormat.hex(UInt64(bits[$0]), width: 2) }.joined()
    }

    /// The `linux_banner` string, or for a file without symbols the
    /// `Linux version ` string of its `.rodata`.
    private func readBanner() -> String? {
        let bytes: [UInt8]
        if let sym = symbols.index("vmlinux")?.named("linux_banner").first,
           let b = readBytes(address: sym.address, count: Int(min(sym.size == 0 ? 256 : sym.size, 512))) {
            bytes = b
        } else if let b = rodataBanner() {
            bytes = b
        } else {
            return nil
        }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingWhitespace()
    }

    /// Whether the file is a Linux kernel image, judged by its structure,
    /// cheapest evidence first; see `KernelImageKind`.
    private func classify() -> KernelImageKind {
        var bias: GElf_Addr = 0
        var ehdr = GElf_Ehdr()
        guard let elf = dwfl_module_getelf(module, &bias), gelf_getehdr(elf, &ehdr) != nil else {
            return .notAKernel("libelf cannot read its header")
        }
        switch Int32(ehdr.e_type) {
        case ET_REL: return .notAKernel("a relocatable object: a kernel module goes to --modules")
        case ET_CORE: return .notAKernel("a core dump")
        default: break
        }
        // Exported-symbol tables exist only in a kernel built with modules.
        if section(in: elf, where: { strncmp($0, "__ksymtab", 9) == 0 }) != nil { return .linuxKernel("__ksymtab section") }
        if ehdr.e_type == UInt16(ET_EXEC), symbols.has("linux_banner", module: "vmlinux") {
            return .linuxKernel("linux_banner symbol")
        }
        // Every kernel's linker script defines both; user space has neither.
        if symbols.has("_stext", module: "vmlinux"), symbols.has("_text", module: "vmlinux") {
            return .linuxKernel("_text and _stext symbols")
        }
        // A symbol table stripped away: the banner string itself.
        if ehdr.e_type == UInt16(ET_EXEC), rodataBanner() != nil { return .linuxKernel("Linux version string in .rodata") }
        let kind = ehdr.e_type == UInt16(ET_DYN) ? "a shared library or PIE program" : "an ELF file"
        return .notAKernel("\(kind): no __ksymtab section, no linux_banner or _text/_stext symbol, no Linux version string")
    }

    /// The bytes from `Linux version ` on in `.rodata` (up to 512), if any.
    private func rodataBanner() -> [UInt8]? {
        var bias: GElf_Addr = 0
        guard let elf = dwfl_module_getelf(module, &bias), let scn = section(in: elf, where: { strcmp($0, ".rodata") == 0 }),
              let data = elf_getdata(scn, nil), let buf = data.pointee.d_buf, data.pointee.d_size > 0 else { return nil }
        let haystack = UnsafeRawBufferPointer(start: buf, count: data.pointee.d_size)
        let needle = Array("Linux version ".utf8)
        var at = 0
        // memchr for the first byte, then compare: memmem is not in Glibc's Swift overlay.
        while at + needle.count <= haystack.count, let p = memchr(buf + at, Int32(needle[0]), haystack.count - at) {
            let start = buf.distance(to: p)
            guard start + needle.count <= haystack.count else { return nil }
            if memcmp(p, needle, needle.count) == 0 {
                return Array(haystack[start..<min(start + 512, haystack.count)])
            }
            at = start + 1
        }
        return nil
    }

    private func section(in elf: OpaquePointer, where matches: (UnsafePointer<CChar>) -> Bool) -> OpaquePointer? {
        ElfSections.first(in: elf, where: matches)?.section
    }

    /// Bytes at a link-time address, from the section that holds it. The
    /// addresses and sizes are the file's and may be anything: a section
    /// whose end lies past 2^64 or a symbol below the bias holds no bytes.
    private func readBytes(address: UInt64, count: Int) -> [UInt8]? {
        var bias: GElf_Addr = 0
        guard let elf = dwfl_module_getelf(module, &bias) else { return nil }
        let (target, below) = address.subtractingReportingOverflow(bias)
        guard !below else { return nil }
        var scn: OpaquePointer? = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            if gelf_getshdr(s, &shdr) != nil, shdr.sh_type == UInt32(SHT_PROGBITS),
               target >= shdr.sh_addr, target - shdr.sh_addr < shdr.sh_size,
               let data = elf_getdata(s, nil), let buf = data.pointee.d_buf,
               let start = Int(exactly: target - shdr.sh_addr), start < data.pointee.d_size {
                let inSection = Int(clamping: shdr.sh_size - (target - shdr.sh_addr))
                let available = min(count, inSection, data.pointee.d_size - start)
                guard available > 0 else { return nil }
                let p = buf.advanced(by: start).assumingMemoryBound(to: UInt8.self)
                return Array(UnsafeBufferPointer(start: p, count: available))
            }
            scn = elf_nextscn(elf, s)
        }
        return nil
    }
}

/// Whether a file given as the vmlinux is a Linux kernel image, with the
/// evidence or the reason. Symbolizing against something else (`/bin/ls`,
/// a user-space library) answers nothing or, worse, matches a few common
/// names (`main`, `_start`) and prints plausible wrong lines, so the
/// commands refuse it unless told `--force`.
///
/// The structure decides, not the file name: an ELF executable with a
/// `linux_banner` symbol or a `Linux version ` string in `.rodata`, or any
/// linked file with `__ksymtab*` sections or both `_text` and `_stext`.
/// A kernel without DWARF is still a kernel (its frames get names, not
/// file:line).
public enum KernelImageKind: Sendable, Equatable {
    case linuxKernel(String)
    case notAKernel(String)

    public var isLinuxKernel: Bool {
        if case .linuxKernel = self { return true }
        return false
    }
}

/// The checks every command that takes a vmlinux makes before using it, and
/// their messages, so `symbolize`, `scan --vmlinux` and `addr2line` say the
/// same thing.
public enum KernelCheck {
    /// A refusal: the message, and whether the command must stop (no `--force`).
    public struct Problem: Sendable, Equatable {
        public var message: String
        public var refused: Bool
    }

    /// nil for a Linux kernel image; else why this file is not one.
    public static func notAKernel(_ kernel: KernelDebugInfo, force: Bool) -> Problem? {
        guard case let .notAKernel(reason) = kernel.imageKind else { return nil }
        let tail = force ? "--force: using it anyway, expect few or wrong answers"
            : "give the kernel's vmlinux, or --force to use this file anyway"
        return Problem(message: "\(kernel.path) is not a Linux kernel image (\(reason)); \(tail)", refused: !force)
    }

    /// Said once instead of a `??:0` on every frame: the file is a kernel
    /// but carries no DWARF (and libdw found no separate debug file).
    public static func noDebugInfo(_ kernel: KernelDebugInfo) -> String? {
        guard !kernel.hasDWARF else { return nil }
        let which = kernel.release.map { " (linux-image-\($0)-dbg on Debian)" } ?? ""
        return "\(kernel.path) has no DWARF debug info: frames keep their function names but get no file:line; give the debug vmlinux\(which)"
    }

    /// The log's kernel against the vmlinux: a release or build ID that
    /// differs means wrong debug files, which give wrong lines.
    public static func mismatches(logRelease: String?, logBuildID: String?, kernel: KernelDebugInfo, force: Bool) -> [Problem] {
        let tail = force ? " (--force: symbolizing anyway)" : "; give the matching vmlinux, or --force to symbolize anyway"
        var out: [Problem] = []
        if let logRelease, let own = kernel.release, logRelease != own {
            out.append(Problem(message: "the log is from \(logRelease) but \(kernel.path) is \(own); wrong debug files give wrong lines" + tail,
                               refused: !force))
        }
        if let logBuildID, let own = kernel.buildID, logBuildID.lowercased() != own.lowercased() {
            out.append(Problem(message: "the log's kernel has build ID \(logBuildID) but \(kernel.path) has \(own); wrong debug files give wrong lines" + tail,
                               refused: !force))
        }
        return out
    }
}
