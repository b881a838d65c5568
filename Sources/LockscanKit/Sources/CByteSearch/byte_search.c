#define _GNU_SOURCE
#include <string.h>
#include "byte_search.h"

const void *lockscan_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

const void *lockscan_memrchr(const void *s, int c, size_t n) {
    return memrchr(s, c, n);
}

size_t lockscan_pair_scan(const unsigned char *h, size_t n, const unsigned char *pairs) {
    if (n < 2) return n;
    size_t i = 0;
    /* Unrolled by four: the table (8 KiB) stays in L1, the loop is branch-light.
       (A first-byte prefilter was tried and lost: trigger pairs start with
       bytes such as 'C', 'k', '_' that are common in kernel logs.) */
    for (; i + 4 < n; i += 4) {
        unsigned k0 = ((unsigned)h[i] << 8) | h[i + 1];
        unsigned k1 = ((unsigned)h[i + 1] << 8) | h[i + 2];
        unsigned k2 = ((unsigned)h[i + 2] << 8) | h[i + 3];
        unsigned k3 = ((unsigned)h[i + 3] << 8) | h[i + 4];
        unsigned hit = (pairs[k0 >> 3] >> (k0 & 7) & 1) | (pairs[k1 >> 3] >> (k1 & 7) & 1)
                     | (pairs[k2 >> 3] >> (k2 & 7) & 1) | (pairs[k3 >> 3] >> (k3 & 7) & 1);
        if (hit) break;
    }
    for (; i + 1 < n; i++) {
        unsigned k = ((unsigned)h[i] << 8) | h[i + 1];
        if (pairs[k >> 3] >> (k & 7) & 1) return i;
    }
    return n;
}

size_t lockscan_count_byte(const unsigned char *h, size_t n, unsigned char c) {
    /* Eight bytes at a time: a byte of v is zero exactly where h had c; the
       high bit of t marks each zero byte without carries between bytes.
       Marks are summed per byte lane (at most 255 rounds) and folded with a
       multiply, so no popcount instruction is needed. */
    const unsigned long long ones7 = 0x7F7F7F7F7F7F7F7FULL;
    const unsigned long long lsb = 0x0101010101010101ULL;
    const unsigned long long pattern = lsb * c;
    size_t count = 0, i = 0;
    while (i + 8 <= n) {
        unsigned long long lanes = 0;
        for (int round = 0; round < 255 && i + 8 <= n; round++, i += 8) {
            unsigned long long v;
            memcpy(&v, h + i, 8);
            v ^= pattern;
            unsigned long long t = ~(((v & ones7) + ones7) | v | ones7);
            lanes += t >> 7;
        }
        count += (size_t)((lanes * lsb) >> 56);
    }
    for (; i < n; i++) count += h[i] == c;
    return count;
}
