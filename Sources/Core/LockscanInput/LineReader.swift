import CByteSearch
#if canImport(Glibc)
import Glibc
#endif

/// A piece of an input handed to a reader's consumer. The bytes are only
/// valid during the call.
public struct LineChunk {
    public enum Kind: Sendable {
        /// Whole lines, each ending in "\n" except the input's last line when
        /// the input does not end with a newline.
        case lines
        /// The first `InputLimits.maxLineBytes` of a line longer than that:
        /// analysed as if it were the whole line.
        case overlongLine
        /// The rest of an overlong line, not analysed but still there to be
        /// passed through; the chunk that ends with "\n" ends the line.
        case overlongRest
    }

    public let kind: Kind
    public let bytes: UnsafeRawBufferPointer
    /// 1-based number of the first line that starts in `bytes` (for
    /// `overlongRest`: of the line it continues).
    public let firstLine: Int
    /// Offset of `bytes` in the (decompressed) input.
    public let byteOffset: Int
}

/// The one reader of user input for every command: files, standard input,
/// pipes and FIFOs, gzip/xz/zstd recognised by their magic bytes and
/// decompressed in-process, all in bounded memory.
///
/// It hands out whole lines with exact byte ranges and 1-based line numbers,
/// as soon as a read completes them (so `dmesg -w | lockscan symbolize` echoes
/// each line when it arrives), and never changes a byte: text that is not
/// UTF-8, a line over the length limit, an input that does not end, a file
/// that grows while read, a corrupt or truncated compressed stream are
/// diagnostics, collected in `diagnostics`.
public final class LineReader {
    public let name: String
    public let limits: InputLimits
    public private(set) var compression: Compression?
    /// Bytes read from the input after decompression.
    public private(set) var bytesRead = 0
    /// Lines read so far; after `read`, all of them (a last line without a
    /// newline counts).
    public private(set) var lineCount = 0
    public private(set) var diagnostics: [Diagnostic] = []
    /// Lines holding bytes that are not well-formed UTF-8.
    public private(set) var invalidUTF8Lines = 0
    /// The first of them.
    public private(set) var firstInvalidUTF8Line: Int?

    private let input: OpenedInput

    /// A regular file (its size known when opened): all of it is there to be
    /// read, so a consumer may gather before answering; on a pipe or a
    /// terminal more may never come, so it answers what it has.
    public var isRegularFile: Bool { input.kind == .regular }

    /// A regular file read as it is (not decompressed), for a second reader
    /// of the same bytes (the engine's search ahead): its descriptor, for
    /// `pread` only, and the size it is read up to.
    public var plainRegularFile: (fd: Int32, size: Int)? {
        guard input.kind == .regular, compression == nil, let size = input.sizeAtOpen, size <= Int64(Int.max) else { return nil }
        return (input.fd, Int(size))
    }
    private var decompressor: Decompressor?
    private var compressed: CompressedBuffer?
    private var streamBudget: Int64
    private var stoppedAtStreamBudget = false

    private init(input: OpenedInput, limits: InputLimits) {
        self.input = input
        name = input.name
        self.limits = limits
        streamBudget = limits.maxStreamBytes
    }

    /// Opens an input; a failure is the diagnostic to print (no such file, a
    /// directory, permission denied).
    /// `follow`: read it as `tail -f` does, without an end of its own
    /// (`FollowSettings`).
    public static func open(_ spec: InputSpec, limits: InputLimits = InputLimits(), follow: FollowSettings? = nil) -> Result<LineReader, Diagnostic> {
        OpenedInput.open(spec, limits: limits, follow: follow).map { LineReader(input: $0, limits: limits) }
    }

    /// Told, while a followed input is silent, how long it has been; set
    /// only during `read`.
    private var paused: ((FollowPause) -> Void)?

    /// The run was told to stop (SIGINT, SIGTERM) while the input was followed.
    public var stoppedBySignal: Bool { input.stoppedBySignal }

    private func diagnose(_ line: Int?, _ message: String) {
        diagnostics.append(Diagnostic(file: name, line: line, message: message))
    }

    /// Reads the input to its end (or its bound), calling `consume` with each
    /// chunk in order. A followed input also calls `paused` while it waits
    /// for more, after every line it had was consumed.
    public func read(_ consume: (LineChunk) -> Void, paused: (FollowPause) -> Void = { _ in }) {
        withoutActuallyEscaping(paused) { paused in
            self.paused = paused
            defer { self.paused = nil }
            readAll(consume)
        }
    }

    private func readAll(_ consume: (LineChunk) -> Void) {
        let maxLine = limits.maxLineBytes
        let capacity = limits.chunkBytes + maxLine
        let buf = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buf.deallocate() }
        var start = 0, end = 0
        var offsetOfStart = 0
        var skipping = false       // inside an overlong line
        var overlongLine = 0
        var overlongLength = 0

        /// The bytes after the last newline: the last line (or the end of an
        /// overlong one).
        func endOfBytes() {
            if end > start {
                if skipping {
                    overlongLength += end - start
                    consume(LineChunk(kind: .overlongRest, bytes: UnsafeRawBufferPointer(start: buf + start, count: end - start),
                                      firstLine: overlongLine, byteOffset: offsetOfStart))
                } else {
                    deliverLines(buf + start, end - start, offset: offsetOfStart, consume)
                }
            }
            if skipping {
                lineCount += 1
                endOverlong(overlongLine, overlongLength)
                skipping = false
            }
        }

        guard let first = readHead(into: buf, capacity: capacity) else { return finish() }
        end = first

        while true {
            if !skipping, let last = lockscan_memrchr(buf + start, 0x0A, end - start) {
                let stop = (last - UnsafeRawPointer(buf)) + 1
                deliverLines(buf + start, stop - start, offset: offsetOfStart, consume)
                offsetOfStart += stop - start
                start = stop
            } else if skipping, end > start {
                let piece: Int
                if let nl = memchr(buf + start, 0x0A, end - start) {
                    piece = (nl - UnsafeMutableRawPointer(buf)) + 1 - start
                    skipping = false
                } else {
                    piece = end - start
                }
                overlongLength += piece
                consume(LineChunk(kind: .overlongRest, bytes: UnsafeRawBufferPointer(start: buf + start, count: piece),
                                  firstLine: overlongLine, byteOffset: offsetOfStart))
                offsetOfStart += piece
                start += piece
                if !skipping {
                    lineCount += 1
                    endOverlong(overlongLine, overlongLength)
                }
                continue
            } else if end - start >= maxLine {
                // No newline within the limit: analyse the first part, pass
                // the rest through without holding it.
                overlongLine = lineCount + 1
                overlongLength = maxLine
                checkUTF8(buf + start, maxLine, firstLine: overlongLine, partialEndOK: true)
                consume(LineChunk(kind: .overlongLine, bytes: UnsafeRawBufferPointer(start: buf + start, count: maxLine),
                                  firstLine: overlongLine, byteOffset: offsetOfStart))
                offsetOfStart += maxLine
                start += maxLine
                skipping = true
                continue
            }
            // Need more bytes: keep the partial line at the front.
            if start > 0 {
                if end > start { memmove(buf, buf + start, end - start) }
                end -= start
                start = 0
            }
            let n = fill(buf + end, capacity - end)
            if n <= 0 {
                // A followed file that started over: what the old one held
                // after its last newline is a line of its own.
                guard let restart = input.takeRestart() else { break }
                endOfBytes()
                offsetOfStart += end - start
                start = 0
                end = 0
                diagnose(lineCount + 1, restart)
                continue
            }
            end += n
        }
        endOfBytes()
        finish()
    }

    private func endOverlong(_ line: Int, _ length: Int) {
        let mib = Double(length) / 1_048_576
        let shown = mib >= 10 ? String(Int(mib)) : String(Double(Int(mib * 10)) / 10)
        diagnose(line, "line of \(shown) MiB is longer than the \(Self.size(limits.maxLineBytes)) limit; only its first \(Self.size(limits.maxLineBytes)) were analysed (--max-line-size raises the limit)")
    }

    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// Whole lines as they sit in the buffer. A line over the limit can be
    /// among them when it arrived in one read with its newline: it is cut
    /// here exactly as one that outgrew the buffer is. Looking for one costs
    /// a `memrchr` per `maxLineBytes` of input: a window that holds a newline
    /// cannot hold the start of a longer line before it.
    private func deliverLines(_ p: UnsafeMutableRawPointer, _ count: Int, offset: Int, _ consume: (LineChunk) -> Void) {
        let maxLine = limits.maxLineBytes
        var start = 0
        while start < count {
            var pos = start
            var long: Int?
            while count - pos > maxLine {
                guard let nl = lockscan_memrchr(p + pos, 0x0A, maxLine + 1) else { long = pos; break }
                pos = (nl - UnsafeRawPointer(p)) + 1
            }
            guard let l = long else {
                deliverWholeLines(p + start, count - start, offset: offset + start, consume)
                return
            }
            if l > start { deliverWholeLines(p + start, l - start, offset: offset + start, consume) }
            let rest = l + maxLine
            let end = memchr(p + rest, 0x0A, count - rest).map { (UnsafeMutableRawPointer($0) - p) + 1 } ?? count
            let line = lineCount + 1
            checkUTF8(p + l, maxLine, firstLine: line, partialEndOK: true)
            consume(LineChunk(kind: .overlongLine, bytes: UnsafeRawBufferPointer(start: p + l, count: maxLine),
                              firstLine: line, byteOffset: offset + l))
            consume(LineChunk(kind: .overlongRest, bytes: UnsafeRawBufferPointer(start: p + rest, count: end - rest),
                              firstLine: line, byteOffset: offset + rest))
            lineCount += 1
            endOverlong(line, end - l)
            start = end
        }
    }

    /// Whole lines, none over the limit: counted, checked for UTF-8, handed on.
    private func deliverWholeLines(_ p: UnsafeMutableRawPointer, _ count: Int, offset: Int, _ consume: (LineChunk) -> Void) {
        guard count > 0 else { return }
        let firstLine = lineCount + 1
        var ascii: Int32 = 0
        var lines = lockscan_count_lines_ascii(p.assumingMemoryBound(to: UInt8.self), count, &ascii)
        if p.load(fromByteOffset: count - 1, as: UInt8.self) != 0x0A { lines += 1 }
        if ascii == 0 { checkUTF8(p, count, firstLine: firstLine, partialEndOK: false) }
        lineCount += lines
        consume(LineChunk(kind: .lines, bytes: UnsafeRawBufferPointer(start: p, count: count), firstLine: firstLine, byteOffset: offset))
    }

    /// Counts the lines of p[0..<count] that are not UTF-8, in one pass that
    /// skips ASCII eight bytes at a time.
    private func checkUTF8(_ p: UnsafeMutableRawPointer, _ count: Int, firstLine: Int, partialEndOK: Bool) {
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        var pos = 0
        var line = firstLine
        var counted = 0 // newlines counted up to `counted`
        while pos < count {
            let bad = pos + lockscan_utf8_invalid(bytes + pos, count - pos, partialEndOK ? 1 : 0)
            if bad >= count { return }
            line += lockscan_count_byte(bytes + counted, bad - counted, 0x0A)
            invalidUTF8Lines += 1
            if firstInvalidUTF8Line == nil { firstInvalidUTF8Line = line }
            guard let nl = memchr(bytes + bad, 0x0A, count - bad) else { return }
            let next = (UnsafeMutableRawPointer(nl) - p) + 1
            counted = next
            line += 1
            pos = next
        }
    }

    /// The first read: at least enough bytes to tell compression by its
    /// magic, then a decompressor set up when one is needed.
    private func readHead(into buf: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        var got = 0
        while got < Compression.magicBytes {
            let n = rawRead(buf + got, capacity - got)
            if n <= 0 { break }
            got += n
        }
        guard got > 0 else { return nil }
        guard let c = Compression.detect(UnsafeRawBufferPointer(start: buf, count: got)) else {
            bytesRead = got
            return got
        }
        compression = c
        let feedCapacity = max(limits.chunkBytes, got)
        let cb = CompressedBuffer(capacity: feedCapacity)
        cb.prime(UnsafeRawBufferPointer(start: buf, count: got))
        compressed = cb
        do {
            switch c {
            case .gzip: decompressor = try GzipDecompressor(input: cb)
            case .xz: decompressor = try XzDecompressor(input: cb)
            case .zstd: decompressor = try ZstdDecompressor(input: cb)
            }
        } catch {
            diagnose(nil, error.message)
            return nil
        }
        let n = fill(buf, capacity)
        return n > 0 ? n : nil
    }

    private func rawRead(_ p: UnsafeMutableRawPointer, _ count: Int) -> Int {
        let n = input.read(into: p, count: count, paused: paused ?? { _ in })
        if n < 0 { diagnose(nil, "read error: \(String(cString: strerror(errno)))") }
        return n
    }

    /// Decompressed (or plain) bytes into p; 0 at the end, or at the bound.
    private func fill(_ p: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let d = decompressor else {
            let n = rawRead(p, count)
            if n > 0 { bytesRead += n }
            return n
        }
        if streamBudget <= 0 {
            stoppedAtStreamBudget = true
            return 0
        }
        let want = Int(min(Int64(count), streamBudget))
        do {
            let n = try d.decompress(into: p, capacity: want) { q, m in max(0, rawRead(q, m)) }
            bytesRead += n
            streamBudget -= Int64(n)
            if streamBudget <= 0 {
                // Stop only when more would have followed.
                var probe: UInt8 = 0
                if (try? d.decompress(into: &probe, capacity: 1) { q, m in max(0, rawRead(q, m)) }) == 1 {
                    stoppedAtStreamBudget = true
                }
            }
            return n
        } catch {
            diagnose(nil, error.message + "; \(Self.size(bytesRead)) were decompressed before it")
            decompressor = nil
            streamBudget = 0
            return 0
        }
    }

    private func finish() {
        if let first = firstInvalidUTF8Line {
            let more = invalidUTF8Lines > 1 ? " (and on \(invalidUTF8Lines - 1) more line\(invalidUTF8Lines == 2 ? "" : "s"))" : ""
            diagnose(first, "invalid UTF-8\(more); the bytes were kept as they are")
        }
        if input.stoppedAtBound, let bound = input.bytesBound {
            diagnose(nil, "stopped after \(Self.size(Int(bound))): \(input.boundDescription) that did not end (no log is that long; give a regular file, or raise --max-stream-size, to read more)")
        }
        if stoppedAtStreamBudget {
            diagnose(nil, "stopped after \(Self.size(Int(limits.maxStreamBytes))) of decompressed \(compression?.rawValue ?? "") data (a decompression bomb? --max-stream-size raises the bound)")
        }
        if let grew = input.growthSinceOpen() {
            diagnose(nil, "grew by \(grew) bytes while it was read; only what it held when lockscan opened it was analysed")
        }
        diagnostics.sort { ($0.line ?? 0) < ($1.line ?? 0) }
    }
}
