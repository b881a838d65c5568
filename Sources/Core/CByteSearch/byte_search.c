#define _GNU_SOURCE
#include <string.h>
#include "byte_search.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* A log line is short and the words asked of it (`not syncing:
   softlockup`, `Comm: `) are mostly absent. glibc's memmem prepares a
   shift table for every call (~600 instructions on a 100-byte line, a
   third of what an analyzer spends on a dump line); below 256 bytes a
   memchr for the needle's first byte, then its last byte, then memcmp,
   finds the same first occurrence for a fraction of that. */
const void *lockscan_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    if (needle_len < 2 || haystack_len >= 256)
        return memmem(haystack, haystack_len, needle, needle_len);
    if (needle_len > haystack_len) return NULL;
    const unsigned char *h = haystack, *n = needle;
    const unsigned char *last_start = h + (haystack_len - needle_len);
    const unsigned char *p = h;
    while (p <= last_start) {
        p = memchr(p, n[0], (size_t)(last_start - p) + 1);
        if (!p) return NULL;
        if (p[needle_len - 1] == n[needle_len - 1] && memcmp(p + 1, n + 1, needle_len - 2) == 0) return p;
        p++;
    }
    return NULL;
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

static int pair_scan_level(void);

/* The eight bytes at h, with the high bit of each byte set where it equals
   the byte repeated in pattern: a byte of v is zero exactly there, and the
   test marks each zero byte without carries between bytes. */
static inline unsigned long long byte_marks(const unsigned char *h, unsigned long long pattern, unsigned long long *word) {
    const unsigned long long ones7 = 0x7F7F7F7F7F7F7F7FULL;
    unsigned long long w, v;
    memcpy(&w, h, 8);
    if (word) *word = w;
    v = w ^ pattern;
    return ~(((v & ones7) + ones7) | v | ones7);
}

static size_t count_byte_swar(const unsigned char *h, size_t n, unsigned char c, unsigned long long *high) {
    /* Eight bytes at a time (byte_marks). Marks are summed per byte lane (at most 255 rounds, so no lane wraps),
       then the eight lanes are added pairwise into 16-bit lanes (each at most
       510) before the multiply folds them: folding the 8-bit lanes directly
       would wrap once a block held more than 255 matches in all. The words
       are also OR-ed together, so one pass tells whether any byte had its
       high bit set (text that is not plain ASCII). */
    const unsigned long long pattern = 0x0101010101010101ULL * c;
    unsigned long long seen = 0;
    size_t count = 0, i = 0;
    while (i + 8 <= n) {
        unsigned long long lanes = 0;
        for (int round = 0; round < 255 && i + 8 <= n; round++, i += 8) {
            unsigned long long w;
            lanes += byte_marks(h + i, pattern, &w) >> 7;
            seen |= w;
        }
        const unsigned long long even = 0x00FF00FF00FF00FFULL;
        unsigned long long pairs = (lanes & even) + ((lanes >> 8) & even);
        count += (size_t)((pairs * 0x0001000100010001ULL) >> 48);
    }
    for (; i < n; i++) {
        seen |= h[i];
        count += h[i] == c;
    }
    if (high) *high = seen & 0x8080808080808080ULL;
    return count;
}

#if defined(__x86_64__)
/* The same, 32 bytes a step: each byte's match adds one to its 8-bit lane
   (cmpeq gives -1, subtracted), at most 255 steps before the lanes are
   summed (psadbw); the bytes are OR-ed for the high-bit check. Counting
   newlines was a fifth of a scan of a plain dmesg with the 8-byte loop. */
__attribute__((target("avx2")))
static size_t count_byte_avx2(const unsigned char *h, size_t n, unsigned char c, unsigned long long *high) {
    const __m256i pattern = _mm256_set1_epi8((char)c);
    const __m256i zero = _mm256_setzero_si256();
    __m256i seen = zero;
    size_t count = 0, i = 0;
    while (i + 32 <= n) {
        __m256i lanes = zero;
        for (int round = 0; round < 255 && i + 32 <= n; round++, i += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(h + i));
            lanes = _mm256_sub_epi8(lanes, _mm256_cmpeq_epi8(v, pattern));
            seen = _mm256_or_si256(seen, v);
        }
        __m256i sums = _mm256_sad_epu8(lanes, zero);
        count += (size_t)_mm256_extract_epi64(sums, 0) + (size_t)_mm256_extract_epi64(sums, 1)
               + (size_t)_mm256_extract_epi64(sums, 2) + (size_t)_mm256_extract_epi64(sums, 3);
    }
    unsigned long long tail = 0;
    count += count_byte_swar(h + i, n - i, c, high ? &tail : 0);
    if (high) *high = tail | (_mm256_movemask_epi8(seen) ? 0x80ULL : 0);
    return count;
}
#endif

static size_t count_byte(const unsigned char *h, size_t n, unsigned char c, unsigned long long *high) {
#if defined(__x86_64__)
    if (n >= 64 && pair_scan_level() >= 2) return count_byte_avx2(h, n, c, high);
#endif
    return count_byte_swar(h, n, c, high);
}

size_t lockscan_count_byte(const unsigned char *h, size_t n, unsigned char c) {
    return count_byte(h, n, c, 0);
}

size_t lockscan_after_nth_byte(const unsigned char *h, size_t n, unsigned char c, size_t k, size_t *found) {
    /* count_byte's loop a block at a time until the block that holds the
       k-th; in it, one word's marks at a time (their popcount), until the
       word that holds it: that one is walked byte by byte. */
    const unsigned long long pattern = 0x0101010101010101ULL * c;
    size_t count = 0, i = 0;
    if (k == 0) { *found = 0; return 0; }
    for (; i + 256 <= n; i += 256) {
        size_t here = count_byte(h + i, 256, c, 0);
        if (count + here >= k) break;
        count += here;
    }
    for (; i + 8 <= n; i += 8) {
        size_t here = (size_t)__builtin_popcountll(byte_marks(h + i, pattern, 0));
        if (count + here >= k) break;
        count += here;
    }
    for (; i < n; i++) {
        if (h[i] == c && ++count == k) { *found = k; return i + 1; }
    }
    *found = count;
    return n;
}

size_t lockscan_count_lines_ascii(const unsigned char *h, size_t n, int *all_ascii) {
    unsigned long long high = 0;
    size_t count = count_byte(h, n, 0x0A, &high);
    *all_ascii = high == 0;
    return count;
}

#if defined(__x86_64__)
/* Teddy-style prefilter (after Hyperscan's and ripgrep's Teddy): each indexed
   pair is put in one of 8 buckets; for every byte position two nibble-table
   shuffles give the buckets whose first byte could be here, two more the
   buckets whose second byte could follow. A position survives only if some
   bucket says yes to both; survivors are checked exactly against the pair
   bits. About 1 instruction per 2 bytes instead of ~12 for the scalar loop. */
__attribute__((target("ssse3")))
static size_t pair_scan_ssse3(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *t) {
    const __m128i t1lo = _mm_loadu_si128((const __m128i *)(t + 0));
    const __m128i t1hi = _mm_loadu_si128((const __m128i *)(t + 16));
    const __m128i t2lo = _mm_loadu_si128((const __m128i *)(t + 32));
    const __m128i t2hi = _mm_loadu_si128((const __m128i *)(t + 48));
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 17 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(h + i + 1));
        __m128i ma = _mm_and_si128(_mm_shuffle_epi8(t1lo, _mm_and_si128(a, low)),
                                   _mm_shuffle_epi8(t1hi, _mm_and_si128(_mm_srli_epi16(a, 4), low)));
        __m128i mb = _mm_and_si128(_mm_shuffle_epi8(t2lo, _mm_and_si128(b, low)),
                                   _mm_shuffle_epi8(t2hi, _mm_and_si128(_mm_srli_epi16(b, 4), low)));
        unsigned mask = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(ma, mb), zero)) & 0xffff;
        while (mask) {
            unsigned j = (unsigned)__builtin_ctz(mask);
            unsigned k = ((unsigned)h[i + j] << 8) | h[i + j + 1];
            if (pairs[k >> 3] >> (k & 7) & 1) return i + j;
            mask &= mask - 1;
        }
    }
    size_t rest = lockscan_pair_scan(h + i, n - i, pairs);
    return rest >= n - i ? n : i + rest;
}

/* The same prefilter 32 bytes at a time. vpshufb looks up within each
   128-bit lane, so the 16-byte nibble tables are repeated in both lanes and
   every byte finds its entry as in the SSSE3 loop; positions come out in
   order from the 32-bit mask. The last < 33 bytes go to the SSSE3 loop. */
__attribute__((target("avx2")))
static size_t pair_scan_avx2(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *t) {
    const __m256i t1lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 0)));
    const __m256i t1hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 16)));
    const __m256i t2lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 32)));
    const __m256i t2hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 48)));
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 33 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + 1));
        __m256i ma = _mm256_and_si256(_mm256_shuffle_epi8(t1lo, _mm256_and_si256(a, low)),
                                      _mm256_shuffle_epi8(t1hi, _mm256_and_si256(_mm256_srli_epi16(a, 4), low)));
        __m256i mb = _mm256_and_si256(_mm256_shuffle_epi8(t2lo, _mm256_and_si256(b, low)),
                                      _mm256_shuffle_epi8(t2hi, _mm256_and_si256(_mm256_srli_epi16(b, 4), low)));
        unsigned mask = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(ma, mb), zero));
        while (mask) {
            unsigned j = (unsigned)__builtin_ctz(mask);
            unsigned k = ((unsigned)h[i + j] << 8) | h[i + j + 1];
            if (pairs[k >> 3] >> (k & 7) & 1) return i + j;
            mask &= mask - 1;
        }
    }
    size_t rest = pair_scan_ssse3(h + i, n - i, pairs, t);
    return rest >= n - i ? n : i + rest;
}
#endif

/* What the CPU can run: 2 AVX2, 1 SSSE3, 0 neither (or not x86-64). */
static int pair_scan_level(void) {
#if defined(__x86_64__)
    static int level = -1;
    if (level < 0) level = __builtin_cpu_supports("avx2") ? 2 : __builtin_cpu_supports("ssse3") ? 1 : 0;
    return level;
#else
    return 0;
#endif
}

size_t lockscan_pair_scan_at(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *tables,
                             int level) {
    if (level > pair_scan_level()) level = pair_scan_level();
    if (n < 2) return n;
#if defined(__x86_64__)
    if (tables && level >= 2) return pair_scan_avx2(h, n, pairs, tables);
    if (tables && level == 1) return pair_scan_ssse3(h, n, pairs, tables);
#endif
    (void)tables;
    return lockscan_pair_scan(h, n, pairs);
}

size_t lockscan_pair_scan_fast(const unsigned char *h, size_t n, const unsigned char *pairs, const unsigned char *tables) {
    return lockscan_pair_scan_at(h, n, pairs, tables, 2);
}

int lockscan_pair_scan_best_level(void) {
    return pair_scan_level();
}
