import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

final class BootMarkerTests: XCTestCase {
    /// The marker's own examples, through the real engine.
    func testExamples() throws {
        for example in BootMarker.descriptor.examples {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("boot-\(getpid())-\(example.name.hashValue).log")
            try Data(example.text.split(separator: "\n").map { "[    0.000000] \($0)" }.joined(separator: "\n").utf8).write(to: file)
            var events: [Event] = []
            _ = ScanEngine(analyzers: [BootMarker.descriptor]).scan(.path(file.path)) { events.append($0) }
            XCTAssertEqual(events.map(\.kind), example.expect.map(\.kind), example.name)
            XCTAssertEqual(events.map(\.title), example.expect.map { $0.title ?? "" }, example.name)
        }
    }

    /// A log holding two boots: the earlier boot's events are not placed
    /// with the last boot's evidence; they say why.
    func testEarlierBootsAreNotPlacedWithTheLastBootsEvidence() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../corpora/generated/vm-pause").standardized
        let console = try String(contentsOf: dir.appendingPathComponent("guest-console.log"), encoding: .utf8)
        let twice = FileManager.default.temporaryDirectory.appendingPathComponent("two-boots-\(getpid()).log")
        try Data((console + console).utf8).write(to: twice)
        let doc = TimelineBuilder(inputs: [TimelineInput(role: .guest, path: twice.path),
                                           TimelineInput(role: .qmp, path: dir.appendingPathComponent("qmp-events.json").path)])
            .build(analyzers: BuiltinAnalyzers.all).0
        let boots = doc.events.filter { $0.event.kind == BootMarker.kind }
        XCTAssertEqual(boots.count, 2)
        XCTAssertEqual(boots.filter { $0.time != nil }.count, 1, "only the last boot is placed")
        XCTAssertTrue(boots.contains { $0.time == nil && $0.timeNote?.contains("boot 1 of 2") == true }, "\(boots.map(\.timeNote))")
        XCTAssertTrue(doc.sources[0].clock.contains("2 boots"), doc.sources[0].clock)
    }
}
