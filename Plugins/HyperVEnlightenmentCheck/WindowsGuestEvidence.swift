import LockscanKit

/// Why a guest is taken to be Windows, from its qemu command line alone.
///
/// The Hyper-V enlightenments are advice for Windows guests only: a Linux
/// guest uses kvm-clock and KVM's own paravirtual features, and telling its
/// owner to add `hv_*` flags sends them the wrong way. So the check asks for
/// evidence a virtualization engineer would accept, and names it in the event.
///
/// Accepted, each enough on its own:
/// - a Hyper-V enlightenment already on the `-cpu` (libvirt writes `hv_*`
///   only from a `<hyperv>` feature, which only Windows uses);
/// - `-rtc base=localtime`: Windows keeps the hardware clock in local time,
///   Linux in UTC; libvirt's `<clock offset='localtime'>` is what
///   virt-install, virt-manager and OpenStack (`os_type=windows`) set for
///   Windows;
/// - Windows media attached: the virtio-win driver disk, or an installation
///   image named for Windows (`Windows.iso`, `Win10_22H2.iso`,
///   `en_windows_server_2016.iso`);
/// - an `-acpitable` carrying a SLIC or MSDM table (Windows activation).
///
/// Not accepted: `-rtc …,driftfix=slew`, `-global
/// kvm-pit.lost_tick_policy=…`, `-no-hpet` and `-device usb-tablet`. virt-manager
/// adds them to every x86 guest; the real Ubuntu 16.04 domain log of a Linux
/// guest in corpora/public (`libvirt-1.3.1-kvm-spice-linux-guest-…`) has all
/// of them.
enum WindowsGuestEvidence {
    /// What on the command line says Windows, as printed, with why.
    static func of(_ c: QemuCommandLine) -> [String] {
        var out: [String] = []
        if let cpu = c.cpu {
            let hv = cpu.flags.filter { $0.enabled && $0.name.hasPrefix("hv-") }.map(\.printed)
            if !hv.isEmpty { out.append("-cpu already has \(hv.joined(separator: ",")) (Hyper-V enlightenments are configured for Windows guests)") }
        }
        if c.rtc["base"]?.lowercased() == "localtime" {
            out.append("-rtc base=localtime (Windows keeps the hardware clock in local time; Linux guests keep it in UTC)")
        }
        for (i, arg) in c.arguments.enumerated() where i + 1 < c.arguments.count {
            let value = c.arguments[i + 1]
            switch arg {
            case "-drive", "-cdrom", "-blockdev":
                if let media = windowsMedia(value) { out.append(media) }
            case "-acpitable":
                let lower = value.lowercased()
                if lower.contains("slic") || lower.contains("msdm") { out.append("-acpitable \(value) (a Windows activation table)") }
            default:
                break
            }
        }
        return out
    }

    /// `file=/iso/virtio-win-0.1.141.iso,media=cdrom` → the evidence, if the
    /// image is Windows media.
    static func windowsMedia(_ value: String) -> String? {
        let file = value.hasPrefix("/") ? value : (QemuCommandLine.options(value)["file"] ?? QemuCommandLine.options(value)["filename"])
        guard let file else { return nil }
        let base = (file.split(separator: "/").last.map(String.init) ?? file).lowercased()
        if base.contains("virtio-win") { return "\(file) attached (the virtio-win driver disk is for Windows guests)" }
        guard base.hasSuffix(".iso") else { return nil }
        if base.hasPrefix("win") || base.contains("_windows") || base.contains("-windows") || base.hasPrefix("en_windows") {
            return "\(file) attached (a Windows installation image)"
        }
        return nil
    }
}
