/// A kernel line that a mail client, bug tracker or serial console broke in
/// two at its wrap column, and when the second physical line is clearly the
/// first one's tail.
///
/// Two shapes are rejoined, both conservative:
/// - **a frame cut in two**: the first line ends in an incomplete
///   `sym+0x…/0x…` token (`schedule+0x1a/0x`) and the next line's first token
///   completes it (`30`). A frame is never printed incomplete, in any log.
/// - **a stamped line's tail**: the first line carries a time stamp (so
///   every kernel line of this log does), the next one has none, does not
///   start with a blank (a stack line or a multi-line record's continuation
///   does), the break is where a wrap at some width
///   from `minWidth` to `maxWidth` columns puts it — the first line fits
///   (`≤ maxWidth`) and would not have fitted with the next word
///   (`> minWidth`; Bugzilla wraps at 80, mail clients at 72 to 78) — and
///   the line after the tail (or tails) is stamped again. A prompt, a note
///   or a crash session typed after a log line is not followed by the log.
///
/// Mail quote markers (`> `) on the continuation are dropped when the first
/// line has the same ones. The parts are joined without a separator when the
/// first ends in a blank (format=flowed keeps it), cuts a frame, or fills
/// `maxWidth` exactly (a character wrap, as serial consoles do); otherwise
/// the wrap took a space, which is put back.
public enum HardWrap {
    static let minWidth = 72
    static let maxWidth = 80

    /// Whether `line` could be the first part of a wrapped line (checked
    /// before the next line is read, so that only such lines wait for it).
    public static func mayContinue(_ line: [UInt8]) -> Bool {
        guard !line.isEmpty else { return false }
        if endsInPartialFrame(line) { return true }
        let length = trimmedLength(line)
        // Columns never exceed bytes, and a scalar is at most four bytes.
        if length <= maxWidth { return true }
        if length > 4 * maxWidth { return false }
        return columns(line[..<length]) <= maxWidth
    }

    /// What `next` adds when it is the tail of the physical line `last`:
    /// its text without the quote markers, whether a space goes before it,
    /// and whether that is certain (a frame) or holds only if a stamped line
    /// follows. Nil when `next` is not a tail. `stamped` says whether the
    /// logical line `last` ends began with a time stamp.
    public static func tail(of last: [UInt8], next: [UInt8], stamped: @autoclosure () -> Bool) -> Tail? {
        let depth = quotePrefix(last).markers
        var tail = next[...]
        if depth > 0 {
            let quote = quotePrefix(next)
            guard quote.markers == depth else { return nil }
            tail = next.dropFirst(quote.length)
        }
        guard let f = tail.first, f != 0x20, f != 0x09, f != UInt8(ascii: ">") else { return nil }
        let firstWord = tail.prefix { $0 != 0x20 && $0 != 0x09 }
        if endsInPartialFrame(last), isFrame(lastToken(last) + firstWord) { return Tail(text: tail, space: false, certain: true) }
        // The cheap test first (columns never exceed bytes): most lines of a
        // clean log fail it.
        let trimmedCount = trimmedLength(last)
        guard trimmedCount + 1 + firstWord.count > minWidth else { return nil }
        let width = columns(last[..<trimmedCount])
        let quoted = quotePrefix(last).length
        let widthUnquoted = quoted == 0 ? width : columns(last[quoted..<max(trimmedCount, quoted)])
        let wordWidth = columns(firstWord)
        let fits = { (w: Int) in w <= maxWidth && w + 1 + wordWidth > minWidth }
        guard fits(width) || fits(widthUnquoted) else { return nil }
        guard stamped(), !LinePrefix.hasAnyPrefix(Array(tail)) else { return nil }
        let charWrap = width == maxWidth || widthUnquoted == maxWidth
        return Tail(text: tail, space: !(trimmedCount < last.count || charWrap), certain: false)
    }

    public struct Tail {
        public var text: ArraySlice<UInt8>
        public var space: Bool
        public var certain: Bool
    }

    /// The token after the last blank.
    static func lastToken(_ b: [UInt8]) -> ArraySlice<UInt8> {
        let start = (b.lastIndex { $0 == 0x20 || $0 == 0x09 }).map { $0 + 1 } ?? 0
        return b[start...]
    }

    /// `sym+`, `sym+0x1a`, `sym+0x1a/`, `sym+0x1a/0`, `sym+0x1a/0x` at the
    /// very end (no blank after it), but not a whole frame.
    static func endsInPartialFrame(_ b: [UInt8]) -> Bool {
        // What such a token can end with: `+`, `x`, `/`, a hex digit.
        guard let last = b.last, isHex(last) || last == UInt8(ascii: "x") || last == UInt8(ascii: "/") || last == UInt8(ascii: "+")
        else { return false }
        let t = lastToken(b)
        return isFramePrefix(t) && !isFrame(t)
    }

    /// `[<…>] ` or `? ` never precede the token here: it is the text after the last blank.
    static func isFramePrefix(_ t: ArraySlice<UInt8>) -> Bool {
        guard let plus = t.firstIndex(of: UInt8(ascii: "+")), plus > t.startIndex,
              t[t.startIndex..<plus].allSatisfy(isSymbolByte) else { return false }
        // What may follow `+` in a frame being typed out: 0x hex [/ 0x hex].
        // Asked of nearly every line of a report: compared in place, with
        // no array made per call.
        var i = plus + 1
        var k = 0
        var slashSeen = false
        while i < t.endIndex {
            let b = t[i]
            if k < 2 {
                guard b == (k == 0 ? UInt8(ascii: "0") : UInt8(ascii: "x")) else { return false }
                k += 1
            } else if isHex(b) {
                // hex digits
            } else if b == UInt8(ascii: "/"), !slashSeen {
                slashSeen = true
                k = 0
            } else {
                return false
            }
            i += 1
        }
        return true
    }

    /// `sym+0x1a/0x30`, possibly with what follows a frame (` [module]`).
    static func isFrame(_ t: ArraySlice<UInt8>) -> Bool {
        var i = t.startIndex
        while i < t.endIndex, isSymbolByte(t[i]) { i += 1 }
        guard i > t.startIndex else { return false }
        /// `literal` then at least one hex digit, from `i` on.
        func skip(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
            guard t.endIndex - i >= 3, t[i] == a, t[i + 1] == b, t[i + 2] == c else { return false }
            i += 3
            let start = i
            while i < t.endIndex, isHex(t[i]) { i += 1 }
            return i > start
        }
        return skip(UInt8(ascii: "+"), UInt8(ascii: "0"), UInt8(ascii: "x")) && skip(UInt8(ascii: "/"), UInt8(ascii: "0"), UInt8(ascii: "x"))
            && i == t.endIndex
    }

    /// The `>` quote markers that start the line, and their bytes (each
    /// `>` with the one space after it).
    static func quotePrefix(_ b: some Collection<UInt8>) -> (markers: Int, length: Int) {
        var markers = 0
        var length = 0
        var i = b.startIndex
        while i < b.endIndex, b[i] == UInt8(ascii: ">") {
            markers += 1
            length += 1
            i = b.index(after: i)
            if i < b.endIndex, b[i] == 0x20 { i = b.index(after: i); length += 1 }
        }
        return (markers, length)
    }

    /// Columns a line takes: its Unicode scalars (UTF-8 bytes that are not
    /// continuation bytes); a tab counts as one, as wrapping tools count it.
    static func columns(_ b: ArraySlice<UInt8>) -> Int {
        var n = 0
        for c in b where c & 0xC0 != 0x80 { n += 1 }
        return n
    }

    /// The line's length without trailing blanks.
    static func trimmedLength(_ b: [UInt8]) -> Int {
        var e = b.count
        while e > 0, b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1 }
        return e
    }
}

extension LinePrefix {
    /// The line began with any prefix this parser knows (a clock, a level,
    /// a caller id, a host).
    var hasAnyPrefix: Bool { !clock.isEmpty || level != nil || callerID != nil || host != nil }

    /// `parse(line).hasAnyPrefix`, without the parse when the kernel's stamp opens it.
    static func hasAnyPrefix(_ line: [UInt8]) -> Bool { opensWithKernelStamp(line) || parse(line).hasAnyPrefix }
}
