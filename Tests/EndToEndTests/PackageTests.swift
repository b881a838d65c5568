import Foundation
import XCTest

/// The .deb that scripts/package builds (scripts/test builds it before the
/// tests) runs where no Swift toolchain is: its lockscan is run from the
/// unpacked package inside a private mount namespace whose toolchain folder
/// is an empty tmpfs, and must scan a capture as the build-tree binary does.
final class PackageTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func package() throws -> String {
        let dir = CLI.packageRoot.appendingPathComponent(".build/package").path
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".deb") } ?? []
        try XCTSkipIf(debs.isEmpty, "no .deb in .build/package: run scripts/package (scripts/test does)")
        return dir + "/" + debs.sorted().last!
    }

    /// The folder the toolchain's runtime libraries come from, and its root.
    func toolchainRoot() throws -> String {
        let ldd = try CLI.output(of: "ldd", [CLI.lockscan])
        let line = try XCTUnwrap(ldd.split(separator: "\n").first { $0.contains("libswiftCore.so") }, ldd)
        let path = try XCTUnwrap(line.split(separator: " ").first { $0.hasPrefix("/") }.map(String.init), String(line))
        return String(try XCTUnwrap(path.range(of: "/usr/lib/swift").map { path[..<$0.lowerBound] }))
    }

    func testPackageRunsWithTheToolchainHidden() throws {
        let deb = try package()
        let info = try CLI.output(of: "dpkg-deb", ["--field", deb, "Package", "Depends"])
        XCTAssertTrue(info.contains("Package: lockscan") && info.contains("libdw1"), info)
        XCTAssertFalse(info.lowercased().contains("swift"), "no Swift package is needed: \(info)")

        let root = CLI.tempDir.appendingPathComponent("pkgroot").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        _ = try CLI.output(of: "dpkg-deb", ["-x", deb, root])
        for file in ["usr/bin/lockscan", "usr/lib/lockscan/libLockscanKit.so", "usr/lib/lockscan/libswiftCore.so",
                     "usr/share/man/man1/lockscan.1.gz", "usr/share/bash-completion/completions/lockscan",
                     "usr/share/zsh/vendor-completions/_lockscan", "usr/share/fish/vendor_completions.d/lockscan.fish"] {
            let attrs = try FileManager.default.attributesOfItem(atPath: root + "/" + file)
            XCTAssertGreaterThan(attrs[.size] as? Int ?? 0, 0, file)
        }
        let man = try CLI.output(of: "sh", ["-c", "gzip -dc '\(root)/usr/share/man/man1/lockscan.1.gz'"])
        XCTAssertTrue(man.contains(".Nm lockscan") && man.contains("scan"), String(man.prefix(300)))

        let toolchain = try toolchainRoot()
        let capture = CLI.packageRoot.appendingPathComponent("corpora/incidents/centos7-hard-lockup-tg_unthrottle_up.log").path
        let hidden = "mount -t tmpfs none '\(toolchain)' && test -z \"$(ls '\(toolchain)')\" && "
            + "ldd '\(root)/usr/bin/lockscan' | grep -c 'not found'; "
            // A named zone loads ICU's zone data at run time, from the package's folder.
            + "'\(root)/usr/bin/lockscan' timeline --display-tz Asia/Tokyo --guest '\(capture)' 2>&1 | grep -c 'expected a zone'; "
            + "'\(root)/usr/bin/lockscan' scan --json '\(capture)'; echo \"exit=$?\""
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-m", "--propagation", "private", "true"]
        try probe.run()
        probe.waitUntilExit()
        try XCTSkipIf(probe.terminationStatus != 0, "no private mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
        let out = try CLI.output(of: "/usr/bin/unshare", ["-m", "--propagation", "private", "sh", "-c", hidden])
        XCTAssertTrue(out.hasPrefix("0\n"), "a library is not found without the toolchain: \(out.prefix(400))")
        XCTAssertTrue(out.hasPrefix("0\n0\n"), "a zone name is refused without the toolchain: \(out.prefix(400))")
        XCTAssertTrue(out.hasSuffix("exit=1\n"), "findings exit 1: \(out.suffix(200))")
        let json = String(out.dropFirst(4).dropLast("exit=1\n".count))
        XCTAssertEqual(try CLI.events(json).compactMap { $0["kind"] as? String }, ["hard_lockup"])
    }
}
