import LockscanKit

/// The one place that decides which address of which kernel object a
/// printed frame stands for. `lockscan symbolize` (StackAnnotator, crash
/// `bt` included), scan's annotations (KernelFrameSymbolizer) and the
/// address lists of `symbolize --addresses` and `addr2line` all ask here,
/// so a frame gets the same file:line whichever command prints it.
///
/// Where the frame is (its link-time address), first evidence that applies:
/// - `symbol+off/size [module]`: the symbol's address in that object plus
///   the offset. The printed size tells apart static functions that share
///   a name, and the module names the `.ko` whose table to use (module
///   code is linked at 0 and placed at load time, so only the symbol ties
///   the printed offset to the debug file).
/// - crash `func at ADDR [module]` (no offset): the module's load base
///   (`ModuleLoadBase`: crash `sym -m`, the `mod` table, or the frames'
///   intersection) turns the absolute address into an offset into `func`.
/// - a raw vmlinux address (`[<ffffffff810c9658>]`, crash `at ADDR`): minus
///   the KASLR slide (`KaslrOffset`). Without a known slide nothing is
///   looked up: a guessed slide gives silently wrong lines.
/// - a frame the log already symbolized (it has a file) is not looked up.
///
/// Which byte to look up there:
/// - a call-trace entry is a return address: the call that was executing
///   is the instruction before it, and the byte after a call may already
///   belong to the next line, the next inlined function or (for a call to
///   a noreturn function at the end) the next function. Look up address − 1.
/// - the interrupted instruction (`RIP:`, `pc :`, crash `[exception RIP:]`)
///   is where the CPU was, not a return address: look it up exactly.
/// - a raw address equal to a known exception RIP (crash prints the RIP
///   again as the first frame below `--- <NMI exception stack> ---`, and
///   old kernels print it as a stack word after `<<EOE>>`) is that same
///   instruction: exactly, too.
/// - offset 0 (`ret_from_fork+0x0`): an
///   entry point reached by a jump or a pushed address, with no call before
///   it in this function; address − 1 would land in the previous function.
///   Look it up where it is. (Address 0 likewise, which would wrap.)
/// - `?` frames (not proven to be return addresses by the unwinder) follow
///   the same rules: when they are return addresses, −1 is right, and the
///   frame keeps its `reliable: false` marking so readers still see the `?`.
///
/// An address list (`symbolize --addresses`, `addr2line`) is the caller's
/// own choice of bytes: looked up exactly as given (`asGiven`), like
/// addr2line and llvm-symbolizer do.
public struct FrameAddressPolicy: Sendable {
    /// The KASLR slide raw vmlinux addresses are taken back by.
    public var slide: KaslrOffset?
    /// Where crash saw each module loaded.
    public var moduleBases: ModuleLoadBase
    /// Runtime addresses of interrupted instructions the input showed (see
    /// `exceptionRIP(of:)`): a raw frame at one of them is not a return address.
    public var exceptionRIPs: Set<UInt64>

    public init(slide: KaslrOffset? = nil, moduleBases: ModuleLoadBase = ModuleLoadBase(), exceptionRIPs: Set<UInt64> = []) {
        self.slide = slide
        self.moduleBases = moduleBases
        self.exceptionRIPs = exceptionRIPs
    }

    /// What a frame stands for: where to look up, in which object, and why.
    public struct Lookup: Sendable, Equatable {
        /// How the frame's address in the debug file was found.
        public enum Location: Sendable, Equatable {
            case symbolOffset, moduleLoadBase, kaslrSlide, asGiven
        }

        /// Which byte of it is looked up.
        public enum Rule: Sendable, Equatable {
            /// A call-trace entry: address − 1.
            case returnAddress
            /// `RIP:` / `[exception RIP:]`: exactly.
            case instructionPointer
            /// A raw address equal to a known exception RIP: exactly.
            case knownExceptionRIP
            /// Offset 0 (or address 0): exactly.
            case entryPoint
            /// An address list: exactly.
            case asGiven
        }

        /// The link-time address to look up (the rule already applied).
        public var address: UInt64
        /// The object: nil for vmlinux, else the module name.
        public var module: String?
        /// The printed function name, when the looked-up byte is inside it:
        /// it names the outermost frame without a symbol-table search.
        public var symbolName: String?
        public var location: Location
        public var rule: Rule

        /// The link-time address the log printed: a return address is
        /// looked up one byte before it.
        public var printedAddress: UInt64 { rule == .returnAddress ? address &+ 1 : address }
    }

    /// nil when nothing places the frame (unknown symbol, a module with no
    /// debug file or load base, a raw address without a slide) or it was
    /// already symbolized.
    public func lookup(_ f: Frame, in kernel: KernelDebugInfo) -> Lookup? {
        guard f.file == nil else { return nil }
        let raw = f.address.flatMap(Self.hex)
        var link: UInt64?
        var location = Lookup.Location.symbolOffset
        if let name = f.function, let off = f.offset {
            link = kernel.address(symbol: name, offset: off, size: f.size, module: f.module)
        }
        if link == nil, let name = f.function, let off = moduleBases.offset(of: f, kernel: kernel) {
            link = kernel.address(symbol: name, offset: off, size: nil, module: f.module)
            location = .moduleLoadBase
        }
        if link == nil, f.module == nil, let raw, let s = slide {
            link = UInt64(bitPattern: Int64(bitPattern: raw) &- s.slide)
            location = .kaslrSlide
        }
        guard let address = link else { return nil }
        let rule: Lookup.Rule
        if f.isInstructionPointer {
            rule = .instructionPointer
        } else if let raw, exceptionRIPs.contains(raw) {
            rule = .knownExceptionRIP
        } else if f.offset == 0 || address == 0 {
            rule = .entryPoint
        } else {
            rule = .returnAddress
        }
        let exact = rule != .returnAddress
        // The printed name is the one to keep when the looked-up byte stays inside it.
        let printed = f.offset.map { $0 > 0 || rule == .instructionPointer || rule == .knownExceptionRIP } == true ? f.function : nil
        return Lookup(address: exact ? address : address - 1, module: f.module, symbolName: printed, location: location, rule: rule)
    }

    /// The frame looked up under this policy: nil as for `lookup`.
    public func symbolize(_ f: Frame, in kernel: KernelDebugInfo) -> Symbolization? {
        guard let l = lookup(f, in: kernel) else { return nil }
        return kernel.symbolize(l.address, module: l.module, symbolName: l.symbolName)
    }

    /// An address list's entry, looked up exactly as given: `0xffffffff810c9658`,
    /// `ffffffff810c9658`, and with `symbols` also `tg_unthrottle_up+0x18`
    /// (`/0x90` ignored) and a bare symbol name. nil when it names nothing.
    public static func asGiven(_ token: String, in kernel: KernelDebugInfo, symbols: Bool = true) -> Lookup? {
        func exact(_ a: UInt64) -> Lookup { Lookup(address: a, module: nil, symbolName: nil, location: .asGiven, rule: .asGiven) }
        if symbols, let plus = token.firstIndex(of: "+") {
            let name = String(token[..<plus])
            let offText = token[token.index(after: plus)...].split(separator: "/").first ?? ""
            let off = offText.hasPrefix("0x") ? UInt64(offText.dropFirst(2), radix: 16) : UInt64(offText)
            return off.flatMap { kernel.address(symbol: name, offset: $0, size: nil, module: nil) }.map(exact)
        }
        let hex = token.hasPrefix("0x") ? token.dropFirst(2) : Substring(token)
        if let a = UInt64(hex, radix: 16) { return exact(a) }
        return symbols ? kernel.address(symbol: token, offset: 0, size: nil, module: nil).map(exact) : nil
    }

    /// The runtime address of an interrupted instruction a frame or a
    /// register line shows: an instruction-pointer frame's raw address,
    /// or crash's `RIP: ffffffff810c9658  RSP: …` under `[exception RIP:]`.
    public static func exceptionRIP(of frame: Frame) -> UInt64? {
        frame.isInstructionPointer ? frame.address.flatMap(hex) : nil
    }

    /// `0xffffffff810c9658` as printed in a frame.
    static func hex(_ s: String) -> UInt64? {
        UInt64(s.hasPrefix("0x") ? s.dropFirst(2) : Substring(s), radix: 16)
    }
}
