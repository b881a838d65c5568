import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CByteSearch

/// A problem with an input that the user must hear about. Any diagnostic
/// makes `scan` exit 2 after everything readable was analysed.
public struct Diagnostic: Codable, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// What the scan learned about one input.
public struct InputSummary: Codable, Sendable {
    public var file: String
    public var format: String?
    public var compression: String?
    public var lines: Int
    public var bytes: Int
    public var events: Int
    public var diagnostics: [Diagnostic]
}

/// Where an input comes from.
public enum InputSpec: Sendable {
    case path(String)
    case standardInput

    public var displayName: String {
        switch self {
        case let .path(p): p
        case .standardInput: "(standard input)"
        }
    }
}

public struct ScanOptions: Sendable {
    public var format: InputFormat?
    /// Lines longer than this are cut: the first part is analysed, the rest
    /// skipped with a diagnostic, so one runaway line cannot exhaust memory.
    public var maxLineBytes: Int
    public var readSize: Int

    public init(format: InputFormat? = nil, maxLineBytes: Int = 16 << 20, readSize: Int = 1 << 20) {
        self.format = format
        self.maxLineBytes = maxLineBytes
        self.readSize = readSize
    }
}

/// Streams inputs through analyzers.
///
/// Bytes are read in chunks and searched for the analyzers' trigger strings
/// with `memmem`; only lines that contain a trigger, or that follow one while
/// an analyzer is collecting a report, become `String`s and `Record`s. Lines
/// in between are only counted. Memory is one chunk plus the longest line
/// (capped) plus what analyzers keep.
public final class ScanEngine {
    public let descriptors: [AnalyzerDescriptor]
    public let options: ScanOptions

    public init(analyzers: [AnalyzerDescriptor], options: ScanOptions = ScanOptions()) {
        self.descriptors = analyzers
        self.options = options
    }

    /// Instances of `AnalyzerScope.run` analyzers, by descriptor index: one
    /// per engine, fed by every `scan` call, finished by `finishRun`.
    var runAnalyzers: [Int: any Analyzer] = [:]
    /// Display names of the inputs scanned so far, by input index.
    var inputNames: [Int: String] = [:]

    func runAnalyzer(_ index: Int) -> any Analyzer {
        if let a = runAnalyzers[index] { return a }
        let a = descriptors[index].make()
        runAnalyzers[index] = a
        return a
    }

    /// After the last input: lets analyzers that span all inputs
    /// (`AnalyzerScope.run`) emit what needed more than one file. Returns
    /// their input diagnostics.
    public func finishRun(emit: (Event) -> Void) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for index in runAnalyzers.keys.sorted() {
            let a = runAnalyzers[index]!
            a.finish { e in
                var e = e
                e.source.file = e.source.inputIndex.flatMap { inputNames[$0] } ?? ""
                emit(e)
            }
            for var d in a.inputDiagnostics {
                if d.file.isEmpty { d.file = "(all inputs)" }
                diagnostics.append(d)
            }
        }
        runAnalyzers = [:]
        return diagnostics
    }

    /// Scans one input. Events go to `emit` as analyzers produce them; the
    /// summary carries the diagnostics.
    public func scan(_ input: InputSpec, inputIndex: Int = 0, emit: (Event) -> Void) -> InputSummary {
        let name = input.displayName
        inputNames[inputIndex] = name
        var summary = InputSummary(file: name, format: nil, compression: nil, lines: 0, bytes: 0, events: 0, diagnostics: [])
        let fd: Int32
        switch input {
        case .standardInput:
            fd = 0
        case let .path(path):
            var st = stat()
            if stat(path, &st) != 0 {
                summary.diagnostics.append(Diagnostic(file: name, message: String(cString: strerror(errno))))
                return summary
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                summary.diagnostics.append(Diagnostic(file: name, message: "is a directory"))
                return summary
            }
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                summary.diagnostics.append(Diagnostic(file: name, message: String(cString: strerror(errno))))
                return summary
            }
        }
        defer { if fd != 0 { close(fd) } }
        return withoutActuallyEscaping(emit) { emit in
            let run = InputRun(engine: self, fd: fd, name: name, inputIndex: inputIndex, emit: emit)
            run.start()
            return run.summary
        }
    }
}

/// The state of scanning one input.
final class InputRun {
    let engine: ScanEngine
    let name: String
    let inputIndex: Int
    let emit: (Event) -> Void
    var fd: Int32
    var summary: InputSummary
    var analyzers: [any Analyzer] = []
    var collecting: [Bool] = []
    /// False for the shared instances of run-scoped analyzers, which must not
    /// be finished at the end of this input.
    var inputScoped: [Bool] = []
    var triggers: [[[UInt8]]] = []
    var allTriggers: [[UInt8]] = []
    var everyLine = false
    var format: InputFormat = .log
    var lineNumber = 0
    var byteBase = 0
    var reportedInvalidUTF8 = false
    var reportedNUL = false
    var decompressor: Process?

    init(engine: ScanEngine, fd: Int32, name: String, inputIndex: Int, emit: @escaping (Event) -> Void) {
        self.engine = engine
        self.fd = fd
        self.name = name
        self.inputIndex = inputIndex
        self.emit = emit
        summary = InputSummary(file: name, format: nil, compression: nil, lines: 0, bytes: 0, events: 0, diagnostics: [])
        for (i, d) in engine.descriptors.enumerated() {
            analyzers.append(d.scope == .run ? engine.runAnalyzer(i) : d.make())
            inputScoped.append(d.scope == .input)
            collecting.append(false)
            let t = d.triggers.map { Array($0.utf8) }.filter { !$0.isEmpty }
            triggers.append(t)
            if t.isEmpty { everyLine = true }
            allTriggers.append(contentsOf: t)
        }
        var seen = Set<[UInt8]>()
        allTriggers = allTriggers.filter { seen.insert($0).inserted }
        triggerSearch = TriggerSearch(allTriggers)
    }

    var triggerSearch = TriggerSearch([])

    func diagnose(_ line: Int?, _ message: String) {
        if summary.diagnostics.count < 20 {
            summary.diagnostics.append(Diagnostic(file: name, line: line, message: message))
        }
    }

    func emitEvent(_ e: Event) {
        var e = e
        // A run-scoped analyzer may point at an earlier input.
        e.source.file = e.source.inputIndex.flatMap { $0 == inputIndex ? nil : engine.inputNames[$0] } ?? name
        summary.events += 1
        emit(e)
    }

    func start() {
        let readSize = engine.options.readSize
        var capacity = max(readSize * 2, 1 << 16)
        var buf = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buf.deallocate() }
        var start = 0
        var end = 0
        var first = true
        var skippingOverlong = false
        var eof = false

        while !eof {
            if start > 0 {
                if end > start { memmove(buf, buf + start, end - start) }
                byteBase += start
                end -= start
                start = 0
            }
            if end == capacity {
                if capacity < engine.options.maxLineBytes + readSize {
                    let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                    bigger.copyMemory(from: buf, byteCount: end)
                    buf.deallocate()
                    buf = bigger
                    capacity *= 2
                } else {
                    // One line longer than the cap and still no newline.
                    if !skippingOverlong {
                        diagnose(lineNumber + 1, "line longer than \(engine.options.maxLineBytes >> 20) MiB; only its first \(engine.options.maxLineBytes >> 20) MiB were analysed")
                        processLine(buf, 0, engine.options.maxLineBytes, countLine: false)
                        skippingOverlong = true
                    }
                    start = end
                    continue
                }
            }
            let n = readFD(buf + end, capacity - end)
            if n < 0 {
                diagnose(nil, "read error: \(String(cString: strerror(errno)))")
                break
            }
            if n == 0 { eof = true }
            if first && n > 0 {
                first = false
                let head = UnsafeRawBufferPointer(start: buf + end, count: n)
                if let c = Compression.detect(head) {
                    if startDecompressor(c) { first = true; continue }
                    return finishAll()
                }
                format = engine.options.format ?? InputFormat.sniff(head)
                summary.format = format.rawValue
                if memchr(buf + end, 0, min(n, 1 << 16)) != nil {
                    reportedNUL = true
                    diagnose(nil, "contains NUL bytes (binary data?); text lines are still analysed")
                }
            }
            summary.bytes += n
            end += n
            if skippingOverlong {
                if let nl = memchr(buf + start, 0x0A, end - start) {
                    start = (nl - UnsafeMutableRawPointer(buf)) + 1
                    lineNumber += 1
                    skippingOverlong = false
                } else {
                    start = end
                    continue
                }
            }
            let regionEnd: Int
            if eof {
                regionEnd = end
            } else if let last = lockscan_memrchr(buf + start, 0x0A, end - start) {
                regionEnd = (last - UnsafeRawPointer(buf)) + 1
            } else {
                continue
            }
            processRegion(buf, start, regionEnd)
            start = regionEnd
        }
        finishAll()
    }

    func finishAll() {
        for (a, own) in zip(analyzers, inputScoped) where own {
            a.finish(emit: emitEvent)
            for d in a.inputDiagnostics { diagnose(d.line, d.message) }
        }
        summary.lines = lineNumber
        if let p = decompressor {
            p.waitUntilExit()
            if p.terminationStatus != 0 {
                diagnose(nil, "\(summary.compression ?? "decompressor") exited with status \(p.terminationStatus): input truncated or corrupt")
            }
        }
    }

    func readFD(_ p: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = read(fd, p, count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Re-points `fd` at the output of `gzip -dc`/`xz -dc`/`zstd -dc` reading
    /// this input. The original descriptor is handed to the child as stdin.
    func startDecompressor(_ c: Compression) -> Bool {
        if lseek(fd, 0, SEEK_SET) != 0 {
            diagnose(nil, "\(c.rawValue)-compressed input must be a file, not a pipe; decompress it first")
            return false
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [c.tool, "-dc"]
        p.standardInput = FileHandle(fileDescriptor: dup(fd), closeOnDealloc: true)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            diagnose(nil, "\(c.rawValue)-compressed, and `\(c.tool)` could not be run: \(error)")
            return false
        }
        decompressor = p
        summary.compression = c.rawValue
        fd = pipe.fileHandleForReading.fileDescriptor
        pipeHandle = pipe
        return true
    }

    var pipeHandle: Pipe?

    /// Lines [from, to) of the buffer; `to` is just after a newline or at EOF.
    func processRegion(_ buf: UnsafeMutableRawPointer, _ from: Int, _ to: Int) {
        var pos = from
        while pos < to {
            // A QMP log is parsed line by line anyway (and is small): every
            // line is checked to be JSON, so a broken one is reported.
            if !everyLine && format != .qmp && !collecting.contains(true) {
                // Fast path: jump to the next line holding any trigger.
                guard let next = triggerSearch.firstHit(buf, from: pos, to: to) else {
                    lineNumber += countNewlines(buf + pos, to - pos)
                    if to > pos && buf.load(fromByteOffset: to - 1, as: UInt8.self) != 0x0A { lineNumber += 1 }
                    return
                }
                var lineStart = next
                while lineStart > pos && buf.load(fromByteOffset: lineStart - 1, as: UInt8.self) != 0x0A { lineStart -= 1 }
                lineNumber += countNewlines(buf + pos, lineStart - pos)
                pos = lineStart
            }
            let lineEnd: Int
            if let nl = memchr(buf + pos, 0x0A, to - pos) {
                lineEnd = nl - UnsafeMutableRawPointer(buf)
            } else {
                lineEnd = to
            }
            processLine(buf, pos, lineEnd, countLine: true)
            pos = lineEnd + 1
        }
    }

    func countNewlines(_ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
        lockscan_count_byte(p.assumingMemoryBound(to: UInt8.self), n, 0x0A)
    }

    /// One physical line of the input.
    func processLine(_ buf: UnsafeMutableRawPointer, _ from: Int, _ to: Int, countLine: Bool) {
        if countLine { lineNumber += 1 }
        var end = to
        if end > from && buf.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
        var bytes = Array(UnsafeRawBufferPointer(start: buf + from, count: end - from))
        let offset = byteBase + from
        if bytes.contains(0) {
            if !reportedNUL { reportedNUL = true; diagnose(lineNumber, "NUL bytes in line; they were dropped") }
            bytes.removeAll { $0 == 0 }
        }
        switch format {
        case .journalJSON:
            if let r = JournalJSON.record(bytes, line: lineNumber, offset: offset, input: inputIndex) { deliver(r) }
            return
        case .qmp:
            switch QMPEventLine.record(bytes, line: lineNumber, offset: offset, input: inputIndex) {
            case let .success(r): if let r { deliver(r) }
            case let .failure(e): diagnose(lineNumber, e.message + "; line skipped")
            }
            return
        case .kmsg:
            if bytes.first == 0x20 { return } // ` KEY=val` dictionary continuation
        case .log, .raw:
            break
        }
        for piece in CollapsedLineSplitter.pieces(bytes, splitting: format != .raw) {
            let text: String
            var record: Record
            if format == .raw {
                text = makeString(piece.bytes)
                record = Record(inputIndex: inputIndex, line: lineNumber, byteOffset: offset + piece.offset, text: text)
            } else {
                let prefix = LinePrefix.parse(piece.bytes)
                text = makeString(Array(piece.bytes[prefix.messageStart...]))
                record = Record(inputIndex: inputIndex, line: lineNumber, byteOffset: offset + piece.offset,
                                clock: prefix.clock, callerID: prefix.callerID, callerCPU: prefix.callerCPU,
                                level: prefix.level, host: prefix.host, thread: prefix.thread, text: text)
            }
            deliver(record)
        }
    }

    func makeString(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        if !reportedInvalidUTF8 {
            reportedInvalidUTF8 = true
            diagnose(lineNumber, "invalid UTF-8; bad bytes shown as U+FFFD")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func deliver(_ record: Record) {
        let utf8 = Array(record.text.utf8)
        for i in analyzers.indices {
            if !collecting[i] && !everyLine {
                let ts = triggers[i]
                if !ts.isEmpty && !ts.contains(where: { contains(utf8, $0) }) { continue }
            }
            let interest = analyzers[i].consume(record, emit: emitEvent)
            collecting[i] = interest == .collecting
        }
    }

    func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        hay.withUnsafeBytes { h in needle.withUnsafeBytes { n in lockscan_memmem(h.baseAddress, h.count, n.baseAddress, n.count) != nil } }
    }
}

extension Interest: Equatable {}
