/// One line as the pasted text meant it: physical lines joined back
/// (quoted-printable soft breaks, hard wraps, a syslog broadcast's two
/// lines), a code block's indentation dropped.
public struct LogicalLine: Equatable {
    public var bytes: [UInt8]
    /// The number of its first physical line.
    public var line: Int
    /// The number of its last physical line (`line` unless lines were joined).
    public var lastLine: Int
    /// Input bytes it came from: `offset..<offset + span`.
    public var offset: Int
    public var span: Int
    /// `bytes` are exactly the input's bytes at `offset` (at most a leading
    /// indentation was dropped), so a piece of it has an exact offset too.
    public var exact: Bool
}

/// Physical lines of a `log` input in, the lines a paste meant out (see
/// docs/input-formats.md, "Pasted text"): the input layer's one piece of
/// state between lines.
///
/// Each form is recognised by its structure and is off for clean logs:
/// quoted-printable only when the input's head is encoded
/// (`QuotedPrintable.detect`), a code block only where its indentation
/// hides a prefix (`IndentedBlock`), a hard wrap only where the tail is
/// clearly one (`HardWrap`), a broadcast only after its header
/// (`SyslogBroadcast`). A line that cannot be joined is passed on as it is.
///
/// Forms that span lines need the lines in order: while `needsNextLine`
/// the reader must hand over the next physical line even if it would have
/// skipped it (the engine skips lines without a trigger).
public struct PastedLines {
    public let quotedPrintable: Bool
    /// A joined line stops growing at this size (a mail or paste never
    /// holds a longer one); the rest is passed on as lines of its own.
    static let maxJoined = 1 << 16

    private var qp: LogicalLine?
    /// A line that may be the first part of a hard wrap, with the tails
    /// that wait for a stamped line to confirm them.
    private var held: Held?
    private struct Held {
        var line: LogicalLine
        var lastSegment: [UInt8]
        var tails: [(line: LogicalLine, tail: HardWrap.Tail)] = []

        /// The line with its tails joined on.
        var joined: LogicalLine {
            var l = line
            for t in tails {
                l.bytes += (t.tail.space ? [0x20] : []) + t.tail.text
                l.span = t.line.offset + t.line.span - l.offset
                l.lastLine = t.line.lastLine
                l.exact = false
            }
            return l
        }

        /// The line and its unconfirmed tails as they were.
        func separately(_ emit: (LogicalLine) -> Void) {
            emit(line)
            for t in tails { emit(t.line) }
        }
    }
    private var broadcast: (header: LogicalLine, stamp: [UInt8], host: [UInt8])?
    private var blanksAfterBroadcast: [LogicalLine] = []
    private var afterBroadcast = false
    private var block = IndentedBlock()
    private var lastLine = 0

    /// Lines a reader that skips lines must still hand over: where a form
    /// spanning lines starts without any analyzer's trigger in it (a
    /// broadcast header).
    public static let triggers = ["Message from "]

    public init(quotedPrintable: Bool) {
        self.quotedPrintable = quotedPrintable
    }

    /// The next physical line must be handed over: a form is open.
    public var needsNextLine: Bool {
        quotedPrintable || held != nil || broadcast != nil || afterBroadcast || block.indent != nil
    }

    /// One physical line (without its line end).
    public mutating func add(_ bytes: [UInt8], line: Int, offset: Int, emit: (LogicalLine) -> Void) {
        let contiguous = line == lastLine + 1
        lastLine = line
        if !contiguous { flush(emit) }
        var physical = LogicalLine(bytes: bytes, line: line, lastLine: line, offset: offset, span: bytes.count, exact: true)
        if quotedPrintable {
            let (decoded, soft) = QuotedPrintable.decode(bytes)
            if var open = qp {
                open.bytes += decoded
                open.span = offset + bytes.count - open.offset
                open.lastLine = line
                open.exact = false
                qp = open
            } else {
                physical.exact = decoded == bytes
                physical.bytes = decoded
                qp = physical
            }
            if soft, qp!.bytes.count < Self.maxJoined { return }
            physical = qp!
            qp = nil
        }
        logical(physical, contiguous: contiguous, emit)
    }

    /// At the end of the input: whatever is still open.
    public mutating func finish(_ emit: (LogicalLine) -> Void) {
        if let open = qp {
            qp = nil
            logical(open, contiguous: true, emit)
        }
        flush(emit)
    }

    private mutating func flush(_ emit: (LogicalLine) -> Void) {
        if let h = held { h.separately(emit); held = nil }
        if let b = broadcast { emit(b.header); broadcast = nil }
        for blank in blanksAfterBroadcast { emit(blank) }
        blanksAfterBroadcast = []
        afterBroadcast = false
    }

    private mutating func logical(_ l: LogicalLine, contiguous: Bool, _ emit: (LogicalLine) -> Void) {
        var l = l
        let blank = l.bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 }
        // Broadcasts: the header waits for its message, blank lines around
        // broadcasts are the terminal's.
        if let b = broadcast {
            if blank { return }
            broadcast = nil
            if let message = SyslogBroadcast.message(l.bytes, stamp: b.stamp, host: b.host) {
                if let h = held { h.separately(emit); held = nil }
                emit(LogicalLine(bytes: message, line: b.header.line, lastLine: l.lastLine, offset: b.header.offset,
                                 span: l.offset + l.span - b.header.offset, exact: false))
                afterBroadcast = true
                return
            }
            pass(b.header, emit)
        }
        if let header = SyslogBroadcast.header(l.bytes) {
            if let h = held { h.separately(emit); held = nil }
            blanksAfterBroadcast = []
            afterBroadcast = false
            broadcast = (l, header.stamp, header.host)
            return
        }
        if afterBroadcast {
            if blank { blanksAfterBroadcast.append(l); return }
            for b in blanksAfterBroadcast { emit(b) }
            blanksAfterBroadcast = []
            afterBroadcast = false
        }
        // Code block indentation and fences.
        let strip = block.strip(l.bytes, contiguous: contiguous)
        if strip > 0 {
            l.bytes.removeFirst(strip)
            l.offset += strip
            l.span -= strip
        }
        let fence = IndentedBlock.closingFence(l.bytes)
        if fence > 0 {
            l.bytes.removeLast(fence)
            l.span -= fence
        }
        pass(l, emit)
    }

    /// Hard wraps: a line that may be the first part of one waits for the
    /// next; a tail that is not certain waits for a stamped line after it.
    private mutating func pass(_ l: LogicalLine, _ emit: (LogicalLine) -> Void) {
        if var h = held {
            held = nil
            if !h.tails.isEmpty, Self.isStamped(l.bytes) {
                emit(h.joined)
            } else if h.line.span + l.span < Self.maxJoined,
                      let tail = HardWrap.tail(of: h.lastSegment, next: l.bytes, stamped: Self.isStamped(h.line.bytes)) {
                h.tails.append((l, tail))
                h.lastSegment = l.bytes
                if h.tails.allSatisfy(\.tail.certain) {
                    h.line = h.joined
                    h.tails = []
                    if !HardWrap.mayContinue(l.bytes) { emit(h.line); return }
                }
                held = h
                return
            } else {
                h.separately(emit)
            }
        }
        if HardWrap.mayContinue(l.bytes) {
            held = Held(line: l, lastSegment: l.bytes)
        } else {
            emit(l)
        }
    }

    static func isStamped(_ line: [UInt8]) -> Bool { LinePrefix.opensWithKernelStamp(line) || !LinePrefix.parse(line).clock.isEmpty }
}
