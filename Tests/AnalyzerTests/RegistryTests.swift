import Foundation
import LockscanKit
import PluginHost
import XCTest

/// The built-in analyzers are listed twice by necessity: Package.swift must
/// name each module, and `BuiltinAnalyzers.all` must name each descriptor.
/// The compiler ties the two (PluginHost imports every module it lists);
/// this test ties them to the folders on disk, so an analyzer added under
/// Plugins/ but not registered fails here instead of silently never
/// running — and never having its examples tested.
final class RegistryTests: XCTestCase {
    /// Plugins/ of the checkout these tests were compiled from.
    static let pluginsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Plugins")

    /// The module a descriptor's analyzer is compiled in: by the package's
    /// convention also the name of its folder under Plugins/.
    static func module(of d: AnalyzerDescriptor) -> String {
        String(String(reflecting: type(of: d.make())).prefix { $0 != "." })
    }

    func testEveryPluginFolderIsRegisteredOrARunTimePlugin() throws {
        let fm = FileManager.default
        let dir = Self.pluginsDirectory
        guard fm.fileExists(atPath: dir.path) else { throw XCTSkip("no Plugins/ at \(dir.path): tests built outside a checkout") }
        let folders = Set(try fm.contentsOfDirectory(atPath: dir.path).filter { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
        })
        XCTAssertFalse(folders.isEmpty, "no analyzer folders found in \(dir.path)")
        let registered = Set(BuiltinAnalyzers.all.map(Self.module(of:)))
        let runTime = BuiltinAnalyzers.runTimePluginFolders

        for folder in folders.sorted() where !registered.contains(folder) && !runTime.contains(folder) {
            XCTFail("Plugins/\(folder) is not registered: add \"\(folder)\" to `analyzers` in Package.swift and its descriptor to BuiltinAnalyzers.all (or, for a run-time plugin, to BuiltinAnalyzers.runTimePluginFolders)")
        }
        for module in registered.sorted() where !folders.contains(module) {
            XCTFail("BuiltinAnalyzers.all holds an analyzer of module \(module), which has no folder Plugins/\(module)")
        }
        for folder in runTime.sorted() {
            XCTAssertTrue(folders.contains(folder), "run-time plugin Plugins/\(folder) does not exist")
            XCTAssertFalse(registered.contains(folder), "Plugins/\(folder) is both built in and a run-time plugin")
        }
    }

    /// The example plugin is built as a shared object, not linked in, and
    /// listed as such.
    func testExampleAnalyzerIsARunTimePlugin() {
        XCTAssertTrue(BuiltinAnalyzers.runTimePluginFolders.contains("ExampleAnalyzer"))
        XCTAssertFalse(BuiltinAnalyzers.all.contains { $0.id == "example-task-cant-die" })
    }
}
