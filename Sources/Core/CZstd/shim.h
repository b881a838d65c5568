// libzstd's streaming decoder, for zstd input (LockscanInput's decompressor only).
#include <zstd.h>
