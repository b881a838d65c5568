/// What a line's prefix said, and where the message starts.
///
/// One parser covers every prefix family in docs/input-formats.md because real captures
/// mix them: a console server adds its column before the kernel's `[ts]`, a
/// syslog line wraps `[ts]`, a ticket adds line numbers and `> ` quotes on top.
/// Layers are peeled outside-in; each is optional.
public struct LinePrefix: Sendable, Equatable {
    public var clock = Clock()
    public var callerID: String?
    public var callerCPU: Int?
    public var level: Int?
    public var host: String?
    /// libvirtd.log's thread id.
    public var thread: Int?
    /// Byte index where the message starts.
    public var messageStart: Int = 0
    /// What in the prefix was refused (a number that does not fit), for
    /// the line's diagnostic; the rest of the prefix is still used.
    public var problem: String?

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// Parses the prefix of `line`. Never fails: a line without a known prefix
    /// is all message.
    public static func parse(_ line: [UInt8]) -> LinePrefix {
        var p = LinePrefix()
        var s = ByteScanner(line)
        stripTicketArtifacts(&s)

        // The kernel's own `[ seconds.micro]` first (dmesg, serial consoles:
        // most lines of most inputs). No kmsg, libvirt, wall-clock, syslog,
        // facility or level form starts with a bracketed decimal number, so
        // none of them is tried: they cost a fifth of the records' time in
        // the window after a lockup header.
        var stamp = s
        let leadingStamp = s.peek == UInt8(ascii: "[") ? parseBracketTimestamp(&stamp) : nil
        if let mono = leadingStamp {
            s = stamp
            p.clock.monotonic = mono
        } else {
            if parseBeforeKernelStamp(&s, into: &p) {
                p.messageStart = s.pos
                return p
            }
            if let mono = parseBracketTimestamp(&s) {
                p.clock.monotonic = mono
            }
        }
        // Some kernels and tools put a space between the stamp and the caller id.
        var c = s
        if p.clock.monotonic != nil { c.skipSpaces() }
        if let caller = parseCaller(&c) {
            s = c
            p.callerID = caller.id
            p.callerCPU = caller.cpu
        }
        if p.clock.monotonic != nil, p.host == nil {
            // journalctl -o short-monotonic: "[ 4474426.249700] host kernel: msg"
            var h = s
            h.skipSpaces()
            if let host = parseHostAndIdent(&h, requireKernel: true) { p.host = host; s = h }
        }
        if p.clock.monotonic != nil || p.callerID != nil || !p.clock.isEmpty || p.level != nil {
            s.skip(0x20)
        }
        // libvirtd logging to journald/syslog (`… libvirtd[13914]: 2017-… : 13914: error : …`)
        // or any outer column wrapped around a libvirt line: the inner stamp is
        // libvirt's own, in UTC with milliseconds, so it wins over the outer one.
        _ = parseLibvirtStamp(&s, into: &p)
        p.messageStart = s.pos
        return p
    }

    /// Whether `line` opens (after ticket artifacts) with the kernel's
    /// `[seconds]`: then `parse(line)` has a clock, whatever follows. Pasted
    /// text recovery asks "is this line stamped / prefixed?" of nearly every
    /// line, and a whole parse for that cost as much as the record's own.
    static func opensWithKernelStamp(_ line: [UInt8]) -> Bool {
        var s = ByteScanner(line)
        stripTicketArtifacts(&s)
        return s.peek == UInt8(ascii: "[") && parseBracketTimestamp(&s) != nil
    }

    /// Everything a prefix can hold before the kernel's `[seconds]`: kmsg
    /// framing or a libvirt stamp (both complete the prefix: true), a log
    /// shipper's columns, a wall clock, a syslog host and ident, `dmesg -x`
    /// facility and level, a `<N>` level.
    private static func parseBeforeKernelStamp(_ s: inout ByteScanner, into p: inout LinePrefix) -> Bool {
        if let kmsg = parseKmsg(&s) {
            p.level = kmsg.level
            p.clock.monotonic = kmsg.seconds
            p.problem = kmsg.problem
            if let caller = kmsg.caller {
                var c = ByteScanner(Array(("[" + caller + "]").utf8))
                if let parsed = parseCaller(&c) {
                    p.callerID = parsed.id
                    p.callerCPU = parsed.cpu
                }
            }
            _ = parseLibvirtStamp(&s, into: &p)
            return true
        }

        // libvirt's own stamp, first: its `+0000: ` would otherwise read as an
        // ISO stamp followed by a message starting with ':'.
        if parseLibvirtStamp(&s, into: &p) { return true }

        // A log shipper's export: `2022-11-12 10:10:59 +0800 | messages | `
        // columns before the syslog line it carried. Its stamp has the
        // date and zone the syslog stamp lacks, so it is the wall clock.
        if let wall = parseExportColumns(&s) { p.clock.wall = wall }

        var sawSyslogStamp = false
        var identMustBeKernel = true
        if p.clock.wall == nil, let wall = parseISO(&s) {
            p.clock.wall = wall
            sawSyslogStamp = true
            s.skipSpaces()
        } else if let wall = parseBracketed(&s, parseCtime) {
            p.clock.wall = wall // dmesg -T
            s.skipSpaces()
        } else if let wall = parseBracketed(&s, parseISO) {
            p.clock.wall = wall // host-added console column
            s.skipSpaces()
        } else if let wall = parseCtime(&s) {
            p.clock.wall = wall // OpenWrt logread
            sawSyslogStamp = true
            identMustBeKernel = false
            s.skipSpaces()
        } else if let printed = parseSyslogStamp(&s) {
            p.clock.wallPrinted = printed
            sawSyslogStamp = true
            identMustBeKernel = false
            s.skipSpaces()
        } else if let printed = parseLocalizedSyslogStamp(&s) {
            // journalctl in another locale (`heinä 19 22:06:24 host kernel: `):
            // only taken with a `kernel:` identifier after it.
            p.clock.wallPrinted = printed
            sawSyslogStamp = true
            s.skipSpaces()
        }
        if sawSyslogStamp, let host = parseHostAndIdent(&s, requireKernel: identMustBeKernel) {
            p.host = host
        }
        // wall(1) broadcast continuation: " kernel:[ 123.4] msg"
        var k = s
        k.skipSpaces()
        if k.skip("kernel:") { s = k; s.skipSpaces() }

        // `dmesg -x`: "kern  :warn  : "
        parseFacilityLevel(&s, into: &p)
        // `dmesg -r`, pstore: "<4>"
        if s.peek == UInt8(ascii: "<"), let lv = parseAngleLevel(&s) { p.level = lv }
        return false
    }

    /// Whether a stamp from `parseISO` ends in `Z` or `±HH:MM`.
    static func hasZone(_ iso: String) -> Bool {
        if iso.hasSuffix("Z") { return true }
        let tail = Array(iso.utf8.suffix(6))
        return tail.count == 6 && (tail[0] == UInt8(ascii: "+") || tail[0] == UInt8(ascii: "-")) && tail[3] == UInt8(ascii: ":")
    }

    static let libvirtLevels = ["debug": 7, "info": 6, "warning": 4, "error": 3]

    /// libvirt's prefix, `2017-03-15 06:03:48.180+0000: ` with a zone and a
    /// colon right after it (libvirtd.log, qemu domain logs, `virsh
    /// qemu-monitor-event --timestamp`), then in libvirtd.log `13914: error : `
    /// (thread id and level, src/util/virlog.c). No other format in
    /// docs/input-formats.md puts a colon right after a zoned stamp.
    static func parseLibvirtStamp(_ s: inout ByteScanner, into p: inout LinePrefix) -> Bool {
        var t = s
        guard let first = t.peek, isDigit(first), let wall = parseISO(&t), hasZone(wall),
              t.skip(UInt8(ascii: ":")), t.skip(0x20) else { return false }
        p.clock.wall = wall
        var l = t
        if let tid = l.digits(max: 10), l.skip(":"), l.skip(0x20),
           let name = l.word(until: { $0 == 0x20 }), let level = libvirtLevels[name], l.skip(" : ") {
            p.thread = tid.value
            p.level = level
            t = l
        }
        s = t
        return true
    }

    /// `> ` mail quoting and grep/editor line numbers (`11745 [ts] …`,
    /// `11745:[ts]`) before a bracket or `<N>`.
    static func stripTicketArtifacts(_ s: inout ByteScanner) {
        var quoted = false
        while true {
            var t = s
            t.skipSpaces()
            if t.peek == UInt8(ascii: ">") {
                t.pos += 1
                t.skip(0x20)
                s = t
                quoted = true
                continue
            }
            break
        }
        // A quoted log indented inside the quote (`> > >    [   75.21] …`):
        // the indentation before the kernel's stamp is the mail's.
        if quoted {
            var t = s
            t.skipSpaces()
            if t.peek == UInt8(ascii: "["), t.pos + 1 < t.bytes.count, t.bytes[t.pos + 1] == 0x20 || isDigit(t.bytes[t.pos + 1]) {
                s = t
            }
        }
        var t = s
        t.skipSpaces()
        if let d = t.digits(), d.count <= 9 {
            let sep = t.peek
            if sep == 0x20 || sep == 0x09 || sep == UInt8(ascii: ":") || sep == UInt8(ascii: "-") {
                t.pos += 1
                t.skipSpaces()
                if t.peek == UInt8(ascii: "[") || t.peek == UInt8(ascii: "<") { s = t }
            }
        }
    }

    /// `6,1234,5678901,-;msg`, with `,caller=T1` among the flags on 5.10+ kernels.
    /// The microseconds are the kernel's u64 but read only up to `Int.max`
    /// (292,000 years): a longer field is still kmsg framing, whose
    /// timestamp is refused (`seconds` nil, `problem` says why) instead of
    /// wrapping into a made-up time.
    static func parseKmsg(_ s: inout ByteScanner) -> (level: Int, seconds: Double?, caller: String?, problem: String?)? {
        var t = s
        guard let prio = t.digits(max: 4), t.skip(UInt8(ascii: ",")),
              t.word(until: { !isDigit($0) }) != nil, t.skip(UInt8(ascii: ",")) else { return nil }
        let usecStart = t.pos
        guard let usecText = t.word(until: { !isDigit($0) }), t.skip(UInt8(ascii: ",")) else { return nil }
        var usecScanner = ByteScanner(t.bytes, at: usecStart)
        let usec = usecScanner.digits(max: 19).flatMap { $0.count == usecText.utf8.count ? $0.value : nil }
        let flagsStart = t.pos
        while let b = t.peek, b != UInt8(ascii: ";"), b != 0x20 { t.pos += 1 }
        let flags = t.text(from: flagsStart, to: t.pos)
        guard t.skip(UInt8(ascii: ";")) else { return nil }
        s = t
        let caller = flags.split(separator: ",").first { $0.hasPrefix("caller=") }.map { String($0.dropFirst(7)) }
        let problem = usec == nil ? "kmsg timestamp \(usecText.prefix(40))\(usecText.count > 40 ? "…" : "") µs is too large to be a time since boot; the line has no time" : nil
        return (prio.value & 7, usec.map { Double($0) / 1_000_000 }, caller, problem)
    }

    /// `[ 4474426.249700]`, `[70.65]`, `[    0.000000]`.
    static func parseBracketTimestamp(_ s: inout ByteScanner) -> Double? {
        var t = s
        guard t.skip(UInt8(ascii: "[")) else { return nil }
        t.skipSpaces()
        let start = t.pos
        guard let whole = t.digits(max: 12), t.skip(UInt8(ascii: ".")), let fraction = t.digits(max: 9) else { return nil }
        let end = t.pos
        t.skipSpaces()
        guard t.skip(UInt8(ascii: "]")) else { return nil }
        s = t
        return exactDecimal(whole.value, fraction, orParse: t.text(from: start, to: end))
    }

    /// `whole.fraction` as the nearest `Double`, as `Double(String)` gives it,
    /// without making the string: when the digits as one integer fit in 53
    /// bits, that integer and the power of ten are exact doubles and one
    /// IEEE division is correctly rounded (Clinger's fast path), which is
    /// every kernel stamp below 9e6 s with six decimals. Otherwise the text
    /// is parsed. (Bounds: `whole` has at most 12 digits, `fraction` at most 9.)
    static func exactDecimal(_ whole: Int, _ fraction: (count: Int, value: Int), orParse text: @autoclosure () -> String) -> Double? {
        let scale = powersOfTen[fraction.count]
        let (scaled, o1) = whole.multipliedReportingOverflow(by: scale)
        let (digits, o2) = scaled.addingReportingOverflow(fraction.value)
        guard !o1, !o2, digits < 1 << 53 else { return Double(text()) }
        return Double(digits) / Double(scale)
    }

    static let powersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// `[    T1]`, `[  C3]`.
    static func parseCaller(_ s: inout ByteScanner) -> (id: String, cpu: Int?)? {
        var t = s
        guard t.skip(UInt8(ascii: "[")) else { return nil }
        t.skipSpaces()
        guard let kind = t.peek, kind == UInt8(ascii: "T") || kind == UInt8(ascii: "C") else { return nil }
        t.pos += 1
        guard let n = t.digits(max: 9), t.skip(UInt8(ascii: "]")) else { return nil }
        s = t
        let isCPU = kind == UInt8(ascii: "C")
        return ((isCPU ? "C" : "T") + String(n.value), isCPU ? n.value : nil)
    }

    static func parseAngleLevel(_ s: inout ByteScanner) -> Int? {
        var t = s
        guard t.skip(UInt8(ascii: "<")), let d = t.digits(max: 3), t.skip(UInt8(ascii: ">")) else { return nil }
        s = t
        return d.value & 7
    }

    static let levelNames = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]

    static func parseFacilityLevel(_ s: inout ByteScanner, into p: inout LinePrefix) {
        var t = s
        guard let fac = t.word(until: { $0 == 0x20 || $0 == UInt8(ascii: ":") }), fac.count <= 8,
              fac.allSatisfy({ $0.isLetter }) else { return }
        t.skipSpaces()
        guard t.skip(UInt8(ascii: ":")) else { return }
        guard let lvl = t.word(until: { $0 == 0x20 || $0 == UInt8(ascii: ":") }),
              let idx = levelNames.firstIndex(of: lvl) else { return }
        t.skipSpaces()
        guard t.skip(UInt8(ascii: ":")) else { return }
        t.skipSpaces()
        p.level = idx
        s = t
    }

    /// `YYYY-MM-DD[T ]HH:MM:SS[.,frac][Z|±HH[:]MM]` → normalized ISO 8601.
    static func parseISO(_ s: inout ByteScanner) -> String? {
        var t = s
        guard let y = t.digits(min: 4, max: 4), t.skip(UInt8(ascii: "-")),
              let mo = t.digits(min: 2, max: 2), t.skip(UInt8(ascii: "-")),
              let d = t.digits(min: 2, max: 2) else { return nil }
        guard t.skip(UInt8(ascii: "T")) || t.skip(0x20) else { return nil }
        guard let time = parseClockTime(&t) else { return nil }
        var zone = ""
        if t.skip(UInt8(ascii: "Z")) {
            zone = "Z"
        } else if let sign = t.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            var z = t
            z.pos += 1
            if let hh = z.digits(min: 2, max: 2) {
                z.skip(UInt8(ascii: ":"))
                if let mm = z.digits(min: 2, max: 2) {
                    zone = (sign == UInt8(ascii: "+") ? "+" : "-") + pad2(hh.value) + ":" + pad2(mm.value)
                    t = z
                }
            }
        }
        s = t
        return "\(y.value)-\(pad2(mo.value))-\(pad2(d.value))T\(time)\(zone)"
    }

    /// `HH:MM:SS[.frac|,frac]` → `HH:MM:SS[.frac]`.
    static func parseClockTime(_ t: inout ByteScanner) -> String? {
        guard let hh = t.digits(min: 2, max: 2), t.skip(UInt8(ascii: ":")),
              let mm = t.digits(min: 2, max: 2), t.skip(UInt8(ascii: ":")),
              let ss = t.digits(min: 2, max: 2) else { return nil }
        var out = "\(pad2(hh.value)):\(pad2(mm.value)):\(pad2(ss.value))"
        var f = t
        if f.skip(UInt8(ascii: ".")) || f.skip(UInt8(ascii: ",")) {
            let start = f.pos
            if f.digits(max: 9) != nil {
                out += "." + f.text(from: start, to: f.pos)
                t = f
            }
        }
        return out
    }

    static func parseMonth(_ t: inout ByteScanner) -> Int? {
        for (i, m) in months.enumerated() where t.skip(m) { return i + 1 }
        return nil
    }

    /// `Thu Oct 30 06:21:23 2025` (ctime) → ISO 8601 without zone.
    package static func parseCtime(_ s: inout ByteScanner) -> String? {
        var t = s
        guard weekdays.contains(where: { t.hasPrefix($0) }) else { return nil }
        t.pos += 3
        t.skipSpaces()
        guard let mo = parseMonth(&t) else { return nil }
        t.skipSpaces()
        guard let d = t.digits(max: 2) else { return nil }
        t.skipSpaces()
        guard let time = parseClockTime(&t) else { return nil }
        t.skipSpaces()
        guard let y = t.digits(min: 4, max: 4) else { return nil }
        s = t
        return "\(y.value)-\(pad2(mo))-\(pad2(d.value))T\(time)"
    }

    /// `Oct 30 06:21:23[.123456]` — no year, no zone: kept as printed.
    static func parseSyslogStamp(_ s: inout ByteScanner) -> String? {
        var t = s
        let start = t.pos
        guard parseMonth(&t) != nil else { return nil }
        t.skipSpaces()
        guard t.digits(max: 2) != nil, t.skip(0x20), parseClockTime(&t) != nil else { return nil }
        let printed = t.text(from: start, to: t.pos)
        s = t
        return printed
    }

    /// `heinä 19 22:06:24`, `Mär 19 22:06:24`, `déc. 19 …`: a syslog stamp
    /// whose month is printed in the locale's language — any word of 2 to
    /// 12 letters (non-ASCII letters included), an optional dot, the day
    /// and the time. Recognised by that shape, not by a list of languages;
    /// the caller also requires a `host kernel:` after it.
    static func parseLocalizedSyslogStamp(_ s: inout ByteScanner) -> String? {
        var t = s
        let start = t.pos
        var letters = 0
        while let b = t.peek, (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b >= 0x80 {
            t.pos += 1
            letters += 1
        }
        guard letters >= 2, letters <= 24 else { return nil }
        _ = t.skip(UInt8(ascii: "."))
        guard t.skip(0x20) else { return nil }
        t.skipSpaces()
        guard t.digits(max: 2) != nil, t.skip(0x20), parseClockTime(&t) != nil else { return nil }
        let printed = t.text(from: start, to: t.pos)
        var ident = t
        ident.skipSpaces()
        guard parseHostAndIdent(&ident, requireKernel: true) != nil else { return nil }
        s = t
        return printed
    }

    /// `2022-11-12 10:10:59 +0800 | messages | ` — a date-time column (zone
    /// after a space, as log shippers print it) and ` | `-separated columns
    /// of at most 64 bytes each before the line they carried. Returns the
    /// stamp as ISO 8601 with its zone.
    static func parseExportColumns(_ s: inout ByteScanner) -> String? {
        var t = s
        guard let first = t.peek, isDigit(first), var wall = parseISO(&t) else { return nil }
        if !hasZone(wall), t.peek == 0x20 {
            var z = t
            z.pos += 1
            if let sign = z.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                z.pos += 1
                if let hh = z.digits(min: 2, max: 2) {
                    _ = z.skip(UInt8(ascii: ":"))
                    if let mm = z.digits(min: 2, max: 2) {
                        wall += (sign == UInt8(ascii: "+") ? "+" : "-") + pad2(hh.value) + ":" + pad2(mm.value)
                        t = z
                    }
                }
            }
        }
        guard t.skip(" | ") else { return nil }
        // Further columns: short fields each ending in " | ".
        while true {
            var c = t
            var n = 0
            while c.peek != nil, n <= 64, !c.hasPrefix(" | ") { c.pos += 1; n += 1 }
            guard n <= 64, c.skip(" | ") else { break }
            t = c
        }
        s = t
        return wall
    }

    static func parseBracketed(_ s: inout ByteScanner, _ inner: (inout ByteScanner) -> String?) -> String? {
        var t = s
        guard t.skip(UInt8(ascii: "[")), let v = inner(&t), t.skip(UInt8(ascii: "]")) else { return nil }
        s = t
        return v
    }

    /// `host kernel: `, `host kernel[123]: `, `host libvirtd[99]: ` (syslog and
    /// journal). Returns the host.
    static func parseHostAndIdent(_ s: inout ByteScanner, requireKernel: Bool = false) -> String? {
        // Positions first, the host's string only once the form is whole:
        // this is asked of every kernel-stamped line a record is made of,
        // and nearly none has a host.
        var t = s
        let hostStart = t.pos
        while let b = t.peek, b != 0x20, b != UInt8(ascii: "["), b != UInt8(ascii: ":") { t.pos += 1 }
        let hostEnd = t.pos
        guard hostEnd > hostStart, t.skip(0x20) else { return nil }
        let identStart = t.pos
        while let b = t.peek, b != 0x20, b != UInt8(ascii: ":"), b != UInt8(ascii: "[") { t.pos += 1 }
        let ident = t.bytes[identStart..<t.pos]
        guard !ident.isEmpty else { return nil }
        var hasPid = false
        if t.skip(UInt8(ascii: "[")) {
            guard t.digits() != nil, t.skip(UInt8(ascii: "]")) else { return nil }
            hasPid = true
        }
        guard t.skip(UInt8(ascii: ":")) else { return nil }
        // After a BSD syslog stamp `host ident:` is mandatory, so any ident is
        // taken. After an ISO stamp the line may be `dmesg --time-format iso`,
        // whose messages look the same ("NMI watchdog: …"): there only
        // `kernel` or a pid-tagged ident counts.
        if requireKernel && !ident.elementsEqual("kernel".utf8) && !hasPid { return nil }
        t.skip(0x20)
        s = t
        return t.text(from: hostStart, to: hostEnd)
    }
}

@inline(__always) package func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
