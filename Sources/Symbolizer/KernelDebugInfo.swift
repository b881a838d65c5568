import CLibdw
import Foundation

/// The debug information of one kernel: its vmlinux and any module objects,
/// loaded through libdwfl, with the indexes libdw does not keep.
///
/// Not thread-safe (a Dwfl is not): one instance per thread.
public final class KernelDebugInfo {
    /// The `Dwfl_Callbacks` must outlive `dwfl_begin`, so they live on the
    /// heap for as long as this object.
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    private let dwfl: OpaquePointer
    public let path: String
    /// Release from the `linux_banner` string ("6.1.0-18-cloud-amd64"), when
    /// the file has one. Read on first use: `--addresses` never needs it, and
    /// finding one symbol by name sorts the whole table by name.
    public lazy var release: String? = banner.flatMap { text in
        text.range(of: "Linux version ").map { String(text[$0.upperBound...].prefix { $0 != " " }) }
    }
    public lazy var banner: String? = readBanner()
    public lazy var buildID: String? = readBuildID()
    /// True when the vmlinux carries DWARF (else only function names are available).
    public lazy var hasDWARF: Bool = {
        guard let mod = kernelModule else { return false }
        var bias: Dwarf_Addr = 0
        return dwfl_module_getdwarf(mod, &bias) != nil
    }()

    private var modules: [String: OpaquePointer] = [:]
    /// The files this instance was opened from, so another thread can open its own.
    public private(set) var modulePaths: [String] = []
    private(set) var kernelModule: OpaquePointer?
    private var symbols: [String: SymbolIndex] = [:]
    private var cache: [CacheKey: [SourceFrame]] = [:]
    /// Per-CU function indexes, by the CU DIE's offset and the Dwarf
    /// handle the DIEs belong to.
    private var cuIndexes: [CUKey: CUIndex] = [:]

    struct CUKey: Hashable {
        var dwarf: OpaquePointer
        var offset: UInt64
    }

    struct CacheKey: Hashable {
        var module: String
        var address: UInt64
    }

    /// Opens a vmlinux (ET_EXEC/ET_DYN) and module objects (ET_REL `.ko` or
    /// `.ko.debug`). Throws with libdwfl's message when a file is not a
    /// usable ELF file.
    public init(vmlinux: String, modules modulePaths: [String] = []) throws {
        path = vmlinux
        guard FileManager.default.isReadableFile(atPath: vmlinux) else {
            throw DWARFError(function: "open", message: "cannot be read")
        }
        callbacks = UnsafeMutablePointer<Dwfl_Callbacks>.allocate(capacity: 1)
        callbacks.initialize(to: Dwfl_Callbacks(find_elf: dwfl_build_id_find_elf,
                                                find_debuginfo: dwfl_standard_find_debuginfo,
                                                section_address: dwfl_offline_section_address,
                                                debuginfo_path: nil))
        guard let d = dwfl_begin(callbacks) else {
            callbacks.deallocate()
            throw DWARFError.last("dwfl_begin")
        }
        dwfl = d
        // base 0, add_p_vaddr: addresses are the link-time ones; the offline
        // reporter would shift PIE files by 0x10000.
        // From here on every stored property is set: a throw runs deinit,
        // which ends the Dwfl and frees the callbacks.
        guard let mod = dwfl_report_elf(dwfl, "vmlinux", vmlinux, -1, 0, true) else {
            let err = DWARFError.last("dwfl_report_elf")
            throw DWARFError(function: err.function, message: "\(vmlinux): \(err.message)")
        }
        kernelModule = mod
        modules["vmlinux"] = mod
        for p in modulePaths {
            try addModule(path: p, reportEnd: false)
        }
        dwfl_report_end(dwfl, nil, nil)
        // A file cut short (section headers lost) or fully stripped opens
        // fine but answers nothing: say so instead of printing ??:0 everywhere.
        if dwfl_module_getsymtab(mod) <= 0 && !hasDWARF {
            throw DWARFError(function: "dwfl_module_getsymtab",
                             message: "no symbol table and no DWARF (truncated, stripped, or not a kernel image)")
        }
    }

    deinit {
        unitReader = nil
        dwfl_end(dwfl)
        callbacks.deallocate()
    }

    /// Keeps `kernel` open until the process exits. dwfl_end frees libdw's
    /// data one allocation at a time (every unit header, line table and
    /// abbreviation it read: a batch of 10,000 addresses reads most of a
    /// vmlinux's), while exit returns the heap and the mapping at once. For
    /// a command about to exit; a long-lived process should let kernels go.
    public static func keepUntilExit(_ kernel: KernelDebugInfo) {
        kept.append(kernel)
    }

    private static let kept = KeptKernels()

    private final class KeptKernels: @unchecked Sendable {
        private var kernels: [KernelDebugInfo] = []
        private let lock = NSLock()

        func append(_ kernel: KernelDebugInfo) {
            lock.lock()
            kernels.append(kernel)
            lock.unlock()
        }
    }

    /// Adds an ET_REL module (`kvm.ko`, `kvm.ko.debug`); libdw applies its
    /// `.rela.debug_*` relocations. The module's name is the file name up to
    /// the first dot, with `-` as `_` as the kernel prints it.
    public func addModule(path: String, reportEnd: Bool = true) throws {
        let name = Self.moduleName(forFile: path)
        if reportEnd { dwfl_report_begin_add(dwfl) }
        guard let mod = dwfl_report_offline(dwfl, name, path, -1) else {
            let err = DWARFError.last("dwfl_report_offline")
            if reportEnd { dwfl_report_end(dwfl, nil, nil) }
            throw DWARFError(function: err.function, message: "\(path): \(err.message)")
        }
        modules[name] = mod
        modulePaths.append(path)
        if reportEnd { dwfl_report_end(dwfl, nil, nil) }
    }

    public var moduleNames: [String] { modules.keys.sorted() }

    static func moduleName(forFile path: String) -> String {
        let base = (path as NSString).lastPathComponent
        return String(base.prefix { $0 != "." }).replacingOccurrences(of: "-", with: "_")
    }

    // MARK: - identity

    private func readBuildID() -> String? {
        guard let mod = kernelModule else { return nil }
        var bits: UnsafePointer<UInt8>?
        var vaddr: GElf_Addr = 0
        let n = dwfl_module_build_id(mod, &bits, &vaddr)
        guard n > 0, let bits else { return nil }
        return (0..<Int(n)).map { String(format: "%02x", bits[$0]) }.joined()
    }

    private func readBanner() -> String? {
        guard let mod = kernelModule, let sym = symbolIndex("vmlinux")?.named("linux_banner").first,
              let bytes = readBytes(module: mod, address: sym.address, count: Int(min(sym.size == 0 ? 256 : sym.size, 512)))
        else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Bytes at a link-time address, from the section that holds it.
    private func readBytes(module: OpaquePointer, address: UInt64, count: Int) -> [UInt8]? {
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

    // MARK: - symbols

    private func symbolIndex(_ name: String) -> SymbolIndex? {
        if let idx = symbols[name] { return idx }
        guard let mod = modules[name] else { return nil }
        // Modules skip linkedTable: dwfl_module_getelf relocates a whole
        // ET_REL file, resolving its undefined symbols by scanning vmlinux's
        // table (~5 ms a module), which the symbol list does not need.
        let idx: SymbolIndex
        if mod == kernelModule, let table = Self.linkedTable(mod) {
            idx = SymbolIndex(count: table.count, forEach: table.forEach)
        } else {
            guard var list = Self.relocatedSymbols(mod) else { return nil }
            list.reverse() // see SymbolIndex.Symbol.rank: later entries first
            idx = SymbolIndex(consume list)
        }
        symbols[name] = idx
        return idx
    }

    /// Whether a symbol belongs in the index: functions, objects and asm
    /// labels that are defined, not `$x`-style mapping symbols.
    static func indexable(_ sym: GElf_Sym, name: UnsafePointer<CChar>, address: UInt64) -> SymbolIndex.Symbol? {
        let type = lockscan_gelf_st_type(sym.st_info)
        guard type == UInt8(STT_FUNC) || type == UInt8(STT_OBJECT) || type == UInt8(STT_NOTYPE),
              sym.st_shndx != UInt16(SHN_UNDEF), address != 0, name.pointee != 0, name.pointee != 0x24 else { return nil }
        let binding = lockscan_gelf_st_bind(sym.st_info)
        let bindingRank: UInt8 = binding == UInt8(STB_GLOBAL) ? 0 : binding == UInt8(STB_WEAK) ? 1 : 2
        return SymbolIndex.Symbol(address: address, size: sym.st_size, cName: name, rank: (sym.st_size == 0 ? 3 : 0) + bindingRank)
    }

    /// A vmlinux (ET_EXEC/ET_DYN) read straight from its `.symtab` through
    /// libelf: symbol values are already addresses, and this is ~8× cheaper
    /// than asking libdwfl symbol by symbol (which looks up each symbol's
    /// section), a third of a one-address run otherwise.
    static func linkedTable(_ mod: OpaquePointer) -> (count: Int, forEach: ((SymbolIndex.Symbol) -> Void) -> Void)? {
        var bias: GElf_Addr = 0
        guard let elf = dwfl_module_getelf(mod, &bias) else { return nil }
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil, ehdr.e_type != UInt16(ET_REL) else { return nil }
        var scn = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            if gelf_getshdr(s, &shdr) != nil, shdr.sh_type == UInt32(SHT_SYMTAB), shdr.sh_entsize > 0,
               let data = elf_getdata(s, nil) {
                let count = Int(shdr.sh_size / shdr.sh_entsize)
                if let fast = nativeTable(elf, data: data, count: count, strings: Int(shdr.sh_link), bias: bias) {
                    return (count, fast)
                }
                let strings = Int(shdr.sh_link)
                let symbols = UnsafeMutablePointer(data)
                return (count, { body in
                    for i in 0..<Int32(count) {
                        var sym = GElf_Sym()
                        guard gelf_getsym(symbols, i, &sym) != nil,
                              let name = elf_strptr(elf, strings, Int(sym.st_name)) else { continue }
                        if let entry = indexable(sym, name: name, address: sym.st_value &+ bias) { body(entry) }
                    }
                })
            }
            scn = elf_nextscn(elf, s)
        }
        return nil
    }

    /// A 64-bit table in the machine's byte order, as libelf hands it over:
    /// read in place, ~10 instructions a symbol instead of ~300 through
    /// gelf_getsym and elf_strptr (a sixth of a 41-frame trace's run).
    /// nil (use gelf) for anything else or a string table without its final NUL.
    static func nativeTable(_ elf: OpaquePointer, data: UnsafeMutablePointer<Elf_Data>, count: Int, strings: Int,
                            bias: GElf_Addr) -> (((SymbolIndex.Symbol) -> Void) -> Void)? {
        guard gelf_getclass(elf) == ELFCLASS64, data.pointee.d_type == ELF_T_SYM,
              data.pointee.d_size >= count * MemoryLayout<GElf_Sym>.stride, let symbols = data.pointee.d_buf,
              let strScn = elf_getscn(elf, strings), let strData = elf_getdata(strScn, nil), let strBase = strData.pointee.d_buf,
              strData.pointee.d_size > 0 else { return nil }
        let names = UnsafePointer(strBase.assumingMemoryBound(to: CChar.self))
        let namesSize = strData.pointee.d_size
        guard names[namesSize - 1] == 0 else { return nil }
        let table = UnsafePointer(symbols.assumingMemoryBound(to: GElf_Sym.self))
        return { body in
            for i in 0..<count {
                let sym = table[i]
                guard Int(sym.st_name) < namesSize else { continue }
                if let entry = indexable(sym, name: names + Int(sym.st_name), address: sym.st_value &+ bias) { body(entry) }
            }
        }
    }

    /// A module (ET_REL): libdwfl places its sections, so it gives the addresses.
    static func relocatedSymbols(_ mod: OpaquePointer) -> [SymbolIndex.Symbol]? {
        var list: [SymbolIndex.Symbol] = []
        let complete = forEachSymbol(mod) { name, sym, addr, _ in
            if let entry = indexable(sym, name: name, address: addr) { list.append(entry) }
            return true
        }
        return complete && !list.isEmpty ? list : nil
    }

    /// Every symbol libdwfl reports (name, ELF symbol, address as placed,
    /// section index) until `body` returns false; false when the module has
    /// no symbol table or `body` stopped.
    @discardableResult
    static func forEachSymbol(_ mod: OpaquePointer,
                              _ body: (UnsafePointer<CChar>, GElf_Sym, GElf_Addr, GElf_Word) -> Bool) -> Bool {
        let n = dwfl_module_getsymtab(mod)
        guard n > 0 else { return false }
        for i in 0..<n {
            var sym = GElf_Sym()
            var addr: GElf_Addr = 0
            var shndx: GElf_Word = 0
            var elf: OpaquePointer?
            var bias: Dwarf_Addr = 0
            guard let name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf, &bias) else { continue }
            if !body(name, sym, addr, shndx) { return false }
        }
        return true
    }

    /// Looks up many symbol names of `module` (vmlinux when nil) in one
    /// pass, so that `address(symbol:…)` answers them from memory.
    public func preloadSymbols(named names: Set<String>, module: String? = nil) {
        symbolIndex(module ?? "vmlinux")?.preload(names)
    }

    /// The address of `symbol+offset` in `module` (vmlinux when nil). Several
    /// symbols of one name (static functions) are told apart by the size the
    /// log printed; an ambiguous name without a size gives nil.
    public func address(symbol: String, offset: UInt64, size: UInt64?, module: String?) -> UInt64? {
        guard let idx = symbolIndex(module ?? "vmlinux") else { return nil }
        let candidates = idx.named(symbol)
        guard !candidates.isEmpty else { return nil }
        let matching = size.map { s in candidates.filter { $0.size == s } } ?? candidates
        let chosen = matching.count == 1 ? matching[0] : (candidates.count == 1 ? candidates[0] : nil)
        return chosen.map { $0.address + offset }
    }

    /// A module function's offset from the start of the module's code as
    /// the kernel lays it out, and its size: code sections (allocated and
    /// executable, `.init*` excluded, which go to a separate area) in file
    /// order, each at the running size rounded up to its alignment — what
    /// `layout_sections()` in kernel/module/main.c does. nil for vmlinux,
    /// an unknown name, or a name defined twice.
    public func moduleCodeOffset(symbol: String, module: String) -> (offset: UInt64, size: UInt64)? {
        guard module != "vmlinux", let mod = modules[module] else { return nil }
        let layout = codeLayouts[module] ?? Self.codeLayout(mod)
        codeLayouts[module] = layout
        var found: (offset: UInt64, size: UInt64)?
        var unique = true
        Self.forEachSymbol(mod) { name, sym, _, shndx in
            guard strcmp(name, symbol) == 0, let base = layout[shndx] else { return true }
            unique = found == nil
            found = (base + sym.st_value, sym.st_size)
            return unique
        }
        return unique ? found : nil
    }

    private var codeLayouts: [String: [UInt32: UInt64]] = [:]

    static func codeLayout(_ mod: OpaquePointer) -> [UInt32: UInt64] {
        var bias: GElf_Addr = 0
        var stringsIndex = 0
        guard let elf = dwfl_module_getelf(mod, &bias), elf_getshdrstrndx(elf, &stringsIndex) == 0 else { return [:] }
        var layout: [UInt32: UInt64] = [:]
        var size: UInt64 = 0
        var scn = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            let flags = UInt64(SHF_ALLOC) | UInt64(SHF_EXECINSTR)
            if gelf_getshdr(s, &shdr) != nil, shdr.sh_flags & flags == flags,
               let name = elf_strptr(elf, stringsIndex, Int(shdr.sh_name)), strncmp(name, ".init", 5) != 0 {
                let align = max(shdr.sh_addralign, 1)
                let offset = (size + align - 1) / align * align
                layout[UInt32(elf_ndxscn(s))] = offset
                size = offset + shdr.sh_size
            }
            scn = elf_nextscn(elf, s)
        }
        return layout
    }

    /// Every [start, start+size) of the symbols called `name`.
    public func ranges(ofSymbol name: String, module: String? = nil) -> [(start: UInt64, size: UInt64)]? {
        symbolIndex(module ?? "vmlinux")?.named(name).map { ($0.address, $0.size) }
    }

    /// The symbol containing an address of `module` (the index is built on
    /// the first question; see `SymbolIndex` for why not libdwfl's lookup).
    public func symbol(at address: UInt64, module: String? = nil) -> (name: String, offset: UInt64, size: UInt64)? {
        guard let idx = symbolIndex(module ?? "vmlinux"), let s = idx.containing(address) else { return nil }
        return (s.name, address - s.address, s.size)
    }

    // MARK: - symbolization

    /// Function, file:line and the inline chain at `address` of `module`
    /// (vmlinux when nil), looked up exactly there (callers subtract 1 for
    /// return addresses). `symbolName`, when the log printed the function
    /// (`func+0x18/0x90`), names the outermost frame without a symbol-table
    /// lookup; the DWARF part is cached per address.
    public func symbolize(_ address: UInt64, module: String? = nil, symbolName: String? = nil) -> Symbolization {
        let name = module ?? "vmlinux"
        var result = Symbolization(address: address, module: name, frames: [], hasDebugInfo: false)
        if let symbolName {
            result.symbol = symbolName
        } else if let s = symbol(at: address, module: name) {
            result.symbol = s.name
            result.symbolOffset = s.offset
            result.symbolSize = s.size
        }
        let key = CacheKey(module: name, address: address)
        if let hit = cache[key] {
            result.frames = hit
        } else if let mod = modules[name] {
            result.frames = dwarfFrames(mod, address)
            if cache.count < 1_000_000 { cache[key] = result.frames }
        }
        result.hasDebugInfo = !result.frames.isEmpty
        if result.frames.isEmpty, let s = result.symbol {
            result.frames = [SourceFrame(function: s)]
        } else if let s = result.symbol, result.frames.count == 1, result.frames[0].function == "??" {
            // Line table but no subprogram DIE (assembly, some stubs): the symbol names it.
            result.frames[0].function = s
        } else if let s = result.symbol, !result.frames.isEmpty {
            // The outermost frame keeps the symbol-table name dmesg shows
            // (foo.isra.0, .cold, and the __x64_sys_ wrapper a syscall's
            // __do_sys_ body is compiled into).
            result.frames[result.frames.count - 1].function = s
        }
        return result
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
        return Self.frames(cu: cudie, index: cuIndex(cudie), pc: address - bias, position: position)
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
        return UnitReader(elf: elf, alt: dwarf_getalt(shared), bias: bias, ranges: ranges)
    }

    /// Frees the line tables and function indexes of every vmlinux unit
    /// read so far; answers already given stay cached. A batch walking
    /// sorted addresses never returns to a unit it left, and libdw keeps
    /// each unit's line table for as long as its handle lives: forgetting
    /// after each stretch keeps a 10,000-address run's memory from growing
    /// with every unit, and fresh pages cost more to fault in and zero than
    /// re-reading the few unit headers.
    public func forgetUnits() {
        unitReader = nil
    }

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
            self.file = KernelDebugInfo.cleanPath(String(cString: file))
            self.line = Int(line)
            self.column = column > 0 ? Int(column) : nil
        }
    }

    /// The inline chain at `pc` (an address in the CU's own terms) named
    /// from its DIEs, each level placed where the level inside it was called.
    static func frames(cu: UnsafeMutablePointer<Dwarf_Die>, index: CUIndex, pc: UInt64, position: SourcePosition) -> [SourceFrame] {
        var file = position.file
        var line = position.line
        var column = position.column
        let chain = index.chain(at: pc)
        guard !chain.isEmpty else {
            return file.map { [SourceFrame(function: "??", file: $0, line: line, column: column)] } ?? []
        }
        var files: OpaquePointer?
        var nfiles = 0
        _ = dwarf_getsrcfiles(cu, &files, &nfiles)
        var frames: [SourceFrame] = []
        for var die in chain {
            let tag = dwarf_tag(&die)
            var decl: Int32 = 0
            let startLine: Int? = dwarf_decl_line(&die, &decl) == 0 ? Int(decl) : nil
            frames.append(SourceFrame(function: Self.name(&die) ?? "??", file: file, line: line, column: column,
                                      inlined: tag == Int32(DW_TAG_inlined_subroutine), startLine: startLine))
            // The caller's position is where this inlined copy was called.
            file = Self.callFile(&die, files: files, count: nfiles) ?? file
            line = Self.udata(&die, DW_AT_call_line).map(Int.init)
            column = Self.udata(&die, DW_AT_call_column).map(Int.init)
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

    static func udata(_ die: UnsafeMutablePointer<Dwarf_Die>, _ at: Int) -> UInt64? {
        var attr = Dwarf_Attribute()
        var v: Dwarf_Word = 0
        guard dwarf_attr(die, UInt32(at), &attr) != nil, dwarf_formudata(&attr, &v) == 0 else { return nil }
        return v
    }

    static func callFile(_ die: UnsafeMutablePointer<Dwarf_Die>, files: OpaquePointer?, count: Int) -> String? {
        guard let idx = udata(die, DW_AT_call_file), let files, Int(idx) < count,
              let s = dwarf_filesrc(files, Int(idx), nil, nil) else { return nil }
        return cleanPath(String(cString: s))
    }

    /// Line tables join directory and file names with a doubled slash at
    /// times (`asm/trace//fpu.h`).
    static func cleanPath(_ p: String) -> String {
        guard p.contains("//") else { return p }
        var out = p
        while out.contains("//") { out = out.replacingOccurrences(of: "//", with: "/") }
        return out
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
