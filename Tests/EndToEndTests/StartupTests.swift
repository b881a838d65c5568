import Foundation
import XCTest

/// What every run pays before it reads a byte: lockscan links only
/// FoundationEssentials. The full Foundation brings FoundationInternationalization
/// and ICU (40 MB to map and relocate), ~4 ms of a one-address `symbolize`
/// that eu-addr2line answers in ~20 ms; named time zones load it on demand.
final class StartupTests: XCTestCase {
    func testTheBinaryLinksNoFoundationBeyondEssentials() throws {
        let ldd = try CLI.output(of: "ldd", [CLI.lockscan])
        XCTAssertTrue(ldd.contains("libFoundationEssentials.so"), ldd)
        XCTAssertTrue(ldd.contains("libLockscanKit.so"), "the libraries of libLockscanKit.so are listed too: \(ldd)")
        for lib in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"] {
            XCTAssertFalse(ldd.contains(lib), "\(lib) is linked: a module imports Foundation instead of FoundationEssentials")
        }
    }
}
