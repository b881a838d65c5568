import CLibdw
import FoundationEssentials
import LockscanKit

/// The debug information of one kernel: its vmlinux and any module objects,
/// loaded through libdwfl. A façade over one type per job, which share its
/// Dwfl:
///
/// - `ElfSymbolTable`: symbols by address and by name, module code layout;
/// - `DwarfLines`: file:line and inline chains (with CUIndex,
///   CompileUnitRanges and UnitReader underneath);
/// - `KernelIdentity`: build ID, `Linux version` banner and release, and
///   whether the file is a Linux kernel at all;
/// - KASLR slides and module load bases are the log's side (`KaslrOffset`,
///   `ModuleLoadBase`), and which address a printed frame stands for is
///   `FrameAddressPolicy`'s.
///
/// Not thread-safe (a Dwfl is not): one instance per thread.
public final class KernelDebugInfo {
    /// The `Dwfl_Callbacks` must outlive `dwfl_begin`, so they live on the
    /// heap for as long as this object.
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    private let dwfl: OpaquePointer
    public let path: String
    private var modules: [String: OpaquePointer] = [:]
    /// The files this instance was opened from, so another thread can open its own.
    public private(set) var modulePaths: [String] = []
    private(set) var kernelModule: OpaquePointer?
    private let symbols = ElfSymbolTable()
    private let lines = DwarfLines()

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
            // Not ELF (a text file, a compressed bzImage): not a kernel image, and nothing --force could read.
            let err = DWARFError.last("dwfl_report_elf")
            throw DWARFError(function: err.function, message: "\(err.message), so not a Linux kernel image (not even --force can use it)")
        }
        kernelModule = mod
        register(mod, named: "vmlinux", isKernel: true, path: vmlinux)
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
        // The unit reader's Dwarf handle reads libdwfl's Elf: it ends first.
        lines.forgetUnits()
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
        private let lock = Lock()

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
        register(mod, named: name, isKernel: false)
        modulePaths.append(path)
        if reportEnd { dwfl_report_end(dwfl, nil, nil) }
    }

    private func register(_ mod: OpaquePointer, named name: String, isKernel: Bool, path: String? = nil) {
        modules[name] = mod
        symbols.add(module: mod, named: name, isKernel: isKernel)
        lines.add(module: mod, named: name, isKernel: isKernel, path: path)
    }

    public var moduleNames: [String] { modules.keys.sorted() }

    static func moduleName(forFile path: String) -> String {
        let base = PathName.last(path)
        return String(base.prefix { $0 != "." }).replacing("-", with: "_")
    }

    // MARK: - identity (KernelIdentity)

    /// The identity reader, made on first use (a vmlinux always has one
    /// once `init` has returned).
    private lazy var identity: KernelIdentity = KernelIdentity(module: kernelModule!, symbols: symbols)

    /// Release from the `linux_banner` string ("6.1.0-18-cloud-amd64"), when
    /// the file has one. Read on first use: `--addresses` never needs it, and
    /// finding one symbol by name is a pass over the symbol table.
    public var release: String? { identity.release }
    public var banner: String? { identity.banner }
    public var buildID: String? { identity.buildID }
    /// Whether the file is a Linux kernel image (see `KernelImageKind`).
    public var imageKind: KernelImageKind { identity.kind }

    // MARK: - symbols (ElfSymbolTable)

    /// Looks up many symbol names of `module` (vmlinux when nil) in one
    /// pass, so that `address(symbol:…)` answers them from memory.
    public func preloadSymbols(named names: Set<String>, module: String? = nil) {
        symbols.preload(names, module: module ?? "vmlinux")
    }

    /// The address of `symbol+offset` in `module` (vmlinux when nil). Several
    /// symbols of one name (static functions) are told apart by the size the
    /// log printed; an ambiguous name without a size gives nil.
    public func address(symbol: String, offset: UInt64, size: UInt64?, module: String?) -> UInt64? {
        symbols.address(symbol: symbol, offset: offset, size: size, module: module ?? "vmlinux")
    }

    /// A module function's offset from the start of the module's code as
    /// the kernel lays it out, and its size (see
    /// `ElfSymbolTable.moduleCodeOffset`). nil for vmlinux, an unknown name,
    /// or a name defined twice.
    public func moduleCodeOffset(symbol: String, module: String) -> (offset: UInt64, size: UInt64)? {
        symbols.moduleCodeOffset(symbol: symbol, module: module)
    }

    /// Every [start, start+size) of the symbols called `name`.
    public func ranges(ofSymbol name: String, module: String? = nil) -> [(start: UInt64, size: UInt64)]? {
        symbols.ranges(ofSymbol: name, module: module ?? "vmlinux")
    }

    /// The symbol containing an address of `module` (the index is built on
    /// the first question; see `SymbolIndex` for why not libdwfl's lookup).
    public func symbol(at address: UInt64, module: String? = nil) -> (name: String, offset: UInt64, size: UInt64)? {
        symbols.symbol(at: address, module: module ?? "vmlinux")
    }

    // MARK: - lines and inlines (DwarfLines)

    /// True when the vmlinux carries DWARF (else only function names are available).
    public var hasDWARF: Bool { lines.hasDWARF("vmlinux") }

    /// True when `module` (vmlinux when nil) carries DWARF.
    public func hasDWARF(module: String?) -> Bool { lines.hasDWARF(module ?? "vmlinux") }

    /// Frees the line tables and function indexes of every vmlinux unit
    /// read so far; answers already given stay cached. A batch walking
    /// sorted addresses never returns to a unit it left, and libdw keeps
    /// each unit's line table for as long as its handle lives: forgetting
    /// after each stretch keeps a 10,000-address run's memory from growing
    /// with every unit, and fresh pages cost more to fault in and zero than
    /// re-reading the few unit headers.
    public func forgetUnits() {
        lines.forgetUnits()
    }

    /// The unit-table path for a vmlinux address; nil sends it to libdwfl.
    func kernelFramesByUnitRanges(_ address: UInt64) -> [SourceFrame]? {
        lines.kernelFramesByUnitRanges(address)
    }

    func libdwflFrames(_ mod: OpaquePointer, _ address: UInt64) -> [SourceFrame] {
        lines.libdwflFrames(mod, address)
    }

    /// Units since the last `forgetUnits` whose line table libdw read
    /// (LineProgramReader refused it).
    var libdwLineTables: Int { lines.libdwLineTables }

    /// Units since the last `forgetUnits` read through a UnitWindow.
    var windowedUnits: Int { lines.windowedUnits }

    // MARK: - symbolization

    /// Function, file:line and the inline chain at `address` of `module`
    /// (vmlinux when nil), looked up exactly there: which address a printed
    /// frame stands for is `FrameAddressPolicy`'s to say. `symbolName`, when
    /// the log printed the function (`func+0x18/0x90`), names the outermost
    /// frame without a symbol-table lookup; the DWARF part is cached per
    /// address.
    public func symbolize(_ address: UInt64, module: String? = nil, symbolName: String? = nil) -> Symbolization {
        let name = module ?? "vmlinux"
        var result = Symbolization(address: address, module: name, frames: [], hasDebugInfo: false)
        if let symbolName {
            result.symbol = symbolName
        } else if let s = symbols.symbol(at: address, module: name) {
            result.symbol = s.name
            result.symbolOffset = s.offset
            result.symbolSize = s.size
        }
        result.frames = lines.frames(at: address, module: name)
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
}
