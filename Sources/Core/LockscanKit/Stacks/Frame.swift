/// Which part of the machine a frame ran in, from the `<NMI>`, `<IRQ>`,
/// `<TASK>` markers (or crash's `--- <NMI exception stack> ---` switches).
public enum FrameContext: String, Codable, Sendable {
    case nmi, irq, softirq, task, exception
}

/// One backtrace frame as printed. Addresses are kept as printed text and as a
/// number so symbolization can use either.
public struct Frame: Codable, Sendable, Equatable {
    public var function: String?
    public var offset: UInt64?
    public var size: UInt64?
    public var module: String?
    public var address: String?
    /// False for `? func+…` frames: the unwinder found the address on the stack
    /// but could not prove it is a return address.
    public var reliable: Bool
    public var context: FrameContext?
    /// True for a `RIP:` / `[exception RIP: …]` frame: the interrupted
    /// instruction itself, not a return address (symbolize at, not before it).
    public var isInstructionPointer: Bool
    /// Source position, when the log was already symbolized
    /// (`func+0x18/0x90 kernel/sched/core.c:6490`) or after `symbolize`.
    public var file: String?
    public var line: Int?
    /// An inlined call printed as its own frame (`context_switch kernel/sched/core.c:5178 [inline]`).
    public var inlined: Bool = false

    public init(function: String? = nil, offset: UInt64? = nil, size: UInt64? = nil, module: String? = nil,
                address: String? = nil, reliable: Bool = true, context: FrameContext? = nil,
                isInstructionPointer: Bool = false) {
        self.function = function
        self.offset = offset
        self.size = size
        self.module = module
        self.address = address
        self.reliable = reliable
        self.context = context
        self.isInstructionPointer = isInstructionPointer
    }

    enum CodingKeys: String, CodingKey {
        case function, offset, size, module, address, reliable, context, isInstructionPointer = "ip", file, line, inlined
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(function, forKey: .function)
        try c.encodeIfPresent(offset.map(hex), forKey: .offset)
        try c.encodeIfPresent(size.map(hex), forKey: .size)
        try c.encodeIfPresent(module, forKey: .module)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encode(reliable, forKey: .reliable)
        try c.encodeIfPresent(context, forKey: .context)
        if isInstructionPointer { try c.encode(true, forKey: .isInstructionPointer) }
        try c.encodeIfPresent(file, forKey: .file)
        try c.encodeIfPresent(line, forKey: .line)
        if inlined { try c.encode(true, forKey: .inlined) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        function = try c.decodeIfPresent(String.self, forKey: .function)
        offset = try c.decodeIfPresent(String.self, forKey: .offset).flatMap(parseHex)
        size = try c.decodeIfPresent(String.self, forKey: .size).flatMap(parseHex)
        module = try c.decodeIfPresent(String.self, forKey: .module)
        address = try c.decodeIfPresent(String.self, forKey: .address)
        reliable = try c.decode(Bool.self, forKey: .reliable)
        context = try c.decodeIfPresent(FrameContext.self, forKey: .context)
        isInstructionPointer = try c.decodeIfPresent(Bool.self, forKey: .isInstructionPointer) ?? false
        file = try c.decodeIfPresent(String.self, forKey: .file)
        line = try c.decodeIfPresent(Int.self, forKey: .line)
        inlined = try c.decodeIfPresent(Bool.self, forKey: .inlined) ?? false
    }

    /// `func+0x18/0x90 [mod]`, the way dmesg prints it.
    public var display: String {
        var s = function ?? address ?? "?"
        if let offset { s += "+" + hex(offset) }
        if let size { s += "/" + hex(size) }
        if let module { s += " [\(module)]" }
        return s
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

func parseHex(_ s: String) -> UInt64? {
    var t = Substring(s)
    if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
    return UInt64(t, radix: 16)
}
