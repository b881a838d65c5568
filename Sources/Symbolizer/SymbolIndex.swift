import FoundationEssentials
import Glibc

/// The function and object symbols of one module: by address (which symbol
/// holds a return address) and by name (where `func+0x18/0x90` points).
///
/// libdwfl answers both with a scan of the whole table that also looks up
/// each symbol's section, ~1.5 ms per question on a distribution kernel's
/// ~120,000 symbols. Here name questions and the first two address
/// questions read the ELF table in place (a stack's names all in one pass,
/// `preload`); the next few scan a compact copy; only a caller that keeps
/// asking pays for the sorted order (a radix sort, ~8 ms) or the name hash
/// table, so a one-address run stays close to eu-addr2line's start-up while
/// a batch gets O(log n).
final class SymbolIndex {
    /// One ELF symbol. The name points into libelf's string table, which
    /// lives as long as the Dwfl: no String is made until one is asked for.
    struct Symbol {
        var address: UInt64
        var cName: UnsafePointer<CChar>
        /// 32 bits (no kernel symbol is 4 GiB long) keep a symbol at 24
        /// bytes: building the index is mostly page faults.
        var size32: UInt32
        /// Preference among symbols at one address, lower first: sized
        /// GLOBAL, WEAK, LOCAL, then sizeless ones in that order. Among
        /// equal ranks the later symbol-table entry wins, as in
        /// llvm-symbolizer (`__x64_sys_getpid` over its `__ia32_` alias).
        var rank: UInt8

        init(address: UInt64, size: UInt64, cName: UnsafePointer<CChar>, rank: UInt8) {
            self.address = address
            self.cName = cName
            size32 = UInt32(clamping: size)
            self.rank = rank
        }

        var size: UInt64 { UInt64(size32) }
        var name: String { String(cString: cName) }

        /// Whether `address` lies in the symbol. Measured from the start:
        /// `address + size` can pass 2^64 when the file puts a symbol near
        /// the top. An unsized label (an assembly entry point, `_end`)
        /// covers what follows it up to `SymbolIndex.unsizedReach`: farther
        /// away an address is in no symbol, `??`, not the nearest name.
        func covers(_ address: UInt64) -> Bool {
            Self.covers(start: self.address, size: size, address)
        }

        static func covers(start: UInt64, size: UInt64, _ address: UInt64) -> Bool {
            guard address >= start else { return false }
            let distance = address - start
            return size == 0 ? distance < SymbolIndex.unsizedReach : distance < size
        }
    }

    /// Which symbols a walk must hand over. A walk over the ELF table in
    /// place tests this on the entry's address and size before it reads
    /// anything else (the name is in another section): a one-address
    /// lookup then reads a few names instead of 120,000.
    enum Filter {
        case all
        /// The symbols that cover the address (`Symbol.covers`).
        case covering(UInt64)
        /// Sized symbols starting in the range.
        case sizedStarting(ClosedRange<UInt64>)

        /// `size` as the table gives it (it is clamped as `Symbol` clamps it).
        @inline(__always)
        func admits(address: UInt64, size: UInt64) -> Bool {
            switch self {
            case .all: true
            case let .covering(a): Symbol.covers(start: address, size: UInt64(UInt32(clamping: size)), a)
            case let .sizedStarting(r): size > 0 && r.contains(address)
            }
        }
    }

    /// In symbol-table order reversed (later entries first, see `rank`).
    /// Built on the third address question or for the name hash table:
    /// a stack's `func+0x18/0x90` frames, the banner and a one-address run
    /// read the ELF table in place, and copying ~120,000 symbols first cost
    /// more than answering them.
    private var table: [Symbol] {
        if let built { return built }
        var list: [Symbol] = []
        list.reserveCapacity(expectedCount)
        forEachInTable(.all) { list.append($0) }
        list.reverse()
        built = list
        return list
    }

    private var built: [Symbol]?
    private let expectedCount: Int
    /// Every symbol in table order, without a copy.
    private let forEachInTable: TableWalk

    /// A walk over a symbol table in place: every symbol the filter admits.
    typealias TableWalk = (Filter, (Symbol) -> Void) -> Void

    /// Every symbol the filter admits.
    private func forEachSymbol(_ filter: Filter = .all, _ body: (Symbol) -> Void) {
        guard let built else { return forEachInTable(filter, body) }
        for s in built where filter.admits(address: s.address, size: s.size) { body(s) }
    }
    private var addressQuestions = 0
    private var nameQuestions = 0
    /// How many questions a scan answers before the index is built.
    static let scansBeforeIndex = 16
    /// By address, then rank, then later table entry first.
    private lazy var sorted: [Symbol] = Self.radixSorted(table)
    private lazy var names = NameTable(table)

    /// Symbols in the order the index keeps them (later table entries first).
    init(_ symbols: consuming [Symbol]) {
        built = symbols
        expectedCount = 0
        forEachInTable = { _, _ in }
    }

    /// Symbols read from a table that outlives the index, in table order.
    init(count: Int, forEach: @escaping TableWalk) {
        expectedCount = count
        forEachInTable = forEach
    }

    /// The symbol containing `address`: among the symbols at the nearest
    /// address at or below it, the best-ranked one that covers it (sizes of
    /// 0 cover up to the next symbol).
    func containing(_ address: UInt64) -> Symbol? {
        addressQuestions += 1
        // Past two questions the copy pays: the ELF table's entries are
        // filtered and converted again on every pass.
        if addressQuestions == 3, built == nil { _ = table }
        return addressQuestions <= Self.scansBeforeIndex ? scanContaining(address) : sortedContaining(address)
    }

    /// The best symbol covering the address, unless a sized symbol starts
    /// between it and the address, which hides it (as in the sorted
    /// lookup): two passes that each hand over a few symbols. The first
    /// questions read the ELF table in place: a one-address run does not
    /// pay for copying it.
    func scanContaining(_ address: UInt64) -> Symbol? {
        var best: Symbol?
        // Among equal symbols the later table entry wins: it comes first in
        // the copy (reversed) and last when reading the table in place.
        let laterWinsTies = built == nil
        forEachSymbol(.covering(address)) { s in
            guard s.covers(address) else { return }
            guard let b = best else { best = s; return }
            if s.address > b.address || (s.address == b.address && (s.rank < b.rank || (laterWinsTies && s.rank == b.rank))) {
                best = s
            }
        }
        guard let b = best, b.address < address else { return best }
        var hidden = false
        forEachSymbol(.sizedStarting((b.address + 1)...address)) { s in
            if s.size > 0, s.address > b.address, s.address <= address { hidden = true }
        }
        return hidden ? nil : b
    }

    func sortedContaining(_ address: UInt64) -> Symbol? {
        let sorted = self.sorted
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid].address <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        var first = lo - 1
        while first > 0, sorted[first - 1].address == sorted[lo - 1].address { first -= 1 }
        return sorted[first..<lo].first { $0.covers(address) }
    }

    /// Assembly labels without a size are entry code of at most a few KiB.
    static let unsizedReach: UInt64 = 64 << 10

    /// Every symbol called `name`, in address order. A log names the same
    /// functions again and again (`kthread`, `ret_from_fork`): answers are
    /// kept. A name scan costs a strcmp per symbol (~0.7 ms) and the hash
    /// table about as much as two scans, so it comes on the third name.
    func named(_ name: String) -> [Symbol] {
        if let known = namedAnswers[name] { return known }
        nameQuestions += 1
        let found: [Symbol]
        if nameQuestions <= Self.nameScansBeforeIndex {
            var matches: [Symbol] = []
            name.withCString { key in forEachSymbol { if strcmp($0.cName, key) == 0 { matches.append($0) } } }
            found = matches
        } else {
            found = names.indexes(of: name).map { table[$0] }
        }
        let sorted = found.sorted { $0.address < $1.address }
        namedAnswers[name] = sorted
        return sorted
    }

    private var namedAnswers: [String: [Symbol]] = [:]
    static let nameScansBeforeIndex = 2

    /// Answers every name in one pass, for a caller that knows them all in
    /// advance (the functions of a stack): each symbol's name is hashed once
    /// and compared only with wanted names of the same hash, half the cost
    /// of building the hash table and no table to keep.
    func preload(_ wanted: Set<String>) {
        let missing = wanted.filter { namedAnswers[$0] == nil }
        guard missing.count > Self.nameScansBeforeIndex else { return }
        var byHash: [UInt32: [(key: [CChar], name: String)]] = [:]
        // A bit per 16-bit hash prefix turns away nearly every symbol
        // before the dictionary (hashing a key there costs more than the name).
        var bits = [UInt64](repeating: 0, count: 1024)
        for name in missing {
            let h = NameTable.hash(name)
            byHash[h, default: []].append((Array(name.utf8CString), name))
            bits[Int(h & 0xffff) >> 6] |= 1 << (h & 63)
        }
        var found: [String: [Symbol]] = [:]
        forEachSymbol { sym in
            let h = NameTable.hash(sym.cName)
            guard bits[Int(h & 0xffff) >> 6] & (1 << (h & 63)) != 0, let candidates = byHash[h] else { return }
            for c in candidates where strcmp(sym.cName, c.key) == 0 { found[c.name, default: []].append(sym) }
        }
        for name in missing { namedAnswers[name] = (found[name] ?? []).sorted { $0.address < $1.address } }
    }

    /// LSD radix sort, a byte a pass, stable: rank first, then the address
    /// from its low byte up. All histograms come from one read of the
    /// input, and a byte every address shares (the kernel's ffffffff top)
    /// costs no pass. The caller passes the table reversed, so among equals
    /// the later entry comes first.
    static func radixSorted(_ symbols: consuming [Symbol]) -> [Symbol] {
        let n = symbols.count
        guard n > 1 else { return symbols }
        var a = symbols
        var b = [Symbol](unsafeUninitializedCapacity: n) { _, count in count = 0 }
        b.append(contentsOf: repeatElement(a[0], count: n))
        // Histogram 0 is the rank, 1...8 the address bytes.
        var counts = [Int](repeating: 0, count: 9 * 256)
        for s in a {
            counts[Int(s.rank)] += 1
            for d in 0..<8 { counts[256 * (d + 1) + Int((s.address >> UInt64(8 * d)) & 0xff)] += 1 }
        }
        for h in 0..<9 {
            let histogram = counts[(256 * h)..<(256 * h + 256)]
            if histogram.contains(n) { continue }
            var next = [Int](repeating: 0, count: 256)
            var sum = 0
            for (i, c) in histogram.enumerated() {
                next[i] = sum
                sum += c
            }
            let shift = UInt64(8 * max(h - 1, 0))
            a.withUnsafeBufferPointer { src in
                b.withUnsafeMutableBufferPointer { dst in
                    for s in src {
                        let d = h == 0 ? Int(s.rank) : Int((s.address >> shift) & 0xff)
                        dst[next[d]] = s
                        next[d] += 1
                    }
                }
            }
            swap(&a, &b)
        }
        return a
    }

    /// Open addressing over the names' FNV-1a hashes; a hit is confirmed
    /// with strcmp, so a collision costs a probe, never a wrong answer.
    struct NameTable {
        private var slots: [Int32]
        private var hashes: [UInt32]
        /// The index's own table: names are read through it, never copied.
        private let symbols: [Symbol]
        private let mask: Int

        init(_ symbols: [Symbol]) {
            self.symbols = symbols
            var capacity = 16
            while capacity < symbols.count * 2 { capacity <<= 1 }
            mask = capacity - 1
            slots = [Int32](repeating: -1, count: capacity)
            hashes = [UInt32](repeating: 0, count: symbols.count)
            for (i, sym) in symbols.enumerated() {
                let h = Self.hash(sym.cName)
                hashes[i] = h
                var slot = Int(h) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(i)
            }
        }

        func indexes(of name: String) -> [Int] {
            name.withCString { key in
                let h = Self.hash(key)
                var out: [Int] = []
                var slot = Int(h) & mask
                while slots[slot] >= 0 {
                    let i = Int(slots[slot])
                    if hashes[i] == h, strcmp(symbols[i].cName, key) == 0 { out.append(i) }
                    slot = (slot + 1) & mask
                }
                return out
            }
        }

        /// Length, first and last eight bytes, mixed: the whole table is
        /// hashed when the index is built, and a byte-at-a-time hash of every
        /// name cost 8× more (kernel names differ at their ends: `__x64_sys_getpid`,
        /// `__x64_sys_getuid`). Equal hashes are confirmed with strcmp.
        static func hash(_ name: String) -> UInt32 {
            name.withCString { hash($0) }
        }

        static func hash(_ s: UnsafePointer<CChar>) -> UInt32 {
            let n = strlen(s)
            let raw = UnsafeRawPointer(s)
            var h = UInt64(n) &* 0x9E37_79B9_7F4A_7C15
            if n >= 8 {
                h ^= raw.loadUnaligned(as: UInt64.self)
                h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
                h ^= raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            } else {
                var v: UInt64 = 0
                for i in 0..<n { v |= UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
                h ^= v
            }
            h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
            return UInt32(truncatingIfNeeded: h ^ (h >> 32))
        }
    }
}
