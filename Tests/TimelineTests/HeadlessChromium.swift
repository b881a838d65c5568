import Foundation

/// Drives the Debian `chromium` package headless, for tests that need a real
/// browser to load a page: a screenshot, and the DOM after scripts ran. Each
/// run gets its own profile and config directories, so runs neither share
/// state nor touch the user's home, and a hung browser is killed by
/// `timeout` instead of hanging the suite.
struct HeadlessChromium {
    static let timeLimitSeconds = 45
    let executable: String

    /// nil when no chromium is installed (the caller skips, naming the fix).
    static func find() -> HeadlessChromium? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser"] {
            for dir in path.split(separator: ":") + ["/usr/bin"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return HeadlessChromium(executable: candidate) }
            }
        }
        return nil
    }

    func screenshot(of page: URL, to png: URL, width: Int, height: Int) throws {
        _ = try run(["--screenshot=\(png.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", page.absoluteString])
    }

    /// The serialized DOM once the page loaded and its scripts ran, and what
    /// the page wrote to the console (script errors, Content-Security-Policy
    /// violations such as a blocked fetch, `console.log`).
    func dumpDOM(of page: URL, width: Int = 1400, height: Int = 900) throws -> (dom: String, console: [String]) {
        let (dom, stderr) = try run(["--dump-dom", "--window-size=\(width),\(height)", "--enable-logging=stderr", "--v=0", page.absoluteString])
        return (dom, stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private func run(_ arguments: [String]) throws -> (stdout: String, stderr: String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=5", String(Self.timeLimitSeconds), executable,
                             "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-dev-shm-usage",
                             "--user-data-dir=\(scratch.appendingPathComponent("profile").path)"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = scratch.appendingPathComponent("config").path
        environment["XDG_CACHE_HOME"] = scratch.appendingPathComponent("cache").path
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let reason = process.terminationStatus == 124 ? "timed out after \(Self.timeLimitSeconds) s" : "exit \(process.terminationStatus)"
            throw Failure(description: "chromium \(arguments.first ?? "") \(reason): \(stderr.suffix(2000))")
        }
        return (stdout, stderr)
    }
}
