import CLibdw
import Glibc

/// Finding a section of an Elf by its name: the unit table, the line
/// sections, the unit window and the kernel identity each want one.
enum ElfSections {
    /// The first section whose name satisfies `matches`, with its header.
    static func first(in elf: OpaquePointer, where matches: (UnsafePointer<CChar>) -> Bool)
        -> (section: OpaquePointer, header: GElf_Shdr)? {
        var names = 0
        guard elf_getshdrstrndx(elf, &names) == 0 else { return nil }
        var scn = elf_nextscn(elf, nil)
        while let s = scn {
            var shdr = GElf_Shdr()
            if gelf_getshdr(s, &shdr) != nil, let name = elf_strptr(elf, names, Int(shdr.sh_name)), matches(name) {
                return (s, shdr)
            }
            scn = elf_nextscn(elf, s)
        }
        return nil
    }

    /// The section called `wanted`, with its header.
    static func named(_ wanted: String, in elf: OpaquePointer) -> (section: OpaquePointer, header: GElf_Shdr)? {
        first(in: elf) { strcmp($0, wanted) == 0 }
    }
}
