/* Unit tests: core/clock — real and manual clocks, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manual_clock_moves_only_when_told),
        cmocka_unit_test(test_real_monotonic_does_not_go_back),
        cmocka_unit_test(test_format_lambda_last_modified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
