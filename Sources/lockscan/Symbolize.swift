import ArgumentParser
import Foundation
import LockscanKit
import Symbolizer

struct Symbolize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add file:line and inline chains to kernel backtraces, keeping every other byte.",
        discussion: """
            Annotations are delimited by « », so they can be told from the log (and removed). \
            With --addresses the input holds one hex address or symbol+offset per line, each looked \
            up exactly as given (no -1), printed in the --output-style.
            """)

    @Option(name: .customLong("vmlinux"), help: ArgumentHelp("The kernel's debug vmlinux (repeatable; `guest=PATH`/`host=PATH` labels pair kernels with --guest/--host inputs).", valueName: "[LABEL=]PATH"))
    var vmlinux: [String] = []

    @Option(name: .customLong("modules"), help: ArgumentHelp("A directory with module debug files (.ko, .ko.debug), searched recursively (repeatable).", valueName: "DIR"))
    var modules: [String] = []

    @Flag(help: "Symbolize even when the vmlinux's release differs from the log's.") var force = false
    @Flag(help: "The input is a list of addresses or symbol+offset, one per line.") var addresses = false
    @Option(help: ArgumentHelp("With --addresses: worker threads (default: every core). Each maps the vmlinux and keeps its own indexes: on Debian's 6.1 kernel, 10,000 addresses take 0.6 s and ~600 MiB with 2, 0.9 s and ~460 MiB with 1.", valueName: "N"))
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    @Option(name: .customLong("output-style"), help: "With --addresses: gnu (addr2line -f -i), llvm or json (llvm-symbolizer's).")
    var outputStyle: OutputStyle = .gnu

    @Argument(help: ArgumentHelp("Input; standard input when none or '-'.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .customLong("guest"), help: ArgumentHelp("A guest's log, served by --vmlinux guest=PATH (repeatable).", valueName: "FILE"))
    var guestFiles: [String] = []

    @Option(name: .customLong("host"), help: ArgumentHelp("A host's log, served by --vmlinux host=PATH (repeatable).", valueName: "FILE"))
    var hostFiles: [String] = []

    enum OutputStyle: String, ExpressibleByArgument { case gnu, llvm, json }

    func run() throws {
        var failed = false
        var inputs: [(path: String, label: String?)] = files.map { ($0, nil) } + guestFiles.map { ($0, "guest") }
            + hostFiles.map { ($0, "host") }
        if inputs.isEmpty { inputs = [("-", nil)] }
        for (input, label) in inputs {
            guard let text = readInput(input) else { failed = true; continue }
            // Split on the byte: in a Swift String "\r\n" is one Character, so
            // splitting the String on "\n" would leave CRLF files in one piece.
            var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            let endsWithNewline = lines.last == ""
            if endsWithNewline { lines.removeLast() }
            // An address list names no kernel and no module: scanning its
            // lines as a log cost a twentieth of a 10,000-address run.
            let release = addresses ? nil : KernelFinder.release(in: lines)
            guard let kernel = loadKernel(for: input, label: label, release: release, lines: lines) else { failed = true; continue }
            KernelDebugInfo.keepUntilExit(kernel)
            if addresses {
                do { try printAddresses(lines, kernel: kernel) } catch {
                    warn("\(kernel.path): \(error)")
                    failed = true
                }
                continue
            }
            if let release, let own = kernel.release, release != own {
                warn("\(input): the log is from \(release) but \(kernel.path) is \(own); wrong debug files give wrong lines" + (force ? " (--force: symbolizing anyway)" : ""))
                if !force { failed = true; continue }
            }
            let annotator = StackAnnotator(kernel: kernel)
            let out = annotator.annotate(lines)
            for n in annotator.notes { warn("\(input): \(n)") }
            for e in annotator.errors { warn("\(input): \(e)"); failed = true }
            print(out.joined(separator: "\n"), terminator: endsWithNewline ? "\n" : "")
        }
        if failed { throw ExitCode(2) }
    }

    func readInput(_ input: String) -> String? {
        let data: Data?
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: input)
        }
        guard let data else {
            warn("\(input): cannot be read")
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The kernel for an input: a labelled --vmlinux, the one whose release
    /// the log shows, the only one given, or the distribution's debug file
    /// for the log's release.
    func loadKernel(for input: String, label: String?, release: String?, lines: [String]) -> KernelDebugInfo? {
        var specs = vmlinux.map { spec -> (label: String?, path: String) in
            if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains("/") {
                return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
            }
            return (nil, spec)
        }
        // A label pairs the input with its kernel and overrides matching by release.
        if let label, let labelled = specs.first(where: { $0.label == label }) {
            specs = [labelled]
        }
        if specs.isEmpty, let release {
            if let found = KernelFinder.vmlinuxCandidates(release: release).first(where: FileManager.default.isReadableFile) {
                specs = [(nil, found)]
            } else {
                warn("\(input): no --vmlinux given and no debug vmlinux for \(release) in \(KernelFinder.vmlinuxCandidates(release: release).joined(separator: ", ")) (install linux-image-\(release)-dbg)")
                return nil
            }
        }
        guard !specs.isEmpty else {
            warn("\(input): no --vmlinux given and the log names no kernel release")
            return nil
        }
        let wanted = addresses ? [] : KernelFinder.modulesMentioned(in: lines)
        let search = KernelFinder.moduleSearch(in: modules, release: release)
        let available = search.found
        var loaded: [KernelDebugInfo] = []
        for s in specs {
            do {
                let mods = wanted.compactMap { available[$0] }
                loaded.append(try KernelDebugInfo(vmlinux: s.path, modules: mods))
            } catch let e as DWARFError {
                warn("\(s.path): \(e.message)")
            } catch {
                warn("\(s.path): \(error)")
            }
        }
        for m in wanted.subtracting(available.keys).sorted() {
            if let why = search.unreadable[m] {
                warn("\(input): module \(m): \(why)")
            } else {
                warn("\(input): no debug file for module \(m) (give --modules DIR); its frames stay as printed")
            }
        }
        if label == nil, let release, let match = loaded.first(where: { $0.release == release }) { return match }
        return loaded.first
    }

    func printAddresses(_ lines: [String], kernel: KernelDebugInfo) throws {
        let tokens = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let style = outputStyle.rawValue
        let module = kernel.path
        let results = try ParallelSymbolizer.run(
            kernel: kernel, tokens: tokens,
            workers: max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount), keepUntilExit: true,
            resolve: { token, k in Symbolize.resolve(token, in: k) },
            render: { s, token in
                guard let s else {
                    return style == "json" ? "{\"Address\":\"\(token)\",\"Error\":{\"Message\":\"cannot resolve\"}}\n" : "??\n??:0\n"
                }
                return AddressOutput.render(s, style: style, module: module, functions: true, inlines: true)
            })
        print(results.joined(), terminator: "")
    }

    /// `0xffffffff810c9658`, `ffffffff810c9658` or `tg_unthrottle_up+0x18`.
    static func resolve(_ token: String, in kernel: KernelDebugInfo) -> UInt64? {
        if let plus = token.firstIndex(of: "+") {
            let name = String(token[..<plus])
            let offText = token[token.index(after: plus)...].split(separator: "/").first ?? ""
            let off = offText.hasPrefix("0x") ? UInt64(offText.dropFirst(2), radix: 16) : UInt64(offText)
            return off.flatMap { kernel.address(symbol: name, offset: $0, size: nil, module: nil) }
        }
        let hex = token.hasPrefix("0x") ? String(token.dropFirst(2)) : token
        return UInt64(hex, radix: 16) ?? kernel.address(symbol: token, offset: 0, size: nil, module: nil)
    }
}

func warn(_ s: String) {
    FileHandle.standardError.write(Data("lockscan: \(s)\n".utf8))
}
