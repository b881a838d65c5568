import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit
import Symbolizer

/// `addr2line` with libdw underneath, taking GNU addr2line's flags and
/// printing what it prints, so `alias addr2line='lockscan addr2line'` keeps
/// scripts such as decode_stacktrace.sh (`addr2line -fpie vmlinux`) working:
/// short flags combine (`-pifae FILE`), `-eFILE`, `--exe=FILE` and
/// elfutils' `--executable=FILE` name the file, and addresses come from the
/// arguments or, when none, from standard input, each answered as it
/// arrives.
struct Addr2line: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addr2line", abstract: "A drop-in for addr2line: addresses to function and file:line.")

    @Option(name: [.customShort("e", allowingJoined: true), .customLong("exe"), .customLong("executable")],
            help: ArgumentHelp("The ELF file (vmlinux).", valueName: "FILE"))
    var file: String
    @Flag(name: [.customShort("f"), .customLong("functions")], help: "Print each function's name.") var functions = false
    @Flag(name: [.customShort("i"), .customLong("inlines")], help: "Print the callers an address was inlined into, out to the real function.")
    var inlines = false
    @Flag(name: [.customShort("a"), .customLong("addresses")], help: "Print each address first.") var addresses = false
    @Flag(name: [.customShort("p"), .customLong("pretty-print")], help: "One line per location: `func at file:line`, callers as ` (inlined by) …`.")
    var pretty = false
    @Flag(name: [.customShort("s"), .customLong("basenames")], help: "Print only the base names of source files.") var basenames = false
    @Flag(name: [.customShort("C"), .customLong("demangle")], help: "Accepted for scripts; a kernel's C names need no demangling.")
    var demangle = false
    @Flag(name: .long, help: "Use FILE even when it does not look like a Linux kernel image.") var force = false

    @Argument(help: ArgumentHelp("Addresses (hex, with or without 0x); standard input when none.", valueName: "ADDRESS"))
    var given: [String] = []

    var options: AddressOutput.GNUOptions {
        AddressOutput.GNUOptions(functions: functions, inlines: inlines, addresses: addresses, pretty: pretty, basenames: basenames)
    }

    func run() throws {
        let kernel: KernelDebugInfo
        do { kernel = try KernelDebugInfo(vmlinux: file) } catch {
            warn("\(file): \((error as? DWARFError)?.message ?? "\(error)")")
            throw ExitCode(2)
        }
        if let p = KernelCheck.notAKernel(kernel, force: force) {
            warn(p.message)
            if p.refused { throw ExitCode(2) }
        }
        if let n = KernelCheck.noDebugInfo(kernel) { warn(n) }
        let options = options
        func answer(_ tokens: [String]) -> String {
            var out = ""
            for t in tokens {
                // Hex only, looked up as given, as GNU addr2line does; what
                // is not an address is `??` (its address printed as 0).
                let l = FrameAddressPolicy.asGiven(t, in: kernel, symbols: false)
                let frames = l.map { kernel.symbolize($0.address).frames } ?? []
                out += AddressOutput.gnu(frames, address: l?.address ?? 0, options)
            }
            return out
        }
        if !given.isEmpty {
            StandardStream.output.write(answer(given))
            return
        }
        // Standard input is answered line by line as it arrives, as
        // addr2line does, so a script can keep it open as a coprocess.
        guard case let .success(reader) = LineReader.open(.standardInput) else { throw ExitCode(2) }
        reader.read { chunk in
            guard chunk.kind == .lines else { return }
            let tokens = chunk.bytes.split(whereSeparator: { $0 == 0x0A || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
                .map { String(decoding: $0, as: UTF8.self) }
            StandardStream.output.write(answer(tokens))
        }
        for d in reader.diagnostics { warn(d.description) }
        if !reader.diagnostics.isEmpty { throw ExitCode(2) }
    }
}
