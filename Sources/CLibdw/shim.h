// elfutils' libdw/libdwfl/libelf for the Symbolizer module. Only Symbolizer
// imports this module (the C boundary stays in one place).
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <libelf.h>
#include <gelf.h>
#include <dwarf.h>
#include <stdlib.h>

// GELF_ST_TYPE and friends are macros, which Swift does not import.
static inline unsigned char lockscan_gelf_st_type(unsigned char info) { return GELF_ST_TYPE(info); }
static inline unsigned char lockscan_gelf_st_bind(unsigned char info) { return GELF_ST_BIND(info); }
