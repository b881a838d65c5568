// The words drawn beside each mark, and how wide they will be. Apart from
// the lane packing (Lanes.swift) because the width is a guess about a font:
// the page without script is laid out with this estimate, and the page's
// script measures the real text and lays it out again.

/// What a mark is called on the drawing: the cluster it belongs to (so
/// related events read as one group in every lane) and its title, cut to
/// a length a lane can hold. The whole title is in the tooltip and the table.
enum EventLabel {
    static let maxCharacters = 40
    /// The label's font size in px, the same as the stylesheet's `.ev-label`.
    static let fontSize = 11.0

    static func text(_ te: TimelineEvent) -> String {
        let prefix = te.cluster.map { EventText.clusterName($0) + " · " } ?? ""
        let whole = prefix + te.event.title
        return whole.count > maxCharacters ? whole.prefix(maxCharacters - 1) + "…" : whole
    }

    /// Advance width in px of `text` in DejaVu Sans at `fontSize`, rounded up
    /// per character class (DejaVu's advances, in em: narrow letters 0.28–0.41,
    /// lower case and digits up to 0.64, capitals up to 0.79, W and M 0.99),
    /// so an estimate errs wide and two estimated labels never overlap in
    /// the browser. Other fonts are narrower or close.
    static func estimatedWidth(_ text: String) -> Double {
        var em = 0.0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "i", "j", "l", "I", "!", "|", "'", ".", ",", ":", ";", " ": em += 0.36
            case "f", "t", "r", "(", ")", "[", "]", "-", "/": em += 0.5
            case "W", "M", "m", "w", "@", "%": em += 1.0
            case "A"..."Z", "_", "#", "&": em += 0.8
            default: em += 0.66
            }
        }
        return (em * fontSize).rounded(.up)
    }
}
