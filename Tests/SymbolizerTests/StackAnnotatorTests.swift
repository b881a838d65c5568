import Foundation
import LockscanKit
import Symbolizer
import XCTest

final class StackAnnotatorTests: XCTestCase {
    func kernel() throws -> KernelDebugInfo { try KernelDebugInfo(vmlinux: try Fixtures.executable()) }

    func testAnnotatesFramesAndStripGivesTheInputBack() throws {
        let k = try kernel()
        for eol in ["", "\r"] {
            let lines = [
                "[   12.345678] Call Trace:",
                "[   12.345679]  <TASK>",
                "[   12.345680]  outer+0x30/0x80",
                "[   12.345681]  ? helper+0x9/0x20",
                "[   12.345682]  unknown_function+0x1/0x2",
                "[   12.345683]  </TASK>",
            ].map { $0 + eol }
            let annotator = StackAnnotator(kernel: k)
            let out = annotator.annotate(lines)
            XCTAssertGreaterThan(out.count, lines.count, "the inline chain of outer+0x30 adds lines")
            XCTAssertTrue(out.contains { $0.contains("outer+0x30/0x80 «") && $0.contains("fixture.c:4»") }, "\(out)")
            XCTAssertTrue(out.contains { $0.contains("«inlined level") }, "\(out)")
            XCTAssertTrue(out.contains("[   12.345682]  unknown_function+0x1/0x2" + eol), "unknown symbols stay as printed")
            XCTAssertEqual(StackAnnotator.strip(out), lines)
        }
    }

    /// A kernel without DWARF gives names but no file:line: said once in
    /// the notes, the frames left as printed rather than `«??:0»` each.
    func testKernelWithoutDWARFIsSaidOnceNotOnEveryFrame() throws {
        let k = try KernelDebugInfo(vmlinux: try Fixtures.build("fixture-nodebug", flags: ["-no-pie", "-g0"]))
        let lines = ["[   12.345680]  outer+0x30/0x80", "[   12.345681]  helper+0x9/0x20"]
        let annotator = StackAnnotator(kernel: k)
        XCTAssertEqual(annotator.annotate(lines), lines)
        XCTAssertEqual(annotator.notes.filter { $0.contains("no DWARF") }.count, 1, "\(annotator.notes)")
    }

    /// Every corpus capture survives annotate → strip byte for byte (what
    /// annotates depends on the kernel; the round trip must hold regardless).
    func testRoundTripOnEveryCorpusFile() throws {
        let k = try kernel()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("corpora")
        let files = (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? [])
            .filter { !$0.hasSuffix(".json") && !$0.hasSuffix(".md") && !$0.hasPrefix("generate/") }
        var checked = 0
        for rel in files {
            let url = root.appendingPathComponent(rel)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
                  let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n")
            XCTAssertEqual(StackAnnotator.strip(StackAnnotator(kernel: k).annotate(lines)), lines, rel)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testKernelOffsetLine() {
        XCTAssertEqual(KaslrOffset.fromKernelOffsetLine("[  45.1] Kernel Offset: 0x37000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)")?.slide, 0x3700_0000)
        XCTAssertEqual(KaslrOffset.fromKernelOffsetLine("Kernel Offset: disabled")?.slide, 0)
        XCTAssertNil(KaslrOffset.fromKernelOffsetLine("Kernel panic - not syncing: sysrq triggered crash"))
        // Offsets no x86-64 kernel can have are refused with the reason.
        for bad in ["0xffffffffffffffff", "0x37000001", "0x80000000", "0x10000000000000000"] {
            let line = "Kernel Offset: \(bad) from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)"
            XCTAssertNil(KaslrOffset.fromKernelOffsetLine(line), bad)
            guard case let .failure(e)? = KaslrOffset.parseKernelOffsetLine(line) else { return XCTFail(bad) }
            XCTAssertTrue(e.description.contains("not used"), e.description)
        }
    }

    /// crash `bt`: absolute addresses and names; the slide is the one aligned
    /// value that keeps every frame inside its function.
    func testSlideFromCrashFramesByIntersection() throws {
        let k = try kernel()
        let slide: Int64 = 0x3700_0000
        func frame(_ name: String, _ off: UInt64) throws -> Frame {
            let link = try XCTUnwrap(k.address(symbol: name, offset: off, size: nil, module: nil))
            return Frame(function: name, address: "0x" + String(UInt64(bitPattern: Int64(link) + slide), radix: 16))
        }
        let frames = [try frame("outer", 0x30), try frame("helper", 0x9), try frame("main", 0x10)]
        XCTAssertEqual(try KaslrOffset.intersecting(frames, in: k).get(), KaslrOffset(slide: slide, method: .intersection))
        // A frame whose address cannot be inside its function under any aligned slide: refused.
        var bad = frames
        bad.append(Frame(function: "outer", address: "0x1"))
        XCTAssertThrowsError(try KaslrOffset.intersecting(bad, in: k).get())
    }

    /// crash `bt` through the NMI entry: `end_repeat_nmi` is a label of
    /// size 0 whose frame lies past its start, and the exception RIP is
    /// printed as symbol+offset with its address on the register line below.
    /// The slide comes from that pair; the label bounds it from one side only.
    func testSlideFromCrashTraceThroughEndRepeatNMI() throws {
        let k = try kernel()
        let slide: Int64 = 0x3700_0000
        func runtime(_ name: String, _ off: UInt64) throws -> String {
            let link = try XCTUnwrap(k.address(symbol: name, offset: off, size: nil, module: nil), name)
            return String(UInt64(bitPattern: Int64(link) + slide), radix: 16)
        }
        let lines = [
            "crash> bt -a",
            "PID: 0      TASK: ffff882f7fc0c000  CPU: 12  COMMAND: \"swapper/12\"",
            " #0 [ffff882f7fc85e48] helper at \(try runtime("helper", 0x9))",
            " #1 [ffff882f7fc85ef0] end_repeat_nmi at \(try runtime("end_repeat_nmi", 0x5))",
            "    [exception RIP: outer+48]",
            "    RIP: \(try runtime("outer", 48))  RSP: ffff882f7fc83d98  RFLAGS: 00000093",
            "--- <NMI exception stack> ---",
            " #2 [ffff882f7fc83d98] outer at \(try runtime("outer", 48))",
            " #3 [ffff882f7fc83da0] main at \(try runtime("main", 0x4))",
        ]
        let annotator = StackAnnotator(kernel: k)
        let out = annotator.annotate(lines)
        XCTAssertEqual(annotator.slide, KaslrOffset(slide: slide, method: .rawAndSymbol), "\(annotator.notes)")
        XCTAssertTrue(out.contains { $0.contains("[exception RIP: outer+48] «") }, "\(out)")
        // The ranges alone agree too: the label no longer contradicts the frames past it.
        let frames = try [("end_repeat_nmi", 0x5), ("outer", 48), ("helper", 0x9)].map { name, off in
            Frame(function: name, address: "0x" + (try runtime(name, UInt64(off))))
        }
        XCTAssertEqual(try KaslrOffset.intersecting(frames, in: k).get(), KaslrOffset(slide: slide, method: .intersection))
    }

    /// crash `bt` prints module frames as `func at ADDR [mod]`: the module's
    /// load address comes from `sym -m`, the `mod` table, or the frames.
    func testCrashModuleFramesArePlacedByListingTableOrIntersection() throws {
        let k = try KernelDebugInfo(vmlinux: try Fixtures.executable(), modules: [try Fixtures.relocatable()])
        let base: UInt64 = 0xffff_ffff_c055_1000
        let outer = try XCTUnwrap(k.moduleCodeOffset(symbol: "outer", module: "fixture_mod"))
        let helper = try XCTUnwrap(k.moduleCodeOffset(symbol: "helper", module: "fixture_mod"))
        func hex(_ v: UInt64) -> String { String(v, radix: 16) }
        let bt = [
            "crash> bt 93",
            "PID: 93       TASK: ffff8c07019b4180  CPU: 0    COMMAND: \"fixture\"",
            " #0 [ffffce22003e3f08] outer at \(hex(base + outer.offset + 0x30)) [fixture_mod]",
            " #1 [ffffce22003e3f10] helper at \(hex(base + helper.offset + 0x9)) [fixture_mod]",
        ]
        // The position the frame must get: outer+0x30 and helper+0x9 are return addresses.
        let expected = try [("outer", 0x30), ("helper", 0x9)].map { name, off -> String in
            let link = try XCTUnwrap(k.address(symbol: name, offset: UInt64(off), size: nil, module: "fixture_mod"))
            let s = k.symbolize(link - 1, module: "fixture_mod")
            return "«\(try XCTUnwrap(s.frames.last?.file)):\(try XCTUnwrap(s.frames.last?.line))»"
        }
        let mod = ["crash> mod", "     MODULE       NAME                 BASE         SIZE  OBJECT FILE",
                   "ffffffffc0553040  fixture_mod  \(hex(base))  16384  (not loaded)  [CONFIG_KALLSYMS]"]
        let listing = ["crash> sym -m fixture_mod", "\(hex(base)) MODULE START: fixture_mod",
                       "\(hex(base + outer.offset)) (T) outer", "\(hex(base + helper.offset)) (t) helper"]
        for (evidence, method) in [(listing, "sym -m"), (mod, "BASE column"), ([], "intersection")] {
            let annotator = StackAnnotator(kernel: k)
            let out = annotator.annotate(evidence + bt)
            XCTAssertTrue(out.contains { $0.contains("] outer at ") && $0.hasSuffix(expected[0]) }, "\(method): \(out)")
            XCTAssertTrue(out.contains { $0.contains("] helper at ") && $0.hasSuffix(expected[1]) }, "\(method): \(out)")
            XCTAssertTrue(annotator.notes.contains { $0.contains("fixture_mod") && $0.contains(method) }, "\(annotator.notes)")
        }
        // Frames that no single load address explains are left alone, with a note.
        var contradictory = bt
        contradictory[3] = " #1 [ffffce22003e3f10] helper at \(hex(base + 0x10_0000)) [fixture_mod]"
        let annotator = StackAnnotator(kernel: k)
        let out = annotator.annotate(contradictory)
        XCTAssertFalse(out.contains { $0.contains("[fixture_mod] «") }, "\(out)")
        XCTAssertTrue(annotator.notes.contains { $0.contains("no load address") }, "\(annotator.notes)")
    }
}
