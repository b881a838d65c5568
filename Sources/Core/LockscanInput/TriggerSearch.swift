import CByteSearch
#if canImport(Glibc)
import Glibc
#endif

/// Finds the next occurrence of any of many trigger strings in one pass.
///
/// Each trigger is indexed by its rarest adjacent byte pair (rare by `score`).
/// A C loop looks for any indexed pair; only there are the triggers compared.
/// Searching 30 strings with one `memmem` pass each cost 30 passes over the
/// input; this is one.
///
/// Why the pairs are ranked from real logs (PairFrequencies, the 512 pairs
/// corpora/public contains most often) and not only by the per-byte estimate
/// in `frequency`: measured with callgrind (instructions of a whole
/// `lockscan scan --ndjson`, repeatable on a busy machine) on the first
/// 600,000 lines (50 MB) of `Benchmarks/generate-dmesg.py --size-mb 300`,
/// the per-byte estimate alone costs 9% more than the 512-pair ranking (891 M
/// against 814 M instructions) and about 10% more CPU time on the whole
/// 300 MiB (median of 15 paired runs). It picks pairs such as "ck" (lockup),
/// "bl" (unstable, blocked), "ll" (stall) that it believes rare and that
/// English words in a log are full of: 5.95 M candidate positions in 300 MiB
/// that fail the exact check, against 4.18 M with the ranking. Shorter rankings do not pay (top
/// 128: 901 M, top 256: 912 M) and longer ones gain nothing (768: 859 M,
/// 1024: 838 M, all 1,927 pairs seen at least twice: 837 M): where the
/// candidates go down, the SIMD loop's cost moves with which pairs share its
/// buckets. Ranking pairs by a short hand-written list of common ones (digits,
/// hex, spaces, "0x", ": ", "] ") changes no trigger's pair: no trigger's
/// rarest pair is one of those. On logs made mostly of lockup reports
/// (corpora/public repeated) the analyzers dominate and the choice makes no
/// measurable difference (within 0.2% of instructions either way).
public struct TriggerSearch: Sendable {
    /// 65536 pair bits (the layout lockscan_pair_scan reads).
    private var bitset = [UInt8](repeating: 0, count: 8192)
    /// pair → its list in `lists`: an open-addressed table of the indexed
    /// pairs (a few dozen), probed from the pair's hash. A table of 65,536
    /// arrays, one per pair, cost every search 65,536 retains to build and
    /// releases to free (a third of a scan of an empty file: the engine and
    /// the analyzers make two dozen searches), and a flat 65,536-entry index
    /// 256 KiB of memory each.
    private var slots = PairSlots(capacity: 0)
    /// Per indexed pair: (trigger index, offset of the pair in the trigger).
    private var lists: [[(Int, Int)]] = []
    public let triggers: [[UInt8]]
    /// Triggers of one byte cannot be indexed by a pair.
    private var singleBytes: [UInt8] = []
    /// The same, with each one's trigger index, for `forEachMatch`.
    private var singleByteTriggers: [(index: Int, byte: UInt8)] = []
    /// Nibble tables of the SIMD prefilter (see lockscan_pair_scan_fast).
    private var teddy = [UInt8](repeating: 0, count: 64)

    public init(_ triggers: [[UInt8]]) {
        self.triggers = triggers
        var indexed: [(UInt8, UInt8)] = []
        slots = PairSlots(capacity: triggers.count)
        for (t, needle) in triggers.enumerated() {
            guard needle.count >= 2 else {
                if let b = needle.first { singleBytes.append(b); singleByteTriggers.append((t, b)) }
                continue
            }
            var best = 0
            var bestScore = Int.max
            for i in 0..<(needle.count - 1) {
                let score = Self.score(needle[i], needle[i + 1])
                if score < bestScore { bestScore = score; best = i }
            }
            let key = UInt16(needle[best]) << 8 | UInt16(needle[best + 1])
            let list: Int
            if let known = slots.list(for: Int(key)) {
                list = known
            } else {
                indexed.append((needle[best], needle[best + 1]))
                list = lists.count
                slots.insert(Int(key), list: list)
                lists.append([])
            }
            bitset[Int(key >> 3)] |= 1 << (key & 7)
            lists[list].append((t, best))
        }
        fillTeddy(indexed)
        for b in singleBytes {
            // Index every pair starting or ending with the byte.
            for other in 0...255 {
                for key in [UInt16(b) << 8 | UInt16(other), UInt16(other) << 8 | UInt16(b)] {
                    bitset[Int(key >> 3)] |= 1 << (key & 7)
                }
            }
            for i in 0..<64 { teddy[i] = 0xff } // every position is a candidate: the tables cannot filter
        }
    }

    /// Puts each pair in one of the prefilter's 8 buckets. A bucket passes
    /// every byte whose low nibble is one of its pairs' first-byte low
    /// nibbles and whose high nibble is one of their high nibbles (and the
    /// same for the second byte), so two pairs in one bucket also pass the
    /// mixed bytes: 'C' (0x43) and 'k' (0x6b) together pass 'K' and 'c'.
    /// Each pair, commonest first, goes to the bucket whose passing
    /// positions it adds least to, a position's chance taken as the product
    /// of its two bytes' `frequency`. Counted over the bytes of the public
    /// corpus with the scan's 68 pairs, bucketing by the first byte's low
    /// three bits let through 19% of the positions (56,953 of 295,209, of
    /// which 3,183 hold a pair); this lets through 8.3%, and 24% → 12% of
    /// generate-dmesg.py's text. A whole 1 GiB scan takes 0.80× the time.
    private mutating func fillTeddy(_ pairs: [(UInt8, UInt8)]) {
        var weight = [Int](repeating: 0, count: 256)
        for b in 0...255 { weight[b] = Self.frequency(UInt8(b)) }
        /// The weight of the bytes whose nibbles are in `low` and `high` (bit sets of 16).
        func mass(_ low: UInt16, _ high: UInt16) -> Int {
            var total = 0
            var h = high
            while h != 0 {
                let j = h.trailingZeroBitCount
                h &= h - 1
                var l = low
                while l != 0 {
                    total += weight[j << 4 | l.trailingZeroBitCount]
                    l &= l - 1
                }
            }
            return total
        }
        // Per bucket: first byte's low and high nibbles, second byte's.
        var nibbles = [(UInt16, UInt16, UInt16, UInt16)](repeating: (0, 0, 0, 0), count: 8)
        func cost(_ n: (UInt16, UInt16, UInt16, UInt16)) -> Int { mass(n.0, n.1) * mass(n.2, n.3) }
        let ordered = pairs.sorted { weight[Int($0.0)] * weight[Int($0.1)] > weight[Int($1.0)] * weight[Int($1.1)] }
        for (a, b) in ordered {
            var bestBucket = 0
            var bestIncrease = Int.max
            for k in 0..<8 {
                let n = nibbles[k]
                let grown = (n.0 | 1 << (a & 0x0f), n.1 | 1 << (a >> 4), n.2 | 1 << (b & 0x0f), n.3 | 1 << (b >> 4))
                let increase = cost(grown) - cost(n)
                if increase < bestIncrease { bestIncrease = increase; bestBucket = k }
            }
            let n = nibbles[bestBucket]
            nibbles[bestBucket] = (n.0 | 1 << (a & 0x0f), n.1 | 1 << (a >> 4), n.2 | 1 << (b & 0x0f), n.3 | 1 << (b >> 4))
            let bit = UInt8(1) << bestBucket
            teddy[Int(a & 0x0f)] |= bit
            teddy[16 + Int(a >> 4)] |= bit
            teddy[32 + Int(b & 0x0f)] |= bit
            teddy[48 + Int(b >> 4)] |= bit
        }
    }

    /// How common a byte pair is: its rank among the pairs real logs contain
    /// most often (PairFrequencies), pairs not listed below every listed one
    /// and ordered among themselves, like ties, by a rough per-byte estimate
    /// (at most 100, so it never outweighs one step of rank).
    static func score(_ a: UInt8, _ b: UInt8) -> Int {
        Int(commonness[Int(a) << 8 | Int(b)]) * 1000 + frequency(a) * frequency(b) / 100
    }

    /// PairFrequencies.commonest as a rank per pair (the commonest has the
    /// highest; unlisted pairs 0), read from its hex digits in one walk:
    /// splitting the text and building a dictionary cost 2.5 M instructions,
    /// paid by every run before its first line.
    static let commonness: [UInt16] = {
        var rank = [UInt16](repeating: 0, count: 65536)
        var keys: [Int] = []
        var value = 0, digits = 0
        for c in PairFrequencies.commonest.utf8 {
            let d: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int(c - UInt8(ascii: "a")) + 10
            default:
                if digits == 4 { keys.append(value) }
                value = 0; digits = 0
                continue
            }
            value = value << 4 | d
            digits += 1
        }
        if digits == 4 { keys.append(value) }
        for (i, k) in keys.enumerated() { rank[k] = UInt16(keys.count - i) }
        return rank
    }()

    /// Rough relative frequency of a byte in kernel logs.
    static func frequency(_ b: UInt8) -> Int {
        switch b {
        case 0x20: 100
        case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
             UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "0"): 60
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."): 50
        case UInt8(ascii: "l"), UInt8(ascii: "c"), UInt8(ascii: "d"), UInt8(ascii: "u"), UInt8(ascii: "h"),
             UInt8(ascii: "m"), UInt8(ascii: "p"): 40
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: "f"), UInt8(ascii: "x"): 30
        case UInt8(ascii: "a")...UInt8(ascii: "z"): 18
        case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: ","): 15
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): 8
        default: 5
        }
    }

    /// The SIMD level the pair scan runs at on this CPU (0 scalar, 1 SSSE3, 2 AVX2).
    public static var simdLevel: Int32 { lockscan_pair_scan_best_level() }

    /// The pair bits and nibble tables, for tests of the scan's levels.
    public var prefilterTables: (bits: [UInt8], teddy: [UInt8]) { (bitset, teddy) }

    /// The first candidate pair in `bytes` found with the scan capped at
    /// `level`, or `bytes.count`: the tests' way to run each level.
    public static func pairScan(_ bytes: [UInt8], bits: [UInt8], teddy: [UInt8], level: Int32) -> Int {
        bytes.withUnsafeBufferPointer { h in bits.withUnsafeBufferPointer { b in teddy.withUnsafeBufferPointer { t in
            lockscan_pair_scan_at(h.baseAddress ?? UnsafePointer(bitPattern: 1)!, h.count, b.baseAddress!, t.baseAddress!, level)
        } } }
    }

    /// Whether `text` contains any trigger. Byte search: Foundation's
    /// `String.contains` showed up at 20% of a scan's instructions.
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { buf in
            guard let base = buf.baseAddress, buf.count > 0 else { return false }
            return firstHit(UnsafeRawPointer(base), from: 0, to: buf.count) != nil
        }
    }

    /// Start of the first trigger occurrence in [from, to), or nil.
    public func firstHit(_ buf: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        let base = buf.assumingMemoryBound(to: UInt8.self)
        var pos = from
        return bitset.withUnsafeBufferPointer { bits -> Int? in teddy.withUnsafeBufferPointer { tables -> Int? in
            while pos + 1 < to {
                let rel = lockscan_pair_scan_fast(base + pos, to - pos, bits.baseAddress!, tables.baseAddress!)
                if rel >= to - pos { return nil }
                let p = pos + rel
                let key = Int(base[p]) << 8 | Int(base[p + 1])
                if let s = slots.list(for: key) {
                    var best: Int?
                    for (t, off) in lists[s] {
                        let needle = triggers[t]
                        let start = p - off
                        if start >= from, start + needle.count <= to, Self.occurs(needle, at: base + start) {
                            best = min(best ?? start, start)
                        }
                    }
                    if let best { return best }
                } else if singleBytes.contains(base[p]) {
                    return p
                } else if singleBytes.contains(base[p + 1]) {
                    return p + 1
                }
                pos = p + 1
            }
            return nil
        } }
    }

    /// Whether `needle` (at least two bytes) is at `at`. Most candidates
    /// hold the indexed pair and nothing more: comparing the last and first
    /// bytes first turns those away without a call to memcmp.
    @inline(__always)
    static func occurs(_ needle: [UInt8], at: UnsafePointer<UInt8>) -> Bool {
        needle.withUnsafeBufferPointer { n in
            let count = n.count
            return at[count - 1] == n[count - 1] && at[0] == n[0] && memcmp(at, n.baseAddress!, count) == 0
        }
    }

    /// Calls `body` with the index of every trigger that occurs in [from, to),
    /// each time it occurs, in no particular order: one pass tells which of
    /// many triggers a line holds (the engine routes a record to the
    /// analyzers whose triggers these are), where asking `firstHit` per
    /// trigger list would search the line once per list.
    public func forEachMatch(_ buf: UnsafeRawPointer, from: Int, to: Int, _ body: (Int) -> Void) {
        guard from < to else { return }
        let base = buf.assumingMemoryBound(to: UInt8.self)
        for (t, b) in singleByteTriggers where memchr(base + from, Int32(b), to - from) != nil { body(t) }
        var pos = from
        bitset.withUnsafeBufferPointer { bits in teddy.withUnsafeBufferPointer { tables in
            while pos + 1 < to {
                let rel = lockscan_pair_scan_fast(base + pos, to - pos, bits.baseAddress!, tables.baseAddress!)
                if rel >= to - pos { return }
                let p = pos + rel
                if let s = slots.list(for: Int(base[p]) << 8 | Int(base[p + 1])) {
                    for (t, off) in lists[s] {
                        let needle = triggers[t]
                        let start = p - off
                        if start >= from, start + needle.count <= to, Self.occurs(needle, at: base + start) {
                            body(t)
                        }
                    }
                }
                pos = p + 1
            }
        } }
    }
}

/// The indexed pairs of a `TriggerSearch` and the list each one leads to:
/// linear probing over a power-of-two table at most half full, so a pair
/// is found in about one probe and the table stays a few hundred bytes.
struct PairSlots: Sendable {
    /// Per slot: the pair + 1 in the high half (0 for an empty slot), its
    /// list in the low half: one load a probe.
    private var slots: [UInt64]
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func start(_ key: Int) -> Int { Int((UInt32(truncatingIfNeeded: key) &* 2_654_435_761) >> 16) & mask }

    @inline(__always)
    func list(for key: Int) -> Int? {
        var i = start(key)
        let wanted = UInt64(UInt32(truncatingIfNeeded: key) &+ 1)
        while true {
            let slot = slots[i]
            if slot >> 32 == wanted { return Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) }
            if slot == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// `key` must not be in the table yet, and the table must have room
    /// (the search sizes it for every trigger, one pair each).
    mutating func insert(_ key: Int, list: Int) {
        var i = start(key)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = UInt64(UInt32(truncatingIfNeeded: key) &+ 1) << 32 | UInt64(UInt32(truncatingIfNeeded: list))
    }
}
