/* Unit tests: lambda/validate.c — names and ARNs, percent-decoding, roles, CreateFunction
 * bodies, client context. Each accepted and refused shape as AWS documents it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/lambda/lambda.h"

static enum err resolve(const char *in, char *name)
{
    char msg[512];
    return lambda_resolve_name(in, strlen(in), name, 80, msg, sizeof(msg));
}

static void test_resolve_name_forms(void **state)
{
    (void)state;
    char name[80];
    assert_int_equal(resolve("my-fn_1", name), ERR_OK);
    assert_string_equal(name, "my-fn_1");
    assert_int_equal(resolve("arn:aws:lambda:eu-west-1:000000000000:function:f1", name), ERR_OK);
    assert_string_equal(name, "f1");
    assert_int_equal(resolve("arn:aws:lambda:eu-west-1:000000000000:function:f1:$LATEST", name),
                     ERR_OK);
    assert_string_equal(name, "f1");
    assert_int_equal(resolve("000000000000:function:f2", name), ERR_OK);
    assert_string_equal(name, "f2");
    assert_int_equal(resolve("f3:$LATEST", name), ERR_OK);
    assert_string_equal(name, "f3");
}

static void test_resolve_name_refusals(void **state)
{
    (void)state;
    char name[80];
    assert_int_equal(resolve("", name), ERR_LAMBDA_VALIDATION);
    assert_int_equal(resolve("bad name", name), ERR_LAMBDA_VALIDATION);
    assert_int_equal(resolve("arn:aws:s3:eu-west-1:000000000000:function:f1", name),
                     ERR_LAMBDA_VALIDATION);
    assert_int_equal(resolve("arn:aws:lambda:eu-west-1:12:function:f1", name),
                     ERR_LAMBDA_VALIDATION);
    assert_int_equal(resolve("a:b:c:d:e:f:g:h:i", name), ERR_LAMBDA_VALIDATION);
    /* a 65-character name */
    assert_int_equal(
        resolve("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", name),
        ERR_LAMBDA_VALIDATION);
    /* versions and aliases do not exist here */
    assert_int_equal(resolve("f1:7", name), ERR_LAMBDA_NOT_FOUND);
    assert_int_equal(resolve("f1:", name), ERR_LAMBDA_VALIDATION);
}

static void test_pct_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(lambda_pct_decode("arn%3Aaws", 9, out, sizeof(out)), 7);
    assert_string_equal(out, "arn:aws");
    assert_int_equal(lambda_pct_decode("a%253A", 6, out, sizeof(out)), 4);
    assert_string_equal(out, "a%3A"); /* one level at a time */
    assert_int_equal(lambda_pct_decode("bad%4", 5, out, sizeof(out)), -1);
    assert_int_equal(lambda_pct_decode("bad%zz", 6, out, sizeof(out)), -1);
    assert_int_equal(lambda_pct_decode("nul%00", 6, out, sizeof(out)), -1);
    assert_int_equal(lambda_pct_decode("toolong", 7, out, 4), -1);
}

static void test_roles(void **state)
{
    (void)state;
    assert_true(lambda_valid_role("arn:aws:iam::000000000000:role/x"));
    assert_true(lambda_valid_role("arn:aws:iam::123456789012:role/service-role/my.role@x"));
    assert_false(lambda_valid_role("arn:aws:iam::0000:role/x"));
    assert_false(lambda_valid_role("arn:aws:iam::000000000000:user/x"));
    assert_false(lambda_valid_role("role/x"));
    assert_false(lambda_valid_role("arn:aws:iam::000000000000:role/"));
}

static enum err parse(const char *body, bool update, char *msg)
{
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    struct buf zip;
    buf_init(&zip, 1 << 20);
    enum err e = lambda_parse_fn_spec(body, strlen(body), update, &doc, &spec, &zip, msg, 1024);
    json_decref(doc);
    buf_destroy(&zip);
    return e;
}

#define ROLE "\"Role\":\"arn:aws:iam::000000000000:role/r\""
#define CODE "\"Code\":{\"ZipFile\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}"

static void test_create_body(void **state)
{
    (void)state;
    char msg[1024];
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE "," CODE
                           "}",
                           false, msg),
                     ERR_OK);
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2\"," ROLE "," CODE
                           ",\"Timeout\":900,\"MemorySize\":10240}",
                           false, msg),
                     ERR_OK);
    assert_int_equal(
        parse("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\"," ROLE "," CODE "}", false, msg),
        ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(
        parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," CODE "}", false, msg),
        ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "Role"));
    assert_int_equal(
        parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\",\"Role\":\"x\"," CODE "}",
              false, msg),
        ERR_LAMBDA_VALIDATION);
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE "," CODE
                           ",\"Timeout\":901}",
                           false, msg),
                     ERR_LAMBDA_VALIDATION);
    assert_non_null(strstr(msg, "less than or equal to 900"));
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE "," CODE
                           ",\"MemorySize\":64}",
                           false, msg),
                     ERR_LAMBDA_VALIDATION);
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE
                           ",\"Code\":{\"ZipFile\":\"!!!\"}}",
                           false, msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE "," CODE
                           ",\"Environment\":{\"Variables\":{\"AWS_REGION\":\"x\"}}}",
                           false, msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "reserved keys"));
    assert_int_equal(parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," ROLE "," CODE
                           ",\"Environment\":{\"Variables\":{\"1BAD\":\"x\"}}}",
                           false, msg),
                     ERR_LAMBDA_VALIDATION);
    assert_int_equal(parse("not json", false, msg), ERR_LAMBDA_INVALID_CONTENT);
    assert_int_equal(parse("[1]", false, msg), ERR_LAMBDA_INVALID_CONTENT);
    assert_int_equal(parse("{\"FunctionName\":5}", false, msg), ERR_LAMBDA_INVALID_PARAMETER);
    /* update: nothing required, ranges still checked */
    assert_int_equal(parse("{\"Timeout\":30}", true, msg), ERR_OK);
    assert_int_equal(parse("{\"Timeout\":0}", true, msg), ERR_LAMBDA_VALIDATION);
}

static void test_client_context(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8192);
    /* {"custom":{"a":"b"}} */
    const char *ok = "eyJjdXN0b20iOnsiYSI6ImIifX0=";
    assert_int_equal(lambda_decode_client_context(ok, strlen(ok), &b), ERR_OK);
    assert_string_equal(b.data, "{\"custom\":{\"a\":\"b\"}}");
    buf_reset(&b);
    assert_int_equal(lambda_decode_client_context("!!", 2, &b), ERR_LAMBDA_INVALID_CONTENT);
    buf_reset(&b);
    assert_int_equal(lambda_decode_client_context("WzFd", 4, &b), ERR_LAMBDA_INVALID_CONTENT);
    buf_destroy(&b);
}

static enum err tags(const char *text)
{
    char msg[512];
    json_t *j = json_loads(text, 0, NULL);
    enum err e = lambda_check_tags(j, msg, sizeof(msg));
    json_decref(j);
    return e;
}

static void test_tags(void **state)
{
    (void)state;
    assert_int_equal(tags("{}"), ERR_OK);
    assert_int_equal(tags("{\"team\":\"core\",\"empty\":\"\"}"), ERR_OK);
    assert_int_equal(tags("[]"), ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(tags("{\"k\":1}"), ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(tags("{\"\":\"v\"}"), ERR_LAMBDA_VALIDATION);
    assert_int_equal(tags("{\"aws:x\":\"v\"}"), ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(tags("{\"AWS:x\":\"v\"}"), ERR_LAMBDA_INVALID_PARAMETER);
    char big[2048];
    /* 128 characters of key is the most; counted in characters, not bytes (é is 2 bytes) */
    char key[300] = "";
    for (int i = 0; i < 128; i++)
        strncat(key, "\xc3\xa9", sizeof(key) - strlen(key) - 1);
    snprintf(big, sizeof(big), "{\"%s\":\"v\"}", key);
    assert_int_equal(tags(big), ERR_OK);
    snprintf(big, sizeof(big), "{\"%se\":\"v\"}", key);
    assert_int_equal(tags(big), ERR_LAMBDA_VALIDATION);
    char val[300];
    memset(val, 'v', 257);
    val[257] = '\0';
    snprintf(big, sizeof(big), "{\"k\":\"%s\"}", val);
    assert_int_equal(tags(big), ERR_LAMBDA_VALIDATION);
    val[256] = '\0';
    snprintf(big, sizeof(big), "{\"k\":\"%s\"}", val);
    assert_int_equal(tags(big), ERR_OK);
    /* 50 tags pass, 51 do not */
    json_t *j = json_object();
    for (int i = 0; i < 51; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        json_object_set_new(j, k, json_string("v"));
        char msg[256];
        assert_int_equal(lambda_check_tags(j, msg, sizeof(msg)),
                         i < 50 ? ERR_OK : ERR_LAMBDA_INVALID_PARAMETER);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_name_forms), cmocka_unit_test(test_resolve_name_refusals),
        cmocka_unit_test(test_pct_decode),         cmocka_unit_test(test_roles),
        cmocka_unit_test(test_create_body),        cmocka_unit_test(test_client_context),
        cmocka_unit_test(test_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
