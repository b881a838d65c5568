import Dispatch
import Foundation

/// Symbolizes a batch of addresses on every core. A Dwfl is not
/// thread-safe, so each worker opens its own KernelDebugInfo from the same
/// files (the kernel's pages are shared through the page cache; the extra
/// cost is one more set of indexes).
public enum ParallelSymbolizer {
    /// Results in input order. `resolve` turns a token into an address with
    /// the worker's own kernel (nil: unresolvable).
    public static func run(vmlinux: String, modules: [String], tokens: [String], workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                           resolve: @escaping @Sendable (String, KernelDebugInfo) -> UInt64?,
                           render: @escaping @Sendable (Symbolization?, String) -> String) throws -> [String] {
        let n = max(1, min(workers, tokens.count / 500 + 1))
        let slots = Slots(count: tokens.count)
        let failure = Slots(count: 1)
        DispatchQueue.concurrentPerform(iterations: n) { w in
            let kernel: KernelDebugInfo
            do { kernel = try KernelDebugInfo(vmlinux: vmlinux, modules: modules) } catch {
                failure.set(0, "\(error)")
                return
            }
            var i = w
            while i < tokens.count {
                let s = resolve(tokens[i], kernel).map { kernel.symbolize($0) }
                slots.set(i, render(s, tokens[i]))
                i += n
            }
        }
        if let message = failure.get(0) { throw DWARFError(function: "open", message: message) }
        return (0..<tokens.count).map { slots.get($0) ?? "" }
    }

    /// Per-index result slots; each index is written by one worker only.
    final class Slots: @unchecked Sendable {
        private var values: [String?]
        private let lock = NSLock()

        init(count: Int) { values = Array(repeating: nil, count: count) }

        func set(_ i: Int, _ v: String) {
            lock.lock()
            values[i] = v
            lock.unlock()
        }

        func get(_ i: Int) -> String? {
            lock.lock()
            defer { lock.unlock() }
            return values[i]
        }
    }
}
