import Foundation
import XCTest

/// A support bundle is one input: an sosreport laid out as the sos project
/// writes it (folder, then its tarball), built here from real captures.
/// lockscan reads the host's kernel log once (the rotated files oldest
/// first, not the ring-buffer copy of the same messages), the crashed
/// kernel's vmcore-dmesg, libvirtd.log and the qemu domain logs, says what
/// it read and left out, and finds what scanning those files one by one
/// finds.
final class SupportBundleTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    static let corpora = CLI.packageRoot.appendingPathComponent("corpora")
    /// Bundle path → the capture it holds.
    static let layout: [(String, String)] = [
        ("var/log/messages", "incidents/centos7-hard-lockup-tg_unthrottle_up.log"),
        ("var/log/messages-20240428", "public/soft-lockup-blog-20221112-3.10-el7-log-aggregator-double-prefix.log"),
        ("sos_commands/kernel/dmesg", "incidents/centos7-hard-lockup-tg_unthrottle_up.log"),
        ("var/crash/127.0.0.1-2024-05-01-10:00:00/vmcore-dmesg.txt", "public/hard-lockup-lkml-20200710-coresched-uperf.log"),
        ("var/log/libvirt/libvirtd.log", "generated/abba-deadlock/libvirtd.log"),
        ("var/log/libvirt/qemu/win7.log", "generated/abba-deadlock/domain.log"),
    ]

    func makeBundle() throws -> URL {
        let root = CLI.tempDir.appendingPathComponent("bundles/sosreport-host1-2024-05-01-abcdefg")
        for (path, capture) in Self.layout {
            let dest = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: dest)
            try FileManager.default.copyItem(at: Self.corpora.appendingPathComponent(capture), to: dest)
        }
        // What else an sosreport holds, which is not a log.
        try Data("Linux host1 3.10.0-1160.el7.x86_64 #1 SMP x86_64 GNU/Linux\n".utf8).write(to: root.appendingPathComponent("sos_commands/kernel/uname_-a"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try Data("host1\n".utf8).write(to: root.appendingPathComponent("etc/hostname"))
        return root
    }

    /// Events per file when each is scanned alone, by kind.
    func kindsAlone(_ captures: [String]) throws -> [String] {
        try captures.flatMap { c in try CLI.events(CLI.run(["scan", "--json", Self.corpora.appendingPathComponent(c).path]).stdout).compactMap { $0["kind"] as? String } }
    }

    func testSosreportFolderAndTarballAreReadAsTheirLogs() throws {
        let root = try makeBundle()
        let read = ["var/log/messages-20240428", "var/log/messages", "var/crash/127.0.0.1-2024-05-01-10:00:00/vmcore-dmesg.txt",
                    "var/log/libvirt/libvirtd.log", "var/log/libvirt/qemu/win7.log"]
        let alone = try kindsAlone(read.map { p in Self.layout.first { $0.0 == p }!.1 })

        let folder = try CLI.run(["scan", "--json", root.path])
        XCTAssertEqual(folder.status, 1, folder.stderr)
        let doc = try CLI.json(folder.stdout)
        XCTAssertEqual((doc["inputs"] as? [[String: Any]])?.compactMap { $0["file"] as? String }, read.map { root.path + "/" + $0 })
        XCTAssertEqual(try CLI.events(folder.stdout).compactMap { $0["kind"] as? String }.sorted(), alone.sorted())
        XCTAssertTrue(folder.stderr.contains("\(root.path): sosreport bundle; reading var/log/messages-20240428 (host kernel log), var/log/messages (host kernel log)"), folder.stderr)
        XCTAssertTrue(folder.stderr.contains("not reading sos_commands/kernel/dmesg (its kernel messages are in messages too)"), folder.stderr)

        // The same bundle as the tarball a customer attaches.
        let tarball = CLI.tempDir.appendingPathComponent("bundles/sosreport-host1.tar.xz").path
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-cJf", tarball, "-C", root.deletingLastPathComponent().path, root.lastPathComponent]
        try tar.run()
        tar.waitUntilExit()
        XCTAssertEqual(tar.terminationStatus, 0)
        let scratch = CLI.tempDir.appendingPathComponent("bundle-tmp")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let packed = try CLI.run(["scan", "--json", tarball], env: ["TMPDIR": scratch.path])
        XCTAssertEqual(packed.status, 1, packed.stderr)
        XCTAssertEqual((try CLI.json(packed.stdout)["inputs"] as? [[String: Any]])?.compactMap { $0["file"] as? String }, read.map { tarball + ":" + $0 })
        XCTAssertEqual(try CLI.events(packed.stdout).compactMap { $0["kind"] as? String }.sorted(), alone.sorted())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [], "what was extracted is removed")

        // On the timeline each log takes its role.
        let timeline = try CLI.run(["timeline", "--json", "--bundle", root.path])
        let sources = try XCTUnwrap(try CLI.json(timeline.stdout)["sources"] as? [[String: Any]], timeline.stderr)
        XCTAssertEqual(sources.compactMap { $0["role"] as? String }, ["host", "host", "host", "libvirt", "qemu"], timeline.stdout)

        // A tarball cut short is said, and the rest of the run goes on.
        let data = try Data(contentsOf: URL(fileURLWithPath: tarball))
        let cut = CLI.tempDir.appendingPathComponent("bundles/cut.tar.xz").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let broken = try CLI.run(["scan", "--json", cut, Self.corpora.appendingPathComponent(Self.layout[0].1).path])
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.contains("\(cut): tar cannot list this archive"), broken.stderr)
        XCTAssertFalse(try CLI.events(broken.stdout).isEmpty)
    }

    /// A bundle whose only kernel log is the ring buffer, captured twice by
    /// sos (`dmesg` and `dmesg -T`): one copy is read, not both.
    func testRingBufferCopiesAreReadOnce() throws {
        let root = CLI.tempDir.appendingPathComponent("bundles/sosreport-ring")
        let kernel = root.appendingPathComponent("sos_commands/kernel")
        try FileManager.default.createDirectory(at: kernel, withIntermediateDirectories: true)
        let capture = Self.corpora.appendingPathComponent(Self.layout[0].1)
        for name in ["dmesg", "dmesg_-T"] {
            try? FileManager.default.removeItem(at: kernel.appendingPathComponent(name))
            try FileManager.default.copyItem(at: capture, to: kernel.appendingPathComponent(name))
        }
        let r = try CLI.run(["scan", "--json", root.path])
        XCTAssertEqual((try CLI.json(r.stdout)["inputs"] as? [[String: Any]])?.compactMap { $0["file"] as? String },
                       [root.path + "/sos_commands/kernel/dmesg"])
        XCTAssertTrue(r.stderr.contains("not reading sos_commands/kernel/dmesg_-T (its kernel messages are in sos_commands/kernel/dmesg too)"), r.stderr)
        XCTAssertEqual(try CLI.events(r.stdout).count, try kindsAlone([Self.layout[0].1]).count)
    }

    /// What sos collects around a guest: each domain's log with its
    /// rotations (`*.log*`, oldest first), the domain's XML (read for what
    /// the guest runs; its live copy under run/ left out), and binary
    /// journals, which are said as not read rather than passed over.
    func testDomainLogRotationsXMLAndBinaryJournals() throws {
        let root = CLI.tempDir.appendingPathComponent("bundles/sosreport-kvm-host")
        let files: [(String, Data)] = [
            ("sos_commands/kernel/dmesg", try Data(contentsOf: Self.corpora.appendingPathComponent(Self.layout[0].1))),
            ("var/log/libvirt/qemu/vm105.log.1", try Data(contentsOf: Self.corpora.appendingPathComponent("public/qemu-domain-log-ubuntu1604-libvirt-1.3.1-kvm-spice-linux-guest.log"))),
            ("var/log/libvirt/qemu/vm105.log", try Data(contentsOf: Self.corpora.appendingPathComponent("incidents/windows-clock-watchdog/vm105.log"))),
            ("etc/libvirt/qemu/vm105.xml", Data("<domain type='kvm'>\n  <name>vm105</name>\n  <features>\n    <hyperv>\n      <relaxed state='on'/>\n    </hyperv>\n  </features>\n  <clock offset='localtime'/>\n</domain>\n".utf8)),
            ("run/libvirt/qemu/vm105.xml", Data("<domstatus>\n<domain type='kvm'>\n  <name>vm105</name>\n</domain>\n</domstatus>\n".utf8)),
            ("var/log/journal/0a1b2c/system.journal", Data([0x4C, 0x50, 0x4B, 0x53, 0x48, 0x48, 0x52, 0x48, 0, 0, 0, 1])),
        ]
        for (path, data) in files {
            let dest = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: dest)
        }
        let r = try CLI.run(["scan", "--json", root.path])
        XCTAssertNotEqual(r.status, 2, r.stderr)
        XCTAssertEqual((try CLI.json(r.stdout)["inputs"] as? [[String: Any]])?.compactMap { $0["file"] as? String },
                       ["sos_commands/kernel/dmesg", "var/log/libvirt/qemu/vm105.log.1", "var/log/libvirt/qemu/vm105.log", "etc/libvirt/qemu/vm105.xml"]
                        .map { root.path + "/" + $0 })
        XCTAssertTrue(r.stderr.contains("etc/libvirt/qemu/vm105.xml (libvirt domain XML)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("not reading"), r.stderr)
        XCTAssertTrue(r.stderr.contains("run/libvirt/qemu/vm105.xml (the live copy of a domain defined in etc/libvirt/qemu)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("var/log/journal/0a1b2c/system.journal (a binary systemd journal"), r.stderr)

        // The timeline places the logs and says why the XML is not on it.
        let t = try CLI.run(["timeline", "--json", "--bundle", root.path])
        let sources = try XCTUnwrap(try CLI.json(t.stdout)["sources"] as? [[String: Any]], t.stderr)
        XCTAssertEqual(sources.compactMap { $0["role"] as? String }, ["host", "qemu", "qemu"], t.stdout)
        XCTAssertTrue(t.stderr.contains("vm105.xml: a domain's XML has no times; not on the timeline (scan reads it)"), t.stderr)
    }
}
