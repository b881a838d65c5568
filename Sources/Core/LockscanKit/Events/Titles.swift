/// Helpers analyzers share when naming functions in titles.
import CByteSearch

public enum FunctionName {
    /// `foo.isra.0` → `foo`, `bar.constprop.3` → `bar`, `baz.cold` → `baz`:
    /// compiler clones are one function to a reader and to a bug tracker.
    public static func base(_ name: String) -> String {
        // ppc64 ELFv1 prints code entry points with a leading dot (".do_raw_spin_lock").
        if name.hasPrefix("."), name.count > 1 { return base(String(name.dropFirst())) }
        // A byte search: symbol names are ASCII, and Character search cost
        // more than the rest of attributing a report's frames.
        guard let dot = name.utf8.firstIndex(of: UInt8(ascii: ".")) else { return name }
        let suffixes = [".isra", ".constprop", ".part", ".cold", ".llvm", ".lto_priv", ".localalias"]
        for s in suffixes where name[dot...].hasPrefix(s) { return String(name[..<dot]) }
        return name
    }
}

extension Record {
    /// Message text with leading spaces removed (frames and continuation
    /// lines are indented).
    public var trimmedText: Substring { text.drop(while: { $0 == " " || $0 == "\t" }) }
}

extension String {
    /// The integer right after `marker` in this string.
    public func integer(after marker: String) -> Int? {
        guard let r = range(of: marker) else { return nil }
        let digits = self[r.upperBound...].prefix(while: { $0.isNumber })
        return Int(digits)
    }
}

extension StringProtocol {
    /// Byte substring search (memmem). Used on every line an analyzer sees
    /// while collecting a report, where Foundation's `contains`/`range(of:)`
    /// cost more than all of the byte scanning before them.
    public func includes(_ needle: String) -> Bool {
        var n = needle
        return n.withUTF8 { nb in
            let hit = self.utf8.withContiguousStorageIfAvailable { hb -> Bool in
                lockscan_memmem(hb.baseAddress, hb.count, nb.baseAddress, nb.count) != nil
            }
            if let hit { return hit }
            var copy = String(self)
            return copy.withUTF8 { hb in lockscan_memmem(hb.baseAddress, hb.count, nb.baseAddress, nb.count) != nil }
        }
    }
}
