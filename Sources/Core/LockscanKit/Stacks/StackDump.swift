/// One CPU's or task's dump as the kernel or crash printed it: who it is, the
/// interrupted instruction, the frames with their context, and the registers
/// that matter for lock analysis.
public struct StackDump: Sendable, Equatable {
    public var cpu: Int?
    public var pid: Int?
    public var comm: String?
    public var taint: String?
    public var release: String?
    /// Every frame in print order. Instruction-pointer frames (`RIP:`, `NIP`,
    /// `pc :`, crash `[exception RIP:]`) stand where they were printed, with
    /// `isInstructionPointer` set: newer kernels print the interrupted RIP in
    /// the middle of a trace, right after the interrupt entry frame, and where
    /// it stands tells which frames belong to the interrupted context.
    public var frames: [Frame] = []
    public var registers: [String: String] = [:]
    /// First and last record of the dump.
    public var firstLine: Int
    public var lastLine: Int
    public var byteOffset: Int
    public var evidence: [String] = []
    /// Printed by crash (`bt`), not by the kernel.
    public var fromCrash = false
    /// The line where the dump was cut because it passed the collector's
    /// line cap: what followed was not read as part of it.
    public var cutAtLine: Int?

    public init(firstLine: Int, byteOffset: Int) {
        self.firstLine = firstLine
        self.lastLine = firstLine
        self.byteOffset = byteOffset
    }

    /// The interrupted instruction: the first named instruction-pointer
    /// frame not printed inside the NMI section.
    public var instructionPointer: Frame? { Self.instructionPointer(in: frames) }

    static func instructionPointer(in frames: [Frame]) -> Frame? {
        frames.first { $0.isInstructionPointer && $0.function != nil && $0.context != .nmi }
    }

    /// The frames of the interrupted code, innermost first: the instruction
    /// pointer, then every frame not run on the NMI stack and not part of the
    /// NMI, watchdog or dump machinery (`NMIHandlerFrames`). For a hard lockup
    /// or an NMI backtrace this is where the CPU really was. User-space IPs
    /// (no function) are left out. `? func+…` frames are left out too when
    /// any reliable frame remains: the unwinder only guessed them, and old
    /// kernels print dozens of stale ones above the real caller.
    public var interruptedFrames: [Frame] { Self.interruptedFrames(of: frames) }

    static func interruptedFrames(of frames: [Frame]) -> [Frame] {
        var out: [Frame] = []
        if let ip = instructionPointer(in: frames) { out.append(ip) }
        for f in frames where f.context != .nmi && !f.isInstructionPointer {
            if let name = f.function, NMIHandlerFrames.contains(FunctionName.base(name)) { continue }
            if let ip = out.first, ip.function == f.function, out.count == 1 { continue }
            out.append(f)
        }
        if out.contains(where: { $0.reliable && !$0.isInstructionPointer }) {
            out.removeAll { !$0.reliable && !$0.isInstructionPointer }
        }
        return out
    }

    /// True when the dump has frames but every one of them belongs to the
    /// NMI, watchdog or dump machinery: the report shows how the CPU was
    /// caught, not what it ran.
    public var showsOnlyPlumbing: Bool {
        frames.contains { $0.function != nil } && interruptedFrames.isEmpty
    }

    /// `EFLAGS`/`RFLAGS` with IF (bit 9) clear: interrupts were off.
    public var irqsDisabled: Bool? {
        guard let flags = registers["EFLAGS"] ?? registers["RFLAGS"], let v = UInt64(flags, radix: 16) else { return nil }
        return v & 0x200 == 0
    }
}

/// Frames that belong to the watchdog, NMI, interrupt-entry or dump
/// machinery rather than to the code that was stuck, in every era and
/// architecture the kernel printed them: the 2.6 `nmi_watchdog_tick` /
/// `die_nmi` path, the perf detector (`watchdog_overflow_callback` under
/// `*_pmu_handle_irq` and `perf_event_nmi_handler`), the x86 NMI entry
/// (`do_nmi`, `end_repeat_nmi`, `exc_nmi`), the buddy and hrtimer-driven
/// detectors (`watchdog_timer_fn` under `__hrtimer_run_queues`), arm64's
/// GIC and pseudo-NMI entry, powerpc's soft-NMI and system-reset watchdog,
/// and the printing they do (`dump_stack`, `show_regs`, `panic`).
/// Skipped when looking for where a CPU really was.
public enum NMIHandlerFrames {
    public static let patterns: [FrameAttribution.Match] = [
        // dumping and panicking
        .prefix("dump_stack"), .prefix("show_stack"), .prefix("show_regs"), .prefix("__show_regs"), .prefix("show_trace"),
        .prefix("dump_backtrace"), .prefix("unwind_backtrace"), .prefix("print_modules"), .prefix("print_irqtrace_events"),
        .exact("panic"), .prefix("nmi_panic"), .exact("vpanic"), .contains("printk"),
        // lockup detectors
        .prefix("watchdog_overflow_callback"), .prefix("watchdog_timer_fn"), .prefix("watchdog_hardlockup_check"),
        .prefix("watchdog_buddy_check"), .prefix("watchdog_check_hardlockup"), .prefix("hardlockup_detector_event"),
        .prefix("nmi_watchdog_tick"), .prefix("die_nmi"), .prefix("watchdog_timer_interrupt"), .prefix("soft_nmi_interrupt"),
        .prefix("wd_smp_"), .prefix("watchdog_smp_panic"),
        // perf overflow delivery
        .prefix("__perf_event_overflow"), .prefix("perf_event_overflow"), .prefix("perf_event_nmi_handler"),
        .prefix("perf_ibs_nmi_handler"), .contains("pmu_handle_irq"), .prefix("armpmu_dispatch_irq"),
        // NMI entry and notifier chains
        .exact("nmi"), .prefix("nmi_handle"), .prefix("default_do_nmi"), .prefix("do_nmi"), .prefix("exc_nmi"),
        .prefix("asm_exc_nmi"), .prefix("end_repeat_nmi"), .prefix("repeat_nmi"), .prefix("first_nmi"), .prefix("nmi_restore"),
        .prefix("nmi_cpu_backtrace"), .prefix("nmi_trigger_cpumask_backtrace"), .prefix("arch_trigger_cpumask_backtrace"),
        .prefix("crash_nmi_callback"), .prefix("kvm_nmi_handler"), .prefix("notify_die"), .prefix("atomic_notifier_call_chain"),
        .prefix("__atomic_notifier_call_chain"), .prefix("notifier_call_chain"), .prefix("system_reset_exception"),
        .prefix("handle_percpu_devid_fasteoi_nmi"), .prefix("ipi_handler"), .prefix("do_handle_IPI"), .prefix("handle_IPI"),
        // timer interrupt entry
        .prefix("__hrtimer_run_queues"), .prefix("hrtimer_interrupt"), .prefix("hrtimer_run_queues"), .prefix("tick_sched_timer"),
        .prefix("tick_sched_handle"), .prefix("update_process_times"), .prefix("tick_handle_periodic"),
        .contains("apic_timer_interrupt"), .prefix("sysvec_"), .prefix("__sysvec_"), .prefix("asm_sysvec_"),
        .prefix("arch_timer_handler"), .prefix("handle_percpu_devid_irq"), .prefix("__handle_domain_irq"),
        .prefix("handle_domain_irq"), .prefix("generic_handle_domain_irq"), .prefix("gic_handle_irq"), .prefix("el1_irq"),
        .prefix("el1h_64_irq"), .prefix("el1_interrupt"), .prefix("__irq_svc"), .prefix("__irq_usr"), .prefix("call_on_irq_stack"), .prefix("do_interrupt_handler"),
        .prefix("timer_interrupt"), .prefix("decrementer_common"), .prefix("irq_exit"), .prefix("__irq_exit"),
        .prefix("irq_enter"), .prefix("irqentry_"),
    ]

    static let set = FrameAttribution.MatchSet(patterns)

    public static func contains(_ name: String) -> Bool { set.matches(name) }
}

/// Assembles `StackDump`s from consecutive records. Analyzers embed one when
/// they need the stack after a header line.
///
/// Ends a dump at the first line that cannot belong to one once frames have
/// started, at a blank line or new task in crash output, or after `maxLines`
/// (so interleaved or truncated logs cannot make it grow without bound).
public struct StackDumpCollector: Sendable {
    public enum Feed: Sendable { case accepted, ended }

    private var building: StackDump
    /// ARM32 prints each frame with its caller; the last caller is on no line of its own.
    private var trailingCaller: Frame?

    /// The dump so far.
    public var dump: StackDump {
        var d = building
        if let c = trailingCaller { d.frames.append(c) }
        return d
    }
    private var context: FrameContext?
    private var contextStack: [FrameContext] = []
    private var sawFrames = false
    private var lineCount = 0
    private var crashSwitchIndex = 0
    private var callerID: String?
    private var inTrace = false
    private var recordingRegisters = true
    private var sawClock = false
    private var otherRun = 0
    private var foreignLines = 0
    /// The previous line ended in `[<address>]`: a mail client may have
    /// wrapped its symbol onto the next line.
    private var previousEndedInAddress = false
    public let maxLines: Int
    /// Lines tolerated before the first frame (module lists wrap, `Hardware name:`, …).
    public let maxPreambleLines: Int

    /// `midTrace`: the first record is already a frame of a trace whose
    /// start the capture lost, so frames count from it on.
    /// `maxLines`: a kernel stack is at most a few hundred frames (16 KiB
    /// of x86-64 stack, interrupt and exception stacks included); a dump
    /// still giving frames past 1000 lines is cut, and says so (`cutAtLine`).
    public init(start record: Record, maxLines: Int = 1000, maxPreambleLines: Int = 40, midTrace: Bool = false) {
        building = StackDump(firstLine: record.line, byteOffset: record.byteOffset)
        self.maxLines = maxLines
        self.maxPreambleLines = maxPreambleLines
        inTrace = midTrace
        building.cpu = record.callerCPU
    }

    public var hasFrames: Bool { sawFrames }

    /// Frames have come and the section now read is an interrupt's or the
    /// task's, as its markers (`<IRQ>`, `<TASK>`) said: a stack
    /// prints the NMI's section first, so whatever ran in the NMI is behind.
    /// False without markers (old kernels, arm64, crash): nothing is known.
    public var pastNMISection: Bool {
        guard sawFrames, let context else { return false }
        return context != .nmi && context != .exception
    }

    /// Offers the next record. `.ended` means the record is not part of the
    /// dump (the caller should handle it as a fresh line).
    public mutating func feed(_ record: Record, _ line: TraceLine? = nil) -> Feed {
        let parsed = line ?? TraceLineParser.parse(record.text)
        defer { previousEndedInAddress = Self.endsInAddress(record.text) }
        lineCount += 1
        if lineCount > maxLines {
            if sawFrames, case .frames = parsed { building.cutAtLine = record.line }
            return .ended
        }
        // printk caller ids tell interleaved CPUs apart: lines from another
        // caller belong to someone else's messages and are stepped over.
        // The dump's own CPU may take over from the one that announced it
        // (buddy detector: CPU2 reports, CPU3 prints its backtrace).
        if let caller = record.callerID {
            if callerID == nil { callerID = caller }
            if caller != callerID {
                switch parsed {
                case .nmiBacktrace, .taskHeader:
                    if !sawFrames { callerID = caller } else { return .ended }
                default:
                    return lineCount > maxLines / 2 ? .ended : .accepted
                }
            }
        }
        switch parsed {
        case let .frames(markers, frame):
            for m in markers { apply(m) }
            if !markers.isEmpty { inTrace = true }
            // A bare `[<address>] func` frame before any "Call Trace:" or
            // marker is a wrapped continuation of a preamble line
            // ("hardirqs last enabled at (…): [<…>]" split by a mail
            // client), not the stack. A `func+0x…/0x…` frame on its own line
            // is a trace whose "Call Trace:" line was cut from the paste,
            // unless it continues a line that ended in `[<address>]`.
            if let f = frame, !inTrace {
                guard f.address == nil, !previousEndedInAddress else { break }
                inTrace = true
            }
            if var f = frame {
                f.context = context
                building.frames.append(f)
                sawFrames = true
            }
        case let .armFrame(f, caller):
            if !inTrace { inTrace = true }
            var f = f
            f.context = context
            building.frames.append(f)
            trailingCaller = caller
            sawFrames = true
        case let .crashFrame(f):
            building.fromCrash = true
            building.frames.append(f)
            sawFrames = true
        case let .instructionPointer(f):
            var f = f
            f.context = context
            // Registers printed under a later RIP (the task an IRQ interrupted,
            // user space at syscall entry) are not the stuck context's.
            recordingRegisters = building.instructionPointer == nil && f.function != nil && f.context != .nmi
            building.frames.append(f)
        case .callTraceHeader:
            if sawFrames && !building.fromCrash { return .ended }
            inTrace = true
        case let .taskHeader(h):
            if sawFrames { return .ended }
            apply(h)
        case let .crashTask(h):
            // A crash `bt` after a console report is another tool's dump
            // (often of another CPU), never the rest of the kernel's.
            if sawFrames || building.pid != nil || (lineCount > 1 && !building.fromCrash) { return .ended }
            building.fromCrash = true
            apply(h)
        case let .crashFrameThenExceptionRIP(frame, f):
            building.fromCrash = true
            building.frames.append(frame)
            building.frames.append(f)
            sawFrames = true
        case let .crashExceptionRIP(f):
            building.fromCrash = true
            building.frames.append(f)
        case let .crashStackSwitch(ctx):
            building.fromCrash = true
            // The exception RIP printed above the switch is where that stack
            // interrupted the code below it, so it keeps no context.
            for i in crashSwitchIndex..<building.frames.count where !building.frames[i].isInstructionPointer {
                building.frames[i].context = ctx
            }
            crashSwitchIndex = building.frames.count
        case let .registers(regs):
            if recordingRegisters {
                for k in Self.keptRegisters { if let v = regs[k] { building.registers[k] = v } }
            }
            // crash prints the exception RIP's address on the register line below it.
            if let rip = regs["RIP"], let i = building.frames.lastIndex(where: \.isInstructionPointer),
               building.frames[i].address == nil {
                building.frames[i].address = "0x" + rip
            }
        case let .nmiBacktrace(cpu):
            if sawFrames { return .ended }
            building.cpu = cpu
        case .dumpDecoration:
            if record.text.hasPrefix("---[ end") { record1(record); return .ended }
            if !sawFrames, let t = SchedShowTaskLine(record.text) {
                building.comm = building.comm ?? t.comm
                building.pid = building.pid ?? t.pid
            }
        case .other:
            let trimmed = record.text.drop(while: { $0 == " " })
            // dump_cpu_task() names the CPU before the task's own header,
            // which has none: without this the dump would carry the printing CPU.
            if !sawFrames, record.text.startsAfterSpaces(with: Self.taskDumpWords),
               let cpu = Int(trimmed.dropFirst("Task dump for CPU ".count).prefix { $0.isASCII && $0.isNumber }.prefix(6)) {
                building.cpu = cpu
                record1(record)
                return .accepted
            }
            // A line without the kernel's timestamp inside a timestamped dump
            // is another program writing to the same console ("executing
            // program", a shell prompt): step over a few of those.
            if sawClock, record.clock.isEmpty, record.callerID == nil, foreignLines < 8 {
                foreignLines += 1
                return .accepted
            }
            if building.fromCrash {
                if trimmed.isEmpty { return .ended }
            } else if record.startsReport || DumpBoundaries.matches(record.text) {
                // A new report (any loaded analyzer's header) or a panic
                // always ends the dump, before its frames too: five CPUs
                // that each print their hard-LOCKUP line are five reports,
                // not one report with a long preamble.
                return .ended
            } else if sawFrames {
                // Without caller ids, another CPU's message can land between
                // two frames ("audit: …", "unregister_netdevice: waiting …"):
                // step over up to two such lines; a third ends the dump.
                otherRun += 1
                return otherRun <= 2 ? .accepted : .ended
            } else if lineCount > maxPreambleLines {
                return .ended
            }
        }
        record1(record)
        return .accepted
    }

    static let taskDumpWords = Array("Task dump for CPU ".utf8)

    /// The registers a dump keeps: the first argument (a slow path's lock),
    /// the flags (interrupts off?) and the stack pointer.
    static let keptRegisters = ["RDI", "EFLAGS", "RFLAGS", "RSP"]

    /// Asked of every line offered, on its bytes in place (walking
    /// `String.UTF8View` indices cost more than the rest of the check).
    private static func endsInAddress(_ text: String) -> Bool {
        text.withUTF8Bytes { b in
            var end = b.count
            while end > 0, b[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return end >= 2 && b[end - 2] == UInt8(ascii: ">") && b[end - 1] == UInt8(ascii: "]")
        }
    }

    private mutating func record1(_ record: Record) {
        otherRun = 0
        if !record.clock.isEmpty { sawClock = true }
        building.lastLine = record.lastLine
        if building.evidence.count < 120 { building.evidence.append(record.text) }
    }

    private mutating func apply(_ h: TaskHeader) {
        if let c = h.cpu { building.cpu = c }
        building.pid = h.pid ?? building.pid
        building.comm = h.comm ?? building.comm
        building.taint = h.taint ?? building.taint
        building.release = h.release ?? building.release
    }

    private mutating func apply(_ m: SectionMarker) {
        switch m {
        case .nmiBegin: push(.nmi)
        case .irqBegin: push(.irq)
        case .softirqBegin: push(.softirq)
        case .taskBegin: contextStack = []; context = .task
        case .nmiEnd, .irqEnd, .softirqEnd, .endOfException, .endOfExceptionShort:
            context = contextStack.popLast()
            if context == nil, m == .endOfException || m == .endOfExceptionShort { context = nil }
        case .endOfInterrupt:
            contextStack = []
            context = .task
        case .taskEnd:
            context = nil
        }
    }

    private mutating func push(_ c: FrameContext) {
        if let context { contextStack.append(context) }
        context = c
    }
}

/// The step every analyzer that collects dumps repeats: feed the record to
/// the collector if one is running, and hand back the dump once a record
/// ends it (that record then still has to be handled as a fresh line).
public enum CollectorStep {
    case idle
    case accepted
    /// Boxed: the step is returned for every line offered, and an unboxed
    /// dump made every `.accepted` a copy of its size.
    indirect case finished(StackDump)
}

extension Optional where Wrapped == StackDumpCollector {
    /// Fed where it lies, not through a copy stored back (which copied the
    /// collector per line and its frames on every append).
    public mutating func step(_ record: Record) -> CollectorStep {
        guard self != nil else { return .idle }
        if self!.feed(record) == .accepted { return .accepted }
        let dump = self!.dump
        self = nil
        return .finished(dump)
    }
}

/// The dumps that follow a report's header: the reporting CPU's own dump
/// and, for stalls and all-CPU backtraces, the NMI backtraces or task dumps
/// of the other CPUs. Collection goes on while dumps keep coming: it ends
/// `window` lines after the header or the last dump line, after `maxLines`
/// in all, or at `maxDumps`, so a truncated log cannot keep it open for ever.
///
/// Where the header's own dump begins is the report's to say
/// (`HeaderDump`).
public struct ReportDumps {
    /// Where the dump printed right after a report's header begins.
    public enum HeaderDump: Sendable {
        /// At the header: the kernel prints lines of its own between the
        /// two that are no dump lines (a hung task's `Not tainted …`,
        /// `"echo 0 > …" disables this message.` and old kernels' task
        /// state line), so every line up to the first frame is kept, up to
        /// `StackDumpCollector.maxPreambleLines` of them.
        case atHeader
        /// At the first line within `lines` of the header that is part of
        /// a dump (`opensHeadersDump`: the banner, `Modules linked in:`,
        /// lockdep's stamps, `RIP:`, `Call Trace:`, a frame), for reports
        /// whose kernel prints nothing else in between (the soft-lockup
        /// watchdog). Prose before that line is another subsystem's
        /// message on a busy console: passed over, not kept as evidence.
        /// So the report waits meanwhile and the engine skips such lines
        /// on their bytes: a header with no dump after it (a console that
        /// dropped it, a storm of lone headers from a CPU stuck for days)
        /// costs no more per line than the lines around it.
        case atFirstDumpLine(within: Int)
    }

    public private(set) var dumps: [StackDump] = []
    private var collector: StackDumpCollector?
    public let headerLine: Int
    public let window: Int
    public let maxDumps: Int
    public let maxLines: Int
    private var lastActivity: Int
    /// The last line on which the header's own dump may still open; nil
    /// once it opened, or once that line, a boundary or another report
    /// passed first.
    private var preambleEnd: Int?

    /// Dumps that started past `maxDumps` (the kernel supports up to 8192
    /// CPUs) or past `maxLines` after the header, and were not read.
    public private(set) var droppedDumps = 0

    public init(header: Record, window: Int = 300, maxDumps: Int = 8192, maxLines: Int = 400_000, headerDump: HeaderDump = .atHeader) {
        headerLine = header.line
        lastActivity = header.line
        self.window = window
        self.maxDumps = maxDumps
        self.maxLines = maxLines
        switch headerDump {
        case .atHeader:
            collector = StackDumpCollector(start: header)
        case let .atFirstDumpLine(lines):
            let (end, overflow) = header.line.addingReportingOverflow(max(0, lines))
            preambleEnd = overflow ? Int.max : end
        }
    }

    /// What the report needs to see next: every line while a dump is
    /// being read; between dumps, only a line that may open one (or that
    /// holds a trigger), until the line where the window or the line cap
    /// closes it: no other line changes anything here.
    public var interest: Interest {
        guard collector == nil else { return .collecting }
        let (windowEnd, o1) = lastActivity.addingReportingOverflow(window + 1)
        let (capEnd, o2) = headerLine.addingReportingOverflow(maxLines + 1)
        let from = min(o1 ? Int.max : windowEnd, o2 ? Int.max : capEnd)
        return preambleEnd == nil ? .waiting(everyLineFrom: from) : .waitingForDump(everyLineFrom: from)
    }

    /// False once collection is over; the record is then not consumed.
    public mutating func feed(_ record: Record) -> Bool {
        switch collector.step(record) {
        case .accepted:
            lastActivity = record.line
            return true
        case let .finished(dump): keep(dump)
        case .idle: break
        }
        if let end = preambleEnd {
            if record.line > end || (record.startsReport && record.line != headerLine) {
                // The header's dump never came: the line is looked at as
                // one after a report's dumps.
                preambleEnd = nil
            } else if Self.opensHeadersDump(record.text) {
                preambleEnd = nil
                startDump(at: record)
                return true
            } else if DumpBoundaries.matches(record.text) {
                preambleEnd = nil
            } else {
                return true
            }
        }
        if record.line - lastActivity > window { return false }
        if record.line - headerLine > maxLines {
            if Self.startsDump(record.text) { droppedDumps += 1 }
            return false
        }
        if dumps.count >= maxDumps, Self.startsDump(record.text) { droppedDumps += 1 }
        if dumps.count < maxDumps, Self.startsDump(record.text) {
            var c = StackDumpCollector(start: record)
            _ = c.feed(record)
            collector = c
            lastActivity = record.line
        }
        return true
    }

    /// Starts a new dump at `record`, a line the caller knows to announce
    /// one in its own wording (`RCU grace-period kthread stack dump:`): the
    /// dump being collected ends before it, so whose stack follows is never
    /// mixed into the one before. The new dump's `firstLine` is the record's.
    public mutating func startDump(at record: Record) {
        if let c = collector { keep(c.dump) }
        collector = nil
        guard dumps.count < maxDumps else { return }
        var c = StackDumpCollector(start: record)
        _ = c.feed(record)
        collector = c
        lastActivity = record.line
    }

    /// Ends collection and returns every dump that had frames.
    public mutating func close() -> [StackDump] {
        if let c = collector { keep(c.dump) }
        collector = nil
        return dumps
    }

    /// The first dump that had a banner but no frames (a paste cut after
    /// `CPU: 0 PID: 333 Comm: udevadm Not tainted 5.15-rc4`): its task,
    /// release and taint still belong to the report.
    public private(set) var bannerOnly: StackDump?

    private mutating func keep(_ dump: StackDump) {
        guard !dump.frames.isEmpty else {
            if bannerOnly == nil, dump.release != nil || dump.pid != nil { bannerOnly = dump }
            return
        }
        if dumps.count < maxDumps { dumps.append(dump) } else { droppedDumps += 1 }
    }

    /// What the caps left out of this report, in words, or nil: the engine
    /// turns it into a diagnostic (`Event.cappedDetail`).
    public func capNote(_ kept: [StackDump]) -> String? {
        var parts: [String] = []
        for d in kept { if let cut = d.cutAtLine { parts.append("the dump at line \(d.firstLine)\(d.cpu.map { " (cpu \($0))" } ?? "") was cut at line \(cut), past \(1000) lines") } }
        if droppedDumps > 0 { parts.append("\(droppedDumps) further dump\(droppedDumps == 1 ? "" : "s") after the first \(maxDumps) (or past \(maxLines) lines) not read") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// Lines that may open the header's own dump: those that open any dump,
    /// and every other line the trace parser reads as part of one (a
    /// `Modules linked in:` or `RIP:` line, a frame, a section marker)
    /// that holds one of `dumpFirstLineWords`. Register and hex-dump lines
    /// follow a dump's first line and never open one, and neither does a
    /// line without those words: so the engine can pass over every line
    /// holding none (`wordsWhileAwaitingDump`) and the answer stays the same.
    public static func opensHeadersDump(_ text: String) -> Bool {
        if startsDump(text) { return true }
        guard dumpFirstLineSearch.matches(text) else { return false }
        switch TraceLineParser.parse(text) {
        case .other, .registers: return false
        default: return true
        }
    }

    /// A dump's first words other than `dumpOpenings`, anywhere in its
    /// first line: what the kernel prints first for a stuck CPU in every
    /// era (print_modules(), lockdep's irq stamps, the banner's
    /// `Hardware name:`, the NMI-sending line of an all-CPU backtrace, a
    /// work item's `Workqueue:`), an instruction pointer (`RIP: `, and
    /// arm64's `pc : ` and powerpc's `NIP [` through their offset), a
    /// frame (`func+0x18/0x90`, `[<ffffffff…>]`) or a section marker when
    /// the lines before were lost. Not `Code:`: a user-space segfault
    /// prints one after its line, in any dmesg. Every word here is asked
    /// of every line while a report waits, so none is a word prose uses.
    static let dumpFirstLineWords: [String] = ["+0x", "[<", "RIP: ", "<IRQ>", "<NMI>", "<TASK>", "<SOFTIRQ>", "<EOI>", "<EOE>",
                                            "Modules linked in:", "irq event stamp:", "hardirqs last", "softirqs last",
                                            "Hardware name:", "Sending NMI from CPU", "Workqueue:"]

    static let dumpFirstLineSearch = TriggerSearch(dumpFirstLineWords.map { Array($0.utf8) })

    /// What a report waiting for its header's dump (`Interest.waitingForDump`)
    /// must still be shown, whatever else a line holds: any word of a
    /// dump's first line, and the boundaries after which nothing belongs to
    /// a dump before (they end the wait). The engine adds every analyzer's
    /// triggers.
    public static let wordsWhileAwaitingDump: [[UInt8]] = {
        var seen = Set<[UInt8]>()
        return (dumpOpenings + dumpFirstLineWords.map { Array($0.utf8) } + DumpBoundaries.words).filter { seen.insert($0).inserted }
    }()

    /// Lines that open a new dump.
    public static func startsDump(_ text: String) -> Bool {
        guard opensWithDumpWord(text) else { return false }
        switch TraceLineParser.parse(text) {
        case .taskHeader, .crashTask, .nmiBacktrace, .callTraceHeader: return true
        default:
            let t = text.drop(while: { $0 == " " })
            return t.hasPrefix("Task dump for CPU") || t.hasPrefix("task:")
        }
    }

    /// Every line that opens a dump starts, after blanks, with one of these:
    /// the kinds `startsDump` accepts are read by `TraceLineParser` only
    /// after these words (a frame line never is one of them), and the two
    /// task-dump forms are these words. Every line in the window after a
    /// report header is asked, most are none of them, and parsing each as a
    /// trace line cost a quarter of a scan of a soft-lockup storm.
    public static let dumpOpenings: [[UInt8]] = ["Call Trace:", "Call trace:", "Backtrace:", "NMI backtrace for cpu ", "CPU: ", "PID: ",
                                          "Pid: ", "Task dump for CPU", "task:"].map { Array($0.utf8) }

    /// Whether `text` may open a dump: false only where `startsDump` is.
    static func opensWithDumpWord(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { b in
            var i = 0
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let rest = UnsafeBufferPointer(rebasing: b[i...])
            return dumpOpenings.contains { rest.starts(with: $0) }
        }
    }
}

/// sched_show_task()'s header since 5.x, `task:rcu_preempt     state:I stack:0     pid:16    tgid:16 …`:
/// the task's comm and pid (no CPU: the task may not be running).
struct SchedShowTaskLine {
    var comm: String
    var pid: Int?

    init?(_ text: String) {
        let t = text.drop { $0 == " " }
        guard t.hasPrefix("task:"), let state = t.firstOccurrence(of: " state:") else { return nil }
        let comm = t[t.index(t.startIndex, offsetBy: 5)..<state.lowerBound].trimmingBlanks()
        guard !comm.isEmpty else { return nil }
        self.comm = comm
        if let r = t.firstOccurrence(of: " pid:") {
            pid = Int(t[r.upperBound...].drop { $0 == " " }.prefix { $0.isASCII && $0.isNumber }.prefix(9))
        }
    }
}

/// Kernel lines after which nothing belongs to the dump before, whoever's
/// report it is: a panic, and the `cut here` / `end trace` frame of a WARN
/// or BUG block. They are the kernel's printing machinery, not any
/// analyzer's report; report headers are the analyzers' own and reach the
/// collector as `Record.startsReport`.
enum DumpBoundaries {
    static let words = ["Kernel panic - not syncing", "---[ end trace", "cut here ]"].map { Array($0.utf8) }
    static let search = TriggerSearch(words)

    static func matches(_ text: String) -> Bool { search.matches(text) }
}
