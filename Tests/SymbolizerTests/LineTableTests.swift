@testable import Symbolizer
import XCTest

/// Line programs are decoded by hand (LineProgramReader) instead of by
/// libdw: these tests pin libdw's answers on the corners that decide which
/// row and which file name an address gets, and that real compiler output
/// reads the same both ways.
final class LineTableTests: XCTestCase {
    /// A DWARF 4 program: include directory `inc/` (the doubled slash a
    /// join then makes is printed single), files `a.c` (directory 0),
    /// `b.h` (in `inc/`) and an absolute one. Three sequences, out of
    /// address order, the third starting where the first ends.
    static func program(column: [UInt8] = [7]) -> [UInt8] {
        var header: [UInt8] = [1, 1, 1, 0xfb, 14, 13, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]
        header += Array("inc/".utf8) + [0, 0]
        for (name, dir) in [("a.c", 0), ("b.h", 1), ("/abs/c.h", 1)] { header += Array(name.utf8) + [0, UInt8(dir), 0, 0] }
        header.append(0)
        func setAddress(_ a: UInt64) -> [UInt8] { [0, 9, 2] + withUnsafeBytes(of: a.littleEndian, Array.init) }
        let end: [UInt8] = [0, 1, 1]
        var body: [UInt8] = []
        // Sequence at 0x2000: line 1 of a.c, then line 5 of b.h at 0x2010, ending at 0x2020.
        body += setAddress(0x2000) + [1] + [2, 0x10, 3, 4, 4, 2, 1] + [2, 0x10] + end
        // Sequence at 0x1000, column given, ending at 0x1020.
        body += setAddress(0x1000) + [5] + column + [1] + [2, 0x20] + end
        // Sequence at 0x2020: line 10 of the absolute file, ending at 0x2028.
        body += setAddress(0x2020) + [4, 3, 3, 9, 1] + [2, 8] + end
        var unit: [UInt8] = [4, 0] + withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init) + header + body
        unit = withUnsafeBytes(of: UInt32(unit.count).littleEndian, Array.init) + unit
        return unit
    }

    /// A table points into its sections, which the kernel's mapping keeps
    /// alive; here copies that live until the test ends.
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    override func tearDown() {
        buffers.forEach { $0.deallocate() }
        buffers = []
    }

    private func lasting(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        b.copyBytes(from: bytes)
        buffers.append(b)
        return UnsafeRawBufferPointer(rebasing: b[0..<bytes.count])
    }

    func read(_ bytes: [UInt8], compDir: String?, probe: UInt64? = nil) -> LineTable? {
        LineProgramReader.read(.init(line: lasting(bytes), lineStrings: nil, strings: nil), offset: 0,
                               compDir: compDir.map { lasting(Array($0.utf8)) }, addressSize: 8, probe: probe)
    }

    /// A unit asked once is decoded for that address alone: the two rows it
    /// keeps give the whole table's answer at every address, around
    /// sequence ends, a sequence starting where another ends and the last row.
    func testAProbeAnswersAsTheWholeTable() throws {
        let whole = try XCTUnwrap(read(Self.program(), compDir: "/build"))
        for pc in UInt64(0xff0)...0x2030 {
            let probed = try XCTUnwrap(read(Self.program(), compDir: "/build", probe: pc))
            let (a, b) = (probed.row(at: pc), whole.row(at: pc))
            XCTAssertEqual(a.map { [$0.address, UInt64($0.file), UInt64($0.line), UInt64($0.column)] },
                           b.map { [$0.address, UInt64($0.file), UInt64($0.line), UInt64($0.column)] }, "0x\(String(pc, radix: 16))")
            XCTAssertLessThanOrEqual(probed.rows.count, 2)
            XCTAssertEqual(probed.fileName(3), whole.fileName(3))
        }
        XCTAssertNil(read(Self.program(column: [0x80, 0x80, 0x08]), compDir: "/b", probe: 0x1000), "refused as the whole table is")
    }

    func testRowsAndFilesAsLibdwGivesThem() throws {
        let table = try XCTUnwrap(read(Self.program(), compDir: "/build"))
        func at(_ pc: UInt64) -> (String?, Int32, UInt16)? {
            table.row(at: pc).map { (table.fileName(Int($0.file)), $0.line, $0.column) }
        }
        XCTAssertNil(at(0xfff), "below every row")
        XCTAssertEqual(at(0x1000)?.0, "/build/a.c", "directory 0 is the unit's")
        XCTAssertEqual(at(0x101f)?.2, 7)
        XCTAssertNil(at(0x1020), "past a sequence's end, before the next")
        XCTAssertEqual(at(0x2000)?.1, 1)
        XCTAssertEqual(at(0x2010)?.0, "inc/b.h", "an include directory is not joined to the unit's")
        XCTAssertEqual(at(0x2010)?.1, 5)
        XCTAssertEqual(at(0x2020)?.0, "/abs/c.h", "a sequence starting where another ends wins its first byte")
        XCTAssertEqual(at(0x2020)?.1, 10)
        XCTAssertNil(at(0x2028), "the last row ends the table")
        XCTAssertEqual(table.fileName(0), "???", "DWARF 4 has no file 0")
        XCTAssertNil(table.fileName(4))
        XCTAssertEqual(read(Self.program(), compDir: nil)?.fileName(1), "a.c", "no DW_AT_comp_dir: the name alone")
    }

    /// What libdw's rows cannot hold, or a header it does not read to its
    /// stated end, is left to libdw (which refuses it or reads it its way).
    func testLeavesToLibdwWhatItWouldRefuse() {
        // LEB128 for 2^17.
        let wideColumn = Self.program(column: [0x80, 0x80, 0x08])
        XCTAssertNil(read(wideColumn, compDir: "/b"), "a column past libdw's 16 bits")
        var longHeader = Self.program()
        longHeader[6] &+= 1
        XCTAssertNil(read(longHeader, compDir: "/b"), "a header length that is not where the tables end")
        XCTAssertNil(read(Array(Self.program().dropLast(3)), compDir: "/b"), "a unit cut short")
        XCTAssertNotNil(read(Self.program(), compDir: "/b"))
    }

    /// Line advances are signed LEB128: a negative one moves back.
    func testNegativeLineAdvance() {
        let encoded: [[UInt8]] = [[0x7f], [0x80, 0x7f], [0x3f], [0xff, 0xff, 0xff, 0xff, 0x07], [0x80, 0x80, 0x80, 0x80, 0x78]]
        let values = encoded.map { bytes in
            bytes.withUnsafeBytes { b in
                var cursor = ByteCursor(b, from: 0)
                return cursor.sleb32()
            }
        }
        XCTAssertEqual(values, [-1, -128, 63, Int32.max, Int32.min])
    }

    /// gcc's DWARF 4 and 5 tables: this module's reader reads every unit of
    /// the fixture, and every address gets libdwfl's frames.
    func testCompilerOutputReadsAsLibdwReadsIt() throws {
        for path in [try Fixtures.build("fixture-dwarf4", flags: ["-no-pie", "-gdwarf-4"]),
                     try Fixtures.build("fixture-dwarf5", flags: ["-no-pie", "-gdwarf-5"])] {
            let info = try KernelDebugInfo(vmlinux: path)
            let mod = try XCTUnwrap(info.kernelModule)
            for fn in ["outer", "helper", "main"] {
                let start = try XCTUnwrap(info.address(symbol: fn, offset: 0, size: nil, module: nil), fn)
                let size = try XCTUnwrap(info.symbol(at: start)?.size)
                for a in start..<(start + size) {
                    XCTAssertEqual(info.kernelFramesByUnitRanges(a), info.libdwflFrames(mod, a), "\(path) 0x\(String(a, radix: 16))")
                }
            }
            XCTAssertEqual(info.libdwLineTables, 0, "\(path): a unit's line table was left to libdw")
        }
    }
}
