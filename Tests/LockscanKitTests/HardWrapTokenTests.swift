@testable import LockscanInput
import XCTest

/// The frame-token checks behind rejoining a frame a mail client cut at its
/// wrap column: a line ending in an incomplete `sym+0x…/0x…` waits for its
/// tail, a whole frame never does, and the joined token must be a frame.
/// The answers below are the grammar itself, written out by hand.
final class HardWrapTokenTests: XCTestCase {
    func testEndsInPartialFrame() {
        let partial = ["schedule+", "schedule+0", "schedule+0x", "schedule+0x1a", "schedule+0x1a/", "schedule+0x1a/0",
                       "schedule+0x1a/0x", " ? queued_spin_lock_slowpath+0x1a/0x", "[<ffffffff810c9658>] do_exit+0xAB/0"]
        let not = ["schedule+0x1a/0x30", "schedule", "+0x1a/0x", "schedule+0y", "schedule+0x1g", "schedule+0x1a/0x30/",
                   "schedule+0x1a//", "sched-ule+0x", "schedule+0x1a/0x ", "", "x", "a b c"]
        for line in partial {
            XCTAssertTrue(HardWrap.endsInPartialFrame(Array(line.utf8)), line)
        }
        for line in not {
            XCTAssertFalse(HardWrap.endsInPartialFrame(Array(line.utf8)), line)
        }
    }

    func testIsFrameNeedsBothOffsetsAndNothingAfter() {
        let frames = ["schedule+0x1a/0x30", "a+0x0/0x1", "__x64_sys_ioctl.cold+0xFF/0x100", "$x+0x1/0x2"]
        let not = ["schedule+0x1a/0x", "schedule+0x/0x30", "schedule+0x1a", "+0x1a/0x30", "schedule+0x1a/0x30 ",
                   "schedule+0x1a/0x30]", "schedule-0x1a/0x30", "schedule+0x1a/0x30/0x1", ""]
        for t in frames { XCTAssertTrue(HardWrap.isFrame(Array(t.utf8)[...]), t) }
        for t in not { XCTAssertFalse(HardWrap.isFrame(Array(t.utf8)[...]), t) }
        // A slice in the middle of a line is read from its own start.
        let line = Array("  ? schedule+0x1a/0x30".utf8)
        XCTAssertTrue(HardWrap.isFrame(line[4...]))
        XCTAssertFalse(HardWrap.isFrame(line[3...]))
    }
}
