import Foundation
import LockscanKit
import XCTest

/// Loads plugins into the real binary at run time: the shipped example, and
/// broken ones that must be refused by name while everything else still runs.
final class PluginTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    let workqueueLog = Data("""
        [  100.000001] INFO: task syz-executor.1:12632 can't die for more than 143 seconds.
        [  101.000001] NMI watchdog: Watchdog detected hard LOCKUP on cpu 2

        """.utf8)

    func testExamplePluginLoadsAndReports() throws {
        let log = try CLI.tempFile("wq.log", workqueueLog)
        let r = try CLI.run(["scan", "--json", "--plugin", CLI.examplePlugin, log])
        XCTAssertEqual(r.status, 1, r.stderr)
        let kinds = try CLI.events(r.stdout).compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds, ["task_cant_die", "hard_lockup"])
        let without = try CLI.run(["scan", "--json", log])
        XCTAssertEqual(try CLI.events(without.stdout).compactMap { $0["kind"] as? String }, ["hard_lockup"],
                       "without the plugin nothing reports it")
    }

    func testPluginPathEnvironment() throws {
        let dir = CLI.binDir.path
        let r = try CLI.run(["analyzers"], env: ["LOCKSCAN_PLUGIN_PATH": "/nonexistent:" + dir])
        XCTAssertTrue(r.stdout.contains("example-task-cant-die"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("hard-lockup"))
    }

    func testNotASharedObjectIsRefusedByName() throws {
        let bogus = try CLI.tempFile("bogus.so", Data("not an ELF file\n".utf8))
        let log = try CLI.tempFile("wq2.log", workqueueLog)
        let r = try CLI.run(["scan", "--json", "--plugin", bogus, log])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains(bogus) && r.stderr.contains("not a shared object"), r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["hard_lockup"],
                       "the built-in analyzers still ran")
    }

    func testMissingEntryPointAndWrongABIAreRefused() throws {
        let noEntry = try compile("noentry", "int unrelated(void) { return 1; }\n")
        let wrongABI = try compile("wrongabi", "int lockscan_plugin_abi_version(void) { return 999; }\nvoid *lockscan_plugin_entry(void) { return 0; }\n")
        let noManifest = try compile("nomanifest", "int lockscan_plugin_abi_version(void) { return \(lockscanPluginABIVersion); }\n")
        let log = try CLI.tempFile("wq3.log", workqueueLog)
        let r = try CLI.run(["scan", "--json", "--plugin", noEntry, "--plugin", wrongABI, "--plugin", noManifest,
                             "--plugin", CLI.examplePlugin, log])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(noEntry): not a lockscan plugin (no lockscan_plugin_abi_version symbol)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(wrongABI): plugin ABI version 999"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(noManifest): not a lockscan plugin (no lockscan_plugin_entry symbol)"), r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).compactMap { $0["kind"] as? String }, ["task_cant_die", "hard_lockup"],
                       "the good plugin and the built-ins still ran")
    }

    func testMissingPluginFile() throws {
        let log = try CLI.tempFile("wq4.log", workqueueLog)
        let r = try CLI.run(["scan", "--plugin", "/nonexistent/libX.so", log])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("/nonexistent/libX.so: no such file"), r.stderr)
    }

    func compile(_ name: String, _ source: String) throws -> String {
        try CLI.compileC(name, source, flags: ["-shared", "-fPIC"], output: name + ".so")
    }
}
