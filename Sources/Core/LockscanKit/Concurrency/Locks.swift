import Glibc

/// A mutex for state several threads share. (Foundation's NSLock and
/// NSCondition are in the full Foundation, which lockscan does not load;
/// Synchronization's `Mutex` suits state owned by the lock, this suits
/// code that locks around existing properties.)
public final class Lock: @unchecked Sendable {
    fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A lock with a condition to wait on: `wait()` releases the lock until
/// another thread calls `broadcast()`.
public final class Condition: @unchecked Sendable {
    private let lockItself = Lock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    public func lock() { lockItself.lock() }
    public func unlock() { lockItself.unlock() }
    /// Call with the lock held; returns with it held again.
    public func wait() { pthread_cond_wait(condition, lockItself.mutex) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A thread of its own (not a pool's), joined by whoever started it.
public final class JoinableThread: @unchecked Sendable {
    private var handle = pthread_t()
    private var joined = false

    /// Starts `body` on a new thread; nil when the system has no thread to give.
    public init?(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body))
        let made = pthread_create(&handle, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        if made != 0 {
            box.release()
            return nil
        }
    }

    /// Waits for the thread to end (once; later calls return at once).
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
