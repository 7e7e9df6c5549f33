/* Unit tests: core/ids — UUIDv4 shape and version bits, hex ids, secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/ids.h"

static void test_uuid4_shape(void **state)
{
    (void)state;
    char a[IDS_UUID_LEN + 1], b[IDS_UUID_LEN + 1];
    for (int i = 0; i < 1000; i++) {
        ids_uuid4(a);
        assert_int_equal(strlen(a), 36);
        assert_true(ids_is_uuid(a, strlen(a)));
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
    }
    ids_uuid4(b);
    assert_string_not_equal(a, b);
}

static void test_uuid_format(void **state)
{
    (void)state;
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(i * 17);
    char out[IDS_UUID_LEN + 1];
    ids_uuid_format(b, out);
    assert_string_equal(out, "00112233-4455-6677-8899-aabbccddeeff");
}

static void test_is_uuid_rejects(void **state)
{
    (void)state;
    assert_false(ids_is_uuid("", 0));
    assert_false(ids_is_uuid("123e4567-e89b-12d3-a456-42661417400", 35));
    assert_false(ids_is_uuid("123e4567xe89b-12d3-a456-426614174000", 36));
    assert_false(ids_is_uuid("123e4567-e89b-12d3-a456-42661417400g", 36));
    assert_true(ids_is_uuid("123E4567-E89B-12D3-A456-426614174000", 36));
}

static void test_hex_and_secret(void **state)
{
    (void)state;
    char h[33], k[21], s[41];
    ids_hex(h, 16);
    assert_int_equal(strlen(h), 32);
    for (int i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", h[i]));
    ids_alnum_upper(k, 20);
    assert_int_equal(strlen(k), 20);
    for (int i = 0; i < 20; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k[i]));
    ids_secret(s, 40);
    assert_int_equal(strlen(s), 40);
    /* a big request spans pool refills */
    char big[2 * 5000 + 1];
    ids_hex(big, 5000);
    assert_int_equal(strlen(big), 10000);
}

/* X-Amzn-Trace-Id's root: "Root=1-", the epoch seconds in 8 hex digits, '-', 24 random hex. */
static void test_trace_root(void **state)
{
    (void)state;
    char a[IDS_TRACE_ROOT_LEN + 1], b[IDS_TRACE_ROOT_LEN + 1];
    long long before = clock_real_now_ms() / 1000;
    ids_trace_root(a);
    ids_trace_root(b);
    long long after = clock_real_now_ms() / 1000;
    assert_int_equal(strlen(a), IDS_TRACE_ROOT_LEN);
    assert_memory_equal(a, "Root=1-", 7);
    assert_int_equal(a[15], '-');
    for (int i = 7; i < IDS_TRACE_ROOT_LEN; i++)
        if (i != 15)
            assert_non_null(strchr("0123456789abcdef", a[i]));
    char secs[9];
    memcpy(secs, a + 7, 8);
    secs[8] = '\0';
    long long t = strtoll(secs, NULL, 16);
    assert_true(t >= before && t <= after);
    assert_string_not_equal(a + 16, b + 16); /* 96 random bits each */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid4_shape),     cmocka_unit_test(test_uuid_format),
        cmocka_unit_test(test_is_uuid_rejects), cmocka_unit_test(test_hex_and_secret),
        cmocka_unit_test(test_trace_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
