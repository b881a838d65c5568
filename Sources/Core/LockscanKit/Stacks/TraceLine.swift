import Synchronization

/// One message line seen as part of a stack dump. Both the kernel's own
/// formats (modern `func+0x18/0x90 [mod]`, ≤4.x `[<ffffffff810c9658>] func+…`,
/// `RIP: 0010:…`, section markers) and the crash utility's `bt` formats are
/// recognised here, so every analyzer sees the same frames whatever printed them.
public indirect enum TraceLine: Equatable, Sendable {
    /// `<NMI>`, `</IRQ>`, `<<EOE>>`, … possibly followed by a frame on the same line (old kernels).
    case frames(markers: [SectionMarker], frame: Frame?)
    /// ARM32: `[<8011218c>] (unwind_backtrace) from [<8010e300>] (show_stack+0x18/0x1c)`: a frame
    /// and its caller, which is printed as the next line's frame except on the last line.
    case armFrame(Frame, caller: Frame)
    /// `RIP: 0010:func+0x52/0x90 [mod]` — the interrupted instruction.
    case instructionPointer(Frame)
    case callTraceHeader
    /// `CPU: 50 PID: 0 Comm: swapper/50 Tainted: G W OE … 3.10.0-514.16.1.el7.x86_64 #1`
    case taskHeader(TaskHeader)
    /// crash: `PID: 0  TASK: ffff882f7fc0c000  CPU: 50  COMMAND: "swapper/50"`
    case crashTask(TaskHeader)
    /// crash: ` #5 [ffff882f7fc83dc8] tg_unthrottle_up at ffffffff810c9658 [kvm]`
    case crashFrame(Frame)
    /// crash: `[exception RIP: tg_unthrottle_up+24]` (decimal offset)
    case crashExceptionRIP(Frame)
    /// crash output whose blank lines were lost: `#11 [sp] end_repeat_nmi at … [exception RIP: f+24]`.
    case crashFrameThenExceptionRIP(Frame, Frame)
    /// crash: `--- <NMI exception stack> ---`: the frames printed since the
    /// previous switch ran on that stack.
    case crashStackSwitch(FrameContext)
    /// Register dump lines: `RSP: 0018:… EFLAGS: 00000046`, `RAX: …`, crash `RIP: … RSP: … RFLAGS: …`.
    case registers(RegisterLine)
    /// `NMI backtrace for cpu 1` (lib/nmi_backtrace.c)
    case nmiBacktrace(cpu: Int)
    /// Lines that belong inside a dump but carry nothing parsed (`Code:`,
    /// `Hardware name:`, `Modules linked in:`, `bt -l` source lines, …).
    case dumpDecoration
    case other
}

/// The `NAME: value` pairs of one register line, read where they lie in
/// the line: a dump holds six to ten such lines and the stuck context needs
/// four registers of them, so names and values become strings only when
/// asked for (building a dictionary of every pair cost more than the rest
/// of the line's parse).
public struct RegisterLine: Sendable, Equatable {
    private let bytes: [UInt8]
    private let pairs: [Pair]

    struct Pair: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    init(bytes: [UInt8], pairs: [Pair]) {
        self.bytes = bytes
        self.pairs = pairs
    }

    /// The value printed for `name` (the last one, if the line repeats it).
    public subscript(name: String) -> String? {
        var name = name
        return name.withUTF8 { n -> String? in
            bytes.withUnsafeBufferPointer { b -> String? in
                for p in pairs.reversed() where p.name.count == n.count
                    && n.indices.allSatisfy({ b[p.name.lowerBound + $0] == n[$0] }) {
                    return String(decoding: UnsafeBufferPointer(rebasing: b[p.value]), as: UTF8.self)
                }
                return nil
            }
        }
    }

    /// Every register on the line and its value.
    public var all: [String: String] {
        var out = [String: String](minimumCapacity: pairs.count)
        for p in pairs { out[String(decoding: bytes[p.name], as: UTF8.self)] = String(decoding: bytes[p.value], as: UTF8.self) }
        return out
    }

    /// Two lines are equal when they name the same registers with the same values.
    public static func == (a: RegisterLine, b: RegisterLine) -> Bool { a.all == b.all }
}

public enum SectionMarker: String, Sendable, Equatable {
    case nmiBegin = "<NMI>", nmiEnd = "</NMI>", irqBegin = "<IRQ>", irqEnd = "</IRQ>"
    case taskBegin = "<TASK>", taskEnd = "</TASK>", softirqBegin = "<SOFTIRQ>", softirqEnd = "</SOFTIRQ>"
    case endOfException = "<<EOE>>", endOfExceptionShort = "<EOE>", endOfInterrupt = "<EOI>"
}

public struct TaskHeader: Equatable, Sendable {
    public var cpu: Int?
    public var pid: Int?
    public var comm: String?
    public var taint: String?
    public var release: String?
}

public enum TraceLineParser {
    public static func parse(_ text: String) -> TraceLine {
        if let known = lastParsed.withLock({ last in last.flatMap { $0.text == text ? $0.line : nil } }) { return known }
        let line = parse(Array(text.utf8))
        lastParsed.withLock { $0 = (text, line) }
        return line
    }

    /// The line parsed last and what it parsed as. A dump line is asked for
    /// by every analyzer collecting that dump (soft and hard lockup, the
    /// rq-lock check, the report's dump bookkeeping), one after another with
    /// the same record: in a storm of whole reports the parse was done three
    /// or four times per line. The text is the record's own string, so
    /// telling it is the same is a pointer compare.
    private static let lastParsed = Mutex<(text: String, line: TraceLine)?>(nil)

    public static func parse(_ bytes: [UInt8]) -> TraceLine {
        var s = ByteScanner(bytes)
        s.skipSpaces()
        guard let first = s.peek else { return .other }

        if first == UInt8(ascii: "<") || first == UInt8(ascii: "[") || first == UInt8(ascii: "?") || isSymbolByte(first),
           first == UInt8(ascii: "<") || mayHoldFrame(bytes, from: s.pos) {
            if let parsed = parseFrameLine(&s) { return parsed }
        }
        s = ByteScanner(bytes)
        s.skipSpaces()
        let rest = s
        // Each keyword below is asked only when the line starts with its
        // first byte: most lines a collector is offered are prose, and ten
        // failed compares per line were a tenth of the parse.
        if first == UInt8(ascii: "R"), s.skip("RIP: ") {
            return parseRIP(&s)
        }
        // powerpc "NIP [c000000000185e90] .do_raw_spin_lock+0x90/0x1d0", arm64 "pc : queued_spin_lock_slowpath+0x1c0/0x3f0"
        if (first == UInt8(ascii: "N") && s.skip("NIP [")) || (first == UInt8(ascii: "p") && s.skip("pc : ")) {
            // powerpc's NIP has `[address] ` first; arm64's pc does not, and
            // its function may start with a hex letter (`arch_local_irq_restore`).
            var a = s
            if a.hexDigits() != nil, a.skip("] ") { s = a }
            var f = Frame(isInstructionPointer: true)
            if parseSymbolOffset(&s, into: &f) != nil { return .instructionPointer(f) }
            return .dumpDecoration
        }
        if first == UInt8(ascii: "C"), s.skip("Call Trace:") || s.skip("Call trace:") { return .callTraceHeader }
        if first == UInt8(ascii: "B"), s.skip("Backtrace:") { return .callTraceHeader }
        if first == UInt8(ascii: "N"), s.skip("NMI backtrace for cpu ") {
            if let d = s.digits() { return .nmiBacktrace(cpu: d.value) }
            return .other
        }
        if first == UInt8(ascii: "C"), s.hasPrefix("CPU: "), let h = parseTaskHeader(bytes, from: s.pos) { return .taskHeader(h) }
        if first == UInt8(ascii: "P"), s.hasPrefix("PID: "), let h = parseCrashTask(&s) { return .crashTask(h) }
        if first == UInt8(ascii: "P"), s.hasPrefix("Pid: "), let h = parseOldTaskHeader(s.rest) { return .taskHeader(h) }
        if first == UInt8(ascii: "#"), s.skip("#"), let f = parseCrashFrame(&s) {
            s.skipSpaces()
            if s.skip("[exception RIP: "), case let .crashExceptionRIP(ip) = parseExceptionRIP(&s) {
                return .crashFrameThenExceptionRIP(f, ip)
            }
            return .crashFrame(f)
        }
        if first == UInt8(ascii: "["), s.skip("[exception RIP: ") { return parseExceptionRIP(&s) }
        if first == UInt8(ascii: "-"), s.skip("--- <") {
            let name = s.word(until: { $0 == UInt8(ascii: ">") }) ?? ""
            if name.hasPrefix("NMI") { return .crashStackSwitch(.nmi) }
            if name.hasPrefix("IRQ") { return .crashStackSwitch(.irq) }
            if name.hasPrefix("SOFTIRQ") { return .crashStackSwitch(.softirq) }
            return .crashStackSwitch(.exception)
        }
        if isPstorePartHeader(rest) { return .dumpDecoration }
        if let regs = parseRegisters(rest) { return .registers(regs) }
        if (first == UInt8(ascii: "E") && rest.hasPrefix("Exception stack(")) || isHexDumpLine(rest) { return .dumpDecoration }
        for d in decorationsByFirstByte[Int(first)] where rest.hasPrefix(d) { return .dumpDecoration }
        return .other
    }

    /// What every frame form `parseFrameLine` reads holds, apart from a
    /// line of section markers (which starts with `<`): `0x` (an offset or
    /// an address), `[<` (an old kernel's or ARM's address), `] [`
    /// (powerpc's stack and address columns), ` (` (a decoded frame's
    /// source) or a closing `[inline]`. One pass over the bytes turns away
    /// the prose a collector is offered before any frame parser builds a
    /// frame to throw away.
    static func mayHoldFrame(_ b: [UInt8], from: Int) -> Bool {
        b.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress, from < b.count else { return false }
            return frameMarks.firstHit(UnsafeRawPointer(base), from: from, to: b.count) != nil
        } || endsInInlineMark(b, from: from)
    }

    /// The marks as one multi-literal search: a byte-by-byte loop cost ~9
    /// instructions a byte, and a report's module list runs to 1,000 bytes.
    static let frameMarks = TriggerSearch(["0x", "[<", " (", "] "].map { Array($0.utf8) })

    /// Whether `b[from...]`, trailing blanks aside, ends in `[inline]`.
    static func endsInInlineMark(_ b: [UInt8], from: Int) -> Bool {
        var end = b.count
        while end > from, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
        return end - from >= inlineMark.count && b[(end - inlineMark.count)..<end].elementsEqual(inlineMark)
    }

    /// pstore/ramoops splits a dmesg dump into parts, each headed
    /// `Panic#1 Part5` (`Oops#2 Part1`, …); read back in order, a header can
    /// fall in the middle of a stack.
    static func isPstorePartHeader(_ s: ByteScanner) -> Bool {
        var t = s
        let start = t.pos
        while let b = t.peek, (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) { t.pos += 1 }
        guard t.pos > start, t.skip(UInt8(ascii: "#")), t.digits(max: 6) != nil, t.skip(" Part"), t.digits(max: 6) != nil else { return false }
        t.skipSpaces()
        return t.peek == nil
    }

    static let decorations = ["Code: ", "Hardware name:", "Modules linked in:", "irq event stamp:", "hardirqs last",
                              "softirqs last", "Sending NMI from CPU", "task:", "Stack:", "Workqueue:", "Kernel Offset:",
                              "---[ end", "<TASK>", "</TASK>", "/", "ORIG_RAX:", "CS: ", "--- interrupt:", "LR [",
                              "lr : ", "sp : ", "NIP: ", "REGS: ", "MSR: ", "Instruction dump:", "Tainted: ["]
    /// The same as bytes: every line a collector is offered that is no frame
    /// is compared with each (26 string compares per line were a fifth of
    /// the parse).
    static let decorationBytes = decorations.map { Array($0.utf8) }
    /// The same, by first byte: a line is compared only with those that
    /// can match it.
    static let decorationsByFirstByte: [[[UInt8]]] = {
        var table = [[[UInt8]]](repeating: [], count: 256)
        for d in decorationBytes { table[Int(d[0])].append(d) }
        return table
    }()

    /// ` kernel/sched/core.c:6490` and ` [inline]` after a frame, as
    /// symbolized reports (syzbot, decode_stacktrace.sh) print them.
    static func parseSourceSuffix(_ s: inout ByteScanner, into f: inout Frame) {
        var t = s
        guard let token = t.word(until: { $0 == 0x20 }), let colon = token.lastIndex(of: ":"),
              let line = Int(token[token.index(after: colon)...]), token[..<colon].contains(".") else { return }
        f.file = String(token[..<colon])
        f.line = line
        t.skipSpaces()
        if t.skip("[inline]") { f.inlined = true }
        t.skipSpaces()
        s = t
    }

    /// `context_switch kernel/sched/core.c:5178 [inline]`: an inlined call, no offset.
    static func parseInlineFrame(_ s: inout ByteScanner) -> Frame? {
        // Only a line that ends in `[inline]` can be one: asked first, so
        // that prose makes no strings here.
        guard endsInInlineMark(s.bytes, from: s.pos) else { return nil }
        var reliable = true
        if s.skip("? ") { reliable = false }
        let start = s.pos
        while let b = s.peek, isSymbolByte(b) { s.pos += 1 }
        guard s.pos > start, s.skip(0x20) else { return nil }
        var f = Frame(function: s.text(from: start, to: s.pos - 1), reliable: reliable)
        parseSourceSuffix(&s, into: &f)
        guard f.inlined, s.atEnd else { return nil }
        return f
    }

    static let inlineMark = Array("[inline]".utf8)

    /// Older decode_stacktrace.sh output, offsets replaced by the source:
    /// `remove_migration_pte (mm/migrate.c:137)`, `do_raw_spin_lock (include/linux/nmi.h:35 kernel/…`.
    static func parseDecodedFrame(_ s: inout ByteScanner) -> Frame? {
        var reliable = true
        if s.skip("? ") { reliable = false }
        let start = s.pos
        while let b = s.peek, isSymbolByte(b) { s.pos += 1 }
        guard s.pos > start, s.skip(" (") else { return nil }
        var f = Frame(function: s.text(from: start, to: s.pos - 2), reliable: reliable)
        let locStart = s.pos
        while let b = s.peek, b != 0x20, b != UInt8(ascii: ")") { s.pos += 1 }
        let loc = s.text(from: locStart, to: s.pos)
        guard let colon = loc.lastIndex(of: ":"), let line = Int(loc[loc.index(after: colon)...]),
              loc[..<colon].contains(".") else { return nil }
        f.file = String(loc[..<colon])
        f.line = line
        s.pos = s.bytes.count
        return f
    }

    /// ARM32: "[<8011218c>] (unwind_backtrace) from [<8010e300>] (show_stack+0x18/0x1c)".
    static func parseARMFrame(_ s: inout ByteScanner) -> TraceLine? {
        var t = s
        guard t.skip("[<"), let addr = t.hexDigits(), t.skip(">] (") else { return nil }
        let nameStart = t.pos
        while let b = t.peek, b != UInt8(ascii: ")"), b != UInt8(ascii: "+") { t.pos += 1 }
        guard t.pos > nameStart else { return nil }
        let name = t.text(from: nameStart, to: t.pos)
        while let b = t.peek, b != UInt8(ascii: ")") { t.pos += 1 }
        guard t.skip(") from [<"), let callerAddr = t.hexDigits(), t.skip(">] (") else { return nil }
        var caller = Frame(address: "0x" + callerAddr)
        guard parseSymbolOffset(&t, into: &caller) != nil || {
            let start = t.pos
            while let b = t.peek, b != UInt8(ascii: ")") { t.pos += 1 }
            caller.function = t.pos > start ? t.text(from: start, to: t.pos) : nil
            return caller.function != nil
        }() else { return nil }
        s = t
        return .armFrame(Frame(function: name, address: "0x" + addr), caller: caller)
    }

    /// Frame lines with optional leading section markers.
    static func parseFrameLine(_ s: inout ByteScanner) -> TraceLine? {
        if let arm = parseARMFrame(&s) { return arm }
        var markers: [SectionMarker] = []
        while s.peek == UInt8(ascii: "<") {
            var matched = false
            for m in markerOrder where s.skip(m.rawValue) {
                markers.append(m)
                matched = true
                break
            }
            if !matched { return nil }
            s.skipSpaces()
        }
        if s.atEnd { return markers.isEmpty ? nil : .frames(markers: markers, frame: nil) }
        let save = s.pos
        if var f = parseKernelFrame(&s) {
            s.skipSpaces()
            parseSourceSuffix(&s, into: &f)
            // arm64 6.x marks the frame taken from the saved pc with ` (P)`.
            if s.skip("(P)") { s.skipSpaces() }
            // Anything else after a frame means it was prose.
            if s.atEnd { return .frames(markers: markers, frame: f) }
        }
        s.pos = save
        if let f = parseInlineFrame(&s) { return .frames(markers: markers, frame: f) }
        s.pos = save
        if let f = parseDecodedFrame(&s) { return .frames(markers: markers, frame: f) }
        s.pos = save
        return markers.isEmpty ? nil : .frames(markers: markers, frame: nil)
    }

    static let markerOrder: [SectionMarker] = [.endOfException, .nmiBegin, .nmiEnd, .irqBegin, .irqEnd, .taskBegin,
                                               .taskEnd, .softirqBegin, .softirqEnd, .endOfExceptionShort, .endOfInterrupt]

    /// ` func+0x18/0x90 [mod]`, ` ? func+…`, `[<ffffffff810c9658>] ? func+…`,
    /// `[<ffffffff810c9658>] 0xffffffff810c9658`, `? 0xffffffffc0a1b2c3`.
    static func parseKernelFrame(_ s: inout ByteScanner) -> Frame? {
        var frame = Frame()
        var sawAnything = false
        // powerpc: "[c00020397b4d3660] [c0080000107e972c] __tg3_readphy+0xc4/0x1d0 [tg3] (unreliable)"
        var ppc = s
        if ppc.skip(UInt8(ascii: "[")), ppc.hexDigits() != nil, ppc.skip("] ["), let ip = ppc.hexDigits(), ppc.skip("] ") {
            frame.address = "0x" + ip
            if ppc.hasPrefix("0x") {
                _ = ppc.skip("0x")
                _ = ppc.hexDigits()
            } else if parseSymbolOffset(&ppc, into: &frame) != nil {
                ppc.skipSpaces()
                if ppc.peek == UInt8(ascii: "["), !ppc.hasPrefix("[<") {
                    ppc.pos += 1
                    frame.module = ppc.word(until: { $0 == UInt8(ascii: "]") })
                    _ = ppc.skip(UInt8(ascii: "]"))
                }
            } else {
                return nil
            }
            ppc.skipSpaces()
            if ppc.skip("(unreliable)") { frame.reliable = false }
            s = ppc
            return frame
        }
        if s.skip("[<") {
            guard let addr = s.hexDigits(), s.skip(">]") else { return nil }
            frame.address = "0x" + addr
            sawAnything = true
            s.skipSpaces()
        }
        if s.skip("? ") {
            frame.reliable = false
            s.skipSpaces()
        }
        if s.atEnd { return sawAnything ? frame : nil }
        if s.hasPrefix("0x") {
            var t = s
            t.pos += 2
            if let addr = t.hexDigits(), t.atEnd || t.peek == 0x20 {
                if frame.address == nil { frame.address = "0x" + addr }
                s = t
                return frame
            }
            return nil
        }
        guard let sym = parseSymbolOffset(&s, into: &frame) else { return nil }
        _ = sym
        s.skipSpaces()
        if s.skip(UInt8(ascii: "[")) {
            guard let mod = s.word(until: { $0 == UInt8(ascii: "]") || $0 == 0x20 }) else { return nil }
            // `[mod]` may carry taint or build-id text in newer kernels: `[kvm 1a2b…]`.
            while let b = s.peek, b != UInt8(ascii: "]") { s.pos += 1 }
            guard s.skip(UInt8(ascii: "]")) else { return nil }
            frame.module = mod
        }
        return frame
    }

    /// `name+0xOFF/0xSIZE` (hex) — the shape printk's %pS gives.
    static func parseSymbolOffset(_ s: inout ByteScanner, into frame: inout Frame) -> String? {
        let start = s.pos
        while let b = s.peek, isSymbolByte(b) { s.pos += 1 }
        guard s.pos > start, s.hasPrefix("+0x") else { return nil }
        let name = s.text(from: start, to: s.pos)
        guard s.skip("+0x"), let off = s.hexDigits(), s.skip("/0x"), let size = s.hexDigits() else { return nil }
        frame.function = name
        frame.offset = UInt64(off, radix: 16)
        frame.size = UInt64(size, radix: 16)
        return name
    }

    /// `RIP: 0010:func+0x52/0x90 [mod]`, old `RIP: 0010:[<ffffffff810c9658>]  [<ffffffff810c9658>] func+0x18/0x90`,
    /// user space `RIP: 0033:0x7f…`, and crash's register-block `RIP: ffffffff810c9658  RSP: …`.
    static func parseRIP(_ s: inout ByteScanner) -> TraceLine {
        var t = s
        if let seg = t.hexDigits(), seg.count == 4, t.skip(UInt8(ascii: ":")) {
            var frame = Frame(isInstructionPointer: true)
            if t.skip("[<") {
                if let addr = t.hexDigits() { frame.address = "0x" + addr }
                _ = t.skip(">]")
                t.skipSpaces()
                if t.skip("[<") { _ = t.hexDigits(); _ = t.skip(">]"); t.skipSpaces() }
            }
            if t.hasPrefix("0x") {
                t.pos += 2
                if let addr = t.hexDigits() { frame.address = "0x" + addr }
                return .instructionPointer(frame)
            }
            if parseSymbolOffset(&t, into: &frame) != nil {
                t.skipSpaces()
                if t.peek == UInt8(ascii: "["), !t.hasPrefix("[inline]") {
                    t.pos += 1
                    frame.module = t.word(until: { $0 == UInt8(ascii: "]") || $0 == 0x20 })
                    _ = t.skip(UInt8(ascii: "]"))
                    t.skipSpaces()
                }
                parseSourceSuffix(&t, into: &frame)
            } else if var inline = parseInlineFrame(&t) {
                // "RIP: 0010:div_u64_rem include/linux/math64.h:29 [inline]"
                inline.isInstructionPointer = true
                return .instructionPointer(inline)
            }
            return .instructionPointer(frame)
        }
        var line = s
        line.pos -= 5
        return parseRegisters(line).map { .registers($0) } ?? .other
    }

    /// `7cc0: 96737d48 00002218 …`: ARM's memory dump under "Exception stack(…)".
    /// The first word is a whole 32-bit word (eight hex digits): prose that
    /// opens with a hex-looking name (`e1000e: eth0 NIC Link is Up`) is not
    /// a dump line.
    static func isHexDumpLine(_ s: ByteScanner) -> Bool {
        var t = s
        let start = t.pos
        while let b = t.peek, isHex(b) { t.pos += 1 }
        guard t.pos - start >= 3, t.skip(": ") else { return false }
        t.skipSpaces()
        let word = t.pos
        while let b = t.peek, isHex(b) { t.pos += 1 }
        return t.pos - word >= 8 && (t.atEnd || t.peek == 0x20 || t.peek == 0x09)
    }

    /// `NAME: value` pairs of a register dump. Accepts only lines made entirely
    /// of such pairs with register-like names, so prose never matches.
    static func parseRegisters(_ s: ByteScanner) -> RegisterLine? {
        guard let pairs = registerPairs(s), !pairs.isEmpty,
              pairs.contains(where: { isRegisterName(s.text(from: $0.name.lowerBound, to: $0.name.upperBound)) }) else { return nil }
        return RegisterLine(bytes: s.bytes, pairs: pairs)
    }

    /// Where each name and value of a register line lies, or nil when the
    /// line is not made of such pairs. Positions only: nearly every line
    /// asked is prose, which fails at its first word before any string or
    /// dictionary is made.
    static func registerPairs(_ s: ByteScanner) -> [RegisterLine.Pair]? {
        var t = s
        var pairs: [RegisterLine.Pair] = []
        while !t.atEnd {
            t.skipSpaces()
            if t.atEnd { break }
            let nameStart = t.pos
            while let b = t.peek, (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || isDigit(b) || b == UInt8(ascii: "_") { t.pos += 1 }
            let name = nameStart..<t.pos
            t.skipSpaces() // arm64 pads: "pc : …", "sp : …"
            guard !name.isEmpty, name.count <= 8, t.skip(UInt8(ascii: ":")) else { return nil }
            t.skipSpaces()
            let valStart = t.pos
            while let b = t.peek, isHex(b) || b == UInt8(ascii: ":") || b == UInt8(ascii: "x") { t.pos += 1 }
            guard t.pos > valStart else { return nil }
            pairs.append(RegisterLine.Pair(name: name, value: valStart..<t.pos))
            if let b = t.peek, b != 0x20, b != 0x09 {
                // `EFLAGS: 00000046` then ` ORIG_RAX: …` is fine; other text is not a dump.
                return nil
            }
        }
        return pairs
    }

    /// x86 names, ARM32 `r0`…`r10`/`fp`/`ip`, arm64 `x0`…`x30`, and friends.
    static func isRegisterName(_ name: String) -> Bool {
        if registerNames.contains(name) { return true }
        if let f = name.first, f == "r" || f == "x", name.count <= 3, Int(name.dropFirst()) != nil { return true }
        return ["fp", "ip", "sp", "lr", "cpsr", "psr", "pstate", "pc"].contains(name)
    }

    static let registerNames: Set<String> = ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8", "R9",
                                             "R10", "R11", "R12", "R13", "R14", "R15", "EFLAGS", "RFLAGS", "FS", "GS",
                                             "CS", "DS", "ES", "CR0", "CR2", "CR3", "CR4", "DR0", "DR3", "DR6",
                                             "ORIG_RAX", "EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP", "PKRU"]

    /// `CPU: 50 PID: 0 Comm: swapper/50 Tainted: G  W  OE  ------------   3.10.0-514.16.1.el7.x86_64 #1`
    /// `CPU: 3 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1` (newer kernels add UID).
    static func parseTaskHeader(_ bytes: [UInt8], from: Int) -> TaskHeader? {
        let text = String(decoding: bytes[from...], as: UTF8.self)
        guard let commRange = text.firstOccurrence(of: " Comm: ") else { return nil }
        var h = TaskHeader()
        (h.cpu, h.pid) = cpuAndPID(text[..<commRange.lowerBound])
        let tail = text[commRange.upperBound...]
        // The comm may contain spaces ("CPU 0/KVM"); it ends where the taint clause starts.
        // ` Tainted:` at the very end: a mail client wrapped the line there.
        let taintMarkers = [" Tainted: ", " Not tainted ", " Not tainted", " Tainted:"]
        var commEnd = tail.endIndex
        var after: Substring = ""
        // Which marker ends the comm: the match starts and ends on
        // Character boundaries, so the rest of the line begins with exactly
        // that marker (asking `hasPrefix` again compared Characters).
        var marker = -1
        for (i, m) in taintMarkers.enumerated() {
            if let r = tail.firstOccurrence(of: m) {
                commEnd = r.lowerBound
                after = tail[r.lowerBound...]
                marker = i
                break
            }
        }
        var comm = tail[..<commEnd]
        // 6.x kernels with a crash kernel loaded print "Comm: swapper/33 Kdump: loaded Tainted: …".
        if let k = comm.firstOccurrence(of: " Kdump: ") { comm = comm[..<k.lowerBound] }
        h.comm = String(comm)
        if marker == 0 {
            let body = after.dropFirst(" Tainted: ".count)
            (h.taint, h.release) = taintAndRelease(ascii: body) ?? taintAndRelease(characters: body)
        } else if marker == 1 || marker == 2 {
            h.release = after.dropFirst(" Not tainted".count).split(separator: " ").first.map(String.init)
        }
        return h
    }

    /// The taint letters and the release after ` Tainted: `. Taint letters
    /// are single characters separated by spaces; a `------------` RHEL
    /// marker or the release ends them.
    package static func taintAndRelease(characters body: Substring) -> (taint: String?, release: String?) {
        var letters = ""
        var rest = body
        while let c = rest.first {
            if c == " " { rest = rest.dropFirst(); continue }
            let tokEnd = rest.firstIndex(of: " ") ?? rest.endIndex
            let tok = rest[..<tokEnd]
            if tok.count <= 20, tok.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                // Taint flags print positionally ("G        W  OE"): letters in runs.
                letters += tok
                rest = rest[tokEnd...]
            } else if tok.allSatisfy({ $0 == "-" }) {
                rest = rest[tokEnd...]
            } else { break }
        }
        return (letters.isEmpty ? nil : letters, rest.split(separator: " ").first.map(String.init))
    }

    /// The same read on bytes: for ASCII
    /// (every kernel's header) a byte is a character, and walking
    /// `Character`s made this header the costliest line of a report. Nil
    /// for text that is not ASCII, which the character loop reads.
    package static func taintAndRelease(ascii body: Substring) -> (taint: String?, release: String?)? {
        let b = Array(body.utf8)
        guard b.allSatisfy({ $0 < 0x80 && $0 != 0x0D && $0 != 0x0A }) else { return nil }
        var i = 0
        var letters: [UInt8] = []
        while i < b.count {
            if b[i] == 0x20 { i += 1; continue }
            var j = i
            while j < b.count, b[j] != 0x20 { j += 1 }
            let token = b[i..<j]
            // Taint flags print positionally ("G        W  OE"): letters in runs.
            if token.count <= 20, token.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
                letters += token
            } else if !token.allSatisfy({ $0 == UInt8(ascii: "-") }) {
                break
            }
            i = j
        }
        while i < b.count, b[i] == 0x20 { i += 1 }
        var end = i
        while end < b.count, b[end] != 0x20 { end += 1 }
        return (letters.isEmpty ? nil : String(decoding: letters, as: UTF8.self),
                end > i ? String(decoding: b[i..<end], as: UTF8.self) : nil)
    }

    /// The numbers after `CPU:` and `PID:` in a space-separated header.
    static func cpuAndPID(_ head: Substring) -> (cpu: Int?, pid: Int?) {
        cpuAndPID(ascii: head) ?? cpuAndPID(characters: head)
    }

    static func cpuAndPID(characters head: Substring) -> (cpu: Int?, pid: Int?) {
        let fields = head.split(separator: " ")
        var cpu: Int?, pid: Int?
        for (label, value) in zip(fields, fields.dropFirst()) {
            if label == "CPU:" { cpu = Int(value) }
            if label == "PID:" { pid = Int(value) }
        }
        return (cpu, pid)
    }

    /// The same read on bytes, for ASCII without carriage returns (where a
    /// byte is a Character): splitting into Substrings and comparing
    /// Characters cost 10,000 instructions a banner. Nil for other text.
    static func cpuAndPID(ascii head: Substring) -> (cpu: Int?, pid: Int?)? {
        var head = head
        return head.withUTF8 { b -> (cpu: Int?, pid: Int?)? in
            guard b.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) else { return nil }
            var fields: [Range<Int>] = []
            var i = 0
            while i < b.count {
                while i < b.count, b[i] == 0x20 { i += 1 }
                let start = i
                while i < b.count, b[i] != 0x20 { i += 1 }
                if i > start { fields.append(start..<i) }
            }
            var cpu: Int?, pid: Int?
            for (label, value) in zip(fields, fields.dropFirst()) {
                let name = UnsafeBufferPointer(rebasing: b[label])
                guard name.elementsEqual("CPU:".utf8) || name.elementsEqual("PID:".utf8) else { continue }
                let number = Int(String(decoding: UnsafeBufferPointer(rebasing: b[value]), as: UTF8.self))
                if name[0] == UInt8(ascii: "C") { cpu = number } else { pid = number }
            }
            return (cpu, pid)
        }
    }

    /// ≤3.x kernels: `Pid: 0, comm: swapper Not tainted 2.6.32-431.el6.x86_64 #1 Dell Inc. PowerEdge R620`
    /// (no CPU on the line; `Tainted: G  W  ---------------- ` variants as in newer headers).
    static func parseOldTaskHeader(_ text: String) -> TaskHeader? {
        guard text.hasPrefix("Pid: "), let commRange = text.firstOccurrence(of: ", comm: ") else { return nil }
        var h = TaskHeader()
        h.pid = Int(text[text.index(text.startIndex, offsetBy: 5)..<commRange.lowerBound])
        // Reuse the CPU-line parser for comm/taint/release by giving it that shape.
        if let parsed = parseTaskHeader(Array(("CPU: 0 PID: 0 Comm: " + text[commRange.upperBound...]).utf8), from: 0) {
            h.comm = parsed.comm
            h.taint = parsed.taint
            h.release = parsed.release
        }
        return h
    }

    /// `PID: 0      TASK: ffff882f7fc0c000  CPU: 50  COMMAND: "swapper/50"`
    static func parseCrashTask(_ s: inout ByteScanner) -> TaskHeader? {
        let text = s.rest
        guard text.contains(" TASK: "), let cmdRange = text.firstOccurrence(of: "COMMAND: \"") else { return nil }
        var h = TaskHeader()
        (h.cpu, h.pid) = cpuAndPID(text[..<cmdRange.lowerBound])
        let after = text[cmdRange.upperBound...]
        if let q = after.lastIndex(of: "\"") { h.comm = String(after[..<q]) }
        return h
    }

    /// ` #5 [ffff882f7fc83dc8] tg_unthrottle_up at ffffffff810c9658 [kvm]`
    /// ` #5 native_queued_spin_lock_slowpath+96 [kvm]` — `bt -s` without
    /// stack addresses: decimal offset, no ` at ADDRESS`.
    static func parseCrashFrame(_ s: inout ByteScanner) -> Frame? {
        guard s.digits(max: 4) != nil else { return nil }
        s.skipSpaces()
        if s.peek != UInt8(ascii: "[") { return parseCrashSymbolFrame(&s) }
        guard s.skip(UInt8(ascii: "[")), s.hexDigits() != nil, s.skip(UInt8(ascii: "]")) else { return nil }
        s.skipSpaces()
        let nameStart = s.pos
        while let b = s.peek, b != 0x20 { s.pos += 1 }
        let name = s.text(from: nameStart, to: s.pos)
        guard !name.isEmpty, s.skip(" at ") else { return nil }
        guard let addr = s.hexDigits() else { return nil }
        var f = Frame(function: name, address: "0x" + addr)
        var t = s
        t.skipSpaces()
        if !t.hasPrefix("[exception"), t.skip(UInt8(ascii: "[")), let mod = t.word(until: { $0 == UInt8(ascii: "]") }) {
            f.module = mod
            _ = t.skip(UInt8(ascii: "]"))
            s = t
        }
        return f
    }

    static func parseCrashSymbolFrame(_ s: inout ByteScanner) -> Frame? {
        let start = s.pos
        while let b = s.peek, b != 0x20 { s.pos += 1 }
        let word = s.text(from: start, to: s.pos)
        guard let plus = word.lastIndex(of: "+"), plus > word.startIndex,
              let off = UInt64(word[word.index(after: plus)...], radix: 10) else { return nil }
        let name = String(word[..<plus])
        guard name.utf8.allSatisfy({ isSymbolByte($0) || $0 == UInt8(ascii: ".") }) else { return nil }
        var f = Frame(function: name)
        f.offset = off
        var t = s
        t.skipSpaces()
        if t.skip(UInt8(ascii: "[")), let mod = t.word(until: { $0 == UInt8(ascii: "]") }), !mod.hasPrefix("exception") {
            f.module = mod
            _ = t.skip(UInt8(ascii: "]"))
            s = t
        }
        return f
    }

    /// `[exception RIP: tg_unthrottle_up+24]` — crash prints the offset in decimal.
    static func parseExceptionRIP(_ s: inout ByteScanner) -> TraceLine {
        let body = s.word(until: { $0 == UInt8(ascii: "]") }) ?? ""
        var f = Frame(isInstructionPointer: true)
        if let plus = body.lastIndex(of: "+"), let off = UInt64(body[body.index(after: plus)...]) {
            f.function = String(body[..<plus])
            f.offset = off
        } else if body.hasPrefix("unknown or invalid address") {
            f.function = nil
        } else {
            f.function = body
        }
        return .crashExceptionRIP(f)
    }
}
