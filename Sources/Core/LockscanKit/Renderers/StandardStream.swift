import Glibc




/// Writes straight to a file descriptor, unbuffered: each write is on its
/// way when the call returns (a follower of `dmesg -w` needs that, and a
/// warning must not wait behind output). A closed pipe ends the write
/// quietly; the caller's exit status says the rest.
public enum StandardStream: Int32, Sendable {
    case output = 1
    case error = 2

    public func write(_ bytes: UnsafeRawBufferPointer) {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(rawValue, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            off += n
        }
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}
