/// The line prefixes of docs/input-formats.md, for testing analyzers: an analyzer's
/// examples are written without prefixes and must behave the same under each
/// of these. Public so out-of-tree analyzers can run the same check.
public struct PrefixVariant: Sendable {
    public var name: String
    /// Whole-file text for the given message lines.
    public var render: @Sendable ([String]) -> String

    public static let all: [PrefixVariant] = [
        PrefixVariant(name: "bare") { $0.map { $0 + "\n" }.joined() },
        PrefixVariant(name: "dmesg [ts]") { lines in stamped(lines) { "[\(mono($0))] " } },
        PrefixVariant(name: "dmesg unpadded [ts]") { lines in stamped(lines) { "[\(70 + $0).65] " } },
        PrefixVariant(name: "caller id T") { lines in stamped(lines) { "[\(mono($0))][    T1] " } },
        PrefixVariant(name: "caller id C") { lines in stamped(lines) { "[\(mono($0))][  C2] " } },
        PrefixVariant(name: "dmesg -T") { lines in stamped(lines) { "[Thu Oct 30 06:21:\(two(23 + $0 % 30)) 2025] " } },
        PrefixVariant(name: "dmesg -r") { lines in stamped(lines) { "<4>[\(mono($0))] " } },
        PrefixVariant(name: "dmesg -x") { lines in stamped(lines) { "kern  :warn  : [\(mono($0))] " } },
        PrefixVariant(name: "dmesg --time-format iso") { lines in stamped(lines) { "2025-10-30T06:21:\(two(23 + $0 % 30)),123456+08:00 " } },
        PrefixVariant(name: "kmsg") { lines in stamped(lines) { "4,\(1000 + $0),\(4474426249700 + $0 * 10),-;" } },
        PrefixVariant(name: "journal short") { lines in stamped(lines) { "Oct 30 06:21:\(two(23 + $0 % 30)) host kernel: " } },
        PrefixVariant(name: "journal short-precise") { lines in stamped(lines) { "Oct 30 06:21:\(two(23 + $0 % 30)).123456 host kernel: " } },
        PrefixVariant(name: "journal short-iso") { lines in stamped(lines) { "2025-10-30T06:21:\(two(23 + $0 % 30))+0800 host kernel: " } },
        PrefixVariant(name: "journal short-monotonic") { lines in stamped(lines) { "[\(mono($0))] host kernel: " } },
        PrefixVariant(name: "syslog kernel: [ts]") { lines in stamped(lines) { "Oct 30 06:21:\(two(23 + $0 % 30)) host kernel: [\(mono($0))] " } },
        PrefixVariant(name: "syslog RFC 3339") { lines in stamped(lines) { "2025-10-30T06:21:\(two(23 + $0 % 30)).123456+08:00 host kernel: " } },
        PrefixVariant(name: "console server column") { lines in stamped(lines) { "2025-10-30 06:21:\(two(23 + $0 % 30)).123 [\(mono($0))] " } },
        PrefixVariant(name: "ticket line numbers") { lines in stamped(lines) { "\(11745 + $0) [\(mono($0))] " } },
        PrefixVariant(name: "mail quote") { lines in stamped(lines) { "> [\(mono($0))] " } },
        PrefixVariant(name: "CRLF") { lines in lines.enumerated().map { "[\(mono($0.offset))] \($0.element)\r\n" }.joined() },
    ]

    static func stamped(_ lines: [String], _ prefix: (Int) -> String) -> String {
        lines.enumerated().map { prefix($0.offset) + $0.element + "\n" }.joined()
    }

    static func mono(_ i: Int) -> String {
        let micro = 249700 + i * 13
        return "4474426.\(String(micro).leftPadded(to: 6))"
    }

    static func two(_ v: Int) -> String { pad2(v) }
}
