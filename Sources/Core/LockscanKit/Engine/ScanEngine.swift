import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import CByteSearch

/// What the scan learned about one input.
public struct InputSummary: Codable, Sendable {
    public var file: String
    public var format: String?
    public var compression: String?
    public var lines: Int
    public var bytes: Int
    public var events: Int
    public var diagnostics: [Diagnostic]
    /// The earlier input of this run with the same content: this one was
    /// not read again (its events are that one's).
    public var sameContentAs: String?
}

public struct ScanOptions: Sendable {
    public var format: InputFormat?
    /// Line length, stream and read-size bounds of the input layer.
    public var limits: InputLimits
    /// Cores for one input: with 2 or more, a regular file of at least
    /// `aheadMinimumBytes` has its far part searched for triggers on a
    /// second core (`AheadSearch`); the events are the same either way.
    public var jobs = 1
    public var aheadMinimumBytes = 32 << 20
    /// Where the far part starts, as a fraction of the file: the near part
    /// is searched and analysed by the engine, the far part only analysed,
    /// so the engine's share is the smaller one.
    public var aheadFraction = 0.35
    /// Whether an analyzer between a report's dumps (`Interest.waiting`)
    /// lets the engine skip the lines that cannot matter to it. Off, such
    /// an analyzer gets every line, as before: tests compare the two.
    public var skipsLinesWhileWaiting = true
    /// Set for `scan --follow`: the input is read as it grows, and its
    /// pauses close the reports it holds open (`InputRun.paused`).
    public var follow: FollowSettings?

    public init(format: InputFormat? = nil, limits: InputLimits = InputLimits(), follow: FollowSettings? = nil) {
        self.format = format
        self.limits = limits
        self.follow = follow
    }

    /// `readSize` bytes per read: tests use tiny reads to split every line
    /// across chunk boundaries.
    public init(format: InputFormat? = nil, readSize: Int) {
        self.init(format: format, limits: InputLimits(chunkBytes: readSize))
    }
}

/// Sees an input as the scan reads it, beside the analyzers, for a consumer
/// that needs more than events: the timeline measures each source's clock
/// extents and the neighbours of event lines here, so that no input is read
/// twice (and a compressed one is measured like a plain one).
public protocol ScanObserver: AnyObject {
    /// Every chunk, before its records reach the analyzers.
    func beginChunk(_ chunk: LineChunk)
    /// A record that reaches the analyzers, with the chunk it came from.
    func sawRecord(_ record: Record, in chunk: LineChunk)
    /// The chunk is done; its bytes are about to go away.
    func endChunk(_ chunk: LineChunk)
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
    /// Marks the records that start a report (`Record.startsReport`).
    public let reportHeaders: ReportHeaders
    /// What the analyzers' event kinds mean, for the passes over every
    /// input's events (`CrashAftermath`).
    let roles: EventRoles

    /// `reportHeaders` defaults to those of `analyzers`. An engine running
    /// only some analyzers passes those of every analyzer a full scan would
    /// load, so a report the others would own still ends its collection.
    public init(analyzers: [AnalyzerDescriptor], reportHeaders: ReportHeaders? = nil, options: ScanOptions = ScanOptions()) {
        self.descriptors = analyzers
        self.options = options
        self.reportHeaders = reportHeaders ?? ReportHeaders(analyzers)
        roles = EventRoles(analyzers)
    }

    /// How often the search ahead answered where the next trigger is (for
    /// tests: the second core was used, not bypassed).
    var answersFromAhead = 0

    /// Each analyzer's trigger strings as bytes, all of them deduplicated
    /// with the input layer's own, and their one-pass search.
    struct TriggerTables {
        var perAnalyzer: [[[UInt8]]]
        var all: [[UInt8]]
        var everyLine: Bool
        var search: TriggerSearch
        var routing: RecordRouting
        /// The search while an analyzer waits between dumps: every trigger
        /// and every word a dump opens with.
        var waitSearch: TriggerSearch
        /// The search while one waits for its header's dump: the same and
        /// every word a dump's first line may hold.
        var dumpWaitSearch: TriggerSearch
    }

    lazy var triggerTables: TriggerTables = {
        var perAnalyzer: [[[UInt8]]] = []
        var all: [[UInt8]] = []
        var everyLine = false
        for d in descriptors {
            let wanted = d.triggeredByReportHeaders && !d.triggers.isEmpty ? d.triggers + reportHeaders.all : d.triggers
            let t = wanted.map { Array($0.utf8) }.filter { !$0.isEmpty }
            perAnalyzer.append(t)
            if t.isEmpty { everyLine = true }
            all.append(contentsOf: t)
        }
        // The input layer's own: lines that open a paste form it must see.
        all += PastedLines.triggers.map { Array($0.utf8) }
        var seen = Set<[UInt8]>()
        all = all.filter { seen.insert($0).inserted }
        let waitFor = all + ReportDumps.dumpOpenings.filter { !seen.contains($0) }
        let dumpWaitFor = all + ReportDumps.wordsWhileAwaitingDump.filter { !seen.contains($0) }
        return TriggerTables(perAnalyzer: perAnalyzer, all: all, everyLine: everyLine, search: TriggerSearch(all),
                             routing: RecordRouting(perAnalyzer: perAnalyzer, headers: reportHeaders.all),
                             waitSearch: TriggerSearch(waitFor), dumpWaitSearch: TriggerSearch(dumpWaitFor))
    }()

    /// Every string the fast path searches each line for (the analyzers'
    /// triggers, the report headers some asked for, the input layer's own),
    /// as text: what a plain multi-string search needs to do the same work
    /// (the scan benchmark's `rg -F -f`).
    public var searchedStrings: [String] {
        triggerTables.all.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Instances of `AnalyzerScope.run` analyzers, by descriptor index: one
    /// per engine, fed by every `scan` call, finished by `finishRun`.
    var runAnalyzers: [Int: any Analyzer] = [:]
    /// Display names of the inputs scanned so far, by input index.
    var inputNames: [Int: String] = [:]
    /// The files read so far: one given twice is read once.
    let sameContent = SameContentInputs()

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
    /// summary carries the diagnostics. `diagnosed` hears each diagnostic of
    /// a followed input as it arises (it has no end to wait for); the
    /// summary still carries them all.
    public func scan(_ input: InputSpec, inputIndex: Int = 0, observer: ScanObserver? = nil,
                     diagnosed: ((Diagnostic) -> Void)? = nil, emit: (Event) -> Void) -> InputSummary {
        let name = input.displayName
        inputNames[inputIndex] = name
        if let earlier = sameContent.earlier(than: input) {
            return InputSummary(file: name, format: nil, compression: nil, lines: 0, bytes: 0, events: 0,
                                diagnostics: [Diagnostic(file: name, message: earlier == name ? "given twice, read once" : "same content as \(earlier), read once")],
                                sameContentAs: earlier)
        }
        let reader: LineReader
        switch LineReader.open(input, limits: options.limits, follow: options.follow) {
        case let .success(r): reader = r
        case let .failure(d):
            return InputSummary(file: name, format: nil, compression: nil, lines: 0, bytes: 0, events: 0, diagnostics: [d])
        }
        return withoutActuallyEscaping(emit) { emit in
            let run = InputRun(engine: self, name: name, inputIndex: inputIndex, emit: emit)
            run.observer = observer
            run.diagnosed = options.follow == nil ? nil : diagnosed
            run.read(reader)
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
    var summary: InputSummary
    /// Tells a lockup that the kernel had crashed before it in this input.
    var aftermath: CrashAftermath
    var analyzers: [any Analyzer] = []
    /// What each analyzer asked to hear next.
    var listeners = Listeners(count: 0)
    /// False for the shared instances of run-scoped analyzers, which must not
    /// be finished at the end of this input.
    var inputScoped: [Bool] = []
    var everyLine = false
    var format: InputFormat = .log
    var lineNumber = 0
    var byteBase = 0
    var reportedNUL = false
    var sniffed = false
    /// Pasted-text recovery for `log` inputs (joins, code blocks, broadcasts).
    var pasted = PastedLines(quotedPrintable: false)
    weak var observer: ScanObserver?
    /// The input is followed (`ScanOptions.follow`).
    let following: Bool
    /// Follow mode: hears each diagnostic when it arises.
    var diagnosed: ((Diagnostic) -> Void)?
    /// Follow mode: the reader's diagnostics already told to `diagnosed`
    /// (the reader sorts its list at the end, so they are kept, not counted).
    var toldReaderDiagnostics: [Diagnostic] = []
    /// The chunk being read, for the observer.
    var chunk: LineChunk?

    init(engine: ScanEngine, name: String, inputIndex: Int, emit: @escaping (Event) -> Void) {
        self.engine = engine
        self.name = name
        self.inputIndex = inputIndex
        self.emit = emit
        following = engine.options.follow != nil
        summary = InputSummary(file: name, format: nil, compression: nil, lines: 0, bytes: 0, events: 0, diagnostics: [])
        aftermath = CrashAftermath(roles: engine.roles)
        for (i, d) in engine.descriptors.enumerated() {
            analyzers.append(d.scope == .run ? engine.runAnalyzer(i) : d.make())
            inputScoped.append(d.scope == .input)
        }
        listeners = Listeners(count: analyzers.count)
        everyAnalyzer = AnalyzerSet.all(analyzers.count)
        // The same for every input: built once per engine (a run over 50,000
        // small files must not rebuild them 50,000 times).
        let tables = engine.triggerTables
        everyLine = tables.everyLine
        triggerSearch = tables.search
        waitSearch = tables.waitSearch
        dumpWaitSearch = tables.dumpWaitSearch
        routing = tables.routing
    }

    var triggerSearch = TriggerSearch([])
    var waitSearch = TriggerSearch([])
    var dumpWaitSearch = TriggerSearch([])
    /// A constant: asking a `var` of a class copied the tables (and retained
    /// each of their arrays) on every record.
    let routing: RecordRouting
    /// All of them: who gets a record when one analyzer wants every line.
    var everyAnalyzer = AnalyzerSet(count: 0)

    /// At most this many diagnostics are listed per input; the rest are
    /// counted, and the count is a diagnostic of its own.
    static let listedDiagnostics = 20
    var unlistedDiagnostics = 0

    func diagnose(_ line: Int?, _ message: String, tell: Bool = true) {
        if summary.diagnostics.count < Self.listedDiagnostics {
            let d = Diagnostic(file: name, line: line, message: message)
            summary.diagnostics.append(d)
            if tell { diagnosed?(d) }
        } else {
            unlistedDiagnostics += 1
        }
    }

    func emitEvent(_ e: Event) {
        var e = e
        // A run-scoped analyzer may point at an earlier input.
        e.source.file = e.source.inputIndex.flatMap { $0 == inputIndex ? nil : engine.inputNames[$0] } ?? name
        e = aftermath.pass(e)
        if let capped = e.details[Event.cappedDetail] { diagnose(e.source.line, "\(e.title): \(capped)") }
        summary.events += 1
        emit(e)
    }

    /// Every chunk the input layer hands over: whole lines go through the
    /// trigger search, the analysed part of an overlong line is one line, the
    /// rest of it is not analysed.
    func read(_ reader: LineReader) {
        reader.read({ chunk in
            let base = UnsafeMutableRawPointer(mutating: chunk.bytes.baseAddress!)
            byteBase = chunk.byteOffset
            if let observer {
                self.chunk = chunk
                observer.beginChunk(chunk)
            }
            defer {
                if let observer {
                    observer.endChunk(chunk)
                    self.chunk = nil
                }
            }
            switch chunk.kind {
            case .lines:
                if !sniffed {
                    sniff(chunk.bytes)
                    startAheadSearch(reader)
                }
                lineNumber = chunk.firstLine - 1
                processRegion(base, 0, chunk.bytes.count)
            case .overlongLine:
                if !sniffed { sniff(chunk.bytes) }
                lineNumber = chunk.firstLine - 1
                processLine(base, 0, chunk.bytes.count, countLine: true)
            case .overlongRest:
                break
            }
            tellReaderDiagnostics(reader)
        }, paused: { pause in
            tellReaderDiagnostics(reader)
            paused(pause)
        })
        ahead?.cancel()
        ahead = nil
        summary.compression = reader.compression?.rawValue
        summary.bytes = reader.bytesRead
        for d in reader.diagnostics { diagnose(d.line, d.message, tell: !toldReaderDiagnostics.contains(d)) }
        finishAll(lines: reader.lineCount)
        // In input order, whoever found them (a file-wide one first).
        summary.diagnostics = summary.diagnostics.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
        if unlistedDiagnostics > 0 {
            summary.diagnostics.append(Diagnostic(file: name, message: "\(unlistedDiagnostics) more problem\(unlistedDiagnostics == 1 ? "" : "s") in this input not listed"))
        }
    }

    /// The far part's trigger search on a second core, for a large regular
    /// file read as it is (`ScanOptions.jobs`).
    var ahead: AheadSearch?

    func startAheadSearch(_ reader: LineReader) {
        let options = engine.options
        // A followed file restarts at a truncation: its offsets are not the
        // second reader's.
        guard options.jobs > 1, options.follow == nil, !everyLine, let file = reader.plainRegularFile, file.size >= options.aheadMinimumBytes else { return }
        ahead = AheadSearch(fd: file.fd, size: file.size, fraction: options.aheadFraction, search: triggerSearch,
                            maxLineBytes: options.limits.maxLineBytes)
    }

    /// The first trigger at or after `pos` in [pos, to) and how far the
    /// answer vouches (`to`, or the near part's end when the range crosses
    /// into the far part): from the search ahead in the far part, else
    /// searched here.
    func nextTrigger(_ buf: UnsafeMutableRawPointer, _ pos: Int, _ to: Int) -> (hit: Int?, upTo: Int) {
        guard let ahead else { return (triggerSearch.firstHit(buf, from: pos, to: to), to) }
        let at = byteBase + pos
        if at >= ahead.start && at < ahead.end {
            let limit = min(to, ahead.end - byteBase)
            switch ahead.firstLine(from: at, before: byteBase + limit) {
            case let .line(l):
                engine.answersFromAhead += 1
                return (l - byteBase, limit)
            case .none:
                engine.answersFromAhead += 1
                return (nil, limit)
            case .unknown: break
            }
        } else if at < ahead.start && ahead.start - byteBase < to {
            let limit = ahead.start - byteBase
            return (triggerSearch.firstHit(buf, from: pos, to: limit), limit)
        }
        return (triggerSearch.firstHit(buf, from: pos, to: to), to)
    }

    /// The format, from the first bytes (or `--format`).
    func sniff(_ head: UnsafeRawBufferPointer) {
        sniffed = true
        format = engine.options.format ?? InputFormat.sniff(head)
        summary.format = format.rawValue
        if format == .log { pasted = PastedLines(quotedPrintable: QuotedPrintable.detect(head)) }
        if let nul = memchr(head.baseAddress!, 0, min(head.count, 1 << 16)) {
            reportedNUL = true
            // The line of the first NUL, so the user can look at it.
            let before = UnsafeRawBufferPointer(start: head.baseAddress, count: UnsafeRawPointer(nul) - head.baseAddress!)
            diagnose(before.count { $0 == 0x0A } + 1, "NUL bytes (binary data?); text lines are still analysed")
        }
    }

    /// Follow mode: what the reader found (a file cut short or replaced) is
    /// told when it is found, not at an end that may never come.
    func tellReaderDiagnostics(_ reader: LineReader) {
        guard let diagnosed else { return }
        for d in reader.diagnostics.dropFirst(toldReaderDiagnostics.count) {
            diagnosed(d)
            toldReaderDiagnostics.append(d)
        }
    }

    /// The last record delivered ended a stack (`StackEnd`): a pause right
    /// after it closes the reports without waiting for a quiet second.
    var lastRecordEndedStack = false

    /// What analyzer `i` needs to see next.
    func take(_ interest: Interest, of i: Int) {
        switch interest {
        case .idle:
            listeners.set(i, collects: false, waitsUntil: nil)
        case .collecting:
            listeners.set(i, collects: true, waitsUntil: nil)
        case let .waiting(line):
            // A QMP log is read line by line for its checks anyway.
            let skips = engine.options.skipsLinesWhileWaiting && format != .qmp
            listeners.set(i, collects: !skips, waitsUntil: skips ? line : nil)
        case let .waitingForDump(line):
            let skips = engine.options.skipsLinesWhileWaiting && format != .qmp
            listeners.set(i, collects: !skips, waitsUntil: skips ? line : nil, forDump: skips)
        }
    }

    /// A followed input fell silent. A line held for its continuation is
    /// read as it is; then, after a settle pause, only reports whose stack
    /// has visibly ended are closed, after a quiet one every open report
    /// is. Analyzers keep what spans reports.
    func paused(_ pause: FollowPause) {
        // A line a paste form held to see whether the next one continues
        // it: a continuation would have come in the same write.
        pasted.finish(parseLogical)
        guard pause == .quiet || lastRecordEndedStack else { return }
        lastRecordEndedStack = false
        for i in analyzers.indices {
            if let interest = analyzers[i].inputWentQuiet(emit: emitEvent) { take(interest, of: i) }
        }
    }

    func finishAll(lines: Int) {
        pasted.finish(parseLogical)
        for (a, own) in zip(analyzers, inputScoped) where own {
            a.finish(emit: emitEvent)
            for d in a.inputDiagnostics { diagnose(d.line, d.message) }
        }
        summary.lines = lines
    }

    /// Where a waiting report's search stopped in the region being read:
    /// no match of its words starts in the bytes before, and every trigger
    /// is one of its words. With `cleanOfDumpWords` that search was the one
    /// for a header's dump, which holds the between-dumps words too.
    var cleanUntil = 0
    var cleanOfDumpWords = false

    /// Lines [from, to) of the buffer; `to` is just after a newline or at EOF.
    func processRegion(_ buf: UnsafeMutableRawPointer, _ from: Int, _ to: Int) {
        var pos = from
        cleanUntil = from
        while pos < to {
            // Asked only off the per-line path: while an analyzer collects,
            // every line is read anyway.
            let fast = !everyLine && listeners.collecting.isEmpty && !pasted.needsNextLine
            let waitingUntil = fast ? listeners.earliestWaitEnd : nil
            if fast, let until = waitingUntil, lineNumber + 1 < until {
                // A report waits (between dumps, or for its header's dump):
                // jump to the next line holding a trigger or a word it waits
                // for, unless the line where its window closes comes first
                // (that one is read whatever it holds). What the search
                // passed over is clean for the trigger search after it too.
                let wide = !listeners.waitingForDump.isEmpty
                let search = wide ? dumpWaitSearch : waitSearch
                let start = cleanUntil > pos && (cleanOfDumpWords || !wide) ? cleanUntil : pos
                let hit = search.firstHit(buf, from: start, to: to)
                var lineStart = hit ?? to
                while hit != nil, lineStart > pos, buf.load(fromByteOffset: lineStart - 1, as: UInt8.self) != 0x0A { lineStart -= 1 }
                if lineStart > cleanUntil { (cleanUntil, cleanOfDumpWords) = (lineStart, wide) }
                // Newlines up to the hit's line, but no further than the
                // window's last line.
                let k = until - 1 - lineNumber
                var counted = 0
                let end = pos + lockscan_after_nth_byte(buf.assumingMemoryBound(to: UInt8.self) + pos, lineStart - pos, 0x0A, k, &counted)
                lineNumber += counted
                pos = counted == k ? end : lineStart
                if counted == k || hit == nil { continue }
            } else if fast, waitingUntil == nil {
                // Fast path: jump to the next line holding any trigger.
                // No hit: the rest of the chunk needs no counting, the next
                // chunk says where it starts (LineChunk.firstLine).
                // Bytes a waiting report's search passed over hold no trigger.
                let (next, searched) = nextTrigger(buf, format == .qmp ? pos : max(pos, cleanUntil), to)
                var lineStart = next ?? searched
                while next != nil, lineStart > pos, buf.load(fromByteOffset: lineStart - 1, as: UInt8.self) != 0x0A { lineStart -= 1 }
                if format == .qmp {
                    // A QMP log's skipped lines are still checked to be QMP
                    // messages, so a broken one is said.
                    checkQMPLines(buf, pos, lineStart)
                } else if next != nil || searched < to {
                    lineNumber += countNewlines(buf + pos, lineStart - pos)
                }
                if next == nil && searched == to { return }
                pos = lineStart
                if next == nil { continue }
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

    /// The whole lines [from, to) of a QMP log that hold no trigger: each
    /// counted and checked, none made a record.
    func checkQMPLines(_ buf: UnsafeMutableRawPointer, _ from: Int, _ to: Int) {
        var pos = from
        while pos < to {
            let lineEnd = memchr(buf + pos, 0x0A, to - pos).map { $0 - UnsafeMutableRawPointer(buf) } ?? to
            var end = lineEnd
            if end > pos && buf.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
            let bytes = UnsafeRawBufferPointer(start: buf + pos, count: end - pos)
            if bytes.contains(0) {
                processLine(buf, pos, lineEnd, countLine: true)
            } else {
                lineNumber += 1
                if let problem = LineRecords.qmpProblem(Array(bytes)) { diagnose(lineNumber, problem) }
            }
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
        var offset = byteBase + from
        if bytes.contains(0) {
            // Serial consoles pad with NULs after a reset. Leading ones are
            // skipped and the rest read as spaces, so byte offsets and
            // counts still point at exactly the input's bytes.
            if !reportedNUL { reportedNUL = true; diagnose(lineNumber, "NUL bytes in line; leading ones skipped, the rest read as spaces") }
            let lead = bytes.prefix { $0 == 0 }.count
            bytes.removeFirst(lead)
            offset += lead
            for i in bytes.indices where bytes[i] == 0 { bytes[i] = 0x20 }
        }
        if format == .log {
            pasted.add(bytes, line: lineNumber, offset: offset, emit: parseLogical)
        } else if let problem = LineRecords.parse(bytes, format: format, line: lineNumber, offset: offset, input: inputIndex, deliver) {
            diagnose(lineNumber, problem)
        }
    }

    /// A line of a `log` input as its paste meant it (a `log` line is never
    /// refused, but a number in its prefix may be).
    func parseLogical(_ line: LogicalLine) {
        if let problem = LineRecords.parse(line, format: format, input: inputIndex, deliver) { diagnose(line.line, problem) }
    }

    func deliver(_ record: Record) {
        var record = record
        let wanted: AnalyzerSet
        (wanted, record.startsReport) = routing.route(record.text, analyzers: analyzers.count)
        if following { lastRecordEndedStack = StackEnd.matches(record.text) }
        if let observer, let chunk { observer.sawRecord(record, in: chunk) }
        // In index order. take(_:of:) changes only analyzer i's bits, after
        // i was asked: the ones still to come read as they were.
        for w in 0..<wanted.wordCount {
            var pending = everyLine ? everyAnalyzer.word(w) : listeners.hearing(wanted, word: w)
            while pending != 0 {
                let i = w << 6 | pending.trailingZeroBitCount
                pending &= pending - 1
                take(analyzers[i].consume(record, emit: emitEvent), of: i)
            }
        }
    }
}

