import Foundation

/// Runs the `lockscan` binary this build produced on one generated input,
/// given as a file (its path is the last argument), with a time limit: a
/// hang is a finding, not a stuck test run.
enum Lockscan {
    static let timeout: TimeInterval = 30
    static let launching = NSLock()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The test bundle sits in the build folder beside `lockscan`.
    static let binary: String = {
        if let dir = ProcessInfo.processInfo.environment["LOCKSCAN_BIN_DIR"] { return dir + "/lockscan" }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("lockscan").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("lockscan").path
    }()

    static let scratch: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-property-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    struct Result {
        var status: Int32
        var signaled: Bool
        var timedOut: Bool
        var stdout: Data
        var stderr: String
    }

    static func run(_ args: [String], input: Data) throws -> Result {
        let id = UUID().uuidString
        let inURL = scratch.appendingPathComponent("in-\(id).log")
        let outURL = scratch.appendingPathComponent("out-\(id)")
        let errURL = scratch.appendingPathComponent("err-\(id)")
        defer { for u in [inURL, outURL, errURL] { try? FileManager.default.removeItem(at: u) } }
        try input.write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args + [inURL.path]
        p.currentDirectoryURL = scratch
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "LOCKSCAN_PLUGIN_PATH")
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        // Foundation's Process.run crashed (memmove in the launch) when the
        // suite's tests launched at the same moment: launches take turns.
        try launching.withLock { try p.run() }
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            p.terminate()
            done.wait()
        }
        return Result(status: p.terminationStatus, signaled: !timedOut && p.terminationReason == .uncaughtSignal,
                      timedOut: timedOut, stdout: try Data(contentsOf: outURL),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// A small ELF with DWARF and inlines, built once per run with the system
    /// compiler (no binary is committed): enough for symbolize's lookups.
    static func fixtureELF() throws -> String {
        let out = scratch.appendingPathComponent("fixture.elf").path
        if FileManager.default.fileExists(atPath: out) { return out }
        let src = scratch.appendingPathComponent("fixture.c")
        try Data("""
            static inline __attribute__((always_inline)) int inner(int x) { return x * 3 + __builtin_popcount(x); }
            __attribute__((noinline)) int outer(int x) { int s = 0; for (int i = 0; i < x; i++) s += inner(i); return s; }
            int (*volatile keep)(int) = outer;
            int main(int argc, char **argv) { (void)argv; return keep(argc); }

            """.utf8).write(to: src)
        let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let cc else { throw FixtureError.noCompiler }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc)
        p.arguments = ["-g", "-O2", "-no-pie", "-o", out, src.path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw FixtureError.compileFailed }
        return out
    }

    enum FixtureError: Error { case noCompiler, compileFailed }
}

/// The captures in corpora/ a mutation starts from (not their expected outputs).
enum Corpus {
    static func captures() -> [String] {
        let root = Lockscan.packageRoot.appendingPathComponent("corpora")
        guard let walk = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        for case let rel as String in walk {
            let name = (rel as NSString).lastPathComponent
            guard name.hasSuffix(".log") || name.hasSuffix(".txt") || name.hasSuffix(".json"),
                  !name.hasSuffix(".expected.json"), name != "scenario.json", !name.hasPrefix("README") else { continue }
            let path = root.appendingPathComponent(rel).path
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size <= 256 * 1024 {
                out.append(path)
            }
        }
        return out.sorted()
    }

    static func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
}
