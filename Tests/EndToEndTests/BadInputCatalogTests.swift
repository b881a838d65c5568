import Foundation
import XCTest

/// The bad-input catalogue (57 cases): every kind of broken input a user hands lockscan
/// — wrong files, binary and broken text, truncated compression, endless
/// inputs, numbers that fit no field, wrong or broken kernel images, bad
/// options — with the exact exit status and the words of the message
/// (which file, which line, what is wrong, what to do). None may crash or
/// hang; the rest of the input is still analysed.
///
/// Each case runs the real binary; `{name}` in an argument is the path of
/// the case's file `name`. More specialised checks of the same classes live
/// beside the feature they test (plugins in PluginIsolationTests, HTML
/// output in TimelineHTMLBadInputTests).
final class BadInputCatalogTests: XCTestCase {
    struct Case {
        var name: String
        var files: [String: Data] = [:]
        var args: [String]
        var status: Int32
        /// Words that must appear in standard error or standard output.
        var says: [String]
        /// With `--json` in args: the document must parse and hold this many events.
        var events: Int?
    }

    override class func tearDown() { CLI.removeTempFiles() }

    static func text(_ s: String) -> Data { Data(s.utf8) }

    static let softLockup = "[   23.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [kworker/1:1:99]\n"
    static let hardLockup = "[   30.000000] NMI watchdog: Watchdog detected hard LOCKUP on cpu 3\n"

    static func compressed(_ tool: String, _ args: [String], _ data: Data) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return out
    }

    /// The input layer and `scan`.
    static func inputCases() throws -> [Case] {
        let lockups = text(softLockup + hardLockup)
        let gz = try compressed("gzip", ["-c"], lockups), xz = try compressed("xz", ["-c"], lockups), zst = try compressed("zstd", ["-q", "-c"], lockups)
        var junk = Data((0..<4096).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) })
        junk[100] = 0
        return [
            Case(name: "missing file", args: ["scan", "/nonexistent/dmesg.txt"], status: 2, says: ["/nonexistent/dmesg.txt: No such file"]),
            Case(name: "directory", args: ["scan", "/tmp"], status: 2, says: ["/tmp: is a directory"]),
            Case(name: "empty file", files: ["empty.log": Data()], args: ["scan", "--json", "{empty.log}"], status: 0, says: [], events: 0),
            Case(name: "binary junk", files: ["junk.bin": junk], args: ["scan", "--json", "{junk.bin}"], status: 2,
                 says: ["junk.bin:1", "NUL bytes (binary data?); text lines are still analysed"], events: 0),
            Case(name: "NUL bytes in a report line", files: ["nul.log": text("[    1.000000] a\n") + Data([0]) + text(softLockup)],
                 args: ["scan", "--json", "{nul.log}"], status: 2, says: ["nul.log:2", "NUL bytes"], events: 1),
            Case(name: "invalid UTF-8", files: ["latin1.log": text(hardLockup) + Data([0x63, 0x61, 0x66, 0xE9, 0x0A])],
                 args: ["scan", "--json", "{latin1.log}"], status: 2, says: ["latin1.log:2", "invalid UTF-8", "kept as they are"], events: 1),
            Case(name: "line over the length limit", files: ["long.log": text(hardLockup) + Data(repeating: 0x41, count: 17 << 20) + text("\n" + softLockup)],
                 args: ["scan", "--json", "{long.log}"], status: 2, says: ["long.log:2", "longer than the", "limit"], events: 2),
            Case(name: "truncated gzip", files: ["t.log.gz": gz.prefix(gz.count - 12)], args: ["scan", "{t.log.gz}"], status: 2,
                 says: ["t.log.gz: gzip data ends early: the file is truncated"]),
            Case(name: "truncated xz", files: ["t.log.xz": xz.prefix(xz.count - 12)], args: ["scan", "{t.log.xz}"], status: 2,
                 says: ["t.log.xz: xz data ends early: the file is truncated"]),
            Case(name: "truncated zstd", files: ["t.log.zst": zst.prefix(zst.count - 6)], args: ["scan", "{t.log.zst}"], status: 2,
                 says: ["t.log.zst: zstd data ends early: the file is truncated"]),
            Case(name: "gzip with a corrupt body", files: ["c.log.gz": gz.prefix(12) + Data(repeating: 0xFF, count: 40)],
                 args: ["scan", "{c.log.gz}"], status: 2, says: ["c.log.gz:", "gzip"]),
            Case(name: "whole gzip still reads", files: ["ok.log.gz": gz], args: ["scan", "--json", "{ok.log.gz}"], status: 1, says: [], events: 2),
            Case(name: "/dev/zero never ends", args: ["scan", "/dev/zero"], status: 2, says: ["/dev/zero", "stopped after 256 MiB", "--max-stream-size"]),
            Case(name: "/dev/zero with a lower bound", args: ["scan", "--max-stream-size", "1M", "/dev/zero"], status: 2, says: ["stopped after 1 MiB"]),
            Case(name: "line over a lowered limit", files: ["l.log": text(hardLockup) + Data(repeating: 0x41, count: 3000) + text("\n" + softLockup)],
                 args: ["scan", "--json", "--max-line-size", "2K", "{l.log}"], status: 2,
                 says: ["l.log:2", "longer than the 2 KiB limit", "--max-line-size raises"], events: 2),
            Case(name: "line limit that is no size", files: ["l.log": text(softLockup)], args: ["scan", "--max-line-size", "1e9", "{l.log}"], status: 2,
                 says: ["--max-line-size 1e9: a size from 1024 to 1073741824 bytes is wanted"]),
            Case(name: "stream bound past 2^63", files: ["l.log": text(softLockup)], args: ["symbolize", "--max-stream-size", "99999999999999999P", "{l.log}"],
                 status: 2, says: ["--max-stream-size 99999999999999999P: a size from"]),
            Case(name: "same file twice", files: ["twice.log": text(softLockup)], args: ["scan", "--json", "{twice.log}", "{twice.log}"], status: 2,
                 says: ["twice.log: given twice, read once"], events: 1),
            Case(name: "--files-from that cannot be read", args: ["scan", "--files-from", "/nonexistent/list"], status: 2,
                 says: ["--files-from /nonexistent/list: cannot be read"]),
            Case(name: "--files-from naming a missing file", files: ["list": text("/nonexistent/a.log\n"), "present.log": text(softLockup)],
                 args: ["scan", "--json", "--files-from", "{list}", "{present.log}"], status: 2, says: ["/nonexistent/a.log: No such file"], events: 1),
        ]
    }

    /// Numbers that fit no field, in every reader that parses one.
    static func numberCases() -> [Case] {
        [
            Case(name: "boot stamp past Int64", files: ["n1.log": text("[99999999999999999999.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [a:1]\n")],
                 args: ["scan", "--json", "{n1.log}"], status: 1, says: [], events: 1),
            Case(name: "CPU number past Int64", files: ["n2.log": text("[    1.000000] watchdog: BUG: soft lockup - CPU#99999999999999999999 stuck for 9223372036854775808s! [a:1]\n")],
                 args: ["scan", "--json", "{n2.log}"], status: 1, says: [], events: 1),
            Case(name: "hung-task seconds past Int64", files: ["n3.log": text("[    5.000000] INFO: task kworker:1 blocked for more than 99999999999999999999 seconds.\n")],
                 args: ["scan", "--json", "{n3.log}"], status: 1, says: [], events: 1),
            Case(name: "RCU stall numbers past Int64",
                 files: ["n4.log": text("[   60.000000] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n[   60.000000] rcu: \t99999999999999999999-...!: (0 ticks this GP) idle=1/1/0x4000000000000000 softirq=1/1 fqs=0\n[   60.000000] \t(detected by 99999999999999999999, t=99999999999999999999 jiffies, g=1, q=1)\n")],
                 args: ["scan", "--json", "{n4.log}"], status: 1, says: [], events: 1),
            Case(name: "kmsg stamp past Int64", files: ["k.kmsg": text("6,1,9999999999999999999,-;NMI watchdog: Watchdog detected hard LOCKUP on cpu 3\n")],
                 args: ["scan", "--json", "{k.kmsg}"], status: 2, says: ["k.kmsg:1", "kmsg timestamp 9999999999999999999 µs is too large"], events: 1),
            Case(name: "journal clock that is no number",
                 files: ["j.json": text(#"{"__REALTIME_TIMESTAMP":"18446744073709551615","__MONOTONIC_TIMESTAMP":"1e309","MESSAGE":"NMI watchdog: Watchdog detected hard LOCKUP on cpu 3"}"# + "\n")],
                 args: ["scan", "--json", "{j.json}"], status: 2, says: ["j.json:1", "__MONOTONIC_TIMESTAMP '1e309'", "__REALTIME_TIMESTAMP '18446744073709551615'"], events: 1),
            Case(name: "QMP seconds 1e30", files: ["q1.json": text(#"{"timestamp": {"seconds": 1e30, "microseconds": 0}, "event": "STOP"}"# + "\n")],
                 args: ["scan", "--json", "{q1.json}"], status: 2, says: ["q1.json:1", "is not a time between 1970 and 9999; line skipped"], events: 0),
            Case(name: "QMP seconds at Int64.max", files: ["q2.json": text(#"{"timestamp": {"seconds": 9223372036854775807, "microseconds": 999999}, "event": "STOP"}"# + "\n")],
                 args: ["scan", "--json", "{q2.json}"], status: 2, says: ["q2.json:1", "is not a time"], events: 0),
            Case(name: "QMP negative seconds", files: ["q3.json": text(#"{"timestamp": {"seconds": -5, "microseconds": 0}, "event": "STOP"}"# + "\n")],
                 args: ["scan", "--json", "{q3.json}"], status: 2, says: ["q3.json:1", "is not a time"], events: 0),
            // Lines no analyzer asks for (RTC_CHANGE) are not made records,
            // but are still checked: a cut one, a bad time and a cut last
            // line without its newline are each said; a non-ASCII one is fine.
            Case(name: "QMP lines no analyzer reads", files: ["q4.json": text("""
                {"timestamp": {"seconds": 1795316000, "microseconds": 0}, "event": "RTC_CHANGE", "data": {"offset": 1}}
                {"timestamp": {"seconds": 1795316001, "microseconds": 0}, "event": "RTC_CHANGE", "data": {"offset":
                {"timestamp": {"seconds": -5, "microseconds": 0}, "event": "RTC_CHANGE"}
                {"timestamp": {"seconds": 1795316002, "microseconds": 0}, "event": "BALLOON_CHANGE", "data": {"note": "é"}}
                {"timestamp": {"seconds": 1795316003, "microseconds": 0}, "event": "STOP"}
                {"timestamp": {"seconds": 1795316004, "microseconds": 0}, "event": "RTC_CHANGE"
                """)],
                 args: ["scan", "--json", "{q4.json}"], status: 2,
                 says: ["q4.json:2: not a JSON object", "q4.json:3: timestamp -5.0 s", "q4.json:6: not a JSON object"], events: 1),
            Case(name: "WinDbg uptime hours past Int64",
                 files: ["w1.txt": text("System Uptime: 0 days 9223372036854775807:00:52.740\nBugCheck 101, {31, 0, fffff880009b3180, 2}\n")],
                 args: ["scan", "--json", "{w1.txt}"], status: 2, says: ["w1.txt:1", "is not an uptime", "the boot time is not computed"], events: 1),
            Case(name: "qemu -smp counts that overflow",
                 files: ["vm.log": text("2019-01-01 10:00:00.000+0000: starting up libvirt version: 1.3.1, qemu version: 2.5.0\nLC_ALL=C /usr/bin/kvm-spice -name w -smp 4,sockets=9999999999,cores=9999999999,threads=99999 -m 1024\n")],
                 args: ["scan", "--json", "{vm.log}"], status: 2, says: ["vm.log:", "not a count qemu accepts (1 to 4096)"], events: 1),
        ]
    }

    /// `timeline`: anchors, zones, years, outputs.
    static func timelineCases() -> [Case] {
        let guest = text("[    1.000000] Linux version 6.1.0 (x@y) (gcc) #1 SMP\n" + softLockup)
        return [
            Case(name: "anchor inf", files: ["g.log": guest], args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:inf=2024-01-01T00:00:00Z"], status: 2, says: ["guest:inf"]),
            Case(name: "anchor nan", files: ["g.log": guest], args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:nan=2024-01-01T00:00:00Z"], status: 2, says: ["guest:nan"]),
            Case(name: "anchor 1e15 s", files: ["g.log": guest], args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:1e15=2024-01-01T00:00:00Z"], status: 2, says: ["guest:1e15"]),
            Case(name: "anchor before boot", files: ["g.log": guest], args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:-5=2024-01-01T00:00:00Z"], status: 2, says: ["guest:-5"]),
            Case(name: "zone offset that overflows", files: ["g.log": guest],
                 args: ["timeline", "--guest", "{g.log}", "--tz", "{g.log}=+00999999999999999999"], status: 2, says: ["+00999999999999999999"]),
            Case(name: "year out of range", files: ["h.log": text("Oct  3 10:00:00 host kernel: [    1.000000] x\n")],
                 args: ["timeline", "--host", "{h.log}", "--year", "{h.log}=99999"], status: 2, says: ["99999"]),
            Case(name: "guest without an anchor is unplaced", files: ["g.log": guest], args: ["timeline", "--json", "--guest", "{g.log}"], status: 2,
                 says: ["g.log", "--anchor"], events: nil),
            Case(name: "timeline --guest /dev/zero", args: ["timeline", "--guest", "/dev/zero", "--max-stream-size", "4M"], status: 2,
                 says: ["/dev/zero", "stopped after 4 MiB"]),
            Case(name: "--html onto an input", files: ["g.log": guest],
                 args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:1=2024-01-01T00:00:00Z", "--html", "{g.log}"], status: 2, says: ["g.log", "input"]),
            Case(name: "--html into a missing folder", files: ["g.log": guest],
                 args: ["timeline", "--guest", "{g.log}", "--anchor", "guest:1=2024-01-01T00:00:00Z", "--html", "/nonexistent/dir/t.html"], status: 2,
                 says: ["/nonexistent/dir/t.html"]),
            Case(name: "--plugin-timeout nan", files: ["g.log": guest], args: ["scan", "--plugin-timeout", "nan", "{g.log}"], status: 2, says: ["--plugin-timeout must be more than 0"]),
        ]
    }

    /// `symbolize` and `addr2line`: kernels that are not, or not this log's.
    static func symbolizeCases(kernel: String, noDwarf: String, zdebug: String, truncated: Data) -> [Case] {
        let frames = text("[    0.000000] Linux version 6.1.0-77-bad (t@t) (gcc) #1 SMP\n[    1.000000]  work+0x10/0x60\n")
        return [
            Case(name: "vmlinux missing", files: ["f.log": frames], args: ["symbolize", "--vmlinux", "/nonexistent/vmlinux", "{f.log}"], status: 2,
                 says: ["/nonexistent/vmlinux: cannot be read"]),
            Case(name: "vmlinux is text", files: ["f.log": frames], args: ["symbolize", "--vmlinux", "{f.log}", "{f.log}"], status: 2,
                 says: ["not a valid ELF file", "not even --force"]),
            Case(name: "vmlinux is a user-space program", files: ["f.log": frames], args: ["symbolize", "--vmlinux", "/bin/ls", "{f.log}"], status: 2,
                 says: ["/bin/ls is not a Linux kernel image", "--force"]),
            Case(name: "vmlinux truncated", files: ["f.log": frames, "trunc.elf": truncated], args: ["symbolize", "--vmlinux", "{trunc.elf}", "{f.log}"], status: 2,
                 says: ["trunc.elf", "truncated"]),
            Case(name: "vmlinux without DWARF", files: ["f.log": frames], args: ["symbolize", "--vmlinux", noDwarf, "{f.log}"], status: 0,
                 says: ["has no DWARF debug info", "give the debug vmlinux"]),
            Case(name: "vmlinux with compressed debug sections", files: ["f.log": frames], args: ["symbolize", "--vmlinux", zdebug, "{f.log}"], status: 0,
                 says: ["work+0x10/0x60 «"]),
            Case(name: "vmlinux of another release",
                 files: ["o.log": text("[    0.000000] Linux version 5.4.0-1-other (x@y) (gcc) #1 SMP\n[    1.000000]  work+0x10/0x60\n")],
                 args: ["symbolize", "--vmlinux", kernel, "{o.log}"], status: 2, says: ["the log is from 5.4.0-1-other but", "--force"]),
            Case(name: "--addresses without a kernel", files: ["a.txt": text("0xffffffff81000000\n")], args: ["symbolize", "--addresses", "{a.txt}"], status: 2,
                 says: ["--addresses needs --vmlinux"]),
            Case(name: "offset near 2^64", files: ["a.txt": text("work+0xffffffffffffffff/0x10\nwork+0x8000000000000000\n")],
                 args: ["symbolize", "--vmlinux", kernel, "--addresses", "{a.txt}"], status: 0, says: ["??\n??:0\n??\n??:0\n"]),
            Case(name: "address wider than 64 bits", files: ["a.txt": text("0xffffffffffffffffff\n")],
                 args: ["symbolize", "--vmlinux", kernel, "--addresses", "{a.txt}"], status: 0, says: ["??\n??:0\n"]),
            Case(name: "Kernel Offset all ones",
                 files: ["ko.log": text("[    0.000000] Linux version 6.1.0-77-bad (t@t) (gcc) #1 SMP\n[    1.000000]  [<ffffffff81001010>] work+0x10/0x60\n[    2.000000] Kernel Offset: 0xffffffffffffffff from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)\n")],
                 args: ["symbolize", "--vmlinux", kernel, "{ko.log}"], status: 2, says: ["ko.log", "is no x86-64 KASLR offset", "not used"]),
            Case(name: "Kernel Offset not 2 MiB aligned",
                 files: ["ko2.log": text("[    0.000000] Linux version 6.1.0-77-bad (t@t) (gcc) #1 SMP\n[    1.000000]  [<ffffffff81001010>] work+0x10/0x60\n[    2.000000] Kernel Offset: 0x1234 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)\n")],
                 args: ["symbolize", "--vmlinux", kernel, "{ko2.log}"], status: 2, says: ["ko2.log", "is no x86-64 KASLR offset"]),
            Case(name: "addr2line on a missing file", args: ["addr2line", "-e", "/nonexistent/vmlinux", "0x10"], status: 2, says: ["/nonexistent/vmlinux"]),
            Case(name: "plugin that is not a file", files: ["g.log": text(softLockup)], args: ["scan", "--plugin", "/nonexistent/p.so", "{g.log}"], status: 2,
                 says: ["/nonexistent/p.so"]),
            Case(name: "plugin that is not ELF", files: ["g.log": text(softLockup), "p.so": text("not a library\n")],
                 args: ["scan", "--plugin", "{p.so}", "{g.log}"], status: 2, says: ["p.so"]),
        ]
    }

    func testEveryBadInputGetsItsStatusAndMessage() throws {
        let source = "__attribute__((noinline)) int work(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * 3; return s; }\n"
            + "const char linux_banner[] = \"Linux version 6.1.0-77-bad (t@t) (gcc) #1 SMP\\n\";\n"
            + "int main(int argc, char **argv) { (void)argv; return work(argc) + linux_banner[0]; }\n"
        let kernel = try CLI.compileC("bad-kernel", source, flags: ["-g", "-O2", "-no-pie"], output: "bad-kernel.elf")
        let noDwarf = try CLI.compileC("bad-kernel-nodwarf", source, flags: ["-O2", "-no-pie"], output: "bad-kernel-nodwarf.elf")
        let zdebug = try CLI.compileC("bad-kernel-gz", source, flags: ["-g", "-gz", "-O2", "-no-pie"], output: "bad-kernel-gz.elf")
        let truncated = try Data(contentsOf: URL(fileURLWithPath: kernel)).prefix(2000)
        let cases = try Self.inputCases() + Self.numberCases() + Self.timelineCases()
            + Self.symbolizeCases(kernel: kernel, noDwarf: noDwarf, zdebug: zdebug, truncated: truncated)
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        for c in cases {
            var paths: [String: String] = [:]
            for (name, data) in c.files { paths[name] = try CLI.tempFile(name, data) }
            let args = c.args.map { a in paths.reduce(a) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) } }
            let r = try CLI.run(args)
            let said = r.stderr + r.stdout
            XCTAssertFalse(r.signaled, "\(c.name): killed by signal \(r.status)")
            XCTAssertEqual(r.status, c.status, "\(c.name): \(said.prefix(600))")
            for words in c.says {
                XCTAssertTrue(said.contains(words), "\(c.name): says no \(words.debugDescription) in \(said.prefix(800))")
            }
            if let n = c.events {
                let doc = try? CLI.json(r.stdout)
                XCTAssertEqual((doc?["events"] as? [Any])?.count, n, "\(c.name): \(r.stdout.prefix(400))")
            }
        }
    }
}
