import Foundation
import XCTest

/// `symbolize` adds annotations and nothing else: whatever it cannot
/// annotate comes out byte for byte, it streams, and memory stays bounded.
final class SymbolizeStreamingTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func vmlinux() throws -> String {
        try CLI.compileC("e2e-kernel", SymbolizeCommandTests.source, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-e2e")
    }

    func testInputsWithNothingToAnnotateComeOutByteForByte() throws {
        let v = try vmlinux()
        var binary = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) })
        binary.append(contentsOf: [0, 0xFF, 0xFE, 0x0A, 0x0D])
        let cases: [(String, Data)] = [
            ("empty", Data()),
            ("binary", binary),
            ("latin1", Data([0x63, 0x61, 0x66, 0xE9, 0x0A, 0x5B, 0x20, 0x31, 0x5D, 0x20, 0xE9, 0x0A])),
            ("crlf", Data("[    1.000000] one\r\n[    2.000000] two\r\n".utf8)),
            ("no-final-newline", Data("[    1.000000] one\n[    2.000000] last".utf8)),
            ("blank-lines", Data("\n\n\n".utf8)),
        ]
        for (name, data) in cases {
            let path = try CLI.tempFile("pass-\(name).log", data)
            let r = try CLI.run(["symbolize", "--vmlinux", v, path])
            XCTAssertEqual(r.stdoutData, data, name)
            XCTAssertNotEqual(r.status, 1, name)
            let piped = try CLI.run(["symbolize", "--vmlinux", v], stdin: data)
            XCTAssertEqual(piped.stdoutData, data, "\(name) on standard input, without '-'")
        }
    }

    func testDeletingWhatWasAddedGivesTheInputBack() throws {
        let v = try vmlinux()
        let input = Data("""
            [    0.000000] Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP
            [   12.345678] Call Trace:
            [   12.345680]  work+0x20/0x60
            [   12.345681]  ? work+0x10/0x60\r
            [   12.345682] caf\u{E9} ends here
            """.utf8)
        let path = try CLI.tempFile("trace.log", input)
        let r = try CLI.run(["symbolize", "--vmlinux", v, path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("«"), r.stdout)
        XCTAssertEqual(Self.strip(r.stdoutData), input)
        // The same trace gzipped: decompressed, then annotated the same way.
        let gz = try CLI.tempFile("trace.log.gz", Data())
        try Self.shell("gzip -c '\(path)' > '\(gz)'")
        XCTAssertEqual(try CLI.run(["symbolize", "--vmlinux", v, gz]).stdoutData, r.stdoutData)
    }

    /// Drops inserted `«inlined …»` lines and appended ` «…»` texts.
    static func strip(_ data: Data) -> Data {
        var out = Data()
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let last = lines.removeLast()
        func clean(_ line: Data.SubSequence) -> Data? {
            let text = String(decoding: line, as: UTF8.self)
            if text.contains("«inlined ") { return nil }
            guard let open = line.lastRange(of: Data(" «".utf8)), let close = line.lastRange(of: Data("»".utf8)), close.lowerBound > open.lowerBound else {
                return Data(line)
            }
            return Data(line[..<open.lowerBound]) + Data(line[close.upperBound...])
        }
        for line in lines { if let c = clean(line) { out += c + [0x0A] } }
        if let c = clean(last) { out += c }
        return out
    }

    static func shell(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, command)
    }

    func testALineOnAPipeIsEchoedBeforeThePipeCloses() throws {
        let echoed = try Self.firstLine(of: ["symbolize", "--vmlinux", try vmlinux()], afterWriting: "[    1.000000] first line\n")
        XCTAssertEqual(echoed, "[    1.000000] first line\n")
    }

    /// `--addresses` answers as it reads, as llvm-symbolizer does: a script
    /// that writes one address and waits for its answer gets it.
    func testAnAddressOnAPipeIsAnsweredBeforeThePipeCloses() throws {
        let answer = try Self.firstLine(of: ["symbolize", "--vmlinux", try vmlinux(), "--addresses", "--output-style", "json"],
                                        afterWriting: "work+0x10\n")
        let symbols = try CLI.json(answer)["Symbol"] as? [[String: Any]]
        XCTAssertEqual(symbols?.last?["FunctionName"] as? String, "work", answer)
    }

    /// The first line lockscan prints after `line` is written to its
    /// standard input, a pipe left open. If nothing comes, the process is
    /// ended after 30 s and the read sees end of file instead of hanging.
    static func firstLine(of args: [String], afterWriting line: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.lockscan)
        p.arguments = args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            try? input.fileHandleForWriting.close()
            p.waitUntilExit()
        }
        input.fileHandleForWriting.write(Data(line.utf8))
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        var printed = Data()
        while !printed.contains(0x0A) {
            let d = output.fileHandleForReading.availableData
            if d.isEmpty { break }
            printed += d
        }
        watchdog.cancel()
        return String(decoding: printed, as: UTF8.self)
    }

    /// A long address list streams: 400,000 addresses peak within 64 MiB
    /// of 4,000 (all were held, with their answers, until the end: 1 M took
    /// 1.9 GB), and every answer is printed, in order.
    func testLongAddressListsStreamInBoundedMemory() throws {
        let v = try vmlinux()
        let one = "work+0x10\n0xffffffffffff0000\n"
        let small = try CLI.tempFile("addresses-small.txt", Data(String(repeating: one, count: 2_000).utf8))
        let big = try CLI.tempFile("addresses-big.txt", Data(String(repeating: one, count: 200_000).utf8))
        let smallPeak = try Self.peakKiB(["symbolize", "--vmlinux", v, "--addresses", small])
        let bigPeak = try Self.peakKiB(["symbolize", "--vmlinux", v, "--addresses", big])
        XCTAssertEqual(bigPeak.status, 0)
        XCTAssertEqual(bigPeak.bytes, smallPeak.bytes * 100, "every address answered")
        XCTAssertLessThan(bigPeak.peak - smallPeak.peak, 64 * 1024, "peak RSS \(bigPeak.peak) KiB vs \(smallPeak.peak) KiB")
    }

    /// A 256 MiB line is passed through without being held: peak memory
    /// stays within 128 MiB of a one-line input's.
    func testHugeSingleLineIsPassedThroughInBoundedMemory() throws {
        let v = try vmlinux()
        let small = try CLI.tempFile("one-line.log", Data("[    1.000000] short\n".utf8))
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-huge-\(getpid()).log").path
        _ = FileManager.default.createFile(atPath: big, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: big) }
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: big))
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<256 { fh.write(chunk) }
        fh.write(Data("\n".utf8))
        try fh.close()
        let smallPeak = try Self.peakKiB(["symbolize", "--vmlinux", v, small])
        let bigPeak = try Self.peakKiB(["symbolize", "--vmlinux", v, big])
        XCTAssertLessThan(bigPeak.peak - smallPeak.peak, 128 * 1024, "peak RSS \(bigPeak.peak) KiB vs \(smallPeak.peak) KiB")
        XCTAssertEqual(bigPeak.bytes, (256 << 20) + 1, "every byte written")
        XCTAssertEqual(bigPeak.status, 2, "the overlong line is a diagnostic")
    }

    /// Peak resident memory of one lockscan run (ru_maxrss of a fresh
    /// parent's only child), with the byte count of its output.
    static func peakKiB(_ args: [String]) throws -> (peak: Int, bytes: Int, status: Int32) {
        let script = """
            import resource, subprocess, sys
            p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            n = 0
            while True:
                b = p.stdout.read(1 << 20)
                if not b: break
                n += len(b)
            rc = p.wait()
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, n, rc)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script, CLI.lockscan] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let f = String(decoding: data, as: UTF8.self).split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (Int(f[0]) ?? 0, Int(f[1]) ?? 0, Int32(f[2]) ?? -1)
    }

    /// Offsets in a log are hostile numbers: past the function's end or
    /// near 2^64 they give "??" (address mode) or leave the line as it
    /// was (log mode), never a trap.
    func testAbsurdSymbolOffsetsAreUnknownNotACrash() throws {
        let v = try vmlinux()
        for off in ["0xffffffffffffffff", "0x7fffffffffffffff", "0x8000000000000000", "0x100000"] {
            let list = try CLI.tempFile("absurd-\(off).txt", Data("work+\(off)/0x60\n".utf8))
            let a = try CLI.run(["symbolize", "--vmlinux", v, "--addresses", list])
            XCTAssertEqual(a.status, 0, a.stderr)
            XCTAssertEqual(a.stdout, "??\n??:0\n", off)
            let line = Data("[   12.345680]  work+\(off)/0x60\n".utf8)
            let log = try CLI.tempFile("absurd-\(off).log", line)
            let l = try CLI.run(["symbolize", "--vmlinux", v, log])
            XCTAssertEqual(l.stdoutData, line, off)
            let scan = try CLI.run(["scan", "--json", "--vmlinux", v, log])
            XCTAssertLessThan(scan.status, 3, scan.stderr)
        }
    }
}
