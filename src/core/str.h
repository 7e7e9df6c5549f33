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
