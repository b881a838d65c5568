#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Colour for text meant for a person: on when standard output is a
/// terminal and `NO_COLOR` is unset or empty (no-color.org), off otherwise
/// — so a pipe, a file or a script always gets plain bytes. One decision
/// and one palette for every command's text output.
public struct TerminalStyle: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    /// The decision for standard output, from the environment as given.
    public static func standardOutput(environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalStyle {
        TerminalStyle(color: isatty(1) != 0 && (environment["NO_COLOR"].map(\.isEmpty) ?? true))
    }

    public func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    public func bold(_ s: String) -> String { paint(s, "1") }
    public func dim(_ s: String) -> String { paint(s, "2") }

    /// A severity's word, coloured by how bad it is.
    public func severity(_ s: Severity) -> String {
        switch s {
        case .critical: paint("CRITICAL", "1;31")
        case .error: paint("ERROR", "31")
        case .warning: paint("WARNING", "33")
        case .info: paint("info", "36")
        }
    }

    /// Any text in its severity's colour (a timeline line, a kind).
    public func colored(_ text: String, as s: Severity) -> String {
        switch s {
        case .critical: paint(text, "1;31")
        case .error: paint(text, "31")
        case .warning: paint(text, "33")
        case .info: text
        }
    }
}
