/// The symbolization stage after the analyzers: it turns one printed frame
/// into its source-level frames (inlined callees first, then the frame itself
/// with file:line). Passed in as a value so pipeline and renderer tests can
/// use a fixture instead of libdw and a vmlinux (swift-log's pattern).
public protocol FrameSymbolizer {
    /// nil when the frame cannot be resolved (unknown symbol, no debug file).
    func symbolize(_ frame: Frame) -> [Frame]?
}

extension Event {
    /// The event with every resolvable frame expanded by `symbolizer`.
    public func symbolized(by symbolizer: some FrameSymbolizer) -> Event {
        var e = self
        e.stack = stack.flatMap { symbolizer.symbolize($0) ?? [$0] }
        if var incident = e.incident {
            for i in incident.cpus.indices {
                incident.cpus[i].stack = incident.cpus[i].stack.flatMap { symbolizer.symbolize($0) ?? [$0] }
            }
            e.incident = incident
        }
        return e
    }
}
