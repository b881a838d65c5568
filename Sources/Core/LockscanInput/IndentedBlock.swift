/// A log pasted as a Markdown or forum code block: indented by four spaces or
/// a tab (more inside a list), or fenced with ``` / ~~~ whose fence may sit
/// on the first and last log line themselves (chat clients). The block's
/// indentation and the fence are not part of the messages. A fence on a
/// line of its own stays a line (it holds no message and breaks none).
///
/// Kernel stack lines are indented themselves, so nothing is stripped on
/// indentation alone. A block is recognised on a line where the indentation
/// hides a prefix (`    [  12.345678] …`, `\t<4>…`, `    Oct 30 06:21:23 host
/// kernel: …`): such prefixes are printed at column 0 by every tool, so the
/// blanks before them are the block's. That exact indentation is then the
/// block's and is stripped from the lines that follow while they carry it
/// (stack lines keep their own indentation after it); blank lines stay in
/// the block; the first non-blank line without it ends the block.
struct IndentedBlock {
    /// The block's indentation, while inside one.
    private(set) var indent: [UInt8]?

    /// How many leading bytes of `line` are block indentation or fence, to be
    /// dropped; 0 for a line outside any block. `contiguous` says the line
    /// directly follows the previous one given (a block is only followed
    /// line by line).
    mutating func strip(_ line: [UInt8], contiguous: Bool) -> Int {
        if !contiguous { indent = nil }
        let lead = line.prefix { $0 == 0x20 || $0 == 0x09 }.count
        if let indent {
            if lead == line.count { return 0 } // blank: still in the block
            if line.starts(with: indent) { return indent.count + Self.fence(line, from: indent.count) }
            self.indent = nil
        }
        let fence = Self.fence(line, from: lead)
        let hidden = lead + fence
        guard hidden > 0, hidden < line.count else { return 0 }
        let rest = Array(line[hidden...])
        if LinePrefix.hasAnyPrefix(rest) {
            // A fence opening on a log line belongs to that line only.
            if lead > 0 { indent = Array(line[..<lead]) }
            return hidden
        }
        // ```` ```crash> bt ````: text with a blank after an opening fence is
        // content (an info string is one word, ```` ```text ````).
        if fence > 0, lead <= 3, rest.first != 0x20, rest.contains(0x20) { return hidden }
        return 0
    }

    /// Bytes of a fence (three or more backticks or tildes, as CommonMark
    /// has them) at `from`.
    static func fence(_ line: [UInt8], from: Int) -> Int {
        guard from < line.count, line[from] == UInt8(ascii: "`") || line[from] == UInt8(ascii: "~") else { return 0 }
        let c = line[from]
        var n = 0
        while from + n < line.count, line[from + n] == c { n += 1 }
        return n >= 3 ? n : 0
    }

    /// Bytes of a closing fence of backticks at the end of a line with text
    /// before it (```` …``` ````, as chat clients close a block), with the
    /// blanks before it. No log line ends in three backticks.
    static func closingFence(_ line: [UInt8]) -> Int {
        guard let last = line.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }), line[last] == UInt8(ascii: "`") else { return 0 }
        let trimmed = line[...last]
        let c = line[last]
        var n = 0
        while n < trimmed.count, trimmed[last - n] == c { n += 1 }
        guard n >= 3, trimmed[..<(last + 1 - n)].contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return 0 }
        return line.count - (last + 1 - n)
    }
}
