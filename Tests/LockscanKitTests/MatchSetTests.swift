@testable import LockscanKit
import XCTest

/// The frame lists are asked through `MatchSet`, which compares bytes by
/// first byte; what it answers must be what asking each entry answers.
final class MatchSetTests: XCTestCase {
    static let lists: [(String, [FrameAttribution.Match])] = [
        ("plumbing", FrameAttribution.plumbing), ("anchors", FrameAttribution.anchors),
        ("shims", FrameAttribution.shims), ("NMI handler frames", NMIHandlerFrames.patterns),
    ]

    /// Names around every entry: the entry itself, longer, one byte short,
    /// inside another name, with a combining mark after it, in capitals.
    func names() -> [String] {
        var names = ["", "a", "_", "\u{301}", "é", "native_queued_spin_lock_slowpath", "do_nmi\u{301}", "e\u{301}xc_nmi"]
        for (_, list) in Self.lists {
            for m in list {
                let s: String
                switch m {
                case let .exact(e), let .prefix(e), let .contains(e): s = e
                }
                names += [s, s + "_slowpath", String(s.dropLast()), "__" + s, "x" + s + "y", s + "\u{301}",
                          s + "\u{301}_tail", s.uppercased(), s + ".cold", s + ".isra.0"]
            }
        }
        return names
    }

    func testEveryNameIsAnsweredAsEachEntryWouldAnswerIt() {
        let names = names()
        for (label, list) in Self.lists {
            let set = FrameAttribution.MatchSet(list)
            for name in names {
                XCTAssertEqual(set.matches(name), list.contains { $0.matches(name) }, "\(label): \(name.debugDescription)")
            }
        }
    }

    func testAnEmptyEntryMatchesEveryName() {
        for empty in [FrameAttribution.Match.exact(""), .prefix(""), .contains("")] {
            let list: [FrameAttribution.Match] = [.prefix("do_nmi"), empty]
            let set = FrameAttribution.MatchSet(list)
            for name in ["", "anything", "do_nmi"] {
                XCTAssertEqual(set.matches(name), list.contains { $0.matches(name) }, "\(empty) on \(name.debugDescription)")
            }
        }
    }
}
