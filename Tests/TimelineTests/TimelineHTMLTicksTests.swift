@testable import Timeline
import XCTest

final class TimelineHTMLTicksTests: XCTestCase {
    let t0 = TimelineHTMLFixtures.t0 // 2017-03-15T06:03:08Z

    /// Ticks must be round, evenly spaced, inside the range, and few enough to read.
    func assertReadable(_ ticks: [TimeTick], from start: Double, to end: Double, step: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(ticks.count, 2, file: file, line: line)
        XCTAssertLessThanOrEqual(ticks.count, 10, file: file, line: line)
        for t in ticks { XCTAssert(t.time >= start && t.time <= end, "\(t) outside range", file: file, line: line) }
        for (a, b) in zip(ticks, ticks.dropFirst()) { XCTAssertEqual(b.time - a.time, step, accuracy: 1e-6, "epoch seconds carry ~0.2 µs of rounding", file: file, line: line) }
        XCTAssertEqual(ticks.first?.date != nil || step >= TimeTicks.day, true, "first tick names the day", file: file, line: line)
    }

    func testTenMillisecondsTicksEveryMillisecondWithMillisecondLabels() {
        let ticks = TimeTicks.ticks(from: t0 + 0.1, to: t0 + 0.11)
        XCTAssertEqual(TimeTicks.step(span: 0.01, maxTicks: 10), 0.001)
        assertReadable(ticks, from: t0 + 0.1, to: t0 + 0.11, step: 0.001)
        XCTAssertEqual(ticks.first?.label, "06:03:08.100")
        XCTAssertEqual(ticks.first?.date, "2017-03-15")
        XCTAssertEqual(ticks.dropFirst().first?.label, "06:03:08.101")
        XCTAssertNil(ticks.dropFirst().first?.date, "the date is shown once per day")
    }

    func testSubSecondStepsShowAsManyDecimalsAsTheStepNeeds() {
        XCTAssertEqual(TimeTicks.label(t0 + 0.25, step: 0.05).0, "06:03:08.25")
        XCTAssertEqual(TimeTicks.label(t0 + 0.5, step: 0.5).0, "06:03:08.5")
        XCTAssertEqual(TimeTicks.label(t0 + 0.0003, step: 1e-4).0, "06:03:08.0003")
        XCTAssertEqual(TimeTicks.label(t0 + 0.9999999, step: 0.001).0, "06:03:09.000", "rounding carries into the seconds")
    }

    func testSecondsMinutesAndHours() {
        let seconds = TimeTicks.ticks(from: t0, to: t0 + 9.5)
        assertReadable(seconds, from: t0, to: t0 + 9.5, step: 1)
        XCTAssertEqual(seconds.map(\.label).prefix(2), ["06:03:08", "06:03:09"])

        let minutes = TimeTicks.ticks(from: t0, to: t0 + 600)
        assertReadable(minutes, from: t0, to: t0 + 600, step: 60)
        XCTAssertEqual(minutes.first?.label, "06:04")

        let hours = TimeTicks.ticks(from: t0, to: t0 + 6 * 3600)
        assertReadable(hours, from: t0, to: t0 + 6 * 3600, step: 3600)
        XCTAssertEqual(hours.first?.label, "07:00")
    }

    func testDaysNameEachNewDate() {
        let ticks = TimeTicks.ticks(from: t0, to: t0 + 3 * 86400)
        assertReadable(ticks, from: t0, to: t0 + 3 * 86400, step: 12 * 3600)
        XCTAssertEqual(ticks.map(\.label).prefix(3), ["12:00", "00:00", "12:00"])
        XCTAssertEqual(ticks.map(\.date).prefix(3), ["2017-03-15", "2017-03-16", nil])
    }

    func testWeeksFallOnMondaysAndLabelWithTheDate() {
        let ticks = TimeTicks.ticks(from: t0, to: t0 + 40 * 86400)
        assertReadable(ticks, from: t0, to: t0 + 40 * 86400, step: 7 * 86400)
        XCTAssertEqual(ticks.first?.label, "2017-03-20", "the Monday after Wednesday 2017-03-15")
        XCTAssertNil(ticks.first?.date)
    }

    func testSpansBeyondTheLadderStillGiveAFewTicks() {
        let ticks = TimeTicks.ticks(from: t0, to: t0 + 400 * 86400)
        XCTAssertGreaterThanOrEqual(ticks.count, 2)
        XCTAssertLessThanOrEqual(ticks.count, 10)
    }

    func testEmptyOrReversedRangeHasNoTicks() {
        XCTAssertEqual(TimeTicks.ticks(from: t0, to: t0), [])
        XCTAssertEqual(TimeTicks.ticks(from: t0 + 1, to: t0), [])
    }

    func testDurationsUseTheUnitThatKeepsThemShort() {
        XCTAssertEqual(TimeText.duration(0), "0 s")
        XCTAssertEqual(TimeText.duration(0.00025), "250 µs")
        XCTAssertEqual(TimeText.duration(0.0125), "12.5 ms")
        XCTAssertEqual(TimeText.duration(1.25), "1.25 s")
        XCTAssertEqual(TimeText.duration(200), "3 min 20 s")
        XCTAssertEqual(TimeText.duration(7500), "2 h 5 min")
        XCTAssertEqual(TimeText.duration(3 * 86400 + 4 * 3600), "3 d 4 h")
    }

    func testUncertaintyIsSymmetricOrSplit() {
        XCTAssertEqual(TimeText.uncertainty(EventTime(utc: 10, earliest: 9.5, latest: 10.5)), "± 500 ms")
        XCTAssertEqual(TimeText.uncertainty(EventTime(utc: 10, earliest: 9.8, latest: 10.8)), "−200 ms / +800 ms")
        XCTAssertEqual(TimeText.uncertainty(EventTime(utc: 10, earliest: 10, latest: 10)), "± 0 s")
    }
}
