import CLibdw
import FoundationEssentials

/// The DWARF side of a kernel's objects: the source position of an address
/// and the chain of inlined functions around it, innermost first.
///
/// vmlinux addresses go through the unit table (CompileUnitRanges and
/// UnitReader) when it understands the file, everything else through
/// libdwfl; both name the chain from this module's per-CU function indexes
/// (CUIndex) instead of `dwarf_getscopes`. Answers are cached per address.
/// Not thread-safe: it belongs to one `KernelDebugInfo`.
final class DwarfLines {
    private var modules: [String: OpaquePointer] = [:]
    private(set) var kernelModule: OpaquePointer?
    private var cache: [CacheKey: [SourceFrame]] = [:]
    /// Per-CU function indexes (libdwfl path), by the CU DIE's offset and
    /// the Dwarf handle the DIEs belong to.
    private var cuIndexes: [CUKey: CUIndex] = [:]
    /// Whether each module carries DWARF, asked once each.
    private var dwarfPresent: [String: Bool] = [:]
    private var kernelHasDWARF: Bool?

    struct CUKey: Hashable {
        var dwarf: OpaquePointer
        var offset: UInt64
    }

    struct CacheKey: Hashable {
        var module: String
        var address: UInt64
    }

    /// The vmlinux's path, for a window onto its units (see UnitWindow).
    private var kernelPath: String?

    func add(module mod: OpaquePointer, named name: String, isKernel: Bool, path: String? = nil) {
        modules[name] = mod
        if isKernel {
            kernelModule = mod
            kernelPath = path
        }
    }

    /// True when `module` carries DWARF (else only function names are
    /// available). libdwfl looks for separate debug files (build-id
    /// directories, debuginfod) on this first question.
    func hasDWARF(_ name: String) -> Bool {
        // Asked for every frame: vmlinux's answer skips the dictionary.
        if let known = name == "vmlinux" ? kernelHasDWARF : dwarfPresent[name] { return known }
        var bias: Dwarf_Addr = 0
        let present = modules[name].map { dwfl_module_getdwarf($0, &bias) != nil } ?? false
        dwarfPresent[name] = present
        if name == "vmlinux" { kernelHasDWARF = present }
        return present
    }

    /// The inline chain and positions at `address` of `module`, innermost
    /// first; empty without DWARF for it. Cached per address.
    func frames(at address: UInt64, module name: String) -> [SourceFrame] {
        let key = CacheKey(module: name, address: address)
        if let hit = cache[key] { return hit }
        guard let mod = modules[name] else { return [] }
        let frames = dwarfFrames(mod, address)
        if cache.count < 1_000_000 { cache[key] = frames }
        return frames
    }

    /// Walks the DWARF scopes at an address, innermost first.
    private func dwarfFrames(_ mod: OpaquePointer, _ address: UInt64) -> [SourceFrame] {
        if mod == kernelModule, let frames = kernelFramesByUnitRanges(address) { return frames }
        return libdwflFrames(mod, address)
    }

    func libdwflFrames(_ mod: OpaquePointer, _ address: UInt64) -> [SourceFrame] {
        var bias: Dwarf_Addr = 0
        guard let cudie = dwfl_module_addrdie(mod, address, &bias) else { return [] }
        var position = SourcePosition()
        if let src = dwfl_module_getsrc(mod, address) {
            var lineno: Int32 = 0
            var col: Int32 = 0
            if let f = dwfl_lineinfo(src, nil, &lineno, &col, nil, nil) {
                position = SourcePosition(file: f, line: lineno, column: col)
            }
        }
        // The bias is the file's: an address below it is in no unit.
        let (pc, below) = address.subtractingReportingOverflow(bias)
        guard !below else { return [] }
        let files = LibdwFiles(cudie)
        return Self.frames(cu: cudie, index: cuIndex(cudie), pc: pc, position: position, root: Self.sourceRoot(cudie),
                           fileName: files.name)
    }

    /// The vmlinux's unit table (see CompileUnitRanges), read on first use.
    private lazy var kernelUnitRanges: CompileUnitRanges? = {
        var bias: Dwarf_Addr = 0
        var ehdr = GElf_Ehdr()
        guard let mod = kernelModule, let dwarf = dwfl_module_getdwarf(mod, &bias), let elf = dwarf_getelf(dwarf),
              gelf_getehdr(elf, &ehdr) != nil, ehdr.e_type != UInt16(ET_REL) else { return nil }
        return CompileUnitRanges(dwarf: dwarf)
    }()

    /// The vmlinux's units read by offset (see UnitReader), made on first
    /// use and ended by `forgetUnits`.
    private var unitReader: UnitReader?

    private func makeUnitReader() -> UnitReader? {
        var bias: Dwarf_Addr = 0
        guard let ranges = kernelUnitRanges, let mod = kernelModule, let shared = dwfl_module_getdwarf(mod, &bias),
              let elf = dwarf_getelf(shared) else { return nil }
        return UnitReader(elf: elf, path: kernelPath, alt: dwarf_getalt(shared), bias: bias, ranges: ranges,
                          lineSections: kernelLineSections)
    }

    /// The vmlinux's line program sections, found once (the unit reader is
    /// made again after every `forgetUnits`).
    private lazy var kernelLineSections: LineProgramReader.Sections? = {
        var bias: Dwarf_Addr = 0
        guard let mod = kernelModule, let dwarf = dwfl_module_getdwarf(mod, &bias), let elf = dwarf_getelf(dwarf),
              let line = CompileUnitRanges.section(named: ".debug_line", in: elf) else { return nil }
        return LineProgramReader.Sections(line: line, lineStrings: CompileUnitRanges.section(named: ".debug_line_str", in: elf),
                                          strings: CompileUnitRanges.section(named: ".debug_str", in: elf))
    }()

    /// Ends the unit reader and its line tables (see
    /// `KernelDebugInfo.forgetUnits`); must run before the Dwfl ends.
    func forgetUnits() {
        unitReader = nil
    }

    /// Units since the last `forgetUnits` whose line table libdw read.
    var libdwLineTables: Int { unitReader?.libdwLineTables ?? 0 }
    var windowedUnits: Int { unitReader?.windowedUnits ?? 0 }

    /// The unit-table path for a vmlinux address; nil sends it to libdwfl.
    func kernelFramesByUnitRanges(_ address: UInt64) -> [SourceFrame]? {
        if unitReader == nil { unitReader = makeUnitReader() }
        return unitReader?.frames(at: address)
    }

    private func cuIndex(_ cudie: UnsafeMutablePointer<Dwarf_Die>) -> CUIndex {
        guard let dwarf = dwarf_cu_getdwarf(cudie.pointee.cu) else { return CUIndex(cu: cudie.pointee) }
        let key = CUKey(dwarf: dwarf, offset: dwarf_dieoffset(cudie))
        if let cached = cuIndexes[key] { return cached }
        let index = CUIndex(cu: cudie.pointee)
        cuIndexes[key] = index
        return index
    }

    /// Where the line table puts an address, as libdw gives it.
    struct SourcePosition {
        var file: String?
        var line: Int?
        var column: Int?

        init() {}

        init(file: UnsafePointer<CChar>, line: Int32, column: Int32) {
            self.file = DwarfLines.cleanPath(String(cString: file))
            self.line = Int(line)
            self.column = column > 0 ? Int(column) : nil
        }

        init(file: String, line: Int, column: Int?) {
            self.file = file
            self.line = line
            self.column = column
        }
    }

    /// A unit's file table as libdw reads it (with its whole line table).
    struct LibdwFiles {
        private var files: OpaquePointer?
        private var count = 0

        init(_ cu: UnsafeMutablePointer<Dwarf_Die>) {
            _ = dwarf_getsrcfiles(cu, &files, &count)
        }

        func name(_ index: Int) -> String? {
            guard let files, index >= 0, index < count, let s = dwarf_filesrc(files, index, nil, nil) else { return nil }
            return cleanPath(String(cString: s))
        }
    }

    /// The inline chain at `pc` (an address in the CU's own terms) named
    /// from its DIEs, each level placed where the level inside it was called.
    /// `root`: the unit's `sourceRoot`; `fileName`: its file table.
    static func frames(cu: UnsafeMutablePointer<Dwarf_Die>, index: CUIndex, pc: UInt64, position: SourcePosition, root: String?,
                       fileName: (Int) -> String?) -> [SourceFrame] {
        var file = position.file.map { relative($0, to: root) }
        var line = position.line
        var column = position.column
        let chain = index.chain(at: pc)
        guard !chain.isEmpty else {
            return file.map { [SourceFrame(function: "??", file: $0, line: line, column: column)] } ?? []
        }
        var frames: [SourceFrame] = []
        for var die in chain {
            let tag = dwarf_tag(&die)
            var decl: Int32 = 0
            let startLine: Int? = dwarf_decl_line(&die, &decl) == 0 ? Int(decl) : nil
            frames.append(SourceFrame(function: Self.name(&die) ?? "??", file: file, line: line, column: column,
                                      inlined: tag == Int32(DW_TAG_inlined_subroutine), startLine: startLine))
            // The caller's position is where this inlined copy was called.
            file = Self.udata(&die, DW_AT_call_file).flatMap(fileName).map { relative($0, to: root) } ?? file
            line = Self.udata(&die, DW_AT_call_line)
            column = Self.udata(&die, DW_AT_call_column)
        }
        return frames
    }

    static func isFunction(_ tag: Int32) -> Bool {
        tag == Int32(DW_TAG_subprogram) || tag == Int32(DW_TAG_inlined_subroutine)
    }

    static func name(_ die: UnsafeMutablePointer<Dwarf_Die>) -> String? {
        var attr = Dwarf_Attribute()
        for at in [DW_AT_name, DW_AT_linkage_name] {
            if dwarf_attr_integrate(die, UInt32(at), &attr) != nil, let s = dwarf_formstring(&attr) {
                return String(cString: s)
            }
        }
        return nil
    }

    /// An unsigned attribute (a call line, column or file index) as an Int.
    /// The value is the file's and may be anything: one past Int.max is no
    /// line or index (nil), not a trap.
    static func udata(_ die: UnsafeMutablePointer<Dwarf_Die>, _ at: Int) -> Int? {
        var attr = Dwarf_Attribute()
        var v: Dwarf_Word = 0
        guard dwarf_attr(die, UInt32(at), &attr) != nil, dwarf_formudata(&attr, &v) == 0 else { return nil }
        return Int(exactly: v)
    }

    /// The directory an assembler unit's absolute file names are printed
    /// relative to: what its absolute name and its absolute build directory
    /// share. Kbuild's C units are named relative to the build
    /// (`kernel/sched/core.c`), but GNU as names an assembler unit
    /// absolutely (`/build/linux-6.1/arch/x86/entry/entry_64.S`, built in
    /// `/build/linux-6.1/debian/build/…` or in `/build/linux-6.1` itself):
    /// printed from the source tree, both read alike. Only assembler units
    /// (DW_LANG_Mips_Assembler, what GNU as writes): a C unit keeps the name
    /// its compiler gave, as addr2line prints it. nil when the two share
    /// nothing but `/` (a build outside the tree).
    static func sourceRoot(_ cu: UnsafeMutablePointer<Dwarf_Die>) -> String? {
        var attr = Dwarf_Attribute()
        var language: Dwarf_Word = 0
        guard dwarf_attr(cu, UInt32(DW_AT_language), &attr) != nil, dwarf_formudata(&attr, &language) == 0,
              language == 0x8001 else { return nil }
        guard dwarf_attr(cu, UInt32(DW_AT_comp_dir), &attr) != nil, let d = dwarf_formstring(&attr),
              dwarf_attr(cu, UInt32(DW_AT_name), &attr) != nil, let n = dwarf_formstring(&attr) else { return nil }
        let dir = String(cString: d), name = String(cString: n)
        guard dir.hasPrefix("/"), name.hasPrefix("/") else { return nil }
        let a = (dir + "/").split(separator: "/", omittingEmptySubsequences: false)
        let b = name.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        let shared = zip(a, b).prefix { $0 == $1 }.count
        guard shared > 1 else { return nil }
        return a.prefix(shared).joined(separator: "/") + "/"
    }

    static func relative(_ path: String, to root: String?) -> String {
        guard let root, path.hasPrefix(root), path.count > root.count else { return path }
        return String(path.dropFirst(root.count))
    }

    /// Line tables join directory and file names with a doubled slash at
    /// times (`asm/trace//fpu.h`).
    static func cleanPath(_ p: String) -> String {
        // Byte-wise: Foundation's `contains` on every frame's file was ~2%
        // of a batch's CPU. Collapsing each run of slashes is what replacing
        // `//` until none is left comes to.
        var previous: UInt8 = 0
        guard p.utf8.contains(where: { b in defer { previous = b }; return b == 0x2F && previous == 0x2F }) else { return p }
        var out: [UInt8] = []
        out.reserveCapacity(p.utf8.count)
        for b in p.utf8 where !(b == 0x2F && out.last == 0x2F) { out.append(b) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `.isra.0`, `.constprop.1`, `.part.2`, `.cold` stripped, to compare a
/// symbol-table name with a DWARF name.
enum FunctionNameBase {
    static func strip(_ name: String) -> String {
        guard let dot = name.firstIndex(of: ".") else { return name }
        return String(name[..<dot])
    }
}
