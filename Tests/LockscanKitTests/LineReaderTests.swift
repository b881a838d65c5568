import Foundation
import LockscanKit
import XCTest

/// The input layer is the only reader of user input: every byte and every
/// line number the commands print comes through it.
final class LineReaderTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("linereader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    struct Read {
        var bytes: [UInt8] = []
        var analysed: [(line: Int, text: [UInt8])] = []
        var reader: LineReader!
    }

    /// Everything the reader hands out, and each analysable line with its number.
    func read(_ path: String, limits: InputLimits = InputLimits()) throws -> Read {
        let reader = try LineReader.open(.path(path), limits: limits).get()
        var out = Read()
        reader.read { chunk in
            out.bytes += chunk.bytes
            switch chunk.kind {
            case .lines:
                var line = chunk.firstLine
                for piece in chunk.bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(chunk.bytes.last == 0x0A ? 1 : 0) {
                    out.analysed.append((line, Array(piece)))
                    line += 1
                }
            case .overlongLine:
                out.analysed.append((chunk.firstLine, Array(chunk.bytes)))
            case .overlongRest:
                break
            }
        }
        out.reader = reader
        return out
    }

    func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(tool) \(args)")
    }

    func testLineNumbersAgreeWithGrepAfterManyShortLines() throws {
        // 100,000 one-byte lines, then the line to find: more than 255
        // newlines fall in every 2,040-byte block of the count.
        let text = String(repeating: "x\n", count: 100_000) + "needle\n" + String(repeating: "\n", count: 300) + "needle2\n"
        let path = try write("short.log", Array(text.utf8))
        for chunk in [1 << 20, 4096, 7] {
            let r = try read(path, limits: InputLimits(chunkBytes: chunk))
            XCTAssertEqual(r.analysed.first { $0.text == Array("needle".utf8) }?.line, 100_001, "chunk \(chunk)")
            XCTAssertEqual(r.analysed.first { $0.text == Array("needle2".utf8) }?.line, 100_302, "chunk \(chunk)")
            XCTAssertEqual(r.reader.lineCount, 100_302)
        }
    }

    func testCompressedInputsGiveTheSameBytesAndLines() throws {
        var text = ""
        for i in 0..<20_000 { text += "[ \(i).000000] line \(i) of the log\n" }
        let plain = try write("log", Array(text.utf8))
        try run("gzip", ["-k", plain])
        try run("xz", ["-k", plain])
        try run("zstd", ["-q", "-k", plain])
        let expected = try read(plain)
        for ext in ["gz", "xz", "zst"] {
            // The name does not matter: the magic bytes do.
            let renamed = dir.appendingPathComponent("renamed-\(ext).txt").path
            try FileManager.default.moveItem(atPath: plain + "." + ext, toPath: renamed)
            for chunk in [1 << 20, 333] {
                let r = try read(renamed, limits: InputLimits(chunkBytes: chunk))
                XCTAssertEqual(r.bytes, expected.bytes, ext)
                XCTAssertEqual(r.analysed.count, expected.analysed.count, ext)
                XCTAssertEqual(r.analysed.last?.line, 20_000, ext)
                XCTAssertEqual(r.reader.diagnostics, [], ext)
                XCTAssertEqual(r.reader.compression?.rawValue, ext == "zst" ? "zstd" : ext == "gz" ? "gzip" : "xz")
            }
        }
    }

    func testConcatenatedGzipMembersAreOneInput() throws {
        let a = try write("a", Array("first\n".utf8))
        let b = try write("b", Array("second\n".utf8))
        try run("gzip", [a, b])
        let joined = try Data(contentsOf: URL(fileURLWithPath: a + ".gz")) + Data(contentsOf: URL(fileURLWithPath: b + ".gz"))
        let path = try write("joined", Array(joined))
        let r = try read(path)
        XCTAssertEqual(String(decoding: r.bytes, as: UTF8.self), "first\nsecond\n")
        XCTAssertEqual(r.reader.diagnostics, [])
    }

    func testTruncatedCompressedInputIsADiagnosticAndKeepsWhatWasDecoded() throws {
        var text = ""
        for i in 0..<5000 { text += "line \(i) \(i * 7919 % 1000)\n" }
        let plain = try write("cut", Array(text.utf8))
        for (tool, ext) in [("gzip", "gz"), ("xz", "xz"), ("zstd", "zst")] {
            try run(tool, tool == "zstd" ? ["-q", "-k", plain] : ["-k", plain])
            let whole = try Data(contentsOf: URL(fileURLWithPath: plain + "." + ext))
            let path = try write("cut-\(ext)", Array(whole.prefix(whole.count / 2)))
            let r = try read(path)
            XCTAssertEqual(r.reader.diagnostics.count, 1, ext)
            XCTAssertTrue(r.reader.diagnostics.first?.message.contains("truncated") == true, "\(r.reader.diagnostics)")
            XCTAssertTrue(text.utf8.starts(with: r.bytes), ext)
            try FileManager.default.removeItem(atPath: plain + "." + ext)
        }
    }

    func testInvalidUTF8IsOneDiagnosticWithTheFirstLineAndACount() throws {
        var bytes = Array("ok\nok\n".utf8)
        bytes += [0x63, 0x61, 0x66, 0xE9, 0x0A]           // Latin-1 "café", line 3
        bytes += Array("fine ü\n".utf8)                   // valid UTF-8, line 4
        bytes += [0xED, 0xA0, 0x80, 0x0A]                 // a surrogate, line 5
        bytes += [0xC0, 0xAF, 0x0A]                       // an overlong "/", line 6
        let path = try write("latin1", bytes)
        let r = try read(path, limits: InputLimits(chunkBytes: 3))
        XCTAssertEqual(r.bytes, bytes, "no byte changed")
        XCTAssertEqual(r.reader.invalidUTF8Lines, 3)
        XCTAssertEqual(r.reader.diagnostics.map(\.description), ["\(path):3: invalid UTF-8 (and on 2 more lines); the bytes were kept as they are"])
    }

    func testOverlongLineIsCutForAnalysisButPassedThroughWhole() throws {
        let long = [UInt8](repeating: 0x41, count: 10_000)
        let bytes = Array("first\n".utf8) + long + [0x0A] + Array("after\n".utf8)
        let path = try write("long", bytes)
        let r = try read(path, limits: InputLimits(maxLineBytes: 1000, chunkBytes: 512))
        XCTAssertEqual(r.bytes, bytes)
        XCTAssertEqual(r.analysed.map(\.line), [1, 2, 3])
        XCTAssertEqual(r.analysed[1].text.count, 1000)
        XCTAssertEqual(r.analysed[2].text, Array("after".utf8))
        XCTAssertEqual(r.reader.diagnostics.map(\.line), [2])
        XCTAssertTrue(r.reader.diagnostics[0].message.contains("longer than"))
    }

    func testDeviceThatNeverEndsStopsWithADiagnostic() throws {
        let r = try read("/dev/zero", limits: InputLimits(maxDeviceBytes: 4 << 20))
        XCTAssertEqual(r.bytes.count, 4 << 20)
        XCTAssertTrue(r.reader.diagnostics.contains { $0.message.contains("did not end") }, "\(r.reader.diagnostics)")
    }

    func testFIFOWithoutWriterDoesNotBlock() throws {
        let path = dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let r = try read(path)
        XCTAssertEqual(r.bytes, [])
    }

    func testEmptyFileAndMissingFile() throws {
        let r = try read(try write("empty", []))
        XCTAssertEqual(r.bytes, [])
        XCTAssertEqual(r.reader.lineCount, 0)
        guard case let .failure(d) = LineReader.open(.path(dir.appendingPathComponent("nope").path)) else {
            return XCTFail("a missing file must not open")
        }
        XCTAssertTrue(d.message.contains("No such file"))
    }
}

/// Every record says exactly which bytes of the input it came from.
final class RecordByteRangeTests: XCTestCase {
    final class Collect: Analyzer, @unchecked Sendable {
        var records: [Record] = []
        func consume(_ record: Record, emit: (Event) -> Void) -> Interest { records.append(record); return .idle }
        func finish(emit: (Event) -> Void) {}
    }

    func testRecordRangesCoverExactlyTheirBytes() throws {
        var input = Data("[    1.000000] first line\r\n".utf8)
        input += Data("[    2.000000] one message [    2.000001] pasted onto [    2.000002] one line\n".utf8)
        input += Data([0, 0]) + Data("[    3.000000] after console padding\n".utf8)
        input += Data("[    4.000000] no newline at the end".utf8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ranges-\(UUID().uuidString).log")
        try input.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let collect = Collect()
        let d = AnalyzerDescriptor(id: "all", title: "all", explanation: "", eventKinds: ["x"], triggers: [],
                                   examples: [], make: { collect })
        _ = ScanEngine(analyzers: [d]).scan(.path(url.path)) { _ in }
        let bytes = [UInt8](input)
        let slices = collect.records.map { String(decoding: bytes[$0.byteOffset..<($0.byteOffset + $0.byteCount)], as: UTF8.self) }
        XCTAssertEqual(slices, [
            "[    1.000000] first line",
            "[    2.000000] one message ", "[    2.000001] pasted onto ", "[    2.000002] one line",
            "[    3.000000] after console padding",
            "[    4.000000] no newline at the end",
        ])
        XCTAssertEqual(collect.records.map(\.line), [1, 2, 2, 2, 3, 4])
    }
}

extension LineReaderTests {
    /// A line over the limit is cut however it arrives: in a read of its
    /// own that outgrows the buffer, or whole within one read.
    func testOverlongLineInsideOneReadIsCutToo() throws {
        let long = [UInt8](repeating: 0x42, count: 1500)
        let bytes = Array("a\n".utf8) + long + [0x0A] + Array("b\n".utf8) + long
        let path = try write("long-in-chunk", bytes)
        for chunk in [64 << 10, 700, 1 << 20] {
            let r = try read(path, limits: InputLimits(maxLineBytes: 1000, chunkBytes: chunk))
            XCTAssertEqual(r.bytes, bytes, "chunk \(chunk)")
            XCTAssertEqual(r.analysed.map(\.line), [1, 2, 3, 4], "chunk \(chunk)")
            XCTAssertEqual(r.analysed.map(\.text.count), [1, 1000, 1, 1000], "chunk \(chunk)")
            XCTAssertEqual(r.reader.diagnostics.map(\.line), [2, 4], "chunk \(chunk)")
            XCTAssertEqual(r.reader.lineCount, 4)
        }
    }
}
