import ArgumentParser
import LockscanKit

/// The input layer's bounds, the same options for every command that reads
/// logs. Each exists so that no input can make lockscan hold unbounded
/// memory or run for ever; what a bound cuts off is always a diagnostic
/// naming the option, so a user who needs more knows what to raise.
struct InputLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-line-size"), help: ArgumentHelp(
        "A longer line is analysed in its first SIZE bytes and passed through whole (bytes; K, M, G suffixes; 1K to 1G; default: 1M).",
        valueName: "SIZE"))
    var maxLineSize: String?

    @Option(name: .customLong("max-stream-size"), help: ArgumentHelp(
        "A pipe, FIFO, device or decompressed stream is read at most this far; a regular file always to its size when opened (default: 64G, a device 256M; 1M to 1P).",
        valueName: "SIZE"))
    var maxStreamSize: String?

    func validate() throws { _ = try limits() }

    func limits() throws -> InputLimits {
        var limits = InputLimits()
        if let s = maxLineSize {
            limits.maxLineBytes = Int(try Self.size(s, option: "--max-line-size", in: 1 << 10...1 << 30))
        }
        if let s = maxStreamSize {
            limits.maxStreamBytes = try Self.size(s, option: "--max-stream-size", in: 1 << 20...1 << 50)
            limits.maxDeviceBytes = limits.maxStreamBytes
        }
        return limits
    }

    /// `SIZE` as bytes: digits with an optional binary K/M/G/T/P suffix,
    /// refused outside `range` (never a wrapped product).
    static func size(_ text: String, option: String, in range: ClosedRange<Int64>) throws -> Int64 {
        var digits = Substring(text)
        var shift: Int64 = 0
        if let last = digits.last, let k = "KMGTP".firstIndex(of: Character(last.uppercased())) {
            shift = Int64(10 * ("KMGTP".distance(from: "KMGTP".startIndex, to: k) + 1))
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 16, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits),
              n <= range.upperBound >> shift, range.contains(n << shift) else {
            throw ValidationError("\(option) \(text): a size from \(range.lowerBound) to \(range.upperBound) bytes is wanted (e.g. 4M, 2G)")
        }
        return n << shift
    }
}
