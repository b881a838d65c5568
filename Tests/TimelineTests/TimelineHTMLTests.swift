import Foundation
import LockscanKit
import PluginHost
@testable import Timeline
import XCTest

/// The page in a real browser: Debian's chromium, headless, loads the
/// rendered realistic document from a file. The screenshot must show a
/// drawing (not a blank or error page) in the severity colours, and the DOM
/// after the page's script ran must hold one lane per source with its id.
final class TimelineHTMLTests: XCTestCase {
    static let size = (width: 1400, height: 900)

    func browserAndPage(_ doc: TimelineDocument = TimelineHTMLFixtures.realistic(), zone: DisplayZone? = nil,
                        appending script: String? = nil) throws -> (HeadlessChromium, URL, TimelineDocument) {
        guard let chromium = HeadlessChromium.find() else {
            throw XCTSkip("chromium is not installed; scripts/install-deps installs Debian's chromium package, which this test needs")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("postmortem.html")
        var html = TimelineHTML.render(doc, zone: zone)
        if let script { html = html.replacingOccurrences(of: "</body>", with: "<script>\(script)</script></body>") }
        try html.write(to: page, atomically: true, encoding: .utf8)
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

    // MARK: a real multi-source timeline at two widths

    /// The Windows guest incident of issue 6 (WinDbg, its qemu domain log,
    /// libvirtd.log) with a real Ubuntu 16.04 domain log of another guest
    /// from corpora/public, a year later: nine events in four lanes, most of
    /// them within minutes and one at the far right end of the axis.
    static func realTimeline() -> TimelineDocument {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../corpora").standardized
        let incident = root.appendingPathComponent("incidents/windows-clock-watchdog")
        let inputs = [TimelineInput(role: .guest, path: incident.appendingPathComponent("windbg-analyze.txt").path),
                      TimelineInput(role: .qemu, path: incident.appendingPathComponent("vm105.log").path),
                      TimelineInput(role: .libvirt, path: incident.appendingPathComponent("libvirtd.log").path),
                      TimelineInput(role: .qemu, path: root.appendingPathComponent("public/qemu-domain-log-ubuntu1604-libvirt-1.3.1-kvm-spice-linux-guest.log").path)]
        return TimelineBuilder(inputs: inputs).build(analyzers: BuiltinAnalyzers.all).0
    }

    static let widths = [1400, 500]
    static let zoneColour = "#0f766e"

    /// Written into the page after its own script ran: every drawn label's
    /// box, the tick labels and the shown range; then wheel events over the
    /// incident's cluster (as a mouse would send them), and the same again.
    static let measure = #"""
    (function(){
      function labels(){return Array.prototype.slice.call(document.querySelectorAll('svg.timeline .ev-label')).filter(function(l){
        return l.getAttribute('visibility')!=='hidden'&&l.parentNode.style.display!=='none';}).map(function(l){
        var r=l.getBoundingClientRect();return {text:l.textContent,left:r.left,right:r.right,top:r.top,bottom:r.bottom,width:l.getComputedTextLength()};});}
      function texts(sel){return Array.prototype.slice.call(document.querySelectorAll(sel)).map(function(t){return t.textContent;});}
      function state(){var v=document.querySelector('.view-range');return {labels:labels(),ticks:texts('svg.timeline .tick'),localTicks:texts('svg.timeline .tick-local'),
        range:v?v.textContent:'',controls:!!(document.querySelector('.controls')&&!document.querySelector('.controls').hidden)};}
      var out={viewport:document.documentElement.clientWidth,before:state()};
      var svg=document.querySelector('svg.timeline'),band=document.querySelector('svg.timeline a.cluster rect');
      var b=(band||svg).getBoundingClientRect(),cx=(b.left+b.right)/2,cy=b.top+20;
      for(var i=0;i<12;i++)svg.dispatchEvent(new WheelEvent('wheel',{deltaY:-300,clientX:cx,clientY:cy,bubbles:true,cancelable:true}));
      out.after=state();
      var pre=document.createElement('pre');pre.id='measurements';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
    })();
    """#

    struct Box: Decodable { var text: String; var left, right, top, bottom, width: Double }
    struct State: Decodable { var labels: [Box]; var ticks: [String]; var localTicks: [String]; var range: String; var controls: Bool }
    struct Measurements: Decodable { var viewport: Double; var before: State; var after: State }

    func measurements(width: Int) throws -> (Measurements, TimelineDocument, [String]) {
        let (chromium, page, doc) = try browserAndPage(Self.realTimeline(), zone: DisplayZone("Asia/Shanghai"), appending: Self.measure)
        let (dom, console) = try chromium.dumpDOM(of: page, width: width, height: 900)
        let json = try XCTUnwrap(dom.firstMatch(of: /<pre id="measurements">([^<]*)<\/pre>/)?.1, "the measuring script ran")
        let text = String(json).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        return (try JSONDecoder().decode(Measurements.self, from: Data(text.utf8)), doc, console)
    }

    func assertLabelsApartAndInside(_ labels: [Box], viewport: Double, _ when: String, file: StaticString = #filePath, line: UInt = #line) {
        for (i, a) in labels.enumerated() {
            XCTAssert(a.left >= 0 && a.right <= viewport, "\(when): label '\(a.text)' [\(a.left), \(a.right)] inside the \(viewport) px viewport", file: file, line: line)
            for b in labels[(i + 1)...] {
                // Half a pixel for anti-aliasing.
                let apart = a.right <= b.left + 0.5 || b.right <= a.left + 0.5 || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5
                XCTAssert(apart, "\(when): labels '\(a.text)' and '\(b.text)' overlap", file: file, line: line)
            }
        }
    }

    /// After the page's script ran, at 1400 and 500 px: every placed event
    /// is labelled, no two labels overlap, all are inside the viewport, the
    /// axis and the range read in UTC and Asia/Shanghai; zooming with the
    /// wheel narrows the range and re-labels the ticks at a finer step, and
    /// the labels are still apart and inside.
    func testLabelsApartInsideTheViewportAndTheWheelZoomsAtBothWidths() throws {
        for width in Self.widths {
            let (m, doc, console) = try measurements(width: width)
            XCTAssertEqual(console, [], "no script error at \(width) px")
            let placed = doc.events.filter { $0.time != nil }.count
            XCTAssertEqual(m.before.labels.count, placed, "at \(width) px every placed event is labelled: \(m.before.labels.map(\.text))")
            assertLabelsApartAndInside(m.before.labels, viewport: m.viewport, "\(width) px")
            XCTAssert(m.before.controls, "zoom buttons shown")
            XCTAssert(m.before.range.contains(" UTC = ") && m.before.range.hasSuffix("Asia/Shanghai (397 d 10 h, all of it)"), m.before.range)
            XCTAssertFalse(m.before.localTicks.isEmpty, "the axis is labelled in the display zone too")

            XCTAssertNotEqual(m.after.range, m.before.range, "the wheel changed the shown range")
            XCTAssertNotEqual(m.after.ticks, m.before.ticks, "and the ticks")
            XCTAssert(m.after.ticks.allSatisfy { $0.contains(":") }, "zoomed from days to times of day: \(m.after.ticks)")
            // The page without script is laid out with estimated widths: they must not be narrower than the browser's.
            for label in m.before.labels {
                XCTAssertGreaterThanOrEqual(EventLabel.estimatedWidth(label.text), label.width, "estimate for '\(label.text)'")
            }
            XCTAssertFalse(m.after.labels.isEmpty)
            assertLabelsApartAndInside(m.after.labels, viewport: m.viewport, "\(width) px zoomed")
            print("at \(width) px: \(m.before.range) → \(m.after.range); ticks \(m.after.ticks.prefix(3)); measured label widths",
                  m.before.labels.map { "\($0.text)=\($0.width)" })
        }
    }

    /// A screenshot at each width shows the drawing fitted to the window:
    /// not blank, the display zone's tick labels drawn, and
    /// the last event (a year after the rest) drawn at the right end, not
    /// scrolled out of view.
    func testScreenshotsAtBothWidthsShowTheWholeTimeline() throws {
        let (chromium, page, _) = try browserAndPage(Self.realTimeline(), zone: DisplayZone("Asia/Shanghai"))
        let info = SeverityStyle.colour(.info)
        for width in Self.widths {
            let png = page.deletingLastPathComponent().appendingPathComponent("shot-\(width).png")
            try chromium.screenshot(of: page, to: png, width: width, height: 900)
            let stats = try PNGStatistics.measure(png, near: [info, Self.zoneColour])
            print("screenshot \(png.path): \(stats)")
            XCTAssertEqual(stats.width, width)
            XCTAssertGreaterThan(stats.nonBackgroundShare, 0.1, "\(width) px: not a blank page")
            XCTAssertGreaterThan(stats.near[Self.zoneColour] ?? 0, 50, "\(width) px: tick labels in the display zone's colour")
            let blue = try XCTUnwrap(stats.columns[info], "\(width) px: info marks")
            XCTAssertGreaterThan(Double(blue[1]), 0.8 * Double(width), "\(width) px: the last event is drawn near the right edge, inside the window")
        }
    }
}
