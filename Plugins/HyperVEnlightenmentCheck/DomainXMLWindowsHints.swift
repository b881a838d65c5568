import LockscanKit

/// Windows evidence from a libvirt domain XML (`virsh dumpxml NAME`, or
/// /etc/libvirt/qemu/NAME.xml) given in the same run as the domain log.
///
/// The XML names its domain once, in `<name>` near the top; the lines after
/// it in the same input belong to that domain. Three elements say Windows:
/// the `<hyperv>` feature block (only Windows uses it), `<clock
/// offset='localtime'>` (Windows keeps the hardware clock in local time), and
/// the `<libosinfo:os id='http://microsoft.com/win/…'/>` virt-install and
/// virt-manager record. `<os>` itself (`<type>hvm</type>`, the boot order)
/// says nothing about which system boots.
struct DomainXMLWindowsHints {
    static let triggers = ["<hyperv", "offset='localtime'", "offset=\"localtime\"", "microsoft.com/win"]

    private var domain: (name: String, input: Int)?
    private var found: [String: [String]] = [:]

    /// Reads one record; true when it was domain XML this type used.
    mutating func consume(_ record: Record) -> Bool {
        let t = record.trimmedText
        if t.hasPrefix("<name>"), let end = t.firstOccurrence(of: "</name>") {
            let name = String(t[t.index(t.startIndex, offsetBy: 6)..<end.lowerBound])
            domain = name.isEmpty ? nil : (name, record.inputIndex)
            return true
        }
        guard let d = domain, d.input == record.inputIndex else { return false }
        let why: String
        if t.hasPrefix("<hyperv") {
            why = "its domain XML has <hyperv> features (line \(record.line)), which only Windows uses"
        } else if t.hasPrefix("<clock"), t.includes("localtime") {
            why = "its domain XML keeps the clock in local time (line \(record.line): \(t)), as Windows does"
        } else if t.includes("microsoft.com/win") {
            why = "its domain XML records a Windows OS (line \(record.line): \(t))"
        } else {
            return false
        }
        // One mention of each kind is enough; the list stays small.
        if (found[d.name]?.count ?? 0) < 3 { found[d.name, default: []].append(why) }
        return true
    }

    func evidence(for guest: String) -> [String] { found[guest] ?? [] }
}
