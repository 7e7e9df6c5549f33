/* Unit tests: lambda/validate.c and shapes.c — names and ARNs, percent-decoding, roles,
 * CreateFunction bodies, client context, the pattern matcher and the model table itself.
 * Each accepted and refused shape as AWS documents it; the request-level cases (exact
 * messages) are data: tests/data/lambda/validation.json, test_lambda_validate_data.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/lambda/lambda.h"
#include "core/url.h"
#include "cloud/lambda/shapes.h"
#include "core/utf8.h"

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
    assert_int_equal(url_decode("arn%3Aaws", 9, 0, out, sizeof(out)), 7);
    assert_string_equal(out, "arn:aws");
    assert_int_equal(url_decode("a%253A", 6, 0, out, sizeof(out)), 4);
    assert_string_equal(out, "a%3A"); /* one level at a time */
    assert_int_equal(url_decode("bad%4", 5, 0, out, sizeof(out)), -1);
    assert_int_equal(url_decode("bad%zz", 6, 0, out, sizeof(out)), -1);
    assert_int_equal(url_decode("nul%00", 6, 0, out, sizeof(out)), -1);
    assert_int_equal(url_decode("toolong", 7, 0, out, 4), -1);
}

static void test_roles(void **state)
{
    (void)state;
    assert_true(lambda_valid_role("arn:aws:iam::000000000000:role/x"));
    assert_true(lambda_valid_role("arn:aws:iam::123456789012:role/service-role/my.role@x"));
    assert_false(lambda_valid_role("arn:aws:iam::0000:role/x"));
    assert_false(lambda_valid_role("arn:aws:iam::000000000000:user/x"));
    assert_false(lambda_valid_role("role/x"));
    /* AWS's pattern ends in role/?[...]+ with '/' in the class: a bare "role/" matches */
    assert_true(lambda_valid_role("arn:aws:iam::000000000000:role/"));
    assert_false(lambda_valid_role("arn:aws:iam::000000000000:role"));
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
        ERR_OK);
    assert_int_equal(
        parse("{\"FunctionName\":\"f\",\"Runtime\":\"java17\"," ROLE "," CODE "}", false, msg),
        ERR_LAMBDA_INVALID_PARAMETER);
    /* a missing Role is the model's "Member must not be null" */
    assert_int_equal(
        parse("{\"FunctionName\":\"f\",\"Runtime\":\"provided.al2023\"," CODE "}", false, msg),
        ERR_LAMBDA_VALIDATION);
    assert_string_equal(msg, "1 validation error detected: Value null at 'role' failed to "
                             "satisfy constraint: Member must not be null");
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

struct pattern_case {
    const char *pattern; /* a pattern, or a shape name prefixed with '@' */
    const char *input;
    size_t len; /* 0: strlen(input) */
    int want;
};

static const struct pattern_case pattern_cases[] = {
    {"[^\\s]+", "bootstrap", 0, 1},
    {"[^\\s]+", "", 0, 0},
    {"[^\\s]+", "a b", 0, 0},
    {"[^\\s]+", "a\tb", 0, 0},
    {"[^\\s]+",
     "a\x0b"
     "b",
     0, 0},
    {"[^\\s]+", "a\0b", 3, 1}, /* Java's \s has no NUL: the service refuses it instead */
    {"[^\\s]+", "\xc3\xa9t\xc3\xa9", 0, 1},
    {"@FunctionName", "f", 0, 1},
    {"@FunctionName", "my-fn_1", 0, 1},
    {"@FunctionName", "arn:aws:lambda:eu-west-1:000000000000:function:f1", 0, 1},
    {"@FunctionName", "arn:aws:lambda:eu-west-1:000000000000:function:f1:$LATEST", 0, 1},
    {"@FunctionName", "arn:aws-us-gov:lambda:us-gov-west-1:000000000000:function:f", 0, 1},
    {"@FunctionName", "arn:aws-iso:lambda:us-iso-east-1:000000000000:function:f", 0, 1},
    {"@FunctionName", "000000000000:function:f2", 0, 1},
    {"@FunctionName", "eu-west-1:f", 0, 1},
    {"@FunctionName", "f:live", 0, 1},
    {"@FunctionName", "f:", 0, 0},
    {"@FunctionName", "bad name", 0, 0},
    {"@FunctionName", "a\0b", 3, 0},
    {"@FunctionName", "", 0, 0},
    {"@FunctionName", "a.b", 0, 0},
    {"@NamespacedFunctionName", "a.b", 0, 1},
    {"@RoleArn", "arn:aws:iam::000000000000:role/r", 0, 1},
    {"@RoleArn", "arn:aws:iam::00000000000:role/r", 0, 0},
    {"@RoleArn", "arn:aws:iam::000000000000:role", 0, 0},
    {"@Alias", "live", 0, 1},
    {"@Alias", "1a", 0, 1},
    {"@Alias", "123", 0, 0},
    {"@Alias", "", 0, 0},
    {"@S3Bucket", "bucket", 0, 1},
    {"@S3Bucket", "my.bucket", 0, 1},
    {"@S3Bucket", "bucket.", 0, 0},
    {"@S3Bucket", "", 0, 1},
    {"@Qualifier", "", 0, 1},
    {"@Qualifier", "$LATEST", 0, 1},
    {"@Qualifier", "a/b", 0, 0},
    {"@FunctionUrlQualifier", "$LATEST", 0, 1},
    {"@FunctionUrlQualifier", "live", 0, 1},
    {"@FunctionUrlQualifier", "1", 0, 0},
    {"@FunctionUrlQualifier", "$LATESTX", 0, 0},
    {"@DestinationArn", "", 0, 1},
    {"@DestinationArn", "arn:aws:sqs:eu-west-1:000000000000:q", 0, 1},
    {"@DestinationArn", "nope", 0, 0},
    {"@KMSKeyArn", "", 0, 1},
    {"@KMSKeyArn", "arn:aws:kms:eu-west-1:000000000000:key/k", 0, 1},
    {"@KMSKeyArn", "nope", 0, 0},
    {"@TaggableResource", "arn:aws:lambda:eu-west-1:000000000000:function:f", 0, 1},
    {"@TaggableResource", "arn:aws:lambda:eu-west-1:000000000000:layer:l", 0, 1},
    {"@TaggableResource",
     "arn:aws:lambda:eu-west-1:000000000000:event-source-mapping:"
     "0123abcd-0123-abcd-0123-0123456789ab",
     0, 1},
    {"@TaggableResource", "arn:aws:lambda:eu-west-1:000000000000:function:", 0, 0},
    {"@PrincipalOrgID", "o-abcdefghij", 0, 1},
    {"@PrincipalOrgID", "o-abc", 0, 0},
    {"@Endpoint", "b-1.kafka.example.com:9092", 0, 1},
    {"@Endpoint", "broker", 0, 0},
    {"@Topic", "orders", 0, 1},
    {"@Topic", ".orders", 0, 0},
    {"@URI", "arn:aws:secretsmanager:eu-west-1:000000000000:secret:s", 0, 1},
    {"@URI", "a b", 0, 0},
    {"@LogGroup", "/aws/lambda/f", 0, 1},
    {"@Action", "lambda:InvokeFunction", 0, 1},
    {"@Action", "*", 0, 1},
    {"@Action", "s3:*", 0, 0},
    {"@EnvironmentVariableName", "AB", 0, 1},
    {"@EnvironmentVariableName", "A", 0, 0},
    {"[\\s\\S]*", "any\nthing", 0, 1},
    {".*", "a\nb", 0, 0},
    {".*",
     "a\xe2\x80\xa8"
     "b",
     0, 0}, /* U+2028 ends a line for Java */
    {"a{2,3}", "aaaa", 0, 0},
    {"a{2,3}", "aaa", 0, 1},
    {"a{2,}", "aaaaaaa", 0, 1},
    {"(?:ab|c)+", "abcab", 0, 1},
    {"x|", "", 0, 1},
    {"[a-c-]+", "a-c", 0, 1},
    {"[\\w.]+", "a_b.c", 0, 1},
    {"\\D\\W", "x ", 0, 1},
    {"\\D", "\xc3\xa9", 0, 1}, /* \D and \W hold what lies past ASCII */
    {"[^a]", "\xff", 0, 1},    /* an invalid byte reads as U+FFFD */
    /* outside the subset: our bug, reported as -1 */
    {"(", "", 0, -1},
    {"[a-", "", 0, -1},
    {"a{2", "", 0, -1},
    {"*a", "", 0, -1},
    {"\\p{L}", "", 0, -1},
    {"(?<!ab)c", "c", 0, -1},
    {"(?=a)a", "a", 0, -1},
    {"[[a]]", "a", 0, -1},
    {"a{5000}", "a", 0, -1},
};

static void test_pattern_matcher(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
        const struct pattern_case *c = &pattern_cases[i];
        const char *p = c->pattern;
        if (p[0] == '@') {
            const struct lambda_shape *sh = lambda__shape(p + 1);
            assert_non_null(sh);
            p = sh->pattern;
        }
        size_t len = c->len ? c->len : strlen(c->input);
        int got = lambda__pattern_match(p, c->input, len);
        if (got != c->want)
            fail_msg("case %zu: %s against \"%s\": %d, want %d", i, c->pattern, c->input, got,
                     c->want);
    }
}

/* A few megabytes against every pattern: linear, no recursion on the input. */
static void test_pattern_matcher_long_input(void **state)
{
    (void)state;
    size_t n = 4u << 20;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    assert_int_equal(lambda__pattern_match("[^\\s]+", big, n), 1);
    assert_int_equal(lambda__pattern_match(lambda__shape("FunctionName")->pattern, big, n), 1);
    assert_int_equal(lambda__pattern_match(lambda__shape("Alias")->pattern, big, n), 1);
    big[n - 1] = '.';
    assert_int_equal(lambda__pattern_match(lambda__shape("S3Bucket")->pattern, big, n), 0);
    assert_int_equal(lambda__pattern_match("(a|aa)*(?:a?){20}a{20}", big, 60), 1);
    free(big);
}

/* The table holds together: every shape it names exists, every pattern compiles, member
 * names are unique within a structure and paths are AWS's lowerCamel. */
static void check_members_table(const struct lambda_member *m, size_t n, const char *where)
{
    for (size_t i = 0; i < n; i++) {
        if (lambda__shape(m[i].shape) == NULL)
            fail_msg("%s.%s: no shape %s", where, m[i].name, m[i].shape);
        if (m[i].path[0] < 'a' || m[i].path[0] > 'z' || strcmp(m[i].path + 1, m[i].name + 1) != 0)
            fail_msg("%s.%s: path %s", where, m[i].name, m[i].path);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m[i].name, m[j].name) == 0)
                fail_msg("%s: %s twice", where, m[i].name);
    }
}

static void test_model_table(void **state)
{
    (void)state;
    size_t ns, no;
    const struct lambda_shape *shapes = lambda__shapes(&ns);
    const struct lambda_op *ops = lambda__ops(&no);
    assert_true(ns > 50 && no > 20);
    for (size_t i = 0; i < ns; i++) {
        const struct lambda_shape *sh = &shapes[i];
        assert_ptr_equal(lambda__shape(sh->name), sh); /* names are unique */
        if (sh->pattern != NULL && lambda__pattern_match(sh->pattern, "", 0) < 0)
            fail_msg("%s: pattern %s is outside the subset", sh->name, sh->pattern);
        if ((sh->kind == LK_LIST || sh->kind == LK_MAP) && lambda__shape(sh->member) == NULL)
            fail_msg("%s: no member shape %s", sh->name, sh->member);
        if (sh->kind == LK_MAP &&
            (lambda__shape(sh->key) == NULL || lambda__shape(sh->key)->kind != LK_STRING))
            fail_msg("%s: bad key shape", sh->name);
        if (sh->kind == LK_STRUCT)
            check_members_table(sh->members, sh->nmembers, sh->name);
        if ((sh->has & LS_HAS_MIN) && (sh->has & LS_HAS_MAX))
            assert_true(sh->min <= sh->max);
    }
    for (size_t i = 0; i < no; i++) {
        assert_ptr_equal(lambda__op(ops[i].name), &ops[i]);
        check_members_table(ops[i].members, ops[i].nmembers, ops[i].name);
    }
    char msg[256];
    assert_int_equal(lambda_validate_request("NoSuchOperation", NULL, NULL, 0, msg, sizeof(msg)),
                     ERR_LAMBDA_SERVICE);
    assert_int_equal(lambda_validate_value("NoSuchShape", "x", "", 0, msg, sizeof(msg)),
                     ERR_LAMBDA_SERVICE);
}

static bool valid_utf8(const char *s)
{
    for (size_t k = 0; s[k];) {
        size_t n = utf8_seq_len((const unsigned char *)s + k, strlen(s + k));
        if (n == 0)
            return false;
        k += n;
    }
    return true;
}

/* Values from the path or query may be any bytes: the message stays valid UTF-8. */
static void test_message_rendering(void **state)
{
    (void)state;
    char msg[512];
    assert_int_equal(
        lambda_validate_value("Qualifier", "qualifier", "\xff/\xc3", 3, msg, sizeof(msg)),
        ERR_LAMBDA_VALIDATION);
    assert_string_equal(msg, "1 validation error detected: Value '\xef\xbf\xbd/\xef\xbf\xbd' at "
                             "'qualifier' failed to satisfy constraint: Member must satisfy "
                             "regular expression pattern: (|[a-zA-Z0-9$_-]+)");
    assert_int_equal(lambda_validate_value("Qualifier", "qualifier", "a\0b", 3, msg, sizeof(msg)),
                     ERR_LAMBDA_VALIDATION);
    assert_non_null(strstr(msg, "Value 'a\\u0000b'"));
    /* a value the model lets through with a NUL in it is refused, not truncated */
    assert_int_equal(
        lambda_validate_value("Description", "description", "a\0b", 3, msg, sizeof(msg)),
        ERR_LAMBDA_INVALID_PARAMETER);
    assert_int_equal(lambda_validate_value("Description", "description", "ab", 2, msg, sizeof(msg)),
                     ERR_OK);
}

/* Whatever the caller's buffer, the message is cut on a character boundary and ends in the
 * constraint when there is room for it. */
static void test_message_fits_any_buffer(void **state)
{
    (void)state;
    char value[700];
    size_t n = 0;
    while (n + 2 < sizeof(value)) { /* 349 two-byte characters */
        value[n++] = '\xc3';
        value[n++] = '\xa9';
    }
    for (size_t len = 1; len < 1200; len++) {
        char *msg = malloc(len);
        assert_non_null(msg);
        memset(msg, 'x', len);
        enum err e = lambda_validate_value("Description", "description", value, n, msg, len);
        assert_int_equal(e, ERR_LAMBDA_VALIDATION);
        assert_true(strlen(msg) < len);
        assert_true(valid_utf8(msg));
        const char *tail = "' at 'description' failed to satisfy constraint: Member must have "
                           "length less than or equal to 256";
        if (len > 300) {
            assert_true(strlen(msg) > strlen(tail));
            assert_string_equal(msg + strlen(msg) - strlen(tail), tail);
        }
        free(msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_name_forms),
        cmocka_unit_test(test_resolve_name_refusals),
        cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_create_body),
        cmocka_unit_test(test_client_context),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_pattern_matcher),
        cmocka_unit_test(test_pattern_matcher_long_input),
        cmocka_unit_test(test_model_table),
        cmocka_unit_test(test_message_rendering),
        cmocka_unit_test(test_message_fits_any_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
