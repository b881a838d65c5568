import LockscanKit
import XCTest

final class StackHintsTests: XCTestCase {
    /// Each signature matches its own example stack, and the hint it gives
    /// carries a reference of a checkable shape.
    func testEverySignatureMatchesItsExampleAndCitesSomethingCheckable() {
        for s in StackHints.signatures {
            let stack = s.example.map { Frame(function: $0) }
            XCTAssertTrue(StackHints.matching(stack).contains(s.hint), s.id)
            let ref = s.hint.reference ?? ""
            let isDoc = ref.hasPrefix("Documentation/") && (ref.hasSuffix(".rst") || ref.hasSuffix(".txt"))
            let isCommit = ref.hasPrefix("commit ") && ref.dropFirst(7).count == 12 && ref.dropFirst(7).allSatisfy(\.isHexDigit)
            XCTAssertTrue(isDoc || isCommit, "\(s.id): reference '\(ref)' is neither a Documentation path nor a 12-digit commit id")
        }
    }

    func testNMIHandlerFramesDoNotMatch() {
        let stack = [Frame(function: "native_queued_spin_lock_slowpath", context: .nmi), Frame(function: "ext4_writepages")]
        XCTAssertTrue(StackHints.matching(stack).isEmpty, "a signature seen only on the NMI stack says nothing")
    }

    func testIdsAreUnique() {
        XCTAssertEqual(Set(StackHints.signatures.map(\.id)).count, StackHints.signatures.count)
    }
}
