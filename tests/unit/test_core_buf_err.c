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
        cmocka_unit_test(test_err_rows),
        cmocka_unit_test(test_err_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
