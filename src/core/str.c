/*
 * str.c — small string helpers (str.h).
 */
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

char *str_dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
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
    char tmp[STR_I64_MAX];
    size_t n = 0;
    /* through the unsigned magnitude: -INT64_MIN does not fit an int64_t */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}
