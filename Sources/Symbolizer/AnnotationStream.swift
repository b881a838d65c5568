import LockscanKit

/// `lockscan symbolize` on one input, as the input arrives: each batch of
/// lines the input layer completes is annotated and written at once, so
/// `dmesg -w | lockscan symbolize` shows every line as it comes, memory does
/// not grow with the input, and every input byte is written unchanged
/// (annotations are only added, between `«` and `»`).
///
/// The kernel is chosen at the first frame, not at the start: by then the log
/// has usually printed its release (`Linux version`, the `CPU: … Not tainted
/// 6.1.0-18-amd64` task header), and an input without frames needs no kernel
/// at all. Modules are added the first time a frame names them.
public final class AnnotationStream {
    /// Picks the kernel for the release the log showed so far (nil when the
    /// log has not named one); nil when there is none, after saying why.
    public typealias KernelChoice = (_ release: String?) -> KernelDebugInfo?

    private let input: String
    private let chooseKernel: KernelChoice
    private let modules: [String: String]
    private let unreadableModules: [String: String]
    private let force: Bool
    private let warn: (String) -> Void
    private let write: (UnsafeRawBufferPointer) -> Void

    private var window: [(line: ArraySlice<UInt8>, newline: Bool)] = []
    /// The window's lines parsed, each once: a window held back for a KASLR
    /// slide is looked at again when more lines arrive.
    private var parsed: [StackAnnotator.ParsedLine] = []
    private var windowBytes = 0
    private var release: String?
    /// The build ID on the log's first task header, looked for until one is seen.
    private var buildID: String?
    private var sawTaskHeader = false
    private var kernel: KernelDebugInfo?
    private var annotator: StackAnnotator?
    /// Set once annotating is impossible or refused: the rest passes through.
    private var passThrough = false
    private var modulesTried: Set<String> = []
    public private(set) var failed = false
    /// Annotations in colour (a terminal): the log's own bytes never are.
    public var color = false

    /// Lines held back while waiting for a KASLR slide are bounded.
    static let holdLimit = 8 << 20

    public init(input: String, chooseKernel: @escaping KernelChoice, modules: (found: [String: String], unreadable: [String: String]),
                force: Bool, warn: @escaping (String) -> Void, write: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.input = input
        self.chooseKernel = chooseKernel
        self.modules = modules.found
        unreadableModules = modules.unreadable
        self.force = force
        self.warn = warn
        self.write = write
    }

    /// One chunk from the input layer.
    public func consume(_ chunk: LineChunk) {
        switch chunk.kind {
        case .lines:
            var start = chunk.bytes.startIndex
            let bytes = chunk.bytes
            while start < bytes.endIndex {
                var end = start
                while end < bytes.endIndex, bytes[end] != 0x0A { end += 1 }
                window.append((Array(bytes[start..<end])[...], end < bytes.endIndex))
                windowBytes += end - start + 1
                start = end + 1
            }
            flush(final: false)
        case .overlongLine, .overlongRest:
            // No frame is a megabyte long: what is over the line limit is
            // written as it came, after everything before it.
            flush(final: true)
            write(chunk.bytes)
        }
    }

    /// The end of the input: whatever was held back is written.
    public func finish() {
        flush(final: true)
        if let annotator {
            for n in annotator.notes { warn("\(input): \(n)") }
            for e in annotator.errors {
                warn("\(input): \(e)")
                failed = true
            }
        }
    }

    private func flush(final: Bool) {
        guard !window.isEmpty else { return }
        let lines = window.map(\.line)
        if release == nil { release = KernelFinder.release(in: lines.map { String(decoding: $0, as: UTF8.self) }) }
        if annotator == nil, !sawTaskHeader { (sawTaskHeader, buildID) = KernelFinder.taskHeaderBuildID(in: lines) }
        if !passThrough {
            while parsed.count < window.count { parsed.append(StackAnnotator.parse(window[parsed.count].line)) }
        }
        if !passThrough, let annotator = annotator ?? startAnnotating() {
            // Raw addresses with no slide yet: wait (boundedly) for the
            // `Kernel Offset:` line or more frames.
            if !final, windowBytes < Self.holdLimit, annotator.needsSlide(parsed: parsed) { return }
            addModules()
            writeAnnotated(annotator.annotate(bytes: lines, parsed: parsed))
        } else {
            writeAnnotated(nil)
        }
        window.removeAll(keepingCapacity: true)
        parsed.removeAll(keepingCapacity: true)
        windowBytes = 0
    }

    /// The annotator, once the window has a frame and a kernel can be had.
    private func startAnnotating() -> StackAnnotator? {
        guard parsed.contains(where: { $0.frame != nil }) else { return nil }
        guard let k = chooseKernel(release) else {
            passThrough = true
            failed = true
            return nil
        }
        let mismatches = KernelCheck.mismatches(logRelease: release, logBuildID: buildID, kernel: k, force: force)
        for p in mismatches { warn("\(input): \(p.message)") }
        if mismatches.contains(where: \.refused) {
            passThrough = true
            failed = true
            return nil
        }
        kernel = k
        annotator = StackAnnotator(kernel: k)
        return annotator
    }

    /// Loads the debug files of modules the window's frames name, once each.
    private func addModules() {
        guard let kernel else { return }
        for p in parsed {
            guard let m = p.frame?.module, modulesTried.insert(m).inserted else { continue }
            if let path = modules[m] {
                do { try kernel.addModule(path: path) } catch { warn("\(path): \(error)") }
            } else if let why = unreadableModules[m] {
                warn("\(input): module \(m): \(why)")
            } else {
                warn("\(input): no debug file for module \(m) (give --modules DIR); its frames stay as printed")
            }
        }
    }

    private func writeAnnotated(_ annotations: [StackAnnotator.LineAnnotation?]?) {
        var out: [UInt8] = []
        out.reserveCapacity(windowBytes + 256)
        for (i, (line, newline)) in window.enumerated() {
            guard let a = annotations?[i] else {
                out += line
                if newline { out.append(0x0A) }
                continue
            }
            let cr = line.last == 0x0D
            let end: [UInt8] = cr ? [0x0D, 0x0A] : [0x0A]
            for inserted in a.inserted { out += tint(inserted) + end }
            out += cr ? line.dropLast() : line
            out += tint(a.suffix)
            if cr { out.append(0x0D) }
            if newline { out.append(0x0A) }
        }
        out.withUnsafeBytes(write)
    }

    /// The `«…»` part of an annotation in cyan when `color` is on.
    private func tint(_ bytes: [UInt8]) -> [UInt8] {
        guard color, let open = bytes.firstRange(of: Array(StackAnnotator.open.utf8)),
              let close = bytes.lastRange(of: Array(StackAnnotator.close.utf8)) else { return bytes }
        return Array(bytes[..<open.lowerBound]) + Array("\u{1B}[36m".utf8) + Array(bytes[open.lowerBound..<close.upperBound])
            + Array("\u{1B}[0m".utf8) + Array(bytes[close.upperBound...])
    }
}
