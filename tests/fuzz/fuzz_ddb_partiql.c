/*
 * fuzz_ddb_partiql.c — the PartiQL parser of ExecuteStatement (cloud/dynamodb/partiql) on
 * arbitrary text.
 *
 * Whatever parses is rendered every way the engine renders it — the WHERE clause split
 * for a table key and for an index key (with and without range operators), the
 * projection, an INSERT's tuple, an UPDATE's SET/REMOVE clauses — with two parameters
 * bound. Every error must carry a message; nothing may leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/dynamodb/partiql.h"

static json_t *params;

static void check(int rc, const struct ddb_err *err)
{
    if (rc != 0 && (!ddb_err_isset(err) || ddb_err_msg(err)[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (params == NULL)
        params = json_loads("[{\"S\":\"a\"},{\"N\":\"1\"}]", 0, NULL);
    struct ddb_err err;
    ddb_err_init(&err);
    struct ddb_pq *q = ddb_pq_parse((const char *)data, size, &err);
    if (q == NULL) {
        check(-1, &err);
        ddb_err_clear(&err);
        return 0;
    }
    static const char *const keysets[][2] = {{"pk", "sk"}, {"pk", NULL}, {"g", "r"}};
    for (int k = 0; k < 3; k++)
        for (int range = 0; range < 2; range++) {
            struct ddb_pq_render rc;
            ddb_pq_render_init(&rc, params);
            rc.watch[0] = keysets[k][0];
            rc.watch[1] = keysets[k][1];
            struct buf key, rest;
            buf_init(&key, 1 << 20);
            buf_init(&rest, 1 << 20);
            bool found[2];
            json_t *kv[2] = {NULL, NULL};
            int rc_ = ddb_pq_split_where(q, keysets[k], range, &rc, &key, &rest, found, kv, &err);
            check(rc_, &err);
            ddb_err_clear(&err);
            json_decref(kv[0]);
            json_decref(kv[1]);
            buf_destroy(&key);
            buf_destroy(&rest);
            ddb_pq_render_destroy(&rc);
        }
    struct ddb_pq_render rc;
    ddb_pq_render_init(&rc, params);
    struct buf out;
    buf_init(&out, 1 << 20);
    check(ddb_pq_render_projection(q, &rc, &out, &err), &err);
    ddb_err_clear(&err);
    buf_reset(&out);
    if (ddb_pq_verb(q) == DDB_PQ_UPDATE) {
        check(ddb_pq_render_update(q, &rc, &out, &err), &err);
        ddb_err_clear(&err);
    }
    if (ddb_pq_verb(q) == DDB_PQ_INSERT) {
        json_t *item = ddb_pq_insert_item(q, &rc, &err);
        check(item ? 0 : -1, &err);
        json_decref(item);
        ddb_err_clear(&err);
    }
    (void)ddb_pq_table(q);
    (void)ddb_pq_index(q);
    (void)ddb_pq_params(q);
    (void)ddb_pq_returning(q);
    buf_destroy(&out);
    ddb_pq_render_destroy(&rc);
    ddb_pq_free(q);
    return 0;
}
