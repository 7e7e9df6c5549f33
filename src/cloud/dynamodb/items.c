/*
 * items.c — the item operations: PutItem, GetItem, UpdateItem, DeleteItem, BatchGetItem and
 * BatchWriteItem.
 *
 * Order of checks (dynalite's, tested against DynamoDB): the generic passes (ddb.c), then
 * the operation's own validation — expression/legacy mixing, AttributeValues, ReturnValues,
 * item size, legacy parameters, expressions — then the table (ResourceNotFoundException),
 * the key against the schema, then the condition on the current item (overlay first), then
 * the write. PutItem, UpdateItem and DeleteItem prefix their validation messages with
 * "1 validation error detected: " as DynamoDB does; GetItem does not.
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"

#define BATCH_GET_MAX   100
#define BATCH_WRITE_MAX 25
#define BATCH_GET_BYTES (16 * 1024 * 1024)

/* ---- shared checks ---- */

int ddb__decode_key(struct ddb_call *c, struct ddb_table *t, const struct ddb_value *key,
                    struct ddb_skey *sk)
{
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_key_check(&t->ks, key, DDB_KEY_ONLY, &err) != 0)
        return ddb__fail_err(c, &err, false);
    if (ddb__skey(&t->ks, key, sk) != 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "The provided key element does not match the schema");
    return 0;
}

int ddb__check_item(struct ddb_call *c, struct ddb_table *t, const struct ddb_value *item,
                    bool update)
{
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_key_check(&t->ks, item, DDB_KEY_ITEM, &err) != 0)
        return ddb__fail_err(c, &err, false);
    for (size_t i = 0; i < t->nidx; i++) {
        const struct ddb_index *x = &t->idx[i];
        const char *names[2] = {x->hash_name, x->range_name};
        enum ddb_type types[2] = {x->ks.hash_type, x->ks.range_type};
        for (int k = 0; k < 2; k++) {
            if (names[k] == NULL)
                continue;
            const struct ddb_value *v = ddb_map_get(item, names[k], strlen(names[k]));
            if (v == NULL)
                continue;
            if (v->type != types[k])
                return ddb__fail(c, ERR_DDB_VALIDATION,
                                 "One or more parameter values were invalid: Type mismatch for "
                                 "Index Key %s Expected: %s Actual: %s IndexName: %s",
                                 names[k], ddb_type_name(types[k]), ddb_type_name(v->type),
                                 x->name);
            if ((v->type == DDB_S || v->type == DDB_B) && v->n == 0)
                return ddb__fail(c, ERR_DDB_VALIDATION,
                                 "One or more parameter values are not valid. A value specified "
                                 "for a secondary index key is not supported. The AttributeValue "
                                 "for a key attribute cannot contain an empty %s value. IndexName: "
                                 "%s, IndexKey: %s",
                                 v->type == DDB_S ? "string" : "binary", x->name, names[k]);
        }
    }
    if (ddb_item_size(item) > DDB_ITEM_MAX)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         update ? "Item size to update has exceeded the maximum allowed size"
                                : "Item size has exceeded the maximum allowed size");
    if (ddb_item_depth(item) > DDB_DEPTH_MAX)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Nesting Levels have exceeded supported limits: Attributes in the item "
                         "have nested levels beyond supported limit");
    return 0;
}

/* An item map decoded (Item, Key): value errors as DynamoDB words them. */
static int decode_map(struct ddb_call *c, const json_t *j, struct ddb_value *out, bool prefix)
{
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_item_from_json(j, out, &err) != 0)
        return ddb__fail_err(c, &err, prefix);
    return 0;
}

/* The expressions and legacy parameters of an item operation. */
struct compiled {
    struct ddb_legacy legacy;
    struct ddb_expr_set ex;
};

static void compiled_free(struct compiled *x)
{
    ddb_legacy_destroy(&x->legacy);
    ddb_expr_set_free(&x->ex);
}

/* The legacy parameters, then the expressions, of an item operation's request. */
static int compile(struct ddb_call *c, enum ddb_legacy_op lop, const json_t *req,
                   struct compiled *x, bool prefix)
{
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_legacy_compile(lop, req, &x->legacy, &err) != 0)
        return ddb__fail_err(c, &err, prefix);
    unsigned all =
        DDB_X_UPDATE | DDB_X_CONDITION | DDB_X_KEY | DDB_X_FILTER | DDB_X_PROJECTION | DDB_X_VALUES;
    return ddb__compile_exprs(c, req, all, &x->ex, prefix);
}

static int check_mixing(struct ddb_call *c, enum ddb_legacy_op lop, const json_t *req, bool prefix)
{
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_legacy_check_mixing(lop, req, &err) != 0)
        return ddb__fail_err(c, &err, prefix);
    return 0;
}

/* ConditionalCheckFailedException, with the item when ReturnValuesOnConditionCheckFailure
 * is ALL_OLD. */
static void condition_failed(struct ddb_call *c, const json_t *req, const struct ddb_value *old)
{
    const char *rv = ddb__str(req, "ReturnValuesOnConditionCheckFailure");
    ddb__fail(c, ERR_DDB_CONDITIONAL_CHECK_FAILED, "The conditional request failed");
    if (old && rv && strcmp(rv, "ALL_OLD") == 0) {
        buf_puts(&c->out, ",\"Item\":");
        ddb__write_item(&c->out, old);
    }
}

static void write_collection_metrics(struct buf *out, const struct ddb_table *t,
                                     const struct ddb_value *item, const json_t *req)
{
    const char *r = ddb__str(req, "ReturnItemCollectionMetrics");
    bool lsi = false;
    for (size_t i = 0; i < t->nidx; i++)
        lsi = lsi || !t->idx[i].global;
    if (r == NULL || strcmp(r, "SIZE") != 0 || !lsi || item == NULL)
        return;
    const struct ddb_value *hv = ddb_map_get(item, t->hash_name, strlen(t->hash_name));
    if (hv == NULL)
        return;
    buf_printf(out, ",\"ItemCollectionMetrics\":{\"ItemCollectionKey\":{");
    jw_escape(out, t->hash_name, strlen(t->hash_name));
    buf_puts(out, ":");
    ddb_value_write_json(hv, out);
    buf_puts(out, "},\"SizeEstimateRangeGB\":[0.0,1.0]}");
}

/* ---- shared by the operations on one key ---- */

/* The request's own checks, in order: expression/legacy mixing, the Key, legacy parameters
 * and expressions. */
static int decode_request(struct ddb_call *c, enum ddb_legacy_op lop, struct ddb_value *key,
                          struct compiled *x, bool prefix)
{
    if (check_mixing(c, lop, c->req, prefix) != 0 ||
        decode_map(c, json_object_get(c->req, "Key"), key, prefix) != 0 ||
        compile(c, lop, c->req, x, prefix) != 0)
        return -1;
    return 0;
}

/* The table named and the storage key of key (checked against its schema); NULL when c
 * failed. */
static struct ddb_table *locate(struct ddb_call *c, const struct ddb_value *key, struct ddb_skey *k)
{
    struct ddb_table *t = ddb__table_of(c, ddb__str(c->req, "TableName"));
    if (t == NULL || ddb__decode_key(c, t, key, k) != 0)
        return NULL;
    return t;
}

/* ReturnValues of PutItem and DeleteItem: ALL_OLD or NONE. */
static int check_return_old(struct ddb_call *c, const char *rv)
{
    if (rv && strcmp(rv, "ALL_OLD") != 0 && strcmp(rv, "NONE") != 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "1 validation error detected: ReturnValues can only be ALL_OLD or NONE");
    return 0;
}

/* The item at k now (overlay first; *found false when none) and the request's condition on
 * it. Returns 0, or -1 with c failed. */
static int read_checked(struct ddb_call *c, struct ddb_table *t, const struct ddb_skey *k,
                        const struct compiled *x, struct ddb_value *old, bool *found)
{
    if (ddb__get(c->db, t, k, old, found) != 0)
        return ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    if (!ddb__cond_holds(x->ex.condition, &x->legacy, *found ? old : NULL)) {
        condition_failed(c, c->req, *found ? old : NULL);
        return -1;
    }
    return 0;
}

/* '{', then old (NULL: none) as Attributes when ReturnValues is ALL_OLD. Returns true when
 * nothing follows the '{' yet. */
static bool open_answer(struct ddb_call *c, const char *rv, const struct ddb_value *old)
{
    buf_puts(&c->out, "{");
    if (old == NULL || rv == NULL || strcmp(rv, "ALL_OLD") != 0)
        return true;
    buf_puts(&c->out, "\"Attributes\":");
    ddb__write_item(&c->out, old);
    return false;
}

/* The end of an answer: ConsumedCapacity, ItemCollectionMetrics of item (NULL: none), '}'.
 * first: nothing follows the '{' yet. */
static void close_answer(struct ddb_call *c, const struct ddb_table *t,
                         const struct ddb_capacity *cap, const struct ddb_value *item, bool first)
{
    const char *rcc = ddb__rcc(c->req);
    if (rcc) {
        buf_puts(&c->out, first ? "\"ConsumedCapacity\":" : ",\"ConsumedCapacity\":");
        ddb__write_capacity(&c->out, cap, rcc, true);
        first = false;
    }
    if (item) {
        struct buf tmp;
        buf_init(&tmp, 1 << 20);
        write_collection_metrics(&tmp, t, item, c->req);
        if (tmp.len)
            buf_append(&c->out, first ? tmp.data + 1 : tmp.data, first ? tmp.len - 1 : tmp.len);
        buf_destroy(&tmp);
    }
    buf_puts(&c->out, "}");
}

/* A batch writing newv (consumed; NULL deletes) over old (NULL: none) at k, capacity charged
 * to cap. NULL when out of memory (c failed, its answer so far dropped). */
static struct ddb_wb *write_one(struct ddb_call *c, struct ddb_table *t, const struct ddb_skey *k,
                                const struct ddb_value *old, struct ddb_value *newv,
                                struct ddb_capacity *cap)
{
    struct ddb_wb *wb = ddb__wb_new(c->db);
    if (wb != NULL && ddb__wb_write(wb, t, k, old, newv, cap, false) == 0)
        return wb;
    ddb__wb_free(wb);
    buf_reset(&c->out);
    ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    return NULL;
}

/* Answers c: once wb (NULL: nothing to write) is durable, else now. */
static void finish_write(struct ddb_call *c, struct ddb_wb *wb)
{
    if (wb)
        ddb__wb_submit(wb, ddb__write_done, c);
    else
        ddb__finish(c);
}

/* ---- PutItem ---- */

static void op_put(struct ddb_call *c)
{
    const json_t *req = c->req;
    struct compiled x = {0};
    struct ddb_value item = {0}, old = {0}, keep = {0};
    bool found = false;
    struct ddb_wb *wb = NULL;
    struct ddb_capacity cap;
    ddb_capacity_init(&cap, ddb__str(req, "TableName"));
    if (check_mixing(c, DDB_LOP_PUT_ITEM, req, true) != 0 ||
        decode_map(c, json_object_get(req, "Item"), &item, true) != 0)
        goto out;
    const char *rv = ddb__str(req, "ReturnValues");
    if (check_return_old(c, rv) != 0)
        goto out;
    if (ddb_item_size(&item) > DDB_ITEM_MAX) {
        ddb__fail(c, ERR_DDB_VALIDATION, "Item size has exceeded the maximum allowed size");
        goto out;
    }
    if (compile(c, DDB_LOP_PUT_ITEM, req, &x, true) != 0)
        goto out;
    struct ddb_table *t = ddb__table_of(c, ddb__str(req, "TableName"));
    struct ddb_skey k;
    if (t == NULL || ddb__check_item(c, t, &item, false) != 0)
        goto out;
    ddb__skey(&t->ks, &item, &k);
    if (read_checked(c, t, &k, &x, &old, &found) != 0)
        goto out;
    bool first = open_answer(c, rv, found ? &old : NULL);
    bool metrics = ddb__str(req, "ReturnItemCollectionMetrics") != NULL;
    if (metrics)
        ddb_value_copy(&keep, &item);
    wb = write_one(c, t, &k, found ? &old : NULL, &item, &cap);
    if (wb != NULL)
        close_answer(c, t, &cap, metrics ? &keep : NULL, first);
out:
    ddb_value_destroy(&item);
    ddb_value_destroy(&old);
    ddb_value_destroy(&keep);
    compiled_free(&x);
    ddb_capacity_destroy(&cap);
    finish_write(c, wb);
}

/* ---- GetItem ---- */

static void op_get(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    struct compiled x = {0};
    struct ddb_value key = {0}, item = {0};
    bool found = false;
    struct ddb_capacity cap;
    ddb_capacity_init(&cap, ddb__str(req, "TableName"));
    struct ddb_skey k;
    struct ddb_table *t = NULL;
    if (decode_request(c, DDB_LOP_GET_ITEM, &key, &x, false) != 0 ||
        (t = locate(c, &key, &k)) == NULL)
        goto out;
    if (ddb__get(db, t, &k, &item, &found) != 0) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    bool strong = ddb__bool(req, "ConsistentRead", false);
    ddb_capacity_add_table(&cap, DDB_CAP_READ,
                           ddb_read_units(found ? ddb_item_size(&item) : 0,
                                          strong ? DDB_READ_STRONG : DDB_READ_EVENTUAL));
    buf_puts(&c->out, "{");
    bool first = true;
    if (found) {
        struct ddb_value p;
        if (ddb__project(x.ex.projection, &x.legacy, &item, &p) != 0) {
            buf_reset(&c->out);
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
        buf_puts(&c->out, "\"Item\":");
        ddb__write_item(&c->out, &p);
        ddb_value_destroy(&p);
        first = false;
    }
    close_answer(c, t, &cap, NULL, first);
out:
    ddb_value_destroy(&key);
    ddb_value_destroy(&item);
    compiled_free(&x);
    ddb_capacity_destroy(&cap);
    ddb__finish(c);
}

/* ---- UpdateItem ---- */

/* The attributes AttributeUpdates names, from item (UPDATED_OLD / UPDATED_NEW). */
static int legacy_updated(const struct ddb_legacy *l, const struct ddb_value *item,
                          struct ddb_value *out)
{
    ddb_value_set_map(out);
    for (size_t i = 0; i < l->nupdates; i++) {
        const char *n = l->updates[i].name;
        const struct ddb_value *v = ddb_map_get(item, n, strlen(n));
        struct ddb_value cp;
        if (v == NULL)
            continue;
        if (ddb_value_copy(&cp, v) != 0 || ddb_map_put(out, n, strlen(n), &cp) != 0) {
            ddb_value_destroy(&cp);
            ddb_value_destroy(out);
            return -1;
        }
    }
    return 0;
}

static void op_update(struct ddb_call *c)
{
    const json_t *req = c->req;
    struct compiled x = {0};
    struct ddb_value key = {0}, old = {0}, newv = {0}, keep = {0};
    bool found = false;
    struct ddb_wb *wb = NULL;
    struct ddb_capacity cap;
    ddb_capacity_init(&cap, ddb__str(req, "TableName"));
    struct ddb_skey k;
    struct ddb_table *t = NULL;
    if (decode_request(c, DDB_LOP_UPDATE_ITEM, &key, &x, true) != 0 ||
        (t = locate(c, &key, &k)) == NULL)
        goto out;
    const char *keys[2] = {t->hash_name, t->range_name};
    for (int i = 0; i < 2; i++) {
        if (keys[i] == NULL)
            continue;
        bool touched = (x.ex.update && ddb_expr_uses(x.ex.update, keys[i], strlen(keys[i]))) ||
                       (x.legacy.has_updates && ddb_legacy_updates_attr(&x.legacy, keys[i]));
        if (touched) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: Cannot update attribute %s. "
                      "This attribute is part of the key",
                      keys[i]);
            goto out;
        }
    }
    if (read_checked(c, t, &k, &x, &old, &found) != 0)
        goto out;
    const struct ddb_value *base = found ? &old : &key;
    struct ddb_err err;
    ddb_err_init(&err);
    int rc;
    if (x.ex.update)
        rc = ddb_update_apply(x.ex.update, base, &newv, &err);
    else if (x.legacy.has_updates)
        rc = ddb_legacy_update_apply(&x.legacy, base, &newv, &err);
    else
        rc = ddb_value_copy(&newv, base) == 0
                 ? 0
                 : ddb_err_set(&err, ERR_DDB_INTERNAL, "Internal server error");
    if (rc != 0) {
        ddb__fail_err(c, &err, false);
        goto out;
    }
    if (ddb__check_item(c, t, &newv, true) != 0)
        goto out;
    const char *rv = ddb__str(req, "ReturnValues");
    buf_puts(&c->out, "{");
    bool first = true;
    if (rv && strcmp(rv, "NONE") != 0) {
        struct ddb_value ret = {0};
        bool have = true;
        if (strcmp(rv, "ALL_OLD") == 0) {
            have = found && ddb_value_copy(&ret, &old) == 0;
        } else if (strcmp(rv, "ALL_NEW") == 0) {
            have = ddb_value_copy(&ret, &newv) == 0;
        } else {
            const struct ddb_value *from =
                strcmp(rv, "UPDATED_OLD") == 0 ? (found ? &old : NULL) : &newv;
            if (from == NULL)
                have = false;
            else if (x.ex.update)
                have = ddb_update_updated(x.ex.update, from, &ret) == 0;
            else if (x.legacy.has_updates)
                have = legacy_updated(&x.legacy, from, &ret) == 0;
            else
                have = false;
        }
        if (have && ret.type == DDB_M && ret.n > 0) {
            buf_puts(&c->out, "\"Attributes\":");
            ddb__write_item(&c->out, &ret);
            first = false;
        }
        ddb_value_destroy(&ret);
    }
    bool metrics = ddb__str(req, "ReturnItemCollectionMetrics") != NULL;
    if (metrics)
        ddb_value_copy(&keep, &newv);
    wb = write_one(c, t, &k, found ? &old : NULL, &newv, &cap);
    if (wb != NULL)
        close_answer(c, t, &cap, metrics ? &keep : NULL, first);
out:
    ddb_value_destroy(&key);
    ddb_value_destroy(&old);
    ddb_value_destroy(&newv);
    ddb_value_destroy(&keep);
    compiled_free(&x);
    ddb_capacity_destroy(&cap);
    finish_write(c, wb);
}

/* ---- DeleteItem ---- */

static void op_delete(struct ddb_call *c)
{
    const json_t *req = c->req;
    struct compiled x = {0};
    struct ddb_value key = {0}, old = {0};
    bool found = false;
    struct ddb_wb *wb = NULL;
    struct ddb_capacity cap;
    ddb_capacity_init(&cap, ddb__str(req, "TableName"));
    const char *rv = ddb__str(req, "ReturnValues");
    struct ddb_skey k;
    struct ddb_table *t = NULL;
    if (decode_request(c, DDB_LOP_DELETE_ITEM, &key, &x, true) != 0 ||
        check_return_old(c, rv) != 0 || (t = locate(c, &key, &k)) == NULL ||
        read_checked(c, t, &k, &x, &old, &found) != 0)
        goto out;
    bool first = open_answer(c, rv, found ? &old : NULL);
    if (found) {
        wb = write_one(c, t, &k, &old, NULL, &cap);
        if (wb == NULL)
            goto out;
    } else {
        ddb_capacity_add_table(&cap, DDB_CAP_WRITE, ddb_write_units(0, false));
    }
    close_answer(c, t, &cap, found ? &old : NULL, first);
out:
    ddb_value_destroy(&key);
    ddb_value_destroy(&old);
    compiled_free(&x);
    ddb_capacity_destroy(&cap);
    finish_write(c, wb);
}

void ddb__op_item(struct ddb_call *c)
{
    switch (c->op) {
    case DDB_OP_PUT_ITEM:
        op_put(c);
        return;
    case DDB_OP_GET_ITEM:
        op_get(c);
        return;
    case DDB_OP_UPDATE_ITEM:
        op_update(c);
        return;
    default:
        op_delete(c);
        return;
    }
}

/* ---- BatchGetItem ---- */

static bool same_key(const struct ddb_value *a, const struct ddb_value *b)
{
    return ddb_value_equal(a, b);
}

static void op_batch_get(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    const json_t *items = json_object_get(req, "RequestItems");
    size_t ntables = json_object_size(items), nreq = 0;
    struct entry {
        const char *name;
        const json_t *spec;
        struct ddb_table *t;
        struct compiled x;
        struct ddb_value *keys;
        size_t nkeys;
    } *e = calloc(ntables ? ntables : 1, sizeof *e);
    struct ddb_capacity *caps = NULL;
    if (e == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    size_t ti = 0;
    const char *name;
    const json_t *spec;
    json_object_foreach((json_t *)items, name, spec)
    {
        struct entry *en = &e[ti++];
        en->name = name;
        en->spec = spec;
        if (check_mixing(c, DDB_LOP_KEYS_AND_ATTRIBUTES, spec, false) != 0)
            goto out;
        const json_t *keys = json_object_get(spec, "Keys");
        en->keys = calloc(json_array_size(keys) ? json_array_size(keys) : 1, sizeof *en->keys);
        if (en->keys == NULL) {
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(keys); i++) {
            if (decode_map(c, json_array_get(keys, i), &en->keys[i], false) != 0)
                goto out;
            en->nkeys++;
            for (size_t j = 0; j < i; j++)
                if (same_key(&en->keys[i], &en->keys[j])) {
                    ddb__fail(c, ERR_DDB_VALIDATION,
                              "Provided list of item keys contains duplicates");
                    goto out;
                }
            if (++nreq > BATCH_GET_MAX) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "Too many items requested for the BatchGetItem call");
                goto out;
            }
        }
        if (compile(c, DDB_LOP_KEYS_AND_ATTRIBUTES, spec, &en->x, false) != 0)
            goto out;
    }
    for (size_t i = 0; i < ntables; i++) {
        e[i].t = ddb__table_of(c, e[i].name);
        if (e[i].t == NULL)
            goto out;
        for (size_t j = 0; j < e[i].nkeys; j++) {
            struct ddb_skey k;
            if (ddb__decode_key(c, e[i].t, &e[i].keys[j], &k) != 0)
                goto out;
        }
    }
    caps = calloc(ntables ? ntables : 1, sizeof *caps);
    if (caps == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    struct buf unprocessed;
    buf_init(&unprocessed, DDB_OUT_MAX);
    buf_puts(&c->out, "{\"Responses\":{");
    size_t bytes = 0;
    bool full = false;
    for (size_t i = 0; i < ntables; i++) {
        struct entry *en = &e[i];
        ddb_capacity_init(&caps[i], en->name);
        bool strong = ddb__bool(en->spec, "ConsistentRead", false);
        buf_printf(&c->out, "%s", i ? "," : "");
        jw_escape(&c->out, en->name, strlen(en->name));
        buf_puts(&c->out, ":[");
        bool firsti = true;
        struct buf left;
        buf_init(&left, DDB_OUT_MAX);
        size_t nleft = 0;
        for (size_t j = 0; j < en->nkeys; j++) {
            struct ddb_skey k;
            ddb__skey(&en->t->ks, &en->keys[j], &k);
            if (full) {
                buf_puts(&left, nleft++ ? "," : "");
                ddb__write_item(&left, &en->keys[j]);
                continue;
            }
            struct ddb_value item;
            bool found;
            if (ddb__get(db, en->t, &k, &item, &found) != 0)
                continue;
            ddb_capacity_add_table(&caps[i], DDB_CAP_READ,
                                   ddb_read_units(found ? ddb_item_size(&item) : 0,
                                                  strong ? DDB_READ_STRONG : DDB_READ_EVENTUAL));
            if (found) {
                struct ddb_value p;
                if (ddb__project(en->x.ex.projection, &en->x.legacy, &item, &p) == 0) {
                    size_t before = c->out.len;
                    buf_puts(&c->out, firsti ? "" : ",");
                    ddb__write_item(&c->out, &p);
                    bytes += c->out.len - before;
                    firsti = false;
                    ddb_value_destroy(&p);
                }
                ddb_value_destroy(&item);
                if (bytes >= BATCH_GET_BYTES)
                    full = true;
            }
        }
        buf_puts(&c->out, "]");
        if (nleft > 0) {
            /* the keys left over, with the table's other parameters */
            json_t *rest = json_deep_copy(en->spec);
            json_object_del(rest, "Keys");
            char *r = json_dumps(rest, JSON_COMPACT);
            json_decref(rest);
            buf_puts(&unprocessed, unprocessed.len ? "," : "");
            jw_escape(&unprocessed, en->name, strlen(en->name));
            buf_puts(&unprocessed, ":{\"Keys\":[");
            buf_append(&unprocessed, left.data, left.len);
            buf_puts(&unprocessed, "]");
            if (r && strlen(r) > 2) {
                buf_puts(&unprocessed, ",");
                buf_append(&unprocessed, r + 1, strlen(r) - 2);
            }
            buf_puts(&unprocessed, "}");
            free(r);
        }
        buf_destroy(&left);
    }
    buf_puts(&c->out, "},\"UnprocessedKeys\":{");
    if (unprocessed.len)
        buf_append(&c->out, unprocessed.data, unprocessed.len);
    buf_puts(&c->out, "}");
    buf_destroy(&unprocessed);
    ddb__write_capacity_list(&c->out, req, caps, ntables, true);
    buf_puts(&c->out, "}");
out:
    for (size_t i = 0; e && i < ntables; i++) {
        for (size_t j = 0; j < e[i].nkeys; j++)
            ddb_value_destroy(&e[i].keys[j]);
        free(e[i].keys);
        compiled_free(&e[i].x);
        if (caps)
            ddb_capacity_destroy(&caps[i]);
    }
    free(caps);
    free(e);
    ddb__finish(c);
}

/* ---- BatchWriteItem ---- */

static void op_batch_write(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    const json_t *items = json_object_get(req, "RequestItems");
    struct wreq {
        struct ddb_table *t;
        const char *name;
        bool put;
        struct ddb_value v; /* the item or the key */
        struct ddb_skey k;
        size_t table_index;
    } *w = NULL;
    size_t n = 0, cap_n = 0;
    struct ddb_capacity *caps = NULL;
    size_t ntables = json_object_size(items);
    const char *name;
    const json_t *list;
    json_object_foreach((json_t *)items, name, list)
    {
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *r = json_array_get(list, i);
            const json_t *put = ddb_member(r, "PutRequest"), *del = ddb_member(r, "DeleteRequest");
            if ((put == NULL) == (del == NULL)) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "Supplied AttributeValue has more than one datatypes set, must contain "
                          "exactly one of the supported datatypes");
                goto out;
            }
            struct wreq *nw = ddb__grow(w, n, &cap_n, sizeof *nw, 8);
            if (nw == NULL) {
                ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
                goto out;
            }
            w = nw;
            struct wreq *q = &w[n];
            memset(q, 0, sizeof *q);
            q->name = name;
            q->put = put != NULL;
            if (decode_map(c, json_object_get(put ? put : del, put ? "Item" : "Key"), &q->v,
                           false) != 0)
                goto out;
            n++;
            if (put && ddb_item_size(&q->v) > DDB_ITEM_MAX) {
                ddb__fail(c, ERR_DDB_VALIDATION, "Item size has exceeded the maximum allowed size");
                goto out;
            }
        }
    }
    if (n > BATCH_WRITE_MAX) {
        ddb__fail(c, ERR_DDB_VALIDATION, "Too many items requested for the BatchWriteItem call");
        goto out;
    }
    /* tables, then keys */
    const char **names = calloc(ntables ? ntables : 1, sizeof *names);
    caps = calloc(ntables ? ntables : 1, sizeof *caps);
    if (names == NULL || caps == NULL) {
        free(names);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    size_t ti = 0;
    json_object_foreach((json_t *)items, name, list)
    {
        ddb_capacity_init(&caps[ti], name);
        names[ti++] = name;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].t = ddb__table_of(c, w[i].name);
        for (size_t j = 0; j < ntables; j++)
            if (names[j] == w[i].name)
                w[i].table_index = j;
        if (w[i].t == NULL) {
            free(names);
            goto out;
        }
    }
    free(names);
    for (size_t i = 0; i < n; i++) {
        struct wreq *q = &w[i];
        struct ddb_err err;
        ddb_err_init(&err);
        if (q->put) {
            if (!ddb_key_match(&q->t->ks, &q->v)) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "The provided key element does not match the schema");
                goto out;
            }
            if (ddb__check_item(c, q->t, &q->v, false) != 0)
                goto out;
            ddb__skey(&q->t->ks, &q->v, &q->k);
        } else if (ddb__decode_key(c, q->t, &q->v, &q->k) != 0) {
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (w[j].t == q->t && ddb__skey_equal(&w[j].k, &q->k)) {
                ddb__fail(c, ERR_DDB_VALIDATION, "Provided list of item keys contains duplicates");
                goto out;
            }
    }
    struct ddb_wb *wb = ddb__wb_new(db);
    if (wb == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct wreq *q = &w[i];
        struct ddb_value old;
        bool found;
        if (ddb__get(db, q->t, &q->k, &old, &found) != 0) {
            ddb__wb_free(wb);
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
        int rc;
        if (q->put)
            rc = ddb__wb_write(wb, q->t, &q->k, found ? &old : NULL, &q->v, &caps[q->table_index],
                               false);
        else if (found)
            rc = ddb__wb_write(wb, q->t, &q->k, &old, NULL, &caps[q->table_index], false);
        else {
            ddb_capacity_add_table(&caps[q->table_index], DDB_CAP_WRITE, ddb_write_units(0, false));
            rc = 0;
        }
        ddb_value_destroy(&old);
        if (rc != 0) {
            ddb__wb_free(wb);
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
    }
    buf_puts(&c->out, "{\"UnprocessedItems\":{}");
    ddb__write_capacity_list(&c->out, req, caps, ntables, true);
    ddb__write_no_metrics(&c->out, req, true);
    buf_puts(&c->out, "}");
    for (size_t i = 0; i < n; i++)
        ddb_value_destroy(&w[i].v);
    free(w);
    for (size_t i = 0; i < ntables; i++)
        ddb_capacity_destroy(&caps[i]);
    free(caps);
    ddb__wb_submit(wb, ddb__write_done, c);
    return;
out:
    for (size_t i = 0; i < n; i++)
        ddb_value_destroy(&w[i].v);
    free(w);
    for (size_t i = 0; caps && i < ntables; i++)
        ddb_capacity_destroy(&caps[i]);
    free(caps);
    ddb__finish(c);
}

void ddb__op_batch(struct ddb_call *c)
{
    if (c->op == DDB_OP_BATCH_GET_ITEM)
        op_batch_get(c);
    else
        op_batch_write(c);
}
