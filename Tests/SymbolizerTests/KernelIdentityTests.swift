import Foundation
@testable import Symbolizer
import XCTest

/// Whether a file is a Linux kernel image, by structure, and the messages
/// every command gives about the vmlinux it was handed.
final class KernelIdentityTests: XCTestCase {
    func testFixtureKernelIsAKernelAndUserSpaceIsNot() throws {
        XCTAssertEqual(try KernelDebugInfo(vmlinux: try Fixtures.executable()).imageKind, .linuxKernel("linux_banner symbol"))
        for path in ["/bin/ls", try Fixtures.pie()] {
            let kind = try KernelDebugInfo(vmlinux: path).imageKind
            XCTAssertFalse(kind.isLinuxKernel, "\(path): \(kind)")
        }
        // A module handed over as the vmlinux says where it belongs.
        guard case let .notAKernel(why) = try KernelDebugInfo(vmlinux: try Fixtures.relocatable()).imageKind else {
            return XCTFail("a .ko is not a kernel image")
        }
        XCTAssertTrue(why.contains("--modules"), why)
    }

    /// A kernel image without a symbol table still shows its banner string.
    func testStrippedKernelIsKnownByItsBannerString() throws {
        let stripped = try Fixtures.build("fixture-stripped", flags: ["-no-pie", "-g0", "-s"])
        let k = try KernelDebugInfo(vmlinux: stripped)
        XCTAssertEqual(k.imageKind, .linuxKernel("Linux version string in .rodata"))
        XCTAssertEqual(k.release, "6.1.0-99-fixture")
    }

    func testRefusalAndNoDebugInfoMessagesNameTheFileAndForce() throws {
        let ls = try KernelDebugInfo(vmlinux: "/bin/ls")
        let refused = try XCTUnwrap(KernelCheck.notAKernel(ls, force: false))
        XCTAssertTrue(refused.refused)
        XCTAssertTrue(refused.message.contains("/bin/ls") && refused.message.contains("--force"), refused.message)
        XCTAssertEqual(KernelCheck.notAKernel(ls, force: true)?.refused, false)
        XCTAssertNil(KernelCheck.notAKernel(try KernelDebugInfo(vmlinux: try Fixtures.executable()), force: false))

        let nodebug = try KernelDebugInfo(vmlinux: try Fixtures.build("fixture-nodebug", flags: ["-no-pie", "-g0"]))
        XCTAssertTrue(nodebug.imageKind.isLinuxKernel, "a kernel without DWARF is still a kernel")
        XCTAssertTrue(KernelCheck.noDebugInfo(nodebug)?.contains("no DWARF") == true)
        XCTAssertNil(KernelCheck.noDebugInfo(try KernelDebugInfo(vmlinux: try Fixtures.executable())))
    }
}
