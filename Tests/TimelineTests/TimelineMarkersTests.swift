import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

final class BootMarkerTests: XCTestCase {
    /// The marker's own examples, through the real engine.
    func testExamples() throws {
        for example in BootMarker.descriptor.examples + UnknownNMIMarker.descriptor.examples {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("boot-\(getpid())-\(example.name.hashValue).log")
            try Data(example.text.split(separator: "\n").map { "[    0.000000] \($0)" }.joined(separator: "\n").utf8).write(to: file)
            var events: [Event] = []
            _ = ScanEngine(analyzers: [BootMarker.descriptor, UnknownNMIMarker.descriptor]).scan(.path(file.path)) { events.append($0) }
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

    /// A host-injected NMI (libvirtd's debug log of the monitor command) and
    /// the guest's report of it: the report came after, which raises the
    /// lower bound of the guest's offset above what qemu's start gives.
    func testInjectedNMIBoundsTheGuestClockFromBelow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nmi-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let guest = dir.appendingPathComponent("guest.log"), domain = dir.appendingPathComponent("vm.log"), libvirt = dir.appendingPathComponent("libvirtd.log")
        try Data("""
            [    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
            [   50.000000] Uhhuh. NMI received for unknown reason 30 on CPU 0.
            [   50.000100] Uhhuh. NMI received for unknown reason 30 on CPU 1.
            [   50.000200] Dazed and confused, but trying to continue
            [   60.000000] last line
            """.utf8).write(to: guest)
        try Data("""
            2017-03-15 06:00:00.000+0000: starting up libvirt version: 9.0.0, qemu version: 7.2.0, hostname: h
            2017-03-15 06:03:20.000+0000: shutting down, reason=destroyed
            """.utf8).write(to: domain)
        try Data("""
            2017-03-15 06:01:20.000+0000: 13914: debug : qemuMonitorJSONCommandWithFd:301 : Send command '{"execute":"inject-nmi","id":"libvirt-16"}' for write with FD -1
            2017-03-15 06:01:20.001+0000: 13911: info : qemuMonitorIOWrite:543 : QEMU_MONITOR_IO_WRITE: mon=0x7f4c1c00e210 buf={"execute":"inject-nmi","id":"libvirt-16"} len=42 ret=42 errno=0
            """.utf8).write(to: libvirt)
        let start = try XCTUnwrap(WallClock.parse("2017-03-15T06:00:00Z")).utc
        let inputs = [TimelineInput(role: .guest, path: guest.path), TimelineInput(role: .qemu, path: domain.path), TimelineInput(role: .libvirt, path: libvirt.path)]
        let doc = TimelineBuilder(inputs: inputs).build(analyzers: BuiltinAnalyzers.all).0
        let segment = try XCTUnwrap(doc.sources.first { $0.id == "guest" }?.segments.first)
        // The NMI report at 50 s came after the injection at start+80 s: offset >= start+30.
        XCTAssertEqual(segment.offsetEarliest, start + 30, accuracy: 0.001, "\(segment.evidence)")
        XCTAssertTrue(segment.evidence.contains { $0.contains("NMI report at 50.0 s came after the host injected") }, "\(segment.evidence)")
        XCTAssertEqual(doc.events.filter { $0.event.kind == "nmi_injected" }.count, 1, "one command, logged twice")
        // Two CPUs reported the one NMI: still paired as one.
        XCTAssertFalse(segment.evidence.contains { $0.contains("not paired") })
    }
}
