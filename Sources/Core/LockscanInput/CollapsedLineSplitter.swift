#if canImport(Glibc)
import Glibc
#endif

/// Splits a line that holds several log lines, as happens when a log is pasted
/// into a ticket or web form that drops newlines. A new message is taken to
/// start at each `[ seconds.micro]` stamp after the first, where a host or
/// debugger session's own line structure starts (`SessionLineStarts`:
/// libvirt stamps, crash `bt`, WinDbg) and, inside a message holding two or
/// more frames, at each frame and section marker.
///
/// A normal line is returned whole: splitting needs a second six-digit
/// timestamp, two starts of one session's lines or a second `sym+0x…/0x…`
/// frame, which single messages do not print.
public enum CollapsedLineSplitter {
    public struct Piece {
        public var bytes: [UInt8]
        public var offset: Int
    }

    public static func pieces(_ line: [UInt8], splitting: Bool = true) -> [Piece] {
        guard splitting, line.count >= 40 else { return [Piece(bytes: line, offset: 0)] }
        var cuts: [Int] = []
        // Every line that becomes a record passes here, and nearly none is
        // collapsed: two stamps need two `[`, so a line with one is not parsed.
        let stamps = occursTwice(line, "[") ? timestampStarts(line) : []
        if stamps.count >= 2 {
            cuts = stamps.filter { $0 > 0 }
            // Keep what precedes the first stamp (a syslog or console column) with it.
            if let firstStamp = stamps.first, firstStamp > 0 { cuts.removeAll { $0 == firstStamp } }
        }
        let sessionCuts = SessionLineStarts.cuts(line)
        if !sessionCuts.isEmpty { cuts = Array(Set(cuts + sessionCuts)).sorted() }
        // Nearly every line: one piece, the line without its trailing blanks
        // (what the loop below makes of it, without its arrays).
        if cuts.isEmpty { return splitFrames(Piece(bytes: line.trimmingTrailingSpaces(), offset: 0)) }
        var pieces: [Piece] = []
        var prev = 0
        for c in cuts + [line.count] where c > prev {
            // The whole line (no cut: nearly every line) is not copied.
            let piece = prev == 0 && c == line.count ? line : Array(line[prev..<c])
            pieces.append(Piece(bytes: piece.trimmingTrailingSpaces(), offset: prev))
            prev = c
        }
        if pieces.isEmpty { pieces = [Piece(bytes: line, offset: 0)] }
        return pieces.flatMap(splitFrames)
    }

    /// Positions of `[` starting `[ digits.dddddd]` preceded by start or whitespace.
    static func timestampStarts(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "["), i == 0 || b[i - 1] == 0x20 || b[i - 1] == 0x09 || b[i - 1] == UInt8(ascii: ">") {
                var j = i + 1
                while j < b.count, b[j] == 0x20 { j += 1 }
                let d0 = j
                while j < b.count, isDigit(b[j]) { j += 1 }
                if j > d0, j < b.count, b[j] == UInt8(ascii: ".") {
                    j += 1
                    let f0 = j
                    while j < b.count, isDigit(b[j]) { j += 1 }
                    if j - f0 == 6, j < b.count, b[j] == UInt8(ascii: "]") { out.append(i) }
                }
            }
            i += 1
        }
        return out
    }

    /// Inside one message: cut before each frame / marker when it holds two or more frames.
    static func splitFrames(_ piece: Piece) -> [Piece] {
        let b = piece.bytes
        // Two frames hold `+0x` twice (each at its own offset): a piece
        // holding it once or never has no two frames to cut between.
        guard occursTwice(b, "+0x") else { return [piece] }
        let starts = frameStarts(b)
        guard starts.count >= 2 else { return [piece] }
        var out: [Piece] = []
        var prev = 0
        for c in starts where c > prev {
            out.append(Piece(bytes: Array(b[prev..<c]).trimmingTrailingSpaces(), offset: piece.offset + prev))
            prev = c
        }
        out.append(Piece(bytes: Array(b[prev...]), offset: piece.offset + prev))
        return out
    }

    /// Starts of ` sym+0x…/0x…` tokens (with a preceding `? ` or `[<addr>] `)
    /// and of `<NMI>`-style markers.
    static func frameStarts(_ b: [UInt8]) -> [Int] {
        var frames: [Int] = []
        var i = 1
        while i < b.count {
            if b[i - 1] == 0x20, isSymbolByte(b[i]) {
                var j = i
                while j < b.count, isSymbolByte(b[j]) { j += 1 }
                if j + 3 < b.count, b[j] == UInt8(ascii: "+"), b[j + 1] == UInt8(ascii: "0"), b[j + 2] == UInt8(ascii: "x") {
                    var k = j + 3
                    while k < b.count, isHex(b[k]) { k += 1 }
                    if k + 2 < b.count, b[k] == UInt8(ascii: "/"), b[k + 1] == UInt8(ascii: "0"), b[k + 2] == UInt8(ascii: "x") {
                        var start = i
                        // Pull a preceding "? " and "[<addr>] " into the frame.
                        if start >= 3, b[start - 2] == UInt8(ascii: "?"), b[start - 3] == 0x20 { start -= 2 }
                        if start >= 2, b[start - 2] == UInt8(ascii: "]") {
                            var m = start - 2
                            while m > 0, b[m] != UInt8(ascii: "[") { m -= 1 }
                            if m + 1 < b.count, b[m + 1] == UInt8(ascii: "<") { start = m }
                        }
                        frames.append(start)
                        i = k
                        continue
                    }
                }
                i = j
                continue
            }
            i += 1
        }
        guard frames.count >= 2 else { return [] }
        var out = frames
        // Markers such as ` <NMI>`/`</IRQ>`/`<TASK>` and `Call Trace:` also start lines.
        for marker in ["<NMI>", "</NMI>", "<IRQ>", "</IRQ>", "<TASK>", "</TASK>", "<<EOE>>", "<EOI>", "Call Trace:"] {
            let m = Array(marker.utf8)
            var p = 1
            while p + m.count <= b.count {
                if b[p - 1] == 0x20, Array(b[p..<(p + m.count)]) == m, !out.contains(p) { out.append(p) }
                p += 1
            }
        }
        return out.sorted()
    }
}

extension CollapsedLineSplitter {
    /// Whether `needle` occurs at two different offsets of `b` (overlaps
    /// count). `memchr` to each candidate first byte, then a compare: two
    /// `memmem` calls cost ~240 instructions a line, most of it set-up.
    static func occursTwice(_ b: [UInt8], _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return b.count >= 1 }
        let first = Int32(needle.utf8Start.pointee)
        return b.withUnsafeBytes { h in
            guard let base = h.baseAddress else { return false }
            var found = 0
            var from = 0
            while from < h.count, let hit = memchr(base + from, first, h.count - from) {
                let i = base.distance(to: UnsafeRawPointer(hit))
                if n <= h.count - i, memcmp(base + i, needle.utf8Start, n) == 0 {
                    found += 1
                    if found == 2 { return true }
                }
                from = i + 1
            }
            return false
        }
    }
}

extension Array where Element == UInt8 {
    func trimmingTrailingSpaces() -> [UInt8] {
        var e = count
        while e > 0, self[e - 1] == 0x20 || self[e - 1] == 0x09 { e -= 1 }
        return e == count ? self : Array(self[..<e])
    }
}
