/* Unit tests: sqs/receipt.c — round trips, tampering, foreign keys, AWS's refusal text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/sqs/errors.h"
#include "cloud/sqs/receipt.h"

static void fixed_key(struct sqs_receipt_key *k, unsigned char seed)
{
    for (size_t i = 0; i < sizeof(k->key); i++)
        k->key[i] = (unsigned char)(seed + i * 7);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct sqs_receipt_key k;
    assert_int_equal(sqs_receipt_key_random(&k), 0);
    const struct sqs_receipt cases[] = {
        {0, 0, 0},
        {1, 1, 1},
        {UINT64_MAX, UINT64_MAX, UINT32_MAX},
        {42, 1000000, 7},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char h[SQS_RECEIPT_LEN + 1], msg[256] = "";
        sqs_receipt_encode(&k, &cases[i], h);
        assert_int_equal(strlen(h), SQS_RECEIPT_LEN);
        for (size_t c = 0; c < SQS_RECEIPT_LEN; c++) /* URL- and form-safe */
            assert_non_null(
                strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", h[c]));
        struct sqs_receipt r;
        assert_int_equal(sqs_receipt_decode(&k, h, strlen(h), &r, msg, sizeof(msg)), ERR_OK);
        assert_true(r.queue_id == cases[i].queue_id && r.seq == cases[i].seq &&
                    r.gen == cases[i].gen);
    }
}

static void test_generations_differ(void **state)
{
    (void)state;
    struct sqs_receipt_key k;
    fixed_key(&k, 3);
    struct sqs_receipt a = {5, 9, 1}, b = {5, 9, 2};
    char ha[SQS_RECEIPT_LEN + 1], hb[SQS_RECEIPT_LEN + 1];
    sqs_receipt_encode(&k, &a, ha);
    sqs_receipt_encode(&k, &b, hb);
    assert_string_not_equal(ha, hb);
    /* the old one still decodes, to its own generation */
    struct sqs_receipt r;
    char msg[256];
    assert_int_equal(sqs_receipt_decode(&k, ha, strlen(ha), &r, msg, sizeof(msg)), ERR_OK);
    assert_int_equal(r.gen, 1);
}

static void test_tampering_and_foreign_keys(void **state)
{
    (void)state;
    struct sqs_receipt_key k, other;
    fixed_key(&k, 1);
    fixed_key(&other, 2);
    struct sqs_receipt r = {77, 123456, 3}, out;
    char h[SQS_RECEIPT_LEN + 1], msg[2048];
    sqs_receipt_encode(&k, &r, h);
    assert_int_equal(sqs_receipt_decode(&other, h, strlen(h), &out, msg, sizeof(msg)),
                     ERR_SQS_RECEIPT_HANDLE_INVALID);
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < SQS_RECEIPT_LEN; i++) {
        for (size_t a = 0; a < sizeof(alphabet) - 1; a += 5) {
            char t[SQS_RECEIPT_LEN + 1];
            memcpy(t, h, sizeof(t));
            if (t[i] == alphabet[a])
                continue;
            t[i] = alphabet[a];
            assert_int_equal(sqs_receipt_decode(&k, t, strlen(t), &out, msg, sizeof(msg)),
                             ERR_SQS_RECEIPT_HANDLE_INVALID);
            assert_true(out.queue_id == 0 && out.seq == 0 && out.gen == 0);
        }
    }
    assert_int_equal(sqs_receipt_decode(&k, h, strlen(h) - 1, &out, msg, sizeof(msg)),
                     ERR_SQS_RECEIPT_HANDLE_INVALID);
}

static void test_aws_message(void **state)
{
    (void)state;
    struct sqs_receipt_key k;
    fixed_key(&k, 9);
    struct sqs_receipt out;
    char msg[2048];
    /* AWS-RECORDED.md §1.2 [V] */
    assert_int_equal(sqs_receipt_decode(&k, "garbage", 7, &out, msg, sizeof(msg)),
                     ERR_SQS_RECEIPT_HANDLE_INVALID);
    assert_string_equal(msg, "The input receipt handle \"garbage\" is not a valid receipt handle.");
    assert_int_equal(err_status(ERR_SQS_RECEIPT_HANDLE_INVALID), 400);
    assert_string_equal(err_query_code(ERR_SQS_RECEIPT_HANDLE_INVALID),
                        "ReceiptHandleIsInvalid");
    /* control bytes and broken UTF-8 are not echoed */
    assert_int_equal(sqs_receipt_decode(&k, "ab\x01xyz", 6, &out, msg, sizeof(msg)),
                     ERR_SQS_RECEIPT_HANDLE_INVALID);
    assert_string_equal(msg, "The input receipt handle \"ab\" is not a valid receipt handle.");
    assert_int_equal(sqs_receipt_decode(&k, NULL, 0, &out, msg, sizeof(msg)),
                     ERR_SQS_RECEIPT_HANDLE_INVALID);
    assert_string_equal(msg, "The input receipt handle \"\" is not a valid receipt handle.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_generations_differ),
        cmocka_unit_test(test_tampering_and_foreign_keys),
        cmocka_unit_test(test_aws_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
