/// The lines that start a report, gathered from the descriptors of every
/// loaded analyzer (`AnalyzerDescriptor.reportHeaders`).
///
/// Each analyzer owns its wordings. What the rest of lockscan needs is only
/// whether *some* analyzer's report starts on a line: a stack being collected
/// ends there, a report waiting for its dumps is complete, backtraces after
/// it belong to it. The engine builds one value from its descriptors and
/// marks every record it delivers (`Record.startsReport`), so a plugin's
/// header cuts a built-in's stack exactly as a built-in's header does, and
/// adding an analyzer never means editing the core.
///
/// A value built at engine construction rather than a process-wide registry:
/// two engines (a test running one analyzer, `scan` running all) never see
/// each other's headers.
public struct ReportHeaders: Sendable {
    /// Every declared header once, in descriptor order.
    public let all: [String]
    private let search: TriggerSearch

    public init(_ descriptors: [AnalyzerDescriptor]) {
        var seen = Set<String>()
        all = descriptors.flatMap(\.reportHeaders).filter { !$0.isEmpty && seen.insert($0).inserted }
        search = TriggerSearch(all.map { Array($0.utf8) })
    }

    /// True when the message holds one of the headers.
    public func matches(_ text: String) -> Bool {
        !all.isEmpty && search.matches(text)
    }
}
