/*
 * fuzz_ddb_item.c — the DynamoDB item decoder (cloud/dynamodb/value) and the legacy
 * parameters (cloud/dynamodb/legacy) on arbitrary JSON.
 *
 * The input is parsed as JSON (NULs allowed, as the adapter parses requests) and decoded
 * as an item, as one AttributeValue and as ExpressionAttributeValues. A decoded item must
 * survive: JSON out (both writers) and back to an equal item, the packed form and back,
 * key encoding of each scalar attribute and back (raw and prefix-free), its size. The
 * JSON is also taken as a request carrying legacy parameters for every operation. The raw
 * input is handed to ddb_value_unpack, which must refuse or decode within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/dynamodb/expr.h"
#include "cloud/dynamodb/legacy.h"
#include "cloud/dynamodb/value.h"

static void roundtrip(const struct ddb_value *item)
{
    struct ddb_err err;
    ddb_err_init(&err);
    struct ddb_value back;
    json_t *j = ddb_item_to_json(item);
    if (j == NULL)
        abort();
    if (ddb_item_from_json(j, &back, &err) != 0 || !ddb_value_equal(&back, item))
        abort();
    ddb_value_destroy(&back);
    json_decref(j);

    struct buf b;
    buf_init(&b, 1 << 26);
    if (ddb_item_write_json(item, &b) != BUF_OK)
        abort();
    j = json_loadb(b.data, b.len, JSON_ALLOW_NUL, NULL);
    if (j == NULL || ddb_item_from_json(j, &back, &err) != 0 || !ddb_value_equal(&back, item))
        abort();
    ddb_value_destroy(&back);
    json_decref(j);
    buf_reset(&b);

    size_t used;
    if (ddb_value_pack(item, &b) != BUF_OK ||
        ddb_value_unpack((const uint8_t *)b.data, b.len, &back, &used) != 0 || used != b.len ||
        !ddb_value_equal(&back, item))
        abort();
    ddb_value_destroy(&back);
    buf_destroy(&b);

    for (uint32_t i = 0; i < item->n; i++) {
        const struct ddb_value *v = &item->u.attrs[i].value;
        if (!ddb_type_is_scalar(v->type))
            continue;
        for (int pf = 0; pf < 2; pf++) {
            buf_init(&b, 1 << 24);
            if (ddb_key_encode(v, pf, &b) != BUF_OK ||
                ddb_key_decode(v->type, (const uint8_t *)b.data, b.len, pf, &back, &used) != 0 ||
                used != b.len || !ddb_value_equal(&back, v))
                abort();
            ddb_value_destroy(&back);
            buf_destroy(&b);
        }
    }
    ddb_item_size(item);
    ddb_item_depth(item);
    static const struct ddb_key_schema ks = {"pk", DDB_S, "sk", DDB_N};
    ddb_key_check(&ks, item, DDB_KEY_ITEM, &err);
    ddb_err_clear(&err);
    ddb_key_check(&ks, item, DDB_KEY_ONLY, &err);
    ddb_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ddb_value v;
    size_t used;
    if (ddb_value_unpack(data, size, &v, &used) == 0) {
        if (used > size)
            abort();
        ddb_value_destroy(&v);
    }
    json_t *j = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
    if (j == NULL)
        return 0;
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_item_from_json(j, &v, &err) == 0) {
        roundtrip(&v);
        ddb_value_destroy(&v);
    } else if (ddb_err_msg(&err)[0] == '\0') {
        abort();
    }
    ddb_err_clear(&err);
    if (ddb_value_from_json(j, &v, &err) == 0) {
        if (ddb_value_size(&v) > (size_t)1 << 40)
            abort();
        ddb_value_destroy(&v);
    }
    ddb_err_clear(&err);
    if (json_is_object(j)) {
        struct ddb_expr_params *p = ddb_expr_params_new(NULL, j, &err);
        ddb_expr_params_free(p);
        ddb_err_clear(&err);
        static const char *const ops[] = {"GetItem", "PutItem", "UpdateItem", "DeleteItem",
                                          "Query",   "Scan"};
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            enum ddb_legacy_op op = ddb_legacy_op_from_name(ops[i]);
            ddb_legacy_check_mixing(op, j, &err);
            ddb_err_clear(&err);
            struct ddb_legacy lg;
            if (ddb_legacy_compile(op, j, &lg, &err) == 0) {
                ddb_legacy_cond_eval(&lg, NULL);
                struct ddb_value out;
                if (ddb_legacy_update_apply(&lg, NULL, &out, &err) == 0)
                    ddb_value_destroy(&out);
                ddb_err_clear(&err);
                static const struct ddb_key_schema ks = {"pk", DDB_S, "sk", DDB_N};
                struct ddb_key_cond kc;
                ddb_legacy_keycond_bind(&lg, &ks, &kc, &err);
                ddb_legacy_destroy(&lg);
            }
            ddb_err_clear(&err);
        }
    }
    json_decref(j);
    return 0;
}
