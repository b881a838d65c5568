import ArgumentParser
import Foundation
import Symbolizer

/// `addr2line -e FILE -f -i -a ADDR…` with libdw underneath, for scripts.
struct Addr2line: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A drop-in for addr2line: addresses to function and file:line.")

    @Option(name: .short, help: ArgumentHelp("The ELF file (vmlinux).", valueName: "FILE")) var e: String
    @Flag(name: .short, help: "Print function names.") var f = false
    @Flag(name: .short, help: "Print the inline chain.") var i = false
    @Flag(name: .short, help: "Print each address first.") var a = false

    @Argument(help: ArgumentHelp("Addresses (hex); standard input when none.", valueName: "ADDRESS"))
    var addresses: [String] = []

    func run() throws {
        let kernel: KernelDebugInfo
        do { kernel = try KernelDebugInfo(vmlinux: e) } catch {
            warn("\(error)")
            throw ExitCode(2)
        }
        var tokens = addresses
        if tokens.isEmpty {
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            tokens = input.split(whereSeparator: { $0 == "\n" || $0 == " " }).map(String.init)
        }
        var out = ""
        for t in tokens {
            let hex = t.hasPrefix("0x") ? String(t.dropFirst(2)) : t
            guard let address = UInt64(hex, radix: 16) else {
                out += (f ? "??\n" : "") + "??:0\n"
                continue
            }
            out += AddressOutput.render(kernel.symbolize(address), style: "gnu", module: e, functions: f, inlines: i, printAddress: a)
        }
        print(out, terminator: "")
    }
}
