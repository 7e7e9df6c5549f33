/* Unit tests: core/codec (base64, sha256) and core/json helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/utf8.h"

static void test_b64_round_trip(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        struct buf b, d;
        buf_init(&b, 100);
        buf_init(&d, 100);
        assert_int_equal(codec_b64_encode(plain[i], strlen(plain[i]), &b), BUF_OK);
        assert_memory_equal(b.data ? b.data : "", enc[i], strlen(enc[i]));
        assert_int_equal(codec_b64_decode(enc[i], strlen(enc[i]), &d), BUF_OK);
        assert_int_equal(d.len, strlen(plain[i]));
        buf_destroy(&b);
        buf_destroy(&d);
    }
}

static void test_b64_rejects_garbage(void **state)
{
    (void)state;
    struct buf d;
    buf_init(&d, 100);
    assert_int_equal(codec_b64_decode("Zm9v!", 5, &d), CODEC_EBADB64);
    assert_int_equal(codec_b64_decode("Z", 1, &d), CODEC_EBADB64);
    assert_int_equal(codec_b64_decode("Zg=", 3, &d), CODEC_EBADB64);
    buf_destroy(&d);
    buf_init(&d, 2); /* the cap holds */
    assert_int_equal(codec_b64_decode("Zm9vYmFy", 8, &d), BUF_ETOOBIG);
    buf_destroy(&d);
}

static void test_hex(void **state)
{
    (void)state;
    const unsigned char b[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof b + 1];
    memset(out, 'x', sizeof out);
    codec_hex(b, sizeof b, out);
    assert_string_equal(out, "00017f80abff");
    codec_hex(b, 0, out);
    assert_string_equal(out, "");
}

/* base64url: RFC 4648 §5's alphabet, no padding; the buffer needs only the unpadded length. */
static void test_b64url(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "\xfb\xff\xbf"};
    static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "-_-_"};
    for (int i = 0; i < 7; i++) {
        struct buf b;
        buf_init(&b, strlen(enc[i]));
        assert_int_equal(codec_b64url_encode(plain[i], strlen(plain[i]), &b), BUF_OK);
        assert_int_equal(b.len, strlen(enc[i]));
        assert_memory_equal(b.data ? b.data : "", enc[i], strlen(enc[i]));
        buf_destroy(&b);
    }
    struct buf b;
    buf_init(&b, 2);
    assert_int_equal(codec_b64url_encode("fo", 2, &b), BUF_ETOOBIG);
    buf_destroy(&b);
}

static void test_sha256_known(void **state)
{
    (void)state;
    unsigned char h[32];
    codec_sha256("", 0, h);
    struct buf b;
    buf_init(&b, 100);
    codec_b64_encode(h, 32, &b);
    assert_string_equal(b.data, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    buf_destroy(&b);
}

static void test_json_helpers(void **state)
{
    (void)state;
    char err[128];
    const char *text = "{\"a\":\"x\",\"n\":5,\"s\":\"5\"}";
    json_t *j = jsonh_parse(text, strlen(text), err, sizeof(err));
    assert_non_null(j);
    assert_string_equal(jsonh_str(j, "a", "d"), "x");
    assert_string_equal(jsonh_str(j, "n", "d"), "d");
    long long v = 0;
    assert_int_equal(jsonh_int(j, "n", &v), 1);
    assert_int_equal(v, 5);
    assert_int_equal(jsonh_int(j, "s", &v), -1);
    assert_int_equal(jsonh_int(j, "missing", &v), 0);
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(jsonh_dump_buf(j, JSON_COMPACT, &b), BUF_ETOOBIG);
    assert_int_equal(b.len, 0);
    buf_destroy(&b);
    json_decref(j);
    assert_null(jsonh_parse("{bad", 4, err, sizeof(err)));
    assert_non_null(strstr(err, "line 1"));
    json_t *num = jsonh_parse("42", 2, NULL, 0); /* any value, not only objects */
    assert_true(json_is_integer(num));
    json_decref(num);
}

static size_t seq(const char *s)
{
    return utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void test_utf8(void **state)
{
    (void)state;
    assert_int_equal(seq("a"), 1);
    assert_int_equal(seq("\xc3\xa9"), 2);         /* é */
    assert_int_equal(seq("\xe1\x88\xb4"), 3);     /* U+1234 */
    assert_int_equal(seq("\xf0\x9f\x98\x80"), 4); /* U+1F600 */
    assert_int_equal(seq("\xc0\xaf"), 0);         /* overlong '/' */
    assert_int_equal(seq("\xe0\x80\xaf"), 0);     /* overlong, 3 bytes */
    assert_int_equal(seq("\xed\xa0\x80"), 0);     /* surrogate U+D800 */
    assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* past U+10FFFF */
    assert_int_equal(seq("\xe1\x88"), 0);         /* truncated */
    assert_int_equal(seq("\xc3("), 0);            /* bad continuation */
    assert_int_equal(seq("\xff"), 0);
    assert_int_equal(utf8_chars(""), 0);
    assert_int_equal(utf8_chars("a\xc3\xa9\xe1\x88\xb4"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_rejects_garbage),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_sha256_known),
        cmocka_unit_test(test_json_helpers),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
