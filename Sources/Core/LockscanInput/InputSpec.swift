/// Where an input comes from: a path, or standard input (`-` or no file).
public enum InputSpec: Sendable, Equatable {
    case path(String)
    case standardInput
    /// A file read from `path` but named `shownAs` in every message and
    /// output: a member of a support bundle (`bundle.tar.xz:var/log/messages`).
    case member(path: String, shownAs: String)

    /// `-` is standard input, as every Unix filter reads it.
    public init(argument: String) {
        self = argument == "-" ? .standardInput : .path(argument)
    }

    /// The file to open, when there is one.
    public var filePath: String? {
        switch self {
        case let .path(p), let .member(p, _): p
        case .standardInput: nil
        }
    }

    public var displayName: String {
        switch self {
        case let .path(p): p
        case .standardInput: "(standard input)"
        case let .member(_, shownAs): shownAs
        }
    }
}

/// The bounds that keep one input from taking unbounded time or memory.
public struct InputLimits: Sendable {
    /// A line longer than this is analysed cut to this length, with a
    /// diagnostic; the rest of it is still passed through (symbolize) but not
    /// held in memory. Kernel lines are at most about 1 KiB (`LOG_LINE_MAX`);
    /// a longer one is a collapsed paste or binary data.
    public var maxLineBytes: Int
    /// An input whose size is not known when it is opened (a pipe, a FIFO, a
    /// character device, a decompressor's output) is read at most this far, so
    /// `/dev/zero`, `yes > fifo` or a zip bomb cannot keep lockscan running for
    /// ever. A regular file is read up to its size when it was opened.
    public var maxStreamBytes: Int64
    /// The same for character devices that are not terminals (`/dev/zero`,
    /// `/dev/urandom`): no log lives there, so the bound is much lower.
    public var maxDeviceBytes: Int64
    /// How much is read at once.
    public var chunkBytes: Int

    public init(maxLineBytes: Int = 1 << 20, maxStreamBytes: Int64 = 64 << 30, maxDeviceBytes: Int64 = 256 << 20,
                chunkBytes: Int = 1 << 20) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.maxStreamBytes = max(1, maxStreamBytes)
        self.maxDeviceBytes = max(1, maxDeviceBytes)
        self.chunkBytes = max(1, chunkBytes)
    }
}
