import Foundation
import XCTest

/// Inputs that made a fuzz target (Fuzz/, scripts/fuzz) trap, kept in
/// corpora/fuzz-regressions/ and run through the lockscan binary the way the
/// target fed them, by the target's name before the first `-` of the file
/// name: lockscan must end by itself with 0, 1 or 2 (never a signal) and
/// print valid JSON.
final class FuzzRegressionTests: XCTestCase {
    static let folder = "corpora/fuzz-regressions"

    /// The roles `FuzzTimeline` picks with the byte after the NUL, in its order.
    static let timelineRoles = ["qmp", "libvirt", "qemu", "host"]

    override func tearDown() { CLI.removeTempFiles() }

    func testEveryFindingEndsWithAnExitStatusAndValidJSON() throws {
        let dir = CLI.packageRoot.appendingPathComponent(Self.folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasSuffix(".md") }.sorted()
        XCTAssertFalse(files.isEmpty, "\(Self.folder) lost its inputs")
        for name in files {
            let path = Self.folder + "/" + name
            for run in try Self.runs(target: String(name.prefix { $0 != "-" }), path: path) {
                let r = try CLI.run(run.args)
                let command = "lockscan " + run.args.joined(separator: " ")
                XCTAssertFalse(r.signaled, "\(path): \(command) was killed by signal \(r.status)\n\(r.stderr.suffix(2000))")
                guard !r.signaled else { continue }
                XCTAssertTrue((0...2).contains(r.status), "\(path): \(command) exited \(r.status)\n\(r.stderr.suffix(2000))")
                if run.json {
                    XCTAssertNoThrow(try JSONSerialization.jsonObject(with: r.stdoutData), "\(path): \(command) printed no JSON: \(r.stdout.prefix(300))")
                }
            }
        }
    }

    struct Run {
        var args: [String]
        /// Whether stdout must be one JSON document.
        var json: Bool
    }

    /// The lockscan commands that read `path` as the fuzz target did.
    static func runs(target: String, path: String) throws -> [Run] {
        switch target {
        case "input", "scan", "crash", "windbg", "host":
            return [Run(args: ["scan", "--json", path], json: true)]
        case "timeline":
            // The guest's bytes, NUL, the role byte, the other source's bytes.
            let data = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(path))
            let nul = try XCTUnwrap(data.firstIndex(of: 0), "\(path): a timeline input is GUEST NUL ROLE OTHER")
            let roleAt = data.index(after: nul)
            let role = roleAt < data.endIndex ? timelineRoles[Int(data[roleAt]) % timelineRoles.count] : "qmp"
            let guest = try CLI.tempFile("guest.log", data[..<nul])
            let other = try CLI.tempFile("other.log", roleAt < data.endIndex ? data[data.index(after: roleAt)...] : Data())
            return [Run(args: ["timeline", "--json", "--guest", guest, "--" + role, other], json: true)]
        case "elf":
            // The file as the vmlinux of a log that names a release (so the
            // banner is read) and prints frames with hostile offsets.
            let log = try CLI.tempFile("frames.log", Data("""
                [    0.000000] Linux version 6.1.0-99-fixture (lockscan@fuzz) (gcc) #1 SMP
                [   12.000000] Call Trace:
                [   12.000000]  start_kernel+0xffffffffffffffff/0x10
                [   12.000000]  outer+0x10/0x20

                """.utf8))
            // Then in address mode, a few bytes into each function of the
            // target's seed (Fuzz/Seeds/elf-fixture.c) and at hostile offsets.
            let addresses = try CLI.tempFile("addresses", Data("""
                outer+0x10
                helper+0x1
                start_kernel+0x3
                end_repeat_nmi+0x2
                start_kernel+0xffffffffffffffff/0x10
                0xffffffffffffffff

                """.utf8))
            return [Run(args: ["symbolize", "--force", "--vmlinux", path, log], json: false),
                    Run(args: ["scan", "--json", "--force", "--vmlinux", path, log], json: true),
                    Run(args: ["symbolize", "--force", "--vmlinux", path, "--addresses", "--output-style", "json", addresses], json: false)]
        default:
            XCTFail("\(path): no fuzz target '\(target)' (the name starts with the target: input, scan, crash-bt, windbg, host, timeline, elf)")
            return []
        }
    }
}
