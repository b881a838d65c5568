import CLibdw

/// Reads a vmlinux's compilation units by offset through a Dwarf handle of
/// its own, over the Elf libdwfl opened: an address's unit comes from the
/// unit table (CompileUnitRanges), so libdw reads unit headers only up to
/// that unit instead of all of them.
///
/// Owning the handle is what lets the unit data go: `forgetUnits` ends a
/// reader, and its line tables with it, without closing the kernel. The
/// handle shares the mapping (and its page tables) with libdwfl's; for a
/// vmlinux (ET_EXEC) libdw applies no relocations, so both read the same
/// bytes. A dwz alt file, when there is one, is shared with libdwfl's
/// handle.
final class UnitReader {
    private let dwarf: OpaquePointer
    private let bias: UInt64
    private let ranges: CompileUnitRanges
    /// Function indexes by CU DIE offset.
    private var cuIndexes: [UInt64: CUIndex] = [:]

    init?(elf: OpaquePointer, alt: OpaquePointer?, bias: UInt64, ranges: CompileUnitRanges) {
        guard let d = dwarf_begin_elf(elf, DWARF_C_READ, nil) else { return nil }
        if let alt { dwarf_setalt(d, alt) }
        dwarf = d
        self.bias = bias
        self.ranges = ranges
    }

    deinit { dwarf_end(dwarf) }

    /// libdwfl's answer for an address inside a unit's ranges; nil sends
    /// the address to libdwfl (an address between ranges, or a unit offset
    /// that is not a compile unit).
    func frames(at address: UInt64) -> [SourceFrame]? {
        let pc = address &- bias
        guard let unit = ranges.unit(containing: pc) else { return nil }
        var next: Dwarf_Off = 0
        var headerSize = 0
        var version: Dwarf_Half = 0
        guard dwarf_next_unit(dwarf, unit, &next, &headerSize, &version, nil, nil, nil, nil, nil) == 0,
              (2...5).contains(version) else { return nil }
        var cu = Dwarf_Die()
        guard dwarf_offdie(dwarf, unit + UInt64(headerSize), &cu) != nil else { return nil }
        let tag = dwarf_tag(&cu)
        guard tag == Int32(DW_TAG_compile_unit) || tag == Int32(DW_TAG_partial_unit) else { return nil }
        var position = DwarfLines.SourcePosition()
        if let line = dwarf_getsrc_die(&cu, pc), let file = dwarf_linesrc(line, nil, nil) {
            var lineno: Int32 = 0
            var column: Int32 = 0
            if dwarf_lineno(line, &lineno) == 0 {
                _ = dwarf_linecol(line, &column)
                position = DwarfLines.SourcePosition(file: file, line: lineno, column: column)
            }
        }
        let offset = dwarf_dieoffset(&cu)
        let index: CUIndex
        if let cached = cuIndexes[offset] {
            index = cached
        } else {
            index = CUIndex(cu: cu)
            cuIndexes[offset] = index
        }
        return DwarfLines.frames(cu: &cu, index: index, pc: pc, position: position)
    }
}
