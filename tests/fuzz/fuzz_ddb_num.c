/*
 * fuzz_ddb_num.c — DynamoDB numbers (cloud/dynamodb/num) on arbitrary text.
 *
 * The input is parsed as a number. When it parses, its rendering must parse back to the
 * same number, its key encoding must decode back to it, ordering must agree between
 * ddb_num_cmp and the key bytes against a few fixed numbers, and a + b - b must give a
 * back whenever both steps fit. The raw input is also handed to ddb_num_key_decode, which
 * must refuse or decode without reading past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/dynamodb/num.h"

static const char *const fixed[] = {"0", "1", "-1", "1E-130", "-9.9999999999999999999999999999999999999E+125",
                                    "12345678901234567890123456789012345678", "0.5", "100"};

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

static int key_cmp(const struct ddb_num *a, const struct ddb_num *b)
{
    uint8_t ka[DDB_NUM_KEY_MAX], kb[DDB_NUM_KEY_MAX];
    size_t la = ddb_num_key_encode(a, ka), lb = ddb_num_key_encode(b, kb);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    return c != 0 ? sign(c) : sign((int)la - (int)lb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ddb_num n, back, other, sum, diff;
    size_t used;
    if (ddb_num_key_decode(data, size, &back, &used) == 0 && used > size)
        abort();
    enum ddb_num_status st = ddb_num_parse((const char *)data, size, &n);
    if (st != DDB_NUM_OK) {
        struct ddb_err err;
        ddb_err_init(&err);
        ddb_num_error(st, (const char *)data, size, &err);
        if (!ddb_err_isset(&err))
            abort();
        ddb_err_clear(&err);
        return 0;
    }
    char text[DDB_NUM_STR_MAX];
    size_t len = ddb_num_format(&n, text);
    if (len >= DDB_NUM_STR_MAX || ddb_num_parse(text, len, &back) != DDB_NUM_OK ||
        memcmp(&back, &n, sizeof n) != 0)
        abort();
    uint8_t key[DDB_NUM_KEY_MAX];
    size_t klen = ddb_num_key_encode(&n, key);
    if (ddb_num_key_decode(key, klen, &back, &used) != 0 || used != klen ||
        memcmp(&back, &n, sizeof n) != 0)
        abort();
    size_t sz = ddb_num_size(&n);
    if (sz < 1 || sz > 22)
        abort();
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (ddb_num_parse(fixed[i], strlen(fixed[i]), &other) != DDB_NUM_OK)
            abort();
        if (sign(ddb_num_cmp(&n, &other)) != key_cmp(&n, &other))
            abort();
        if (sign(ddb_num_cmp(&n, &other)) != -sign(ddb_num_cmp(&other, &n)))
            abort();
        if (ddb_num_add(&n, &other, &sum) == DDB_NUM_OK &&
            ddb_num_sub(&sum, &other, &diff) == DDB_NUM_OK && ddb_num_cmp(&diff, &n) != 0)
            abort();
    }
    if (ddb_num_sub(&n, &n, &diff) != DDB_NUM_OK || !ddb_num_is_zero(&diff))
        abort();
    return 0;
}
