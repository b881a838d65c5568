import Foundation
import XCTest

/// Every text output is coloured on a terminal and plain everywhere else:
/// NO_COLOR (no-color.org) turns it off, a pipe never gets escape codes,
/// and addr2line stays byte-for-byte GNU's (scripts read it) even on a
/// terminal. The terminal is a real pseudo-terminal from util-linux's
/// `script`.
final class TerminalColourTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    /// What lockscan printed on a pseudo-terminal.
    func onTerminal(_ args: [String], noColor: String? = nil) throws -> String {
        let script = "/usr/bin/script"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: script), "util-linux's script is not installed")
        let command = ([CLI.lockscan] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        p.arguments = ["-qec", command, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NO_COLOR")
        if let noColor { env["NO_COLOR"] = noColor }
        p.environment = env
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func testEveryTextOutputIsColouredOnATerminalOnly() throws {
        let log = CLI.packageRoot.appendingPathComponent("corpora/public/hard-lockup-lkml-20200710-coresched-uperf.log").path
        let elf = try CLI.compileC("colour-kernel", "__attribute__((noinline)) int work(int x) { return x * 3; }\nint main(int c, char **v) { (void)v; return work(c); }\n",
                                   flags: ["-g", "-O2", "-no-pie"], output: "colour-kernel.elf")
        let work = try SymbolizeCommandTests.address(of: "work", in: elf)
        let frames = try CLI.tempFile("colour-frames.log", Data("[    1.000000]  [<\(String(work + 2, radix: 16))>] work+0x2/0x10\n".utf8))
        let commands: [(String, [String])] = [
            ("scan", ["scan", log]),
            ("timeline", ["timeline", "--guest", log, "--anchor", "guest:186=2020-07-10T00:00:00Z"]),
            ("symbolize", ["symbolize", "--force", "--vmlinux", elf, frames]),
            ("analyzers", ["analyzers"]),
        ]
        for (name, args) in commands {
            XCTAssertTrue(try onTerminal(args).contains("\u{1B}["), "\(name): no colour on a terminal")
            XCTAssertFalse(try onTerminal(args, noColor: "1").contains("\u{1B}["), "\(name): colour despite NO_COLOR")
            XCTAssertTrue(try onTerminal(args, noColor: "").contains("\u{1B}["), "\(name): an empty NO_COLOR does not count")
            XCTAssertFalse(try CLI.run(args, env: ["NO_COLOR": ""]).stdout.contains("\u{1B}["), "\(name): colour into a pipe")
        }
        let a2l = try onTerminal(["addr2line", "--force", "-f", "-e", elf, String(work, radix: 16)])
        XCTAssertFalse(a2l.contains("\u{1B}["), "addr2line is GNU's output, also on a terminal: \(a2l)")
        XCTAssertTrue(a2l.contains("work"), a2l)
    }
}
