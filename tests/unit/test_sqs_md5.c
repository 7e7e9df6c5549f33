/* Unit tests: sqs/md5.c and the attribute parsing it digests. AWS's own vectors, then a
 * differential test against an independent oracle (tests/sqs/md5_oracle.py: the documented
 * algorithm, cross-checked with moto when available): the committed vectors in
 * tests/data/sqs/md5_vectors.jsonl, and a fresh random run of the oracle itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/md5.h"

static void test_body_vectors(void **state)
{
    (void)state;
    char hex[SQS_MD5_HEX_LEN + 1];
    sqs_md5_hex("Test message.", 13, hex); /* AWS-CONTRACTS.md §3 */
    assert_string_equal(hex, "e4e68fb7bd0e697a0ae8f1bb342846b3");
    sqs_md5_hex("msg", 3, hex); /* AWS-RECORDED.md §1.5 */
    assert_string_equal(hex, "6e2baaf3b97dbeef01c0043275f9a0e7");
    sqs_md5_hex("", 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
}

static void md5_of_json(const char *json, char hex[SQS_MD5_HEX_LEN + 1])
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    struct sqs_attrs set;
    sqs_attrs_init(&set);
    char msg[512] = "";
    assert_int_equal(sqs_attrs_parse_json(&set, j, msg, sizeof(msg)), ERR_OK);
    assert_true(sqs_md5_attrs(&set, UINT32_MAX, hex));
    sqs_attrs_destroy(&set);
    json_decref(j);
}

static void test_attribute_vectors(void **state)
{
    (void)state;
    char hex[SQS_MD5_HEX_LEN + 1];
    /* AWS-CONTRACTS.md §3 */
    md5_of_json("{\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"}}",
                hex);
    assert_string_equal(hex, "19e27d4e946b072f3f58da80d94fd778");
    /* AWS-RECORDED.md §1.5 (a real receive) */
    md5_of_json("{\"Foo\":{\"DataType\":\"String\",\"StringValue\":\"Bar\"}}", hex);
    assert_string_equal(hex, "ae7155c6026991b6d54b11589678bf9c");
}

static void test_empty_selection(void **state)
{
    (void)state;
    struct sqs_attrs set;
    sqs_attrs_init(&set);
    char hex[SQS_MD5_HEX_LEN + 1] = "x";
    assert_false(sqs_md5_attrs(&set, UINT32_MAX, hex));
    assert_string_equal(hex, "");
}

/* Checks one oracle line; returns 0 when it agrees. */
static int check_line(const char *line, size_t len, char *why, size_t whylen)
{
    int bad = 1;
    struct sqs_attrs set, sys, copy, back;
    sqs_attrs_init(&set);
    sqs_attrs_init(&sys);
    sqs_attrs_init(&copy);
    sqs_attrs_init(&back);
    struct buf enc;
    buf_init(&enc, 1 << 20);
    json_error_t je;
    json_t *j = json_loadb(line, len, 0, &je);
    char msg[512] = "", hex[SQS_MD5_HEX_LEN + 1];
    if (j == NULL) {
        snprintf(why, whylen, "bad oracle line: %s", je.text);
        goto out;
    }
    const char *body = json_string_value(json_object_get(j, "body"));
    size_t body_len = json_string_length(json_object_get(j, "body"));
    sqs_md5_hex(body, body_len, hex);
    if (strcmp(hex, json_string_value(json_object_get(j, "body_md5"))) != 0) {
        snprintf(why, whylen, "body md5 %s", hex);
        goto out;
    }
    if (sqs_attrs_parse_json(&set, json_object_get(j, "attrs"), msg, sizeof(msg)) != ERR_OK) {
        snprintf(why, whylen, "attrs refused: %s", msg);
        goto out;
    }
    const char *want = json_string_value(json_object_get(j, "attrs_md5"));
    bool got = sqs_md5_attrs(&set, UINT32_MAX, hex);
    if (got != (want != NULL) || (want && strcmp(hex, want) != 0)) {
        snprintf(why, whylen, "attrs md5 %s, oracle %s", hex, want ? want : "none");
        goto out;
    }
    /* the receive's subset */
    json_t *sel = json_object_get(j, "select");
    struct sqs_str names[8];
    size_t nn = 0;
    for (size_t i = 0; i < json_array_size(sel) && nn < 8; i++, nn++) {
        names[nn].p = json_string_value(json_array_get(sel, i));
        names[nn].len = json_string_length(json_array_get(sel, i));
    }
    uint32_t mask = sqs_attrs_select(&set, names, nn);
    want = json_string_value(json_object_get(j, "selected_md5"));
    got = sqs_md5_attrs(&set, mask, hex);
    if (got != (want != NULL) || (want && strcmp(hex, want) != 0)) {
        snprintf(why, whylen, "selected md5 %s, oracle %s", hex, want ? want : "none");
        goto out;
    }
    /* the store form and copies digest the same */
    if (sqs_attrs_encode(&set, &enc) != BUF_OK ||
        sqs_attrs_decode(&back, enc.data, enc.len) != ERR_OK ||
        sqs_attrs_copy(&copy, &back) != ERR_OK) {
        snprintf(why, whylen, "store form round trip failed");
        goto out;
    }
    char hex2[SQS_MD5_HEX_LEN + 1];
    sqs_md5_attrs(&set, UINT32_MAX, hex);
    sqs_md5_attrs(&copy, UINT32_MAX, hex2);
    if (strcmp(hex, hex2) != 0 || sqs_attrs_size(&copy) != sqs_attrs_size(&set)) {
        snprintf(why, whylen, "copy digests differently");
        goto out;
    }
    json_t *sysj = json_object_get(j, "sys");
    if (json_is_object(sysj)) {
        if (sqs_sysattrs_parse_json(&sys, sysj, msg, sizeof(msg)) != ERR_OK ||
            !sqs_md5_attrs(&sys, UINT32_MAX, hex) ||
            strcmp(hex, json_string_value(json_object_get(j, "sys_md5"))) != 0) {
            snprintf(why, whylen, "system attribute md5 %s (%s)", hex, msg);
            goto out;
        }
    }
    bad = 0;
out:
    json_decref(j);
    sqs_attrs_destroy(&set);
    sqs_attrs_destroy(&sys);
    sqs_attrs_destroy(&copy);
    sqs_attrs_destroy(&back);
    buf_destroy(&enc);
    return bad;
}

/* Replays every line of f; returns the number of lines checked. */
static size_t replay(FILE *f, const char *what)
{
    char *line = NULL;
    size_t cap = 0, count = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        char why[600] = "";
        if (check_line(line, (size_t)n, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s line %zu: %s\n%s", what, count + 1, why, line);
            free(line);
            fail();
        }
        count++;
    }
    free(line);
    return count;
}

static void test_committed_vectors(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/sqs/md5_vectors.jsonl", "r");
    assert_non_null(f);
    size_t n = replay(f, "md5_vectors.jsonl");
    fclose(f);
    assert_true(n >= 300);
}

static void test_live_oracle(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) {
        skip();
        return;
    }
    unsigned seed = (unsigned)time(NULL);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 tests/sqs/md5_oracle.py --seed %u --count 400 2>/dev/null", seed);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = replay(p, "oracle");
    int status = pclose(p);
    if (status != 0 || n != 400)
        fprintf(stderr, "oracle seed %u: exit %d after %zu lines\n", seed, status, n);
    assert_int_equal(status, 0);
    assert_int_equal(n, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_vectors),    cmocka_unit_test(test_attribute_vectors),
        cmocka_unit_test(test_empty_selection), cmocka_unit_test(test_committed_vectors),
        cmocka_unit_test(test_live_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
