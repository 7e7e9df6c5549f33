/*
 * Unit tests: the query readers every REST adapter uses (proto_query, proto_query_all) —
 * form-style decoding ('+' a space, %2B a '+'), malformed escapes, missing and repeated keys,
 * values longer than any fixed buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/proto/proto.h"

static struct proto_req req_of(const char *query)
{
    return (struct proto_req){.query = query, .query_len = strlen(query)};
}

static const struct {
    const char *query, *key;
    const char *want; /* NULL: -1 */
} firsts[] = {
    {"Marker=a+b", "Marker", "a b"},
    {"Marker=a%2Bb", "Marker", "a+b"},
    {"Marker=a%2bb", "Marker", "a+b"},
    {"Marker=a%20b", "Marker", "a b"},
    {"Marker=fn%3A1&MaxItems=2", "MaxItems", "2"},
    {"Marker=", "Marker", ""},
    {"Marker", "Marker", ""},
    {"Marker=one&Marker=two", "Marker", "one"},
    {"Marker=%zz", "Marker", NULL},   /* malformed escape */
    {"Marker=ab%2", "Marker", NULL},  /* '%' near the end */
    {"Marker=a%00b", "Marker", NULL}, /* a NUL byte */
    {"MaxItems=2", "Marker", NULL},   /* missing */
    {"", "Marker", NULL},
    {"marker=x", "Marker", NULL},  /* keys are case-sensitive */
    {"Markers=x", "Marker", NULL}, /* and whole */
    {"a=1&&Marker=x&", "Marker", "x"},
};

static void test_first_member(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        struct proto_req r = req_of(firsts[i].query);
        char out[64];
        long n = proto_query(&r, firsts[i].key, out, sizeof out);
        if (firsts[i].want == NULL) {
            assert_int_equal(n, -1);
            continue;
        }
        assert_int_equal(n, (long)strlen(firsts[i].want));
        assert_string_equal(out, firsts[i].want);
    }
}

static void test_first_member_too_long(void **state)
{
    (void)state;
    struct proto_req r = req_of("Marker=abcdef");
    char out[7]; /* "abcdef" and its NUL: one byte less is no room */
    assert_int_equal(proto_query(&r, "Marker", out, sizeof out - 1), -1);
    assert_int_equal(proto_query(&r, "Marker", out, sizeof out), 6);
    assert_string_equal(out, "abcdef");
}

static const struct {
    const char *query;
    const char *want; /* the JSON array */
} alls[] = {
    {"tagKeys=a&tagKeys=b+c&tagKeys=d%2Be&tagKeys=f%20g", "[\"a\", \"b c\", \"d+e\", \"f g\"]"},
    {"tagKeys=x&other=1&tagKeys=x", "[\"x\", \"x\"]"}, /* repeated, in order */
    {"tagKeys=&tagKeys&tagKeys=a", "[\"a\"]"},         /* empty members left out */
    {"tagKeys=%zz&tagKeys=ok&tagKeys=%0", "[\"ok\"]"}, /* malformed ones too */
    {"tagKeys=%FF&tagKeys=%C3%A9", "[\"\\u00e9\"]"},   /* and those not UTF-8 */
    {"other=1", "[]"},                                 /* missing */
    {"", "[]"},
};

static void test_all_members(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof alls / sizeof alls[0]; i++) {
        struct proto_req r = req_of(alls[i].query);
        json_t *got = proto_query_all(&r, "tagKeys");
        json_t *want = json_loads(alls[i].want, 0, NULL);
        assert_non_null(got);
        assert_non_null(want);
        if (!json_equal(got, want)) {
            char *s = json_dumps(got, 0);
            fail_msg("case %zu: got %s, want %s", i, s, alls[i].want);
        }
        json_decref(got);
        json_decref(want);
    }
}

/* A value longer than any buffer the adapters used to decode into is kept whole. */
static void test_all_members_long(void **state)
{
    (void)state;
    char q[8200] = "tagKeys=";
    size_t ql = strlen(q);
    for (int i = 0; i < 2000; i++, ql += 3)
        memcpy(q + ql, "%41", 3);
    q[ql] = '\0';
    struct proto_req r = req_of(q);
    json_t *got = proto_query_all(&r, "tagKeys");
    assert_int_equal(json_array_size(got), 1);
    const char *v = json_string_value(json_array_get(got, 0));
    assert_int_equal(strlen(v), 2000);
    assert_int_equal(strspn(v, "A"), 2000);
    json_decref(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_member),
        cmocka_unit_test(test_first_member_too_long),
        cmocka_unit_test(test_all_members),
        cmocka_unit_test(test_all_members_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
