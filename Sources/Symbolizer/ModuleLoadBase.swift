import LockscanKit

/// Where each module's code was loaded, for crash `bt` frames that print a
/// module function with an absolute address and no offset
/// (`#1 [ffffce22003e3f08] lockscan_abba_take_b_then_a at ffffffffc0551087 [lockscan_abba]`).
///
/// A `.ko` is linked at address 0 and placed by the kernel anywhere in the
/// module area, so its frames need evidence of where, best first:
/// 1. crash `sym -m MODULE` listed the runtime address of the very function;
/// 2. crash `mod` printed the module's BASE, where its first code section
///    starts (the kernel lays code sections out first, in file order);
/// 3. the frames themselves: the one page-aligned base that keeps every
///    frame of the module inside its named function (as for the KASLR slide).
/// Anything else is refused: a guessed base gives silently wrong lines.
public struct ModuleLoadBase: Sendable {
    public enum Method: String, Sendable {
        case symbolListing = "crash `sym -m` listing"
        case modTable = "crash `mod` BASE column"
        case intersection = "intersection of frame ranges"
    }

    /// Runtime addresses of module functions, from `sym -m` listings: module → name → address.
    public private(set) var listed: [String: [String: UInt64]] = [:]
    /// Module code bases and how each was found.
    public private(set) var bases: [String: (base: UInt64, method: Method)] = [:]
    public private(set) var notes: [String] = []

    /// modules are loaded in whole pages (module_alloc).
    static let pageSize: UInt64 = 4096

    public init() {}

    /// The first page boundary at or above `v`; nil when it would be 2^64.
    static func pageBoundary(atOrAbove v: UInt64) -> UInt64? {
        let rest = v % pageSize
        if rest == 0 { return v }
        let (up, past) = (v - rest).addingReportingOverflow(pageSize)
        return past ? nil : up
    }

    /// Reads `sym -m` listings and `mod` tables from a crash session, then
    /// falls back to intersecting the module frames of `frames`.
    public init(lines: [String], frames: [Frame], kernel: KernelDebugInfo) {
        var listing: String?
        var modTable = false
        for raw in lines {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("crash> ") {
                let words = line.split(separator: " ")
                listing = words.count == 4 && words[1] == "sym" && words[2] == "-m" ? String(words[3]) : nil
                modTable = false
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 4, fields[0] == "MODULE", fields[1] == "NAME", fields[2] == "BASE" {
                modTable = true
                continue
            }
            if let module = listing, fields.count == 3, fields[1].hasPrefix("("), let a = UInt64(fields[0], radix: 16) {
                listed[module, default: [:]][String(fields[2])] = a
            } else if modTable, fields.count >= 4, UInt64(fields[0], radix: 16) != nil,
                      let base = UInt64(fields[2], radix: 16), fields[3].allSatisfy(\.isNumber) {
                // The kernel loads modules in whole pages: any other BASE is
                // a corrupted line, and would give confident wrong lines.
                if base % Self.pageSize == 0 {
                    bases[String(fields[1])] = (base, .modTable)
                } else {
                    notes.append("module \(fields[1]): crash `mod` BASE 0x\(String(base, radix: 16)) is not page-aligned: not used")
                }
            }
        }
        intersect(frames, kernel: kernel)
    }

    /// Offset of a frame's address into its named function, or nil when no
    /// evidence places the module (or the address falls outside the function).
    public func offset(of frame: Frame, kernel: KernelDebugInfo) -> UInt64? {
        guard frame.offset == nil, let module = frame.module, let name = frame.function,
              let raw = frame.address.flatMap({ UInt64($0.dropFirst(2), radix: 16) }) else { return nil }
        let start: UInt64
        if let a = listed[module]?[name] {
            start = a
        } else if let b = bases[module], let t = kernel.moduleCodeOffset(symbol: name, module: module) {
            // A BASE column from the log plus an offset from the .ko: both
            // untrusted, and a function that would start past 2^64 is nowhere.
            let (sum, past) = b.base.addingReportingOverflow(t.offset)
            if past { return nil }
            start = sum
        } else {
            return nil
        }
        guard raw >= start else { return nil }
        let off = raw - start
        if let size = kernel.moduleCodeOffset(symbol: name, module: module)?.size, size > 0, off > size { return nil }
        return off
    }

    /// Method 3, per module not placed by a listing or table.
    private mutating func intersect(_ frames: [Frame], kernel: KernelDebugInfo) {
        var byModule: [String: [Frame]] = [:]
        for f in frames where f.offset == nil && f.module != nil && f.function != nil && f.address != nil {
            byModule[f.module!, default: []].append(f)
        }
        for (module, list) in byModule.sorted(by: { $0.key < $1.key }) where bases[module] == nil && listed[module] == nil {
            var lo = UInt64.min, hi = UInt64.max
            var used = 0
            for f in list {
                // The .ko's offset and size are untrusted too: a function
                // whose end passes 2^64 bounds nothing.
                guard let raw = f.address.flatMap({ UInt64($0.dropFirst(2), radix: 16) }),
                      let t = kernel.moduleCodeOffset(symbol: f.function!, module: module), t.size > 0,
                      case let (end, false) = t.offset.addingReportingOverflow(t.size), raw > end else { continue }
                // A return address lies in (start, start+size]; an interrupted one in [start, start+size).
                let (first, last): (UInt64, UInt64) = f.isInstructionPointer ? (0, t.size - 1) : (1, t.size)
                lo = max(lo, raw - t.offset - last)
                hi = min(hi, raw - t.offset - first)
                used += 1
            }
            guard used > 0 else { continue }
            // The first page boundary at or above lo, and whether a second
            // one fits below hi, compared as distances: lo comes from the
            // log's addresses and may lie in the last page below 2^64.
            guard lo <= hi, let aligned = Self.pageBoundary(atOrAbove: lo), aligned <= hi else {
                notes.append("module \(module): no load address keeps every frame inside its function (is this the module's .ko?)")
                continue
            }
            if hi - aligned >= Self.pageSize {
                notes.append("module \(module): the frames allow several load addresses; run crash's `mod` or `sym -m \(module)` to place it")
            } else {
                bases[module] = (aligned, .intersection)
            }
        }
    }
}
