/*
 * str.c — small string helpers (str.h).
 */
#include "core/str.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t str_json_plain(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
#ifdef __SSE2__
    /* signed bytes: below 0x20 is a control byte or (negative) 0x80 and above */
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\');
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(u + i));
        __m128i stop =
            _mm_or_si128(_mm_cmplt_epi8(v, space),
                         _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < len && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
        i++;
    return i;
}

size_t str_find4(const char *s, size_t len, char a, char b, char c, char d)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c),
                  vd = _mm_set1_epi8(d);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < len && s[i] != a && s[i] != b && s[i] != c && s[i] != d)
        i++;
    return i;
}

size_t str_find_ctl(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i below = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(u + i));
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, below), v); /* unsigned v <= 0x1f */
        __m128i stop =
            _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl), _mm_cmpeq_epi8(v, del));
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < len && (u[i] >= 0x20 || u[i] == '\t') && u[i] != 0x7f)
        i++;
    return i;
}

char *str_dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void strb_init(struct strb *b, char *p, size_t cap)
{
    b->p = p;
    b->len = 0;
    b->cap = cap;
    p[0] = '\0';
}

void strb_put(struct strb *b, const char *s, size_t n)
{
    b->len += str_copyn(b->p + b->len, b->cap - b->len, s, n);
}

void strb_puts(struct strb *b, const char *s)
{
    strb_put(b, s, strlen(s));
}

void strb_i64(struct strb *b, int64_t v)
{
    char d[STR_I64_MAX];
    strb_put(b, d, str_i64(v, d));
}

void strb_cents(struct strb *b, int64_t v)
{
    if (v < 0)
        strb_put(b, "-", 1);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    strb_i64(b, (int64_t)(u / 100));
    char frac[3] = {'.', (char)('0' + u % 100 / 10), (char)('0' + u % 10)};
    strb_put(b, frac, sizeof frac);
}

size_t str_copyn(char *dst, size_t cap, const char *s, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
    return n;
}

bool str_glob(const char *pat, const char *s)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* The first entry for which strcmp(entry, key) > limit: the lower bound (limit -1) or the upper
 * bound (limit 0). */
static size_t bound(const void *arr, size_t n, const char *(*key_at)(const void *arr, size_t i),
                    const char *key, int limit)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(key_at(arr, mid), key) <= limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t str_lower_bound(const void *arr, size_t n, const char *(*key_at)(const void *arr, size_t i),
                       const char *key)
{
    return bound(arr, n, key_at, key, -1);
}

size_t str_upper_bound(const void *arr, size_t n, const char *(*key_at)(const void *arr, size_t i),
                       const char *key)
{
    return bound(arr, n, key_at, key, 0);
}

size_t str_i64(int64_t v, char *out)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    /* through the unsigned magnitude: -INT64_MIN does not fit an int64_t */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 1;
    for (uint64_t t = u; t >= 10; t /= 10)
        n++;
    size_t len = n + (v < 0);
    out[0] = '-';
    out[len] = '\0';
    char *p = out + len;
    while (u >= 100) { /* two digits a step, from the right */
        const char *d = pairs + 2 * (u % 100);
        u /= 100;
        *--p = d[1];
        *--p = d[0];
    }
    if (u >= 10) {
        *--p = pairs[2 * u + 1];
        *--p = pairs[2 * u];
    } else {
        *--p = (char)('0' + u);
    }
    return len;
}
