import Foundation
import LockscanKit
import XCTest

/// Plugins that would take lockscan down if it ran them in its own process:
/// built at test time from C and Swift sources, run through the real binary.
/// Each must cost only its own findings, said in every output format.
final class PluginIsolationTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    // MARK: - refused from the file, before any of its code runs

    func testDataObjectABISymbolsAreRefusedWithoutRunningThePlugin() throws {
        let abiData = try compileC("abidata", markerSource("abidata") + """
            int lockscan_plugin_abi_version = \(lockscanPluginABIVersion);
            void *lockscan_plugin_entry(void) { return 0; }
            """)
        let entryData = try compileC("entrydata", markerSource("entrydata") + """
            int lockscan_plugin_abi_version(void) { return \(lockscanPluginABIVersion); }
            void *lockscan_plugin_entry[4];
            """)
        let undefined = try compileC("undefinedabi", markerSource("undefinedabi") + """
            extern int lockscan_plugin_abi_version(void);
            void *lockscan_plugin_entry(void) { return (void *)(long)lockscan_plugin_abi_version(); }
            """)
        let log = try CLI.tempFile("refused.log", Self.lockupLog)
        let r = try CLI.run(["scan", "--json", "--plugin", abiData, "--plugin", entryData, "--plugin", undefined, log])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(abiData): not a lockscan plugin (lockscan_plugin_abi_version is a data object, not a function); not loaded, none of its code ran"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(entryData): not a lockscan plugin (lockscan_plugin_entry is a data object, not a function)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(undefined): not a lockscan plugin (lockscan_plugin_abi_version is not defined in this file, only referenced)"), r.stderr)
        for name in ["abidata", "entrydata", "undefinedabi"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker(name)), "\(name)'s constructor ran")
        }
        let doc = try CLI.json(r.stdout)
        let files = (doc["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        XCTAssertEqual(files, [abiData, entryData, undefined], "each refusal is in the JSON document")
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["hard_lockup"])
    }

    func testPluginFoundThroughThePluginPathIsCheckedBeforeLoading() throws {
        let dir = CLI.tempDir.appendingPathComponent("plugin-path")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let plugin = try compileC("pathdata", markerSource("pathdata") + """
            int lockscan_plugin_abi_version = \(lockscanPluginABIVersion);
            int lockscan_plugin_entry = 0;
            """, output: "plugin-path/libpathdata.so")
        let r = try CLI.run(["analyzers"], env: ["LOCKSCAN_PLUGIN_PATH": dir.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(plugin): not a lockscan plugin (lockscan_plugin_abi_version is a data object"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker("pathdata")), "its constructor ran")
        XCTAssertTrue(r.stdout.contains("hard-lockup"), "the built-ins are still listed")
    }

    // MARK: - failing while loading

    func testConstructorThatCrashesCostsOnlyThatPlugin() throws {
        let crashing = try compileC("ctorcrash", """
            __attribute__((constructor)) static void crash(void) { *(volatile int *)0 = 1; }
            int lockscan_plugin_abi_version(void) { return \(lockscanPluginABIVersion); }
            void *lockscan_plugin_entry(void) { return 0; }
            """)
        let log = try CLI.tempFile("ctor.log", Self.lockupLog)
        let r = try CLI.run(["scan", "--json", "--plugin", crashing, "--plugin", CLI.examplePlugin, log])
        XCTAssertEqual(r.status, 2, r.stderr)
        let message = "\(crashing): not loaded: its worker was killed by SIGSEGV"
        XCTAssertTrue(r.stderr.contains(message), r.stderr)
        let diagnostics = try XCTUnwrap(CLI.json(r.stdout)["diagnostics"] as? [[String: Any]])
        XCTAssertEqual(diagnostics.count, 1)
        XCTAssertEqual(diagnostics.first?["file"] as? String, crashing)
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["task_cant_die", "hard_lockup"],
                       "the good plugin and the built-ins still ran")
    }

    func testEntryThatLoopsIsStoppedAtTheDeadline() throws {
        let looping = try compileC("entryloop", """
            int lockscan_plugin_abi_version(void) { return \(lockscanPluginABIVersion); }
            void *lockscan_plugin_entry(void) { for (;;) {} }
            """)
        let log = try CLI.tempFile("entryloop.log", Self.lockupLog)
        let started = Date()
        let r = try CLI.run(["scan", "--plugin-timeout", "1", "--plugin", looping, log])
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stdout.contains("\(looping): not loaded: its worker did not answer within 1 s and was stopped"), r.stdout)
        XCTAssertTrue(r.stdout.contains("hard LOCKUP"), r.stdout)
    }

    // MARK: - failing while analysing

    /// What each line of the misbehaving plugin's input makes it do, and how
    /// lockscan must say what happened.
    static let failures: [(line: String, said: [String])] = [
        ("PLUGIN-TRAP", ["was killed by SIGILL", "was killed by SIGTRAP"]),
        ("PLUGIN-ABORT", ["was killed by SIGABRT"]),
        ("PLUGIN-SEGV", ["was killed by SIGSEGV"]),
        ("PLUGIN-LOOP", ["did not answer within 1 s and was stopped"]),
    ]

    func testAnalyzerThatFailsCostsOnlyItsFindingsInEveryFormat() throws {
        let plugin = try misbehavingPlugin()
        for failure in Self.failures {
            let log = try CLI.tempFile("\(failure.line).log", Data("""
                [  100.000001] PLUGIN-hello
                [  100.500001] \(failure.line) here
                [  101.000001] NMI watchdog: Watchdog detected hard LOCKUP on cpu 2
                [  102.000001] PLUGIN-again

                """.utf8))
            let args = ["scan", "--plugin-timeout", "1", "--plugin", plugin, log]
            func said(_ text: String) -> Bool { failure.said.contains { text.contains($0) } }
            let prefix = "plugin \(plugin), analyzer 'misbehaving', on this line: its worker "

            let json = try CLI.run(args + ["--json"])
            XCTAssertEqual(json.status, 2, failure.line + json.stderr)
            XCTAssertEqual(try CLI.events(json.stdout).map { "\($0["kind"] ?? "")@\($0["source"].flatMap { ($0 as? [String: Any])?["line"] } ?? "")" },
                           ["misbehaving_seen@1", "hard_lockup@3"],
                           "\(failure.line): the built-in event is intact, the plugin's before the failure too, none after")
            let diagnostics = try XCTUnwrap(CLI.json(json.stdout)["diagnostics"] as? [[String: Any]], failure.line)
            XCTAssertEqual(diagnostics.count, 1, failure.line)
            XCTAssertEqual(diagnostics.first?["file"] as? String, log)
            XCTAssertEqual(diagnostics.first?["line"] as? Int, 2)
            let message = try XCTUnwrap(diagnostics.first?["message"] as? String)
            XCTAssertTrue(message.hasPrefix(prefix) && said(message), message)

            let ndjson = try CLI.run(args + ["--ndjson"])
            XCTAssertEqual(ndjson.status, 2, failure.line)
            let lines = try ndjson.stdout.split(separator: "\n").map { try CLI.json(String($0)) }
            let streamed = lines.compactMap { $0["diagnostic"] as? [String: Any] }
            XCTAssertEqual(streamed.count, 1, ndjson.stdout)
            XCTAssertEqual(streamed.first?["line"] as? Int, 2)
            XCTAssertTrue(said(streamed.first?["message"] as? String ?? ""), ndjson.stdout)
            XCTAssertEqual(lines.compactMap { $0["kind"] as? String }, ["misbehaving_seen", "hard_lockup"])

            let text = try CLI.run(args)
            XCTAssertEqual(text.status, 2, failure.line)
            XCTAssertTrue(text.stdout.contains("\(log):2: \(prefix)") && said(text.stdout), text.stdout)
            XCTAssertTrue(text.stdout.contains("hard LOCKUP"), text.stdout)

            let markdown = try CLI.run(args + ["--markdown"])
            XCTAssertEqual(markdown.status, 2, failure.line)
            let problems = try XCTUnwrap(markdown.stdout.components(separatedBy: "## Input problems").dropFirst().first, markdown.stdout)
            XCTAssertTrue(problems.contains("\(log):2: \(prefix)") && said(problems), markdown.stdout)
            XCTAssertTrue(markdown.stdout.contains("hard LOCKUP"))
        }
    }

    func testAFailedPluginIsSaidOnceAndStaysQuietForLaterInputs() throws {
        let plugin = try misbehavingPlugin()
        let first = try CLI.tempFile("first.log", Data("[  1.000001] PLUGIN-SEGV\n".utf8))
        let second = try CLI.tempFile("second.log", Data("[  1.000001] PLUGIN-hello\n".utf8) + Self.lockupLog)
        let r = try CLI.run(["scan", "--json", "--plugin", plugin, first, second])
        XCTAssertEqual(r.status, 2)
        let diagnostics = try XCTUnwrap(CLI.json(r.stdout)["diagnostics"] as? [[String: Any]])
        XCTAssertEqual(diagnostics.compactMap { $0["file"] as? String }, [first])
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["hard_lockup"])
    }

    func testTimelineSaysAFailedPluginToo() throws {
        let plugin = try misbehavingPlugin()
        let guest = try CLI.tempFile("guest.log", Data("[  1.000001] PLUGIN-SEGV\n".utf8) + Self.lockupLog)
        let r = try CLI.run(["timeline", "--json", "--plugin", plugin, "--guest", guest,
                             "--anchor", "guest:1.0=2024-01-01T00:00:00Z"])
        XCTAssertEqual(r.status, 2, r.stderr)
        let diagnostics = try XCTUnwrap(CLI.json(r.stdout)["diagnostics"] as? [String])
        XCTAssertTrue(diagnostics.contains { $0.hasPrefix("\(guest):1: plugin \(plugin), analyzer 'misbehaving'") && $0.contains("SIGSEGV") },
                      "\(diagnostics)")
        XCTAssertTrue(r.stdout.contains("hard_lockup"), "the built-in events are on the timeline")
    }

    func testWhatAPluginPrintsStaysOutOfTheOutput() throws {
        let plugin = try misbehavingPlugin()
        let log = try CLI.tempFile("print.log", Data("[  1.000001] PLUGIN-PRINT\n".utf8))
        let r = try CLI.run(["scan", "--json", "--fail-on", "critical", "--plugin", plugin, log])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["misbehaving_seen"],
                       "the document is valid JSON with the plugin's event")
        XCTAssertTrue(r.stderr.contains("printed by the plugin"), r.stderr)
    }

    // MARK: - a good plugin

    func testGoodPluginEventsCrossTheProcessBoundaryWhole() throws {
        let log = try CLI.tempFile("good.log", Self.lockupLog)
        let r = try CLI.run(["scan", "--json", "--plugin", CLI.examplePlugin, log])
        XCTAssertEqual(r.status, 1, r.stderr)
        let event = try XCTUnwrap(CLI.events(r.stdout).first)
        XCTAssertEqual(event["analyzer"] as? String, "example-task-cant-die")
        XCTAssertEqual(event["title"] as? String, "INFO: task can't die")
        XCTAssertEqual(event["severity"] as? String, "error")
        XCTAssertEqual(event["comm"] as? String, "syz-executor.1")
        XCTAssertEqual(event["pid"] as? Int, 12632)
        let source = try XCTUnwrap(event["source"] as? [String: Any])
        XCTAssertEqual(source["file"] as? String, log)
        XCTAssertEqual([source["line"], source["endLine"], source["byteOffset"]].map { $0 as? Int }, [1, 1, 0])
        XCTAssertEqual((event["time"] as? [String: Any])?["monotonic"] as? Double, 100.000001)
        XCTAssertEqual(event["evidence"] as? [String], ["INFO: task syz-executor.1:12632 can't die for more than 143 seconds."])
        XCTAssertTrue((event["explanation"] as? String ?? "").hasPrefix("A task that has been sent SIGKILL"))
        XCTAssertNil(try CLI.json(r.stdout)["diagnostics"], "nothing went wrong")
    }

    // MARK: - helpers

    static let lockupLog = Data("""
        [  100.000001] INFO: task syz-executor.1:12632 can't die for more than 143 seconds.
        [  101.000001] NMI watchdog: Watchdog detected hard LOCKUP on cpu 2

        """.utf8)

    func marker(_ name: String) -> String { CLI.tempDir.appendingPathComponent(name + ".ran").path }

    /// A constructor that leaves a file behind: proof that the plugin's code ran.
    func markerSource(_ name: String) -> String {
        """
        #include <stdio.h>
        __attribute__((constructor)) static void mark(void) { FILE *f = fopen("\(marker(name))", "w"); if (f) fclose(f); }

        """
    }

    func compileC(_ name: String, _ source: String, output: String? = nil) throws -> String {
        try CLI.compileC(name, source, flags: ["-shared", "-fPIC"], output: output ?? "lib\(name).so")
    }

    /// A Swift plugin whose analyzer fails in the way its input line asks
    /// for, built against this build's LockscanKit like an out-of-tree one.
    func misbehavingPlugin() throws -> String {
        let out = CLI.tempDir.appendingPathComponent("libMisbehaving.so").path
        if FileManager.default.fileExists(atPath: out) { return out }
        let source = try CLI.tempFile("Misbehaving.swift", Data("""
            import LockscanKit
            import Glibc

            public final class Misbehaving: Analyzer {
                public static let descriptor = AnalyzerDescriptor(
                    id: "misbehaving", title: "Misbehaving (test plugin)", explanation: "Fails as its input asks.",
                    eventKinds: ["misbehaving_seen"], triggers: ["PLUGIN-"], examples: [], make: { Misbehaving() })
                public init() {}
                public func consume(_ record: Record, emit: (Event) -> Void) -> Interest {
                    if record.text.contains("PLUGIN-TRAP") { let none: [Int] = []; _ = none[record.line] }
                    if record.text.contains("PLUGIN-ABORT") { abort() }
                    if record.text.contains("PLUGIN-SEGV") { UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1 }
                    if record.text.contains("PLUGIN-LOOP") { while true { usleep(1000) } }
                    if record.text.contains("PLUGIN-PRINT") { print("printed by the plugin"); fflush(stdout) }
                    emit(Event(analyzer: "misbehaving", kind: "misbehaving_seen", title: "seen", severity: .info,
                               source: SourceLocation(record)))
                    return .idle
                }
                public func finish(emit: (Event) -> Void) {}
            }

            @_cdecl("lockscan_plugin_abi_version")
            public func abiVersion() -> Int32 { lockscanPluginABIVersion }

            @_cdecl("lockscan_plugin_entry")
            public func entry() -> UnsafeMutableRawPointer {
                PluginManifest(name: "Misbehaving", analyzers: [Misbehaving.descriptor]).retainedPointer()
            }

            """.utf8))
        let bin = CLI.binDir
        let core = CLI.packageRoot.appendingPathComponent("Sources/Core")
        let moduleMaps = [bin.appendingPathComponent("CByteSearch.build/module.modulemap").path] +
            ["CLzma", "CZlib", "CZstd"].map { core.appendingPathComponent("\($0)/module.modulemap").path }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swiftc", "-emit-library", "-module-name", "Misbehaving", source,
                       "-I", bin.appendingPathComponent("Modules").path, "-L", bin.path, "-lLockscanKit", "-o", out]
            + moduleMaps.flatMap { ["-Xcc", "-fmodule-map-file=\($0)"] }
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "the test plugin did not build")
        return out
    }
}
