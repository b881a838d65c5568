import FuzzSupport
import LockscanKit
import PluginHost

/// The input layer as every command uses it: `LineReader` over the bytes as a
/// file (gzip/xz/zstd recognised by their magic bytes), with chunk and line
/// limits small enough that chunk boundaries and overlong lines happen;
/// format sniffing; prefixes; pasted-text recovery; collapsed-line splitting;
/// records in each format.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    // Limits taken from the size, so the whole input stays the file (seeds
    // from corpora/ keep their meaning) and both still vary.
    let limits = InputLimits(maxLineBytes: 64 + (size % 13) * 97, chunkBytes: 64 + (size % 31) * 257)
    let path = FuzzFile.write(bytes)
    guard case let .success(reader) = LineReader.open(.path(path), limits: limits) else { return 0 }
    var format: InputFormat?
    var pasted = PastedLines(quotedPrintable: false)
    func records(_ logical: LogicalLine) {
        for f in [format ?? .log, .raw, .kmsg] {
            _ = LineRecords.parse(logical, format: f, input: 0) { _ in }
        }
    }
    func line(_ b: [UInt8], _ number: Int, _ offset: Int) {
        _ = LinePrefix.parse(b)
        _ = CollapsedLineSplitter.pieces(b)
        _ = QuotedPrintable.decode(b)
        pasted.add(b, line: number, offset: offset, emit: records)
        _ = LineRecords.parse(b, format: .qmp, line: number, offset: offset, input: 0) { _ in }
        _ = LineRecords.parse(b, format: .journalJSON, line: number, offset: offset, input: 0) { _ in }
    }
    reader.read { chunk in
        if format == nil {
            format = InputFormat.sniff(chunk.bytes)
            pasted = PastedLines(quotedPrintable: QuotedPrintable.detect(chunk.bytes))
        }
        switch chunk.kind {
        case .lines:
            var start = 0, number = chunk.firstLine
            while start < chunk.bytes.count {
                var end = start
                while end < chunk.bytes.count, chunk.bytes[end] != 0x0A { end += 1 }
                line(Array(chunk.bytes[start..<end]), number, chunk.byteOffset + start)
                number += 1
                start = end + 1
            }
        case .overlongLine:
            line(Array(chunk.bytes), chunk.firstLine, chunk.byteOffset)
        case .overlongRest:
            break
        }
    }
    pasted.finish(records)
    for d in reader.diagnostics where d.file != path {
        fatalError("fuzz finding: a diagnostic names \(d.file), not the input \(path)")
    }
    return 0
}

@main
enum FuzzInputMain {
    static func main() {
        FuzzDriver.run({ data, size in fuzzInput(data, size) },
                       examples: BuiltinAnalyzers.all)
    }
}
