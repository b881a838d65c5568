import LockscanKit

/// `FrameSymbolizer` over one kernel's debug files for scan's event stacks,
/// with the address rules of `lockscan symbolize` (`FrameAddressPolicy`).
/// Frames without line information stay as printed.
public struct KernelFrameSymbolizer: FrameSymbolizer {
    public let kernel: KernelDebugInfo
    public let policy: FrameAddressPolicy

    public init(kernel: KernelDebugInfo, policy: FrameAddressPolicy = FrameAddressPolicy()) {
        self.kernel = kernel
        self.policy = policy
    }

    public init(kernel: KernelDebugInfo, slide: KaslrOffset?) {
        self.init(kernel: kernel, policy: FrameAddressPolicy(slide: slide))
    }

    public var slide: KaslrOffset? { policy.slide }

    public func symbolize(_ frame: Frame) -> [Frame]? {
        guard let l = policy.lookup(frame, in: kernel) else { return nil }
        let s = kernel.symbolize(l.address, module: l.module, symbolName: l.symbolName)
        guard s.hasDebugInfo, let outer = s.frames.last else { return nil }
        var out: [Frame] = s.frames.dropLast().map { f in
            var inl = Frame(function: f.function, module: frame.module, reliable: frame.reliable, context: frame.context)
            inl.file = f.file
            inl.line = f.line
            inl.inlined = true
            return inl
        }
        var annotated = frame
        // A frame printed as a bare address gets the name the kernel would
        // have printed beside it.
        if annotated.function == nil, let name = s.symbol {
            annotated.function = name
            annotated.offset = s.offset(printed: l.printedAddress)
            annotated.size = s.symbolSize
        }
        annotated.file = outer.file
        annotated.line = outer.line
        out.append(annotated)
        return out
    }
}
