import CFuzzDriver
import Foundation
import LockscanKit

/// The readers under test open files, as lockscan does with what a user
/// gives it; libFuzzer hands over bytes. Each input is written to a file in
/// one scratch folder per process (removed by the OS's tmp cleaning, not
/// here: a crash must leave the file for a look).
public enum FuzzFile {
    public static let folder: String = {
        var template = Array((NSTemporaryDirectory() + "/lockscan-fuzz-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("fuzz harness: no scratch folder in \(NSTemporaryDirectory())") }
        return String(cString: made)
    }()

    /// Writes `bytes` to `folder/name` (replacing it) and returns the path.
    public static func write(_ bytes: UnsafeBufferPointer<UInt8>, name: String = "input") -> String {
        let path = folder + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("fuzz harness: cannot write \(path): errno \(errno)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("fuzz harness: short write to \(path): errno \(errno)") }
            done += n
        }
        return path
    }
}

/// lockscan promises valid JSON in every case, partial failure included:
/// JSON that does not parse is a finding, as a trap is.
public enum FuzzJSON {
    public static func requireValid(_ text: String, _ what: String) {
        requireValid(Data(text.utf8), what)
    }

    public static func requireValid(_ data: Data, _ what: String) {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            fatalError("fuzz finding: \(what) is not valid JSON (\(error)): \(String(decoding: data.prefix(400), as: UTF8.self))")
        }
    }
}

/// The lines of a fuzz input without the reader: for harnesses that test one
/// parser, each line (no line end) with its 1-based number and byte offset.
public enum FuzzLines {
    public static func forEach(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (_ line: [UInt8], _ number: Int, _ offset: Int) -> Void) {
        var start = 0, number = 1
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            if end == bytes.count, start == end, start > 0 { break }
            body(Array(bytes[start..<end]), number, start)
            number += 1
            start = end + 1
        }
    }

    /// The records a `log`-format input gives, in order.
    public static func records(_ bytes: UnsafeBufferPointer<UInt8>, format: InputFormat = .log) -> [Record] {
        var out: [Record] = []
        forEach(bytes) { line, number, offset in
            _ = LineRecords.parse(line, format: format, line: number, offset: offset, input: 0) { out.append($0) }
        }
        return out
    }
}

/// The C entry point every harness defines, as Swift sees its arguments.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size > 0 ? size : 0)
}

/// Hands control to libFuzzer with the process's arguments (-max_len,
/// -runs, corpus folders, a crash file to replay …) and exits with its status.
public enum FuzzDriver {
    /// Before libFuzzer starts, and only when scripts/fuzz asks through the
    /// environment, writes what the analyzers `examples` know of their input:
    /// `LOCKSCAN_FUZZ_EXAMPLE_SEEDS=DIR`, their examples as seeds (log text
    /// in each analyzer's wording: WinDbg sessions, qemu command lines, that
    /// corpora/ may lack); `LOCKSCAN_FUZZ_DICT=FILE`, their triggers and
    /// report headers, and `words`, as a libFuzzer dictionary (read after
    /// this, by -dict).
    public static func run(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
                           examples: [AnalyzerDescriptor] = [], words: [String] = []) -> Never {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["LOCKSCAN_FUZZ_EXAMPLE_SEEDS"], !dir.isEmpty {
            for d in examples {
                for (k, e) in d.examples.enumerated() {
                    try? Data(e.text.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("example-\(d.id)-\(k)"))
                }
            }
        }
        if let file = env["LOCKSCAN_FUZZ_DICT"], !file.isEmpty {
            let all = Set(words + examples.flatMap { $0.triggers + $0.reportHeaders }).sorted()
            // libFuzzer refuses an empty file: the comment keeps it valid.
            let text = "# lockscan fuzz dictionary\n" + all.map(dictionaryEntry).joined()
            try? Data(text.utf8).write(to: URL(fileURLWithPath: file))
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }

    /// One line of a libFuzzer dictionary: the bytes in quotes, `\\`, `\"`
    /// and anything not printable ASCII as `\xNN`.
    static func dictionaryEntry(_ word: String) -> String {
        var out = "\""
        for b in word.utf8 {
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): out += "\\" + String(UnicodeScalar(b))
            case 0x20...0x7E: out += String(UnicodeScalar(b))
            default: out += String(format: "\\x%02X", b)
            }
        }
        return out + "\"\n"
    }
}
