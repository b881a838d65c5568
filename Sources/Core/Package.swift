// swift-tools-version:6.0
// The plugin-facing core lives in its own local package so that its product can
// be a dynamic library that the `lockscan` executable and every run-time plugin
// share. Linked statically into both, Swift would see two copies of each type's
// metadata and `as? PluginManifest` across the dlopen boundary would fail: only
// a product of another package can be linked dynamically by SwiftPM, which is
// why this package sits inside the main one (see README.md beside this file).
import PackageDescription

let package = Package(
    name: "Core",
    products: [
        .library(name: "LockscanKit", type: .dynamic, targets: ["LockscanKit"]),
    ],
    targets: [
        .target(name: "CByteSearch", path: "CByteSearch"),
        // The system's decompressors, for LockscanInput only.
        .systemLibrary(name: "CZlib", path: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLzma", path: "CLzma", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(name: "CZstd", path: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // The only code that opens user input.
        .target(name: "LockscanInput", dependencies: ["CByteSearch", "CZlib", "CLzma", "CZstd"], path: "LockscanInput"),
        .target(name: "LockscanKit", dependencies: ["CByteSearch", "LockscanInput"], path: "LockscanKit"),
    ]
)
