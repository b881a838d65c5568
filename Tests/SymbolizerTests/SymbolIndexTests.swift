import Foundation
@testable import Symbolizer
import XCTest

/// The index answers its first questions by scanning and later ones from a
/// radix-sorted copy: both must give the same symbol for every address, or
/// a log's answers would depend on how many frames came before.
final class SymbolIndexTests: XCTestCase {
    /// Names live as long as the test process, like libelf's string table.
    static func name(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

    func testScanAndSortedLookupsAgreeOnAliasesSizelessLabelsAndGaps() {
        var rng = SplitMix(seed: 7)
        var symbols: [SymbolIndex.Symbol] = []
        var address: UInt64 = 0xffff_ffff_8100_0000
        for i in 0..<3000 {
            address += rng.next() % 64
            let size = rng.next() % 4 == 0 ? 0 : 1 + rng.next() % 96
            let rank = UInt8(rng.next() % 3) + (size == 0 ? 3 : 0)
            symbols.append(.init(address: address, size: size, cName: Self.name("f\(i)"), rank: rank))
            if rng.next() % 5 == 0 { // an alias: same address and size
                symbols.append(.init(address: address, size: size, cName: Self.name("alias\(i)"), rank: rank))
            }
        }
        // Per-CPU variables sit at small addresses in a vmlinux.
        symbols.append(.init(address: 0x1a000, size: 8, cName: Self.name("percpu_var"), rank: 0))
        let index = SymbolIndex(symbols)
        var answered = 0
        for _ in 0..<4000 {
            let probe = rng.next() % 8 == 0 ? 0x1a000 + rng.next() % 16 : 0xffff_ffff_8100_0000 + rng.next() % (address - 0xffff_ffff_8100_0000 + 200)
            let scanned = index.scanContaining(probe)
            let sorted = index.sortedContaining(probe)
            XCTAssertEqual(scanned?.name, sorted?.name, "0x\(String(probe, radix: 16))")
            if scanned != nil { answered += 1 }
        }
        XCTAssertGreaterThan(answered, 2000, "most probes fall inside a symbol")
    }

    func testLaterAliasAndSizedSymbolWinAsInLLVMSymbolizer() {
        let index = SymbolIndex([
            .init(address: 0x2000, size: 12, cName: Self.name("__x64_sys_getpid"), rank: 0),
            .init(address: 0x2000, size: 12, cName: Self.name("__ia32_sys_getpid"), rank: 0),
            .init(address: 0x1000, size: 0, cName: Self.name("_stext"), rank: 3),
            .init(address: 0x1000, size: 0x68, cName: Self.name("startup_64"), rank: 0),
        ])
        for ask in [index.scanContaining, index.sortedContaining] {
            XCTAssertEqual(ask(0x2004)?.name, "__x64_sys_getpid")
            XCTAssertEqual(ask(0x1010)?.name, "startup_64")
            XCTAssertEqual(ask(0x1070)?.name, "_stext", "a sizeless label reaches the next symbol")
            XCTAssertNil(ask(0xfff))
        }
        XCTAssertEqual(index.named("_stext").map(\.address), [0x1000])
        for i in 0..<SymbolIndex.nameScansBeforeIndex { _ = index.named("x\(i)") }
        XCTAssertEqual(index.named("__ia32_sys_getpid").map(\.address), [0x2000], "the hash table answers the same")
        XCTAssertEqual(index.named("nope").count, 0)
    }

    /// Names answered in one pass give what one-by-one questions give:
    /// duplicates (static functions) in address order, unknown names empty.
    func testPreloadedNamesMatchSingleQuestions() {
        var symbols: [SymbolIndex.Symbol] = []
        for i in 0..<2000 {
            symbols.append(.init(address: 0x10000 + UInt64(i) * 16, size: 16, cName: Self.name("fn_\(i % 700)"), rank: 0))
        }
        symbols.append(.init(address: 0x5000, size: 4, cName: Self.name("a"), rank: 2))
        let wanted: Set<String> = ["fn_3", "fn_699", "fn_123", "a", "missing", "fn_"]
        let preloaded = SymbolIndex(symbols)
        preloaded.preload(wanted)
        let asked = SymbolIndex(symbols)
        for name in wanted {
            XCTAssertEqual(preloaded.named(name).map(\.address), asked.named(name).map(\.address), name)
        }
        XCTAssertEqual(preloaded.named("fn_3").map(\.address), [0x10030, 0x10030 + 700 * 16, 0x10030 + 1400 * 16])
        XCTAssertEqual(preloaded.named("missing").count, 0)
    }

    /// An index reading the ELF table in place answers as one built from a
    /// copy, and copies the table only for address questions.
    func testInPlaceTableAnswersAsACopyAndCopiesOnlyForAddresses() {
        var symbols: [SymbolIndex.Symbol] = []
        for i in 0..<500 {
            let address = 0x1000 + UInt64(i / 2) * 32 // pairs of aliases
            symbols.append(.init(address: address, size: 32, cName: Self.name("s\(i % 300)"), rank: UInt8(i % 3)))
        }
        var passes = 0
        let inPlace = SymbolIndex(count: symbols.count) { filter, body in
            passes += 1
            // As the ELF table does: symbols the filter turns away go unread.
            for s in symbols where filter.admits(address: s.address, size: s.size) { body(s) }
        }
        let copy = SymbolIndex(Array(symbols.reversed()))
        for name in ["s0", "nope"] {
            XCTAssertEqual(inPlace.named(name).map(\.address), copy.named(name).map(\.address), name)
        }
        inPlace.preload(["s1", "s2", "s3", "s299"])
        XCTAssertEqual(inPlace.named("s299").map(\.address), copy.named("s299").map(\.address))
        XCTAssertEqual(passes, 3, "two name scans and one preload pass, no copy")
        for probe in stride(from: UInt64(0xff0), to: 0x1000 + 251 * 32, by: 7) {
            XCTAssertEqual(inPlace.containing(probe)?.name, copy.containing(probe)?.name, "0x\(String(probe, radix: 16))")
        }
        XCTAssertEqual(inPlace.named("s150").map(\.address), copy.named("s150").map(\.address))
        XCTAssertEqual(passes, 6, "two address scans in place, then one copy; later names use the copy")
    }

    /// Scanning the table in place (forward order) breaks ties between
    /// aliases of equal rank as the copy (reversed) does: the later entry.
    func testInPlaceScanPrefersTheLaterAliasLikeTheCopy() {
        var symbols: [SymbolIndex.Symbol] = []
        for i in 0..<400 {
            let address = 0x1000 + UInt64(i / 2) * 32
            let size: UInt64 = i % 10 == 0 ? 0 : 32
            symbols.append(.init(address: address, size: size, cName: Self.name("t\(i)"), rank: UInt8((i / 2) % 3) + (size == 0 ? 3 : 0)))
        }
        let inPlace = SymbolIndex(count: symbols.count) { filter, body in
            for s in symbols where filter.admits(address: s.address, size: s.size) { body(s) }
        }
        let copy = SymbolIndex(Array(symbols.reversed()))
        for probe in stride(from: UInt64(0xff0), to: 0x1000 + 201 * 32, by: 5) {
            XCTAssertEqual(inPlace.scanContaining(probe)?.name, copy.sortedContaining(probe)?.name, "0x\(String(probe, radix: 16))")
            XCTAssertEqual(copy.scanContaining(probe)?.name, copy.sortedContaining(probe)?.name, "0x\(String(probe, radix: 16))")
        }
        XCTAssertEqual(inPlace.scanContaining(0x1024)?.name, "t3", "of two equal aliases the later entry")
        XCTAssertEqual(copy.sortedContaining(0x1024)?.name, "t3")
    }
}
