/// A problem with an input that the user must hear about: a file that cannot
/// be read, bytes that are not text, a line cut at the length limit. Every
/// command prints them and exits 2 after everything readable was analysed.
public struct Diagnostic: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
