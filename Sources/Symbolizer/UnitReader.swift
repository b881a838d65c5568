import CLibdw
import Glibc

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
    private let lineSections: LineProgramReader.Sections?
    /// What is kept of each unit read, by the unit's offset in `.debug_info`.
    private var units: [UInt64: Unit] = [:]
    /// Units whose line table this module's reader refused (libdw read
    /// them): the tests' check that the fast path is the one taken.
    private(set) var libdwLineTables = 0
    /// Units read through the window: the tests' check that it is used.
    private(set) var windowedUnits = 0

    /// A unit's function index, line table (nil: libdw's is asked) and
    /// source root, each worked out once: a batch asks a unit ~5 times.
    final class Unit {
        let index: CUIndex
        /// Read on the unit's second question (see `probesBeforeTables`).
        var lines: LineTable?
        var linesRead = false
        let root: String?

        init(index: CUIndex, root: String?) {
            self.index = index
            self.root = root
        }
    }

    /// The first questions a reader is asked decode the unit's line program
    /// for their one address only (`LineProgramReader.read(probe:)`): a
    /// one-address run does not store and order a whole unit's rows. Later
    /// ones read the table whole and keep it, so a batch decodes a unit at
    /// most twice.
    static let probesBeforeTables = 8
    private var questions = 0

    /// The file, the Elf libdwfl opened it as, and its `.debug_abbrev`: what
    /// a window is made from (see `UnitWindow`); nil path, no window.
    private let path: String?
    private let elf: OpaquePointer
    private let alt: OpaquePointer?
    private let abbreviations: UnsafeRawBufferPointer?
    /// Opened at the first unit asked, and asked for every unit from there
    /// on whose table allows it: a one-address run reads one unit header,
    /// not the ~1,000 before it.
    private var window: UnitWindow?
    private var windowTried = false
    /// `UnitWindow.isSelfContained`, by abbreviation table offset.
    private var selfContained: [UInt64: Bool] = [:]
    /// Whether a unit (by its offset in `.debug_info`) is read through the
    /// window: decided on its first question, not on every one.
    private var throughWindow: [UInt64: Bool] = [:]

    init?(elf: OpaquePointer, path: String?, alt: OpaquePointer?, bias: UInt64, ranges: CompileUnitRanges,
          lineSections: LineProgramReader.Sections?) {
        guard let d = dwarf_begin_elf(elf, DWARF_C_READ, nil) else { return nil }
        if let alt { dwarf_setalt(d, alt) }
        dwarf = d
        self.elf = elf
        self.path = path
        self.alt = alt
        abbreviations = CompileUnitRanges.section(named: ".debug_abbrev", in: elf)
        self.bias = bias
        self.ranges = ranges
        self.lineSections = lineSections
    }

    deinit {
        window = nil
        dwarf_end(dwarf)
    }

    /// The handle to read a unit through, and the unit's offset in it.
    private func handle(for unitOffset: UInt64) -> (dwarf: OpaquePointer, offset: UInt64) {
        if !windowTried {
            windowTried = true
            if let path, abbreviations != nil, unitOffset > 0 {
                window = UnitWindow(path: path, original: elf, base: unitOffset, alt: alt)
            }
        }
        guard let window, let abbreviations, unitOffset >= window.base else { return (dwarf, unitOffset) }
        let inWindow = unitOffset - window.base
        if let known = throughWindow[unitOffset] { return known ? (window.dwarf, inWindow) : (dwarf, unitOffset) }
        var next: Dwarf_Off = 0
        var abbrevOffset: Dwarf_Off = 0
        var safe = false
        if dwarf_next_unit(window.dwarf, inWindow, &next, nil, nil, &abbrevOffset, nil, nil, nil, nil) == 0 {
            if let known = selfContained[abbrevOffset] {
                safe = known
            } else {
                safe = UnitWindow.isSelfContained(abbreviations: abbreviations, at: abbrevOffset)
                selfContained[abbrevOffset] = safe
            }
        }
        throughWindow[unitOffset] = safe
        return safe ? (window.dwarf, inWindow) : (dwarf, unitOffset)
    }

    /// libdwfl's answer for an address inside a unit's ranges; nil sends
    /// the address to libdwfl (an address between ranges, or a unit offset
    /// that is not a compile unit).
    func frames(at address: UInt64) -> [SourceFrame]? {
        let pc = address &- bias
        guard let unitOffset = ranges.unit(containing: pc) else { return nil }
        let (dwarf, offset) = handle(for: unitOffset)
        var next: Dwarf_Off = 0
        var headerSize = 0
        var version: Dwarf_Half = 0
        var addressSize: UInt8 = 0
        guard dwarf_next_unit(dwarf, offset, &next, &headerSize, &version, nil, &addressSize, nil, nil, nil) == 0,
              (2...5).contains(version) else { return nil }
        var cu = Dwarf_Die()
        guard dwarf_offdie(dwarf, offset + UInt64(headerSize), &cu) != nil else { return nil }
        let tag = dwarf_tag(&cu)
        guard tag == Int32(DW_TAG_compile_unit) || tag == Int32(DW_TAG_partial_unit) else { return nil }
        let unit: Unit
        if let cached = units[unitOffset] {
            unit = cached
        } else {
            unit = Unit(index: CUIndex(cu: cu), root: DwarfLines.sourceRoot(&cu))
            units[unitOffset] = unit
            if dwarf != self.dwarf { windowedUnits += 1 }
        }
        questions += 1
        var answering = unit.lines
        if !unit.linesRead {
            if questions <= Self.probesBeforeTables {
                // One answer; a table the reader refuses is refused whole, and libdw reads it.
                answering = lineTable(&cu, addressSize: Int(addressSize), probe: pc)
                unit.linesRead = answering == nil
            } else {
                unit.lines = lineTable(&cu, addressSize: Int(addressSize))
                unit.linesRead = true
                answering = unit.lines
            }
            if unit.linesRead && unit.lines == nil { libdwLineTables += 1 }
        }
        guard let lines = answering else { return libdwLines(&cu, unit: unit, pc: pc) }
        var position = DwarfLines.SourcePosition()
        if let row = lines.row(at: pc), let file = lines.fileName(Int(row.file)) {
            position = DwarfLines.SourcePosition(file: file, line: Int(row.line), column: row.column > 0 ? Int(row.column) : nil)
        }
        return DwarfLines.frames(cu: &cu, index: unit.index, pc: pc, position: position, root: unit.root,
                                 fileName: lines.fileName)
    }

    /// The unit's line table read by this module (see LineTable); nil when
    /// it cannot be, and libdw reads it.
    private func lineTable(_ cu: inout Dwarf_Die, addressSize: Int, probe: UInt64? = nil) -> LineTable? {
        var attr = Dwarf_Attribute()
        var offset: Dwarf_Word = 0
        guard let sections = lineSections, dwarf_attr(&cu, UInt32(DW_AT_stmt_list), &attr) != nil,
              dwarf_formudata(&attr, &offset) == 0 else { return nil }
        // Points into the Elf's string section, which outlives this reader.
        var compDir: UnsafeRawBufferPointer?
        if dwarf_attr(&cu, UInt32(DW_AT_comp_dir), &attr) != nil, let s = dwarf_formstring(&attr) {
            compDir = UnsafeRawBufferPointer(start: s, count: strlen(s))
        }
        return LineProgramReader.read(sections, offset: offset, compDir: compDir, addressSize: addressSize, probe: probe)
    }

    /// libdw's line table, for a unit this module's reader refused.
    private func libdwLines(_ cu: inout Dwarf_Die, unit: Unit, pc: UInt64) -> [SourceFrame] {
        var position = DwarfLines.SourcePosition()
        if let line = dwarf_getsrc_die(&cu, pc), let file = dwarf_linesrc(line, nil, nil) {
            var lineno: Int32 = 0
            var column: Int32 = 0
            if dwarf_lineno(line, &lineno) == 0 {
                _ = dwarf_linecol(line, &column)
                position = DwarfLines.SourcePosition(file: file, line: lineno, column: column)
            }
        }
        let files = DwarfLines.LibdwFiles(&cu)
        return DwarfLines.frames(cu: &cu, index: unit.index, pc: pc, position: position, root: unit.root,
                                 fileName: files.name)
    }
}
