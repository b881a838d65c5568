/// One JSON value as `SortedJSONEncoder` builds it: flat arrays of nodes,
/// key bytes and already-written scalar bytes, so that building costs no
/// allocation per value and no hashing of keys (what made `JSONEncoder`
/// the largest cost of an `--ndjson` scan of a lockup storm).
///
/// An object keeps its members in key order as they arrive: a member is
/// linked in where its key's UTF-8 bytes sort, which is the order
/// swift-foundation's `JSONWriter` gives `.sortedKeys` off Darwin
/// (`a.key.utf8.lexicographicallyPrecedes(b.key.utf8)`), so writing is one
/// walk. Whatever this tree does not reproduce exactly (a key set twice, a
/// container asked for twice, a super-encoder) marks it `refused`, and the
/// caller asks `JSONEncoder` instead.
final class JSONTree {
    enum Kind: UInt8 {
        /// Nothing encoded into it (yet): `JSONEncoder` writes `{}` for it.
        case unset, scalar, object, array
    }

    struct Node {
        var kind = Kind.unset
        var parent: Int
        /// An object member's key, in `keyBytes`; empty for array elements.
        var key: Range<Int> = 0..<0
        /// The key's first eight bytes, big-endian, zero-padded: most keys
        /// are told apart by one integer comparison.
        var keyPrefix: UInt64 = 0
        /// A scalar's JSON text, in `scalarBytes`.
        var scalar: Range<Int> = 0..<0
        var firstChild = -1
        var lastChild = -1
        var next = -1
        var count = 0
    }

    /// Why the tree cannot stand for what `JSONEncoder` would write.
    enum Refusal: Error {
        /// A value `JSONEncoder` writes its own way (`Date`, `Data`, `URL`, `Decimal`).
        case foundationValue
        /// NaN or an infinity, which `JSONEncoder` refuses too.
        case nonFiniteNumber
        /// Deeper than `JSONWriter`'s limit of 512 containers.
        case tooDeep
        /// A use of the `Encoder` API whose result depends on `JSONEncoder`'s
        /// internals (a key encoded twice, a super-encoder, a container of
        /// another kind asked for on the same value, a top-level value that
        /// encoded nothing).
        case unusualEncoding
    }

    // Unchecked: Swift's run-time exclusivity check on a class's stored
    // property was a quarter of the encoding's cost (a thread-local access
    // set updated on every node added). No two accesses overlap: each is
    // within one method of this class, none calls out while it lasts, and a
    // tree belongs to the one call of `SortedJSONEncoder` that built it.
    @exclusivity(unchecked) private var nodes: [Node] = []
    @exclusivity(unchecked) private var keyBytes: [UInt8] = []
    @exclusivity(unchecked) private var scalarBytes: [UInt8] = []
    var refused: Refusal?

    /// `JSONWriter.maximumRecursionDepth`.
    static let maximumDepth = 512

    init() {
        nodes.reserveCapacity(256)
        keyBytes.reserveCapacity(1024)
        scalarBytes.reserveCapacity(8192)
        nodes.append(Node(parent: -1))
    }

    static let root = 0

    func kind(of node: Int) -> Kind { nodes[node].kind }
    func count(of node: Int) -> Int { nodes[node].count }

    func refuse(_ why: Refusal) {
        if refused == nil { refused = why }
    }

    /// Makes `node` a container of `kind`; false (and the tree refused) when
    /// it already holds something else.
    func become(_ kind: Kind, _ node: Int) -> Bool {
        let now = nodes[node].kind
        if now == .unset { nodes[node].kind = kind }
        guard now == .unset || now == kind else {
            refuse(.unusualEncoding)
            return false
        }
        return true
    }

    /// Sets a scalar's JSON text, written by `write` into the scalar bytes.
    func setScalar(_ node: Int, _ write: (inout [UInt8]) -> Void) {
        guard nodes[node].kind == .unset else { return refuse(.unusualEncoding) }
        let start = scalarBytes.count
        write(&scalarBytes)
        nodes[node].kind = .scalar
        nodes[node].scalar = start..<scalarBytes.count
    }

    /// A new element at the end of `array`.
    func appendElement(to array: Int) -> Int {
        let child = nodes.count
        nodes.append(Node(parent: array))
        link(child, after: nodes[array].lastChild, in: array)
        return child
    }

    /// A new member of `object` named `key`, linked in at its key's place.
    func addMember(to object: Int, key: String) -> Int {
        let start = keyBytes.count
        keyBytes.append(contentsOf: key.utf8)
        let range = start..<keyBytes.count
        let child = nodes.count
        var node = Node(parent: object)
        node.key = range
        node.keyPrefix = prefix(range)
        nodes.append(node)
        // Members mostly arrive in declaration order, often already sorted:
        // try the end first.
        var previous = nodes[object].lastChild
        if previous >= 0, compare(previous, child) > 0 {
            previous = -1
            var c = nodes[object].firstChild
            while c >= 0, compare(c, child) <= 0 {
                previous = c
                c = nodes[c].next
            }
        }
        if previous >= 0, compare(previous, child) == 0 { refuse(.unusualEncoding) }
        link(child, after: previous, in: object)
        return child
    }

    private func prefix(_ key: Range<Int>) -> UInt64 {
        var p: UInt64 = 0
        for i in 0..<8 {
            p <<= 8
            if i < key.count { p |= UInt64(keyBytes[key.lowerBound + i]) }
        }
        return p
    }

    /// The order of two members' keys by their UTF-8 bytes, a key before
    /// any longer key it begins.
    private func compare(_ a: Int, _ b: Int) -> Int {
        let (pa, pb) = (nodes[a].keyPrefix, nodes[b].keyPrefix)
        if pa != pb { return pa < pb ? -1 : 1 }
        return compareKeys(nodes[a].key, nodes[b].key)
    }

    private func link(_ child: Int, after previous: Int, in parent: Int) {
        if previous < 0 {
            nodes[child].next = nodes[parent].firstChild
            nodes[parent].firstChild = child
        } else {
            nodes[child].next = nodes[previous].next
            nodes[previous].next = child
        }
        if nodes[child].next < 0 { nodes[parent].lastChild = child }
        nodes[parent].count += 1
    }

    /// memcmp order of two keys' UTF-8 bytes, a shorter prefix first.
    private func compareKeys(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        keyBytes.withUnsafeBufferPointer { k in
            let common = min(a.count, b.count)
            for i in 0..<common where k[a.lowerBound + i] != k[b.lowerBound + i] {
                return k[a.lowerBound + i] < k[b.lowerBound + i] ? -1 : 1
            }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        }
    }

    /// The keys and indices from the root to `node`, for `Encoder.codingPath`
    /// (computed only when someone asks).
    func codingPath(to node: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var n = node
        while n > Self.root {
            let p = nodes[n].parent
            if nodes[p].kind == .array {
                var index = 0
                var c = nodes[p].firstChild
                while c >= 0, c != n {
                    index += 1
                    c = nodes[c].next
                }
                path.append(JSONTreeKey(index: index))
            } else {
                path.append(JSONTreeKey(String(decoding: keyBytes[nodes[n].key], as: UTF8.self)))
            }
            n = p
        }
        return path.reversed()
    }

    /// The JSON text of the whole tree, as `JSONEncoder` with `.sortedKeys`,
    /// `.withoutEscapingSlashes` and, when `pretty`, `.prettyPrinted` writes it.
    func write(pretty: Bool) throws(Refusal) -> [UInt8] {
        if let refused { throw refused }
        if nodes[Self.root].kind == .unset { throw .unusualEncoding }
        var out: [UInt8] = []
        out.reserveCapacity(scalarBytes.count + keyBytes.count * (pretty ? 3 : 2) + nodes.count * (pretty ? 16 : 4))
        try nodes.withUnsafeBufferPointer { nodes throws(Refusal) in
            try keyBytes.withUnsafeBufferPointer { keys throws(Refusal) in
                try scalarBytes.withUnsafeBufferPointer { scalars throws(Refusal) in
                    var writer = Writer(nodes: nodes, keys: keys, scalars: scalars, pretty: pretty)
                    try writer.write(Self.root, depth: 0, into: &out)
                }
            }
        }
        return out
    }

    /// One walk over a finished tree.
    private struct Writer {
        let nodes: UnsafeBufferPointer<Node>
        let keys: UnsafeBufferPointer<UInt8>
        let scalars: UnsafeBufferPointer<UInt8>
        let pretty: Bool
        var indent = 0

        init(nodes: UnsafeBufferPointer<Node>, keys: UnsafeBufferPointer<UInt8>, scalars: UnsafeBufferPointer<UInt8>, pretty: Bool) {
            self.nodes = nodes
            self.keys = keys
            self.scalars = scalars
            self.pretty = pretty
        }

        mutating func write(_ n: Int, depth: Int, into out: inout [UInt8]) throws(Refusal) {
            let node = nodes[n]
            if node.kind == .scalar {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: scalars[node.scalar]))
                return
            }
            // `unset` is an object with nothing in it, as JSONEncoder writes it.
            guard depth + 1 < JSONTree.maximumDepth else { throw .tooDeep }
            let isArray = node.kind == .array
            out.append(UInt8(ascii: isArray ? "[" : "{"))
            if pretty {
                out.append(UInt8(ascii: "\n"))
                indent += 1
            }
            var c = node.firstChild
            var first = true
            while c >= 0 {
                if !first {
                    out.append(UInt8(ascii: ","))
                    if pretty { out.append(UInt8(ascii: "\n")) }
                }
                first = false
                if pretty { writeIndent(into: &out) }
                if !isArray {
                    JSONText.appendString(utf8: UnsafeBufferPointer(rebasing: keys[nodes[c].key]), to: &out)
                    if pretty {
                        out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
                    } else {
                        out.append(UInt8(ascii: ":"))
                    }
                }
                try write(c, depth: depth + 1, into: &out)
                c = nodes[c].next
            }
            if pretty {
                // JSONWriter writes an empty container as `[`, two line ends, `]`.
                out.append(UInt8(ascii: "\n"))
                indent -= 1
                writeIndent(into: &out)
            }
            out.append(UInt8(ascii: isArray ? "]" : "}"))
        }

        func writeIndent(into out: inout [UInt8]) {
            for _ in 0..<indent { out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: " ")]) }
        }
    }
}

/// A key of `JSONTree.codingPath`: a member's name or an element's index.
struct JSONTreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ name: String) {
        stringValue = name
        intValue = nil
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}
