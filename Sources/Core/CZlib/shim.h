// zlib's inflate, for gzip input (LockscanInput's decompressor only).
#include <zlib.h>
// inflateInit2 is a macro, which Swift does not import.
static inline int lockscan_inflate_init2(z_stream *s, int window_bits) {
    return inflateInit2(s, window_bits);
}
