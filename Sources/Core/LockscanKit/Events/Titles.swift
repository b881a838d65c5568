/// Helpers analyzers share when naming functions in titles.
import CByteSearch

public enum FunctionName {
    /// `foo.isra.0` → `foo`, `bar.constprop.3` → `bar`, `baz.cold` → `baz`:
    /// compiler clones are one function to a reader and to a bug tracker.
    public static func base(_ name: String) -> String {
        // Most names hold no dot at all: said from their bytes in place,
        // before any `String` comparison (this is asked of every frame of
        // every dump, several times).
        if name.utf8.withContiguousStorageIfAvailable({ !$0.contains(UInt8(ascii: ".")) }) == true {
            return name
        }
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

extension StringProtocol {
    /// The integer right after `marker` in this text. The digits are read
    /// on bytes: walking Characters made a soft-lockup header ~30,000
    /// instructions. Where the digits run into text that is not ASCII (a
    /// combining mark, another script's digit), they are read as
    /// Characters, as `isNumber` reads them.
    public func integer(after marker: String) -> Int? {
        guard let r = firstOccurrence(of: marker) else { return nil }
        let tail = self[r.upperBound...]
        let ascii = tail.withUTF8Bytes { b -> Int?? in
            var end = 0
            while end < b.count, b[end] >= 0x30, b[end] <= 0x39 { end += 1 }
            if end < b.count, b[end] >= 0x80 { return .none }
            return .some(Int(String(decoding: UnsafeBufferPointer(rebasing: b[..<end]), as: UTF8.self)))
        }
        if let ascii { return ascii }
        return Int(tail.prefix(while: { $0.isNumber }))
    }
}

extension StringProtocol {
    /// `body` over the text's UTF-8 bytes: in place when they are
    /// contiguous (every native String and its Substrings), else over a copy.
    @inline(__always)
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(utf8).withUnsafeBufferPointer(body)
    }

    /// Whether the text, after leading spaces, starts with `prefix`,
    /// compared on UTF-8 in place: for checks asked of every line a
    /// collector is offered, where `Substring.hasPrefix` compared
    /// characters one by one.
    public func startsAfterSpaces(with prefix: [UInt8]) -> Bool {
        withUTF8Bytes { b in
            var i = 0
            while i < b.count, b[i] == 0x20 { i += 1 }
            return b.count - i >= prefix.count && UnsafeBufferPointer(rebasing: b[i..<(i + prefix.count)]).elementsEqual(prefix)
        }
    }

    /// Byte substring search (memmem). Used on every line an analyzer sees
    /// while collecting a report, where Foundation's `contains`/`range(of:)`
    /// cost more than all of the byte scanning before them.
    public func includes(_ needle: String) -> Bool {
        var n = needle
        return n.withUTF8 { nb in
            withUTF8Bytes { hb in lockscan_memmem(hb.baseAddress, hb.count, nb.baseAddress, nb.count) != nil }
        }
    }

    /// Where `needle` first occurs, found on UTF-8 bytes (memmem). The
    /// standard library's `firstRange(of:)` compares Characters and took
    /// three times as long as Foundation's `range(of:)` on a log line. As
    /// with both, a match must start and end on Character boundaries (`x`
    /// is not in `x` followed by a combining accent); that is checked on
    /// the byte matches only.
    public func firstOccurrence(of needle: some StringProtocol) -> Range<Index>? {
        occurrence(of: needle, last: false)
    }

    /// Where `needle` last occurs (as `firstOccurrence`, from the end).
    public func lastOccurrence(of needle: some StringProtocol) -> Range<Index>? {
        occurrence(of: needle, last: true)
    }

    private func occurrence(of needle: some StringProtocol, last: Bool) -> Range<Index>? {
        var n = String(needle)
        let count = n.utf8.count
        guard count > 0 else { return nil }
        // Every byte match in turn, until one is on Character boundaries (the last such, for `last`).
        return n.withUTF8 { nb -> Range<Index>? in
            func search(_ hb: UnsafeBufferPointer<UInt8>) -> Range<Index>? {
                guard let base = hb.baseAddress, hb.count >= count else { return nil }
                var from = 0, found: Range<Index>?
                while from <= hb.count - count,
                      let hit = lockscan_memmem(base + from, hb.count - from, nb.baseAddress, count) {
                    let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                    let lower = utf8.index(utf8.startIndex, offsetBy: at)
                    let upper = utf8.index(lower, offsetBy: count)
                    if onCharacterBoundaries(lower, upper) {
                        found = lower..<upper
                        if !last { break }
                    }
                    from = at + 1
                }
                return found
            }
            return withUTF8Bytes(search)
        }
    }

    private func onCharacterBoundaries(_ lower: Index, _ upper: Index) -> Bool {
        let whole: String
        if let s = self as? String { whole = s } else if let s = self as? Substring { whole = s.base } else { return true }
        return lower.samePosition(in: whole) != nil && upper.samePosition(in: whole) != nil
    }
}
