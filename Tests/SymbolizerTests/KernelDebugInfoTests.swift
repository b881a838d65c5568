import Foundation
import Symbolizer
import XCTest

final class KernelDebugInfoTests: XCTestCase {
    /// Every address of the fixture's code symbolizes exactly as eu-addr2line does.
    func testMatchesEuAddr2lineOnEveryAddress() throws {
        for path in [try Fixtures.executable(), try Fixtures.pie()] {
            let info = try KernelDebugInfo(vmlinux: path)
            XCTAssertTrue(info.hasDWARF)
            var checked = 0
            var inlineChains = 0
            for fn in ["outer", "helper", "main"] {
                let start = try XCTUnwrap(info.address(symbol: fn, offset: 0, size: nil, module: nil), fn)
                let size = try XCTUnwrap(info.symbol(at: start)?.size)
                let addresses = Array(start..<(start + size))
                let reference = try Fixtures.euAddr2line(path, addresses)
                for a in addresses {
                    let ours = info.symbolize(a)
                    let theirs = try XCTUnwrap(reference[a], "eu-addr2line said nothing for 0x\(String(a, radix: 16))")
                    XCTAssertEqual(ours.frames.map { Self.base($0.function) }, theirs.map { Self.base($0.0) }, "\(path) 0x\(String(a, radix: 16))")
                    XCTAssertEqual(ours.frames.map(\.file), theirs.map(\.1), "\(path) 0x\(String(a, radix: 16))")
                    XCTAssertEqual(ours.frames.map(\.line), theirs.map(\.2), "\(path) 0x\(String(a, radix: 16))")
                    XCTAssertEqual(ours.frames.map(\.column), theirs.map(\.3), "\(path) 0x\(String(a, radix: 16))")
                    if ours.frames.count >= 3 { inlineChains += 1 }
                    checked += 1
                }
            }
            XCTAssertGreaterThan(checked, 50)
            XCTAssertGreaterThan(inlineChains, 0, "the fixture must produce inline chains three deep")
        }
    }

    /// A kernel's unit reader (its own Dwarf over libdwfl's Elf) is ended
    /// before the Dwfl, whether by forgetUnits or by releasing the kernel
    /// (the failure would be a crash), and a kernel kept until exit still
    /// answers.
    func testReleasingAKernelAfterItsUnitsWereReadIsSafe() throws {
        let path = try Fixtures.executable()
        for round in 0..<20 {
            var info: KernelDebugInfo? = try KernelDebugInfo(vmlinux: path)
            let main = try XCTUnwrap(info?.address(symbol: "main", offset: 0, size: nil, module: nil))
            XCTAssertEqual(info?.symbolize(main).hasDebugInfo, true)
            if round % 2 == 0 { info?.forgetUnits() }
            XCTAssertEqual(info?.symbolize(main + 1).hasDebugInfo, true)
            info = nil
        }
        let kept = try KernelDebugInfo(vmlinux: path)
        KernelDebugInfo.keepUntilExit(kept)
        let main = try XCTUnwrap(kept.address(symbol: "main", offset: 0, size: nil, module: nil))
        XCTAssertTrue(kept.symbolize(main).hasDebugInfo)
    }

    func testReleaseFromLinuxBanner() throws {
        let info = try KernelDebugInfo(vmlinux: try Fixtures.executable())
        XCTAssertEqual(info.release, "6.1.0-99-fixture")
        XCTAssertNotNil(info.buildID)
    }

    func testRelocatableModuleResolvesSymbolPlusOffset() throws {
        let exec = try Fixtures.executable()
        let ko = try Fixtures.relocatable()
        let info = try KernelDebugInfo(vmlinux: exec, modules: [ko])
        XCTAssertTrue(info.moduleNames.contains("fixture_mod"))
        let a = try XCTUnwrap(info.address(symbol: "outer", offset: 0x10, size: nil, module: "fixture_mod"))
        let s = info.symbolize(a, module: "fixture_mod")
        XCTAssertEqual(s.symbol, "outer")
        XCTAssertEqual(s.symbolOffset, 0x10)
        XCTAssertEqual(s.frames.last?.function, "outer")
        XCTAssertTrue(s.frames.allSatisfy { $0.file?.hasSuffix("fixture.c") == true }, "\(s.frames)")
    }

    /// Kernels ship modules as .ko.xz (libdw reads it) or .ko.zst (elfutils 0.188 cannot).
    func testCompressedModules() throws {
        let ko = try Fixtures.relocatable()
        let dir = Fixtures.dir.appendingPathComponent("mods-\(UUID().uuidString)/kernel/drivers")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let xz = dir.appendingPathComponent("fix_xz.ko").path
        try FileManager.default.copyItem(atPath: ko, toPath: xz)
        XCTAssertEqual(try Fixtures.run("/usr/bin/env", ["xz", "-f", xz]).status, 0)
        let zst = dir.appendingPathComponent("fix_zst.ko").path
        try FileManager.default.copyItem(atPath: ko, toPath: zst)
        XCTAssertEqual(try Fixtures.run("/usr/bin/env", ["zstd", "-q", "--rm", "-f", zst]).status, 0)
        let search = KernelFinder.moduleSearch(in: [dir.deletingLastPathComponent().path], release: nil)
        let xzPath = try XCTUnwrap(search.found["fix_xz"])
        XCTAssertTrue(xzPath.hasSuffix(".ko.xz"))
        XCTAssertTrue(search.unreadable["fix_zst"]?.contains("zstd") == true, "\(search.unreadable)")
        let info = try KernelDebugInfo(vmlinux: try Fixtures.executable(), modules: [xzPath])
        let a = try XCTUnwrap(info.address(symbol: "outer", offset: 0x10, size: nil, module: "fix_xz"))
        XCTAssertEqual(info.symbolize(a, module: "fix_xz").frames.last?.function, "outer")
    }

    func testBadFilesAreErrorsNotCrashes() throws {
        let empty = Fixtures.dir.appendingPathComponent("empty-vmlinux").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertThrowsError(try KernelDebugInfo(vmlinux: empty))
        let junk = Fixtures.dir.appendingPathComponent("junk-vmlinux").path
        _ = FileManager.default.createFile(atPath: junk, contents: Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        XCTAssertThrowsError(try KernelDebugInfo(vmlinux: junk))
        let exec = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.executable()))
        let half = Fixtures.dir.appendingPathComponent("half-vmlinux").path
        _ = FileManager.default.createFile(atPath: half, contents: exec.prefix(exec.count / 2))
        // Cut in half: either refused, or opened with whatever is readable — never a crash.
        if let info = try? KernelDebugInfo(vmlinux: half) { _ = info.symbolize(0x401000) }
        XCTAssertThrowsError(try KernelDebugInfo(vmlinux: "/nonexistent/vmlinux"))
    }

    func testStrippedFileStillGivesFunctionNames() throws {
        let stripped = try Fixtures.build("fixture-nodebug", flags: ["-no-pie", "-g0"])
        let info = try KernelDebugInfo(vmlinux: stripped)
        XCTAssertFalse(info.hasDWARF)
        let a = try XCTUnwrap(info.address(symbol: "outer", offset: 4, size: nil, module: nil))
        let s = info.symbolize(a)
        XCTAssertEqual(s.frames.map(\.function), ["outer"])
        XCTAssertFalse(s.hasDebugInfo)
    }

    static func base(_ s: String) -> String { String(s.prefix { $0 != "." }) }
}
