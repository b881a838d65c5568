import CLibdw

/// The functions of one compilation unit with their PC ranges: every
/// subprogram and inlined-subroutine DIE, its depth and its enclosing
/// function. Built once per CU on first use; afterwards an address costs a
/// scan of this CU's ranges instead of libdw's `dwarf_getscopes`, which
/// walks the whole CU again for every address (what makes eu-addr2line take
/// ~1.5 ms per kernel address).
///
/// Lazily, in two levels: the first address in a CU lists its functions
/// without looking inside them; a function's body (its inlined calls,
/// ~40% of a kernel CU's DIEs) is walked only when an address falls in it.
/// 10,000 random kernel addresses touch ~10,000 of ~60,000 functions.
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

    init(cu: Dwarf_Die) {
        var cu = cu
        walk(children: &cu, depth: 1, enclosing: -1)
    }

    /// Indexes the functions under `parent` (depth-first, explicit stack);
    /// functions found are recorded but not entered.
    private func walk(children parent: inout Dwarf_Die, depth: Int, enclosing: Int) {
        var child = Dwarf_Die()
        guard dwarf_child(&parent, &child) == 0 else { return }
        var stack: [(Dwarf_Die, Int)] = [(child, depth)]
        while let (top, level) = stack.popLast() {
            var die = top
            while true {
                let tag = dwarf_tag(&die)
                if tag == Int32(DW_TAG_subprogram) || tag == Int32(DW_TAG_inlined_subroutine) {
                    let index = functions.count
                    functions.append(Function(die: die, depth: level, parent: enclosing, expanded: false))
                    addRanges(&die, function: index)
                } else if Self.mayContainCode(tag), dwarf_haschildren(&die) > 0 {
                    // Lexical blocks and namespaces: look inside now, they
                    // belong to the scope being walked.
                    var grandchild = Dwarf_Die()
                    if dwarf_child(&die, &grandchild) == 0 { stack.append((grandchild, level + 1)) }
                }
                var next = Dwarf_Die()
                guard dwarf_siblingof(&die, &next) == 0 else { break }
                die = next
            }
        }
    }

    /// Functions and inlined copies only nest inside code scopes: struct
    /// members, enumerators and parameters need no visit.
    static func mayContainCode(_ tag: Int32) -> Bool {
        tag == Int32(DW_TAG_lexical_block) || tag == Int32(DW_TAG_namespace) || tag == Int32(DW_TAG_module)
    }

    private func addRanges(_ die: inout Dwarf_Die, function: Int) {
        var base: Dwarf_Addr = 0, low: Dwarf_Addr = 0, high: Dwarf_Addr = 0
        var offset: ptrdiff_t = 0
        while true {
            offset = dwarf_ranges(&die, offset, &base, &low, &high)
            if offset <= 0 { break }
            if high > low { ranges.append(Range(low: low, high: high, function: Int32(function))) }
        }
    }

    /// The innermost function containing `pc` (CU-relative address), then
    /// its enclosing functions up to the subprogram.
    func chain(at pc: UInt64) -> [Dwarf_Die] {
        var best = -1
        var bestDepth = -1
        var scanned = 0
        while scanned < ranges.count {
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
