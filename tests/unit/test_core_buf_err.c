/* Unit tests: core/buf (caps, take) and core/err (the table and its AWS bodies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"

static void test_buf_cap_is_hard(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(buf_puts(&b, "abc"), BUF_OK);
    assert_int_equal(buf_puts(&b, "def"), BUF_ETOOBIG);
    assert_int_equal(b.len, 3); /* left as it was */
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_printf(&b, "%d", 12), BUF_OK);
    assert_string_equal(b.data, "abc12");
    size_t n;
    char *s = buf_take(&b, &n);
    assert_int_equal(n, 5);
    assert_string_equal(s, "abc12");
    free(s);
    assert_int_equal(b.len, 0);
    buf_reset(&b);
    buf_destroy(&b);
    buf_destroy(NULL);
}

/* The inline append: bytes that fit the memory go in place, the last byte of it is kept for
 * the NUL, and the cap holds on that path too */
static void test_buf_append_edges(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1000);
    assert_int_equal(buf_reserve(&b, 63), BUF_OK);
    size_t cap = b.cap;
    char fill[1000];
    memset(fill, 'a', sizeof fill);
    assert_int_equal(buf_append(&b, fill, cap - 1), BUF_OK); /* fills it, NUL in the last byte */
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.data[cap - 1], '\0');
    assert_int_equal(buf_append(&b, "b", 1), BUF_OK); /* grows */
    assert_true(b.cap > cap);
    assert_int_equal(b.len, cap);
    assert_string_equal(b.data + cap - 2, "ab");
    assert_int_equal(buf_append(&b, NULL, 0), BUF_OK);
    assert_int_equal(buf_append(&b, fill, 1000 - b.len), BUF_OK); /* exactly to the cap */
    assert_int_equal(b.len, 1000);
    assert_int_equal(buf_append(&b, "c", 1), BUF_ETOOBIG);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[1000], '\0');
    buf_destroy(&b);
}

static void test_err_rows(void **state)
{
    (void)state;
    assert_int_equal(err_status(ERR_LAMBDA_NOT_FOUND), 404);
    assert_string_equal(err_code(ERR_LAMBDA_NOT_FOUND), "ResourceNotFoundException");
    assert_int_equal(err_status(ERR_LOGS_NOT_FOUND), 400);
    assert_int_equal(err_status(ERR_LAMBDA_TOO_MANY_REQUESTS), 429);
    assert_string_equal(err_code(ERR_LAMBDA_VALIDATION), "ValidationException");
    assert_string_equal(err_name(ERR_LAMBDA_TOO_LARGE), "LAMBDA_TOO_LARGE");
    /* out of range falls back to InternalFailure, never crashes */
    assert_string_equal(err_code((enum err)9999), "InternalFailure");
}

static void test_err_bodies(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(err_rest_json_body(ERR_LAMBDA_NOT_FOUND, "Function not found: x", &b), BUF_OK);
    assert_string_equal(b.data, "{\"Type\":\"User\",\"message\":\"Function not found: x\"}");
    buf_reset(&b);
    err_rest_json_body(ERR_LAMBDA_SERVICE, NULL, &b);
    assert_non_null(strstr(b.data, "\"Type\":\"Service\""));
    buf_reset(&b);
    err_json_body(ERR_LOGS_NOT_FOUND, "", "quote \" here", &b);
    assert_string_equal(
        b.data, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"quote \\\" here\"}");
    buf_reset(&b);
    err_xml_body(ERR_UNKNOWN_OPERATION, "<x>", "rid", &b);
    assert_non_null(strstr(b.data, "<Code>UnknownOperationException</Code>"));
    assert_non_null(strstr(b.data, "<Message>&lt;x&gt;</Message>"));
    buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_is_hard),
        cmocka_unit_test(test_buf_append_edges),
        cmocka_unit_test(test_err_rows),
        cmocka_unit_test(test_err_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
