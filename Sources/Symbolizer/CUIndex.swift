import CLibdw

/// The functions of one compilation unit with their PC ranges: every
/// subprogram and inlined-subroutine DIE, its depth and its enclosing
/// function. Built once per CU on first use; afterwards an address costs a
/// scan of this CU's ranges instead of libdw's `dwarf_getscopes`, which
/// walks the whole CU again for every address (what makes eu-addr2line take
/// ~1.5 ms per kernel address).
///
/// Lazily, in two levels: the unit's top level is read only as far as the
/// first function holding the address asked for (the next address reads on
/// from there), and a function's body (its inlined calls, ~40% of a kernel
/// CU's DIEs) is walked only when an address falls in it. 10,000 random
/// kernel addresses touch ~10,000 of ~60,000 functions. Functions without
/// code (declarations, abstract instances) are not kept.
final class CUIndex {
    struct Function {
        var die: Dwarf_Die
        var depth: Int
        /// Index of the enclosing function entry (the caller of an inlined copy), or -1.
        var parent: Int
        /// Whether the DIEs inside this function are indexed yet.
        var expanded: Bool
    }

    struct Range {
        var low: UInt64
        var high: UInt64
        var function: Int32
    }

    private(set) var functions: [Function] = []
    private(set) var ranges: [Range] = []
    /// Where the unit's top level was left: the walk stops at the first
    /// function holding the address asked for (see `chain`).
    private var topLevel: [(Dwarf_Die, Int)] = []

    init(cu: Dwarf_Die) {
        var cu = cu
        var child = Dwarf_Die()
        if dwarf_child(&cu, &child) == 0 { topLevel = [(child, 1)] }
    }

    /// Indexes the functions under `parent`; functions found are recorded
    /// but not entered.
    private func walk(children parent: inout Dwarf_Die, depth: Int, enclosing: Int) {
        var child = Dwarf_Die()
        guard dwarf_child(&parent, &child) == 0 else { return }
        var stack: [(Dwarf_Die, Int)] = [(child, depth)]
        walk(&stack, enclosing: enclosing, until: nil)
    }

    /// Depth-first over `stack` (explicit, resumable): records functions
    /// with their ranges, looks inside lexical blocks and namespaces. With
    /// `until`, stops after recording a function whose ranges hold it, the
    /// rest left on `stack`.
    private func walk(_ stack: inout [(Dwarf_Die, Int)], enclosing: Int, until pc: UInt64?) {
        while let (top, level) = stack.popLast() {
            var die = top
            while true {
                let tag = dwarf_tag(&die)
                var found = false
                if tag == Int32(DW_TAG_subprogram) || tag == Int32(DW_TAG_inlined_subroutine) {
                    found = record(&die, depth: level, parent: enclosing, holding: pc)
                } else if Self.mayContainCode(tag), dwarf_haschildren(&die) > 0 {
                    // Lexical blocks and namespaces: look inside now, they
                    // belong to the scope being walked.
                    var grandchild = Dwarf_Die()
                    if dwarf_child(&die, &grandchild) == 0 { stack.append((grandchild, level + 1)) }
                }
                var next = Dwarf_Die()
                let more = dwarf_siblingof(&die, &next) == 0
                if found {
                    // The rest of this level comes next, as it would have.
                    if more { stack.append((next, level)) }
                    return
                }
                guard more else { break }
                die = next
            }
        }
    }

    /// Adds a function with its ranges; one without code (a declaration,
    /// an abstract instance: most of a kernel unit's subprograms) is not
    /// kept, as no address can lead to it. Returns whether `pc` is in it.
    private func record(_ die: inout Dwarf_Die, depth: Int, parent: Int, holding pc: UInt64?) -> Bool {
        let index = functions.count
        let before = ranges.count
        var holds = false
        var base: Dwarf_Addr = 0, low: Dwarf_Addr = 0, high: Dwarf_Addr = 0
        var offset: ptrdiff_t = 0
        while true {
            offset = dwarf_ranges(&die, offset, &base, &low, &high)
            if offset <= 0 { break }
            if high > low {
                ranges.append(Range(low: low, high: high, function: Int32(index)))
                if let pc, pc >= low && pc < high { holds = true }
            }
        }
        if ranges.count > before { functions.append(Function(die: die, depth: depth, parent: parent, expanded: false)) }
        return holds
    }

    /// Functions and inlined copies only nest inside code scopes: struct
    /// members, enumerators and parameters need no visit.
    static func mayContainCode(_ tag: Int32) -> Bool {
        tag == Int32(DW_TAG_lexical_block) || tag == Int32(DW_TAG_namespace) || tag == Int32(DW_TAG_module)
    }

    /// The innermost function containing `pc` (CU-relative address), then
    /// its enclosing functions up to the subprogram.
    func chain(at pc: UInt64) -> [Dwarf_Die] {
        var best = -1
        var bestDepth = -1
        var scanned = 0
        while true {
            if scanned == ranges.count {
                // Nothing indexed holds pc: read on into the unit's top level.
                guard best < 0, !topLevel.isEmpty else { break }
                walk(&topLevel, enclosing: -1, until: pc)
                if scanned == ranges.count { break }
            }
            // Ranges added while expanding are scanned in the same pass.
            let r = ranges[scanned]
            scanned += 1
            guard pc >= r.low && pc < r.high else { continue }
            let f = Int(r.function)
            if !functions[f].expanded {
                functions[f].expanded = true
                var die = functions[f].die
                if dwarf_haschildren(&die) > 0 { walk(children: &die, depth: functions[f].depth + 1, enclosing: f) }
            }
            if functions[f].depth > bestDepth {
                best = f
                bestDepth = functions[f].depth
            }
        }
        var out: [Dwarf_Die] = []
        while best >= 0, out.count < 64 {
            out.append(functions[best].die)
            if dwarf_tag(&functions[best].die) == Int32(DW_TAG_subprogram) { break }
            best = functions[best].parent
        }
        return out
    }
}
