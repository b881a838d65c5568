import Foundation
import PropertyBased
import Testing

/// The promise lockscan makes about any input: it ends by itself with 0, 1
/// or 2 — never a signal (a Swift trap is SIGILL), never a hang — and with
/// `--json` its standard output is one valid JSON document however broken
/// the input was. Checked here over generated inputs rather than chosen
/// ones: random bytes, "log soup" assembled from the fragments real reports
/// are made of with hostile numbers in every numeric slot, and real captures
/// from corpora/ mutated the way pastes and bad disks break them.
///
/// swift-property-based drives the generation, so a failure prints its seed
/// (`.fixedSeed("…")` replays it) and a shrunk input. Each property runs
/// `LOCKSCAN_PROPERTY_COUNT` cases (default 40: CI's share of a few seconds);
/// a longer local run is `LOCKSCAN_PROPERTY_COUNT=2000 swift test
/// --disable-xctest --filter PropertyTests`.
@Suite struct NeverTrapProperties {
    static let count = ProcessInfo.processInfo.environment["LOCKSCAN_PROPERTY_COUNT"].flatMap(Int.init) ?? 40

    @Test func scanOnRandomBytes() async throws {
        await propertyCheck(count: Self.count, input: Gen.uint8().array(of: 0...3000)) { bytes in
            Self.expectWellBehaved(try Lockscan.run(["scan", "--json"], input: Data(bytes)), json: .document, input: Data(bytes))
        }
    }

    @Test func scanOnLogSoup() async throws {
        await propertyCheck(count: Self.count, input: LogSoup.text) { text in
            let data = Data(text.utf8)
            Self.expectWellBehaved(try Lockscan.run(["scan", "--json"], input: data), json: .document, input: data)
            Self.expectWellBehaved(try Lockscan.run(["scan", "--ndjson"], input: data), json: .lines, input: data)
        }
    }

    @Test func scanAndTimelineOnMutatedCaptures() async throws {
        let captures = Corpus.captures()
        try #require(!captures.isEmpty, "corpora/ holds the captures this property mutates")
        await propertyCheck(count: Self.count, input: Gen.element(of: captures).map { $0 ?? "" }, Mutation.list) { capture, mutations in
            let data = Mutation.apply(mutations, to: try Corpus.read(capture))
            Self.expectWellBehaved(try Lockscan.run(["scan", "--json"], input: data), json: .document, input: data)
            Self.expectWellBehaved(try Lockscan.run(["timeline", "--json", "--guest"], input: data), json: .document, input: data)
        }
    }

    @Test func symbolizeOnHostileAddressesAndFrames() async throws {
        let elf = try Lockscan.fixtureELF()
        await propertyCheck(count: Self.count, input: LogSoup.addressLines) { lines in
            let data = Data(lines.utf8)
            let addresses = try Lockscan.run(["symbolize", "--force", "--vmlinux", elf, "--addresses", "--output-style", "json"], input: data)
            Self.expectWellBehaved(addresses, json: .lines, input: data)
            Self.expectWellBehaved(try Lockscan.run(["symbolize", "--force", "--vmlinux", elf], input: data), json: nil, input: data)
        }
    }

    enum JSONShape { case document, lines }

    /// Ended by itself, with a documented status, and (when asked) valid JSON.
    static func expectWellBehaved(_ r: Lockscan.Result, json: JSONShape?, input: Data) {
        let shown = String(decoding: input.prefix(600), as: UTF8.self)
        #expect(!r.signaled, "killed by signal \(r.status) on input starting \(shown.debugDescription)\n\(r.stderr.suffix(800))")
        #expect(!r.timedOut, "still running after \(Lockscan.timeout) s on input starting \(shown.debugDescription)")
        #expect(r.signaled || r.timedOut || (0...2).contains(r.status), "exit status \(r.status): \(r.stderr.suffix(400))")
        guard !r.signaled, !r.timedOut else { return }
        switch json {
        case .document:
            #expect((try? JSONSerialization.jsonObject(with: r.stdout)) is [String: Any],
                    "stdout is not one JSON object: \(String(decoding: r.stdout.prefix(300), as: UTF8.self))")
        case .lines:
            for line in r.stdout.split(separator: 0x0A) {
                #expect((try? JSONSerialization.jsonObject(with: Data(line))) is [String: Any],
                        "not a JSON line: \(String(decoding: line.prefix(300), as: UTF8.self))")
            }
        case nil:
            break
        }
    }
}
