/// One physical line of an input as the records analyzers see: its prefix
/// (timestamps, caller ids, levels, hosts, ticket artifacts) parsed off, a
/// line that is several messages pasted onto one split into them, and the
/// framing of the input's format (journal JSON, QMP JSON, kmsg) undone.
///
/// Every command reads lines this way, so a prefix or a pasted log is
/// understood the same in `scan`, `timeline` and `symbolize`.
public enum LineRecords {
    /// Why a QMP line that no analyzer asked for would be refused, as
    /// `parse` words it, or nil (`QMPEventLine.problem`).
    public static func qmpProblem(_ bytes: [UInt8]) -> String? {
        QMPEventLine.problem(bytes).map(qmpRefusal)
    }

    static func qmpRefusal(_ e: QMPLineError) -> String { e.message + "; line skipped" }

    /// The records of one line (without its line end), in order; a line its
    /// format cannot hold (a broken QMP object) gives the reason instead, and
    /// a prefix number refused (`LinePrefix.problem`) is returned beside the
    /// records.
    /// A kmsg dictionary continuation (` KEY=val`) gives nothing.
    public static func parse(_ bytes: [UInt8], format: InputFormat, line: Int, offset: Int, input: Int,
                             _ record: (Record) -> Void) -> String? {
        parse(LogicalLine(bytes: bytes, line: line, lastLine: line, offset: offset, span: bytes.count, exact: true), format: format, input: input, record)
    }

    /// The same for a line recovered from pasted text (`PastedLines`). When
    /// its bytes are not the input's (decoded, joined), every record of it
    /// points at the whole span of input it came from.
    public static func parse(_ logical: LogicalLine, format: InputFormat, input: Int, _ record: (Record) -> Void) -> String? {
        let bytes = logical.bytes, line = logical.line, offset = logical.offset
        switch format {
        case .journalJSON:
            let r = JournalJSON.record(bytes, line: line, offset: offset, input: input)
            if let rec = r.record { record(rec) }
            return r.problem
        case .qmp:
            switch QMPEventLine.record(bytes, line: line, offset: offset, input: input) {
            case let .success(r): if let r { record(r) }
            case let .failure(e): return qmpRefusal(e)
            }
            return nil
        case .kmsg:
            if bytes.first == 0x20 { return nil }
        case .log, .raw:
            break
        }
        let pieces = CollapsedLineSplitter.pieces(bytes, splitting: format != .raw)
        var problem: String?
        for (k, piece) in pieces.enumerated() {
            // A piece runs to where the next starts (its trailing spaces
            // included), the last to the end of the line.
            var start = offset + piece.offset
            var count = (k + 1 < pieces.count ? pieces[k + 1].offset : bytes.count) - piece.offset
            if !logical.exact {
                start = offset
                count = logical.span
            }
            // Bytes that are not UTF-8 were reported by the reader with their
            // line; analyzers see them as U+FFFD.
            if format == .raw {
                record(Record(inputIndex: input, line: line, lastLine: logical.lastLine, byteOffset: start, byteCount: count,
                              text: String(decoding: piece.bytes, as: UTF8.self)))
            } else {
                let prefix = LinePrefix.parse(piece.bytes)
                problem = problem ?? prefix.problem
                record(Record(inputIndex: input, line: line, lastLine: logical.lastLine, byteOffset: start, byteCount: count,
                              clock: prefix.clock, callerID: prefix.callerID, callerCPU: prefix.callerCPU,
                              level: prefix.level, host: prefix.host, thread: prefix.thread,
                              text: String(decoding: piece.bytes[prefix.messageStart...], as: UTF8.self)))
            }
        }
        return problem
    }
}
