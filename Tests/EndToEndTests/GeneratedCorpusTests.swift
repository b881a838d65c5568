import Foundation
import XCTest

/// The captures `corpora/generate/generate-all` made by booting a real Debian
/// kernel under qemu and provoking each lockup: for every
/// `corpora/generated/*/scenario.json`, `lockscan scan --json` on the guest
/// console must find every expected event (kind, CPU, comm, the function the
/// title ends in, the CPUs of the incident and their lock addresses, the
/// holder CPU). Expectations listed in the scenario's `knownGaps` are
/// reported, not failed.
final class GeneratedCorpusTests: XCTestCase {
    static let root = CLI.packageRoot.appendingPathComponent("corpora/generated")

    static func scenarios() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/scenario.json").path)
        }.sorted()
    }

    static func scenario(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("\(name)/scenario.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A failed expectation: reported as a known gap when `knownGaps` lists
    /// the same kind, line and check, else a test failure.
    struct Gap: Hashable { var kind: String; var line: Int; var check: String }

    func testEveryScenarioHasItsFiles() throws {
        let names = Self.scenarios()
        XCTAssertGreaterThanOrEqual(names.count, 7, "corpora/generated/ lost its scenarios")
        for name in names {
            for file in ["guest-console.log", "host-console-timestamped.log", "qmp-events.json", "domain.log",
                         "scenario.json", "expected-symbolization.txt"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("\(name)/\(file)").path),
                              "\(name) has no \(file)")
            }
        }
    }

    func testLockscanFindsEveryProvokedEvent() throws {
        let names = Self.scenarios()
        XCTAssertFalse(names.isEmpty, "no corpora/generated/*/scenario.json")
        var knownGapsSeen: [String] = []
        for name in names {
            let sc = try Self.scenario(name)
            let file = "corpora/generated/\(name)/guest-console.log"
            let result = try CLI.run(["scan", "--json", file])
            XCTAssertNotEqual(result.status, 2, "\(file): \(result.stderr)")
            let events = try CLI.events(result.stdout)
            var gaps = Set<Gap>()
            for g in sc["knownGaps"] as? [[String: Any]] ?? [] {
                if let kind = g["kind"] as? String, let line = g["line"] as? Int, let check = g["check"] as? String {
                    gaps.insert(Gap(kind: kind, line: line, check: check))
                }
            }
            var usedGaps = Set<Gap>()
            func fail(_ kind: String, _ line: Int, _ check: String, _ message: String) {
                let gap = Gap(kind: kind, line: line, check: check)
                if gaps.contains(gap) {
                    usedGaps.insert(gap)
                    knownGapsSeen.append("\(file):\(line): known gap (\(check)): \(message)")
                } else {
                    XCTFail("\(file):\(line): \(message)")
                }
            }

            for expected in sc["expectedEvents"] as? [[String: Any]] ?? [] {
                let kind = try XCTUnwrap(expected["kind"] as? String)
                let line = try XCTUnwrap(expected["line"] as? Int)
                let cpu = expected["cpu"] as? Int
                let comm = expected["comm"] as? String
                // Same kind, and the report's header lies within the event's lines.
                let candidates = events.filter { e in
                    guard e["kind"] as? String == kind, let src = e["source"] as? [String: Any],
                          let from = src["line"] as? Int, let to = src["endLine"] as? Int else { return false }
                    return line >= from - 5 && line <= max(to, from)
                }
                guard !candidates.isEmpty else {
                    fail(kind, line, "found", "no \(kind) event reported for the kernel's report here")
                    continue
                }
                let exact = candidates.first { e in
                    (cpu == nil || e["cpu"] as? Int == cpu) && (comm == nil || e["comm"] as? String == comm)
                }
                guard let event = exact else {
                    let got = candidates.map { "cpu \($0["cpu"] as? Int ?? -1) comm \($0["comm"] as? String ?? "-")" }
                    fail(kind, line, "cpu-comm", "\(kind): expected cpu \(cpu.map(String.init) ?? "-") comm \(comm ?? "-"), got \(got)")
                    continue
                }
                let title = event["title"] as? String ?? ""
                if let top = expected["topFunction"] as? String {
                    let tail = title.range(of: " in ", options: .backwards).map { String(title[$0.upperBound...]) } ?? ""
                    if tail != top {
                        fail(kind, line, "topFunction", "\(kind) title \"\(title)\" should end in \(top)")
                    }
                }
                let incident = event["incident"] as? [String: Any]
                let incidentCPUs = incident?["cpus"] as? [[String: Any]] ?? []
                if let want = expected["incidentCPUs"] as? [Int] {
                    let have = Set(incidentCPUs.compactMap { $0["cpu"] as? Int })
                    if !Set(want).isSubset(of: have) {
                        fail(kind, line, "incidentCPUs", "\(kind) incident should hold CPUs \(want), has \(have.sorted())")
                    }
                }
                if let locks = expected["incidentLocks"] as? [String: String] {
                    for (cpuText, address) in locks {
                        let c = incidentCPUs.last { ($0["cpu"] as? Int).map(String.init) == cpuText }
                        if c?["lockAddress"] as? String != address {
                            fail(kind, line, "incidentLocks", "CPU \(cpuText) should spin on lock \(address), incident says \(c?["lockAddress"] as? String ?? "nothing")")
                        }
                    }
                }
                let details = event["details"] as? [String: String] ?? [:]
                if let waiting = expected["waitingIn"] as? String, details["waitingIn"] != waiting {
                    fail(kind, line, "waitingIn", "\(kind): the CPU waits in \(waiting), lockscan says \(details["waitingIn"] ?? "nothing")")
                }
                if let holder = expected["holderCPU"] as? Int {
                    if details["holderCPU"] != String(holder) {
                        fail(kind, line, "holderCPU", "\(kind): the rq lock's holder is CPU \(holder), lockscan says \(details["holderCPU"] ?? "nothing")")
                    }
                }
            }
            for forbidden in sc["forbiddenKinds"] as? [String] ?? [] {
                for e in events where e["kind"] as? String == forbidden {
                    let l = (e["source"] as? [String: Any])?["line"] as? Int ?? 0
                    fail(forbidden, l, "forbidden", "\(forbidden) reported, but nothing of the kind happened: \(e["title"] as? String ?? "")")
                }
            }
            if let qmp = sc["expectedQMPEvents"] as? [String] {
                let text = try String(contentsOf: Self.root.appendingPathComponent("\(name)/qmp-events.json"), encoding: .utf8)
                let names = text.split(separator: "\n").compactMap { line -> String? in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
                }
                var rest = names[...]
                for want in qmp {
                    guard let i = rest.firstIndex(of: want) else {
                        XCTFail("\(name)/qmp-events.json: no \(want) event (in order) among \(names)")
                        break
                    }
                    rest = rest[(i + 1)...]
                }
            }
            for gap in gaps.subtracting(usedGaps) {
                knownGapsSeen.append("\(file):\(gap.line): known gap (\(gap.check)) no longer fails: remove it from knownGaps")
            }
        }
        for line in knownGapsSeen { print("GeneratedCorpusTests: \(line)") }
    }

    /// With LOCKSCAN_REAL_KERNEL=1, installs the recorded kernel's -dbg
    /// package and checks that every committed expected-symbolization.txt is
    /// exactly what eu-addr2line prints against it today.
    func testExpectedSymbolizationMatchesRealDebugFiles() throws {
        guard ProcessInfo.processInfo.environment["LOCKSCAN_REAL_KERNEL"] == "1" else {
            throw XCTSkip("set LOCKSCAN_REAL_KERNEL=1 to check corpora/generated/*/expected-symbolization.txt against Debian's real -dbg vmlinux (downloads ~280 MB)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [CLI.packageRoot.appendingPathComponent("corpora/generate/verify-symbolization").path]
        p.currentDirectoryURL = CLI.packageRoot
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "corpora/generate/verify-symbolization found differences (its output says which)")
    }

    /// With LOCKSCAN_REAL_KERNEL=1: `lockscan symbolize` on every generated
    /// capture gives, for every frame in expected-symbolization.txt, the same
    /// inline chain (names, file:line innermost first) and the same position
    /// of the frame's own function as eu-addr2line did. Crash sessions
    /// included: their KASLR slide and module bases are lockscan's own finding.
    func testLockscanSymbolizesEveryCapturedStackAsExpected() throws {
        guard ProcessInfo.processInfo.environment["LOCKSCAN_REAL_KERNEL"] == "1" else {
            throw XCTSkip("set LOCKSCAN_REAL_KERNEL=1 to symbolize corpora/generated/* against Debian's real -dbg vmlinux (downloads ~280 MB)")
        }
        let generated = CLI.packageRoot.appendingPathComponent("corpora/generated")
        let scenarios = try FileManager.default.contentsOfDirectory(atPath: generated.path).sorted()
            .filter { FileManager.default.fileExists(atPath: generated.appendingPathComponent("\($0)/expected-symbolization.txt").path) }
        XCTAssertGreaterThanOrEqual(scenarios.count, 6)
        var checked = 0
        var mismatches: [String] = []
        for scenario in scenarios {
            let dir = generated.appendingPathComponent(scenario)
            let expected = Self.expectedFrames(try String(contentsOf: dir.appendingPathComponent("expected-symbolization.txt"), encoding: .utf8))
            guard !expected.isEmpty else { continue }
            let vmlinux = try Self.debugVmlinux(dir.appendingPathComponent("scenario.json"))
            for file in Set(expected.keys.map(\.file)).sorted() {
                let r = try CLI.run(["symbolize", "--vmlinux", vmlinux, "--modules", generated.appendingPathComponent("modules").path,
                                     dir.appendingPathComponent(file).path])
                XCTAssertEqual(r.status, 0, "\(scenario)/\(file): \(r.stderr)")
                let ours = Self.annotatedFrames(r.stdout)
                for (key, want) in expected where key.file == file {
                    checked += 1
                    let got = ours[key.line]
                    if !want.accepts(got) {
                        mismatches.append("\(scenario)/\(file):\(key.line): expected \(want) got \(got.map { "\($0)" } ?? "no annotation")")
                    }
                }
            }
        }
        print("GeneratedCorpusTests: \(checked - mismatches.count)/\(checked) frames symbolized as expected")
        XCTAssertGreaterThan(checked, 200)
        XCTAssertEqual(mismatches, [], mismatches.prefix(10).joined(separator: "\n"))
    }

    struct FrameKey: Hashable {
        var file: String
        var line: Int
    }

    /// What a frame's annotation must say: the inlined calls (name, file:line)
    /// innermost first, then the position in the frame's own function.
    struct ExpectedFrame: Equatable, CustomStringConvertible {
        var inlined: [String]
        var position: String
        var alternative: [ExpectedFrame] = []

        init(inlined: [String], position: String) {
            self.inlined = inlined
            self.position = position
        }

        func accepts(_ other: ExpectedFrame?) -> Bool {
            guard let other else { return false }
            return (inlined, position) == (other.inlined, other.position) || alternative.contains { $0.accepts(other) }
        }

        var description: String { (inlined.map { "inlined \($0)" } + [position]).joined(separator: " | ") }
    }

    /// eu-addr2line prints C files from the build directory
    /// (`debian/build/build_amd64_…/kernel/…`) and assembler files by their
    /// absolute path in the Debian build tree
    /// (`/build/reproducible-path/linux-6.1.192/arch/…`); lockscan prints
    /// both from the source tree (`kernel/…`, `arch/…`).
    static func normalizePath(_ p: Substring) -> String {
        String(p).replacingOccurrences(of: #"^(debian/build/[^/]+/|/build/reproducible-path/linux-[^/]+/)"#, with: "", options: .regularExpression)
    }

    /// expected-symbolization.txt: blocks of `FILE:LINE: text`, `@ query`, then
    /// eu-addr2line's pairs (function line, FILE:LINE[:COL] line).
    static func expectedFrames(_ text: String) -> [FrameKey: ExpectedFrame] {
        var out: [FrameKey: ExpectedFrame] = [:]
        for block in text.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").filter { !$0.hasPrefix("#") }
            guard lines.count >= 4, lines[1].hasPrefix("@ ") else { continue }
            let head = lines[0].split(separator: ":", maxSplits: 2)
            guard head.count >= 2, let n = Int(head[1]) else { continue }
            let pairs = stride(from: 2, to: lines.count - 1, by: 2).map { (lines[$0], lines[$0 + 1]) }
            let positions = pairs.map { pair -> String in
                let parts = pair.1.split(separator: ":")
                return normalizePath(parts[0]) + ":" + (parts.count > 1 ? String(parts[1]) : "0")
            }
            let names = pairs.map { String($0.0.split(separator: " ").first ?? "") }
            var frame = ExpectedFrame(inlined: zip(names.dropLast(), positions.dropLast()).map { "\($0) \($1)" },
                                      position: positions.last ?? "")
            // eu-addr2line warns that the offset lies past the ELF symbol's
            // end (`? task_fork_fair+0x130/0x130`: padding after the last
            // instruction) and, when no DWARF function covers the byte,
            // still prints an inline chain under `??` that dwarf_getscopes
            // does not give for it; llvm-symbolizer prints `??` and the line,
            // as lockscan does. Either answer is accepted there.
            if block.contains("lies outside contents of"), names.first == "??" {
                frame.alternative = [ExpectedFrame(inlined: [], position: positions[0])]
            }
            out[FrameKey(file: String(head[0]), line: n)] = frame
        }
        return out
    }

    /// `lockscan symbolize` output → annotation per line of the original input.
    static func annotatedFrames(_ output: String) -> [Int: ExpectedFrame] {
        var out: [Int: ExpectedFrame] = [:]
        var pending: [String] = []
        var original = 0
        // "\r\n" is one Character to Swift: split on either ending.
        for line in output.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if let r = line.range(of: "«inlined "), line.hasSuffix("»") {
                pending.append(normalizePath(line[r.upperBound...].dropLast()))
                continue
            }
            original += 1
            if line.hasSuffix("»"), let open = line.range(of: " «", options: .backwards) {
                out[original] = ExpectedFrame(inlined: pending, position: normalizePath(line[open.upperBound...].dropLast()))
            }
            pending = []
        }
        return out
    }

    /// The recorded kernel's -dbg vmlinux ($VMLINUX, or fetched by corpora/generate/fetch-dbg-vmlinux).
    static func debugVmlinux(_ scenario: URL) throws -> String {
        if let v = ProcessInfo.processInfo.environment["VMLINUX"] { return v }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [CLI.packageRoot.appendingPathComponent("corpora/generate/fetch-dbg-vmlinux").path, scenario.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "corpora/generate/fetch-dbg-vmlinux failed")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
