import CLibdw
import FoundationEssentials
import Glibc

/// Which compilation unit holds an address, from the `.debug_aranges`
/// table of a vmlinux, without making libdw read every unit first.
///
/// libdw's own answer (`dwarf_getaranges`, behind `dwfl_module_addrdie`)
/// interns every unit the table names before it answers once: ~2,200 unit
/// headers spread over the 160 MiB `.debug_info` of a distribution kernel,
/// one page fault each, 8–12 ms, a fifth of symbolizing a 41-frame trace.
/// Here the table (DWARF 5 §6.1.2: per unit, a header and a list of
/// address/length pairs) is read into a sorted array, and libdw is asked
/// for the one unit by offset (`dwarf_offdie`): it then reads headers only
/// up to that unit. A lockup's frames (scheduler, locking, RCU, timers)
/// sit in the first sixth of the section, so ~350 headers instead of 2,200;
/// UnitWindow spares even those for the first unit asked and the ones
/// after it.
///
/// Everything else (the unit's DIEs, its line table) is still libdw's. Any
/// table this reader does not fully understand gives nil, and the caller
/// uses libdwfl's lookup as before.
struct CompileUnitRanges {
    struct Range {
        var start: UInt64
        var end: UInt64
        /// Offset of the unit's header in `.debug_info`.
        var unit: UInt64
    }

    /// Sorted by start; ranges do not overlap (checked when read).
    private(set) var ranges: [Range]

    init(ranges: [Range]) {
        self.ranges = ranges.sorted { $0.start < $1.start }
    }

    /// The table of the Elf behind `dwarf`: nil when it has none, it is
    /// compressed, in the other byte order, or not a table of version 2
    /// sets with 8- or 4-byte addresses, or when two ranges overlap.
    init?(dwarf: OpaquePointer) {
        guard let elf = dwarf_getelf(dwarf), let bytes = Self.section(named: ".debug_aranges", in: elf) else { return nil }
        guard let parsed = Self.parse(bytes) else { return nil }
        self.init(ranges: parsed)
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.start < a.end { return nil }
    }

    /// The unit whose ranges hold `address`, or nil (also for addresses in
    /// the gaps between ranges, which libdwfl assigns to a neighbour).
    func unit(containing address: UInt64) -> UInt64? {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].start <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0, address < ranges[lo - 1].end else { return nil }
        return ranges[lo - 1].unit
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> [Range]? {
        var out: [Range] = []
        var offset = 0
        let size = bytes.count
        func read<T: FixedWidthInteger>(_: T.Type, at: Int) -> T? {
            guard at >= 0, at + MemoryLayout<T>.size <= size else { return nil }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        while offset < size {
            guard var length = read(UInt32.self, at: offset).map(UInt64.init) else { return nil }
            var at = offset + 4
            var offsetSize = 4
            if length == 0xffff_ffff {
                guard let long = read(UInt64.self, at: at) else { return nil }
                length = long
                at += 8
                offsetSize = 8
            } else if length >= 0xffff_fff0 {
                return nil
            }
            guard length <= UInt64(size - at) else { return nil }
            let end = at + Int(length)
            guard read(UInt16.self, at: at) == 2 else { return nil }
            at += 2
            guard let unit = offsetSize == 8 ? read(UInt64.self, at: at) : read(UInt32.self, at: at).map(UInt64.init)
            else { return nil }
            at += offsetSize
            guard let addressSize = read(UInt8.self, at: at), addressSize == 8 || addressSize == 4,
                  read(UInt8.self, at: at + 1) == 0 else { return nil }
            at += 2
            // The pairs start at a multiple of twice the address size from the set's start.
            let tuple = 2 * Int(addressSize)
            at = offset + ((at - offset + tuple - 1) / tuple) * tuple
            while at + tuple <= end {
                let start = addressSize == 8 ? read(UInt64.self, at: at) : read(UInt32.self, at: at).map(UInt64.init)
                let count = addressSize == 8 ? read(UInt64.self, at: at + Int(addressSize))
                    : read(UInt32.self, at: at + Int(addressSize)).map(UInt64.init)
                guard let start, let count else { return nil }
                at += tuple
                if start == 0 && count == 0 { break }
                guard count > 0 else { continue }
                guard start <= UInt64.max - count else { return nil }
                out.append(Range(start: start, end: start + count, unit: unit))
            }
            offset = end
        }
        return out
    }

    static func section(named wanted: String, in elf: OpaquePointer) -> UnsafeRawBufferPointer? {
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil, ehdr.e_ident.5 == UInt8(ELFDATA2LSB) else { return nil }
        guard let (s, shdr) = ElfSections.named(wanted, in: elf), shdr.sh_type == UInt32(SHT_PROGBITS),
              shdr.sh_flags & UInt64(SHF_COMPRESSED) == 0,
              let data = elf_getdata(s, nil), data.pointee.d_type == ELF_T_BYTE, let buf = data.pointee.d_buf
        else { return nil }
        return UnsafeRawBufferPointer(start: buf, count: data.pointee.d_size)
    }
}
