import CLibdw
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Decides from the file alone whether a `.so` can be a lockscan plugin,
/// before any of its code runs.
///
/// `dlopen` runs a library's constructors before `dlsym` can say anything
/// about it, and calling a symbol that is a data object jumps into data. So
/// the dynamic symbol table is read with libelf first: the file must be an
/// ELF shared object whose `lockscan_plugin_abi_version` and
/// `lockscan_plugin_entry` are exported, defined in it and functions. What
/// passes is still only loaded in a worker process (`PluginProcess`).
public enum PluginSymbolCheck {
    /// Symbols every plugin must define as functions.
    public static let requiredFunctions = [PluginLoader.abiSymbol, PluginLoader.entrySymbol]

    /// nil when the file may be loaded, otherwise why not, in words for the user.
    public static func problem(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cannot be opened: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        _ = elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else { return "not a shared object (no ELF header)" }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { return "not a shared object (no ELF header)" }
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else { return "not a shared object (ELF header unreadable)" }
        guard ehdr.e_type == UInt16(ET_DYN) else { return "not a shared object (ELF type \(ehdr.e_type), expected ET_DYN)" }
        let found = dynamicSymbols(elf, named: Set(requiredFunctions))
        guard let found else { return "not a lockscan plugin (no dynamic symbol table)" }
        for name in requiredFunctions {
            guard let sym = found[name] else { return "not a lockscan plugin (no \(name) symbol)" }
            if let reason = unusable(sym) { return "not a lockscan plugin (\(name) \(reason)); not loaded, none of its code ran" }
        }
        return nil
    }

    /// Why a dynamic symbol cannot be called as the plugin's function, or nil.
    static func unusable(_ sym: GElf_Sym) -> String? {
        if sym.st_shndx == UInt16(SHN_UNDEF) { return "is not defined in this file, only referenced" }
        let binding = lockscan_gelf_st_bind(sym.st_info)
        if binding != UInt8(STB_GLOBAL) && binding != UInt8(STB_WEAK) { return "is not exported" }
        let type = lockscan_gelf_st_type(sym.st_info)
        if type == UInt8(STT_FUNC) { return nil }
        switch Int32(type) {
        case STT_OBJECT: return "is a data object, not a function"
        case STT_TLS: return "is thread-local data, not a function"
        case STT_GNU_IFUNC: return "is an indirect function (resolved by running plugin code), not a plain function"
        case STT_NOTYPE: return "has no type, not a function"
        default: return "has symbol type \(type), not a function"
        }
    }

    /// The named symbols of the `.dynsym` table (what `dlsym` would see), or
    /// nil when the file has none. A name defined twice keeps its first entry.
    static func dynamicSymbols(_ elf: OpaquePointer, named wanted: Set<String>) -> [String: GElf_Sym]? {
        var scn = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            if gelf_getshdr(s, &shdr) != nil, shdr.sh_type == UInt32(SHT_DYNSYM), shdr.sh_entsize > 0,
               let data = elf_getdata(s, nil) {
                // Sizes are the file's word: bounded before they count a loop.
                let count = min(shdr.sh_size / shdr.sh_entsize, UInt64(Int32.max))
                var found: [String: GElf_Sym] = [:]
                var i: Int32 = 0
                while UInt64(i) < count {
                    var sym = GElf_Sym()
                    if gelf_getsym(data, i, &sym) != nil,
                       let cName = elf_strptr(elf, Int(shdr.sh_link), Int(sym.st_name)) {
                        let name = String(cString: cName)
                        if wanted.contains(name) && found[name] == nil { found[name] = sym }
                    }
                    i += 1
                }
                return found
            }
            scn = elf_nextscn(elf, s)
        }
        return nil
    }
}
