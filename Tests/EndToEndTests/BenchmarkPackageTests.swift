import Foundation
import XCTest

/// `Benchmarks/run` is the one command that measures lockscan against its
/// peers. CI times nothing, but a benchmark nobody runs rots: a generator
/// that no longer writes what lockscan reads, a peer invoked so that it stops
/// early (and so looks fast), a baseline.json the code can no longer read.
/// These tests run the command untimed on tiny inputs (about 15 s with the
/// debug build; the decode_stacktrace.sh comparison is left out, it needs a
/// 140 MB package) and drive the regression rule with figures of its own.
final class BenchmarkPackageTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    static let scratch = CLI.tempDir.appendingPathComponent("bench")

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs a script of Benchmarks/ with tiny sizes, stdout and stderr together.
    func run(_ script: String, _ args: [String], env: [String: String] = [:]) throws -> Run {
        try FileManager.default.createDirectory(at: Self.scratch, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [CLI.packageRoot.appendingPathComponent("Benchmarks/" + script).path] + args
        p.currentDirectoryURL = CLI.packageRoot
        var environment = ProcessInfo.processInfo.environment
        let sizes = ["LOCKSCAN": CLI.lockscan, "BENCH_DIR": Self.scratch.path, "SCAN_MB": "8", "STORM_MB": "1",
                     "SYM_ADDRESSES": "100", "TIMELINE_RECORDS": "20000", "DECODE_STACKTRACE": "skip"]
        for (k, v) in sizes.merging(env, uniquingKeysWith: { $1 }) { environment[k] = v }
        p.environment = environment
        // One pipe for both streams, read to its end before the wait: the
        // output is a few kilobytes of progress and verdict lines.
        let pipe = Pipe()
        (p.standardOutput, p.standardError) = (pipe, pipe)
        try p.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    func vmlinux() throws -> String {
        try GeneratedCorpusTests.debugVmlinux(
            CLI.packageRoot.appendingPathComponent("corpora/generated/soft-lockup/scenario.json"))
    }

    func testUntimedRunChecksEveryComparisonAndTheBaseline() throws {
        let r = try run("run", ["--no-timing"], env: ["VMLINUX": try vmlinux()])
        XCTAssertEqual(r.status, 0, r.output)
        for id in ["scan.dmesg", "scan.storm-full", "scan.storm-lone", "scan.storm-stuck", "symbolize.addresses", "symbolize.one-address", "timeline"] {
            XCTAssertTrue(r.output.contains("==> \(id): both ran, outputs checked"), "\(id) did not run:\n\(r.output)")
        }
        XCTAssertTrue(r.output.contains("skipped symbolize.log (DECODE_STACKTRACE=skip)"), r.output)
        XCTAssertTrue(r.output.contains("baseline.json is valid"), r.output)
    }

    /// A peer that stops early is fast; the run must call it broken instead.
    func testAPeerWhoseOutputIsShortFailsTheRun() throws {
        let fakes = Self.scratch.appendingPathComponent("fake-bin")
        try FileManager.default.createDirectory(at: fakes, withIntermediateDirectories: true)
        for (tool, body) in ["rg": "echo 1", "sort": "head -c 100 \"$2\""] {
            let path = fakes.appendingPathComponent(tool).path
            try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let path = fakes.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

        let scan = try run("run", ["--no-timing", "--only", "scan"], env: ["PATH": path])
        XCTAssertEqual(scan.status, 2, scan.output)
        XCTAssertTrue(scan.output.contains("error: scan.dmesg: rg -c -F counted '1' lines, grep -c -F counted"), scan.output)

        let timeline = try run("run", ["--no-timing", "--only", "timeline"], env: ["PATH": path])
        XCTAssertEqual(timeline.status, 2, timeline.output)
        XCTAssertTrue(timeline.output.contains("error: timeline: sort -m wrote 100 bytes of the"), timeline.output)
    }

    /// The committed baseline is one the rule can read, and a ratio beyond its
    /// recorded spread is a REGRESSION that fails the command, while one
    /// inside it, or measured on other inputs, is not.
    func testARatioBeyondTheBaselinesNoiseIsARegression() throws {
        let committed = try run("baseline.py", ["validate", CLI.packageRoot.appendingPathComponent("Benchmarks/baseline.json").path])
        XCTAssertEqual(committed.status, 0, committed.output)

        let base: [String: Any] = [
            "schema": 1, "recorded": ["date": "test"],
            "comparisons": ["scan.dmesg": ["input": ["size_mib": 1024],
                                           "metrics": ["wall_ratio": ["min": 0.8, "median": 0.85, "max": 0.9]]]],
        ]
        func latest(median: Double, size: Int) -> [String: Any] {
            let figure = ["min": median - 0.02, "median": median, "max": median + 0.02]
            return ["comparisons": [["id": "scan.dmesg", "input": ["size_mib": size], "checked": ["wall_ratio"],
                                     "timing": ["wall_ratio": figure]]]]
        }
        func compare(_ results: [String: Any]) throws -> Run {
            let dir = Self.scratch
            try JSONSerialization.data(withJSONObject: base).write(to: dir.appendingPathComponent("base.json"))
            try JSONSerialization.data(withJSONObject: results).write(to: dir.appendingPathComponent("latest.json"))
            return try run("baseline.py", ["compare", dir.appendingPathComponent("latest.json").path,
                                           dir.appendingPathComponent("base.json").path])
        }
        // The baseline's spread is 0.1: up to 0.9 + 0.1 is noise.
        let noisy = try compare(latest(median: 0.99, size: 1024))
        XCTAssertEqual(noisy.status, 0, noisy.output)
        XCTAssertTrue(noisy.output.hasPrefix("ok "), noisy.output)

        let slower = try compare(latest(median: 1.02, size: 1024))
        XCTAssertEqual(slower.status, 1, slower.output)
        XCTAssertTrue(slower.output.hasPrefix("REGRESSION scan.dmesg wall_ratio: median 1.020"), slower.output)

        let elsewhere = try compare(latest(median: 5, size: 64))
        XCTAssertEqual(elsewhere.status, 0, elsewhere.output)
        XCTAssertTrue(elsewhere.output.contains("not compared") && elsewhere.output.contains("inputs differ"), elsewhere.output)
    }
}
