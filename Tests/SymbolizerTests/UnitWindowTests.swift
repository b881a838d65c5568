import CLibdw
import Foundation
@testable import Symbolizer
import XCTest

/// A window onto `.debug_info` from one unit on (see UnitWindow) must give
/// exactly libdwfl's answers, and must not be used for a unit whose DIEs
/// point into `.debug_info` by absolute offset.
final class UnitWindowTests: XCTestCase {
    static let functions = ["first", "second", "third", "main"]

    /// Every address of the fixture's functions, each asked of a kernel
    /// opened for it alone (so its window begins at that address's unit):
    /// libdwfl's frames every time, and the units past the first are read
    /// through a window.
    func testAWindowAnswersAsLibdwfl() throws {
        for flags in [["-gdwarf-4"], ["-gdwarf-5"]] {
            let path = try Fixtures.buildUnits("units\(flags[0])", flags: flags)
            let reference = try KernelDebugInfo(vmlinux: path)
            let mod = try XCTUnwrap(reference.kernelModule)
            var windowed = 0
            for a in try Self.addresses(reference) {
                let info = try KernelDebugInfo(vmlinux: path)
                XCTAssertEqual(info.kernelFramesByUnitRanges(a), reference.libdwflFrames(mod, a), "\(path) 0x\(String(a, radix: 16))")
                windowed += info.windowedUnits
            }
            XCTAssertGreaterThan(windowed, 0, "\(path): no unit was read through a window")
        }
    }

    /// One kernel asked the last unit first (its window begins there), then
    /// the others: units before the window go the ordinary way, and every
    /// answer is still libdwfl's.
    func testUnitsBeforeTheWindowAreReadTheOrdinaryWay() throws {
        let path = try Fixtures.buildUnits("units-order", flags: [])
        let info = try KernelDebugInfo(vmlinux: path)
        let mod = try XCTUnwrap(info.kernelModule)
        let addresses = try Self.addresses(info)
        for a in addresses.reversed() + addresses {
            XCTAssertEqual(info.kernelFramesByUnitRanges(a), info.libdwflFrames(mod, a), "0x\(String(a, radix: 16))")
        }
        XCTAssertEqual(info.windowedUnits, 1, "only the unit the window begins at is at or past it")
    }

    /// gcc's link-time optimisation writes DW_FORM_ref_addr into the unit
    /// that holds the code (its DIEs name their origins in other units,
    /// some after it): such a unit is read the ordinary way, with
    /// libdwfl's answers. The first unit is built without -flto, so the
    /// optimised one is not at offset 0, where no window is needed.
    func testAUnitReferringByAbsoluteOffsetIsNotWindowed() throws {
        let path = try Fixtures.buildUnits("units-lto", flags: ["-flto"], firstWithoutFlags: true)
        let dump = try Fixtures.run("/usr/bin/readelf", ["--debug-dump=abbrev", path])
        try XCTSkipUnless(dump.out.contains("DW_FORM_ref_addr"), "this gcc wrote no DW_FORM_ref_addr with -flto")
        let reference = try KernelDebugInfo(vmlinux: path)
        let mod = try XCTUnwrap(reference.kernelModule)
        for a in try Self.addresses(reference) {
            let info = try KernelDebugInfo(vmlinux: path)
            XCTAssertEqual(info.kernelFramesByUnitRanges(a), reference.libdwflFrames(mod, a), "0x\(String(a, radix: 16))")
            if a >= (try XCTUnwrap(reference.address(symbol: "second", offset: 0, size: nil, module: nil))) {
                XCTAssertEqual(info.windowedUnits, 0, "0x\(String(a, radix: 16)) was read through a window")
            }
        }
    }

    /// The abbreviation check on tables written by hand.
    func testSelfContainedTables() {
        func check(_ bytes: [UInt8], at offset: UInt64 = 0) -> Bool {
            bytes.withUnsafeBytes { UnitWindow.isSelfContained(abbreviations: $0, at: offset) }
        }
        // code 1, DW_TAG_compile_unit, children; DW_AT_name/strp, DW_AT_low_pc/addr; end; table end.
        let plain: [UInt8] = [1, 0x11, 1, 0x03, 0x0e, 0x11, 0x01, 0, 0, 0]
        XCTAssertTrue(check(plain))
        // code 2, DW_TAG_subprogram, no children; DW_AT_abstract_origin/ref_addr.
        let refAddr: [UInt8] = [2, 0x2e, 0, 0x31, 0x10, 0, 0, 0]
        XCTAssertFalse(check(plain.dropLast() + refAddr))
        XCTAssertFalse(check([3, 0x2e, 0, 0x31, 0x16, 0, 0, 0]), "DW_FORM_indirect: the form is in the DIE")
        // DW_AT_decl_file/implicit_const with a ten-byte negative value, then a ref4 origin.
        let implicit: [UInt8] = [4, 0x2e, 0, 0x3a, 0x21] + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]
            + [0x31, 0x13, 0, 0, 0]
        XCTAssertTrue(check(implicit), "an implicit constant is stepped over whole")
        XCTAssertFalse(check(Array(plain.dropLast(3))), "a table cut short")
        XCTAssertFalse(check(plain, at: 10), "an offset past the section")
        XCTAssertTrue(check([0, 0] + plain, at: 2), "the table at its offset, not the section's start")
    }

    /// A window is made only of the file libdwfl opened, at a unit.
    func testNoWindowOfAnotherFileOrAtNoUnit() throws {
        let path = try Fixtures.buildUnits("units-other-a", flags: [])
        let other = try Fixtures.buildUnits("units-other-b", flags: ["-gdwarf-4"])
        XCTAssertEqual(elf_version(UInt32(EV_CURRENT)), UInt32(EV_CURRENT))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let elf = try XCTUnwrap(elf_begin(fd, ELF_C_READ_MMAP, nil))
        defer { elf_end(elf) }
        let dwarf = try XCTUnwrap(dwarf_begin_elf(elf, DWARF_C_READ, nil))
        defer { dwarf_end(dwarf) }
        var offsets: [UInt64] = []
        var offset: Dwarf_Off = 0
        var next: Dwarf_Off = 0
        while dwarf_next_unit(dwarf, offset, &next, nil, nil, nil, nil, nil, nil, nil) == 0 {
            offsets.append(offset)
            offset = next
        }
        XCTAssertGreaterThanOrEqual(offsets.count, 3)
        let second = offsets[1]
        XCTAssertNotNil(UnitWindow(path: path, original: elf, base: second, alt: nil))
        XCTAssertNil(UnitWindow(path: other, original: elf, base: second, alt: nil), "another file")
        XCTAssertNil(UnitWindow(path: path, original: elf, base: 0, alt: nil), "the first unit needs no window")
        XCTAssertNil(UnitWindow(path: path, original: elf, base: UInt64(Int32.max), alt: nil), "past the section")
        XCTAssertNil(UnitWindow(path: path, original: elf, base: UInt64.max - 3, alt: nil), "an offset no sum can hold")
        XCTAssertNil(UnitWindow(path: "/nonexistent/vmlinux", original: elf, base: second, alt: nil), "no file")
    }

    static func addresses(_ info: KernelDebugInfo) throws -> [UInt64] {
        var out: [UInt64] = []
        for fn in functions {
            let start = try XCTUnwrap(info.address(symbol: fn, offset: 0, size: nil, module: nil), fn)
            let size = try XCTUnwrap(info.symbol(at: start)?.size)
            out += Array(start..<(start + size))
        }
        return out
    }
}
