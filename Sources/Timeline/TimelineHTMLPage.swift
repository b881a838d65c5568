/// The `--html` page. A placeholder until the SVG view lands: the events as
/// an escaped list, so the option already gives a valid, safe page.
public enum TimelineHTMLPage {
    public static func render(_ doc: TimelineDocument) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>lockscan timeline</title></head><body><pre>"
            + esc(TimelineText.render(doc)) + "</pre></body></html>\n"
    }
}
