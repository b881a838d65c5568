import LockscanKit
import XCTest

/// The symbolization stage with a fixture symbolizer: no libdw, no vmlinux.
final class FrameSymbolizerTests: XCTestCase {
    struct Fixture: FrameSymbolizer {
        func symbolize(_ frame: Frame) -> [Frame]? {
            guard frame.function == "__schedule" else { return nil }
            var inline = Frame(function: "context_switch", context: frame.context)
            inline.file = "kernel/sched/core.c"
            inline.line = 5178
            inline.inlined = true
            var outer = frame
            outer.file = "kernel/sched/core.c"
            outer.line = 6490
            return [inline, outer]
        }
    }

    func testStacksAndIncidentsAreExpanded() {
        var e = Event(analyzer: "t", kind: "hung_task", title: "t", severity: .error,
                      source: SourceLocation(file: "f", line: 1, endLine: 1, byteOffset: 0),
                      stack: [Frame(function: "__schedule", offset: 0xadf, size: 0x5270, context: .task), Frame(function: "schedule")])
        e.incident = Incident(cpus: [Incident.CPU(cpu: 0, state: .running, line: 1, stack: e.stack)], waitsFor: [])
        let s = e.symbolized(by: Fixture())
        XCTAssertEqual(s.stack.map(\.function), ["context_switch", "__schedule", "schedule"])
        XCTAssertEqual(s.stack[0].inlined, true)
        XCTAssertEqual(s.stack[1].line, 6490)
        XCTAssertNil(s.stack[2].file)
        XCTAssertEqual(s.incident?.cpus[0].stack.count, 3)
        let text = TextRenderer(color: false).render(s)
        XCTAssertTrue(text.contains("context_switch [inline] kernel/sched/core.c:5178"), text)
    }
}
