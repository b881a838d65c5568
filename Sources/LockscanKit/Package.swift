// swift-tools-version:6.0
// The plugin-facing core lives in its own local package so that its product can
// be a dynamic library that the `lockscan` executable and every run-time plugin
// share. Linked statically into both, Swift would see two copies of each type's
// metadata and `as? PluginManifest` across the dlopen boundary would fail (see
// ../../../shared/DESIGN.md, "Dynamic analyzers and Swift type identity").
import PackageDescription

let package = Package(
    name: "LockscanKit",
    products: [
        .library(name: "LockscanKit", type: .dynamic, targets: ["LockscanKit"]),
    ],
    targets: [
        .target(name: "CByteSearch", path: "Sources/CByteSearch"),
        .target(name: "LockscanKit", dependencies: ["CByteSearch"], path: "Sources/LockscanKit"),
    ]
)
