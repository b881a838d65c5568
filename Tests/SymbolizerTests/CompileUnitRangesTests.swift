import Foundation
@testable import Symbolizer
import XCTest

/// The unit table is read by hand (see CompileUnitRanges); these tests pin
/// the format's corners, and that the answers equal libdwfl's.
final class CompileUnitRangesTests: XCTestCase {
    /// One set: 32-bit or 64-bit DWARF, version 2, 8-byte addresses.
    static func set(unit: UInt64, ranges: [(UInt64, UInt64)], dwarf64: Bool = false, version: UInt16 = 2) -> [UInt8] {
        var body: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { body += $0 } }
        put(version)
        if dwarf64 { put(unit) } else { put(UInt32(unit)) }
        body += [8, 0]
        let headerLength = dwarf64 ? 12 : 4
        while (headerLength + body.count) % 16 != 0 { body.append(0) }
        for (start, length) in ranges { put(start); put(length) }
        put(UInt64(0)); put(UInt64(0))
        var out: [UInt8] = []
        func lead<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        if dwarf64 { lead(UInt32(0xffff_ffff)); lead(UInt64(body.count)) } else { lead(UInt32(body.count)) }
        return out + body
    }

    static func parse(_ bytes: [UInt8]) -> [CompileUnitRanges.Range]? {
        bytes.withUnsafeBytes { CompileUnitRanges.parse($0) }
    }

    func testReadsThirtyTwoAndSixtyFourBitSets() throws {
        let bytes = Self.set(unit: 0, ranges: [(0xffff_ffff_8100_0000, 0x334), (0xffff_ffff_8304_e000, 0x1df)])
            + Self.set(unit: 0x76, ranges: [(0xffff_ffff_8100_0400, 0x100)], dwarf64: true)
        let ranges = CompileUnitRanges(ranges: try XCTUnwrap(Self.parse(bytes)))
        XCTAssertEqual(ranges.ranges.count, 3)
        XCTAssertEqual(ranges.unit(containing: 0xffff_ffff_8100_0000), 0)
        XCTAssertEqual(ranges.unit(containing: 0xffff_ffff_8100_0333), 0)
        XCTAssertNil(ranges.unit(containing: 0xffff_ffff_8100_0334), "the gap between two units' ranges")
        XCTAssertEqual(ranges.unit(containing: 0xffff_ffff_8100_04ff), 0x76)
        XCTAssertEqual(ranges.unit(containing: 0xffff_ffff_8304_e1de), 0)
        XCTAssertNil(ranges.unit(containing: 0xffff_ffff_8304_e1df))
        XCTAssertNil(ranges.unit(containing: 0x1000))
    }

    func testRefusesWhatItDoesNotUnderstand() {
        let good = Self.set(unit: 0, ranges: [(0x1000, 0x10)])
        XCTAssertNotNil(Self.parse(good))
        XCTAssertNil(Self.parse(Self.set(unit: 0, ranges: [(0x1000, 0x10)], version: 3)), "only version 2 sets exist")
        XCTAssertNil(Self.parse(Array(good.dropLast(9))), "a set cut short")
        var badAddressSize = good
        badAddressSize[10] = 2
        XCTAssertNil(Self.parse(badAddressSize))
        XCTAssertNil(Self.parse([0xf0, 0xff, 0xff, 0xff]), "a reserved length")
        XCTAssertNil(Self.parse([0x10, 0, 0, 0, 2, 0]), "a length past the end")
    }

    /// Every address of the fixture: the unit table's path gives libdwfl's
    /// answer, and answers most of them itself.
    func testSameFramesAsLibdwfl() throws {
        for path in [try Fixtures.executable(), try Fixtures.pie()] {
            let info = try KernelDebugInfo(vmlinux: path)
            let mod = try XCTUnwrap(info.kernelModule)
            var answered = 0
            var total = 0
            for fn in ["outer", "helper", "main"] {
                let start = try XCTUnwrap(info.address(symbol: fn, offset: 0, size: nil, module: nil), fn)
                let size = try XCTUnwrap(info.symbol(at: start)?.size)
                for a in start..<(start + size) {
                    total += 1
                    guard let ours = info.kernelFramesByUnitRanges(a) else { continue }
                    answered += 1
                    XCTAssertEqual(ours, info.libdwflFrames(mod, a), "\(path) 0x\(String(a, radix: 16))")
                }
            }
            XCTAssertEqual(answered, total, "\(path): the fixture's .debug_aranges covers its code")
        }
    }

    /// A batch frees its units between stretches: answers after that, for
    /// addresses new and old, are what a kernel that never forgot gives.
    func testForgettingUnitsChangesNoAnswer() throws {
        let path = try Fixtures.executable()
        let forgetting = try KernelDebugInfo(vmlinux: path)
        let reference = try KernelDebugInfo(vmlinux: path)
        var addresses: [UInt64] = []
        for fn in ["outer", "helper", "main"] {
            let start = try XCTUnwrap(reference.address(symbol: fn, offset: 0, size: nil, module: nil), fn)
            let size = try XCTUnwrap(reference.symbol(at: start)?.size)
            addresses += Array(start..<(start + size))
        }
        for (i, a) in (addresses + addresses.reversed()).enumerated() {
            if i % 7 == 0 { forgetting.forgetUnits() }
            XCTAssertEqual(forgetting.symbolize(a), reference.symbolize(a), "0x\(String(a, radix: 16))")
        }
    }
}
