/* Unit tests: core/str (glob matching, byte copies, sorted search) and core/status (reason
 * phrases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
        cmocka_unit_test(test_status_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
