/*
 * test_logs_parse.c — the logs module's small parsers, as tables: --since values, filter
 * patterns, group/stream names, retention values, file-system names, time formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cloud/logs/logs_int.h"

#define NOW 1764100000000LL /* 2025-11-25T19:46:40Z */

static void test_since(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int64_t want;
    } cases[] = {
        {"30s", 0, NOW - 30000},
        {"10m", 0, NOW - 600000},
        {"2h", 0, NOW - 7200000},
        {"1d", 0, NOW - 86400000},
        {"1w", 0, NOW - 604800000},
        {"0s", 0, NOW},
        {"99999999w", 0, 0},      /* before the epoch: clamped */
        {"999999999999w", -1, 0}, /* overflows */
        {"2026-11-25T10:00:00Z", 0, 1795600800000LL},
        {"2026-11-25T10:00:00.5Z", 0, 1795600800500LL},
        {"2026-11-25T10:00:00.123456Z", 0, 1795600800123LL},
        {"2026-11-25T10:00Z", 0, 1795600800000LL},
        {"2026-11-25 10:00:00", 0, 1795600800000LL},
        {"2026-11-25T12:00:00+02:00", 0, 1795600800000LL},
        {"2026-11-25T05:30:00-0430", 0, 1795600800000LL},
        {"2026-11-25", 0, 1795564800000LL},
        {"2024-02-29", 0, 1709164800000LL},
        /* bad */
        {"", -1, 0},
        {"10", -1, 0},
        {"m", -1, 0},
        {"10x", -1, 0},
        {"10mm", -1, 0},
        {"-5m", -1, 0},
        {"1.5h", -1, 0},
        {" 10m", -1, 0},
        {"10m ", -1, 0},
        {"9999999999999s", -1, 0},
        {"2026-13-01", -1, 0},
        {"2026-02-30", -1, 0},
        {"2025-02-29", -1, 0},
        {"2026-11-25T25:00:00Z", -1, 0},
        {"2026-11-25T10:00:00Q", -1, 0},
        {"2026-11-25T10", -1, 0},
        {"2026-11-25T10:00:00.Z", -1, 0},
        {"2026-11-25T10:00:00+2", -1, 0},
        {"1969-12-31", -1, 0},
        {"yesterday", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = -42;
        int rc = logs__parse_since(cases[i].in, NOW, &got);
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0 && got != cases[i].want)
            fail_msg("'%s': %lld, want %lld", cases[i].in, (long long)got,
                     (long long)cases[i].want);
        if (rc != 0 && got != -42)
            fail_msg("'%s': output written on failure", cases[i].in);
    }
    int64_t v;
    assert_int_equal(logs__parse_since(NULL, NOW, &v), -1);
}

static void test_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        const char *msg;
        int match; /* -1: the pattern is refused */
    } cases[] = {
        {"", "anything", 1},
        {"   ", "anything", 1},
        {"ERROR", "an ERROR here", 1},
        {"ERROR", "an error here", 0}, /* case-sensitive */
        {"ERROR timeout", "ERROR: db timeout", 1},
        {"ERROR timeout", "ERROR: db slow", 0},
        {"\"db timeout\"", "ERROR: db timeout", 1},
        {"\"db timeout\"", "ERROR: timeout db", 0},
        {"\"say \\\"hi\\\"\"", "they say \"hi\"", 1},
        {"ERROR -retry", "ERROR will retry", 0},
        {"ERROR -retry", "ERROR fatal", 1},
        {"ERROR -\"will retry\"", "ERROR will retry", 0},
        {"ERROR -\"will retry\"", "ERROR retry later", 1},
        {"?ERROR ?WARN", "WARN low disk", 1},
        {"?ERROR ?WARN", "INFO fine", 0},
        {"?ERROR ?WARN -disk", "WARN low disk", 0},
        {"REPORT ?Init ?Billed", "REPORT RequestId: x Billed Duration: 2 ms", 1},
        {"\"\"", "x", 1},
        {"{ $.level = \"error\" }", "x", -1},
        {"[ip, user]", "x", -1},
        {"\"unterminated", "x", -1},
        {"\"a\"b", "ab", -1},
        {"-", "x", -1},
        {"?", "x", -1},
        {"ok -", "ok", -1},
        {"-\"\"", "x", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct logs_pattern p;
        char err[200] = "";
        int rc =
            logs__pattern_compile(&p, cases[i].pattern, strlen(cases[i].pattern), err, sizeof err);
        if (cases[i].match < 0) {
            if (rc == 0)
                fail_msg("pattern '%s' accepted", cases[i].pattern);
            assert_true(err[0] != '\0');
            assert_int_equal(p.n, 0);
            continue;
        }
        if (rc != 0)
            fail_msg("pattern '%s' refused: %s", cases[i].pattern, err);
        bool m = logs__pattern_match(&p, cases[i].msg, strlen(cases[i].msg));
        if (m != (cases[i].match == 1))
            fail_msg("'%s' on '%s': %d", cases[i].pattern, cases[i].msg, m);
        logs__pattern_destroy(&p);
    }
    /* matching is on bytes: a NUL inside the message does not end it */
    struct logs_pattern p;
    char err[100];
    assert_int_equal(logs__pattern_compile(&p, "tail", 4, err, sizeof err), 0);
    assert_true(logs__pattern_match(&p, "head\0tail", 9));
    logs__pattern_destroy(&p);
}

static void test_names(void **state)
{
    (void)state;
    char big[600];
    memset(big, 'a', sizeof big);
    assert_true(logs__valid_group_name("/aws/lambda/haar-dev-api", 24));
    assert_true(logs__valid_group_name("a.b-c_d/e#f", 11));
    assert_true(logs__valid_group_name(big, 512));
    assert_false(logs__valid_group_name(big, 513));
    assert_false(logs__valid_group_name("", 0));
    assert_false(logs__valid_group_name("a b", 3));
    assert_false(logs__valid_group_name("a:b", 3));
    assert_false(logs__valid_group_name("a*", 2));
    assert_false(logs__valid_group_name("é", 2));
    assert_true(logs__valid_stream_name("2026/11/25/[$LATEST]abc", 23));
    assert_true(logs__valid_stream_name("sp ace é", 9));
    assert_true(logs__valid_stream_name(big, 512));
    assert_false(logs__valid_stream_name(big, 513));
    assert_false(logs__valid_stream_name("", 0));
    assert_false(logs__valid_stream_name("a:b", 3));
    assert_false(logs__valid_stream_name("a*b", 3));
    assert_false(logs__valid_stream_name("a\0b", 3));

    static const long ok[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                              365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(logs__valid_retention(ok[i]));
    static const long bad[] = {0, -1, 2, 4, 13, 366, 3652, 3654, 100000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(logs__valid_retention(bad[i]));
}

static void test_fs_names(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"/aws/lambda/haar-dev-api", "%2Faws%2Flambda%2Fhaar-dev-api"},
        {"..", "%2E%2E"},
        {".", "%2E"},
        {"../x", "%2E%2E%2Fx"},
        {"2026/11/25/[$LATEST]ab", "2026%2F11%2F25%2F%5B%24LATEST%5Dab"},
        {"%2F", "%252F"},
        {"~", "%7E"},
        {"a_b-C9", "a_b-C9"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(logs__fs_name(cases[i].in, strlen(cases[i].in), out, sizeof out), 0);
        assert_string_equal(out, cases[i].want);
    }
    /* long names: bounded, distinct, no '/' and no leading '.' */
    char a[513], b[513], oa[256], ob[256];
    memset(a, '/', 512);
    a[512] = '\0';
    memcpy(b, a, sizeof a);
    b[511] = 'x';
    assert_int_equal(logs__fs_name(a, 512, oa, sizeof oa), 0);
    assert_int_equal(logs__fs_name(b, 512, ob, sizeof ob), 0);
    assert_true(strlen(oa) <= 200);
    assert_string_not_equal(oa, ob);
    assert_null(strchr(oa, '/'));
    assert_int_equal(logs__fs_name("", 0, out, sizeof out), -1);
    assert_int_equal(logs__fs_name("a", 1, out, 100), -1);
}

static void test_fmt_time(void **state)
{
    (void)state;
    char out[40];
    logs__fmt_time(1795600800123LL, out, sizeof out);
    assert_string_equal(out, "2026-11-25T10:00:00.123Z");
    logs__fmt_time(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_since),    cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_names),    cmocka_unit_test(test_fs_names),
        cmocka_unit_test(test_fmt_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
