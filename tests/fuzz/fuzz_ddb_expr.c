/*
 * fuzz_ddb_expr.c — the DynamoDB expression parser and evaluator (cloud/dynamodb/expr) on
 * arbitrary text.
 *
 * The first byte picks the kind (condition, filter, key condition, update, projection);
 * the rest is the expression. It is compiled against fixed ExpressionAttributeNames and
 * Values, and whatever compiles is run on a fixed item: conditions are evaluated, key
 * conditions bound to two key schemas (and their byte bounds built), updates applied (and
 * UPDATED_OLD / UPDATED_NEW projected), projections taken. Every error must carry a
 * message. The same text is also compiled as every other kind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/dynamodb/expr.h"

static json_t *names, *values;
static struct ddb_value item;

static const char names_json[] =
    "{\"#a\":\"a\",\"#b\":\"b\",\"#n\":\"nested\",\"#l\":\"list\",\"#s\":\"status\",\"#k\":\"pk\"}";
static const char values_json[] =
    "{\":v\":{\"N\":\"1\"},\":w\":{\"N\":\"-2.5\"},\":s\":{\"S\":\"x\"},\":e\":{\"S\":\"\"},"
    "\":l\":{\"L\":[{\"N\":\"1\"},{\"S\":\"a\"}]},\":ss\":{\"SS\":[\"a\",\"b\"]},"
    "\":ns\":{\"NS\":[\"1\",\"2\"]},\":m\":{\"M\":{\"q\":{\"BOOL\":true}}},\":b\":{\"B\":\"AQI=\"},"
    "\":t\":{\"BOOL\":true},\":z\":{\"NULL\":true},\":big\":{\"N\":\"9E+125\"},"
    "\":tn\":{\"S\":\"N\"},\":ts\":{\"S\":\"SS\"}}";
static const char item_json[] =
    "{\"pk\":{\"S\":\"p\"},\"sk\":{\"N\":\"5\"},\"a\":{\"N\":\"10\"},\"b\":{\"S\":\"banana\"},"
    "\"status\":{\"S\":\"open\"},\"ss\":{\"SS\":[\"a\",\"c\"]},\"ns\":{\"NS\":[\"1\",\"9\"]},"
    "\"bs\":{\"BS\":[\"AQ==\"]},\"flag\":{\"BOOL\":false},\"nothing\":{\"NULL\":true},"
    "\"bin\":{\"B\":\"AQID\"},\"list\":{\"L\":[{\"N\":\"1\"},{\"M\":{\"x\":{\"S\":\"y\"}}},{\"L\":[]}]},"
    "\"nested\":{\"M\":{\"deep\":{\"M\":{\"er\":{\"N\":\"3\"}}},\"arr\":{\"L\":[{\"N\":\"0\"}]}}}}";

static void setup(void)
{
    if (names != NULL)
        return;
    names = json_loads(names_json, 0, NULL);
    values = json_loads(values_json, 0, NULL);
    json_t *ij = json_loads(item_json, 0, NULL);
    struct ddb_err err;
    ddb_err_init(&err);
    if (names == NULL || values == NULL || ij == NULL || ddb_item_from_json(ij, &item, &err))
        abort();
    json_decref(ij);
}

static void exercise(const struct ddb_expr *e)
{
    struct ddb_value out;
    struct ddb_err err;
    ddb_err_init(&err);
    switch (ddb_expr_kind_of(e)) {
    case DDB_EXPR_CONDITION:
    case DDB_EXPR_FILTER:
        ddb_cond_eval(e, &item);
        ddb_cond_eval(e, NULL);
        break;
    case DDB_EXPR_KEY_CONDITION: {
        static const struct ddb_key_schema schemas[] = {
            {"pk", DDB_S, NULL, DDB_NONE},
            {"pk", DDB_S, "sk", DDB_N},
            {"a", DDB_N, "b", DDB_S},
        };
        for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
            struct ddb_key_cond kc;
            if (ddb_keycond_bind(e, &schemas[i], &kc, &err) != 0) {
                if (ddb_err_msg(&err)[0] == '\0')
                    abort();
                ddb_err_clear(&err);
                continue;
            }
            ddb_key_cond_match(&kc, ddb_map_get(&item, "sk", 2));
            for (int pf = 0; pf < 2; pf++) {
                struct buf lo, hi;
                bool a, b, c, d;
                buf_init(&lo, 1 << 20);
                buf_init(&hi, 1 << 20);
                ddb_key_cond_bounds(&kc, pf, &lo, &a, &b, &hi, &c, &d);
                buf_destroy(&lo);
                buf_destroy(&hi);
            }
        }
        break;
    }
    case DDB_EXPR_UPDATE:
        for (int pass = 0; pass < 2; pass++) {
            const struct ddb_value *old = pass ? NULL : &item;
            if (ddb_update_apply(e, old, &out, &err) == 0) {
                struct ddb_value u;
                if (ddb_update_updated(e, &out, &u) == 0)
                    ddb_value_destroy(&u);
                if (ddb_update_updated(e, old, &u) == 0)
                    ddb_value_destroy(&u);
                ddb_item_size(&out);
                ddb_value_destroy(&out);
            } else if (ddb_err_msg(&err)[0] == '\0') {
                abort();
            }
            ddb_err_clear(&err);
        }
        ddb_expr_uses(e, "pk", 2);
        break;
    case DDB_EXPR_PROJECTION:
        if (ddb_project(e, &item, &out) == 0)
            ddb_value_destroy(&out);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    enum ddb_expr_kind first = (enum ddb_expr_kind)(data[0] % 5);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    for (int k = 0; k < 5; k++) {
        enum ddb_expr_kind kind = (enum ddb_expr_kind)((first + k) % 5);
        struct ddb_err err;
        ddb_err_init(&err);
        struct ddb_expr_params *p = ddb_expr_params_new(names, values, &err);
        if (p == NULL)
            abort();
        struct ddb_expr *e = ddb_expr_compile(kind, text, len, p, &err);
        if (e == NULL) {
            if (ddb_err_msg(&err)[0] == '\0')
                abort();
        } else {
            exercise(e);
            ddb_expr_params_check_unused(p, &err);
            ddb_expr_free(e);
        }
        ddb_err_clear(&err);
        ddb_expr_params_free(p);
    }
    return 0;
}
