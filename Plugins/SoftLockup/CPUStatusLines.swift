import FoundationEssentials
import LockscanKit

/// Where the stuck CPU's time went, as 6.10+ kernels built with
/// `CONFIG_SOFTLOCKUP_DETECTOR_INTR_STORM` print it between the header and
/// the module list (kernel/watchdog.c, `report_cpu_status()`):
///
///     CPU#9 Utilization every 4s during lockup:
///      #1:   0% system,          0% softirq,   100% hardirq,     0% idle
///      … five samples, oldest first …
///     CPU#9 Detect HardIRQ Time exceeds 50%. Most frequent HardIRQs:
///      #1: 330985      irq#7(IPI)
///      #2: 5000        irq#10(arch_timer)
///
/// These are the report's own lines, not a stack dump's, so the report
/// keeps them itself. They name the cause the stack cannot: when hard
/// interrupts took the CPU (an interrupt storm), the stack only shows
/// where the last interrupt landed.
struct CPUStatus {
    /// The kernel's own threshold (`HARDIRQ_PERCENT_THRESH`) for counting
    /// interrupts: above it, it suspects a storm.
    static let stormPercent = 50

    /// One sample period: percentages of system, softirq, hardirq and idle time.
    struct Sample: Equatable {
        var system: Int
        var softirq: Int
        var hardirq: Int
        var idle: Int
    }

    /// An interrupt and how often it fired during the lockup.
    struct IRQCount: Equatable {
        var irq: String
        var count: Int
    }

    enum Line: Equatable {
        case utilizationHeader(cpu: Int?)
        case sample(Sample)
        case irqHeader(cpu: Int?)
        case irqCount(IRQCount)
    }

    private(set) var samples: [Sample] = []
    private(set) var irqs: [IRQCount] = []
    /// What the next status line may be, and the physical line it must be
    /// on: the kernel prints the block in one piece.
    private var expecting: (section: Section, line: Int)?
    private enum Section { case samples, irqs }

    var isEmpty: Bool { samples.isEmpty && irqs.isEmpty }

    /// Whether `record` is a status line of the report for `cpu` (nil when
    /// its header named none); the line is then recorded.
    mutating func read(_ record: Record, reportCPU cpu: Int?) -> Bool {
        guard let line = Self.parse(record.text) else { return false }
        switch line {
        case let .utilizationHeader(c), let .irqHeader(c):
            // Another CPU's block, interleaved on the console, is not this report's.
            guard c == cpu || cpu == nil || c == nil else { return false }
            if case .utilizationHeader = line { expecting = (.samples, record.line + 1) } else { expecting = (.irqs, record.line + 1) }
            return true
        case let .sample(s):
            guard let e = expecting, e.section == .samples, e.line == record.line, samples.count < 16 else { return false }
            samples.append(s)
            expecting = (.samples, record.line + 1)
            return true
        case let .irqCount(i):
            guard let e = expecting, e.section == .irqs, e.line == record.line, irqs.count < 16 else { return false }
            irqs.append(i)
            expecting = (.irqs, record.line + 1)
            return true
        }
    }

    /// Hard interrupts took more than the kernel's storm threshold in some sample.
    var looksLikeInterruptStorm: Bool { samples.contains { $0.hardirq > Self.stormPercent } || !irqs.isEmpty }

    /// `system 98%, softirq 1%, hardirq 3%, idle 0%`: the newest sample (the kernel prints them oldest first).
    var newestSample: String? {
        samples.last.map { "system \($0.system)%, softirq \($0.softirq)%, hardirq \($0.hardirq)%, idle \($0.idle)%" }
    }

    /// `irq#7(IPI) 330985, irq#10(arch_timer) 5000`.
    var mostFrequentIRQs: String? {
        irqs.isEmpty ? nil : irqs.map { "\($0.irq) \($0.count)" }.joined(separator: ", ")
    }

    // MARK: - Reading the lines

    /// The words that put these lines in front of the analyzer (its triggers).
    static let words = ["Utilization every", "% hardirq,", "Most frequent HardIRQs", "irq#"]

    static func parse(_ text: String) -> Line? {
        let t = Substring(text).drop { $0 == " " || $0 == "\t" }
        if t.hasPrefix("CPU#") {
            let cpu = Self.number(t.dropFirst(4))
            if t.includes(" Utilization every ") { return .utilizationHeader(cpu: cpu) }
            if t.includes("Most frequent HardIRQs") { return .irqHeader(cpu: cpu) }
            return nil
        }
        // `#1:` then the sample or the count.
        guard t.hasPrefix("#"), let colon = t.firstIndex(of: ":"), Self.number(t.dropFirst()) != nil else { return nil }
        let body = t[t.index(after: colon)...]
        if body.includes("% hardirq") { return sample(body).map { .sample($0) } }
        if let r = body.firstOccurrence(of: "irq#") {
            guard let count = Self.number(body.drop { $0 == " " || $0 == "\t" }) else { return nil }
            let name = body[r.lowerBound...].prefix { !$0.isWhitespace }
            return .irqCount(IRQCount(irq: String(name.prefix(64)), count: count))
        }
        return nil
    }

    /// `  0% system,\t  0% softirq,\t100% hardirq,\t  0% idle`; a variant
    /// proposed upstream prints tenths (`95.0% hardirq`), read as whole percents.
    private static func sample(_ body: Substring) -> Sample? {
        var values: [String: Int] = [:]
        for field in body.split(separator: ",") {
            let f = field.drop { $0 == " " || $0 == "\t" }
            guard let pct = f.firstIndex(of: "%"), let v = number(f[..<pct]) else { return nil }
            let name = f[f.index(after: pct)...].drop { $0 == " " || $0 == "\t" }.prefix { $0.isLetter }
            values[String(name)] = v
        }
        guard let system = values["system"], let softirq = values["softirq"], let hardirq = values["hardirq"],
              let idle = values["idle"] else { return nil }
        return Sample(system: system, softirq: softirq, hardirq: hardirq, idle: idle)
    }

    /// The leading decimal digits of `s`, at most nine of them (a bound, not
    /// a trap, for hostile input); nil when it starts with none.
    private static func number(_ s: Substring) -> Int? {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        return Int(digits)
    }
}
