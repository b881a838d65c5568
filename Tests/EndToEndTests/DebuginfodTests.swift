import Foundation
import XCTest

/// Debug files by build-id from a real debuginfod server on loopback, through
/// libdw's own client. libdw reads DEBUGINFOD_URLS when it is loaded, so this
/// runs the lockscan binary with the variable set, as a user would.
final class DebuginfodTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func testStrippedKernelGetsItsDebugInfoFromDebuginfod() throws {
        let server = "/usr/bin/debuginfod"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: server), "debuginfod not installed (scripts/test installs it)")
        let full = try CLI.compileC("dbgd-kernel", SymbolizeCommandTests.source, flags: ["-g", "-O2", "-no-pie", "-Wl,--build-id"],
                                    output: "vmlinux-full")
        let served = CLI.tempDir.appendingPathComponent("served-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        let stripped = CLI.tempDir.appendingPathComponent("vmlinux-stripped").path
        for args in [["objcopy", "--only-keep-debug", full, served.appendingPathComponent("k.debug").path],
                     ["objcopy", "--strip-debug", full, stripped]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "\(args)")
        }
        let nm = try CLI.run(["addr2line", "-e", stripped, "-f", "-i", "0x0"])
        XCTAssertEqual(nm.status, 0, nm.stderr)

        let port = Int.random(in: 20000...40000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: server)
        p.arguments = ["-p", String(port), "-F", served.path, "-d", CLI.tempDir.appendingPathComponent("dbgd-\(port).sqlite").path, "-t", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let log = try CLI.tempFile("dbgd.log", Data("[ 0.000000] Linux version 6.1.0-77-e2e (t) #1\n[ 1.0]  work+0x20/0x60\n".utf8))
        // The server indexes its directory in the background: retry for a while,
        // each time with a fresh client cache (the client caches misses).
        var annotated = ""
        for attempt in 0..<40 {
            let env = ["DEBUGINFOD_URLS": "http://127.0.0.1:\(port)", "DEBUGINFOD_TIMEOUT": "5",
                       "DEBUGINFOD_CACHE_PATH": CLI.tempDir.appendingPathComponent("dbgd-cache-\(port)-\(attempt)").path]
            let r = try CLI.run(["symbolize", "--vmlinux", stripped, log], env: env)
            if r.stdout.contains("dbgd-kernel.c:") { annotated = r.stdout; break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertTrue(annotated.contains("work+0x20/0x60 «") && annotated.contains("dbgd-kernel.c:"),
                      "libdw did not fetch the debug file from debuginfod on port \(port)")
    }
}
