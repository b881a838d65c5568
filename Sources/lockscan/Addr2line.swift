import ArgumentParser
import Foundation
import LockscanKit
import Symbolizer

/// `addr2line -e FILE -f -i -a ADDR…` with libdw underneath, for scripts.
struct Addr2line: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A drop-in for addr2line: addresses to function and file:line.")

    @Option(name: .short, help: ArgumentHelp("The ELF file (vmlinux).", valueName: "FILE")) var e: String
    @Flag(name: .short, help: "Print function names.") var f = false
    @Flag(name: .short, help: "Print the inline chain.") var i = false
    @Flag(name: .short, help: "Print each address first.") var a = false
    @Flag(name: .long, help: "Use FILE even when it does not look like a Linux kernel image.") var force = false

    @Argument(help: ArgumentHelp("Addresses (hex); standard input when none.", valueName: "ADDRESS"))
    var addresses: [String] = []

    func run() throws {
        let kernel: KernelDebugInfo
        do { kernel = try KernelDebugInfo(vmlinux: e) } catch {
            warn("\(e): \((error as? DWARFError)?.message ?? "\(error)")")
            throw ExitCode(2)
        }
        if let p = KernelCheck.notAKernel(kernel, force: force) {
            warn(p.message)
            if p.refused { throw ExitCode(2) }
        }
        if let n = KernelCheck.noDebugInfo(kernel) { warn(n) }
        func answer(_ tokens: [String]) -> String {
            var out = ""
            for t in tokens {
                // Hex only, looked up as given, as GNU addr2line does.
                guard let l = FrameAddressPolicy.asGiven(t, in: kernel, symbols: false) else {
                    out += (f ? "??\n" : "") + "??:0\n"
                    continue
                }
                out += AddressOutput.render(kernel.symbolize(l.address), style: "gnu", module: e, functions: f, inlines: i, printAddress: a)
            }
            return out
        }
        if !addresses.isEmpty {
            StandardOutputWriter.write(Array(answer(addresses).utf8))
            return
        }
        // Standard input is answered line by line as it arrives, as
        // addr2line does, so a script can keep it open as a coprocess.
        guard case let .success(reader) = LineReader.open(.standardInput) else { throw ExitCode(2) }
        reader.read { chunk in
            guard chunk.kind == .lines else { return }
            let tokens = chunk.bytes.split(whereSeparator: { $0 == 0x0A || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
                .map { String(decoding: $0, as: UTF8.self) }
            StandardOutputWriter.write(Array(answer(tokens).utf8))
        }
        for d in reader.diagnostics { warn(d.description) }
        if !reader.diagnostics.isEmpty { throw ExitCode(2) }
    }
}
