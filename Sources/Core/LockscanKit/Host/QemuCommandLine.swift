/// A qemu command line as libvirt logs it at the top of a domain log
/// (/var/log/libvirt/qemu/NAME.log), parsed into what a hang postmortem
/// needs: the guest's name, its vCPU topology, and the CPU model with its
/// flags (the Hyper-V enlightenments a Windows guest needs live there).
///
/// Two layouts exist: libvirt before 5.x prints the environment, binary and
/// arguments on one line (`LC_ALL=C PATH=… /usr/bin/qemu-system-x86_64 -name
/// vm105 …`); newer libvirt prints one word per line, each but the last ending
/// in ` \`, quoted for a shell. Both are shell words, so both are read as such.
public struct QemuCommandLine: Sendable, Equatable {
    /// `NAME=value` words before the binary.
    public var environment: [String]
    public var binary: String
    /// Every word after the binary.
    public var arguments: [String]

    /// `-name vm105` or `-name guest=vm105,debug-threads=on`.
    public var guestName: String?
    public var smp: SMP?
    public var cpu: CPU?
    /// `-rtc base=utc,driftfix=slew` as key/value pairs.
    public var rtc: [String: String]
    /// `-machine pc-i440fx-xenial,accel=kvm,usb=off`: the machine type (first item).
    public var machineType: String?
    /// `accel=kvm` in -machine, or `-accel kvm|tcg`, or `-enable-kvm`.
    public var accelerator: String?

    /// `-smp 2,sockets=1,cores=2,threads=1`.
    public struct SMP: Sendable, Equatable {
        public var cpus: Int?
        public var sockets: Int?
        public var dies: Int?
        public var cores: Int?
        public var threads: Int?
        public var maxCPUs: Int?
        /// `key=value` items whose value is not a count qemu accepts
        /// (`SMP.count`): what they said is unknown, and so is `vcpus`
        /// when one of them is part of it.
        public var refused: [String] = []

        /// vCPUs at start: the count, or the product of the topology when only
        /// that was given (qemu's own rule). Nil when a count it needs was
        /// refused.
        public var vcpus: Int? {
            if let cpus { return cpus }
            if refused.contains(where: { $0.hasPrefix("cpus=") || !$0.contains("=") }) { return nil }
            let topology = ["sockets", "dies", "cores", "threads"]
            if refused.contains(where: { item in topology.contains { item.hasPrefix($0 + "=") } }) { return nil }
            // At most 4096 each (`count`), so the product fits in 48 bits.
            return (sockets ?? 1) * (dies ?? 1) * (cores ?? 1) * (threads ?? 1)
        }

        /// The largest count of any kind qemu takes: `max_cpus` of its
        /// largest x86 machine (q35), which also bounds each topology level.
        static let maxCount = 4096

        /// A count from the command line: decimal, 1 through `maxCount`.
        /// Anything else is not a command line qemu would have started with.
        static func count(_ text: String) -> Int? {
            guard text.utf8.count <= 5, let n = Int(text), (1...maxCount).contains(n) else { return nil }
            return n
        }

        /// Reads `-smp`'s value: `N` or `cpus=N` and the topology keys.
        static func parse(_ value: String) -> SMP {
            let kv = options(value)
            var smp = SMP()
            var refused: [String] = []
            func read(_ key: String) -> Int? {
                guard let text = kv[key] else { return nil }
                if let n = count(text) { return n }
                refused.append("\(key)=\(text)")
                return nil
            }
            smp.sockets = read("sockets")
            smp.dies = read("dies")
            smp.cores = read("cores")
            smp.threads = read("threads")
            smp.maxCPUs = read("maxcpus")
            smp.cpus = read("cpus")
            if kv["cpus"] == nil, let first = value.split(separator: ",").first.map(String.init), !first.contains("=") {
                if let n = count(first) { smp.cpus = n } else { refused.append(first) }
            }
            smp.refused = refused
            return smp
        }
    }

    /// `-cpu SandyBridge,+pdpe1gb,-vme,hv_relaxed,hv-spinlocks=0x1fff`.
    public struct CPU: Sendable, Equatable {
        public var model: String
        public var flags: [Flag]

        /// One comma-separated item after the model.
        public struct Flag: Sendable, Equatable {
            /// Name with qemu's spelling variants folded: `_` → `-`, no `+`/`-`
            /// sign (`hv_relaxed`, `hv-relaxed=on`, `+hv-relaxed` are all `hv-relaxed`).
            public var name: String
            /// The value after `=`, unless it was only on/off.
            public var value: String?
            /// `-flag`, `flag=off|no|false` turn a feature off.
            public var enabled: Bool
            /// As written.
            public var printed: String
        }

        public func flag(_ name: String) -> Flag? {
            let key = Self.fold(name)
            return flags.last { $0.name == key }
        }

        /// Whether a Hyper-V enlightenment is on: named (either spelling), or
        /// implied by `hv-passthrough`. `hv-spinlocks=0xffffffff` is qemu's
        /// "never notify", the same as leaving it out.
        public func hasEnlightenment(_ name: String) -> Bool {
            if flag("hv-passthrough")?.enabled == true { return true }
            guard let f = flag(name), f.enabled else { return false }
            if f.name == "hv-spinlocks", let v = f.value, UInt64(v.lowercased().replacing("0x", with: ""), radix: 16) == 0xffffffff {
                return false
            }
            return true
        }

        static func fold(_ name: String) -> String { name.replacing("_", with: "-") }

        static func parse(_ text: String) -> CPU {
            var items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let model = items.isEmpty ? text : items.removeFirst()
            let flags = items.filter { !$0.isEmpty }.map { item -> Flag in
                var body = Substring(item)
                var enabled = true
                if body.first == "+" { body = body.dropFirst() } else if body.first == "-" { body = body.dropFirst(); enabled = false }
                var value: String?
                if let eq = body.firstIndex(of: "=") {
                    let v = String(body[body.index(after: eq)...])
                    body = body[..<eq]
                    switch v.lowercased() {
                    case "on", "yes", "true": break
                    case "off", "no", "false": enabled = false
                    default: value = v
                    }
                }
                return Flag(name: fold(String(body)), value: value, enabled: enabled, printed: item)
            }
            return CPU(model: model, flags: flags)
        }
    }

    /// Reads the words of a command line (environment, binary, arguments).
    /// Nil when no qemu binary is among them.
    public static func parse(words: [String]) -> QemuCommandLine? {
        guard let bin = binaryIndex(words) else { return nil }
        var c = QemuCommandLine(environment: Array(words[..<bin]), binary: words[bin],
                                arguments: Array(words[(bin + 1)...]), guestName: nil, smp: nil, cpu: nil,
                                rtc: [:], machineType: nil, accelerator: nil)
        var i = 0
        let args = c.arguments
        while i < args.count {
            let opt = args[i]
            let value = i + 1 < args.count ? args[i + 1] : nil
            switch opt {
            case "-name":
                if let value {
                    let kv = options(value)
                    c.guestName = kv["guest"] ?? value.split(separator: ",").first.map(String.init)
                }
            case "-smp":
                if let value { c.smp = SMP.parse(value) }
            case "-cpu":
                if let value { c.cpu = CPU.parse(value) }
            case "-rtc":
                if let value { c.rtc = options(value) }
            case "-machine", "-M":
                if let value {
                    let first = value.split(separator: ",").first.map(String.init)
                    c.machineType = first.flatMap { $0.contains("=") ? nil : $0 } ?? options(value)["type"]
                    if let accel = options(value)["accel"] { c.accelerator = accel }
                }
            case "-accel":
                if let value { c.accelerator = value.split(separator: ",").first.map(String.init) }
            case "-enable-kvm":
                c.accelerator = "kvm"
                i -= 1 // takes no value
            default:
                i -= 1
            }
            i += 2
        }
        return c
    }

    /// Parses one line holding the whole command line (older libvirt), or the
    /// joined lines of the newer layout.
    public static func parse(line: String) -> QemuCommandLine? {
        parse(words: ShellWords.split(line))
    }

    /// The names distributions give qemu: `qemu-system-x86_64`, RHEL's
    /// `/usr/libexec/qemu-kvm`, Debian's `kvm`, Ubuntu's `kvm-spice` and
    /// `qemu-system-x86_64-spice`, wrappers with qemu in their name.
    static func isQemuBinary(_ word: String) -> Bool {
        let base = word.split(separator: "/").last.map(String.init) ?? word
        return base.hasPrefix("qemu-system-") || base.hasPrefix("qemu-kvm") || base == "kvm" || base.hasPrefix("kvm-")
            || (base.contains("qemu") && !base.contains("="))
    }

    /// Options that only a qemu command line has, several at once.
    static let qemuOptions: Set<String> = [
        "-name", "-machine", "-M", "-accel", "-enable-kvm", "-cpu", "-smp", "-drive", "-blockdev", "-device",
        "-chardev", "-mon", "-qmp", "-rtc", "-uuid", "-nodefaults", "-no-user-config", "-boot", "-netdev",
        "-global", "-object", "-msg", "-sandbox", "-overcommit", "-no-shutdown", "-vnc", "-spice", "-vga",
        "-display", "-nographic", "-incoming", "-pidfile", "-daemonize", "-realtime", "-numa", "-mem-prealloc",
    ]

    /// Where the binary is: a known qemu name, or else — a renamed binary or
    /// a wrapper script — the first word after the environment that is
    /// followed by at least three distinct qemu options. The arguments say
    /// what a command line is; a binary's name only says what a distribution
    /// called it.
    static func binaryIndex(_ words: [String]) -> Int? {
        if let i = words.firstIndex(where: isQemuBinary) { return i }
        guard let bin = words.firstIndex(where: { !isEnvironmentWord($0) }) else { return nil }
        return Set(words[(bin + 1)...].filter(qemuOptions.contains)).count >= 3 ? bin : nil
    }

    /// `LC_ALL=C`, `QEMU_AUDIO_DRV=spice`: the environment libvirt puts first.
    static func isEnvironmentWord(_ word: String) -> Bool {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else { return false }
        return word[..<eq].allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
    }

    /// `a=1,b=2` → ["a": "1", "b": "2"] (items without `=` are skipped).
    public static func options(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for item in text.split(separator: ",") {
            guard let eq = item.firstIndex(of: "=") else { continue }
            out[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return out
    }

    /// Gathers the lines of a command line as they arrive in a domain log.
    public struct Collector: Sendable {
        private var pieces: [String] = []
        private var done = false

        public init() {}

        /// Whether `text` (a record after the `starting up` line) can begin a
        /// command line: an environment word or a qemu binary.
        public static func begins(_ text: String) -> Bool {
            guard let first = text.split(separator: " ", maxSplits: 1).first.map(String.init) else { return false }
            if isQemuBinary(first) || isEnvironmentWord(first) { return true }
            // A binary by another name, whole command line on one line.
            return first.hasPrefix("/") && binaryIndex(ShellWords.split(text)) == 0
        }

        /// Adds one line; returns true while more lines belong to it (the
        /// line ended in ` \`).
        public mutating func add(_ text: String) -> Bool {
            guard !done else { return false }
            var t = Substring(text)
            while t.last == " " || t.last == "\r" { t = t.dropLast() }
            if t.hasSuffix("\\") {
                pieces.append(String(t.dropLast()))
                if pieces.count < 2000 { return true }
            } else {
                pieces.append(String(t))
            }
            done = true
            return false
        }

        public var commandLine: QemuCommandLine? {
            pieces.isEmpty ? nil : QemuCommandLine.parse(line: pieces.joined(separator: " "))
        }
    }
}

/// POSIX shell word splitting for what libvirt prints: spaces separate words;
/// single quotes keep everything; double quotes keep all but `\"` and `\\`;
/// a backslash outside quotes escapes the next character.
public enum ShellWords {
    public static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch); escaped = false; inWord = true
                continue
            }
            if let q = quote {
                if ch == q { quote = nil } else if q == "\"" && ch == "\\" { escaped = true } else { current.append(ch) }
                continue
            }
            switch ch {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'", "\"":
                quote = ch; inWord = true
            case "\\":
                escaped = true
            default:
                current.append(ch); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
