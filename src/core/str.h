/*
 * str.h — small string helpers the engines share. Pure; any thread.
 */
#ifndef HAAR_CORE_STR_H
#define HAAR_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room str_i64 needs: "-9223372036854775808" and a NUL. */
#define STR_I64_MAX 21

/* Writes v in decimal (and a NUL) to out, which has STR_I64_MAX bytes; returns the digits'
 * count. The hot paths' integer formatting, without printf's format parsing. */
size_t str_i64(int64_t v, char *out);

/* The length of the longest prefix of s[0..len) that JSON can carry as it is: printable ASCII
 * other than '"' and '\\' (a control byte, '"', '\\' or a byte of 0x80 and above ends it).
 * Sixteen bytes a step where the machine has SSE2. */
size_t str_json_plain(const char *s, size_t len);

/* The index of the first byte of s[0..len) equal to a, b, c or d; len when there is none.
 * Sixteen bytes a step where the machine has SSE2. */
size_t str_find4(const char *s, size_t len, char a, char b, char c, char d);

/* The index of the first control byte of s[0..len) other than a tab (0x00-0x08, 0x0a-0x1f,
 * 0x7f: what an HTTP field may not hold); len when there is none. Sixteen bytes a step where
 * the machine has SSE2. */
size_t str_find_ctl(const char *s, size_t len);

/* Text built in a fixed array without printf's format parsing (the per-request lines and
 * names): each append takes what fits and cuts the rest, as snprintf would; the text is
 * always NUL-terminated. */
struct strb {
    char *p;    /* the array: cap bytes */
    size_t len; /* bytes used, < cap */
    size_t cap;
};

/* Starts an empty text in p, which has cap (≥ 1) bytes. */
void strb_init(struct strb *b, char *p, size_t cap);
void strb_put(struct strb *b, const char *s, size_t n);
void strb_puts(struct strb *b, const char *s);
void strb_i64(struct strb *b, int64_t v);
/* v / 100 with two decimals ("12.34", "-0.05"): printf's %.2f of a value already rounded
 * to hundredths. */
void strb_cents(struct strb *b, int64_t v);

/* Copies the n bytes at s to dst (cap ≥ 1 bytes), cut to cap - 1, and a NUL: snprintf's
 * "%.*s" without the format. Returns the bytes copied. */
size_t str_copyn(char *dst, size_t cap, const char *s, size_t n);

/* A NUL-terminated heap copy of the n bytes at s (which may hold NULs; the copy keeps them),
 * or NULL when out of memory. The caller frees it. */
char *str_dupn(const char *s, size_t n);

/* Whether s matches pat, where '*' matches any run of characters (none too) and '?' any one
 * character (IAM's StringLike / ArnLike, API Gateway's identity patterns). Linear in
 * strlen(pat) * strlen(s) at worst. */
bool str_glob(const char *pat, const char *s);

/* The index of the first of n entries, sorted by strcmp on their keys, whose key is not less
 * than key (n when there is none): a binary search. key_at(arr, i) gives entry i's key. */
size_t str_lower_bound(const void *arr, size_t n, const char *(*key_at)(const void *arr, size_t i),
                       const char *key);

/* The index of the first of those entries whose key is greater than key (n when there is
 * none): where a listing that resumes after key starts. */
size_t str_upper_bound(const void *arr, size_t n, const char *(*key_at)(const void *arr, size_t i),
                       const char *key);

#endif
