// swift-tools-version:6.0
// libFuzzer targets for lockscan: a package of its own so that the main build
// and scripts/test never see sanitizer flags. scripts/fuzz builds it with
// coverage and AddressSanitizer on every module (the libraries under test
// included, or libFuzzer would only see the harness), in Fuzz/.build.
//
// Each target is one executable whose `main` is libFuzzer's: it defines
// LLVMFuzzerTestOneInput and must never trap, whatever the bytes. A Swift
// trap (overflow, bad conversion, index out of range) is a finding.
import PackageDescription

/// The harnesses: a folder under Sources/ each, named Fuzz<Name>;
/// `scripts/fuzz` runs them by their lower-case names (input, scan, …).
let fuzzers = ["FuzzInput", "FuzzScan", "FuzzCrashBt", "FuzzWinDbg", "FuzzHost", "FuzzTimeline", "FuzzElf"]

/// Links libFuzzer and ASan into each harness. SwiftPM points an
/// executable's `main` at the module's own entry point, so each harness has
/// an `@main` that calls `LLVMFuzzerRunDriver` (`FuzzDriver`).
let harnessFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
let harnessLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]

let package = Package(
    name: "LockscanFuzz",
    products: fuzzers.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        // By name, since a path dependency's identity is its folder's name
        // (the checkout's, which differs between worktrees).
        .package(name: "lockscan", path: ".."),
        .package(name: "Core", path: "../Sources/Core"),
    ],
    targets: [
        .target(name: "CFuzzDriver", path: "Sources/CFuzzDriver"),
        .target(name: "FuzzSupport",
                dependencies: ["CFuzzDriver", .product(name: "LockscanKit", package: "Core")],
                path: "Sources/FuzzSupport"),
    ] + fuzzers.map { name in
        .executableTarget(name: name,
                          dependencies: ["FuzzSupport",
                                         .product(name: "LockscanKit", package: "Core"),
                                         .product(name: "PluginHost", package: "lockscan"),
                                         .product(name: "Symbolizer", package: "lockscan"),
                                         .product(name: "Timeline", package: "lockscan")],
                          path: "Sources/\(name)",
                          swiftSettings: harnessFlags, linkerSettings: harnessLink)
    }
)
