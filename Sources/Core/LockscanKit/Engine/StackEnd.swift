/// Lines with which the kernel closes a stack it printed, whoever's report it
/// is: `</TASK>` after the outermost frames of an x86 trace (5.15 on), and
/// the `---[ end trace …` / `---[ end Kernel panic …` frame of a WARN, an
/// oops or a panic. The printing machinery, not an analyzer's wording. In
/// follow mode a pause right after one closes the report at once: the
/// structure says it is complete, and only a dump of another CPU could
/// still join it, which would arrive within the settle pause.
enum StackEnd {
    static let search = TriggerSearch(["</TASK>", "---[ end trace", "---[ end Kernel panic"].map { Array($0.utf8) })

    static func matches(_ text: String) -> Bool { search.matches(text) }
}
