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

    func testReleaseAndBuildIDMismatchesMentionForce() throws {
        let k = try KernelDebugInfo(vmlinux: try Fixtures.executable())
        let own = try XCTUnwrap(k.buildID)
        XCTAssertEqual(KernelCheck.mismatches(logRelease: "6.1.0-99-fixture", logBuildID: own, kernel: k, force: false), [])
        XCTAssertEqual(KernelCheck.mismatches(logRelease: nil, logBuildID: own.uppercased(), kernel: k, force: false), [])
        let other = String(repeating: "ab", count: 20)
        let problems = KernelCheck.mismatches(logRelease: "5.10.0-1-amd64", logBuildID: other, kernel: k, force: false)
        XCTAssertEqual(problems.count, 2)
        XCTAssertTrue(problems.allSatisfy { $0.refused && $0.message.contains("--force") }, "\(problems)")
        XCTAssertTrue(problems[0].message.contains("5.10.0-1-amd64") && problems[0].message.contains("6.1.0-99-fixture"))
        XCTAssertTrue(problems[1].message.contains(other) && problems[1].message.contains(own))
        XCTAssertTrue(KernelCheck.mismatches(logRelease: "5.10.0-1-amd64", logBuildID: nil, kernel: k, force: true).allSatisfy { !$0.refused })
    }

    /// CONFIG_STACKTRACE_BUILD_ID kernels end the task header with the build ID.
    func testBuildIDFromTheTaskHeader() {
        let id = "0123456789abcdef0123456789abcdef01234567"
        XCTAssertEqual(KernelFinder.buildID(in: ["[    1.0] CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0-18-amd64 #1 \(id)\r"]), id)
        XCTAssertNil(KernelFinder.buildID(in: ["[    1.0] CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0-18-amd64 #1 Debian 6.1.76-1",
                                               "[    2.0] CPU: 2 PID: 116 Comm: spin Not tainted 6.1.0-18-amd64 #1 \(id)"]),
                     "only the first task header counts")
        XCTAssertNil(KernelFinder.buildID(in: ["[    1.0] Linux version 6.1.0-18-amd64"]))
    }
}
