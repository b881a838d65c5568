import Foundation
import Symbolizer
import XCTest

/// Against a real Debian kernel: runs only with LOCKSCAN_REAL_KERNEL=1 (it
/// then installs the newest linux-image-*-cloud-amd64-dbg unless VMLINUX
/// names a debug vmlinux), because the package is ~280 MB.
final class RealKernelTests: XCTestCase {
    func realVmlinux() throws -> String {
        let env = ProcessInfo.processInfo.environment
        try XCTSkipUnless(env["LOCKSCAN_REAL_KERNEL"] == "1", "set LOCKSCAN_REAL_KERNEL=1 to test against Debian's debug vmlinux (installs linux-image-*-cloud-amd64-dbg)")
        if let v = env["VMLINUX"] { return v }
        func installed() -> String? {
            (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/debug/boot"))?
                .filter { $0.hasPrefix("vmlinux-") }.sorted().last.map { "/usr/lib/debug/boot/" + $0 }
        }
        if let v = installed() { return v }
        let search = try Fixtures.run("/usr/bin/env", ["sh", "-c", "apt-get update -qq >/dev/null 2>&1; apt-cache search --names-only '^linux-image-[0-9.-]+-cloud-amd64-dbg$' | awk '{print $1}' | sort -V | tail -1"])
        let pkg = search.out.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(pkg.isEmpty, "no -dbg package in the registry")
        let r = try Fixtures.run("/usr/bin/env", ["sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \(pkg) >/dev/null 2>&1"])
        XCTAssertEqual(r.status, 0, "cannot install \(pkg): \(r.out)")
        return try XCTUnwrap(installed())
    }

    /// 1,000 random return addresses: the same function chain and file:line
    /// as llvm-symbolizer on at least 99.5% (paths relative to the build dir,
    /// .isra/.constprop/.part/.cold ignored); the differences are printed.
    func testAgreesWithLLVMSymbolizer() throws {
        let vmlinux = try realVmlinux()
        let llvm = try XCTUnwrap(["/opt/swift/usr/bin/llvm-symbolizer", "/usr/bin/llvm-symbolizer"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let nm = try Fixtures.run("/usr/bin/env", ["nm", "-S", "--defined-only", vmlinux])
        var text: [(UInt64, UInt64)] = []
        for line in nm.out.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, f[2] == "t" || f[2] == "T", let a = UInt64(f[0], radix: 16), let s = UInt64(f[1], radix: 16), s > 8 else { continue }
            text.append((a, s))
        }
        var rng = SplitMix(seed: 20261122)
        let addresses = (0..<1000).map { _ -> UInt64 in
            let (a, s) = text[Int(rng.next() % UInt64(text.count))]
            return a + 1 + rng.next() % (s - 1)
        }
        let list = Fixtures.dir.appendingPathComponent("real-addrs.txt")
        try Data(addresses.map { "0x" + String($0, radix: 16) }.joined(separator: "\n").utf8).write(to: list)
        let theirs = try Fixtures.run("/usr/bin/env", ["sh", "-c", "\(llvm) --obj=\(vmlinux) < \(list.path)"]).out
            .components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0.split(separator: "\n").map(String.init) }
        XCTAssertEqual(theirs.count, addresses.count)
        let kernel = try KernelDebugInfo(vmlinux: vmlinux)
        var same = 0
        var differences: [String] = []
        for (a, t) in zip(addresses, theirs) {
            let ours = kernel.symbolize(a).frames.flatMap { [$0.function, "\($0.file ?? "??"):\($0.line ?? 0):\($0.column ?? 0)"] }
            if Self.normalize(ours) == Self.normalize(t) { same += 1 } else { differences.append("0x\(String(a, radix: 16)): ours \(ours) llvm \(t)") }
        }
        print("llvm-symbolizer agreement: \(same)/\(addresses.count)\n" + differences.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(Double(same) / Double(addresses.count), 0.995, differences.prefix(10).joined(separator: "\n"))
    }

    static func normalize(_ lines: [String]) -> [String] {
        lines.enumerated().map { i, s in
            if i % 2 == 0 {
                return s.replacingOccurrences(of: #"\.(isra|constprop|part|cold|llvm)(\.\d+)?"#, with: "", options: .regularExpression)
            }
            return s.replacingOccurrences(of: #"^(debian/build/[^/]+/|/build/[^ ]*?/linux-[0-9.]+/)"#, with: "", options: .regularExpression)
        }
    }
}

/// A small seeded generator, so the addresses are the same every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
