import FoundationEssentials
import Glibc

/// Writes an output file the way a user can rely on: the bytes go to a
/// temporary file beside the target, which is then renamed over it, so a
/// reader never sees half a page and a failed run leaves the old file as it
/// was. A failure comes back as one sentence naming the file and the
/// system's reason.
enum OutputFile {
    /// The input among `inputs` that `output` names (through links and
    /// `..`): lockscan never writes over what it reads.
    static func inputNamed(by output: String, among inputs: [String]) -> String? {
        let out = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
        return inputs.first { $0 != "-" && URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path == out }
    }

    static func write(_ bytes: [UInt8], to path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var template = Array((dir + "/." + url.lastPathComponent + ".lockscan-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return "\(path): cannot be written (\(String(cString: strerror(errno))))" }
        let temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var off = 0
        var failure: String?
        bytes.withUnsafeBytes { p in
            while off < p.count {
                let n = Glibc.write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = String(cString: strerror(errno)); break }
                off += n
            }
        }
        // The page is for people to open: the mode an ordinary new file gets.
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temp, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temp)
            return "\(path): cannot be written (\(failure))"
        }
        return nil
    }
}
