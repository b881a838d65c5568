import CLzma
import CZlib
import CZstd

/// Compression recognised by its magic bytes, never by the file's name: logs
/// are renamed, piped and attached to tickets without their extension.
public enum Compression: String, Sendable, Codable {
    case gzip, xz, zstd

    static func detect(_ head: UnsafeRawBufferPointer) -> Compression? {
        func starts(_ magic: [UInt8]) -> Bool {
            head.count >= magic.count && zip(head.prefix(magic.count), magic).allSatisfy { $0 == $1 }
        }
        if starts([0x1F, 0x8B]) { return .gzip }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        return nil
    }

    /// The magic is at most six bytes.
    static let magicBytes = 6
}

/// Decompressed bytes from compressed ones, through the system's zlib,
/// liblzma and libzstd: a stream decoder each, fed fixed-size chunks, so
/// memory stays bounded whatever the size of the input or its output.
protocol Decompressor: AnyObject {
    /// Fills `out` with up to `capacity` decompressed bytes; 0 at the end.
    /// `feed` supplies more compressed bytes (0 at the end of input).
    func decompress(into out: UnsafeMutableRawPointer, capacity: Int,
                    feed: (UnsafeMutableRawPointer, Int) -> Int) throws(DecompressionError) -> Int
}

struct DecompressionError: Error {
    var message: String
}

/// Compressed bytes waiting to be decoded: the input side every decoder shares.
final class CompressedBuffer {
    let capacity: Int
    let storage: UnsafeMutableRawPointer
    var start = 0
    var end = 0
    var atEnd = false

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var available: Int { end - start }

    /// Refills when empty; returns false once input is exhausted.
    func refill(_ feed: (UnsafeMutableRawPointer, Int) -> Int) -> Bool {
        if available > 0 { return true }
        if atEnd { return false }
        start = 0
        end = max(0, feed(storage, capacity))
        if end == 0 { atEnd = true }
        return end > 0
    }

    /// Puts bytes already read (the sniffed head) in front.
    func prime(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= capacity)
        storage.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        start = 0
        end = bytes.count
    }
}

final class GzipDecompressor: Decompressor {
    private var stream = z_stream()
    private let input: CompressedBuffer
    private var finishedMember = false
    private var initialised = false

    init(input: CompressedBuffer) throws(DecompressionError) {
        self.input = input
        try reset()
    }

    deinit { if initialised { inflateEnd(&stream) } }

    private func reset() throws(DecompressionError) {
        if initialised { inflateEnd(&stream) }
        stream = z_stream()
        // 15 + 16: a gzip wrapper (not zlib, not raw deflate), 32 KiB window.
        guard lockscan_inflate_init2(&stream, 15 + 16) == Z_OK else { throw DecompressionError(message: "zlib could not start") }
        initialised = true
        finishedMember = false
    }

    func decompress(into out: UnsafeMutableRawPointer, capacity: Int,
                    feed: (UnsafeMutableRawPointer, Int) -> Int) throws(DecompressionError) -> Int {
        var produced = 0
        while produced < capacity {
            if finishedMember {
                // `gzip a b > c` and `cat x.gz y.gz` give concatenated members:
                // each is decoded in turn; trailing zero padding is ignored.
                guard input.refill(feed) else { return produced }
                if input.storage.load(fromByteOffset: input.start, as: UInt8.self) != 0x1F {
                    input.start = input.end
                    continue
                }
                try reset()
            }
            // Called even with no new input: zlib may hold output that did
            // not fit last time.
            if input.available == 0 { _ = input.refill(feed) }
            stream.next_in = input.storage.advanced(by: input.start).assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(min(input.available, Int(UInt32.max)))
            stream.next_out = out.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(min(capacity - produced, Int(UInt32.max)))
            let before = Int(stream.avail_in), outBefore = Int(stream.avail_out)
            let rc = inflate(&stream, Z_NO_FLUSH)
            input.start += before - Int(stream.avail_in)
            produced += outBefore - Int(stream.avail_out)
            switch rc {
            case Z_STREAM_END: finishedMember = true
            case Z_OK: break
            case Z_BUF_ERROR:
                // No progress: more input is needed, and there is none.
                if input.available == 0 && input.atEnd {
                    if produced == 0 { throw DecompressionError(message: "gzip data ends early: the file is truncated") }
                    return produced
                }
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw DecompressionError(message: "gzip data is corrupt (\(why))")
            }
        }
        return produced
    }
}

final class XzDecompressor: Decompressor {
    private var stream = lockscan_lzma_stream_init()
    private let input: CompressedBuffer
    private var done = false

    init(input: CompressedBuffer) throws(DecompressionError) {
        self.input = input
        // LZMA_CONCATENATED: `cat a.xz b.xz` is one input, as xz -dc reads it.
        guard lzma_stream_decoder(&stream, UInt64.max, lockscan_lzma_concatenated) == LZMA_OK else {
            throw DecompressionError(message: "liblzma could not start")
        }
    }

    deinit { lzma_end(&stream) }

    func decompress(into out: UnsafeMutableRawPointer, capacity: Int,
                    feed: (UnsafeMutableRawPointer, Int) -> Int) throws(DecompressionError) -> Int {
        if done { return 0 }
        var produced = 0
        while produced < capacity {
            var action = LZMA_RUN
            if input.available == 0 && !input.refill(feed) { action = LZMA_FINISH }
            stream.next_in = UnsafePointer(input.storage.advanced(by: input.start).assumingMemoryBound(to: UInt8.self))
            stream.avail_in = input.available
            stream.next_out = out.advanced(by: produced).assumingMemoryBound(to: UInt8.self)
            stream.avail_out = capacity - produced
            let before = stream.avail_in, outBefore = stream.avail_out
            let rc = lzma_code(&stream, action)
            input.start += before - stream.avail_in
            produced += outBefore - stream.avail_out
            switch rc {
            case LZMA_OK: if action == LZMA_FINISH && outBefore == stream.avail_out { return produced }
            case LZMA_STREAM_END: done = true; return produced
            case LZMA_BUF_ERROR where action == LZMA_FINISH:
                throw DecompressionError(message: "xz data ends early: the file is truncated")
            default:
                throw DecompressionError(message: "xz data is corrupt (liblzma error \(rc.rawValue))")
            }
        }
        return produced
    }
}

final class ZstdDecompressor: Decompressor {
    private let stream: OpaquePointer
    private let input: CompressedBuffer
    /// Whether the last frame was completed (ZSTD_decompressStream returned 0).
    private var frameComplete = true

    init(input: CompressedBuffer) throws(DecompressionError) {
        self.input = input
        guard let s = ZSTD_createDStream() else { throw DecompressionError(message: "libzstd could not start") }
        stream = s
        ZSTD_initDStream(stream)
    }

    deinit { ZSTD_freeDStream(stream) }

    func decompress(into out: UnsafeMutableRawPointer, capacity: Int,
                    feed: (UnsafeMutableRawPointer, Int) -> Int) throws(DecompressionError) -> Int {
        var produced = 0
        while produced < capacity {
            // Called even with no new input: the decoder may hold output
            // that did not fit last time.
            if input.available == 0 { _ = input.refill(feed) }
            var inBuf = ZSTD_inBuffer(src: input.storage.advanced(by: input.start), size: input.available, pos: 0)
            var outBuf = ZSTD_outBuffer(dst: out.advanced(by: produced), size: capacity - produced, pos: 0)
            let rc = ZSTD_decompressStream(stream, &outBuf, &inBuf)
            if ZSTD_isError(rc) != 0 {
                throw DecompressionError(message: "zstd data is corrupt (\(String(cString: ZSTD_getErrorName(rc))))")
            }
            input.start += inBuf.pos
            produced += outBuf.pos
            let progressed = inBuf.pos > 0 || outBuf.pos > 0
            // Asked again after the last frame, the decoder answers with the
            // size of a next frame header: only progress tells the state.
            if progressed { frameComplete = rc == 0 }
            if !progressed && input.available == 0 && input.atEnd {
                if !frameComplete && produced == 0 {
                    throw DecompressionError(message: "zstd data ends early: the file is truncated")
                }
                return produced
            }
        }
        return produced
    }
}
