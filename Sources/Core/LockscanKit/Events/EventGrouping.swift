/// `--group`: one entry per signature instead of one per printed report.
///
/// The signature is the input, kind, title, CPU and the top three frames of
/// the interrupted stack: the same CPU stuck in the same place. Different
/// CPUs stuck in the same function stay separate entries — that difference
/// is what a reader of the postmortem needs to see.
public enum EventGrouping {
    public static func group(_ events: [Event]) -> [Event] {
        var order: [String] = []
        var groups: [String: Event] = [:]
        for e in events {
            let key = signature(e)
            if var g = groups[key] {
                var occ = g.occurrences ?? Occurrences(count: 1, first: g.time, last: g.time, lines: [g.source.line])
                occ.count += 1
                occ.last = e.time
                if occ.lines.count < 1000 { occ.lines.append(e.source.line) }
                g.occurrences = occ
                groups[key] = g
            } else {
                var first = e
                first.occurrences = Occurrences(count: 1, first: e.time, last: e.time, lines: [e.source.line])
                groups[key] = first
                order.append(key)
            }
        }
        return order.compactMap { groups[$0] }
    }

    static func signature(_ e: Event) -> String {
        let top = e.stack.filter { $0.context != .nmi }.prefix(3).map { $0.function.map(FunctionName.base) ?? "?" }
        return [e.source.file, e.kind, e.title, e.cpu.map(String.init) ?? "-", top.joined(separator: ",")].joined(separator: "|")
    }
}
