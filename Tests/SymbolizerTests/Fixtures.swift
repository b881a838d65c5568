import Foundation
import XCTest

/// Tiny ELF fixtures built at test time with the system compiler, so no
/// binary is committed and CI never needs a 600 MB vmlinux (drgn's approach).
enum Fixtures {
    static let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lockscan-fixtures-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// Three levels of always-inline functions under a noinline one, with a
    /// static duplicate name, so inline chains and symbol disambiguation show;
    /// and an assembly label of size 0, as x86's `end_repeat_nmi` is.
    static let source = """
        static inline __attribute__((always_inline)) int level3(int x) { return x * 3 + __builtin_popcount(x); }
        static inline __attribute__((always_inline)) int level2(int x) { return level3(x + 1) * 2; }
        static inline __attribute__((always_inline)) int level1(int x) { return level2(x ^ 5) + 7; }
        __attribute__((noinline)) int outer(int x) { int s = 0; for (int i = 0; i < x; i++) s += level1(i); return s; }
        __attribute__((noinline)) static int helper(int x) { return outer(x) + 1; }
        int (*volatile keep)(int) = helper;
        const char linux_banner[] = "Linux version 6.1.0-99-fixture (lockscan@test) (gcc) #1 SMP\\n";
        int main(int argc, char **argv) { (void)argv; return keep(argc) + linux_banner[0]; }
        __asm__(".text\\n.globl end_repeat_nmi\\nend_repeat_nmi:\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop\\n");

        """

    static func compiler() throws -> String {
        try XCTUnwrap(["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) },
                      "no C compiler: scripts/test installs gcc")
    }

    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let outURL = dir.appendingPathComponent("out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let fh = try FileHandle(forWritingTo: outURL)
        p.standardOutput = fh
        p.standardError = fh
        try p.run()
        p.waitUntilExit()
        try fh.close()
        defer { try? FileManager.default.removeItem(at: outURL) }
        return (p.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self))
    }

    /// Builds `name` from the fixture source with extra flags (`-pie`, `-c` …).
    static func build(_ name: String, flags: [String]) throws -> String {
        let src = dir.appendingPathComponent("fixture.c")
        if !FileManager.default.fileExists(atPath: src.path) { try Data(source.utf8).write(to: src) }
        let out = dir.appendingPathComponent(name).path
        let r = try run(compiler(), ["-g", "-O2"] + flags + ["-o", out, src.path])
        XCTAssertEqual(r.status, 0, r.out)
        return out
    }

    /// Three compile units, each with an inline chain, calling across
    /// units: what a window past the first unit is tested on.
    static let units = [
        "unit_a.c": """
            static inline __attribute__((always_inline)) int square(int x) { return x * x + __builtin_popcount(x); }
            __attribute__((noinline)) int first(int x) { int s = 0; for (int i = 0; i < x; i++) s += square(i); return s; }
            """,
        "unit_b.c": """
            int first(int);
            static inline __attribute__((always_inline)) int twice(int x) { return first(x ^ 3) * 2; }
            __attribute__((noinline)) int second(int x) { return twice(x) + twice(x + 1); }
            """,
        "unit_c.c": """
            int second(int);
            static inline __attribute__((always_inline)) int thrice(int x) { return second(x) * 3; }
            __attribute__((noinline)) int third(int x) { return thrice(x) - 1; }
            int main(int argc, char **argv) { (void)argv; return third(argc); }
            """,
    ]

    /// Builds `name` from `units` with extra flags (`-flto` …). With
    /// `firstWithoutFlags` the first unit is compiled on its own without
    /// them, so that with `-flto` the unit holding the optimised code is
    /// not the section's first.
    static func buildUnits(_ name: String, flags: [String], firstWithoutFlags: Bool = false) throws -> String {
        var sources: [String] = []
        for (file, text) in units.sorted(by: { $0.key < $1.key }) {
            let src = dir.appendingPathComponent(file)
            if !FileManager.default.fileExists(atPath: src.path) { try Data(text.utf8).write(to: src) }
            sources.append(src.path)
        }
        if firstWithoutFlags {
            let object = dir.appendingPathComponent("\(name)-first.o").path
            let r = try run(compiler(), ["-g", "-O2", "-c", "-o", object, sources[0]])
            XCTAssertEqual(r.status, 0, r.out)
            sources[0] = object
        }
        let out = dir.appendingPathComponent(name).path
        let r = try run(compiler(), ["-g", "-O2", "-no-pie"] + flags + ["-o", out] + sources)
        XCTAssertEqual(r.status, 0, r.out)
        return out
    }

    static func executable() throws -> String { try build("fixture-exec", flags: ["-no-pie"]) }
    static func pie() throws -> String { try build("fixture-pie", flags: ["-pie", "-fPIE"]) }
    /// An `ld -r`-style relocatable object, the shape of a kernel module.
    static func relocatable() throws -> String { try build("fixture_mod.ko", flags: ["-c"]) }

    /// eu-addr2line -f -i for many addresses in one run: for each, [(function, file, line, column)],
    /// innermost first. `-a` prints each address first, which delimits the variable-length chains.
    static func euAddr2line(_ file: String, _ addresses: [UInt64]) throws -> [UInt64: [(String, String?, Int?, Int?)]] {
        let tool = ["/usr/bin/eu-addr2line"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let r = try run(try XCTUnwrap(tool, "eu-addr2line missing: scripts/test installs elfutils"),
                        ["-a", "-f", "-i", "-e", file] + addresses.map { "0x" + String($0, radix: 16) })
        var out: [UInt64: [(String, String?, Int?, Int?)]] = [:]
        var current: UInt64?
        var pending: String?
        for line in r.out.split(separator: "\n").map(String.init) {
            if line.hasPrefix("0x"), pending == nil, let a = UInt64(line.dropFirst(2), radix: 16) {
                current = a
                out[a] = []
                continue
            }
            if let name = pending, let a = current {
                let loc = line.split(separator: ":").map(String.init)
                let f = loc.first.flatMap { $0 == "??" ? nil : $0 }
                out[a, default: []].append((String(name.components(separatedBy: " inlined at ").first ?? name), f,
                                            loc.count > 1 ? Int(loc[1]) : nil, loc.count > 2 ? Int(loc[2]) : nil))
                pending = nil
            } else {
                pending = line
            }
        }
        return out
    }
}
