import CLibdw
import FoundationEssentials
import Glibc

/// The ELF symbol tables of a kernel's objects (vmlinux and `.ko` files):
/// which symbol holds an address, where `func+0x18/0x90` points, and where
/// a module function sits in the module's code as the kernel lays it out.
///
/// One `SymbolIndex` per object, built on its first question. Not
/// thread-safe (libdwfl is not): it belongs to one `KernelDebugInfo`.
final class ElfSymbolTable {
    /// libdwfl's module handles by name (`vmlinux`, `kvm`), registered by the
    /// façade as it reports them; they live as long as its Dwfl.
    private var modules: [String: OpaquePointer] = [:]
    private var kernelModule: OpaquePointer?
    private var indexes: [String: SymbolIndex] = [:]
    private var codeLayouts: [String: [UInt32: UInt64]] = [:]

    func add(module mod: OpaquePointer, named name: String, isKernel: Bool) {
        modules[name] = mod
        if isKernel { kernelModule = mod }
    }

    func index(_ name: String) -> SymbolIndex? {
        if let idx = indexes[name] { return idx }
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
        indexes[name] = idx
        return idx
    }

    /// Looks up many names of one object in one pass (see `SymbolIndex.preload`).
    func preload(_ names: Set<String>, module: String) {
        index(module)?.preload(names)
    }

    /// `symbol+offset` of `module`; several symbols of one name (static
    /// functions) are told apart by the size the log printed, and an
    /// ambiguous name without a size gives nil.
    func address(symbol: String, offset: UInt64, size: UInt64?, module: String) -> UInt64? {
        guard let idx = index(module) else { return nil }
        let candidates = idx.named(symbol)
        guard !candidates.isEmpty else { return nil }
        let matching = size.map { s in candidates.filter { $0.size == s } } ?? candidates
        guard let chosen = matching.count == 1 ? matching[0] : (candidates.count == 1 ? candidates[0] : nil) else { return nil }
        // The offset comes from the log: past the function's end it is not
        // in this function (a corrupted or hostile frame), and it must never
        // overflow the addition. The end is the size the log printed
        // (kallsyms counts the padding up to the next symbol, so a return
        // address may sit exactly there, `? f+0x20/0x20`); without one, the
        // ELF size plus a page of padding.
        if let size, offset > size { return nil }
        // (As a distance: a hostile ELF's size near 2^64 must not overflow.)
        if size == nil, chosen.size > 0, offset > 4096, offset - 4096 > chosen.size { return nil }
        let (sum, overflow) = chosen.address.addingReportingOverflow(offset)
        return overflow ? nil : sum
    }

    /// The symbol containing an address of `module`.
    func symbol(at address: UInt64, module: String) -> (name: String, offset: UInt64, size: UInt64)? {
        guard let idx = index(module), let s = idx.containing(address) else { return nil }
        return (s.name, address - s.address, s.size)
    }

    /// Every [start, start+size) of the symbols called `name`.
    func ranges(ofSymbol name: String, module: String) -> [(start: UInt64, size: UInt64)]? {
        index(module)?.named(name).map { ($0.address, $0.size) }
    }

    /// Whether `module` has a symbol called `name` (one name scan at most).
    func has(_ name: String, module: String) -> Bool {
        index(module).map { !$0.named(name).isEmpty } ?? false
    }

    /// A module function's offset from the start of the module's code as
    /// the kernel lays it out, and its size: code sections (allocated and
    /// executable, `.init*` excluded, which go to a separate area) in file
    /// order, each at the running size rounded up to its alignment — what
    /// `layout_sections()` in kernel/module/main.c does. nil for vmlinux,
    /// an unknown name, a name defined twice, or an offset past 2^64.
    func moduleCodeOffset(symbol: String, module: String) -> (offset: UInt64, size: UInt64)? {
        guard module != "vmlinux", let mod = modules[module] else { return nil }
        let layout = codeLayouts[module] ?? Self.codeLayout(mod)
        codeLayouts[module] = layout
        var found: (offset: UInt64, size: UInt64)?
        var unique = true
        Self.forEachSymbol(mod) { name, sym, _, shndx in
            guard strcmp(name, symbol) == 0, let base = layout[shndx] else { return true }
            unique = found == nil
            let (offset, past) = base.addingReportingOverflow(sym.st_value)
            found = past ? nil : (offset, sym.st_size)
            return unique && !past
        }
        return unique ? found : nil
    }

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
                // Sizes and alignments are the file's: a layout that passes
                // 2^64 is no layout, and the sections from there on get none.
                let align = max(shdr.sh_addralign, 1)
                let (padded, over) = size.addingReportingOverflow(align - 1)
                guard !over else { return layout }
                let offset = padded / align * align
                let (end, past) = offset.addingReportingOverflow(shdr.sh_size)
                guard !past else { return layout }
                layout[UInt32(elf_ndxscn(s))] = offset
                size = end
            }
            scn = elf_nextscn(elf, s)
        }
        return layout
    }

    // MARK: - reading the tables

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
    static func linkedTable(_ mod: OpaquePointer) -> (count: Int, forEach: SymbolIndex.TableWalk)? {
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
                return (count, { filter, body in
                    for i in 0..<Int32(count) {
                        var sym = GElf_Sym()
                        guard gelf_getsym(symbols, i, &sym) != nil, filter.admits(address: sym.st_value &+ bias, size: sym.st_size),
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
                            bias: GElf_Addr) -> SymbolIndex.TableWalk? {
        guard gelf_getclass(elf) == ELFCLASS64, data.pointee.d_type == ELF_T_SYM,
              data.pointee.d_size >= count * MemoryLayout<GElf_Sym>.stride, let symbols = data.pointee.d_buf,
              let strScn = elf_getscn(elf, strings), let strData = elf_getdata(strScn, nil), let strBase = strData.pointee.d_buf,
              strData.pointee.d_size > 0 else { return nil }
        let names = UnsafePointer(strBase.assumingMemoryBound(to: CChar.self))
        let namesSize = strData.pointee.d_size
        guard names[namesSize - 1] == 0 else { return nil }
        let table = UnsafePointer(symbols.assumingMemoryBound(to: GElf_Sym.self))
        return { filter, body in
            for i in 0..<count {
                let sym = table[i]
                // Address and size first: a lookup's scan then reads the
                // names of a few symbols, not of the whole table.
                guard filter.admits(address: sym.st_value &+ bias, size: sym.st_size), Int(sym.st_name) < namesSize else { continue }
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
}
