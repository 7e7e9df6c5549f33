/*
 * test_core_json.c — jsonh_loadb: the same values and verdicts as json_loadb, whichever of
 * its reader or jansson's answers; jsonh_loadb_pick, the members asked for. (fuzz_json
 * compares them with jansson on arbitrary bytes.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"

/* text decodes under flags to what json_loadb gives: the same value, or the same refusal
 * and message. Returns whether the fast reader took it on itself. */
static bool same_as_jansson(const char *text, size_t flags)
{
    json_error_t e1, e2;
    json_t *ref = json_loadb(text, strlen(text), flags, &e1);
    json_t *got = jsonh_loadb(text, strlen(text), flags, &e2);
    json_t *fast = jsonh_loadb_fast(text, strlen(text), flags);
    if (ref == NULL) {
        assert_null(got);
        assert_null(fast);
        assert_string_equal(e1.text, e2.text);
        assert_int_equal(e1.line, e2.line);
        assert_int_equal(e1.column, e2.column);
    } else {
        assert_non_null(got);
        assert_true(json_equal(ref, got));
        char *a = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    bool took = fast != NULL;
    json_decref(ref);
    json_decref(got);
    json_decref(fast);
    return took;
}

static void test_reader_takes_the_common_shapes(void **state)
{
    (void)state;
    /* an API Gateway event, a DynamoDB request, a function's answer: all the reader's own */
    assert_true(same_as_jansson(
        "{\"version\":\"2.0\",\"rawPath\":\"/health\",\"headers\":{\"host\":\"h\"},"
        "\"requestContext\":{\"http\":{\"method\":\"GET\"},\"timeEpoch\":1795608000000},"
        "\"isBase64Encoded\":false,\"cookies\":[],\"x\":null}",
        0));
    assert_true(same_as_jansson("{\"TableName\":\"t\",\"Key\":{\"id\":{\"S\":\"caf\xc3\xa9 "
                                "\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"}}}",
                                JSON_ALLOW_NUL | JSON_DECODE_ANY));
    assert_true(same_as_jansson(
        " [0, -0, 9223372036854775807, -9223372036854775808, true, false, \"\"] ", 0));
    assert_true(same_as_jansson("\"a scalar\"", JSON_DECODE_ANY));
    assert_true(same_as_jansson("{\"a\":1,\"a\":2}", 0)); /* the last one wins, as jansson */
}

static void test_what_it_leaves_to_jansson(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t flags;
    } cases[] = {
        {"[1.5, 1e3, -2E-2]", 0},                      /* reals */
        {"[9223372036854775808]", 0},                  /* too big an integer */
        {"[\"a\\u0000b\"]", JSON_ALLOW_NUL},           /* NUL, allowed */
        {"[\"a\\u0000b\"]", 0},                        /* NUL, refused */
        {"{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES}, /* refused duplicate */
        {"\"a scalar\"", 0},                           /* not an object or array */
        {"[01]", 0},
        {"[1,]", 0},
        {"{\"a\" 1}", 0},
        {"[\"\\ud800\"]", 0},   /* lone surrogate */
        {"[\"\xc3\x28\"]", 0},  /* bad UTF-8 */
        {"[\"tab\there\"]", 0}, /* raw control character */
        {"[1] x", 0},
        {"", 0},
        {"[tru]", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_false(same_as_jansson(cases[i].text, cases[i].flags));
}

static void test_deep_nesting_is_left_to_jansson(void **state)
{
    (void)state;
    char deep[2 * 600 + 1];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    deep[1200] = '\0';
    assert_false(same_as_jansson(deep, 0));
    char shallow[2 * 100 + 1];
    memset(shallow, '[', 100);
    memset(shallow + 100, ']', 100);
    shallow[200] = '\0';
    assert_true(same_as_jansson(shallow, 0));
}

/* jsonh_loadb_pick: the members on the paths, built; the rest checked, not built */
static void test_pick_builds_only_the_paths(void **state)
{
    (void)state;
    static const char *const paths[] = {"requestContext.http.method", "rawPath", "headers", "body",
                                        NULL};
    const char *ev = "{\"version\":\"2.0\",\"rawPath\":\"/tasks\",\"headers\":{\"a\":\"1\"},"
                     "\"requestContext\":{\"http\":{\"method\":\"POST\",\"path\":\"/t\"},"
                     "\"timeEpoch\":17,\"deep\":[{\"x\":[1,-2,true,null]}]},\"body\":\"b\"}";
    json_error_t err;
    json_t *got = jsonh_loadb_pick(ev, strlen(ev), 0, paths, &err);
    assert_non_null(got);
    assert_int_equal(json_object_size(got), 4); /* version: not built */
    assert_string_equal(json_string_value(json_object_get(got, "rawPath")), "/tasks");
    assert_string_equal(json_string_value(json_object_get(got, "body")), "b");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "headers"), "a")),
                        "1");
    json_t *rc = json_object_get(got, "requestContext");
    assert_int_equal(json_object_size(rc), 1);                          /* only http, */
    assert_int_equal(json_object_size(json_object_get(rc, "http")), 1); /* only method */
    assert_string_equal(json_string_value(json_object_get(json_object_get(rc, "http"), "method")),
                        "POST");
    json_decref(got);

    /* a path whose object is something else: that value, whole */
    const char *flat = "{\"requestContext\":[1,2],\"rawPath\":\"/\"}";
    got = jsonh_loadb_pick(flat, strlen(flat), 0, paths, &err);
    assert_int_equal(json_array_size(json_object_get(got, "requestContext")), 2);
    json_decref(got);

    /* what the reader declines anywhere, even in a skipped member (a real, a NUL escape), and
     * a document that is no object: the whole of it, from jansson */
    const char *real = "{\"skipped\":[1.5],\"rawPath\":\"/\"}";
    got = jsonh_loadb_pick(real, strlen(real), 0, paths, &err);
    assert_non_null(json_object_get(got, "skipped"));
    json_decref(got);
    got = jsonh_loadb_pick("[1]", 3, 0, paths, &err);
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);

    /* errors in a skipped member are errors, with jansson's message */
    static const char *const bad[] = {
        "{\"skipped\":[1,],\"rawPath\":\"/\"}", "{\"skipped\":\"\xc3\x28\",\"rawPath\":\"/\"}",
        "{\"skipped\":{\"a\" 1}}", "{\"skipped\":tru}", "{\"rawPath\":\"/\"} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t want;
        assert_null(json_loadb(bad[i], strlen(bad[i]), 0, &want));
        assert_null(jsonh_loadb_pick(bad[i], strlen(bad[i]), 0, paths, &err));
        assert_string_equal(err.text, want.text);
        assert_int_equal(err.column, want.column);
    }

    /* duplicates refused: every key must be built to see them, so the whole is read */
    const char *dup = "{\"x\":1,\"x\":2,\"rawPath\":\"/\"}";
    assert_null(jsonh_loadb_pick(dup, strlen(dup), JSON_REJECT_DUPLICATES, paths, &err));
    got = jsonh_loadb_pick(dup, strlen(dup), 0, paths, &err);
    assert_string_equal(json_string_value(json_object_get(got, "rawPath")), "/");
    json_decref(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_takes_the_common_shapes),
        cmocka_unit_test(test_what_it_leaves_to_jansson),
        cmocka_unit_test(test_deep_nesting_is_left_to_jansson),
        cmocka_unit_test(test_pick_builds_only_the_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
