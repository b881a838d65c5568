import Foundation
import PropertyBased

/// Inputs shaped like what lockscan reads, with every number slot filled by
/// a value from `numbers` — mostly ordinary, often hostile (past Int64 and
/// UInt64, negative, NaN, exponents, other scripts' digits, empty). Random
/// bytes alone rarely get past the first parser; these reach the analyzers,
/// the host readers and the symbolizer's arithmetic.
enum LogSoup {
    /// Ordinary values weigh as much as hostile ones, so structures still form.
    static let numbers = ["0", "1", "2", "3", "4", "12", "42", "123", "1000", "65535",
                          "-1", "-0", "9223372036854775807", "9223372036854775808", "18446744073709551615",
                          "18446744073709551616", "99999999999999999999999999", "4294967296", "2147483648",
                          "1e308", "1e309", "nan", "inf", "3.5", "00000000000000000000000000000001", "",
                          "\u{0663}", "1\u{0}2", "999999999999"]
    static let hex = ["0", "1", "10", "ff", "deadbeef", "ffffffff81000000", "ffffffffc0000000", "ffffffffffffffff",
                      "10000000000000000", "7fffffffffffffff", "8000000000000000", "fffffffffffffffffffffffff", "", "g"]

    /// One line per report element lockscan reads: `{}` is a number, `{x}` hex digits.
    static let templates = [
        "[{}.{}] watchdog: BUG: soft lockup - CPU#{} stuck for {}s! [kworker/{}:{}:{}]",
        "[{}.{}] NMI watchdog: Watchdog detected hard LOCKUP on cpu {}",
        "[{}.{}] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
        "[{}.{}] rcu: \t{}-...!: ({} ticks this GP) idle={x}/1/0x{x} softirq={}/{} fqs={} ",
        "[{}.{}] \t(detected by {}, t={} jiffies, g={}, q={} ncpus={})",
        "[{}.{}] rcu: INFO: rcu_preempt self-detected stall on CPU",
        "[{}.{}] rcu: rcu_preempt kthread starved for {} jiffies! g{} f0x{x} RCU_GP_WAIT_FQS({}) ->state=0x{x} ->cpu={}",
        "[{}.{}] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: {{} } {} jiffies s: {} root: 0x{x}/.",
        "[{}.{}] rcu: blocking rcu_node structures (internal RCU debug): l=1:{}-{}:0x{x}/.",
        "[{}.{}] INFO: task {}:{} blocked for more than {} seconds.",
        "[{}.{}] sched: RT throttling activated",
        "[{}.{}] CPU: {} PID: {} Comm: swapper/{} Tainted: G W {}.{}.{}-{}-generic #{}",
        "[{}.{}]  ? native_queued_spin_lock_slowpath+0x{x}/0x{x}",
        "[{}.{}]  [<{x}>] _raw_spin_lock+0x{x}/0x{x}",
        "[{}.{}]  [<{x}>] ? {x}",
        "[{}.{}] RIP: 0010:native_queued_spin_lock_slowpath+0x{x}/0x{x}",
        "[{}.{}] Kernel Offset: 0x{x} from 0x{x} (relocation range: 0x{x}-0x{x})",
        "[{}.{}] clocksource: timekeeping watchdog on CPU{}: Marking clocksource 'tsc' as unstable because the skew is too large:",
        "[{}.{}] clocksource:                       'hpet' wd_now: {x} wd_last: {x} mask: {x}",
        "[{}.{}] TSC synchronization [CPU#{} -> CPU#{}]:",
        "[{}.{}] Measured {} cycles TSC warp between CPUs, turning off TSC clock.",
        "[{}.{}] NMI backtrace for cpu {}",
        "[{}.{}] Sending NMI from CPU {} to CPUs {}-{}:",
        "[{}.{}] BUG: spinlock lockup suspected on CPU#{}, {}/{}",
        "[{}.{}] BUG: workqueue lockup - pool cpus={} node={} flags=0x{x} nice={} stuck for {}s!",
        "[{}.{}] Kernel panic - not syncing: softlockup: hung tasks",
        "[{}.{}] Call Trace:", "[{}.{}]  <IRQ>", "[{}.{}]  </IRQ>", "[{}.{}]  <NMI>",
        "<{}>[{}.{}] watchdog: BUG: soft lockup - CPU#{} stuck for {}s!",
        "{},{},{},-;NMI watchdog: Watchdog detected hard LOCKUP on cpu {}",
        "Oct {} {}:{}:{} host kernel: [{}.{}] INFO: rcu_sched self-detected stall on CPU { {}}  (t={} jiffies g={} c={} q={})",
        "{}-{}-{}T{}:{}:{}.{}+{}:{} host kernel: [{}.{}] kvm: vcpu{} unhandled rdmsr: 0x{x}",
        "{}-{}-{} {}:{}:{}.{}+0000: {}: info : virDomainObjTaint:{} : Domain id={} is tainted: high-privileges",
        "{}-{}-{} {}:{}:{}.{}+0000: starting up libvirt version: {}.{}.{}, qemu version: {}.{}.{}",
        "LC_ALL=C PATH=/usr/bin /usr/bin/kvm-spice -name win7 -machine pc-i440fx-{}.{},accel=kvm -cpu host -m {} -smp {},sockets={},cores={},threads={} -rtc base=localtime -no-hpet",
        "{\"timestamp\": {\"seconds\": {}, \"microseconds\": {}}, \"event\": \"STOP\"}",
        "{\"__REALTIME_TIMESTAMP\": \"{}\", \"__MONOTONIC_TIMESTAMP\": \"{}\", \"MESSAGE\": \"watchdog: BUG: soft lockup - CPU#{} stuck for {}s!\"}",
        "BugCheck 101, {{x}, {}, {x}, {}}",
        "CLOCK_WATCHDOG_TIMEOUT (101)",
        "System Uptime: {} days {}:{}:{}.{}",
        "Debug session time: Mon Jan {} {}:{}:{}.{} {} (UTC + {}:00)",
        "Arg1: {x}, Clock interrupt time out interval in nominal clock ticks.",
        " #{} [{x}] native_queued_spin_lock_slowpath at {x}",
        "PID: {}  TASK: {x}  CPU: {}  COMMAND: \"qemu-kvm\"",
        "    [exception RIP: tg_unthrottle_up+{}]",
        "> > [  {}.{}]  ? __schedule+0x{x}/0x{x} [kvm]",
        "pstore: Panic#{} Part{}",
    ]

    /// One of `values` (never empty here, so never nil).
    static func pick(_ values: [String]) -> Generator<String, Shrink.None<String?>> {
        Gen.element(of: values).map { $0 ?? "" }
    }

    static func fill(_ template: String, _ values: [String], _ hexes: [String]) -> String {
        var out = "", n = 0, h = 0
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[open...]
            if after.hasPrefix("{}") {
                out += values[n % values.count]; n += 1
                rest = after.dropFirst(2)
            } else if after.hasPrefix("{x}") {
                out += hexes[h % hexes.count]; h += 1
                rest = after.dropFirst(3)
            } else {
                out += "{"
                rest = after.dropFirst()
            }
        }
        return out + rest
    }

    static let line = zip(pick(templates), pick(numbers).array(of: 12), pick(hex).array(of: 6))
        .map { template, values, hexes in fill(template, values, hexes) }

    /// A log of up to 60 such lines, in any order.
    static let text = line.array(of: 1...60).map { $0.joined(separator: "\n") + "\n" }

    static let addressTemplates = [
        "0x{x}", "{x}", "outer+0x{x}/0x{x}", "outer+0x{x}", "main+{}", "outer+{}/{}", "[<{x}>] outer+0x{x}/0x{x}",
        " ? outer+0x{x}/0x{x} [mod]", "RIP: 0010:outer+0x{x}/0x{x}", "Kernel Offset: 0x{x} from 0x{x}", "{}", "",
        "[{}.{}]  outer+0x{x}/0x{x}", "[{}.{}] Linux version {}.{}.{}-{} (gcc) #1 SMP",
    ]
    static let addressLine = zip(pick(addressTemplates), pick(numbers).array(of: 4), pick(hex).array(of: 4))
        .map { template, values, hexes in fill(template, values, hexes) }
    static let addressLines = addressLine.array(of: 1...40).map { $0.joined(separator: "\n") + "\n" }
}

/// How a real capture gets broken on its way to lockscan: a number
/// replaced, a cut, a pasted foreign line, a repeated block, a flipped
/// byte, a lost line, binary junk.
struct Mutation: Sendable, CustomStringConvertible {
    var kind: Int
    var at: Double
    var payload: String

    var description: String { "\(kind)@\(at):\(payload.debugDescription)" }

    static let list = zip(Gen.int(in: 0...6), Gen.double(in: 0...1), zip(LogSoup.pick(LogSoup.numbers), LogSoup.line))
        .map { kind, at, payload in Mutation(kind: kind, at: at, payload: kind == 2 ? payload.1 : payload.0) }
        .array(of: 1...6)

    static func apply(_ mutations: [Mutation], to data: Data) -> Data {
        var b = [UInt8](data)
        for m in mutations {
            let i = b.isEmpty ? 0 : min(b.count - 1, Int(m.at * Double(b.count - 1)))
            let lineStart = b[..<min(i, b.count)].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            let lineEnd = b[i...].firstIndex(of: 0x0A).map { $0 + 1 } ?? b.count
            switch m.kind {
            case 0:  // a digit run becomes the payload number
                var s = i
                while s < b.count, !(0x30...0x39).contains(b[s]) { s += 1 }
                var e = s
                while e < b.count, (0x30...0x39).contains(b[e]) { e += 1 }
                b.replaceSubrange(s..<e, with: Array(m.payload.utf8))
            case 1: b.removeSubrange(i..<b.count)
            case 2: b.insert(contentsOf: Array((m.payload + "\n").utf8), at: lineStart)
            case 3: if lineEnd > lineStart { b.insert(contentsOf: Array(repeating: b[lineStart..<lineEnd], count: 50).joined(), at: lineEnd) }
            case 4: if i < b.count { b[i] ^= 0x80 }
            case 5: b.removeSubrange(lineStart..<lineEnd)
            default: b.insert(contentsOf: [0x00, 0xFF, 0xFE, 0xC3, 0x28, 0x0D], at: i)
            }
        }
        return Data(b)
    }
}
