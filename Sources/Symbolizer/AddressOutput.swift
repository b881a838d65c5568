import FoundationEssentials
import LockscanKit

/// The output formats of the tools `lockscan symbolize --addresses` and
/// `lockscan addr2line` stand in for: GNU addr2line, llvm-symbolizer and its
/// JSON, so scripts written for them keep working.
public enum AddressOutput {
    public static func render(_ s: Symbolization, style: String, module: String, functions: Bool, inlines: Bool) -> String {
        let frames = inlines ? s.frames : Array(s.frames.suffix(1))
        switch style {
        case "json":
            let symbols = frames.map { f -> JSONValue in
                .object(["FunctionName": .string(f.function), "FileName": .string(f.file ?? ""), "Line": .integer(Int64(f.line ?? 0)),
                         "Column": .integer(Int64(f.column ?? 0)), "StartLine": .integer(Int64(f.startLine ?? 0)), "Discriminator": .integer(0)])
            }
            return jsonLine(["Address": .string("0x" + String(s.address, radix: 16)), "ModuleName": .string(module), "Symbol": .array(symbols)])
        case "llvm":
            var out = ""
            for f in frames {
                if functions { out += f.function + "\n" }
                out += "\(f.file ?? "??"):\(f.line ?? 0):\(f.column ?? 0)\n"
            }
            return (frames.isEmpty ? "??\n??:0:0\n" : out) + "\n"
        default:
            return gnu(s.frames, address: nil, GNUOptions(functions: functions, inlines: inlines))
        }
    }

    /// GNU addr2line's flags that shape its output (`-f -i -a -p -s`).
    public struct GNUOptions: Sendable {
        public var functions = false
        public var inlines = false
        public var addresses = false
        public var pretty = false
        public var basenames = false

        public init(functions: Bool = false, inlines: Bool = false, addresses: Bool = false, pretty: Bool = false, basenames: Bool = false) {
            self.functions = functions
            self.inlines = inlines
            self.addresses = addresses
            self.pretty = pretty
            self.basenames = basenames
        }
    }

    /// One address as GNU addr2line prints it. Without `-i` that is the
    /// innermost frame (the inlined function the instruction belongs to),
    /// with `-i` every caller out to the real function; `-p` puts each on
    /// one line (`func at file:line`, callers as ` (inlined by) …`), `-a`
    /// prints the address first, `-s` only the files' base names. An
    /// address nothing covers is `??` / `??:0`.
    public static func gnu(_ frames: [SourceFrame], address: UInt64?, _ o: GNUOptions) -> String {
        var out = ""
        if o.addresses, let address { out += "0x" + PrintfFormat.hex(address, width: 16) + (o.pretty ? ": " : "\n") }
        if frames.isEmpty { return out + (o.functions ? (o.pretty ? "?? " : "??\n") : "") + "??:0\n" }
        for (k, f) in (o.inlines ? frames : Array(frames.prefix(1))).enumerated() {
            if k > 0 && o.pretty { out += " (inlined by) " }
            if o.functions { out += f.function + (o.pretty ? " at " : "\n") }
            let file = f.file.map { o.basenames ? String($0.split(separator: "/").last ?? Substring($0)) : $0 } ?? "??"
            out += "\(file):\(f.line ?? 0)\n"
        }
        return out
    }

    /// What is printed for an input line that names no address: the line
    /// itself goes into llvm-symbolizer's error object, escaped, because it
    /// can hold anything (quotes, NUL, invalid UTF-8 turned into U+FFFD).
    public static func unresolved(_ token: String, style: String) -> String {
        style == "json" ? jsonLine(["Address": .string(token), "Error": .object(["Message": .string("cannot resolve")])]) : "??\n??:0\n"
    }

    private static func jsonLine(_ object: [String: JSONValue]) -> String {
        JSONValue.object(object).compactText + "\n"
    }
}
