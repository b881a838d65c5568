import Foundation
import XCTest

final class SymbolizeCommandTests: XCTestCase {
    /// A hostile ELF: a function whose size is 2^64-1 and an unsized label.
    /// No overflow, and an address far past every symbol is `??`, never the
    /// nearest name.
    func testHugeSymbolSizeAndFarAddresses() throws {
        let asm = [".text", ".globl big_func", ".type big_func,@function", "big_func: nop", "ret", ".size big_func, 0xffffffffffffffff",
                   ".globl other", ".type other,@function", "other: ret", ".size other, 1", ".globl tail_label", "tail_label: nop"]
        let source = asm.map { "__asm__(\"\($0)\");" }.joined(separator: "\n") + "\n"
        let elf = try CLI.compileC("huge-size", source, flags: ["-nostdlib", "-static", "-Wl,-e,big_func"], output: "huge-size.elf")
        let addrs = try CLI.tempFile("huge-addrs.txt", Data("0xfffffffffffffff0\n0xffffffff00000000\n".utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", elf, "--force", "--addresses", addrs])
        XCTAssertEqual(r.status, 0, r.stderr)
        let names = r.stdout.split(separator: "\n").enumerated().filter { $0.offset % 2 == 0 }.map { String($0.element) }
        XCTAssertEqual(names, ["??", "??"], r.stdout)
        let log = try CLI.tempFile("huge-log.txt", Data(" big_func+0x7fffffffffffffff\n other+0xffffffffffffffff\n".utf8))
        let s = try CLI.run(["symbolize", "--vmlinux", elf, "--force", log])
        XCTAssertNotEqual(s.status, 0 + 128, "no crash")
        XCTAssertTrue(s.status == 0 || s.status == 2, "\(s.status) \(s.stderr)")
    }

    /// An address line that resolves to nothing is echoed in llvm-symbolizer's
    /// error object: quotes, NUL and control bytes in it must be escaped, or
    /// `--output-style json` prints a line no JSON reader takes (found by
    /// PropertyTests).
    func testUnresolvedLineIsEscapedInJSON() throws {
        let elf = try CLI.compileC("json-escape", "int main(void) { return 0; }\n", flags: ["-g"], output: "json-escape.elf")
        let list = try CLI.tempFile("json-escape.txt", Data("main+1\u{0}2\nsay \"hi\"\n\u{1}x\\\n".utf8))
        let r = try CLI.run(["symbolize", "--force", "--vmlinux", elf, "--addresses", "--output-style", "json", list])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, r.stdout)
        let given = try lines.map { try XCTUnwrap(CLI.json(String($0))["Address"] as? String) }
        XCTAssertEqual(given, ["main+1\u{0}2", "say \"hi\"", "\u{1}x\\"])
    }

    override class func tearDown() { CLI.removeTempFiles() }

    /// crash `bt` frames print absolute addresses without offsets; the KASLR
    /// slide and a module's load base are intersected from them. Addresses
    /// at the ends of the 64-bit range made that arithmetic overflow
    /// (SIGILL): now such frames allow no slide or base, said as a note.
    func testCrashFramesAtTheEndsOfTheAddressSpaceAllowNoSlideOrBase() throws {
        let v = try vmlinux()
        try FileManager.default.createDirectory(at: CLI.tempDir.appendingPathComponent("modules"), withIntermediateDirectories: true)
        let module = try CLI.compileC("e2e-module", Self.source, flags: ["-g", "-O2", "-c"], output: "modules/e2e_mod.ko")
        let modules = URL(fileURLWithPath: module).deletingLastPathComponent().path
        // `work` is linked at S: a frame at S + 0x7ffffffffffffff0 allows
        // only slides in the last 2 MiB below Int64.max.
        let work = try XCTUnwrap(Self.linkAddress(of: "work", in: v))
        let (raw, _) = work.addingReportingOverflow(0x7fff_ffff_ffff_fff0)
        let task = "PID: 93       TASK: ffff8c07019b4180  CPU: 0    COMMAND: \"fixture\""
        let cases: [(name: String, log: String, note: String)] = [
            ("slide", "crash> bt 93\n\(task)\n #0 [ffffce22003e3f08] work at \(String(raw, radix: 16))\n",
             "no KASLR slide keeps every frame inside its function"),
            ("module-base", "crash> mod\n     MODULE       NAME                 BASE         SIZE  OBJECT FILE\n"
                + "ffffffffc0553040  e2e_mod  ffffffffffffffff  16384  (not loaded)  [CONFIG_KALLSYMS]\n"
                + "crash> bt 93\n\(task)\n #0 [ffffce22003e3f08] work at ffffffffc0551087 [e2e_mod]\n",
             "BASE 0xffffffffffffffff is not page-aligned: not used"),
            ("module-intersection", "crash> bt 93\n\(task)\n #0 [ffffce22003e3f08] work at fffffffffffffff9 [e2e_mod]\n",
             "module e2e_mod: no load address keeps every frame inside its function"),
        ]
        for c in cases {
            let log = try CLI.tempFile("ends-\(c.name).log", Data(c.log.utf8))
            let r = try CLI.run(["symbolize", "--force", "--vmlinux", v, "--modules", modules, log])
            XCTAssertFalse(r.signaled, "\(c.name): \(r.stderr.prefix(400))")
            XCTAssertTrue(r.stderr.contains(c.note), "\(c.name): \(r.stderr)")
            XCTAssertFalse(r.stdout.contains("«"), "\(c.name): nothing is placed on a guess: \(r.stdout)")
        }
    }

    /// A symbol's link-time address, from binutils' nm (installed with the compiler).
    static func linkAddress(of name: String, in elf: String) throws -> UInt64? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        p.arguments = [elf]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.split(separator: "\n").lazy.map { $0.split(separator: " ") }
            .first { $0.count == 3 && $0[2] == name }.flatMap { UInt64($0[0], radix: 16) }
    }

    static let source = """
        static inline __attribute__((always_inline)) int twice(int x) { return x * 2 + __builtin_popcount(x); }
        __attribute__((noinline)) int work(int x) { int s = 0; for (int i = 0; i < x; i++) s += twice(i); return s; }
        const char linux_banner[] = "Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP\\n";
        int main(int argc, char **argv) { (void)argv; return work(argc) + linux_banner[0]; }

        """

    func vmlinux() throws -> String {
        try CLI.compileC("e2e-kernel", Self.source, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-e2e")
    }

    func testAnnotatesInPlaceAndRefusesTheWrongKernel() throws {
        let v = try vmlinux()
        let log = try CLI.tempFile("sym.log", Data("""
            [    0.000000] Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP
            [   12.345680]  work+0x20/0x60
            [   12.345681] unrelated line

            """.utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", v, log])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("work+0x20/0x60 «"), r.stdout)
        XCTAssertTrue(r.stdout.contains("[   12.345681] unrelated line\n"), "other bytes kept")

        let wrong = try CLI.tempFile("wrong.log", Data("[    0.000000] Linux version 5.10.0-1-amd64 (x) #1\n[   1.0]  work+0x20/0x60\n".utf8))
        let refused = try CLI.run(["symbolize", "--vmlinux", v, wrong])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("5.10.0-1-amd64") && refused.stderr.contains("6.1.0-77-e2e"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        let forced = try CLI.run(["symbolize", "--force", "--vmlinux", v, wrong])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stdout.contains("«"))
    }

    /// Serial consoles give CRLF files; "\r\n" is one Swift Character, which once kept them in one piece.
    func testCRLFInputIsAnnotatedAndKeepsItsLineEnds() throws {
        let v = try vmlinux()
        let log = try CLI.tempFile("crlf.log", Data("[    0.000000] Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP\r\n[   12.345680]  work+0x20/0x60\r\n".utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", v, log])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("work+0x20/0x60 «"), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("»\r\n"), "the CR stays at the end of the annotated line")
    }

    func testAddressesJSONHasLLVMSymbolizerFields() throws {
        let v = try vmlinux()
        let r = try CLI.run(["symbolize", "--vmlinux", v, "--addresses", "--output-style", "json", "-"], stdin: Data("work+0x10\n".utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertTrue((obj["Address"] as? String)?.hasPrefix("0x") == true)
        XCTAssertNotNil(obj["ModuleName"])
        let symbols = try XCTUnwrap(obj["Symbol"] as? [[String: Any]])
        XCTAssertEqual(symbols.last?["FunctionName"] as? String, "work")
        for key in ["FunctionName", "FileName", "Line", "Column", "StartLine", "Discriminator"] {
            XCTAssertNotNil(symbols.first?[key], key)
        }
    }

    /// --jobs trades memory for speed only: one worker or two give the same
    /// answers in the same order (4,100 addresses: enough for two).
    func testJobsChangeNothingButTheWorkers() throws {
        let v = try vmlinux()
        let list = try CLI.run(["symbolize", "--vmlinux", v, "--addresses", "--output-style", "json", "-"], stdin: Data("work\n".utf8))
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let work = try XCTUnwrap((obj["Address"] as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) })
        let input = Data((0..<4100).map { "0x" + String(work + UInt64($0 % 48), radix: 16) }.joined(separator: "\n").utf8)
        let one = try CLI.run(["symbolize", "--jobs", "1", "--vmlinux", v, "--addresses", "-"], stdin: input)
        let two = try CLI.run(["symbolize", "--jobs", "2", "--vmlinux", v, "--addresses", "-"], stdin: input)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(one.stdout, two.stdout)
        XCTAssertEqual(one.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("work") }.count, 4100)
        let zero = try CLI.run(["symbolize", "--jobs", "0", "--vmlinux", v, "--addresses", "-"], stdin: input)
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("--jobs must be at least 1"), zero.stderr)
    }

    /// `lockscan addr2line` prints what GNU addr2line prints, byte for byte,
    /// under each flag combination scripts use (decode_stacktrace.sh's
    /// `-fpie`, `-pifa`, `--exe=`, `-eFILE`, `-s`, `-C`), for addresses in an
    /// inlined function, past every symbol and not hex at all. Without `-i`
    /// that is the innermost (inlined) function, not the real one.
    func testAddr2lineMatchesGNUAddr2line() throws {
        let v = try vmlinux()
        let gnu = "/usr/bin/addr2line"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gnu), "GNU addr2line (binutils) not installed")
        let work = try Self.address(of: "work", in: v)
        let addrs = (0..<40).map { "0x" + String(work + UInt64($0), radix: 16) } + [String(work + 9, radix: 16), "0x999", "zz"]
        let forms: [[String]] = [["-e", v, "-f", "-i", "-a"], ["-e", v, "-f"], ["-e", v], ["-e", v, "-a"], ["-pifae", v], ["-fpie", v],
                                 ["-e", v, "-p"], ["-e", v, "-pa"], ["-e", v, "-pi"], ["-e", v, "-pf"], ["-e", v, "-ps"],
                                 ["-e", v, "-sfi"], ["-Cpifa", "--exe=" + v], ["-fi", "-e" + v], ["--functions", "--inlines", "--basenames", "--exe", v]]
        for form in forms {
            let ours = try CLI.run(["addr2line"] + form + addrs)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: gnu)
            p.arguments = form + addrs
            let gp = Pipe()
            p.standardOutput = gp
            try p.run()
            let theirs = String(decoding: gp.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(ours.status, 0, "\(form): \(ours.stderr)")
            XCTAssertEqual(ours.stdout, theirs, "\(form)")
        }
    }

    /// A symbol's link-time address, as nm prints it.
    static func address(of symbol: String, in elf: String) throws -> UInt64 {
        let out = try CLI.output(of: "nm", [elf])
        return try XCTUnwrap(out.split(separator: "\n").first { $0.hasSuffix(" " + symbol) }.flatMap { UInt64($0.prefix(16), radix: 16) })
    }

    /// A frame printed only as an address (`[<…>]`, `? 0x…`, as older
    /// kernels and some crash output print them) gets the function name
    /// the kernel would have printed, in symbolize's annotation and in
    /// scan's event stack, once the log's named frames give the slide.
    func testBareAddressFramesGetTheirFunction() throws {
        let v = try vmlinux()
        let work = try Self.address(of: "work", in: v)
        let named = String(work + 0x10, radix: 16), bare = String(work + 0x14, radix: 16)
        let log = try CLI.tempFile("bare.log", Data("""
            [    0.000000] Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP
            [   23.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [kworker/1:1:99]
            [   23.000000] Call Trace:
            [   23.000000]  [<\(bare)>]
            [   23.000000]  [<\(bare)>] ? 0x\(bare)
            [   23.000000]  [<\(named)>] work+0x10/0x60

            """.utf8))
        let s = try CLI.run(["symbolize", "--vmlinux", v, log])
        XCTAssertEqual(s.status, 0, s.stderr)
        let bareLines = s.stdout.split(separator: "\n").filter { $0.contains("[<\(bare)>]") }
        XCTAssertEqual(bareLines.count, 2, s.stdout)
        for line in bareLines { XCTAssertTrue(line.contains("«work+0x14/0x"), "\(line)") }
        let r = try CLI.run(["scan", "--json", "--vmlinux", v, log])
        let stack = try XCTUnwrap(CLI.events(r.stdout).first?["stack"] as? [[String: Any]])
        let outer = stack.filter { $0["inlined"] == nil }
        XCTAssertEqual(outer.map { $0["function"] as? String }, ["work", "work", "work"], "\(stack)")
        XCTAssertEqual(outer.first?["offset"] as? String, "0x14")
    }

    /// An assembler unit is named by its absolute path, a C unit relative
    /// to the build directory: both print relative to the source tree
    /// (`arch/…/entry.S`, as for `.c` files), not one absolute and the other not.
    func testAssemblerPathsAreRelativeToTheSourceTree() throws {
        let tree = CLI.tempDir.appendingPathComponent("tree")
        let build = tree.appendingPathComponent("debian/build")
        try FileManager.default.createDirectory(at: build, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("arch/x86/entry"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("init"), withIntermediateDirectories: true)
        try Data(".text\n.globl entry_stub\n.type entry_stub,@function\nentry_stub:\n\tnop\n\tnop\n\tret\n.size entry_stub,.-entry_stub\n".utf8)
            .write(to: tree.appendingPathComponent("arch/x86/entry/entry.S"))
        try Data("void entry_stub(void);\nconst char linux_banner[] = \"Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP\\n\";\nint main(void) { entry_stub(); return linux_banner[0]; }\n".utf8)
            .write(to: tree.appendingPathComponent("init/main.c"))
        let elf = build.appendingPathComponent("vmlinux").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The assembler file by its absolute path, as Kbuild gives it; the C
        // file by its absolute path too, which stays as its compiler named it.
        cc.arguments = ["cc", "-g", "-no-pie", "-o", elf, tree.appendingPathComponent("arch/x86/entry/entry.S").path,
                        tree.appendingPathComponent("init/main.c").path]
        cc.currentDirectoryURL = build
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0)
        let stub = try Self.address(of: "entry_stub", in: elf), main = try Self.address(of: "main", in: elf)
        let list = try CLI.tempFile("asm-addrs.txt", Data("0x\(String(stub + 1, radix: 16))\n0x\(String(main, radix: 16))\n".utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", elf, "--addresses", list])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "entry_stub\narch/x86/entry/entry.S:6\nmain\n\(tree.path)/init/main.c:3\n")
    }

    func testBadVmlinuxFilesExitTwoWithOneMessage() throws {
        let log = try CLI.tempFile("bad.log", Data("[   1.0]  work+0x20/0x60\n".utf8))
        let empty = try CLI.tempFile("empty-vmlinux", Data())
        let random = try CLI.tempFile("random-vmlinux", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }))
        let v = try Data(contentsOf: URL(fileURLWithPath: try vmlinux()))
        let half = try CLI.tempFile("half-vmlinux", v.prefix(v.count / 2))
        for bad in [empty, random, half, "/nonexistent/vmlinux"] {
            let r = try CLI.run(["symbolize", "--vmlinux", bad, log])
            XCTAssertEqual(r.status, 2, "\(bad): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(bad), r.stderr)
        }
        // A kernel without DWARF is still a kernel: its frames stay as
        // printed, and that is said once instead of a «??:0» on each.
        let nodebug = try CLI.compileC("nodebug", Self.source, flags: ["-g0", "-O2", "-no-pie"], output: "vmlinux-nodebug")
        let twoFrames = try CLI.tempFile("nodebug.log", Data("[   1.0]  work+0x20/0x60\n[   1.1]  main+0x10/0x30\n".utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", nodebug, twoFrames])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "[   1.0]  work+0x20/0x60\n[   1.1]  main+0x10/0x30\n")
        XCTAssertEqual(r.stderr.components(separatedBy: "no DWARF").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(nodebug), r.stderr)
    }

    /// A --vmlinux that is not a Linux kernel (a user-space program or
    /// library, a text file) is refused by every command that takes one,
    /// naming the file and --force; with --force they go on.
    func testNotAKernelIsRefusedUnlessForced() throws {
        let log = try CLI.tempFile("ls.log", Data("[    0.000000] Linux version 6.1.0-77-e2e (t@t) (gcc) #1 SMP\n[   12.345680]  work+0x20/0x60\n".utf8))
        let lib = try CLI.compileC("userlib", Self.source, flags: ["-g", "-O2", "-shared", "-fPIC"], output: "libuser.so")
        for bad in ["/bin/ls", lib] {
            for args in [["symbolize", "--vmlinux", bad, log], ["symbolize", "--addresses", "--vmlinux", bad, "-"],
                         ["scan", "--vmlinux", bad, log], ["addr2line", "-e", bad, "0x1000"]] {
                let r = try CLI.run(args, stdin: Data("0x1000\n".utf8))
                XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("\(bad) is not a Linux kernel image") && r.stderr.contains("--force"), "\(args): \(r.stderr)")
            }
        }
        let forced = try CLI.run(["symbolize", "--force", "--vmlinux", "/bin/ls", log])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(forced.stdout, try String(contentsOfFile: log, encoding: .utf8), "nothing of /bin/ls matches: the log comes back as it was")
        XCTAssertNotEqual(try CLI.run(["scan", "--force", "--vmlinux", "/bin/ls", log]).status, 2)
        let a2l = try CLI.run(["addr2line", "--force", "-e", "/bin/ls", "-f", "0x1000"])
        XCTAssertEqual(a2l.status, 0, a2l.stderr)
        XCTAssertEqual(a2l.stdout, "??\n??:0\n")
        // Not ELF at all: refused, and --force cannot help.
        let text = try CLI.tempFile("notes.txt", Data("not a kernel\n".utf8))
        let t = try CLI.run(["symbolize", "--force", "--vmlinux", text, log])
        XCTAssertEqual(t.status, 2)
        XCTAssertTrue(t.stderr.contains(text) && t.stderr.contains("not a Linux kernel image"), t.stderr)
    }

    /// CONFIG_STACKTRACE_BUILD_ID kernels print their build ID on the task
    /// header: a vmlinux with another one is refused unless --force.
    func testBuildIDMismatchIsRefusedUnlessForced() throws {
        let v = try vmlinux()
        let notes = try CLI.output(of: "readelf", ["-n", v])
        let own = try XCTUnwrap(notes.components(separatedBy: "Build ID: ").dropFirst().first?.prefix(40), notes)
        func log(_ id: String) throws -> String {
            try CLI.tempFile("bid-\(id.prefix(4)).log", Data("""
                [  100.000001] CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0-77-e2e #1 \(id)
                [  100.000002]  work+0x20/0x60

                """.utf8))
        }
        let same = try CLI.run(["symbolize", "--vmlinux", v, try log(String(own))])
        XCTAssertEqual(same.status, 0, same.stderr)
        XCTAssertTrue(same.stdout.contains("work+0x20/0x60 «"), same.stdout)
        let other = String(repeating: "0f", count: 20)
        let wrong = try CLI.run(["symbolize", "--vmlinux", v, try log(other)])
        XCTAssertEqual(wrong.status, 2, wrong.stdout)
        XCTAssertTrue(wrong.stderr.contains(other) && wrong.stderr.contains(String(own)) && wrong.stderr.contains("--force"), wrong.stderr)
        let forced = try CLI.run(["symbolize", "--force", "--vmlinux", v, try log(other)])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stdout.contains("work+0x20/0x60 «"), forced.stdout)
    }
}

final class ScanWithVmlinuxTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    func testEventStacksCarryFileAndLine() throws {
        let v = try CLI.compileC("scan-kernel", SymbolizeCommandTests.source, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-scan")
        let log = try CLI.tempFile("soft.log", Data("""
            [  100.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]
            [  100.000001] CPU: 1 PID: 115 Comm: spin Not tainted 6.1.0-77-e2e #1
            [  100.000002] RIP: 0010:work+0x20/0x60
            [  100.000003] Call Trace:
            [  100.000004]  main+0x10/0x30
            [  100.000005]  kthread+0xd7/0x100

            """.utf8))
        let r = try CLI.run(["scan", "--json", "--vmlinux", v, log])
        XCTAssertEqual(r.status, 1, r.stderr)
        let e = try XCTUnwrap(CLI.events(r.stdout).first)
        let stack = try XCTUnwrap(e["stack"] as? [[String: Any]])
        let rip = try XCTUnwrap(stack.first { $0["function"] as? String == "work" && $0["ip"] as? Bool == true })
        XCTAssertTrue((rip["file"] as? String)?.hasSuffix("scan-kernel.c") == true, "\(rip)")
        XCTAssertNotNil(rip["line"])
        XCTAssertNil(stack.first { $0["function"] as? String == "kthread" }?["file"], "unknown symbols stay unresolved")
    }

    /// An event from another kernel release is not given lines from this
    /// vmlinux: wrong debug files give wrong lines. --force overrides.
    func testEventFromAnotherReleaseIsNotSymbolizedUnlessForced() throws {
        let v = try CLI.compileC("scan-kernel", SymbolizeCommandTests.source, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-scan")
        let log = try CLI.tempFile("other-release.log", Data("""
            [  100.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spin:115]
            [  100.000001] CPU: 1 PID: 115 Comm: spin Not tainted 5.10.0-9-amd64 #1
            [  100.000002] RIP: 0010:work+0x20/0x60

            """.utf8))
        let r = try CLI.run(["scan", "--json", "--vmlinux", v, log])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("5.10.0-9-amd64") && r.stderr.contains("--force"), r.stderr)
        let stack = try XCTUnwrap(CLI.events(r.stdout).first?["stack"] as? [[String: Any]])
        XCTAssertNil(stack.first { $0["function"] as? String == "work" }?["file"], "not symbolized with the wrong kernel")
        XCTAssertNotNil((try CLI.json(r.stdout))["diagnostics"], "the refusal is in the document")
        let forced = try CLI.run(["scan", "--json", "--force", "--vmlinux", v, log])
        XCTAssertEqual(forced.status, 1, forced.stderr)
        let forcedStack = try XCTUnwrap(CLI.events(forced.stdout).first?["stack"] as? [[String: Any]])
        XCTAssertNotNil(forcedStack.first { $0["function"] as? String == "work" }?["file"])
    }
}

final class SymbolizeTwoKernelsTests: XCTestCase {
    override class func tearDown() { CLI.removeTempFiles() }

    /// Guest and host logs each get the kernel whose release they show; labels force the pairing.
    func testEachInputGetsItsKernel() throws {
        let guest = try CLI.compileC("guest-k", SymbolizeCommandTests.source, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-guest")
        let hostSource = SymbolizeCommandTests.source.replacingOccurrences(of: "6.1.0-77-e2e", with: "5.10.0-88-host")
        let host = try CLI.compileC("host-k", hostSource, flags: ["-g", "-O2", "-no-pie"], output: "vmlinux-host")
        let guestLog = try CLI.tempFile("g.log", Data("[ 0.000000] Linux version 6.1.0-77-e2e (t) #1\n[ 1.0]  work+0x20/0x60\n".utf8))
        let hostLog = try CLI.tempFile("h.log", Data("[ 0.000000] Linux version 5.10.0-88-host (t) #1\n[ 1.0]  work+0x20/0x60\n".utf8))
        let r = try CLI.run(["symbolize", "--vmlinux", host, "--vmlinux", guest, guestLog, hostLog])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("guest-k.c:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("host-k.c:"), r.stdout)
        // Labels: the guest log forced onto the host kernel is a release mismatch.
        let forced = try CLI.run(["symbolize", "--vmlinux", "guest=\(host)", "--guest", guestLog])
        XCTAssertEqual(forced.status, 2, forced.stdout)
        XCTAssertTrue(forced.stderr.contains("5.10.0-88-host"), forced.stderr)
    }
}
