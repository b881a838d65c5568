import LockscanKit

/// The KASLR slide between a log's runtime addresses and the vmlinux's
/// link-time ones, and how it was found. Symbolizing raw addresses with a
/// wrong slide gives silently wrong lines, so an ambiguous slide is refused.
public struct KaslrOffset: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// `Kernel Offset: 0x37000000 from 0xffffffff81000000` (printed on panic).
        case kernelOffsetLine = "Kernel Offset line"
        /// A frame printed both raw and as symbol+offset.
        case rawAndSymbol = "frame printed raw and as symbol+offset"
        /// crash `bt`: the one aligned slide that keeps every frame inside its named function.
        case intersection = "intersection of frame ranges"
    }

    public var slide: Int64
    public var method: Method

    public init(slide: Int64, method: Method) {
        self.slide = slide
        self.method = method
    }

    /// `0x37000000`, `-0x150a0`: a signed slide as people write it.
    public static func hex(_ v: Int64) -> String { (v < 0 ? "-0x" : "0x") + String(v.magnitude, radix: 16) }

    /// CONFIG_PHYSICAL_ALIGN on x86-64: KASLR moves the kernel in 2 MiB steps.
    public static let alignment: Int64 = 0x20_0000

    /// `Kernel Offset: 0x37000000 from 0xffffffff81000000 (relocation range: …)`;
    /// `Kernel Offset: disabled` gives 0.
    public static func fromKernelOffsetLine(_ text: String) -> KaslrOffset? {
        if case let .success(k)? = parseKernelOffsetLine(text) { return k }
        return nil
    }

    /// x86-64 randomizes the kernel's text within 1 GiB (KERNEL_IMAGE_SIZE)
    /// above its link address.
    public static let x86Range: Int64 = 1 << 30

    /// The same, refusing an offset no x86-64 kernel can have (printed
    /// `from 0xffffffff8…`): one not a multiple of 2 MiB, or outside the
    /// 1 GiB the kernel is placed in. A corrupted or hand-edited line would
    /// otherwise give every raw frame a confident, wrong file:line.
    public static func parseKernelOffsetLine(_ text: String) -> Result<KaslrOffset, SlideError>? {
        guard let r = text.firstOccurrence(of: "Kernel Offset: ") else { return nil }
        let rest = text[r.upperBound...]
        if rest.hasPrefix("disabled") { return .success(KaslrOffset(slide: 0, method: .kernelOffsetLine)) }
        let digits = rest.dropFirst(2).prefix { $0.isHexDigit }
        guard rest.hasPrefix("0x"), !digits.isEmpty else { return nil }
        guard digits.count <= 16, let v = UInt64(digits, radix: 16) else { return .failure(.unreadable(String(digits.prefix(40)))) }
        let slide = Int64(bitPattern: v)
        if rest.contains("from 0xffffffff8"), slide < 0 || slide >= x86Range || slide % alignment != 0 {
            return .failure(.implausible(slide))
        }
        return .success(KaslrOffset(slide: slide, method: .kernelOffsetLine))
    }

    /// Slides from frames that printed a raw address and symbol+offset
    /// (`[<ffffffff810c9658>] tg_unthrottle_up+0x18/0x90`): all must agree.
    public static func fromFrames(_ frames: [Frame], in kernel: KernelDebugInfo) -> Result<KaslrOffset?, SlideError> {
        var found: Int64?
        for f in frames where f.module == nil {
            guard let raw = f.address.flatMap({ UInt64($0.dropFirst(2), radix: 16) }), let name = f.function,
                  let link = kernel.address(symbol: name, offset: f.offset ?? 0, size: f.size, module: nil) else { continue }
            let slide = Int64(bitPattern: raw &- link)
            // x86-64 kernel text (linked at 0xffffffff8…) moves in 2 MiB
            // steps: any other difference means the vmlinux is not this
            // log's kernel, and its lines would be confidently wrong.
            if link >= 0xffff_ffff_8000_0000, slide % alignment != 0 { return .failure(.misaligned(slide)) }
            if let s = found, s != slide { return .failure(.inconsistent(s, slide)) }
            found = slide
        }
        return .success(found.map { KaslrOffset(slide: $0, method: .rawAndSymbol) })
    }

    /// crash `bt` frames carry absolute addresses and names without offsets:
    /// each frame allows the slides that put its address inside its function;
    /// the answer is the one aligned slide every frame allows.
    public static func intersecting(_ frames: [Frame], in kernel: KernelDebugInfo) -> Result<KaslrOffset?, SlideError> {
        var lo = Int64.min, hi = Int64.max
        var used = 0
        for f in frames where f.module == nil {
            guard let raw = f.address.flatMap({ UInt64($0.dropFirst(2), radix: 16) }), let name = f.function,
                  let ranges = kernel.ranges(ofSymbol: name), ranges.count == 1, let range = ranges.first else { continue }
            // raw - slide ∈ [start, start+size)  ⇔  slide ∈ (raw - start - size, raw - start]
            let high = Int64(bitPattern: raw &- range.start)
            hi = min(hi, high)
            // An assembly label (`end_repeat_nmi`, size 0) only says where its
            // code starts: the frame is at or after it, with no end to bound it.
            guard range.size > 0, range.size < UInt64(Int64.max) else { used += 1; continue }
            // A bound below Int64.min bounds nothing (rather than wrapping to a high one).
            if case let (low, false) = high.subtractingReportingOverflow(Int64(range.size) - 1) { lo = max(lo, low) }
            used += 1
        }
        guard used > 0 else { return .success(nil) }
        guard lo <= hi else { return .failure(.noCommonSlide) }
        // Aligned values in [lo, hi]. lo and hi come from the log's
        // addresses and may lie at either end of Int64: the first aligned
        // value is found with overflow checks and the next one compared as
        // a distance, so an extreme address is "no slide", never a trap.
        let rest = ((lo % alignment) + alignment) % alignment
        guard case let (first, false) = lo.addingReportingOverflow(rest == 0 ? 0 : alignment - rest), first <= hi else {
            return .failure(.noCommonSlide)
        }
        if case let (span, false) = hi.subtractingReportingOverflow(first), span < alignment {
            return .success(KaslrOffset(slide: first, method: .intersection))
        }
        return .failure(.ambiguous(first, first + alignment)) // first + alignment <= hi here: no overflow
    }

    public enum SlideError: Error, CustomStringConvertible, Equatable {
        case inconsistent(Int64, Int64)
        case noCommonSlide
        case ambiguous(Int64, Int64)
        case implausible(Int64)
        case unreadable(String)
        case misaligned(Int64)

        public var description: String {
            switch self {
            case let .inconsistent(a, b): "frames disagree on the KASLR slide (\(hex(a)) vs \(hex(b))): is this the right vmlinux?"
            case .noCommonSlide: "no KASLR slide keeps every frame inside its function: is this the right vmlinux?"
            case let .ambiguous(a, b): "the frames allow several KASLR slides (\(hex(a)), \(hex(b)), …); give the Kernel Offset line"
            case let .implausible(s): "the Kernel Offset line's \(hex(s)) is no x86-64 KASLR offset (a multiple of 2 MiB below 1 GiB): not used"
            case let .unreadable(s): "the Kernel Offset line's 0x\(s) is not a 64-bit number: not used"
            case let .misaligned(s): "a frame printed raw and as symbol+offset gives a KASLR slide of \(hex(s)), not a multiple of 2 MiB: is this the right vmlinux?"
            }
        }

        func hex(_ v: Int64) -> String { KaslrOffset.hex(v) }
    }
}
