/// A syslog message broadcast to terminals, pasted from one: syslog daemons
/// write emergencies (a `kernel:` panic or lockup line) to every logged-in
/// terminal as
///
///     (blank line)
///     Message from syslogd@HOST at Oct 30 06:21:23 ...
///      kernel:MESSAGE
///
/// The header line and the blank lines around the broadcasts are the
/// terminal's, not the kernel report's; but the header holds the host and
/// the time the message was logged, which the `kernel:` line lacks. So the
/// two are read as the one syslog line they came from,
/// `Oct 30 06:21:23 HOST kernel: MESSAGE`, and blank lines between
/// broadcasts are passed over: nothing of the message is lost.
enum SyslogBroadcast {
    /// The header's stamp and host (`Oct 30 06:21:23`, `web1`), or nil when
    /// `line` is not a broadcast header (`Message from IDENT@HOST at STAMP`,
    /// with a BSD syslog or ctime stamp; ` ...` after it).
    static func header(_ line: [UInt8]) -> (stamp: [UInt8], host: [UInt8])? {
        var s = ByteScanner(line)
        s.skipSpaces()
        guard s.skip("Message from "), s.word(until: { $0 == UInt8(ascii: "@") || $0 == 0x20 }) != nil,
              s.skip(UInt8(ascii: "@")) else { return nil }
        let hostStart = s.pos
        guard s.word(until: { $0 == 0x20 }) != nil else { return nil }
        let host = Array(line[hostStart..<s.pos])
        guard s.skip(" at ") else { return nil }
        let stampStart = s.pos
        var t = s
        if LinePrefix.parseSyslogStamp(&t) == nil {
            t = s
            guard LinePrefix.parseCtime(&t) != nil else { return nil }
        }
        let stamp = Array(line[stampStart..<t.pos])
        t.skipSpaces()
        guard t.atEnd || t.skip("...") else { return nil }
        t.skipSpaces()
        guard t.atEnd else { return nil }
        return (stamp, host)
    }

    /// The broadcast line after a header (` kernel:MESSAGE`, any `ident:`
    /// or `ident[pid]:`) as the syslog line it was; nil when `line` is not one.
    static func message(_ line: [UInt8], stamp: [UInt8], host: [UInt8]) -> [UInt8]? {
        var s = ByteScanner(line)
        s.skipSpaces()
        let identStart = s.pos
        while let b = s.peek, b != UInt8(ascii: ":"), b != 0x20, b != UInt8(ascii: "[") { s.pos += 1 }
        guard s.pos > identStart else { return nil }
        if s.skip(UInt8(ascii: "[")) {
            guard s.digits() != nil, s.skip(UInt8(ascii: "]")) else { return nil }
        }
        guard s.skip(UInt8(ascii: ":")) else { return nil }
        let ident = Array(line[identStart..<s.pos])
        s.skipSpaces()
        return stamp + [0x20] + host + [0x20] + ident + [0x20] + Array(line[s.pos...])
    }
}
