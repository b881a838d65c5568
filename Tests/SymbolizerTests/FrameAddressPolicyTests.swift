import Foundation
import LockscanKit
@testable import Symbolizer
import XCTest

/// One test per rule of FrameAddressPolicy, on frames as the parser reads
/// them from real line shapes, against the fixture ELF files.
final class FrameAddressPolicyTests: XCTestCase {
    func kernel(modules: Bool = false) throws -> KernelDebugInfo {
        try KernelDebugInfo(vmlinux: try Fixtures.executable(), modules: modules ? [try Fixtures.relocatable()] : [])
    }

    func frame(_ line: String) throws -> Frame {
        try XCTUnwrap(StackAnnotator.parse(line).frame, line)
    }

    func link(_ k: KernelDebugInfo, _ name: String, _ off: UInt64, module: String? = nil) throws -> UInt64 {
        try XCTUnwrap(k.address(symbol: name, offset: off, size: nil, module: module), name)
    }

    func hex(_ v: UInt64) -> String { String(v, radix: 16) }

    func testCallTraceEntryIsLookedUpOneByteBefore() throws {
        let k = try kernel()
        let l = try XCTUnwrap(FrameAddressPolicy().lookup(try frame("[   12.3]  outer+0x30/0x80"), in: k))
        XCTAssertEqual(l.address, try link(k, "outer", 0x30) - 1)
        XCTAssertEqual(l.rule, .returnAddress)
        XCTAssertEqual(l.location, .symbolOffset)
        XCTAssertNil(l.module)
        XCTAssertEqual(l.symbolName, "outer", "the byte before is still inside the printed function")
    }

    func testInstructionPointerIsLookedUpExactly() throws {
        let k = try kernel()
        for line in ["[   12.3] RIP: 0010:outer+0x30/0x80", "    [exception RIP: outer+48]"] {
            let l = try XCTUnwrap(FrameAddressPolicy().lookup(try frame(line), in: k), line)
            XCTAssertEqual(l.address, try link(k, "outer", 0x30), line)
            XCTAssertEqual(l.rule, .instructionPointer, line)
            XCTAssertEqual(l.symbolName, "outer")
        }
    }

    func testRawAddressOfAKnownExceptionRIPIsLookedUpExactly() throws {
        let k = try kernel()
        let slide: Int64 = 0x3700_0000
        let raw = UInt64(Int64(try link(k, "outer", 0x30)) + slide)
        let crashFrame = try frame(" #4 [ffffce22003e3f08] outer at \(hex(raw))")
        var policy = FrameAddressPolicy(slide: KaslrOffset(slide: slide, method: .kernelOffsetLine))
        let before = try XCTUnwrap(policy.lookup(crashFrame, in: k))
        XCTAssertEqual(before.rule, .returnAddress, "an address that was not an exception RIP is a return address")
        XCTAssertEqual(before.address, try link(k, "outer", 0x30) - 1)
        policy.exceptionRIPs.insert(raw)
        let after = try XCTUnwrap(policy.lookup(crashFrame, in: k))
        XCTAssertEqual(after.rule, .knownExceptionRIP)
        XCTAssertEqual(after.address, try link(k, "outer", 0x30))
        XCTAssertEqual(after.location, .kaslrSlide)
        // Where the exception RIPs come from: RIP frames with an address, and crash's register line.
        XCTAssertEqual(FrameAddressPolicy.exceptionRIP(of: try frame("RIP: 0010:[<ffffffff810c9658>]  [<ffffffff810c9658>] tg_unthrottle_up+0x18/0x90")),
                       0xffff_ffff_810c_9658)
        XCTAssertNil(FrameAddressPolicy.exceptionRIP(of: try frame(" [<ffffffff810c9658>] tg_unthrottle_up+0x18/0x90")))
        XCTAssertEqual(StackAnnotator.parse("    RIP: ffffffff810c9658  RSP: ffff882f7fc83dc8  RFLAGS: 00000046").registerRIP,
                       0xffff_ffff_810c_9658)
    }

    /// crash prints the exception RIP again as the frame under the stack
    /// switch: the annotator finds it on the register line and looks that
    /// frame up at the instruction, as the exception RIP line itself.
    func testCrashFrameRepeatingTheExceptionRIPGetsTheRIPsLine() throws {
        let k = try kernel()
        // What the annotator prints for an address: the inline chain and the position.
        func annotation(_ a: UInt64) -> [String] {
            let s = k.symbolize(a)
            return s.frames.dropLast().map { "«inlined \($0.function) \(StackAnnotator.position($0))»" }
                + s.frames.suffix(1).map { "«\(StackAnnotator.position($0))»" }
        }
        // An offset whose byte and the byte before it symbolize differently,
        // so looking up exactly and at -1 can be told apart.
        let start = try link(k, "outer", 0)
        let size = try XCTUnwrap(k.symbol(at: start)?.size)
        let off = try XCTUnwrap((1..<size).first { annotation(start + $0) != annotation(start + $0 - 1) })
        let raw = start + off + 0x3700_0000
        let lines = [
            "Kernel Offset: 0x37000000 from 0xffffffff81000000",
            " #3 [ffff88103f805ef0] main at \(hex(try link(k, "main", 0x10) + 0x3700_0000))",
            "    [exception RIP: outer+\(off)]",
            "    RIP: \(String(format: "%016llx", raw))  RSP: ffff882f7fc83dc8  RFLAGS: 00000046",
            "--- <NMI exception stack> ---",
            " #4 [ffff8810125b3e18] outer at \(hex(raw))",
        ]
        let out = StackAnnotator(kernel: k).annotate(lines)
        // The annotation of the output line holding `text`, with the inlined lines above it.
        func printed(_ text: String) throws -> [String] {
            let i = try XCTUnwrap(out.firstIndex { $0.contains(text) }, "\(out)")
            let open = try XCTUnwrap(out[i].range(of: "«", options: .backwards), "\(out)")
            var block = [String(out[i][open.lowerBound...])]
            var j = i - 1
            while j >= 0, let r = out[j].range(of: "«inlined ") {
                block.insert(String(out[j][r.lowerBound...]), at: 0)
                j -= 1
            }
            return block
        }
        XCTAssertEqual(try printed("[exception RIP: outer+\(off)]"), annotation(start + off))
        XCTAssertEqual(try printed("outer at \(hex(raw))"), annotation(start + off))
    }

    func testOffsetZeroIsLookedUpWhereItIs() throws {
        let k = try kernel()
        let l = try XCTUnwrap(FrameAddressPolicy().lookup(try frame("[   12.3]  helper+0x0/0x20"), in: k))
        XCTAssertEqual(l.address, try link(k, "helper", 0))
        XCTAssertEqual(l.rule, .entryPoint)
    }

    func testUnreliableFramesFollowTheSameRulesAndKeepTheirMark() throws {
        let k = try kernel()
        let sure = try frame("[   12.3]  outer+0x30/0x80")
        let unsure = try frame("[   12.3]  ? outer+0x30/0x80")
        XCTAssertFalse(unsure.reliable)
        XCTAssertEqual(FrameAddressPolicy().lookup(unsure, in: k), FrameAddressPolicy().lookup(sure, in: k))
        let expanded = try XCTUnwrap(KernelFrameSymbolizer(kernel: k).symbolize(unsure))
        XCTAssertGreaterThan(expanded.count, 1, "the fixture's outer+0x30 has an inline chain")
        XCTAssertTrue(expanded.allSatisfy { !$0.reliable }, "\(expanded)")
    }

    func testModuleFrameIsLookedUpInItsModule() throws {
        let k = try kernel(modules: true)
        let l = try XCTUnwrap(FrameAddressPolicy().lookup(try frame("[   12.3]  outer+0x10/0x80 [fixture_mod]"), in: k))
        XCTAssertEqual(l.module, "fixture_mod")
        XCTAssertEqual(l.address, try link(k, "outer", 0x10, module: "fixture_mod") - 1)
        XCTAssertEqual(l.rule, .returnAddress)
    }

    func testRawAddressGoesThroughTheSlideAndNeedsOne() throws {
        let k = try kernel()
        let slide: Int64 = 0x3700_0000
        let raw = UInt64(Int64(try link(k, "outer", 0x30)) + slide)
        let f = try frame(" #1 [ffffce22003e3f10] outer at \(hex(raw))")
        XCTAssertNil(FrameAddressPolicy().lookup(f, in: k), "no slide, no guess")
        let l = try XCTUnwrap(FrameAddressPolicy(slide: KaslrOffset(slide: slide, method: .intersection)).lookup(f, in: k))
        XCTAssertEqual(l.address, try link(k, "outer", 0x30) - 1)
        XCTAssertEqual(l.location, .kaslrSlide)
        XCTAssertNil(l.symbolName, "a raw frame is named from the symbol table")
    }

    func testCrashModuleFrameGoesThroughTheModuleLoadBase() throws {
        let k = try kernel(modules: true)
        let base: UInt64 = 0xffff_ffff_c055_1000
        let outer = try XCTUnwrap(k.moduleCodeOffset(symbol: "outer", module: "fixture_mod"))
        let f = try frame(" #0 [ffffce22003e3f08] outer at \(hex(base + outer.offset + 0x30)) [fixture_mod]")
        XCTAssertNil(FrameAddressPolicy().lookup(f, in: k), "no load base, no guess")
        let table = ["crash> mod", "     MODULE       NAME                 BASE         SIZE  OBJECT FILE",
                     "ffffffffc0553040  fixture_mod  \(hex(base))  16384  (not loaded)  [CONFIG_KALLSYMS]"]
        let policy = FrameAddressPolicy(moduleBases: ModuleLoadBase(lines: table, frames: [f], kernel: k))
        let l = try XCTUnwrap(policy.lookup(f, in: k))
        XCTAssertEqual(l.location, .moduleLoadBase)
        XCTAssertEqual(l.module, "fixture_mod")
        XCTAssertEqual(l.address, try link(k, "outer", 0x30, module: "fixture_mod") - 1)
    }

    func testAlreadySymbolizedFramesAreLeftAlone() throws {
        let k = try kernel()
        var f = Frame(function: "outer", offset: 0x30)
        f.file = "fixture.c"
        XCTAssertNil(FrameAddressPolicy().lookup(f, in: k))
    }

    func testAddressListsAreLookedUpExactlyAsGiven() throws {
        let k = try kernel()
        let a = try link(k, "outer", 0x10)
        for token in ["0x" + hex(a), hex(a), "outer+0x10", "outer+16", "outer+0x10/0x80"] {
            let l = try XCTUnwrap(FrameAddressPolicy.asGiven(token, in: k), token)
            XCTAssertEqual(l.address, a, token)
            XCTAssertEqual(l.rule, .asGiven)
        }
        XCTAssertEqual(FrameAddressPolicy.asGiven("outer", in: k)?.address, try link(k, "outer", 0))
        XCTAssertNil(FrameAddressPolicy.asGiven("outer+0x10", in: k, symbols: false), "addr2line takes hex only")
        XCTAssertNil(FrameAddressPolicy.asGiven("no_such_function+0x10", in: k))
    }

    /// Scan's annotations and `lockscan symbolize` give every frame the same position.
    func testScanAndSymbolizeAgreeOnEveryFrame() throws {
        let k = try kernel()
        let lines = ["[   12.3] RIP: 0010:outer+0x30/0x80", "[   12.3]  outer+0x30/0x80", "[   12.3]  ? helper+0x9/0x20",
                     "[   12.3]  helper+0x0/0x20", "[   12.3]  main+0x10/0x30"]
        let annotated = StackAnnotator(kernel: k).annotate(lines).filter { !$0.contains("«inlined ") }
        XCTAssertEqual(annotated.count, lines.count)
        for (line, out) in zip(lines, annotated) {
            let expanded = try XCTUnwrap(KernelFrameSymbolizer(kernel: k).symbolize(try frame(line)), line)
            let own = try XCTUnwrap(expanded.last)
            XCTAssertEqual(out, line + " «\(try XCTUnwrap(own.file)):\(try XCTUnwrap(own.line))»")
        }
    }
}
