import CLibdw
import Glibc

/// A second image of the vmlinux in which `.debug_info` begins at one unit,
/// so that libdw, asked for that unit, reads its header and no other.
///
/// Why: libdw finds a unit by offset (`dwarf_offdie`) by reading every unit
/// header before it, and a distribution kernel's 2,200 headers are spread
/// over 160 MiB. Each one read is a page fault that maps 16 pages of the
/// file (the kernel's fault-around), so reaching a unit in the middle of
/// the section costs ~1,000 faults and ~64 MiB of page tables to build and
/// tear down: two thirds of a one-address `symbolize`, and what
/// eu-addr2line pays too.
///
/// How: the file is mapped privately a second time and the one section
/// header of `.debug_info` in this copy is changed to start at the unit
/// (the page that holds it is copied on write; nothing else is). What libdw
/// reads is then an ordinary ELF file whose `.debug_info` holds the units
/// from that one to the end, unchanged; every other section is the file's.
/// Offsets into other sections (strings, lines, ranges, abbreviations)
/// are unchanged; offsets into `.debug_info` itself are `base` less, which
/// is why a unit that refers into `.debug_info` by absolute offset
/// (`DW_FORM_ref_addr`, or a form given in the DIE) is not read through a
/// window: `isSelfContained` says which units are safe.
///
/// Only for a little-endian ELF64 file with an uncompressed `.debug_info`
/// in 32-bit DWARF; otherwise `init` gives nil and the caller reads units
/// the ordinary way.
final class UnitWindow {
    /// Offset in the file's `.debug_info` of the first unit the window holds.
    let base: UInt64
    /// libdw's handle on the image: its unit offsets are `base` less.
    let dwarf: OpaquePointer
    private let elf: OpaquePointer
    private let image: UnsafeMutableRawPointer
    private let size: Int

    /// - Parameters:
    ///   - path: the vmlinux file, mapped again here;
    ///   - original: libdwfl's Elf of that file: its headers must match the
    ///     file's, or the file changed and no window is made;
    ///   - base: a unit's offset in `.debug_info`.
    init?(path: String, original: OpaquePointer, base: UInt64, alt: OpaquePointer?) {
        var length = 0
        guard base > 0, let raw = elf_rawfile(original, &length), length > 0,
              let header = Self.debugInfoHeader(original, size: length) else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == length,
              let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return nil }
        // The same file: its ELF header and section headers are the ones libdwfl read.
        guard Self.sameHeaders(mapped, raw, header) else {
            munmap(mapped, length)
            return nil
        }
        // `base` comes from the file's `.debug_aranges`: checked before any sum.
        guard base < header.sectionSize, header.sectionSize - base > 11,
              Self.isCompileUnitHeader(mapped + Int(header.sectionOffset + base)) else {
            munmap(mapped, length)
            return nil
        }
        let unitAt = header.sectionOffset + base
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let entry = Int(header.entryOffset)
        let first = entry / page * page
        let last = (entry + MemoryLayout<Elf64_Shdr>.size - 1) / page * page
        guard mprotect(mapped + first, last - first + page, PROT_READ | PROT_WRITE) == 0 else {
            munmap(mapped, length)
            return nil
        }
        var shdr = mapped.loadUnaligned(fromByteOffset: entry, as: Elf64_Shdr.self)
        shdr.sh_offset = unitAt
        shdr.sh_size = header.sectionSize - base
        mapped.storeBytes(of: shdr, toByteOffset: entry, as: Elf64_Shdr.self)
        guard let e = elf_memory(mapped.assumingMemoryBound(to: CChar.self), length) else {
            munmap(mapped, length)
            return nil
        }
        guard let d = dwarf_begin_elf(e, DWARF_C_READ, nil) else {
            elf_end(e)
            munmap(mapped, length)
            return nil
        }
        if let alt { dwarf_setalt(d, alt) }
        self.base = base
        self.dwarf = d
        self.elf = e
        self.image = mapped
        self.size = length
    }

    deinit {
        dwarf_end(dwarf)
        elf_end(elf)
        munmap(image, size)
    }

    /// Where `.debug_info` is, and where its section header sits, in the file.
    struct DebugInfoHeader {
        var sectionOffset: UInt64
        var sectionSize: UInt64
        /// File offset of `.debug_info`'s Elf64_Shdr.
        var entryOffset: UInt64
        /// The section header table's extent in the file.
        var tableStart: UInt64
        var tableEnd: UInt64
    }

    static func debugInfoHeader(_ elf: OpaquePointer, size: Int) -> DebugInfoHeader? {
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil, ehdr.e_ident.4 == UInt8(ELFCLASS64), ehdr.e_ident.5 == UInt8(ELFDATA2LSB),
              Int(ehdr.e_shentsize) == MemoryLayout<Elf64_Shdr>.size else { return nil }
        var count = 0
        guard elf_getshdrnum(elf, &count) == 0 else { return nil }
        let (tableEnd, overflow) = ehdr.e_shoff.addingReportingOverflow(UInt64(count) * UInt64(ehdr.e_shentsize))
        guard !overflow, tableEnd <= UInt64(size), let (s, shdr) = ElfSections.named(".debug_info", in: elf),
              shdr.sh_type == UInt32(SHT_PROGBITS), shdr.sh_flags & UInt64(SHF_COMPRESSED) == 0,
              shdr.sh_offset <= UInt64(size), shdr.sh_size <= UInt64(size) - shdr.sh_offset else { return nil }
        return DebugInfoHeader(sectionOffset: shdr.sh_offset, sectionSize: shdr.sh_size,
                               entryOffset: ehdr.e_shoff + UInt64(elf_ndxscn(s)) * UInt64(ehdr.e_shentsize),
                               tableStart: ehdr.e_shoff, tableEnd: tableEnd)
    }

    /// The ELF header and the section header table, compared byte for byte.
    private static func sameHeaders(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ header: DebugInfoHeader) -> Bool {
        let start = Int(header.tableStart), count = Int(header.tableEnd - header.tableStart)
        return memcmp(a, b, MemoryLayout<Elf64_Ehdr>.size) == 0 && memcmp(a + start, b + start, count) == 0
    }

    /// A 32-bit DWARF 2–5 unit header: 64-bit DWARF is left to the ordinary path.
    private static func isCompileUnitHeader(_ p: UnsafeRawPointer) -> Bool {
        let length = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
        let version = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        return length < 0xffff_fff0 && (2...5).contains(version)
    }

    /// Whether a unit whose abbreviation table starts at `offset` in
    /// `.debug_abbrev` can be read through a window: none of its forms is
    /// an absolute `.debug_info` offset (`DW_FORM_ref_addr`) or chosen per
    /// DIE (`DW_FORM_indirect`). A table that cannot be read is not safe.
    /// DWARF 5 §7.5.3: each entry is a code, a tag, a children flag and
    /// (attribute, form) pairs ending in (0, 0); `DW_FORM_implicit_const`
    /// carries a signed LEB128 after its form.
    static func isSelfContained(abbreviations: UnsafeRawBufferPointer, at offset: UInt64) -> Bool {
        guard offset < UInt64(abbreviations.count) else { return false }
        var c = ByteCursor(abbreviations, from: Int(offset))
        while true {
            guard let code = c.uleb() else { return false }
            if code == 0 { return true }
            guard c.uleb() != nil, c.u8() != nil else { return false }
            while true {
                guard let attribute = c.uleb(), let form = c.uleb() else { return false }
                if attribute == 0 && form == 0 { break }
                switch form {
                case UInt64(DW_FORM_ref_addr), UInt64(DW_FORM_indirect): return false
                case UInt64(DW_FORM_implicit_const): guard c.skipLEB() else { return false }
                default: break
                }
            }
        }
    }
}
