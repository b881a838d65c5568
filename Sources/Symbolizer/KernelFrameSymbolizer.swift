import LockscanKit

/// `FrameSymbolizer` over one kernel's debug files, with the same address
/// rules as `lockscan symbolize`: symbol+offset from the symbol table, raw
/// addresses through the KASLR slide, return addresses looked up at −1.
public struct KernelFrameSymbolizer: FrameSymbolizer {
    public let kernel: KernelDebugInfo
    public let slide: KaslrOffset?

    public init(kernel: KernelDebugInfo, slide: KaslrOffset? = nil) {
        self.kernel = kernel
        self.slide = slide
    }

    public func symbolize(_ frame: Frame) -> [Frame]? {
        guard frame.file == nil else { return nil }
        var link: UInt64?
        if let name = frame.function, let off = frame.offset {
            link = kernel.address(symbol: name, offset: off, size: frame.size, module: frame.module)
        }
        if link == nil, frame.module == nil, let raw = frame.address.flatMap({ UInt64($0.dropFirst(2), radix: 16) }), let s = slide {
            link = UInt64(bitPattern: Int64(bitPattern: raw) &- s.slide)
        }
        guard let address = link else { return nil }
        let lookup = frame.isInstructionPointer || frame.offset == 0 || address == 0 ? address : address - 1
        let s = kernel.symbolize(lookup, module: frame.module)
        guard s.hasDebugInfo, let outer = s.frames.last else { return nil }
        var out: [Frame] = s.frames.dropLast().map { f in
            var inl = Frame(function: f.function, module: frame.module, reliable: frame.reliable, context: frame.context)
            inl.file = f.file
            inl.line = f.line
            inl.inlined = true
            return inl
        }
        var annotated = frame
        annotated.file = outer.file
        annotated.line = outer.line
        out.append(annotated)
        return out
    }
}
