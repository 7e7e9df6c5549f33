/* Unit tests: core/str (glob matching, byte copies, sorted search, integers, byte scans,
 * fixed-array text) and core/status (reason
 * phrases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "core/str.h"

static const struct {
    const char *pat, *s;
    bool match;
} globs[] = {
    {"", "", true},
    {"", "a", false},
    {"*", "", true},
    {"*", "anything at all", true},
    {"?", "", false},
    {"?", "x", true},
    {"a?c", "abc", true},
    {"a?c", "ac", false},
    {"arn:aws:execute-api:*:*:api/*/GET/*", "arn:aws:execute-api:eu-west-1:1:api/$default/GET/x",
     true},
    {"arn:aws:execute-api:*:*:api/*/GET/*", "arn:aws:execute-api:eu-west-1:1:api/$default/PUT/x",
     false},
    {"*b*b*", "abxbz", true},
    {"*b*b*", "abxz", false},
    {"a*", "b", false},
    {"*a", "bba", true},
    {"**a**", "a", true},
    {"exact", "exact", true},
    {"exact", "exactly", false},
    {"exactly", "exact", false},
};

static void test_glob_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++) {
        if (str_glob(globs[i].pat, globs[i].s) != globs[i].match)
            fail_msg("glob %zu: '%s' ~ '%s' should be %d", i, globs[i].pat, globs[i].s,
                     globs[i].match);
    }
}

static void test_dupn_keeps_bytes_and_terminates(void **state)
{
    (void)state;
    char *d = str_dupn("ab\0cd-not-this", 5);
    assert_non_null(d);
    assert_memory_equal(d, "ab\0cd", 5);
    assert_int_equal(d[5], '\0');
    free(d);
    d = str_dupn("", 0);
    assert_non_null(d);
    assert_string_equal(d, "");
    free(d);
}

static const char *const sorted[] = {"alpha", "beta", "beta", "delta", "omega"};

static const char *sorted_at(const void *arr, size_t i)
{
    return ((const char *const *)arr)[i];
}

static const struct {
    const char *key;
    size_t n;            /* how many of sorted[] the search sees */
    size_t lower, upper; /* the first index >= key, > key */
} bound_cases[] = {
    {"alpha", 5, 0, 1},   {"", 5, 0, 0},      {"a", 5, 0, 0},     {"beta", 5, 1, 3},
    {"bz", 5, 3, 3},      {"delta", 5, 3, 4}, {"omega", 5, 4, 5}, {"zulu", 5, 5, 5},
    {"x", 0, 0, 0},       {"beta", 1, 1, 1},  {"alpha", 1, 0, 1}, {"gamma", 4, 4, 4},
    {"charlie", 3, 3, 3},
};

static void test_bound_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bound_cases / sizeof bound_cases[0]; i++) {
        size_t n = bound_cases[i].n;
        const char *key = bound_cases[i].key;
        size_t lo = str_lower_bound(sorted, n, sorted_at, key);
        size_t up = str_upper_bound(sorted, n, sorted_at, key);
        if (lo != bound_cases[i].lower || up != bound_cases[i].upper)
            fail_msg("bounds %zu: '%s' in %zu gave [%zu, %zu), want [%zu, %zu)", i, key, n, lo, up,
                     bound_cases[i].lower, bound_cases[i].upper);
    }
}

static void test_i64_decimal(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {7, "7"},
        {-1, "-1"},
        {1234567890, "1234567890"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[STR_I64_MAX];
        assert_int_equal(str_i64(cases[i].v, out), strlen(cases[i].text));
        assert_string_equal(out, cases[i].text);
    }
}

/* str_i64 against printf on every power of ten and its neighbours, and a walk of values */
static void test_i64_matches_printf(void **state)
{
    (void)state;
    char out[STR_I64_MAX], want[32];
    int64_t p = 1;
    for (int k = 0; k <= 18; k++) {
        p = k == 0 ? 1 : p * 10; /* 10^18 is the last that fits */
        int64_t vs[] = {p - 1, p, p + 1, -p + 1, -p, -p - 1};
        for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
            snprintf(want, sizeof want, "%" PRId64, vs[i]);
            assert_int_equal(str_i64(vs[i], out), strlen(want));
            assert_string_equal(out, want);
        }
    }
    for (int64_t v = -100000; v <= 100000; v += 7) {
        snprintf(want, sizeof want, "%" PRId64, (int64_t)(v * 92233720368LL));
        str_i64((int64_t)(v * 92233720368LL), out);
        assert_string_equal(out, want);
    }
}

/* The byte scans: the SSE2 steps and the byte-at-a-time rest find the same first byte as a
 * plain loop, wherever it falls (before, on and after each 16-byte step) */
static size_t plain_ref(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

static void test_scans_find_the_first_byte(void **state)
{
    (void)state;
    static const unsigned char stops[] = {0x00, 0x01, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xff};
    static const unsigned char goes[] = {0x20, '!', '#', '[', ']', 'a', '~'};
    unsigned char s[80];
    for (size_t len = 0; len <= sizeof s; len++) {
        memset(s, 'x', sizeof s);
        assert_int_equal(str_json_plain((char *)s, len), len);
        assert_int_equal(str_find4((char *)s, len, '\\', '\n', '\r', '\0'), len);
        assert_int_equal(str_find_ctl((char *)s, len), len);
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof stops; k++) {
                memset(s, 'x', sizeof s);
                s[at] = stops[k];
                if (at + 5 < len)
                    s[at + 5] = '"'; /* a later stop does not count */
                assert_int_equal(str_json_plain((char *)s, len), plain_ref(s, len));
                assert_int_equal(plain_ref(s, len),
                                 stops[k] == 0x7f ? (at + 5 < len ? at + 5 : len) : at);
            }
            for (size_t k = 0; k < sizeof goes; k++) {
                memset(s, 'x', sizeof s);
                s[at] = goes[k];
                assert_int_equal(str_json_plain((char *)s, len), len);
            }
            static const unsigned char ctl[] = {0x00, 0x08, 0x0a, 0x0d, 0x1f, 0x7f};
            static const unsigned char field[] = {'\t', 0x20, 0x7e, 0x80, 0xff};
            for (size_t k = 0; k < sizeof ctl; k++) {
                memset(s, 'x', sizeof s);
                s[at] = ctl[k];
                assert_int_equal(str_find_ctl((char *)s, len), at);
            }
            for (size_t k = 0; k < sizeof field; k++) {
                memset(s, 'x', sizeof s);
                s[at] = field[k];
                assert_int_equal(str_find_ctl((char *)s, len), len);
            }
            static const char four[] = {'\\', '\n', '\r', '\0'};
            for (size_t k = 0; k < 4; k++) {
                memset(s, 'x', sizeof s);
                s[at] = (unsigned char)four[k];
                assert_int_equal(str_find4((char *)s, len, '\\', '\n', '\r', '\0'), at);
                s[at] = (unsigned char)(four[k] + 1); /* a neighbour is no match */
                assert_int_equal(str_find4((char *)s, len, '\\', '\n', '\r', '\0'), len);
            }
        }
    }
}

/* strb: appends cut at the array's end as snprintf would, the text always terminated */
static void test_strb_cuts_like_snprintf(void **state)
{
    (void)state;
    char a[12];
    struct strb b;
    strb_init(&b, a, sizeof a);
    assert_string_equal(a, "");
    strb_puts(&b, "REPORT ");
    strb_i64(&b, -42);
    assert_string_equal(a, "REPORT -42");
    strb_puts(&b, "tail");
    assert_int_equal(b.len, 11);
    assert_string_equal(a, "REPORT -42t");
    strb_i64(&b, 7);
    strb_put(&b, NULL, 0);
    assert_string_equal(a, "REPORT -42t");

    static const struct {
        int64_t v;
        const char *text;
    } cents[] = {{0, "0.00"},
                 {5, "0.05"},
                 {-5, "-0.05"},
                 {10, "0.10"},
                 {12345, "123.45"},
                 {-12345, "-123.45"},
                 {100, "1.00"},
                 {99, "0.99"},
                 {INT64_MAX, "92233720368547758.07"},
                 {INT64_MIN, "-92233720368547758.08"}};
    for (size_t i = 0; i < sizeof cents / sizeof cents[0]; i++) {
        char c[32];
        strb_init(&b, c, sizeof c);
        strb_cents(&b, cents[i].v);
        assert_string_equal(c, cents[i].text);
    }
    char one[1];
    strb_init(&b, one, sizeof one);
    strb_puts(&b, "anything");
    assert_int_equal(b.len, 0);
    assert_string_equal(one, "");

    char d[4];
    assert_int_equal(str_copyn(d, sizeof d, "abcdef", 6), 3);
    assert_string_equal(d, "abc");
    assert_int_equal(str_copyn(d, sizeof d, "a\0b", 3), 3); /* bytes, NULs too */
    assert_memory_equal(d, "a\0b", 4);
    assert_int_equal(str_copyn(d, sizeof d, NULL, 0), 0);
    assert_string_equal(d, "");
}

static void test_status_reasons(void **state)
{
    (void)state;
    assert_string_equal(status_reason(200), "OK");
    assert_string_equal(status_reason(404), "Not Found");
    assert_string_equal(status_reason(429), "Too Many Requests");
    assert_string_equal(status_reason(504), "Gateway Timeout");
    assert_string_equal(status_reason(299), "OK");
    assert_string_equal(status_reason(399), "Redirect");
    assert_string_equal(status_reason(418), "Client Error");
    assert_string_equal(status_reason(599), "Server Error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_table),
        cmocka_unit_test(test_dupn_keeps_bytes_and_terminates),
        cmocka_unit_test(test_bound_table),
        cmocka_unit_test(test_i64_decimal),
        cmocka_unit_test(test_i64_matches_printf),
        cmocka_unit_test(test_scans_find_the_first_byte),
        cmocka_unit_test(test_strb_cuts_like_snprintf),
        cmocka_unit_test(test_status_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
