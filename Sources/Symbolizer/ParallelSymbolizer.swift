import Dispatch
import FoundationEssentials
import LockscanKit

/// Symbolizes a batch of addresses on every core. A Dwfl is not
/// thread-safe, so each worker opens its own KernelDebugInfo from the same
/// files (the kernel's pages are shared through the page cache; the extra
/// cost is one more set of indexes).
public enum ParallelSymbolizer {
    /// Results in input order. `resolve` turns a token into an address with
    /// the worker's own kernel (nil: unresolvable). `keepUntilExit` hands
    /// the workers' kernels to `KernelDebugInfo.keepUntilExit` instead of
    /// closing them.
    /// `kernel` serves the first worker; the others open their own from its files.
    public static func run(kernel first: KernelDebugInfo, tokens: [String], workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                           keepUntilExit: Bool = false,
                           resolve: @escaping @Sendable (String, KernelDebugInfo) -> UInt64?,
                           render: @escaping @Sendable (Symbolization?, String) -> String) throws -> [String] {
        try Pool(kernel: first, workers: workers, keepUntilExit: keepUntilExit).run(tokens: tokens, resolve: resolve, render: render)
    }

    /// Workers whose kernels outlive one batch: a long address list is
    /// symbolized batch by batch (its output streams, its memory stays that
    /// of one batch) without opening a kernel per batch.
    public final class Pool: @unchecked Sendable {
        let first: KernelDebugInfo
        let workers: Int
        let keepUntilExit: Bool
        /// Worker i's kernel (0: the caller's), opened when first needed.
        private var kernels: [KernelDebugInfo?]
        private let lock = Lock()

        public init(kernel: KernelDebugInfo, workers: Int = ProcessInfo.processInfo.activeProcessorCount, keepUntilExit: Bool = false) {
            first = kernel
            self.workers = max(1, workers)
            self.keepUntilExit = keepUntilExit
            kernels = [kernel] + Array(repeating: nil, count: max(1, workers) - 1)
        }

        func kernel(_ worker: Int) throws -> KernelDebugInfo {
            lock.lock()
            defer { lock.unlock() }
            if let k = kernels[worker] { return k }
            let k = try KernelDebugInfo(vmlinux: first.path, modules: first.modulePaths)
            if keepUntilExit { KernelDebugInfo.keepUntilExit(k) }
            kernels[worker] = k
            return k
        }

        /// One batch, results in its order.
        public func run(tokens: [String],
                        resolve: @escaping @Sendable (String, KernelDebugInfo) -> UInt64?,
                        render: @escaping @Sendable (Symbolization?, String) -> String) throws -> [String] {
            let n = max(1, min(workers, tokens.count / 2000 + 1))
            let slots = Slots(count: tokens.count)
            let failure = Slots(count: 1)
            // Workers take contiguous stretches of the sorted addresses, so a CU
            // is indexed by one worker (random addresses dealt round-robin made
            // both index nearly every CU, and doubled the memory). Stretches are
            // handed out 8 per worker as workers free up: CUs differ in size, and
            // halves fixed in advance left one core idle at the end; a CU split
            // by a stretch boundary is indexed twice, ~16 of ~2,000. A worker
            // frees the units behind it after each stretch (forgetUnits), so
            // stretches are also kept to ~1,000 addresses for one worker.
            let keys = tokens.map(ParallelSymbolizer.sortKey)
            let order = tokens.indices.sorted { keys[$0] < keys[$1] }
            let stretches = max(n == 1 ? 1 : n * 8, order.count / 1000)
            let size = (order.count + stretches - 1) / stretches
            let next = Counter()
            DispatchQueue.concurrentPerform(iterations: n) { worker in
                let kernel: KernelDebugInfo
                do { kernel = try self.kernel(worker) } catch {
                    failure.set(0, "\(error)")
                    return
                }
                while case let k = next.take(), k < stretches {
                    for i in order[min(k * size, order.count)..<min((k + 1) * size, order.count)] {
                        let s = resolve(tokens[i], kernel).map { kernel.symbolize($0) }
                        slots.set(i, render(s, tokens[i]))
                    }
                    kernel.forgetUnits()
                }
            }
            if let message = failure.get(0) { throw DWARFError(function: "open", message: message) }
            return (0..<tokens.count).map { slots.get($0) ?? "" }
        }
    }

    /// Hex addresses by value; symbol+offset tokens last (one worker resolves them).
    static func sortKey(_ token: String) -> UInt64 {
        let hex = token.hasPrefix("0x") ? token.dropFirst(2) : Substring(token)
        return UInt64(hex, radix: 16) ?? .max
    }

    /// The next stretch to hand out.
    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = Lock()

        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value - 1
        }
    }

    /// Per-index result slots; each index is written by one worker only.
    final class Slots: @unchecked Sendable {
        private var values: [String?]
        private let lock = Lock()

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
