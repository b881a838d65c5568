// memmem and memrchr are GNU extensions that Swift's Glibc module does not
// export; these wrappers make them callable without redefining them.
#ifndef LOCKSCAN_BYTE_SEARCH_H
#define LOCKSCAN_BYTE_SEARCH_H
#include <stddef.h>
#include "utf8_check.h"

const void *lockscan_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);
const void *lockscan_memrchr(const void *s, int c, size_t n);

/// Index of the first i in [0, n-1) whose byte pair (h[i], h[i+1]) has its
/// bit set in `pairs` (65536 bits), or n when none does. One pass over the
/// bytes however many trigger strings there are: the multi-string prefilter.
size_t lockscan_pair_scan(const unsigned char *h, size_t n, const unsigned char *pairs);

/// The same contract as lockscan_pair_scan, with a SIMD prefilter when the
/// CPU has it: `tables` holds 64 bytes of bucket nibble tables (first byte
/// low/high nibble, second byte low/high nibble) built from the same pairs.
size_t lockscan_pair_scan_fast(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *tables);

/// lockscan_pair_scan_fast with its SIMD level capped at `level` (0 scalar,
/// 1 SSSE3, 2 AVX2; never above what the CPU runs): the tests compare each
/// level with the scalar loop.
size_t lockscan_pair_scan_at(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *tables,
                             int level);

/// The level lockscan_pair_scan_fast uses on this CPU.
int lockscan_pair_scan_best_level(void);

/// How many bytes in h[0..n) equal c (32 bytes a step with AVX2, else 8).
size_t lockscan_count_byte(const unsigned char *h, size_t n, unsigned char c);

/// Where the k-th c in h[0..n) ends (the offset just after it), or n when h
/// holds fewer than k of them; *found is how many were counted up to there
/// (k, or all of them). k = 0 gives 0.
size_t lockscan_after_nth_byte(const unsigned char *h, size_t n, unsigned char c, size_t k, size_t *found);

/// Newlines in h[0..n), counted in the same pass that tells whether every
/// byte is ASCII (*all_ascii = 1): ASCII is always well-formed UTF-8, so the
/// UTF-8 check is needed only when it is not.
size_t lockscan_count_lines_ascii(const unsigned char *h, size_t n, int *all_ascii);

#endif
