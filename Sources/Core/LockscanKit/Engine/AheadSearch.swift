import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import CByteSearch
import LockscanInput

/// The trigger search over the far part of a large regular file, run on a
/// second core while the engine reads the near part.
///
/// On an ordinary log the search for trigger words is most of a scan's time
/// (about 70% on a 1 GiB dmesg), and every other step needs the lines in
/// order. So the file is not split into two scans whose reports would have
/// to be stitched at the seam: one engine reads the whole file in order, as
/// with one core, and only the question "which is the next line holding a
/// trigger?" is answered ahead for the far part. The answers are the lines
/// the engine's own search would find (the same search on the same bytes,
/// line by line), so the events are the same with one core or two by
/// construction; `ParallelScanTests` checks it on every capture at several
/// split points.
///
/// The far part is read with `pread` on the engine's own descriptor into a
/// reused buffer, never mapped (see `OpenedInput`: a file truncated under a
/// mapping is SIGBUS). If it cannot be read (the file shrank), the search
/// stops and the engine searches the rest itself.
final class AheadSearch: @unchecked Sendable {
    /// Where the far part starts: a line start.
    let start: Int
    /// Where it ends: the file's size when it was opened, as the reader reads it.
    let end: Int

    enum Answer: Equatable {
        /// The start of the first line in the asked range holding a trigger.
        case line(Int)
        /// No line in the range holds one.
        case none
        /// The search stopped before the range: search it yourself.
        case unknown
    }

    private let fd: Int32
    private let search: TriggerSearch
    private let maxLine: Int
    private let lock = Condition()
    /// Starts of lines holding a trigger, ascending; `lines[head...]` are
    /// not yet passed by the engine.
    private var lines: [Int] = []
    private var head = 0
    /// Every such line before this offset is in `lines`.
    private var searchedTo: Int
    private var stopped = false
    private var cancelled = false
    private var thread: JoinableThread?

    /// How far the search may run ahead of the engine, in lines found: on a
    /// file where every line holds a trigger it must not hold them all.
    static let maxQueued = 1 << 18
    static let blockBytes = 4 << 20

    /// Starts the search, or nil when the file has no line start after
    /// `fraction` of it (one huge line) or is too small to be worth it.
    init?(fd: Int32, size: Int, fraction: Double, search: TriggerSearch, maxLineBytes: Int) {
        guard size > 0, fraction > 0, fraction < 1 else { return nil }
        let guess = Int(Double(size) * fraction)
        // The first line start at or after the guess.
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { probe.deallocate() }
        var at = max(0, guess - 1), found: Int?
        while found == nil, at < size, at - guess < maxLineBytes {
            let n = pread(fd, probe, 1 << 16, off_t(at))
            guard n > 0 else { return nil }
            if let nl = memchr(probe, 0x0A, n) { found = at + (nl - UnsafeMutableRawPointer(probe)) + 1 } else { at += n }
        }
        guard let s = found, s < size else { return nil }
        self.fd = fd
        self.start = s
        self.end = size
        self.search = search
        self.maxLine = maxLineBytes
        searchedTo = s
        guard let thread = JoinableThread({ [self] in self.run() }) else { return nil }
        self.thread = thread
    }

    /// The first line starting in [from, before) that holds a trigger; waits
    /// for the search to get there.
    func firstLine(from: Int, before: Int) -> Answer {
        lock.lock()
        defer { lock.unlock() }
        while true {
            while head < lines.count, lines[head] < from { head += 1 }
            if head < lines.count { return lines[head] < before ? .line(lines[head]) : .none }
            if searchedTo >= before { return .none }
            if stopped { return .unknown }
            if head > 0 {
                // All found lines are passed: let the search go on.
                lines.removeAll(keepingCapacity: true)
                head = 0
                lock.broadcast()
            }
            lock.wait()
        }
    }

    /// Ends the search (the engine is done with the input, or stopped
    /// early) and waits for its thread, which reads the engine's descriptor.
    func cancel() {
        lock.lock()
        cancelled = true
        lock.broadcast()
        lock.unlock()
        thread?.join()
    }

    // MARK: The second core

    private func run() {
        let capacity = Self.blockBytes + maxLine + 1
        let buf = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buf.deallocate() }
        var offset = start   // of buf[0], always a line start
        var held = 0         // bytes in buf
        var skippingLongLine = false
        var found: [Int] = []
        defer {
            lock.lock()
            stopped = true
            lock.broadcast()
            lock.unlock()
        }
        while offset + held < end || held > 0 {
            let want = min(capacity - held, end - (offset + held))
            if want > 0 {
                let n = pread(fd, buf + held, want, off_t(offset + held))
                if n <= 0 { return }
                held += n
            }
            let whole: Int
            if let nl = lockscan_memrchr(buf, 0x0A, held) {
                whole = (nl - UnsafeRawPointer(buf)) + 1
            } else if offset + held >= end {
                whole = held // the last line, without its newline
            } else if held < capacity {
                continue // a short read: read on
            } else {
                // A line longer than the reader analyses as a line: the
                // engine reads it as an overlong line, not through the
                // search. Skip to its end.
                skippingLongLine = true
                offset += held
                held = 0
                continue
            }
            var from = 0
            if skippingLongLine {
                from = memchr(buf, 0x0A, whole).map { ($0 - buf) + 1 } ?? whole
                skippingLongLine = false
            }
            found.removeAll(keepingCapacity: true)
            while from < whole, let p = search.firstHit(buf, from: from, to: whole) {
                var lineStart = p
                while lineStart > from, buf.load(fromByteOffset: lineStart - 1, as: UInt8.self) != 0x0A { lineStart -= 1 }
                found.append(offset + lineStart)
                from = memchr(buf + p, 0x0A, whole - p).map { ($0 - buf) + 1 } ?? whole
            }
            if !publish(found, searchedTo: offset + whole) { return }
            if whole < held { memmove(buf, buf + whole, held - whole) }
            held -= whole
            offset += whole
        }
    }

    /// Hands found lines to the engine; false when cancelled.
    private func publish(_ found: [Int], searchedTo to: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while !cancelled, lines.count - head >= Self.maxQueued { lock.wait() }
        if cancelled { return false }
        if head > 0, head == lines.count {
            lines.removeAll(keepingCapacity: true)
            head = 0
        }
        lines += found
        searchedTo = to
        lock.broadcast()
        return true
    }
}
