import LockscanKit
@testable import Timeline
import XCTest

/// Log text is attacker-controlled (a guest writes its own console), so every
/// text field of the document is fed hostile markup and the page is checked
/// for it arriving only in escaped form.
final class TimelineHTMLEscapingTests: XCTestCase {
    static func hostile(_ field: String) -> String {
        "\(field):<script>alert(1)</script> \"><img src=x onerror=alert(1)> it's &amp; a & b </script>"
    }

    static func escaped(_ field: String) -> String {
        "\(field):&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt; it&#39;s &amp;amp; a &amp; b &lt;/script&gt;"
    }

    static let fields = ["title", "kind", "analyzer", "file", "evidence", "hint", "reference", "comm", "kernel", "sourceID",
                         "sourceFile", "clock", "method", "segmentEvidence", "summary", "diagnostic", "unplacedTitle"]

    static func hostileDocument() -> TimelineDocument {
        let h = hostile
        var event = Event(analyzer: h("analyzer"), kind: h("kind"), title: h("title"), severity: .critical,
                          source: SourceLocation(file: h("file"), line: 3, endLine: 4, byteOffset: 0), cpu: 0, pid: 7, comm: h("comm"),
                          kernel: h("kernel"), evidence: [h("evidence")], hints: [Hint(h("hint"), reference: h("reference"))])
        var unplaced = event
        unplaced.title = h("unplacedTitle")
        let id = h("sourceID")
        event.title = h("title")
        let source = TimelineSource(id: id, role: .guest, file: h("sourceFile"), clock: h("clock"), segments: [
            ClockSegment(to: 100, offset: 1000, offsetEarliest: 999, offsetLatest: 1001, method: h("method"), evidence: [h("segmentEvidence")]),
            ClockSegment(from: 100, offset: 1010, offsetEarliest: 1009, offsetLatest: 1011, method: "pause", evidence: []),
        ])
        return TimelineDocument(
            sources: [source],
            events: [TimelineEvent(event: event, sourceID: id, time: EventTime(utc: 1050, earliest: 1049, latest: 1051), cluster: 0),
                     TimelineEvent(event: unplaced, sourceID: id, time: nil)],
            clusters: [TimelineCluster(events: [0], earliest: 1049, latest: 1051, summary: h("summary"))],
            diagnostics: [h("diagnostic")])
    }

    func testHostileTextArrivesEscapedInEveryField() {
        let page = TimelineHTML.render(Self.hostileDocument())
        for field in Self.fields {
            XCTAssert(page.contains(Self.escaped(field)), "\(field) appears escaped")
            XCTAssertFalse(page.contains(Self.hostile(field)), "\(field) never appears raw")
        }
        let lower = page.lowercased()
        XCTAssertFalse(lower.contains("<script>alert"))
        XCTAssertFalse(lower.contains("<img"))
        XCTAssertFalse(page.contains("it's"))
        XCTAssertFalse(page.contains(" a & b "))
        XCTAssertEqual(lower.components(separatedBy: "<script").count - 1, 1, "only the page's own script")
        XCTAssertEqual(lower.components(separatedBy: "</script").count - 1, 1)
    }

    /// Every real tag on the page is the renderer's own: no tag contains the
    /// payload's handler or image, and no attribute value was broken out of.
    func testNoTagCarriesThePayload() {
        let page = TimelineHTML.render(Self.hostileDocument())
        for tag in page.matches(of: /<[^>]*>/) {
            let t = tag.0.lowercased()
            XCTAssertEqual((t.components(separatedBy: "\"").count - 1) % 2, 0, "balanced quotes in \(t)")
            // What is left outside quoted values is the tag name and attribute names.
            let names = t.replacing(/"[^"]*"/, with: "\"\"")
            XCTAssertFalse(names.contains("onerror") || names.contains("alert") || names.hasPrefix("<img"), "tag \(t)")
        }
    }

    func testEscapeFunction() {
        XCTAssertEqual(HTMLEscape.string("plain text"), "plain text")
        XCTAssertEqual(HTMLEscape.string("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        XCTAssertEqual(HTMLEscape.string("nul\0byte"), "nul\u{FFFD}byte")
        XCTAssertEqual(HTMLEscape.string("µs – ünïcode"), "µs – ünïcode")
    }
}
