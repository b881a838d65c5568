import Foundation
import LockscanKit
@testable import Timeline
import XCTest

/// The page in a real browser: Debian's chromium, headless, loads the
/// rendered realistic document from a file. The screenshot must show a
/// drawing (not a blank or error page) in the severity colours, and the DOM
/// after the page's script ran must hold one lane per source with its id.
final class TimelineHTMLTests: XCTestCase {
    static let size = (width: 1400, height: 900)

    func browserAndPage(_ doc: TimelineDocument = TimelineHTMLFixtures.realistic()) throws -> (HeadlessChromium, URL, TimelineDocument) {
        guard let chromium = HeadlessChromium.find() else {
            throw XCTSkip("chromium is not installed; scripts/install-deps installs Debian's chromium package, which this test needs")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("postmortem.html")
        try TimelineHTML.render(doc).write(to: page, atomically: true, encoding: .utf8)
        return (chromium, page, doc)
    }

    func testScreenshotShowsTheDrawingInSeverityColours() throws {
        let (chromium, page, _) = try browserAndPage()
        let png = page.deletingLastPathComponent().appendingPathComponent("shot.png")
        let started = Date()
        try chromium.screenshot(of: page, to: png, width: Self.size.width, height: Self.size.height)
        print("chromium screenshot took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let colours = Severity.allCases.map(SeverityStyle.colour)
        let stats = try PNGStatistics.measure(png, near: colours)
        XCTAssertEqual(stats.width, Self.size.width)
        XCTAssertEqual(stats.height, Self.size.height)
        XCTAssertGreaterThan(stats.nonBackgroundShare, 0.15, "most of the window should be lanes, marks and text")
        XCTAssertGreaterThan(stats.distinctColours, 200, "lane shading, marks, bands, anti-aliased text (a page with one word has ~40)")
        for colour in colours { XCTAssertGreaterThan(stats.near[colour] ?? 0, 50, "marks drawn in \(colour)") }
    }

    func testDOMHasOneLanePerSourceAndTheScriptOpensALinkedEvent() throws {
        let (chromium, page, doc) = try browserAndPage()
        let target = try XCTUnwrap(doc.events.firstIndex { $0.event.title == "clocksource tsc unstable" })
        var linked = URLComponents(url: page, resolvingAgainstBaseURL: false)!
        linked.fragment = "ev-\(target)"
        let (dom, console) = try chromium.dumpDOM(of: linked.url!)
        XCTAssertEqual(console, [], "no script error and no blocked fetch")
        let lanes = TimelineHTMLRenderTests.laneElements(dom)
        XCTAssertEqual(lanes.count, doc.sources.count, "one lane element per source")
        for (lane, source) in zip(lanes, doc.sources) {
            XCTAssert(lane.contains("data-source=\"\(source.id)\""), "lane of \(source.id)")
            XCTAssert(lane.contains(">\(source.id)<"), "\(source.id) visible in its lane")
        }
        // Following a mark's link opened that event's details: the script ran.
        let row = try XCTUnwrap(dom.range(of: "<tr id=\"ev-\(target)\""))
        let entry = dom[row.lowerBound...].components(separatedBy: "</tr>")[0]
        XCTAssert(entry.contains("<details open=\"\">"), "details of the linked event are open")
        XCTAssertEqual(TimelineHTMLRenderTests.count("<details open", in: dom), 1, "and only those")
    }

    /// The browser's own parse of a page full of hostile log text: the only
    /// script element is the page's, no image element was smuggled in, and
    /// nothing ran or tried to load.
    func testHostileTextStaysTextInTheBrowser() throws {
        let (chromium, page, _) = try browserAndPage(TimelineHTMLEscapingTests.hostileDocument())
        let (dom, console) = try chromium.dumpDOM(of: page)
        XCTAssertEqual(console, [])
        XCTAssertEqual(TimelineHTMLRenderTests.count("<script", in: dom.lowercased()), 1)
        XCTAssertFalse(dom.lowercased().contains("<img"))
        XCTAssert(dom.contains("title:&lt;script&gt;alert(1)&lt;/script&gt;"), "the payload is shown as text")
    }
}
