import FoundationEssentials

/// Trims the standard library lacks. Foundation's `trimmingCharacters(in:)`
/// lives in the full Foundation, whose load (ICU's data and its
/// relocations) was a fifth of a one-address `symbolize`'s run; lockscan
/// links only FoundationEssentials (see docs/ARCHITECTURE.md).
extension StringProtocol {
    /// The text without the leading and trailing scalars `drop` names.
    public func trimming(_ drop: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !drop($0) })!
        var out = ""
        out.unicodeScalars.append(contentsOf: scalars[first...last])
        return out
    }

    /// Without leading and trailing blanks: spaces of every kind and tabs
    /// (Foundation's `.whitespaces`), not line ends.
    public func trimmingBlanks() -> String { trimming(Unicode.Scalar.isBlank) }

    /// Without leading and trailing white space, line ends included.
    public func trimmingWhitespace() -> String { trimming { $0.properties.isWhitespace } }
}

extension Unicode.Scalar {
    /// A space separator (Unicode's Zs) or a tab: what a line's words are
    /// separated by, as opposed to what ends the line.
    public static func isBlank(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || (s.value >= 0x80 && s.properties.generalCategory == .spaceSeparator)
    }
}
