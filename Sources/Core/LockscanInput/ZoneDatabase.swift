import FoundationEssentials
import Glibc

/// Named time zones (`Europe/Berlin`, `America/New_York`) come from ICU's
/// zone data. FoundationEssentials, the only Foundation lockscan links,
/// reads them once FoundationInternationalization is loaded: it looks that
/// library's zone type up by name at run time. Linking it (and ICU, 40 MB of
/// code and data to map and relocate) cost every run a fifth of a
/// one-address `symbolize`, and most runs never name a zone; so it is
/// loaded here, the first time one is named. The name is found through
/// this library's own RUNPATH: the toolchain's folder in a build, the
/// package's /usr/lib/lockscan where `scripts/package` puts it.
enum ZoneDatabase {
    /// Whether named zones can be read; loads the library on first use.
    static let available: Bool = {
        if TimeZone(identifier: "Etc/UTC") != nil { return true }   // already loaded (a process with Foundation)
        guard dlopen("libFoundationInternationalization.so", RTLD_NOW | RTLD_GLOBAL) != nil else { return false }
        return TimeZone(identifier: "Etc/UTC") != nil
    }()
}
