import FoundationEssentials
import LockscanKit

/// The lines of a crash report, recognised by their structure in every era
/// and architecture the kernel printed them, and what each one says.
///
/// A report has up to three parts: the **fault line** that says what went
/// wrong (`BUG: kernel NULL pointer dereference, address: …`, arm's `Unable
/// to handle kernel paging request at virtual address …`, `kernel BUG at
/// mm/slub.c:123!`), the **die line** `die()` prints with the oops counter
/// (`Oops: 0000 [#1] SMP`, `general protection fault: 0000 [#1]`,
/// `Internal error: Oops: 96000004 [#1] PREEMPT SMP`, powerpc's `Oops:
/// Kernel access of bad area, sig: 11 [#1]`), then the dump; and possibly the
/// **panic** it leads to (`Kernel panic - not syncing: Fatal exception`).
enum CrashLine: Equatable {
    /// What faulted, in the kernel's words, normalised to one reason per kind
    /// of fault so that every era's wording titles alike.
    case fault(reason: String)
    /// `die()`'s line: the reason it names (x86 prints the trap's name before
    /// the error code) and the `[#N]` oops counter.
    case die(reason: String, count: Int?)
    /// `Kernel panic - not syncing: REASON`.
    case panic(reason: String)
    /// The closing `---[ end Kernel panic - not syncing: … ]---` marker: the
    /// same panic said again, not a new one.
    case panicEnd

    static let panicMarker = "Kernel panic - not syncing"

    /// Fault-line wordings, and the reason each one stands for. Matched as
    /// substrings: printk prefixes (`BUG: `, `<1>`) differ between eras and
    /// architectures, the words after them do not.
    static let faults: [(marker: String, reason: String)] = [
        ("NULL pointer dereference", "BUG: kernel NULL pointer dereference"),
        ("unable to handle page fault", "BUG: unable to handle page fault"),
        ("unable to handle kernel paging request", "BUG: unable to handle page fault"),
        ("Unable to handle kernel paging request", "BUG: unable to handle page fault"),
        ("Unable to handle kernel access", "BUG: unable to handle page fault"),
        ("Unable to handle kernel data access", "BUG: unable to handle page fault"),
        ("Unable to handle kernel instruction fetch", "BUG: unable to handle page fault"),
        ("Unable to handle kernel execute", "BUG: unable to handle page fault"),
        ("kernel BUG at ", "kernel BUG"),
    ]

    /// The strings that make a line worth reading while idle (the engine's
    /// prefilter): every fault wording, the oops counter, the panic.
    static let triggers = ["NULL pointer dereference", "nable to handle", "kernel BUG at ", " [#", "Oops[#", panicMarker]

    /// Report headers other analyzers' collections must end at: the fault
    /// and die lines. The panic is not one: DumpBoundaries already ends
    /// every dump there, and a lockup analyzer that claims a panic declares
    /// it, which is how this analyzer tells a lockup's panic from a crash's.
    /// User space's `traps: a.out[12] general protection fault ip:… sp:…` is
    /// not the kernel's: only die()'s `general protection fault: ` and `,
    /// probably for non-canonical` forms are headers.
    static let reportHeaders = ["BUG: kernel NULL pointer dereference", "Kernel NULL pointer dereference on",
                                "unable to handle page fault", "nable to handle kernel", "kernel BUG at ",
                                "Internal error: Oops", "general protection fault: ", "general protection fault, probably"]

    /// `kernel BUG at mm/slub.c:3859!` → `mm/slub.c:3859`.
    static func bugLocation(_ text: String) -> String? {
        guard let r = text.firstOccurrence(of: "kernel BUG at ") else { return nil }
        let at = text[r.upperBound...].prefix { $0 != "!" && $0 != " " }
        return at.isEmpty ? nil : String(at.prefix(200))
    }

    static func classify(_ text: String) -> CrashLine? {
        let t = text.drop(while: { $0 == " " || $0 == "\t" })
        if t.includes(panicMarker) {
            if t.hasPrefix("---[ end ") { return .panicEnd }
            guard let r = t.firstOccurrence(of: panicMarker) else { return nil }
            var reason = t[r.upperBound...].drop(while: { $0 == ":" || $0 == " " })
            if reason.hasSuffix("]---") { reason = reason.dropLast(4) }
            return .panic(reason: String(reason.trimmingBlanks().prefix(200)))
        }
        if let die = dieLine(t) { return die }
        for f in faults where t.includes(f.marker) {
            // A later mention ("… at address 0 after NULL pointer dereference
            // check") is not the kernel's fault line: it starts the message,
            // after at most a printk prefix such as `BUG: `.
            guard let r = t.firstOccurrence(of: f.marker), t.distance(from: t.startIndex, to: r.lowerBound) <= 40 else { continue }
            return .fault(reason: f.reason)
        }
        return nil
    }

    /// `REASON … [#N]`: the oops counter in brackets is what marks die()'s
    /// line in every architecture. Accepted when the reason names an Oops or
    /// an internal error (arm, powerpc, mips, s390), or has x86's shape
    /// `trap name: 4-hex-digit error code [#N]`.
    static func dieLine(_ t: Substring) -> CrashLine? {
        guard let hash = t.firstOccurrence(of: "[#") else { return nil }
        let digits = t[hash.upperBound...].prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 6, t[hash.upperBound...].dropFirst(digits.count).first == "]" else { return nil }
        let count = Int(digits)
        var head = Substring(t[..<hash.lowerBound].trimmingBlanks())
        // 6.x x86 puts "Oops: " before the trap's name ("Oops: general
        // protection fault, …: 0000 [#1]"): the name still says more.
        let saysOops = head.hasPrefix("Oops") || head.hasPrefix("Internal error:")
        if head.hasPrefix("Oops: ") { head = head.dropFirst(6) }
        if let trap = x86Trap(head) { return .die(reason: trap, count: count) }
        return saysOops ? .die(reason: "Oops", count: count) : nil
    }

    /// x86's `trap name: 0000` (`general protection fault: 0000`, `invalid
    /// opcode: 0000`, newer `general protection fault, probably for
    /// non-canonical address 0x…: 0000`): the name, lower-case words only.
    static func x86Trap(_ head: Substring) -> String? {
        guard let colon = head.lastOccurrence(of: ": ") else { return nil }
        let code = head[colon.upperBound...]
        guard code.count == 4, code.allSatisfy(\.isHexDigit) else { return nil }
        var name = head[..<colon.lowerBound]
        if let comma = name.firstIndex(of: ",") { name = name[..<comma] }
        guard !name.isEmpty, name.count <= 40, name.allSatisfy({ $0.isLowercase || $0 == " " }) else { return nil }
        return String(name)
    }
}

/// Where the kernel says it faulted, for the wordings the stack parser does
/// not read as an instruction pointer: old x86's `IP: [<…>] func+0x1a/0xc0`
/// line under the fault line, i386's `EIP is at func+…` and `EIP: func+…`,
/// arm32's `PC is at func+…`, and 2.6 x86-64's `RIP  [<…>] func+…` summary.
enum FaultSite {
    static let prefixes = ["EIP is at ", "PC is at ", "IP: ", "EIP: ", "RIP  "]

    static func parse(_ text: String) -> Frame? {
        var t = Substring(text.drop(while: { $0 == " " }))
        guard let p = prefixes.first(where: { t.hasPrefix($0) }) else { return nil }
        t = t.dropFirst(p.count)
        // `0060:[<c0154210>]` / `[<ffffffff812c6e9a>]`: addresses only.
        while let open = t.firstOccurrence(of: "[<"), let close = t.firstOccurrence(of: ">]"), open.lowerBound < close.lowerBound {
            t = t[close.upperBound...]
        }
        let symbol = t.trimmingBlanks()
        guard symbol.contains("+0x"), case let .frames(_, frame?) = TraceLineParser.parse(symbol), frame.function != nil else { return nil }
        var f = frame
        f.isInstructionPointer = true
        f.reliable = true
        return f
    }
}

/// Who oopsed, in the 2.6-era i386 layout that printed no `CPU: … PID: …
/// Comm:` banner: `CPU:    0` on a line of its own, then `Process java
/// (pid: 26272, threadinfo=… task=…)`.
enum OldBanner {
    static func cpu(_ text: String) -> Int? {
        let t = text.drop(while: { $0 == " " })
        guard t.hasPrefix("CPU:") else { return nil }
        let digits = t.dropFirst(4).drop(while: { $0 == " " })
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    static func process(_ text: String) -> (comm: String, pid: Int)? {
        let t = text.drop(while: { $0 == " " })
        guard t.hasPrefix("Process "), let open = t.firstOccurrence(of: " (pid: ") else { return nil }
        let comm = t[t.index(t.startIndex, offsetBy: 8)..<open.lowerBound]
        let digits = t[open.upperBound...].prefix(while: { $0.isASCII && $0.isNumber })
        guard !comm.isEmpty, digits.count <= 9, let pid = Int(digits) else { return nil }
        return (String(comm), pid)
    }
}
