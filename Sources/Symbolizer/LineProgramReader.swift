/// Decodes one line program (DWARF 2–5 §6.2) into a `LineTable`, following
/// libdw 0.188's reading of it (see LineTable for why this module reads
/// line programs itself). Every read is bounds-checked; every value the
/// file gives is checked against what libdw's row fields hold, and a value
/// that does not fit, a form this reader does not know or a table libdw
/// refuses gives nil: the caller then asks libdw.
struct LineProgramReader {
    /// The sections a line program's strings may live in.
    struct Sections {
        var line: UnsafeRawBufferPointer
        var lineStrings: UnsafeRawBufferPointer?
        var strings: UnsafeRawBufferPointer?
    }

    private let sections: Sections
    private var cursor: ByteCursor

    /// `offset`: the unit's DW_AT_stmt_list. `compDir`: its DW_AT_comp_dir
    /// (directory 0 before DWARF 5). `addressSize`: the unit header's.
    ///
    /// With `probe`, the table keeps only the rows that decide the answer
    /// for that one address (the last row at or below it in libdw's order,
    /// and the table's last row, which libdw makes a sequence end): a unit
    /// asked once is decoded without storing and ordering its ~10,000 rows.
    /// Such a table answers `row(at: probe)` as the whole table would, and
    /// nothing else; its file list is whole.
    static func read(_ sections: Sections, offset: UInt64, compDir: UnsafeRawBufferPointer?, addressSize: Int,
                     probe: UInt64? = nil) -> LineTable? {
        guard let start = Int(exactly: offset), start < sections.line.count else { return nil }
        var reader = LineProgramReader(sections: sections, cursor: ByteCursor(sections.line, from: start))
        return reader.decode(compDir: compDir, addressSize: addressSize, probe: probe)
    }

    private init(sections: Sections, cursor: ByteCursor) {
        self.sections = sections
        self.cursor = cursor
    }

    private mutating func decode(compDir: UnsafeRawBufferPointer?, addressSize: Int, probe: UInt64?) -> LineTable? {
        guard addressSize == 4 || addressSize == 8 else { return nil }
        guard var unitLength = cursor.u32().map(UInt64.init) else { return nil }
        var offsetSize = 4
        if unitLength == 0xffff_ffff {
            guard let long = cursor.u64() else { return nil }
            unitLength = long
            offsetSize = 8
        }
        guard unitLength <= UInt64(cursor.remaining) else { return nil }
        cursor.end = cursor.position + Int(unitLength)
        guard let version = cursor.u16(), (2...5).contains(version) else { return nil }
        if version >= 5 {
            guard let lineAddressSize = cursor.u8(), let segmentSize = cursor.u8(),
                  Int(lineAddressSize) == addressSize, segmentSize == 0 else { return nil }
        }
        guard let headerLength = offsetSize == 4 ? cursor.u32().map(UInt64.init) : cursor.u64() else { return nil }
        let headerStart = cursor.position
        guard let minimumInstructionLength = cursor.u8() else { return nil }
        var maximumOperations: UInt8 = 1
        if version >= 4 {
            guard let m = cursor.u8(), m > 0 else { return nil }
            maximumOperations = m
        }
        guard let defaultIsStmt = cursor.u8(), let lineBaseByte = cursor.u8(), let lineRange = cursor.u8(),
              let opcodeBase = cursor.u8(), opcodeBase > 0 else { return nil }
        _ = defaultIsStmt
        let lineBase = Int64(Int8(bitPattern: lineBaseByte))
        // Opcode k's operand count is at lengths + k - 1; libdw reads it
        // there even for k at or past opcode_base (into the tables after).
        let lengths = cursor.position
        guard cursor.skip(Int(opcodeBase) - 1) else { return nil }
        func standardLength(_ opcode: UInt8) -> UInt8? {
            cursor.byte(at: lengths + Int(opcode) - 1)
        }

        guard var files = version < 5 ? readTablesBefore5(compDir: compDir) : readTables5(offsetSize: offsetSize)
        else { return nil }
        // A header that ends elsewhere (CUBIN's 4-byte string offset included) is libdw's to judge.
        guard UInt64(cursor.position - headerStart) == headerLength else { return nil }

        // Kernel units' programs average ~2.5 bytes a row.
        var machine = Machine(minimumInstructionLength: UInt32(minimumInstructionLength),
                              maximumOperations: UInt32(maximumOperations), capacity: probe == nil ? cursor.remaining / 2 : 0,
                              probe: probe)
        while cursor.remaining > 0 {
            guard let opcode = cursor.u8() else { return nil }
            if opcode >= opcodeBase {
                guard lineRange > 0 else { return nil }
                let adjusted = opcode - opcodeBase
                machine.state.line &+= lineBase + Int64(adjusted % lineRange)
                machine.advance(UInt32(adjusted / lineRange))
                guard machine.emit(end: false) else { return nil }
            } else if opcode == 0 {
                guard cursor.remaining >= 2, let length = cursor.u8(), length < 0x80,
                      cursor.remaining >= Int(length), let sub = cursor.u8() else { return nil }
                switch sub {
                case 1: // DW_LNE_end_sequence
                    guard machine.emit(end: true) else { return nil }
                    machine.state = State()
                case 2: // DW_LNE_set_address
                    guard let a = addressSize == 8 ? cursor.u64() : cursor.u32().map(UInt64.init) else { return nil }
                    machine.state.address = a
                    machine.state.opIndex = 0
                case 3: // DW_LNE_define_file
                    guard let name = cursor.cString(), let dir = cursor.uleb32(), Int(dir) < files.directories.count,
                          cursor.uleb() != nil, cursor.uleb() != nil else { return nil }
                    files.names.append(LineTable.File(directory: files.directories[Int(dir)], name: name))
                case 4: // DW_LNE_set_discriminator
                    guard standardLength(4) == 1, let d = cursor.uleb32() else { return nil }
                    machine.state.discriminator = d
                case 0x90: // DW_LNE_NVIDIA_inlined_call
                    guard cursor.uleb32() != nil, cursor.uleb32() != nil else { return nil }
                case 0x91: // DW_LNE_NVIDIA_set_function_name
                    guard cursor.uleb32() != nil else { return nil }
                default:
                    guard length > 0, cursor.skip(Int(length) - 1) else { return nil }
                }
            } else if opcode <= 12 {
                guard standardLength(opcode) == Self.operandCount(opcode) else { return nil }
                switch opcode {
                case 1: // DW_LNS_copy
                    guard machine.emit(end: false) else { return nil }
                    machine.state.discriminator = 0
                case 2: // DW_LNS_advance_pc
                    guard let n = cursor.uleb32() else { return nil }
                    machine.advance(n)
                case 3: // DW_LNS_advance_line
                    guard let n = cursor.sleb32() else { return nil }
                    machine.state.line &+= Int64(n)
                case 4: // DW_LNS_set_file
                    guard let n = cursor.uleb32() else { return nil }
                    machine.state.file = n
                case 5: // DW_LNS_set_column
                    guard let n = cursor.uleb32() else { return nil }
                    machine.state.column = n
                case 8: // DW_LNS_const_add_pc
                    guard lineRange > 0 else { return nil }
                    machine.advance(UInt32((255 - opcodeBase) / lineRange))
                case 9: // DW_LNS_fixed_advance_pc
                    guard let n = cursor.u16() else { return nil }
                    machine.state.address &+= UInt64(n)
                    machine.state.opIndex = 0
                case 12: // DW_LNS_set_isa
                    guard let n = cursor.uleb32() else { return nil }
                    machine.state.isa = n
                default: // negate_stmt, basic_block, prologue_end, epilogue_begin: no bearing on the answer
                    break
                }
            } else {
                // A standard opcode newer than this reader: skip its operands.
                guard let count = standardLength(opcode) else { return nil }
                for _ in 0..<count where cursor.uleb32() == nil { return nil }
            }
        }
        return LineTable(rows: machine.probe == nil ? machine.rows : machine.deciding, files: files.names)
    }

    typealias Row = LineTable.Row

    /// The operand count DWARF gives standard opcodes 1–12; libdw refuses a
    /// table whose header says otherwise.
    static func operandCount(_ opcode: UInt8) -> UInt8 {
        switch opcode {
        case 2, 3, 4, 5, 9, 12: return 1
        default: return 0
        }
    }

    /// The line state machine and the rows it emitted: a struct of its own,
    /// because local functions over the decoder's variables boxed them on
    /// the heap (~5% of a batch's CPU went to that).
    private struct Machine {
        var state = State()
        var rows: [Row] = []
        let minimumInstructionLength: UInt32
        let maximumOperations: UInt32
        /// With a probe address, rows are not kept: only the last at or
        /// below it and the last of all, in libdw's order.
        let probe: UInt64?
        private var emitted = 0
        private var atOrBelow: Row?
        private var last: Row?

        init(minimumInstructionLength: UInt32, maximumOperations: UInt32, capacity: Int, probe: UInt64?) {
            self.minimumInstructionLength = minimumInstructionLength
            self.maximumOperations = maximumOperations
            self.probe = probe
            rows.reserveCapacity(capacity)
        }

        /// The rows a probe's answer depends on, in order.
        var deciding: [Row] {
            guard let last else { return [] }
            guard let atOrBelow, atOrBelow.sequence != last.sequence else { return [last] }
            return [atOrBelow, last]
        }

        /// Appends a row; false when libdw's row fields could not hold it.
        mutating func emit(end: Bool) -> Bool {
            guard let line = Int32(exactly: state.line), let column = UInt16(exactly: state.column),
                  state.discriminator < 1 << 24, state.isa < 256, let sequence = UInt32(exactly: emitted) else { return false }
            let row = Row(address: state.address, sequence: sequence, file: state.file, line: line, column: column, endSequence: end)
            emitted += 1
            if let probe {
                if last.map({ LineTable.precedes($0, row) }) ?? true { last = row }
                if row.address <= probe, atOrBelow.map({ LineTable.precedes($0, row) }) ?? true { atOrBelow = row }
            } else {
                rows.append(row)
            }
            if !end { state.discriminator = 0 }
            return true
        }

        /// libdw's "operation advance", in its unsigned int.
        mutating func advance(_ operationAdvance: UInt32) {
            let total = state.opIndex &+ operationAdvance
            state.address &+= UInt64(minimumInstructionLength &* (total / maximumOperations))
            state.opIndex = total % maximumOperations
        }
    }

    /// The registers that shape a row (is_stmt and the flags do not).
    private struct State {
        var address: UInt64 = 0
        var opIndex: UInt32 = 0
        var file: UInt32 = 1
        var line: Int64 = 1
        var column: UInt32 = 0
        var isa: UInt32 = 0
        var discriminator: UInt32 = 0
    }

    /// Names point into the sections: a unit lists hundreds of headers and
    /// an answer names one or two, so joining waits for `fileName`.
    private struct Files {
        var directories: [UnsafeRawBufferPointer?]
        var names: [LineTable.File]
    }

    /// DWARF 2–4: NUL-terminated directory and file lists; directory 0 is
    /// the unit's, file 0 does not exist (libdw names it `???`).
    private mutating func readTablesBefore5(compDir: UnsafeRawBufferPointer?) -> Files? {
        var directories: [UnsafeRawBufferPointer?] = [compDir]
        while true {
            guard let dir = cursor.cString() else { return nil }
            if dir.isEmpty { break }
            directories.append(dir)
        }
        var names: [LineTable.File] = [.unknown]
        while true {
            guard let name = cursor.cString() else { return nil }
            if name.isEmpty { break }
            guard let dir = cursor.uleb(), dir < UInt64(directories.count), cursor.uleb() != nil, cursor.uleb() != nil
            else { return nil }
            names.append(LineTable.File(directory: directories[Int(dir)], name: name))
        }
        return Files(directories: directories, names: names)
    }

    /// DWARF 5: self-describing entry formats (§6.2.4.1); only the path and
    /// the directory index are kept, the rest skipped by form.
    private mutating func readTables5(offsetSize: Int) -> Files? {
        guard let dirFormats = readFormats() else { return nil }
        // libdw keeps the last entry of a kind.
        let dirPath = dirFormats.lastIndex { $0.content == 1 }
        if !dirFormats.isEmpty && dirPath == nil { return nil }
        guard let dirCount = cursor.uleb() else { return nil }
        if dirFormats.isEmpty && dirCount != 0 { return nil }
        if !dirFormats.isEmpty && dirCount > UInt64(cursor.remaining / dirFormats.count) { return nil }
        var directories: [UnsafeRawBufferPointer?] = []
        for _ in 0..<dirCount {
            var path: UnsafeRawBufferPointer?
            for (i, f) in dirFormats.enumerated() {
                if i == dirPath {
                    guard let s = string(form: f.form, offsetSize: offsetSize) else { return nil }
                    path = s
                } else if !skip(form: f.form, offsetSize: offsetSize) {
                    return nil
                }
            }
            guard let path else { return nil }
            directories.append(path)
        }
        guard let fileFormats = readFormats() else { return nil }
        let filePath = fileFormats.lastIndex { $0.content == 1 }
        let fileDir = fileFormats.lastIndex { $0.content == 2 }
        if !fileFormats.isEmpty && (filePath == nil || fileDir == nil) { return nil }
        guard let fileCount = cursor.uleb() else { return nil }
        if fileFormats.isEmpty && fileCount != 0 { return nil }
        if !fileFormats.isEmpty && fileCount > UInt64(cursor.remaining / fileFormats.count) { return nil }
        var names: [LineTable.File] = fileCount == 0 ? [.unknown] : []
        for _ in 0..<fileCount {
            var name: UnsafeRawBufferPointer?
            var dir: UInt64?
            for (i, f) in fileFormats.enumerated() {
                if i == filePath {
                    guard let s = string(form: f.form, offsetSize: offsetSize) else { return nil }
                    name = s
                } else if i == fileDir {
                    guard let d = unsigned(form: f.form) else { return nil }
                    dir = d
                } else if !skip(form: f.form, offsetSize: offsetSize) {
                    return nil
                }
            }
            guard let name, let dir, dir < UInt64(directories.count) else { return nil }
            names.append(LineTable.File(directory: directories[Int(dir)], name: name))
        }
        return Files(directories: directories, names: names)
    }

    private mutating func readFormats() -> [(content: UInt64, form: UInt64)]? {
        guard let count = cursor.u8() else { return nil }
        var out: [(content: UInt64, form: UInt64)] = []
        for _ in 0..<count {
            guard let content = cursor.uleb(), content <= 0xffff, let form = cursor.uleb(), form <= 0xffff else { return nil }
            out.append((content, form))
        }
        return out
    }

    /// DW_FORM_string, strp, line_strp; others (strx needs the unit's
    /// string offsets) are left to libdw.
    private mutating func string(form: UInt64, offsetSize: Int) -> UnsafeRawBufferPointer? {
        switch form {
        case 0x08: return cursor.cString()
        case 0x0e, 0x1f:
            guard let section = form == 0x0e ? sections.strings : sections.lineStrings,
                  let offset = offsetSize == 4 ? cursor.u32().map(UInt64.init) : cursor.u64(),
                  let start = Int(exactly: offset), start < section.count else { return nil }
            var other = ByteCursor(section, from: start)
            return other.cString()
        default: return nil
        }
    }

    private mutating func unsigned(form: UInt64) -> UInt64? {
        switch form {
        case 0x0b: return cursor.u8().map(UInt64.init)
        case 0x05: return cursor.u16().map(UInt64.init)
        case 0x06: return cursor.u32().map(UInt64.init)
        case 0x07: return cursor.u64()
        case 0x0f: return cursor.uleb()
        default: return nil
        }
    }

    private mutating func skip(form: UInt64, offsetSize: Int) -> Bool {
        switch form {
        case 0x0b, 0x0c, 0x25: return cursor.skip(1)             // data1, flag, strx1
        case 0x05, 0x26: return cursor.skip(2)                   // data2, strx2
        case 0x27: return cursor.skip(3)                         // strx3
        case 0x06, 0x28: return cursor.skip(4)                   // data4, strx4
        case 0x07: return cursor.skip(8)                         // data8
        case 0x1e: return cursor.skip(16)                        // data16
        case 0x0e, 0x1f, 0x17, 0x1d: return cursor.skip(offsetSize) // strp, line_strp, sec_offset, strp_sup
        case 0x0f, 0x0d, 0x1a: return cursor.uleb() != nil       // udata, sdata, strx
        case 0x08: return cursor.cString() != nil                // string
        case 0x0a: return cursor.u8().map { cursor.skip(Int($0)) } ?? false
        case 0x03: return cursor.u16().map { cursor.skip(Int($0)) } ?? false
        case 0x04: return cursor.u32().flatMap { Int(exactly: $0) }.map { cursor.skip($0) } ?? false
        case 0x09: return cursor.uleb().flatMap { Int(exactly: $0) }.map { cursor.skip($0) } ?? false
        default: return false
        }
    }
}

/// Little-endian reads over a section, each bounds-checked against `end`.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    var end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        self.bytes = bytes
        position = start
        end = bytes.count
    }

    var remaining: Int { end - position }

    func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < end ? bytes[offset] : nil
    }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= remaining else { return false }
        position += n
        return true
    }

    private mutating func fixed<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard MemoryLayout<T>.size <= remaining else { return nil }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    mutating func u8() -> UInt8? { fixed(UInt8.self) }
    mutating func u16() -> UInt16? { fixed(UInt16.self) }
    mutating func u32() -> UInt32? { fixed(UInt32.self) }
    mutating func u64() -> UInt64? { fixed(UInt64.self) }

    /// A LEB128's payload bits and how many there are; nil past 64 bits.
    private mutating func leb() -> (bits: UInt64, count: UInt64, sign: Bool)? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end {
            let b = bytes[position]
            position += 1
            let payload = UInt64(b & 0x7f)
            guard shift < 64, shift == 0 || payload >> (64 - shift) == 0 else { return nil }
            value |= payload << shift
            shift += 7
            if b & 0x80 == 0 { return (value, shift, b & 0x40 != 0) }
        }
        return nil
    }

    /// Steps over a LEB128 of any length.
    mutating func skipLEB() -> Bool {
        while position < end {
            let b = bytes[position]
            position += 1
            if b & 0x80 == 0 { return true }
        }
        return false
    }

    /// An unsigned LEB128 that fits 64 bits.
    mutating func uleb() -> UInt64? { leb()?.bits }

    /// An unsigned LEB128 that fits libdw's `unsigned int`.
    mutating func uleb32() -> UInt32? { uleb().flatMap { UInt32(exactly: $0) } }

    /// A signed LEB128 that fits libdw's `int`.
    mutating func sleb32() -> Int32? {
        guard let (bits, count, sign) = leb() else { return nil }
        let extended = sign && count < 64 ? bits | (UInt64.max << count) : bits
        return Int32(exactly: Int64(bitPattern: extended))
    }

    /// The bytes up to a NUL, which is consumed.
    mutating func cString() -> UnsafeRawBufferPointer? {
        var i = position
        while i < end, bytes[i] != 0 { i += 1 }
        guard i < end else { return nil }
        let out = UnsafeRawBufferPointer(rebasing: bytes[position..<i])
        position = i + 1
        return out
    }
}
