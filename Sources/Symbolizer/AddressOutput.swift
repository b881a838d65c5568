import Foundation

/// The output formats of the tools `lockscan symbolize --addresses` and
/// `lockscan addr2line` stand in for: GNU addr2line, llvm-symbolizer and its
/// JSON, so scripts written for them keep working.
public enum AddressOutput {
    public static func render(_ s: Symbolization, style: String, module: String, functions: Bool, inlines: Bool,
                              printAddress: Bool = false) -> String {
        let frames = inlines ? s.frames : Array(s.frames.suffix(1))
        switch style {
        case "json":
            let symbols = frames.map { f -> [String: Any] in
                ["FunctionName": f.function, "FileName": f.file ?? "", "Line": f.line ?? 0, "Column": f.column ?? 0,
                 "StartLine": f.startLine ?? 0, "Discriminator": 0]
            }
            return jsonLine(["Address": "0x" + String(s.address, radix: 16), "ModuleName": module, "Symbol": symbols])
        case "llvm":
            var out = ""
            for f in frames {
                if functions { out += f.function + "\n" }
                out += "\(f.file ?? "??"):\(f.line ?? 0):\(f.column ?? 0)\n"
            }
            return (frames.isEmpty ? "??\n??:0:0\n" : out) + "\n"
        default:
            var out = printAddress ? "0x" + String(format: "%016llx", s.address) + "\n" : ""
            if frames.isEmpty { return out + (functions ? "??\n" : "") + "??:0\n" }
            for f in frames {
                if functions { out += f.function + "\n" }
                out += "\(f.file ?? "??"):\(f.line ?? 0)\n"
            }
            return out
        }
    }

    /// What is printed for an input line that names no address: the line
    /// itself goes into llvm-symbolizer's error object, escaped, because it
    /// can hold anything (quotes, NUL, invalid UTF-8 turned into U+FFFD).
    public static func unresolved(_ token: String, style: String) -> String {
        style == "json" ? jsonLine(["Address": token, "Error": ["Message": "cannot resolve"]]) : "??\n??:0\n"
    }

    private static func jsonLine(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
