/// One compilation unit's line table, decoded from `.debug_line` by this
/// module instead of libdw's `dwarf_getsrclines`.
///
/// Why: libdw decodes a unit's whole line program into a linked list of
/// malloc'd rows and sorts them with `qsort` through a comparison callback
/// before the first answer; on 10,000 random addresses of a distribution
/// kernel that sort alone was 17% of `symbolize --addresses`' CPU, and the
/// rest of its decoding another ~10%. Here the rows go into one array in
/// program order; a line program's rows are nearly always already in
/// address order (one sequence after another), so ordering them is one
/// check and, rarely, a sort.
///
/// The answers are libdw 0.188's to the byte: the same file names (directory
/// and name joined the same way, `???` for DWARF 4's file 0), the same row
/// for an address (the last row at or below it in libdw's order, none when
/// that row ends a sequence or is the table's last), and the same tables
/// refused. Anything this reader does not understand (a form it does not
/// know, a value past what libdw's row fields hold) gives nil, and the
/// caller asks libdw as before.
final class LineTable {
    struct Row {
        var address: UInt64
        /// Position in the program: libdw's tie-break among equal addresses.
        var sequence: UInt32
        var file: UInt32
        var line: Int32
        var column: UInt16
        var endSequence: Bool
    }

    /// In libdw's order: by address, a sequence's end before a row at the
    /// same address, then program order.
    private(set) var rows: [Row]
    /// A file table entry: its directory (nil: none, the name stands
    /// alone) and name, both in the mapped sections, which outlive the table.
    struct File {
        var directory: UnsafeRawBufferPointer?
        /// nil: libdw's `???` for DWARF 4's file 0.
        var name: UnsafeRawBufferPointer?

        static var unknown: File { File(directory: nil, name: nil) }

        /// libdw's join: an absolute name as it is, else directory, `/`, name.
        var path: String {
            guard let name else { return "???" }
            guard name.first != UInt8(ascii: "/"), let directory else { return String(decoding: name, as: UTF8.self) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(directory.count + 1 + name.count)
            bytes += directory
            bytes.append(UInt8(ascii: "/"))
            bytes += name
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private let files: [File]
    /// Joined and cleaned on first use.
    private var fileNames: [String?]

    var fileCount: Int { files.count }

    init(rows: [Row], files: [File]) {
        self.rows = rows
        self.files = files
        fileNames = Array(repeating: nil, count: files.count)
        orderRows()
        // libdw marks the table's last row as a sequence end whatever the
        // program said (some compilers forget the final one).
        if !self.rows.isEmpty { self.rows[self.rows.count - 1].endSequence = true }
    }

    /// libdw's order of rows: by address, a sequence's end before a row at
    /// the same address, then program order.
    static func precedes(_ a: Row, _ b: Row) -> Bool {
        if a.address != b.address { return a.address < b.address }
        if a.endSequence != b.endSequence { return a.endSequence }
        return a.sequence < b.sequence
    }

    private func orderRows() {
        let before = Self.precedes
        func ordered(_ rows: [Row]) -> Bool {
            rows.withUnsafeBufferPointer { r in
                for i in r.indices.dropFirst() where before(r[i], r[i - 1]) { return false }
                return true
            }
        }
        if ordered(rows) { return }
        // A unit's sequences (.text, .init.text, .noinstr.text …) are each in
        // order but not among themselves: ordered by their first rows, only
        // overlapping ones (discarded code's, all at address 0) are left out
        // of place, which a run-merging sort then mends in about one pass.
        var sequences: [Range<Int>] = []
        var start = 0
        for i in rows.indices where rows[i].endSequence {
            sequences.append(start..<(i + 1))
            start = i + 1
        }
        if start < rows.count { sequences.append(start..<rows.count) }
        sequences.sort { before(rows[$0.lowerBound], rows[$1.lowerBound]) }
        var joined: [Row] = []
        joined.reserveCapacity(rows.count)
        for s in sequences { joined += rows[s] }
        if !ordered(joined) { joined.sort(by: before) }
        rows = joined
    }

    /// The row libdw's `dwarf_getsrc_die` gives for `pc`: the last row at
    /// or below it, unless that row ends a sequence.
    func row(at pc: UInt64) -> Row? {
        guard !rows.isEmpty else { return nil }
        var lo = 0, hi = rows.count - 1
        while lo < hi {
            let mid = hi - (hi - lo) / 2
            if pc < rows[mid].address { hi = mid - 1 } else { lo = mid }
        }
        let r = rows[lo]
        return !r.endSequence && r.address <= pc ? r : nil
    }

    /// File `index`'s name, cleaned (`DwarfLines.cleanPath`); nil past the
    /// table, as libdw's `dwarf_linesrc` and `dwarf_filesrc`.
    func fileName(_ index: Int) -> String? {
        guard index >= 0, index < files.count else { return nil }
        if let known = fileNames[index] { return known }
        let name = DwarfLines.cleanPath(files[index].path)
        fileNames[index] = name
        return name
    }
}
