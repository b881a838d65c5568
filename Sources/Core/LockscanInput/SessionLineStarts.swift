/// Where a line of a host-side or debugger session starts, for a session
/// pasted onto one line: libvirt's stamped records, a crash `bt`, WinDbg's
/// `!analyze -v`. Each family is recognised by its own line structure (a
/// stamp, a task header, a frame, a prompt, a key), never by an analyzer's
/// wording, and cuts a line only where it finds two or more of its starts:
/// one start is an ordinary line of that session.
///
/// Every line an analyzer sees passes here, so each family is first looked
/// for by a few fixed strings (`memmem`) that any collapsed session of it
/// holds, and only then parsed; and a line shorter than `minimumLength`
/// (no two lines of any of these sessions are that short together) is not
/// looked at.
enum SessionLineStarts {
    static let minimumLength = 64
    /// libvirt logs in UTC (virTimeStringNowRaw), so its stamps end so.
    static let libvirtAnchors = ["+0000: "]
    /// A crash `bt` of two lines or more has one of these.
    static let crashAnchors = ["PID: ", "#1 [", "[exception RIP: "]
    /// `!analyze -v` output, or its summary, has one of these.
    static let windbgAnchors = ["kd> ", "BugCheck ", "Arg1: ", "BUGCHECK_", "Debug session time: "]

    /// Every family's anchors in one search; `anchorFamily` tells whose each is.
    static let anchors = TriggerSearch((libvirtAnchors + crashAnchors + windbgAnchors).map { Array($0.utf8) })
    static let anchorFamily: [Families] = libvirtAnchors.map { _ in .libvirt } + crashAnchors.map { _ in .crash }
        + windbgAnchors.map { _ in .windbg }

    /// Which session families a line may hold (a value: asked for every long line).
    struct Families: OptionSet {
        let rawValue: UInt8
        static let libvirt = Families(rawValue: 1)
        static let crash = Families(rawValue: 2)
        static let windbg = Families(rawValue: 4)
    }

    /// Cut positions for `line` (sorted, without duplicates), empty when no
    /// family finds two starts in it.
    static func cuts(_ line: [UInt8]) -> [Int] {
        guard line.count >= minimumLength else { return [] }
        let present = families(in: line)
        guard !present.isEmpty else { return [] }
        var out: [Int] = []
        if present.contains(.libvirt) {
            let libvirt = libvirtStamps(line)
            // Like a kernel stamp, the first libvirt stamp keeps what precedes it
            // (an outer journal or syslog column) with it.
            if libvirt.count >= 2 { out += libvirt.dropFirst() }
        }
        if present.contains(.crash) {
            let crash = crashStarts(line)
            if crash.count >= 2 { out += crash }
        }
        if present.contains(.windbg) {
            let windbg = windbgStarts(line)
            if windbg.count >= 2 { out += windbg }
        }
        return Array(Set(out.filter { $0 > 0 })).sorted()
    }

    /// The families whose anchors `line` holds, from one pass over it: one
    /// `memmem` per anchor was 6% of a scan in the window after a lockup
    /// header, where every line passes here.
    static func families(in line: [UInt8]) -> Families {
        var present: Families = []
        line.withUnsafeBytes { h in
            guard let base = h.baseAddress else { return }
            anchors.forEachMatch(base, from: 0, to: h.count) { present.insert(anchorFamily[$0]) }
        }
        return present
    }

    // MARK: libvirt

    /// `2017-03-15 06:03:48.180+0000: ` at the start of the line or after
    /// whitespace (src/util/virlog.c's stamp: a zoned time and a colon).
    static func libvirtStamps(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i + 25 <= b.count {
            if isDigit(b[i]), i == 0 || isSpace(b[i - 1]), b[i + 4] == UInt8(ascii: "-"), b[i + 10] == 0x20 {
                var s = ByteScanner(b, at: i)
                var p = LinePrefix()
                if LinePrefix.parseLibvirtStamp(&s, into: &p) {
                    out.append(i)
                    i = s.pos
                    continue
                }
            }
            i += 1
        }
        return out
    }

    // MARK: crash

    /// crash's `bt`: the task header `PID: 0 TASK: ffff…`, a frame
    /// `#3 [ffff…] name at ffff…`, the `[exception RIP: …]` and
    /// `--- <NMI exception stack> ---` lines, the `RIP:` register line and
    /// the `crash> ` prompt.
    static func crashStarts(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i < b.count {
            guard i == 0 || isSpace(b[i - 1]) || b[i - 1] >= 0x80 else { i += 1; continue }
            var s = ByteScanner(b, at: i)
            switch b[i] {
            case UInt8(ascii: "P"):
                // PID: 0      TASK: ffff9f1a36998000
                if s.skip("PID:"), skipBlanks(&s), s.digits(max: 10) != nil, skipBlanks(&s), s.skip("TASK:") { out.append(i) }
            case UInt8(ascii: "#"):
                // #12 [ffff9f487e043e08] tg_unthrottle_up at ffffffffae0dc4d8
                s.pos += 1
                if s.digits(max: 4) != nil, skipBlanks(&s), s.skip(UInt8(ascii: "[")), s.hexDigits() != nil, s.skip("] ") { out.append(i) }
            case UInt8(ascii: "["):
                if s.skip("[exception RIP: ") { out.append(i) }
            case UInt8(ascii: "-"):
                if s.skip("--- <") { out.append(i) }
            case UInt8(ascii: "R"):
                if s.skip("RIP: "), s.hexDigits()?.count == 16 {
                    out.append(i)
                    out += registerLineStarts(b, from: s.pos)
                }
            case UInt8(ascii: "c"):
                if s.skip("crash> ") { out.append(i) }
            default:
                break
            }
            i += 1
        }
        return out
    }

    /// The register dump after `RIP: …`: crash prints x86-64 registers three
    /// to a line (`RIP RSP RFLAGS`, `RAX RBX RCX`, …, `ORIG_RAX CS SS`), so
    /// every third `NAME: value` pair starts a line. The run ends at the
    /// first token that is not such a pair.
    static func registerLineStarts(_ b: [UInt8], from: Int) -> [Int] {
        var out: [Int] = []
        var s = ByteScanner(b, at: from)
        var count = 1 // RIP
        while true {
            s.skipSpaces()
            let start = s.pos
            guard let f = s.peek, f >= 0x41, f <= 0x5A,
                  s.word(until: { !(($0 >= 0x41 && $0 <= 0x5A) || isDigit($0) || $0 == UInt8(ascii: "_")) }) != nil,
                  s.pos - start <= 8, s.skip(": "), s.hexDigits() != nil else { break }
            if count % 3 == 0 { out.append(start) }
            count += 1
            // An annotation typed onto the value (`…9400------task_group`) stays with it.
            while let c = s.peek, c != 0x20, c != 0x09 { s.pos += 1 }
        }
        return out
    }

    // MARK: WinDbg

    /// WinDbg's own line structure: a `kd> ` prompt (with its `1: `
    /// processor), the `BugCheck 101, {…}` summary, `Arg1:`…`Arg4:`, a bug
    /// check heading `NAME (hex)` (a line of its own: the description that
    /// follows is cut off too), an analysis key `UPPER_CASE_KEY:`, the two
    /// clock lines of the dump header (`Debug session time:`, `System
    /// Uptime:`), and in `STACK_TEXT` each frame's first address after the
    /// previous frame's `module!symbol`.
    static func windbgStarts(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        var previousToken: Range<Int>?
        while i < b.count {
            if isSpace(b[i]) { i += 1; continue }
            let start = i
            while i < b.count, !isSpace(b[i]) { i += 1 }
            let token = start..<i
            defer { previousToken = token }
            var s = ByteScanner(b, at: start)
            if let prompt = kdPrompt(b, start) {
                out.append(prompt)
            } else if s.skip("BugCheck "), s.hexDigits() != nil, s.skip(", {") {
                out.append(start)
            } else if s.skip("Arg"), let d = s.peek, (UInt8(ascii: "1")...UInt8(ascii: "4")).contains(d), s.peek(1) == UInt8(ascii: ":"),
                      token.count == 5 {
                out.append(start)
            } else if s.skip("Debug session time: ") || s.skip("System Uptime: ") {
                out.append(start)
            } else if isUpperKey(b[token]) {
                if b[i - 1] == UInt8(ascii: ":") {
                    out.append(start)
                } else if let end = headingEnd(b, after: i) {
                    out.append(start)
                    out.append(end)
                }
            } else if isHexWord(b[token]), let p = previousToken, isModuleSymbol(b[p]) || b[p].elementsEqual("STACK_TEXT:".utf8) {
                out.append(start)
            }
        }
        return out
    }

    /// `1: kd> ` or `kd> ` starting at `i`; where the prompt starts.
    static func kdPrompt(_ b: [UInt8], _ i: Int) -> Int? {
        var s = ByteScanner(b, at: i)
        if s.skip("kd> ") { return i }
        s = ByteScanner(b, at: i)
        guard s.digits(max: 3) != nil, s.skip(": kd> ") else { return nil }
        return i
    }

    /// `CLOCK_WATCHDOG_TIMEOUT`, `STACK_TEXT:`: upper case, digits and
    /// underscores with at least one underscore (a plain word such as `RIP`
    /// is not WinDbg's).
    static func isUpperKey(_ t: ArraySlice<UInt8>) -> Bool {
        var body = t
        if body.last == UInt8(ascii: ":") { body = body.dropLast() }
        guard body.count >= 4, let f = body.first, f >= 0x41, f <= 0x5A, body.contains(UInt8(ascii: "_")) else { return false }
        return body.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// After a heading's name: ` (101)` then the end of the heading.
    static func headingEnd(_ b: [UInt8], after i: Int) -> Int? {
        var s = ByteScanner(b, at: i)
        guard s.skip(" ("), s.hexDigits() != nil, s.skip(UInt8(ascii: ")")) else { return nil }
        s.skipSpaces()
        return s.atEnd ? nil : s.pos
    }

    /// `8d54bc2c`, `fffff880`08c33328`.
    static func isHexWord(_ t: ArraySlice<UInt8>) -> Bool {
        let digits = t.filter { $0 != UInt8(ascii: "`") }
        return (digits.count == 8 || digits.count == 16) && digits.allSatisfy(isHex)
    }

    /// `nt!KeBugCheckEx+0x1e`, `hal!HalpHpetClockInterrupt`.
    static func isModuleSymbol(_ t: ArraySlice<UInt8>) -> Bool {
        guard let bang = t.firstIndex(of: UInt8(ascii: "!")), bang > t.startIndex, bang + 1 < t.endIndex else { return false }
        return t[t.startIndex..<bang].allSatisfy(isSymbolByte)
    }

    static func skipBlanks(_ s: inout ByteScanner) -> Bool {
        guard s.peek == 0x20 || s.peek == 0x09 else { return false }
        s.skipSpaces()
        return true
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
}
