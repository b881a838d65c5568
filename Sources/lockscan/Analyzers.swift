import ArgumentParser
import FoundationEssentials
import Glibc
import LockscanKit

struct Analyzers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyzers", abstract: "List every loaded analyzer with its explanation.")

    @OptionGroup var pluginOptions: PluginOptions

    @Flag(help: "Print instead the fixed strings a scan searches every line for, one per line (what `rg -F -f` needs to search for the same).")
    var triggers = false

    func run() throws {
        let (descriptors, plugins) = pluginOptions.analyzers()
        defer { plugins.close() }
        printDiagnostics(plugins.loadProblems)
        if triggers {
            print(ScanEngine(analyzers: descriptors).searchedStrings.joined(separator: "\n"))
            if !plugins.loadProblems.isEmpty { throw ExitCode(2) }
            return
        }
        var out = ""
        let style = TerminalStyle.standardOutput()
        for d in descriptors {
            out += "\(style.bold(d.id)) — \(d.title)\n"
            out += "  kinds: \(d.eventKinds.joined(separator: ", "))\n"
            out += TextRenderer(color: false).wrap(d.explanation, indent: "  ") + "\n"
        }
        print(out, terminator: "")
        if !plugins.loadProblems.isEmpty { throw ExitCode(2) }
    }
}
