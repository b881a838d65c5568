import LockscanKit

/// Small bounded number readers: every number in a stall report comes from
/// the input, so none is trusted to fit or to be sane.
enum StallNumber {
    /// Decimal digits at the start of `s` (at most `maxDigits`), and what follows.
    static func leadingInt<S: StringProtocol>(_ s: S, maxDigits: Int = 9) -> (value: Int, rest: S.SubSequence)? {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= maxDigits, let v = Int(digits) else { return nil }
        return (v, s.dropFirst(digits.count))
    }

    /// The decimal number right after `marker`, bounded.
    static func after<S: StringProtocol>(_ marker: String, in s: S, maxDigits: Int = 12) -> Int? {
        guard let r = s.firstOccurrence(of: marker) else { return nil }
        return leadingInt(s[r.upperBound...], maxDigits: maxDigits)?.value
    }

    /// `0x4` → 4; at most 16 hex digits.
    static func hex<S: StringProtocol>(_ s: S) -> UInt64? {
        guard s.hasPrefix("0x") else { return nil }
        let digits = s.dropFirst(2).prefix { $0.isHexDigit }
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        return UInt64(digits, radix: 16)
    }
}

/// The line that starts a stall report, in every wording tree_stall.h,
/// tree_exp.h and their 2.6-era predecessor rcutree.c printed:
///
/// - `INFO: rcu_sched detected stalls on CPUs/tasks:` (the CPUs follow, one a line)
/// - `INFO: rcu_sched detected stalls on CPUs/tasks: { 3 5 P1234} (detected by 1, t=…)` (3.x and older, one line)
/// - `INFO: RCU detected CPU stalls: 3 5 (detected by 1, t=…)` (2.6.32)
/// - `INFO: rcu_preempt self-detected stall on CPU` and `… on CPU { 3}  (t=…)`
/// - `INFO: rcu_sched_state detected stall on CPU 3 (t=…)`, `INFO: RCU detected CPU 3 stall (t=…)` (2.6.3x self-detected)
/// - `INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 2-... P42 } 21002 jiffies s: 2325 root: 0x4/.`
/// - `INFO: rcu_tasks detected stalls on tasks:`
struct StallHeader {
    enum Detection: String { case selfDetected = "self-detected", detected, expedited }

    var flavor: String
    var detection: Detection
    /// CPUs the header line itself names.
    var cpus: [Int] = []
    /// Tasks (`P1234`) the header line names.
    var tasks: [Int] = []
    var detectedBy: Int?
    var jiffies: Int?
    /// Expedited: the root rcu_node's `->expmask` (`root: 0x4/.`).
    var expeditedRootMask: UInt64?

    static func parse(_ text: String) -> StallHeader? {
        guard text.includes("INFO: "), let info = text.firstOccurrence(of: "INFO: ") else { return nil }
        let rest = text[info.upperBound...]
        let flavor = String(rest.prefix { $0 != " " })
        guard flavor.hasPrefix("rcu") || flavor == "RCU" else { return nil }
        let body = rest.dropFirst(flavor.count)
        var h: StallHeader
        if body.hasPrefix(" self-detected stall") {
            h = StallHeader(flavor: flavor, detection: .selfDetected)
        } else if body.hasPrefix(" detected expedited stall") {
            h = StallHeader(flavor: flavor, detection: .expedited)
        } else if body.hasPrefix(" detected stalls") || body.hasPrefix(" detected CPU stalls") {
            h = StallHeader(flavor: flavor, detection: .detected)
        } else if body.hasPrefix(" detected stall on CPU ") || body.hasPrefix(" detected CPU ") {
            // 2.6.3x: the CPU reporting its own stall names itself.
            h = StallHeader(flavor: flavor, detection: .selfDetected)
            let afterCPU = body.firstOccurrence(of: "CPU ").map { body[$0.upperBound...] } ?? body
            if let n = StallNumber.leadingInt(afterCPU, maxDigits: 6) { h.cpus = [n.value] }
        } else {
            return nil
        }
        if let open = body.firstIndex(of: "{"), let close = body[open...].firstIndex(of: "}") {
            h.read(list: body[body.index(after: open)..<close])
        } else if body.hasPrefix(" detected CPU stalls:"), let colon = body.firstIndex(of: ":") {
            let end = body.firstIndex(of: "(") ?? body.endIndex
            if colon < end { h.read(list: body[body.index(after: colon)..<end]) }
        }
        h.detectedBy = StallNumber.after("detected by ", in: body, maxDigits: 6)
        h.jiffies = StallNumber.after("t=", in: body) ?? (h.detection == .expedited ? StallNumber.after("} ", in: body) : nil)
        if let r = body.firstOccurrence(of: "root: ") { h.expeditedRootMask = StallNumber.hex(body[r.upperBound...]) }
        return h
    }

    /// `3 5 P1234`, `2-... 7-O.N. P42/1:b..l`: CPUs, with or without flags, and tasks.
    private mutating func read(list: Substring) {
        for token in list.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if token.hasPrefix("P"), let t = StallNumber.leadingInt(token.dropFirst(), maxDigits: 8) {
                if tasks.count < StalledSet.limit { tasks.append(t.value) }
            } else if let c = StallNumber.leadingInt(token, maxDigits: 6), c.rest.isEmpty || c.rest.hasPrefix("-") {
                if cpus.count < StalledSet.limit, !cpus.contains(c.value) { cpus.append(c.value) }
            }
        }
    }
}

/// The lines inside a report, after its header.
enum StallLine: Equatable {
    /// `\t3-...0: (1 GPs behind) idle=…`, `rcu: \t3-...!: (0 ticks this GP) …`, 3.x `\t3: (20822 ticks this GP) …`.
    case stalledCPU(Int)
    /// `\tTasks blocked on level-0 rcu_node (CPUs 0-7): P1234 P42/1:b..l`
    case blockedTasks([Int])
    /// `\t(detected by 1, t=10502 jiffies, g=…)`, self-detected `\t(t=10500 jiffies g=… q=…)`.
    case summary(detectedBy: Int?, jiffies: Int?)
    /// Expedited: `blocking rcu_node structures (internal RCU debug): l=1:0-15:0x4/.` — the leaves'
    /// `->expmask` bits are CPUs counted from the node's first CPU.
    case expeditedNodes([ExpeditedNodeMask])
    /// `rcu_preempt kthread starved for 10502 jiffies! g… f0x0 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=3`
    case kthreadStarved(KthreadStarvation)
    /// `rcu_preempt kthread timer wakeup didn't happen for 10501 jiffies! g… RCU_GP_WAIT_FQS(5) ->state=0x402`
    case kthreadTimerWakeupMissed(jiffies: Int?)
    /// `\tPossible timer handling issue on cpu=0 timer-softirq=10563`
    case timerHandlingIssue(cpu: Int?, timerSoftirq: Int?)
    /// `\tUnless rcu_preempt kthread gets sufficient CPU time, OOM is now expected behavior.`
    case oomExpected
    /// `All QSes seen, last rcu_preempt kthread activity 17821 (…), jiffies_till_next_fqs=3, root ->qsmask 0x0`
    case allQuiescentStatesSeen(kthreadActivityJiffies: Int?)
    /// `RCU grace-period kthread stack dump:`: the next dump is the kthread's (a sleeping task, not a CPU).
    case kthreadStackFollows
    /// `Stack dump where RCU GP kthread last ran:`: the next dump is that CPU's; it is not a stalled CPU.
    case kthreadCPUStackFollows
    /// `NMI backtrace for cpu 1 skipped: idling at default_idle+0x1e/0x130`: a stalled CPU found idle.
    case idleBacktrace(cpu: Int, frame: Frame?)

    static func parse(_ text: String) -> StallLine? {
        // Indented in a paste (`  rcu: \t24-....:`): the indentation is not the kernel's.
        var t = Substring(text).drop { $0 == " " || $0 == "\t" }
        if t.hasPrefix("rcu:") { t = t.dropFirst(4) }
        t = t.drop { $0 == " " || $0 == "\t" }
        if t.hasPrefix("(detected by ") || t.hasPrefix("(t=") {
            return .summary(detectedBy: StallNumber.after("detected by ", in: t, maxDigits: 6), jiffies: StallNumber.after("t=", in: t))
        }
        if let cpu = stalledCPU(t) { return .stalledCPU(cpu) }
        if t.hasPrefix("Tasks blocked on "), let colon = t.firstOccurrence(of: "):") {
            let tasks = t[colon.upperBound...].split(separator: " ").compactMap { tok -> Int? in
                tok.hasPrefix("P") ? StallNumber.leadingInt(tok.dropFirst(), maxDigits: 8)?.value : nil
            }
            return .blockedTasks(Array(tasks.prefix(StalledSet.limit)))
        }
        if t.includes("blocking rcu_node structures") {
            return .expeditedNodes(t.split(separator: " ").compactMap(ExpeditedNodeMask.parse))
        }
        if let s = KthreadStarvation.parse(text) { return .kthreadStarved(s) }
        if t.includes(" kthread timer wakeup didn't happen for ") {
            return .kthreadTimerWakeupMissed(jiffies: StallNumber.after("happen for ", in: t))
        }
        if t.hasPrefix("Possible timer handling issue on cpu=") {
            return .timerHandlingIssue(cpu: StallNumber.after("cpu=", in: t, maxDigits: 6), timerSoftirq: StallNumber.after("timer-softirq=", in: t))
        }
        if t.hasPrefix("Unless "), t.includes("OOM is now expected behavior") { return .oomExpected }
        if t.hasPrefix("All QSes seen") { return .allQuiescentStatesSeen(kthreadActivityJiffies: StallNumber.after("kthread activity ", in: t)) }
        if t.hasPrefix("RCU grace-period kthread stack dump:") { return .kthreadStackFollows }
        if t.hasPrefix("Stack dump where RCU GP kthread last ran:") { return .kthreadCPUStackFollows }
        if t.hasPrefix("NMI backtrace for cpu "), let skipped = t.firstOccurrence(of: " skipped: idling at "),
           let cpu = StallNumber.after("for cpu ", in: t, maxDigits: 6) {
            var frame: Frame?
            if case let .frames(_, f?) = TraceLineParser.parse(" " + t[skipped.upperBound...]) {
                frame = f
                frame?.isInstructionPointer = true
            }
            return .idleBacktrace(cpu: cpu, frame: frame)
        }
        return nil
    }

    /// `3-...0: (`, `3-....: (`, `3: (` followed by the GP or tick count: the CPU's number.
    private static func stalledCPU(_ t: Substring) -> Int? {
        guard let n = StallNumber.leadingInt(t, maxDigits: 6) else { return nil }
        var rest = n.rest
        if rest.hasPrefix("-") {
            // The state flags: O/o/N/D or '.', then an irq-work digit, '!' or '.'.
            let flags = rest.dropFirst().prefix { "OoNDd.!?0123456789".contains($0) }
            guard !flags.isEmpty, flags.count <= 6 else { return nil }
            rest = rest.dropFirst(1 + flags.count)
        }
        guard rest.hasPrefix(": (") else { return nil }
        let inside = rest.dropFirst(3)
        guard inside.includes(" GPs behind)") || inside.includes(" ticks this GP)") else { return nil }
        return n.value
    }
}

/// One `l=LEVEL:FIRST-LAST:0xMASK/T` node of an expedited stall's blocking list.
struct ExpeditedNodeMask: Equatable {
    var level: Int
    var firstCPU: Int
    var lastCPU: Int
    var mask: UInt64

    static func parse(_ token: Substring) -> ExpeditedNodeMask? {
        guard token.hasPrefix("l=") else { return nil }
        let parts = token.dropFirst(2).split(separator: ":")
        guard parts.count >= 3, let level = StallNumber.leadingInt(parts[0], maxDigits: 3)?.value else { return nil }
        let range = parts[1].split(separator: "-")
        guard range.count == 2, let lo = StallNumber.leadingInt(range[0], maxDigits: 6)?.value,
              let hi = StallNumber.leadingInt(range[1], maxDigits: 6)?.value, lo <= hi,
              let mask = StallNumber.hex(parts[2]) else { return nil }
        return ExpeditedNodeMask(level: level, firstCPU: lo, lastCPU: hi, mask: mask)
    }

    /// CPUs of a leaf node's mask: bit i is CPU `firstCPU + i`, never past `lastCPU`.
    var leafCPUs: [Int] {
        (0..<64).filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map { firstCPU + $0 }.filter { $0 <= lastCPU }
    }
}

/// `rcu_preempt kthread starved for 10502 jiffies! g14549 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1`:
/// the grace-period kthread did not run. `->cpu` is where it last ran, not a stalled CPU.
struct KthreadStarvation: Equatable {
    var flavor: String
    var jiffies: Int
    var cpu: Int?
    /// `RCU_GP_WAIT_FQS(5)`: what the kthread was doing.
    var gpState: String?

    static func parse(_ text: String) -> KthreadStarvation? {
        guard text.includes(" kthread starved for "), let r = text.firstOccurrence(of: " kthread starved for ") else { return nil }
        let flavor = String(text[..<r.lowerBound].split(separator: " ").last ?? "rcu")
        guard let jiffies = StallNumber.after("starved for ", in: text) else { return nil }
        let state = text[r.upperBound...].split(separator: " ").first { $0.hasPrefix("RCU_GP_") }.map(String.init)
        return KthreadStarvation(flavor: flavor, jiffies: jiffies, cpu: StallNumber.after("->cpu=", in: text, maxDigits: 6), gpState: state)
    }
}

/// Stalled CPUs and tasks in the order the report named them, bounded.
struct StalledSet {
    static let limit = 256
    private(set) var items: [Int] = []

    mutating func insert(_ v: Int) {
        if items.count < Self.limit, !items.contains(v) { items.append(v) }
    }

    var joined: String { items.map(String.init).joined(separator: ",") }
}
