import Foundation
import XCTest

/// Runs the real `lockscan` binary the build produced, from the package root.
enum CLI {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The directory holding the test bundle also holds `lockscan` and the plugin `.so`.
    static let binDir: URL = {
        if let dir = ProcessInfo.processInfo.environment["LOCKSCAN_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("lockscan").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static var lockscan: String { binDir.appendingPathComponent("lockscan").path }
    static var examplePlugin: String { binDir.appendingPathComponent("libExampleAnalyzer.so").path }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// stdout as written, for byte-for-byte comparisons.
        var stdoutData = Data()
        /// Killed by a signal (a trap is SIGILL): `status` is then the signal's number.
        var signaled = false
    }

    static func run(_ args: [String], stdin: Data? = nil, env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: lockscan)
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "LOCKSCAN_PLUGIN_PATH")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        // Output goes to files, not pipes: nothing to drain concurrently, no deadlock on large output.
        let dir = FileManager.default.temporaryDirectory
        let outURL = dir.appendingPathComponent("lockscan-out-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent("lockscan-err-\(UUID().uuidString)")
        let inURL = dir.appendingPathComponent("lockscan-in-\(UUID().uuidString)")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        try (stdin ?? Data()).write(to: inURL)
        defer { for u in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: u) } }
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        p.standardInput = try FileHandle(forReadingFrom: inURL)
        try p.run()
        p.waitUntilExit()
        let out = try Data(contentsOf: outURL)
        return Result(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), stdoutData: out,
                      signaled: p.terminationReason == .uncaughtSignal)
    }

    /// What another program (nm, readelf, python3) prints on standard output.
    static func output(of tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/env")
        p.arguments = tool.hasPrefix("/") ? args : [tool] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ s: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    static func events(_ s: String) throws -> [[String: Any]] {
        try XCTUnwrap(json(s)["events"] as? [[String: Any]])
    }

    static let tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-e2e-\(ProcessInfo.processInfo.processIdentifier)")

    /// Removes what `tempFile` wrote; test classes call it from `tearDown`.
    static func removeTempFiles() {
        try? FileManager.default.removeItem(at: tempDir)
    }

    static func tempFile(_ name: String, _ data: Data) throws -> String {
        let dir = tempDir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// Builds C source with the system compiler (the Swift toolchain ships clang; scripts/test installs gcc).
    static func compileC(_ name: String, _ source: String, flags: [String], output: String) throws -> String {
        let c = try tempFile(name + ".c", Data(source.utf8))
        let out = tempDir.appendingPathComponent(output).path
        let compiler = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try XCTUnwrap(compiler, "no C compiler: scripts/test installs gcc"))
        p.arguments = flags + ["-o", out, c]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return out
    }
}
