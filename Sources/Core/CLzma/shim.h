// liblzma's stream decoder, for xz input (LockscanInput's decompressor only).
#include <lzma.h>
// LZMA_STREAM_INIT is a macro, which Swift does not import.
static inline lzma_stream lockscan_lzma_stream_init(void) {
    lzma_stream s = LZMA_STREAM_INIT;
    return s;
}
// So are the decoder flags.
static const uint32_t lockscan_lzma_concatenated = LZMA_CONCATENATED;
