import FoundationEssentials
import LockscanKit

/// Rewrites a log so every recognised frame carries its source position and
/// inline chain, keeping every other byte as it was.
///
/// The annotation is delimited by `«…»`, which kernel logs never print, so
/// `StackAnnotator.strip` gives the input back byte for byte:
///
///     [  12.345678]  «inlined context_switch kernel/sched/core.c:5178»
///     [  12.345678]  __schedule+0xadf/0x5270 «kernel/sched/core.c:6490»
///
/// Inlined callees come first (innermost first), as decode_stacktrace.sh
/// prints them; the frame line ends with the position of its own function.
public final class StackAnnotator {
    public let kernel: KernelDebugInfo
    /// Which address each frame stands for; its slide, module bases and
    /// exception RIPs are found in the input by `annotate`.
    public private(set) var policy = FrameAddressPolicy()
    public var slide: KaslrOffset? { policy.slide }
    public var moduleBases: ModuleLoadBase { policy.moduleBases }
    public private(set) var notes: [String] = []
    public private(set) var errors: [String] = []
    /// Objects whose DWARF was checked for the note (batches come one by one).
    private var notedWithoutDWARF: Set<String> = []

    public init(kernel: KernelDebugInfo) {
        self.kernel = kernel
    }

    public static let open = "«"
    public static let close = "»"

    /// What is added to one input line: lines inserted before it (the
    /// inline chain, innermost first) and text appended to it (its own
    /// position). The line itself is never changed.
    public struct LineAnnotation: Equatable, Sendable {
        /// Whole lines, without their line end (the input line's own, "\r\n"
        /// or "\n", is used).
        public var inserted: [[UInt8]]
        /// Goes after the line's text, before its "\r" if it has one.
        public var suffix: [UInt8]
    }

    /// Annotates a batch of lines (each without its "\n"). The KASLR slide
    /// found in one batch serves the later ones, so an input can be
    /// annotated as it arrives; a `Kernel Offset:` line replaces the slide
    /// from the batch it is in.
    public func annotate(bytes lines: [ArraySlice<UInt8>]) -> [LineAnnotation?] {
        annotate(bytes: lines, parsed: lines.map(Self.parse))
    }

    /// The same, for a caller that already parsed the lines (`AnnotationStream`
    /// parses each line once however often it looks at its window).
    func annotate(bytes lines: [ArraySlice<UInt8>], parsed: [ParsedLine]) -> [LineAnnotation?] {
        let frames = parsed.compactMap(\.frame)
        let named = Dictionary(grouping: frames.filter { $0.function != nil }, by: \.module)
        for (module, frames) in named { kernel.preloadSymbols(named: Set(frames.compactMap(\.function)), module: module) }
        var offsetLine: KaslrOffset?
        for p in parsed {
            switch KaslrOffset.parseKernelOffsetLine(p.message) {
            case let .success(k)?: offsetLine = k
            case let .failure(e)?: errors.append(e.description)
            case nil: continue
            }
            break
        }
        if let k = offsetLine {
            useKernelOffset(k)
        } else if slide == nil, !frames.isEmpty {
            findSlide(frames + Self.exceptionRIPsWithAddress(parsed))
        }
        if !frames.isEmpty { findModuleBases(lines.map { String(decoding: $0, as: UTF8.self) }, frames) }
        findExceptionRIPs(parsed)
        noteMissingDebugInfo(frames)
        return zip(lines, parsed).map { line, p in
            guard let frame = p.frame, let (s, printed) = symbolize(frame), let last = s.frames.last else { return nil }
            let body = line.last == 0x0D ? line.dropLast() : line
            let prefix = Array(body.prefix(p.messageStart))
            let indent = Array(p.message.utf8.prefix { $0 == 0x20 })
            let inserted = s.frames.dropLast().map { inl in
                prefix + indent + Array((Self.open + "inlined " + inl.function + " " + Self.position(inl) + Self.close).utf8)
            }
            // A frame printed as a bare address (`[<ffffffff810c9658>]`,
            // `? 0xffffffff810c9658`) also gets the name the kernel would
            // have printed beside it.
            let name = frame.function == nil ? s.symbolOffset(printed: printed).map { $0 + " " } ?? "" : ""
            return LineAnnotation(inserted: inserted, suffix: Array((" " + Self.open + name + Self.position(last) + Self.close).utf8))
        }
    }

    /// Whether a batch holds frames printed only as raw addresses that need
    /// a KASLR slide no earlier line gave: worth waiting for more lines (the
    /// `Kernel Offset:` line, or enough frames to pin the slide down).
    public func needsSlide(_ lines: [ArraySlice<UInt8>]) -> Bool {
        needsSlide(parsed: lines.map(Self.parse))
    }

    func needsSlide(parsed: [ParsedLine]) -> Bool {
        guard slide == nil else { return false }
        return parsed.contains { p in
            guard let f = p.frame else { return false }
            return f.module == nil && f.offset == nil && f.address != nil
        }
    }

    /// Annotates whole-input lines (without their "\n"), as one batch.
    public func annotate(_ lines: [String]) -> [String] {
        let bytes = lines.map { Array($0.utf8)[...] }
        var out: [String] = []
        out.reserveCapacity(lines.count)
        for (line, a) in zip(bytes, annotate(bytes: bytes)) {
            guard let a else {
                out.append(String(decoding: line, as: UTF8.self))
                continue
            }
            let cr: [UInt8] = line.last == 0x0D ? [0x0D] : []
            for inserted in a.inserted { out.append(String(decoding: inserted + cr, as: UTF8.self)) }
            out.append(String(decoding: line.dropLast(cr.count) + a.suffix + cr, as: UTF8.self))
        }
        return out
    }

    /// The input again: inserted lines dropped, appended positions removed.
    public static func strip(_ lines: [String]) -> [String] {
        var out: [String] = []
        for line in lines {
            let (body, cr) = splitCR(line)
            if body.hasSuffix(close), let o = body.lastOccurrence(of: " " + open) {
                let bytes = Array(body.utf8)
                let p = LinePrefix.parse(bytes)
                let message = String(decoding: bytes[p.messageStart...], as: UTF8.self)
                if message.drop(while: { $0 == " " }).hasPrefix(open + "inlined ") { continue }
                out.append(String(body[..<o.lowerBound]) + cr)
            } else {
                out.append(line)
            }
        }
        return out
    }

    static func position(_ f: SourceFrame) -> String {
        guard let file = f.file else { return "??:0" }
        return "\(file):\(f.line ?? 0)"
    }

    static func splitCR(_ line: String) -> (String, String) {
        line.hasSuffix("\r") ? (String(line.dropLast()), "\r") : (line, "")
    }

    struct ParsedLine {
        var frame: Frame?
        var messageStart: Int
        var message: String
        /// crash's `RIP: ffffffff810c9658  RSP: …` register line under an `[exception RIP:]`.
        var registerRIP: UInt64?
    }

    static func parse(_ line: String) -> ParsedLine {
        parse(Array(line.utf8)[...])
    }

    static func parse(_ line: ArraySlice<UInt8>) -> ParsedLine {
        let bytes = Array(line.last == 0x0D ? line.dropLast() : line)
        let p = LinePrefix.parse(bytes)
        let message = String(decoding: bytes[p.messageStart...], as: UTF8.self)
        var frame: Frame?
        var registerRIP: UInt64?
        switch TraceLineParser.parse(message) {
        case let .frames(_, f?): frame = f
        case let .instructionPointer(f): frame = f
        case let .crashFrame(f): frame = f
        case let .armFrame(f, _): frame = f
        case let .crashExceptionRIP(f): frame = f
        case let .crashFrameThenExceptionRIP(_, ip): frame = ip
        case let .registers(regs): registerRIP = regs["RIP"].flatMap { UInt64($0, radix: 16) }
        default: break
        }
        if frame?.file != nil { frame = nil } // already symbolized
        return ParsedLine(frame: frame, messageStart: p.messageStart, message: message, registerRIP: registerRIP)
    }

    /// crash's `[exception RIP: func+off]` with the address its register
    /// line prints under it (`RIP: ffffffff810ffecd  RSP: …`, the next line
    /// or the one after): the same instruction as symbol+offset and raw, the
    /// surest slide a crash `bt` through `end_repeat_nmi` gives.
    static func exceptionRIPsWithAddress(_ parsed: [ParsedLine]) -> [Frame] {
        var out: [Frame] = []
        for (i, p) in parsed.enumerated() {
            guard var f = p.frame, f.isInstructionPointer, f.address == nil, f.offset != nil, f.function != nil else { continue }
            guard let rip = parsed[(i + 1)..<min(i + 3, parsed.count)].lazy.compactMap(\.registerRIP).first else { continue }
            f.address = "0x" + String(rip, radix: 16)
            out.append(f)
        }
        return out
    }

    /// KASLR: a `Kernel Offset:` line wins; else frames printed raw and as
    /// symbol+offset; else, for crash output, the intersection of ranges.
    private func findSlide(_ frames: [Frame]) {
        switch KaslrOffset.fromFrames(frames.filter { $0.offset != nil && $0.address != nil }, in: kernel) {
        case let .success(s?):
            policy.slide = s
        case let .failure(e):
            errors.append(e.description)
        case .success(nil):
            let absolute = frames.filter { $0.offset == nil && $0.address != nil && $0.function != nil }
            switch KaslrOffset.intersecting(absolute, in: kernel) {
            case let .success(s): policy.slide = s
            case let .failure(e): errors.append(e.description)
            }
        }
        if let s = slide { notes.append("KASLR slide \(KaslrOffset.hex(s.slide)) from \(s.method.rawValue)") }
    }

    /// Module frames with absolute addresses only (crash `bt`): see ModuleLoadBase.
    private func findModuleBases(_ lines: [String], _ frames: [Frame]) {
        let moduleFrames = frames.filter { $0.module != nil && $0.offset == nil && $0.address != nil }
        guard !moduleFrames.isEmpty else { return }
        policy.moduleBases = ModuleLoadBase(lines: lines, frames: moduleFrames, kernel: kernel)
        notes += moduleBases.notes
        for module in Set(moduleFrames.compactMap(\.module)).sorted() {
            if moduleBases.listed[module] != nil {
                notes.append("module \(module): function addresses from \(ModuleLoadBase.Method.symbolListing.rawValue)")
            } else if let b = moduleBases.bases[module] {
                notes.append("module \(module): loaded at 0x\(String(b.base, radix: 16)) (\(b.method.rawValue))")
            }
        }
    }

    /// Uses a `Kernel Offset:` line seen in the input.
    public func useKernelOffset(_ offset: KaslrOffset) {
        policy.slide = offset
        notes.append("KASLR slide \(KaslrOffset.hex(offset.slide)) from \(offset.method.rawValue)")
    }

    /// Interrupted instructions in this batch (RIP frames with a raw
    /// address, crash's RIP register lines), kept for the later batches: a
    /// raw frame at one of them is looked up exactly (see FrameAddressPolicy).
    private func findExceptionRIPs(_ parsed: [ParsedLine]) {
        for p in parsed {
            if let rip = p.registerRIP ?? p.frame.flatMap(FrameAddressPolicy.exceptionRIP(of:)) { policy.exceptionRIPs.insert(rip) }
        }
    }

    /// Objects without DWARF: said once here instead of `??:0` on each of
    /// their frames (a module without a debug file was reported when loading).
    private func noteMissingDebugInfo(_ frames: [Frame]) {
        for f in frames {
            let object = f.module ?? "vmlinux"
            guard notedWithoutDWARF.insert(object).inserted else { continue }
            if f.module == nil {
                if let note = KernelCheck.noDebugInfo(kernel) { notes.append(note) }
            } else if kernel.moduleNames.contains(object), !kernel.hasDWARF(module: object) {
                notes.append("module \(object): its debug file has no DWARF: its frames keep their names, without file:line")
            }
        }
    }

    /// The frame under the policy; nil (the line stays as printed) when
    /// nothing places it or its object has no DWARF.
    /// The symbolization, and the link-time address the line printed (the
    /// looked-up one plus the byte a return address steps back).
    private func symbolize(_ f: Frame) -> (Symbolization, printed: UInt64)? {
        guard let l = policy.lookup(f, in: kernel), kernel.hasDWARF(module: l.module) else { return nil }
        return (kernel.symbolize(l.address, module: l.module, symbolName: l.symbolName), l.printedAddress)
    }
}
