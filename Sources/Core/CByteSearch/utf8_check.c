#include <string.h>
#include "utf8_check.h"

size_t lockscan_utf8_invalid(const unsigned char *p, size_t n, int partial_end_ok) {
    size_t i = 0;
    while (i < n) {
        /* Logs are nearly all ASCII: skip eight bytes at a time while no high bit is set. */
        while (i + 8 <= n) {
            unsigned long long v;
            memcpy(&v, p + i, 8);
            if (v & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char b = p[i];
        if (b < 0x80) { i++; continue; }
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b == 0xE0) { len = 3; lo = 0xA0; }
        else if (b >= 0xE1 && b <= 0xEC) len = 3;
        else if (b == 0xED) { len = 3; hi = 0x9F; }
        else if (b >= 0xEE && b <= 0xEF) len = 3;
        else if (b == 0xF0) { len = 4; lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) len = 4;
        else if (b == 0xF4) { len = 4; hi = 0x8F; }
        else return i;
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n) return partial_end_ok ? n : i;
            unsigned char c = p[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (c < l || c > h) return i;
        }
        i += len;
    }
    return n;
}
