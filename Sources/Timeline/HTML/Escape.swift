// Escaping of log text for the page. Alone in its file because it is what
// keeps a guest that writes markup to its own console from writing into the
// page: a security review can read this file and TimelineHTMLEscapingTests
// without reading the rest of the view.

/// Log text reaches the page in three places: element text, double-quoted
/// attribute values and SVG `<title>` elements (which the HTML parser reads
/// like any other element text). Escaping all five significant characters
/// makes one function safe in all three, so no call site has to choose and a
/// forgotten choice cannot open a hole. The page embeds no log text inside
/// `<script>`, so there is no script context to escape for.
enum HTMLEscape {
    static func string(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0 }) else {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // The HTML parser would replace it anyway; doing it here keeps the file valid text.
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
