import Foundation
import XCTest

/// `--metrics-file` as a fleet uses it: the file passes promtool's check,
/// and Debian's own node_exporter (textfile collector) and Prometheus, on
/// loopback, scrape it and answer a query with lockscan's counts. Skipped
/// when those packages are absent (scripts/install-deps installs them).
final class MetricsFileTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    static let log = CLI.packageRoot.appendingPathComponent("corpora/public/hard-lockup-lkml-20200710-coresched-uperf.log").path

    func testMetricsFileIsWrittenAtomicallyAndPassesPromtool() throws {
        let dir = CLI.tempDir.appendingPathComponent("metrics")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("lockscan.prom").path
        let r = try CLI.run(["scan", "--metrics-file", file, Self.log])
        XCTAssertEqual(r.status, 1, r.stderr)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.contains(#"lockscan_events{command="scan",kind="hard_lockup",severity="error"} 2"#), text)
        XCTAssertTrue(text.contains(#"lockscan_events{command="scan",kind="soft_lockup",severity="error"} 3"#), text)
        XCTAssertTrue(text.contains(#"lockscan_diagnostics{command="scan"} 0"#), text)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["lockscan.prom"], "no temporary file left behind")
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o044, 0o044, "node_exporter runs as another user: the file must be readable")
        // An input given as the metrics file is refused before anything is read or written.
        let same = try CLI.run(["scan", "--metrics-file", Self.log, Self.log])
        XCTAssertEqual(same.status, 2)
        XCTAssertTrue(same.stderr.contains("never writes over what it reads"), same.stderr)
        let unwritable = try CLI.run(["scan", "--metrics-file", "/nonexistent/dir/lockscan.prom", Self.log])
        XCTAssertEqual(unwritable.status, 2)
        XCTAssertTrue(unwritable.stderr.contains("/nonexistent/dir/lockscan.prom: cannot be written"), unwritable.stderr)

        let promtool = "/usr/bin/promtool"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: promtool), "promtool (Debian's prometheus) not installed")
        let check = try Self.run(promtool, ["check", "metrics"], stdin: file)
        XCTAssertEqual(check.status, 0, check.output)
    }

    func testNodeExporterAndPrometheusScrapeWhatLockscanWrote() throws {
        let exporter = "/usr/bin/prometheus-node-exporter", prometheus = "/usr/bin/prometheus"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: exporter) && FileManager.default.isExecutableFile(atPath: prometheus),
                          "prometheus and prometheus-node-exporter (Debian) not installed")
        let dir = CLI.tempDir.appendingPathComponent("scrape")
        let textfiles = dir.appendingPathComponent("textfile")
        try FileManager.default.createDirectory(at: textfiles, withIntermediateDirectories: true)
        let r = try CLI.run(["scan", "--metrics-file", textfiles.appendingPathComponent("lockscan.prom").path, Self.log])
        XCTAssertEqual(r.status, 1, r.stderr)

        let exporterPort = try Self.freePort(), prometheusPort = try Self.freePort()
        let node = try Self.start(exporter, ["--web.listen-address=127.0.0.1:\(exporterPort)", "--collector.disable-defaults",
                                             "--collector.textfile", "--collector.textfile.directory=\(textfiles.path)"])
        defer { node.terminate(); node.waitUntilExit() }
        let config = dir.appendingPathComponent("prometheus.yml")
        try Data("""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: node
                static_configs:
                  - targets: ['127.0.0.1:\(exporterPort)']

            """.utf8).write(to: config)
        let server = try Self.start(prometheus, ["--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("data").path)",
                                                 "--web.listen-address=127.0.0.1:\(prometheusPort)"])
        defer { server.terminate(); server.waitUntilExit() }

        // Prometheus answers once it has scraped; give it up to 60 s.
        let query = #"lockscan_events{kind="hard_lockup"}"#
        var answer = ""
        for _ in 0..<120 {
            answer = try Self.get("http://127.0.0.1:\(prometheusPort)/api/v1/query?query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            if answer.contains("\"value\"") { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], answer)
        let result = try XCTUnwrap((json["data"] as? [String: Any])?["result"] as? [[String: Any]], answer)
        XCTAssertEqual(result.count, 1, answer)
        XCTAssertEqual((result.first?["value"] as? [Any])?.last as? String, "2", answer)
        XCTAssertEqual((result.first?["metric"] as? [String: String])?["severity"], "error", answer)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        XCTAssertTrue(bound)
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func start(_ tool: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func run(_ tool: String, _ args: [String], stdin: String) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin))
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// An HTTP GET through python3's standard library ("" while the server is not up).
    static func get(_ url: String) throws -> String {
        try CLI.output(of: "/usr/bin/python3", ["-c", "import sys, urllib.request\ntry:\n  print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())\nexcept Exception:\n  pass", url])
    }
}
