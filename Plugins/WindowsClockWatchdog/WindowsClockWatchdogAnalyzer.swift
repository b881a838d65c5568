import FoundationEssentials
import LockscanKit

/// A Windows guest's bug check 0x101, CLOCK_WATCHDOG_TIMEOUT, from WinDbg's
/// `!analyze -v` output on its crash dump.
///
/// Windows expects every processor to take its clock interrupt; when a
/// secondary processor misses them for the allowed interval (Arg1, in clock
/// ticks) the system bugchecks, naming the processor (Arg4, its index; Arg3,
/// its PRCB). In a KVM guest the "hung processor" is usually a vCPU thread
/// the host did not run, or one spinning on a lock whose holder was
/// descheduled: the Hyper-V enlightenments (relaxed timing, PV spinlocks)
/// exist for this.
///
/// Two layouts are read: the classic one (`CLOCK_WATCHDOG_TIMEOUT (101)`,
/// `Arg1: 00000061, …` … `Arg4:`, `BUGCHECK_STR:`, `STACK_TEXT:`) and the one
/// newer WinDbg prints after the Args (`KEY_VALUES_STRING: 1`, `Key  :` /
/// `Value:` pairs, `BUGCHECK_CODE:  101`, `BUGCHECK_P1: 61` … `BUGCHECK_P4: 1`,
/// `PROCESS_NAME:`, `STACK_TEXT:`). The crash time and boot time come from
/// `Debug session time:` and `System Uptime:` earlier in the output.
public final class WindowsClockWatchdogAnalyzer: Analyzer, ReusableAfterFinish {
    public static let descriptor = AnalyzerDescriptor(
        id: "windows-clock-watchdog",
        title: "Windows CLOCK_WATCHDOG_TIMEOUT (bug check 0x101)",
        explanation: explanation,
        eventKinds: ["windows_clock_watchdog"],
        triggers: ["CLOCK_WATCHDOG_TIMEOUT (101)", "BUGCHECK_CODE:", "BugCheck 101,", "Debug session time:", "System Uptime:"],
        examples: examples,
        make: { WindowsClockWatchdogAnalyzer() })

    static let explanation = """
        Windows stopped with bug check 0x101 CLOCK_WATCHDOG_TIMEOUT: one processor (Arg4 \
        gives its index, Arg3 its PRCB) did not take its clock interrupt within the \
        allowed interval (Arg1, in clock ticks), so Windows treats it as hung. On real \
        hardware that is a processor deadlocked with interrupts off. In a KVM guest it \
        usually means the vCPU was not running: the host did not schedule its thread \
        (overcommit, a host stall, a pause or migration), or it spun on a lock whose \
        holder's vCPU was descheduled.
        """

    private var crashTime: String?
    private var uptime: Double?
    private var pending: Event?
    private var args: [Int: String] = [:]
    private var stackState = StackState.none
    private var linesInBlock = 0
    private var startedBySummary = false
    private var diagnostics: [Diagnostic] = []

    private enum StackState { case none, started, frames, done }

    public init() {}

    public var inputDiagnostics: [Diagnostic] { diagnostics }

    public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
        let text = record.text
        let trimmed = text.trimmingBlanks()
        if let t = WindowsDebugSession.sessionTime(text) {
            flush(emit)
            crashTime = t
            uptime = nil
            return .idle
        }
        switch WindowsDebugSession.parseUptime(text) {
        case let .success(u)?:
            uptime = u
            return pending == nil ? .idle : .collecting
        case let .failure(e)?:
            diagnostics.append(Diagnostic(file: "", line: record.line, message: e.message))
            return pending == nil ? .idle : .collecting
        case nil:
            break
        }
        let isHeader = trimmed == "CLOCK_WATCHDOG_TIMEOUT (101)" || trimmed.hasPrefix("BugCheck 101, {")
        if isHeader, pending != nil {
            // WinDbg prints the one-line summary `BugCheck 101, {61, 0, 807a3120, 1}`
            // before `!analyze -v`'s block: both are one report.
            if startedBySummary && trimmed == "CLOCK_WATCHDOG_TIMEOUT (101)" {
                startedBySummary = false
                pending?.evidence.append(text)
                return .collecting
            }
            flush(emit) // a second report
        }
        if pending == nil {
            let newLayoutStart = trimmed.hasPrefix("BUGCHECK_CODE:") && Self.value(trimmed, "BUGCHECK_CODE:") == "101"
            guard isHeader || newLayoutStart else { return .idle }
            pending = Event(analyzer: Self.descriptor.id, kind: "windows_clock_watchdog", title: "CLOCK_WATCHDOG_TIMEOUT (101)",
                            severity: .critical, source: SourceLocation(record), time: record.clock, evidence: [text],
                            explanation: Self.explanation)
            pending?.details["bugcheckCode"] = "0x101"
            startedBySummary = trimmed.hasPrefix("BugCheck 101, {")
            args = [:]
            stackState = .none
            linesInBlock = 0
            absorbKey(trimmed)
            return .collecting
        }
        guard var e = pending else { return .idle }
        linesInBlock += 1
        // The summary's own "Followup:" comes before `!analyze -v`; wait for its block.
        if linesInBlock > 600 || (trimmed.hasPrefix("Followup:") && !startedBySummary) {
            flush(emit)
            return .idle
        }
        switch stackState {
        case .started, .frames:
            if trimmed.isEmpty {
                if stackState == .frames { stackState = .done; pending = e; flush(emit); return .idle }
                return .collecting
            }
            if let frame = Self.frame(trimmed) {
                if e.stack.count < 64 { e.stack.append(frame); e.evidence.append(text) }
                e.source.endLine = record.lastLine
                stackState = .frames
                pending = e
                return .collecting
            }
            stackState = .done
        case .none, .done:
            break
        }
        if trimmed.hasPrefix("STACK_TEXT:") { stackState = .started }
        if absorbKey(trimmed) || trimmed.hasPrefix("STACK_TEXT:") {
            pending?.evidence.append(text)
            pending?.source.endLine = record.lastLine
        }
        return .collecting
    }

    public func finish(emit: (Event) -> Void) {
        flush(emit)
    }

    /// Takes `ArgN:`, `BUGCHECK_*`, `PROCESS_NAME:` lines; true when it used the line.
    @discardableResult
    private func absorbKey(_ t: String) -> Bool {
        guard var e = pending else { return false }
        defer { pending = e }
        // Classic "Arg4: 00000001" / "Arg1: 0000000000000031, Clock interrupt time out …"
        if t.count > 5, t.hasPrefix("Arg"), let n = Int(String(t.dropFirst(3).prefix(1))), (1...4).contains(n),
           t.dropFirst(4).hasPrefix(":") {
            let v = t.dropFirst(5).trimmingBlanks().prefix(while: { $0.isHexDigit || $0 == "`" })
            args[n] = Self.hex(String(v))
            return true
        }
        // Newer "BUGCHECK_P4: 1"
        if t.hasPrefix("BUGCHECK_P"), let n = Int(String(t.dropFirst(10).prefix(1))), (1...4).contains(n),
           let v = Self.value(t, "BUGCHECK_P\(n):") {
            if args[n] == nil { args[n] = Self.hex(v) }
            e.details["layout"] = "key-values"
            return true
        }
        // "BugCheck 101, {61, 0, 807a3120, 1}" (the short summary line)
        if t.hasPrefix("BugCheck 101, {") {
            let inner = t.drop(while: { $0 != "{" }).dropFirst().prefix(while: { $0 != "}" })
            for (i, v) in inner.split(separator: ",").enumerated() where i < 4 && args[i + 1] == nil {
                args[i + 1] = Self.hex(v.trimmingBlanks())
            }
            return true
        }
        if t.hasPrefix("KEY_VALUES_STRING:") { e.details["layout"] = "key-values"; return true }
        if t.hasPrefix("BUGCHECK_CODE:") { e.details["layout"] = "key-values"; return true }
        if let v = Self.value(t, "BUGCHECK_STR:") { e.details["bugcheckString"] = v; return true }
        if let v = Self.value(t, "DEFAULT_BUCKET_ID:") { e.details["bucket"] = v; return true }
        if let v = Self.value(t, "PROCESS_NAME:") { e.comm = v; return true }
        return false
    }

    private func flush(_ emit: (Event) -> Void) {
        guard var e = pending else { return }
        pending = nil
        for (n, v) in args { e.details["arg\(n)"] = v }
        if let ticks = args[1].flatMap({ UInt64($0.dropFirst(2), radix: 16) }) { e.details["timeoutTicks"] = String(ticks) }
        if let prcb = args[3] { e.details["prcb"] = prcb }
        if let cpu = args[4].flatMap({ Int($0.dropFirst(2), radix: 16) }) {
            e.cpu = cpu
            e.details["hungProcessor"] = String(cpu)
            e.title = "CLOCK_WATCHDOG_TIMEOUT (101) on processor \(cpu)"
        }
        if let crashTime {
            e.time.wall = crashTime
            e.details["crashTime"] = crashTime
            if let uptime {
                e.details["uptimeSeconds"] = String(uptime)
                e.details["bootTime"] = WindowsDebugSession.bootTime(sessionTime: crashTime, uptime: uptime)
            }
        }
        var missing = (1...4).filter { args[$0] == nil }.map { "Arg\($0)" }
        if stackState == .started { missing.append("STACK_TEXT frames") }
        if !missing.isEmpty {
            e.details["truncated"] = missing.joined(separator: ",")
            diagnostics.append(Diagnostic(file: "", line: e.source.line,
                message: "WinDbg CLOCK_WATCHDOG_TIMEOUT block is cut off (no \(missing.joined(separator: ", "))); reported with what it has"))
        }
        e.hints = Self.hints
        emit(e)
    }

    static let hints = [
        Hint("Arg4 is the index of the processor that stopped taking clock interrupts: in the dump, switch to it (`~Ns` with N = Arg4) and read its stack (`k`), `!prcb N` and `!irql`; a stack spinning on a lock points at the holder.",
             reference: "https://learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-0x101---clock-watchdog-timeout"),
        Hint("In a KVM guest check the host first: was the vCPU thread runnable but not running (overcommit, host soft lockup, paused VM, migration)? Windows guests with more than one vCPU should get the Hyper-V enlightenments hv-relaxed (Windows then relaxes its watchdog timeouts on a hypervisor) and hv-spinlocks (PV spinlock notification), usually with hv-vapic and hv-time.",
             reference: "qemu docs/system/i386/hyperv.rst"),
    ]

    /// `BUGCHECK_P1: 61` → "61".
    static func value(_ t: String, _ key: String) -> String? {
        guard t.hasPrefix(key) else { return nil }
        let v = t.dropFirst(key.count).trimmingBlanks()
        return v.isEmpty ? nil : v
    }

    /// "00000061", "0000000000000031", "fffff880`02f65180", "61" → "0x61"-style, leading zeros dropped.
    static func hex(_ v: String) -> String {
        let digits = v.replacing("`", with: "").lowercased().replacing("0x", with: "")
        let trimmed = digits.drop(while: { $0 == "0" })
        return "0x" + (trimmed.isEmpty ? "0" : String(trimmed))
    }

    /// A STACK_TEXT line: x86 `807a3000 82a8b3a0 00000101 00000061 00000000 nt!KeBugCheckEx+0x1e`
    /// or x64 `fffff880`08c33328 fffff800`02d268c9 : 00000000`00000101 … : nt!KeBugCheckEx`.
    /// The call site is the last word.
    static func frame(_ t: String) -> Frame? {
        let words = t.split(separator: " ")
        guard words.count >= 2, let first = words.first, first.allSatisfy({ $0.isHexDigit || $0 == "`" }),
              let site = words.last else { return nil }
        if let bang = site.firstIndex(of: "!") {
            let module = String(site[..<bang])
            var fn = site[site.index(after: bang)...]
            var offset: UInt64?
            if let plus = fn.lastIndex(of: "+"), fn[fn.index(after: plus)...].hasPrefix("0x") {
                offset = UInt64(fn[fn.index(plus, offsetBy: 3)...], radix: 16)
                fn = fn[..<plus]
            }
            return Frame(function: String(fn), offset: offset, module: module)
        }
        return Frame(address: String(site))
    }

    static let examples: [AnalyzerExample] = [
        AnalyzerExample("classic !analyze -v of a 32-bit Windows 7 guest", """
            Debug session time: Wed Mar 15 13:11:54.777 2017 (GMT+8)
            System Uptime: 0 days 5:00:52.740
            CLOCK_WATCHDOG_TIMEOUT (101)
            An expected clock interrupt was not received on a secondary processor in an
            MP system within the allocated interval. This indicates that the specified
            processor is hung and not processing interrupts.
            Arguments:
            Arg1: 00000061, Clock interrupt time out interval in nominal clock ticks.
            Arg2: 00000000, 0.
            Arg3: 807a3120, The PRCB address of the hung processor.
            Arg4: 00000001, 0.

            Debugging Details:
            ------------------

            BUGCHECK_STR:  CLOCK_WATCHDOG_TIMEOUT_2_PROC

            PROCESS_NAME:  System

            STACK_TEXT:
            8d54bc2c 82ac2f5a 00000101 00000061 00000000 nt!KeBugCheckEx+0x1e
            8d54bc68 82a7f3d5 82a69c2a 8d54bd10 82a69c2a nt!KeUpdateRunTime+0x1c5
            8d54bc70 82a69c2a 00000002 000000d1 8d54bc94 hal!HalpHpetClockInterrupt+0x205

            STACK_COMMAND:  kb
            """, expect: [.init(kind: "windows_clock_watchdog", title: "CLOCK_WATCHDOG_TIMEOUT (101) on processor 1", cpu: 1,
                                severity: .critical, line: 3)]),
        AnalyzerExample("newer layout with KEY_VALUES_STRING and BUGCHECK_P*", """
            CLOCK_WATCHDOG_TIMEOUT (101)
            An expected clock interrupt was not received on a secondary processor in an
            MP system within the allocated interval.
            Arguments:
            Arg1: 000000000000000c, Clock interrupt time out interval in nominal clock ticks.
            Arg2: 0000000000000000, 0.
            Arg3: ffffb600b1fe5180, The PRCB address of the hung processor.
            Arg4: 0000000000000003, The index of the hung processor.

            Debugging Details:
            ------------------

            KEY_VALUES_STRING: 1

                Key  : Analysis.CPU.mSec
                Value: 2343

            BUGCHECK_CODE:  101

            BUGCHECK_P1: c

            BUGCHECK_P2: 0

            BUGCHECK_P3: ffffb600b1fe5180

            BUGCHECK_P4: 3

            PROCESS_NAME:  System

            STACK_TEXT:
            ffff9a81`6a3ef5a8 fffff805`2a8e1b0e : 00000000`00000101 00000000`0000000c 00000000`00000000 ffffb600`b1fe5180 : nt!KeBugCheckEx
            ffff9a81`6a3ef5b0 fffff805`2a7257d3 : 00000000`00000000 00000000`00000000 00000000`00002711 00000000`00000000 : nt!KeAccumulateTicks+0x1e1f1e

            SYMBOL_NAME:  nt!KeAccumulateTicks+1e1f1e
            """, expect: [.init(kind: "windows_clock_watchdog", title: "CLOCK_WATCHDOG_TIMEOUT (101) on processor 3", cpu: 3, line: 1)]),
        AnalyzerExample("other bug checks and a Linux clocksource line are not this", """
            Debug session time: Tue Dec 18 10:39:02.334 2018 (UTC + 8:00)
            System Uptime: 3 days 23:43:07.653
            SYSTEM_SERVICE_EXCEPTION (3b)
            Arg1: 00000000c0000096, Exception code that caused the bugcheck
            BUGCHECK_CODE:  3b
            BUGCHECK_STR:  CLOCK_WATCHDOG_TIMEOUT_2_PROC
            clocksource: Switched to clocksource hpet
            """, expect: []),
    ]
}
