/// One level of what an address means: a function and a source position.
/// The first level is the innermost (an inlined function, or the real one).
public struct SourceFrame: Sendable, Equatable, Codable {
    public var function: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    /// This level was inlined into the next one.
    public var inlined: Bool
    /// First line of the function (DW_AT_decl_line), as llvm-symbolizer's StartLine.
    public var startLine: Int?

    public init(function: String, file: String? = nil, line: Int? = nil, column: Int? = nil, inlined: Bool = false,
                startLine: Int? = nil) {
        self.function = function
        self.file = file
        self.line = line
        self.column = column
        self.inlined = inlined
        self.startLine = startLine
    }
}

/// What one address resolves to.
public struct Symbolization: Sendable, Equatable {
    public var address: UInt64
    /// Module name (`vmlinux`, `kvm`).
    public var module: String
    /// The ELF symbol containing the address (`foo.isra.0`) and the offset into it.
    public var symbol: String?
    public var symbolOffset: UInt64?
    public var symbolSize: UInt64?
    /// Innermost first; empty when the module has no DWARF for this address.
    public var frames: [SourceFrame]
    /// Whether line information was available at all.
    public var hasDebugInfo: Bool
}

extension Symbolization {
    /// The symbol's offset for the address a log printed (a return address
    /// is looked up one byte before it, but printed as it is).
    public func offset(printed: UInt64) -> UInt64? {
        symbolOffset.map { $0 &+ (printed &- address) }
    }

    /// `name+0xoff/0xsize`, as the kernel prints a frame, for the printed
    /// address: what a frame printed as a bare address lacks.
    public func symbolOffset(printed: UInt64) -> String? {
        guard let name = symbol, let off = offset(printed: printed) else { return nil }
        return name + "+0x" + String(off, radix: 16) + (symbolSize.map { "/0x" + String($0, radix: 16) } ?? "")
    }
}
