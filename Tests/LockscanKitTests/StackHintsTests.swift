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

    /// A stack in two signatures gets both hints, in the signatures' order,
    /// whichever frame comes first; names are compared without their
    /// compiler suffix; only the first 16 interrupted frames count.
    func testSeveralSignaturesInTheirOrderAndOnlyTheFirstSixteenFrames() throws {
        let first = try XCTUnwrap(StackHints.signatures.first)
        let last = try XCTUnwrap(StackHints.signatures.last)
        XCTAssertNotEqual(first.id, last.id)
        let stack = [Frame(function: last.example[0] + ".isra.0"), Frame(function: first.example[0])]
        XCTAssertEqual(StackHints.matching(stack), [first.hint, last.hint])
        let deep = Array(repeating: Frame(function: "ext4_writepages"), count: 16) + [Frame(function: first.example[0])]
        XCTAssertTrue(StackHints.matching(deep).isEmpty, "the 17th frame is past what is read")
        let afterNMI = [Frame(function: "nmi_handle", context: .nmi)] + Array(deep.prefix(15)) + [Frame(function: first.example[0])]
        XCTAssertEqual(StackHints.matching(afterNMI), [first.hint], "NMI frames are not counted among the 16")
    }

    func testIdsAreUnique() {
        XCTAssertEqual(Set(StackHints.signatures.map(\.id)).count, StackHints.signatures.count)
    }
}
