import Glibc




/// Numbers as C's printf writes them. `String(format:)` is in the full
/// Foundation, which lockscan no longer loads (see `StringSearch`); these
/// ask the C library itself, so rounding and digits stay those of printf.
public enum PrintfFormat {
    /// `%.Nf`: `decimals` digits after the point, rounded as printf rounds.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        format("%.*f", Int32(clamping: max(0, min(decimals, 60))), value)
    }

    /// `%0Nd`: at least `width` digits, zeros in front (after a minus sign).
    public static func zeroPadded(_ value: Int, width: Int) -> String {
        format("%0*ld", Int32(clamping: max(0, min(width, 60))), value)
    }

    /// `%04d-%02d-%02d`.
    public static func date(year: Int, month: Int, day: Int) -> String {
        zeroPadded(year, width: 4) + "-" + zeroPadded(month, width: 2) + "-" + zeroPadded(day, width: 2)
    }

    /// `%02d:%02d`, or `%02d:%02d:%02d` with seconds.
    public static func clock(_ hour: Int, _ minute: Int, _ second: Int? = nil) -> String {
        zeroPadded(hour, width: 2) + ":" + zeroPadded(minute, width: 2) + (second.map { ":" + zeroPadded($0, width: 2) } ?? "")
    }

    /// `%0Nlx`: lower-case hex in at least `width` digits.
    public static func hex(_ value: UInt64, width: Int) -> String {
        format("%0*lx", Int32(clamping: max(0, min(width, 60))), value)
    }

    private static func format(_ spec: String, _ args: any CVarArg...) -> String {
        // Nearly every text is short: written once into the stack, not
        // measured, allocated and written again (22,000 instructions for
        // each `1.23 s apart` of an incident's links).
        let short = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer -> String? in
            let written = withVaList(args) { vsnprintf(buffer.baseAddress, buffer.count, spec, $0) }
            guard written >= 0, Int(written) < buffer.count else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(written)), as: UTF8.self)
        }
        if let short { return short }
        let needed = withVaList(args) { vsnprintf(nil, 0, spec, $0) }
        guard needed > 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        _ = buffer.withUnsafeMutableBufferPointer { b in withVaList(args) { vsnprintf(b.baseAddress, b.count, spec, $0) } }
        return String(decoding: buffer.prefix(Int(needed)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
