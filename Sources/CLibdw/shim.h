// elfutils' libdw/libdwfl/libelf for the Symbolizer module, and libelf for
// PluginHost's check of a plugin's dynamic symbols before anything loads it.
// No other module imports this one (the C boundary stays in one place).
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <libelf.h>
#include <gelf.h>
#include <dwarf.h>
#include <stdlib.h>

// GELF_ST_TYPE and friends are macros, which Swift does not import.
static inline unsigned char lockscan_gelf_st_type(unsigned char info) { return GELF_ST_TYPE(info); }
static inline unsigned char lockscan_gelf_st_bind(unsigned char info) { return GELF_ST_BIND(info); }

// The plugin worker (PluginHost) dies with the lockscan that started it, even
// when that one is killed while the worker is stuck in a plugin's loop.
// prctl is variadic, which Swift does not import.
#include <sys/prctl.h>
#include <signal.h>
static inline int lockscan_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL); }
