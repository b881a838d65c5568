// swift-tools-version:6.0
import PackageDescription

/// Built-in analyzers: one module each, named after its folder under
/// Plugins/, and one descriptor each in `BuiltinAnalyzers`
/// (Sources/PluginHost). AnalyzerTests' registry test fails when a folder,
/// this list and that one disagree. Plugins/ExampleAnalyzer is not here: it
/// is built as a run-time plugin (the product below).
let analyzers = [
    "HardLockup",
    "RTThrottling",
    "RqLockDeadlock",
    "Clocksource",
    "SoftLockup",
    "RCUStall",
    "HungTask",
    "WorkqueueLockup",
    "SpinlockLockup",
    "CPUBacktraces",
    "WindowsClockWatchdog",
    "HostVirt",
    "HyperVEnlightenmentCheck",
    "KernelCrash",
]

let kit: Target.Dependency = .product(name: "LockscanKit", package: "Core")

let package = Package(
    name: "lockscan",
    products: [
        .executable(name: "lockscan", targets: ["lockscan"]),
        // The example out-of-tree analyzer, built as a run-time plugin.
        .library(name: "ExampleAnalyzer", type: .dynamic, targets: ["ExampleAnalyzer"]),
        // For the fuzz package (Fuzz/), which rebuilds these with coverage and
        // AddressSanitizer in a build folder of its own; nothing here uses them.
        .library(name: "PluginHost", targets: ["PluginHost"]),
        .library(name: "Symbolizer", targets: ["Symbolizer"]),
        .library(name: "Timeline", targets: ["Timeline"]),
    ],
    dependencies: [
        .package(path: "Sources/Core"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // node_exporter textfile metrics (--metrics-file) in Prometheus's own exposition format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Generators, seeds and shrinking for PropertyTests (Swift Testing).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: analyzers.map { .target(name: $0, dependencies: [kit], path: "Plugins/\($0)") } + [
        // elfutils through C interop; only Symbolizer and PluginHost import it.
        .systemLibrary(name: "CLibdw", path: "Sources/CLibdw", pkgConfig: "libdw",
                       providers: [.apt(["libdw-dev", "libelf-dev"])]),
        .target(name: "Symbolizer", dependencies: ["CLibdw", kit], path: "Sources/Symbolizer"),
        // Clock alignment, merge, clustering and the text/JSON/HTML views of `lockscan timeline`.
        .target(name: "Timeline", dependencies: [kit], path: "Sources/Timeline"),
        // libelf (CLibdw) reads a plugin's dynamic symbols before any of its code runs.
        .target(name: "PluginHost", dependencies: ["CLibdw", kit] + analyzers.map { .target(name: $0) },
                path: "Sources/PluginHost"),
        .executableTarget(name: "lockscan",
                          dependencies: ["PluginHost", "Symbolizer", "Timeline", kit,
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Prometheus", package: "swift-prometheus")],
                          path: "Sources/lockscan"),
        .target(name: "ExampleAnalyzer", dependencies: [kit], path: "Plugins/ExampleAnalyzer"),
        .testTarget(name: "LockscanKitTests", dependencies: [kit], path: "Tests/LockscanKitTests"),
        .testTarget(name: "AnalyzerTests", dependencies: ["PluginHost", kit], path: "Tests/AnalyzerTests"),
        .testTarget(name: "EndToEndTests", dependencies: [kit], path: "Tests/EndToEndTests"),
        .testTarget(name: "TimelineTests", dependencies: ["Timeline", "PluginHost", kit], path: "Tests/TimelineTests"),
        .testTarget(name: "SymbolizerTests", dependencies: ["Symbolizer", kit], path: "Tests/SymbolizerTests"),
        // Runs the lockscan binary on generated inputs: it never traps or hangs, and --json stays valid.
        .testTarget(name: "PropertyTests", dependencies: [.product(name: "PropertyBased", package: "swift-property-based")],
                    path: "Tests/PropertyTests"),
    ]
)
