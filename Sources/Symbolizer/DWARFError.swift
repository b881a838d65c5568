import CLibdw

/// A libdw/libdwfl/libelf call that failed, with the library's own message.
/// Every C error return in this module goes through `DWARFError.last`, so a
/// message always names the function that failed.
public struct DWARFError: Error, CustomStringConvertible, Sendable {
    public var function: String
    public var message: String

    public init(function: String, message: String) {
        self.function = function
        self.message = message
    }

    public var description: String { "\(function): \(message)" }

    /// The current libdwfl error (libdwfl reports libdw and libelf errors too).
    static func last(_ function: String) -> DWARFError {
        let code = dwfl_errno()
        let msg = dwfl_errmsg(code).map { String(cString: $0) } ?? "unknown error"
        return DWARFError(function: function, message: msg)
    }
}
