/* Unit tests: core/clock — real and manual clocks, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"

static void test_manual_clock_moves_only_when_told(void **state)
{
    (void)state;
    clock_set_manual(1000);
    assert_true(clock_is_manual());
    assert_int_equal(clock_now_ms(), 1000);
    assert_int_equal(clock_mono_ms(), 1000);
    clock_advance_ms(250);
    assert_int_equal(clock_now_ms(), 1250);
    clock_advance_ms(-5); /* never backwards */
    assert_int_equal(clock_now_ms(), 1250);
    clock_set_real();
    assert_false(clock_is_manual());
    assert_true(clock_now_ms() > 1700000000000LL);
}

static void test_real_monotonic_does_not_go_back(void **state)
{
    (void)state;
    int64_t a = clock_mono_ns();
    int64_t b = clock_mono_ns();
    assert_true(b >= a);
}

static void test_format_lambda_last_modified(void **state)
{
    (void)state;
    char out[40];
    /* 2026-11-25T12:00:00.123Z */
    int n = clock_format_lambda(1795608000123LL, out, sizeof(out));
    assert_int_equal(n, 28);
    assert_string_equal(out, "2026-11-25T12:00:00.123+0000");
    assert_int_equal(clock_format_lambda(1795608000123LL, out, 10), -1);
    assert_int_equal(clock_format_lambda(-1, out, sizeof(out)), -1);
    assert_int_equal(clock_format_ymd_slash(1795608000123LL, out, sizeof(out)), 10);
    assert_string_equal(out, "2026/11/25");
}

/* ISO-8601, with and without milliseconds: the digits against printf's over many dates, the
 * sizes it needs, and the five-digit years it still writes. */
static void test_format_iso(void **state)
{
    (void)state;
    char out[40], want[80];
    assert_int_equal(clock_format_iso(1795608000123LL, true, out, sizeof out), 24);
    assert_string_equal(out, "2026-11-25T12:00:00.123Z");
    assert_int_equal(clock_format_iso(1795608000123LL, false, out, sizeof out), 20);
    assert_string_equal(out, "2026-11-25T12:00:00Z");
    assert_int_equal(clock_format_iso(0, true, out, 25), 24);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    assert_int_equal(clock_format_iso(0, true, out, 24), -1);
    assert_int_equal(clock_format_iso(0, false, out, 21), 20);
    assert_int_equal(clock_format_iso(0, false, out, 20), -1);
    assert_int_equal(clock_format_iso(-1, true, out, sizeof out), -1);
    assert_int_equal(clock_format_iso(253402300799999LL, true, out, sizeof out), 24);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    assert_int_equal(clock_format_iso(253402300800000LL, true, out, sizeof out), 25);
    assert_string_equal(out, "10000-01-01T00:00:00.000Z");
    assert_int_equal(clock_format_iso(253402300800000LL, true, out, 25), -1);
    for (int64_t ms = 7; ms < 253402300799999LL; ms += 98765432109LL) {
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        assert_int_equal(clock_format_iso(ms, true, out, sizeof out), 24);
        assert_string_equal(out, want);
        assert_int_equal(clock_format_iso(ms, false, out, sizeof out), 20);
        memcpy(want + 19, "Z", 2);
        assert_string_equal(out, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manual_clock_moves_only_when_told),
        cmocka_unit_test(test_real_monotonic_does_not_go_back),
        cmocka_unit_test(test_format_lambda_last_modified),
        cmocka_unit_test(test_format_iso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
