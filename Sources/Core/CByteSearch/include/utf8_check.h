#ifndef LOCKSCAN_UTF8_CHECK_H
#define LOCKSCAN_UTF8_CHECK_H
#include <stddef.h>

/// Offset of the first byte in p[0..n) that does not start or continue a
/// well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing
/// above U+10FFFF), or n when all of it is well formed. With `partial_end_ok`
/// a sequence cut off by the end of the buffer counts as well formed (the
/// buffer is a line truncated at a byte limit).
size_t lockscan_utf8_invalid(const unsigned char *p, size_t n, int partial_end_ok);

#endif
