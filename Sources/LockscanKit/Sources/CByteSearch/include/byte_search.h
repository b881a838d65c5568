// memmem and memrchr are GNU extensions that Swift's Glibc module does not
// export; these wrappers make them callable without redefining them.
#ifndef LOCKSCAN_BYTE_SEARCH_H
#define LOCKSCAN_BYTE_SEARCH_H
#include <stddef.h>

const void *lockscan_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);
const void *lockscan_memrchr(const void *s, int c, size_t n);

#endif
