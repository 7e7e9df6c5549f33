/*
 * query.c — Query and Scan, on a table or an index: key conditions as byte ranges of the
 * stored order, filters, projections, Select, Limit, 1 MB pages with LastEvaluatedKey,
 * ExclusiveStartKey, ScanIndexForward, parallel Scan segments (contiguous ranges of the
 * partition hash), ConsumedCapacity rounded once over the bytes read.
 *
 * Messages: dynalite's (tested against DynamoDB) and moto's aws_verified tests; Query wraps
 * its Select messages in "1 validation error detected: ", Scan does not (both recorded).
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"

struct qstate {
    struct ddb_call *c;
    struct ddb_table *t;
    struct ddb_index *x;
    struct ddb_legacy legacy;
    struct ddb_expr_set ex;
    struct ddb_value esk;
    bool has_esk;
    const char *select; /* NULL: the default */
    bool count_only;
    long long limit; /* 0: none */
    size_t scanned, count, bytes;
    bool stopped_early;
    struct ddb_value last; /* the last item evaluated (its key makes LastEvaluatedKey) */
    bool first_item;
    bool failed;
};

static void qstate_free(struct qstate *q)
{
    ddb_legacy_destroy(&q->legacy);
    ddb_expr_set_free(&q->ex);
    ddb_value_destroy(&q->esk);
    ddb_value_destroy(&q->last);
}

/* Select and projection rules. */
static int check_select(struct ddb_call *c, struct qstate *q, bool query)
{
    const char *pre = query ? "1 validation error detected: " : "";
    const char *sel = q->select;
    bool proj = ddb_member(c->req, "ProjectionExpression") != NULL;
    bool atg = ddb_member(c->req, "AttributesToGet") != NULL;
    if (sel == NULL)
        return 0;
    const char *what = strcmp(sel, "COUNT") == 0 ? "only the Count" : sel;
    if (strcmp(sel, "SPECIFIC_ATTRIBUTES") == 0) {
        if (!proj && !atg)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "%sMust specify the AttributesToGet or ProjectionExpression when "
                             "choosing to get SPECIFIC_ATTRIBUTES",
                             pre);
        return 0;
    }
    if (atg)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "%sCannot specify the AttributesToGet when choosing to get %s", pre, what);
    if (proj)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "%sCannot specify the ProjectionExpression when choosing to get %s", pre,
                         what);
    if (strcmp(sel, "ALL_PROJECTED_ATTRIBUTES") == 0 && ddb_member(c->req, "IndexName") == NULL)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "%sALL_PROJECTED_ATTRIBUTES can be used only when Querying using an "
                         "IndexName",
                         pre);
    return 0;
}

/* The table and index of the request, with the index rules. */
static int find_target(struct ddb_call *c, struct qstate *q)
{
    q->t = ddb__table_of(c, ddb__str(c->req, "TableName"));
    if (q->t == NULL)
        return -1;
    const char *iname = ddb__str(c->req, "IndexName");
    if (iname == NULL)
        return 0;
    q->x = ddb__index(q->t, iname);
    if (q->x == NULL || q->x->status == DDB_DELETING)
        return ddb__fail(c, ERR_DDB_VALIDATION, "The table does not have the specified index: %s",
                         iname);
    if (q->x->global && ddb__bool(c->req, "ConsistentRead", false))
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Consistent reads are not supported on global secondary indexes");
    if (q->x->status == DDB_CREATING)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Cannot read from backfilling global secondary index: %s", iname);
    if (q->x->global && q->select && strcmp(q->select, "ALL_ATTRIBUTES") == 0 &&
        q->x->proj != DDB_PROJ_ALL)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                         "is not supported for global secondary index %s because its projection "
                         "type is not ALL",
                         iname);
    return 0;
}

/* ExclusiveStartKey against the schema of the table (and index): its storage positions. */
static int start_key(struct ddb_call *c, struct qstate *q, struct ddb_cursor *cur)
{
    if (!q->has_esk)
        return 0;
    const struct ddb_table *t = q->t;
    const char *names[4] = {t->hash_name, t->range_name, q->x ? q->x->hash_name : NULL,
                            q->x ? q->x->range_name : NULL};
    size_t want = 0;
    for (int i = 0; i < 4; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup = dup || (names[i] && names[j] && strcmp(names[i], names[j]) == 0);
        if (names[i] && !dup)
            want++;
    }
    if (q->esk.n != want)
        return ddb__fail(c, ERR_DDB_VALIDATION, "The provided starting key is invalid");
    for (int i = 0; i < 4; i++)
        if (names[i] && ddb_map_get(&q->esk, names[i], strlen(names[i])) == NULL)
            return ddb__fail(c, ERR_DDB_VALIDATION, "The provided starting key is invalid");
    if (ddb__skey(&t->ks, &q->esk, &cur->start_base) != 0 ||
        (q->x && ddb__skey(&q->x->ks, &q->esk, &cur->start_idx) != 0))
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "The provided starting key is invalid: The provided key element does not "
                         "match the schema");
    struct ddb_err err;
    ddb_err_init(&err);
    struct ddb_value tk;
    ddb_value_set_map(&tk);
    for (int i = 0; i < 2; i++) {
        if (names[i] == NULL)
            continue;
        struct ddb_value v;
        ddb_value_copy(&v, ddb_map_get(&q->esk, names[i], strlen(names[i])));
        ddb_map_put(&tk, names[i], strlen(names[i]), &v);
    }
    int rc = ddb_key_check(&t->ks, &tk, DDB_KEY_ONLY, &err);
    ddb_value_destroy(&tk);
    if (rc != 0) {
        ddb__fail(c, ERR_DDB_VALIDATION, "The provided starting key is invalid: %s",
                  ddb_err_msg(&err));
        ddb_err_clear(&err);
        return -1;
    }
    cur->has_start = true;
    return 0;
}

/* ---- per item ---- */

static bool on_item(void *arg, const struct ddb_skey *base, const struct ddb_value *full)
{
    struct qstate *q = arg;
    struct ddb_call *c = q->c;
    (void)base;
    if (q->limit > 0 && (long long)q->scanned >= q->limit) {
        q->stopped_early = true;
        return false;
    }
    struct ddb_value proj = {0};
    const struct ddb_value *item = full;
    /* an index holds its projection (an LSI read with ALL_ATTRIBUTES fetches the item) */
    bool fetch = q->x && !q->x->global && q->select && strcmp(q->select, "ALL_ATTRIBUTES") == 0;
    if (q->x && q->x->proj != DDB_PROJ_ALL && !fetch) {
        if (ddb__index_project(q->t, q->x, full, &proj) != 0) {
            q->failed = true;
            return false;
        }
        item = &proj;
    }
    q->scanned++;
    q->bytes += ddb_item_size(item);
    ddb_value_destroy(&q->last);
    ddb_value_copy(&q->last, item);
    if (ddb__cond_holds(q->ex.filter, &q->legacy, item)) {
        q->count++;
        if (!q->count_only) {
            struct ddb_value out;
            if (ddb__project(q->ex.projection, &q->legacy, item, &out) != 0) {
                q->failed = true;
                ddb_value_destroy(&proj);
                return false;
            }
            if (!q->first_item)
                buf_puts(&c->out, ",");
            q->first_item = false;
            ddb__write_item(&c->out, &out);
            ddb_value_destroy(&out);
        }
    }
    ddb_value_destroy(&proj);
    if (q->bytes >= DDB_PAGE_BYTES || (q->limit > 0 && (long long)q->scanned >= q->limit)) {
        q->stopped_early = true;
        return false;
    }
    return true;
}

/* The LastEvaluatedKey of the last item: the table's key and the index's. */
static void write_lek(struct buf *out, const struct qstate *q)
{
    const char *names[4] = {q->t->hash_name, q->t->range_name, q->x ? q->x->hash_name : NULL,
                            q->x ? q->x->range_name : NULL};
    struct ddb_value k;
    ddb_value_set_map(&k);
    for (int i = 0; i < 4; i++) {
        if (names[i] == NULL || ddb_map_get(&k, names[i], strlen(names[i])))
            continue;
        const struct ddb_value *v = ddb_map_get(&q->last, names[i], strlen(names[i]));
        struct ddb_value cp;
        if (v && ddb_value_copy(&cp, v) == 0)
            ddb_map_put(&k, names[i], strlen(names[i]), &cp);
    }
    buf_puts(out, ",\"LastEvaluatedKey\":");
    ddb__write_item(out, &k);
    ddb_value_destroy(&k);
}

static void answer(struct ddb_call *c, struct qstate *q)
{
    /* c->out holds {"Items":[ ... */
    if (!q->count_only)
        buf_puts(&c->out, "]");
    buf_printf(&c->out, "%s\"Count\":%zu,\"ScannedCount\":%zu", q->count_only ? "" : ",", q->count,
               q->scanned);
    if (q->stopped_early && q->last.type == DDB_M)
        write_lek(&c->out, q);
    const char *rcc = ddb__rcc(c->req);
    if (rcc) {
        struct ddb_capacity cap;
        ddb_capacity_init(&cap, q->t->name);
        bool strong = ddb__bool(c->req, "ConsistentRead", false);
        double units = ddb_read_units(q->bytes, strong ? DDB_READ_STRONG : DDB_READ_EVENTUAL);
        if (q->x)
            ddb_capacity_add_index(&cap, q->x->name, q->x->global, DDB_CAP_READ, units);
        else
            ddb_capacity_add_table(&cap, DDB_CAP_READ, units);
        ddb__write_capacity(&c->out, &cap, rcc, false);
        ddb_capacity_destroy(&cap);
    }
    buf_puts(&c->out, "}");
}

/* Walks the cursor into the answer. */
static void run(struct ddb_call *c, struct qstate *q, const struct ddb_cursor *cur)
{
    buf_puts(&c->out, q->count_only ? "{" : "{\"Items\":[");
    if (ddb__cursor_run(c->db, cur, on_item, q) != 0 || q->failed) {
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        return;
    }
    answer(c, q);
}

static int common_start(struct ddb_call *c, struct qstate *q, enum ddb_legacy_op lop)
{
    struct ddb_err err;
    ddb_err_init(&err);
    const json_t *req = c->req;
    q->c = c;
    q->first_item = true;
    q->select = ddb__str(req, "Select");
    q->count_only = q->select && strcmp(q->select, "COUNT") == 0;
    q->limit = ddb__int(req, "Limit", 0);
    if (ddb_legacy_check_mixing(lop, req, &err) != 0 ||
        ddb_legacy_compile(lop, req, &q->legacy, &err) != 0)
        return ddb__fail_err(c, &err, false);
    const json_t *esk = ddb_member(req, "ExclusiveStartKey");
    if (esk) {
        if (ddb_item_from_json(esk, &q->esk, &err) != 0) {
            ddb__fail(c, ERR_DDB_VALIDATION, "The provided starting key is invalid: %s",
                      ddb_err_msg(&err));
            ddb_err_clear(&err);
            return -1;
        }
        q->has_esk = true;
    }
    return 0;
}

static int compile(struct ddb_call *c, struct qstate *q)
{
    unsigned members = DDB_X_KEY | DDB_X_FILTER | DDB_X_PROJECTION | DDB_X_VALUES;
    return ddb__compile_exprs(c, c->req, members, &q->ex, false);
}

/* ---- Query ---- */

static void op_query(struct ddb_call *c)
{
    struct qstate q = {0};
    struct buf lo, hi;
    buf_init(&lo, DDB_KEY_BYTES * 2);
    buf_init(&hi, DDB_KEY_BYTES * 2);
    const json_t *req = c->req;
    if (common_start(c, &q, DDB_LOP_QUERY) != 0)
        goto out;
    if (!q.legacy.has_keys && ddb_member(req, "KeyConditionExpression") == NULL) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                  "in the request.");
        goto out;
    }
    if (compile(c, &q) != 0 || check_select(c, &q, true) != 0 || find_target(c, &q) != 0)
        goto out;
    const struct ddb_key_schema *ks = q.x ? &q.x->ks : &q.t->ks;
    struct ddb_key_cond kc;
    struct ddb_err err;
    ddb_err_init(&err);
    int rc = q.ex.key_condition ? ddb_keycond_bind(q.ex.key_condition, ks, &kc, &err)
                                : ddb_legacy_keycond_bind(&q.legacy, ks, &kc, &err);
    if (rc != 0) {
        ddb__fail_err(c, &err, false);
        goto out;
    }
    struct ddb_cursor cur = {
        .t = q.t, .x = q.x, .forward = ddb__bool(req, "ScanIndexForward", true)};
    struct ddb_skey hk;
    uint16_t hl;
    /* the partition: the hash key's bytes */
    {
        struct ddb_value one;
        ddb_value_set_map(&one);
        struct ddb_value hv;
        ddb_value_copy(&hv, kc.hash);
        ddb_map_put(&one, ks->hash_name, strlen(ks->hash_name), &hv);
        struct ddb_key_schema hs = {ks->hash_name, ks->hash_type, NULL, DDB_NONE};
        int krc = ddb__skey(&hs, &one, &hk);
        ddb_value_destroy(&one);
        if (krc != 0) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: Condition parameter type does "
                      "not match schema type");
            goto out;
        }
        hl = hk.pklen;
    }
    cur.h = hk.h;
    cur.pk = hk.pk;
    cur.pklen = hl;
    if (ddb_key_cond_bounds(&kc, false, &lo, &cur.has_lo, &cur.lo_incl, &hi, &cur.has_hi,
                            &cur.hi_incl) != BUF_OK) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    cur.lo = &lo;
    cur.hi = &hi;
    if (start_key(c, &q, &cur) != 0)
        goto out;
    if (cur.has_start) {
        const struct ddb_skey *s = q.x ? &cur.start_idx : &cur.start_base;
        bool same_part =
            s->h == cur.h && s->pklen == cur.pklen && memcmp(s->pk, cur.pk, cur.pklen) == 0;
        if (kc.op == DDB_KEY_NONE) {
            if (!same_part) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "The provided starting key is outside query boundaries based on provided "
                          "conditions");
                goto out;
            }
        } else {
            const struct ddb_value *rv =
                ddb_map_get(&q.esk, ks->range_name, strlen(ks->range_name));
            if (!ddb_key_cond_match(&kc, rv)) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "The provided starting key does not match the range key predicate");
                goto out;
            }
            if (!same_part) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "The query can return at most one row and cannot be restarted");
                goto out;
            }
        }
    }
    /* a filter may not name the queried key's attributes */
    const char *knames[2] = {ks->hash_name, ks->range_name};
    for (int i = 0; i < 2; i++) {
        if (knames[i] == NULL)
            continue;
        if (q.ex.filter && ddb_expr_uses(q.ex.filter, knames[i], strlen(knames[i]))) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "Filter Expression can only contain non-primary key attributes: Primary key "
                      "attribute: %s",
                      knames[i]);
            goto out;
        }
        const json_t *qf = ddb_member(req, "QueryFilter");
        if (qf && json_object_get(qf, knames[i])) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "QueryFilter can only contain non-primary key attributes: Primary key "
                      "attribute: %s",
                      knames[i]);
            goto out;
        }
    }
    run(c, &q, &cur);
out:
    buf_destroy(&lo);
    buf_destroy(&hi);
    qstate_free(&q);
    ddb__finish(c);
}

/* ---- Scan ---- */

static void op_scan(struct ddb_call *c)
{
    struct qstate q = {0};
    const json_t *req = c->req;
    if (common_start(c, &q, DDB_LOP_SCAN) != 0)
        goto out;
    const json_t *seg = ddb_member(req, "Segment"), *tot = ddb_member(req, "TotalSegments");
    long long segment = ddb__int(req, "Segment", 0), total = ddb__int(req, "TotalSegments", 0);
    if (seg && segment != 0 && tot == NULL) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "The TotalSegments parameter is required but was not present in the request "
                  "when Segment parameter is present");
        goto out;
    }
    if (tot) {
        if (seg == NULL) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "The Segment parameter is required but was not present in the request when "
                      "parameter TotalSegments is present");
            goto out;
        }
        if (segment >= total) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "The Segment parameter is zero-based and must be less than parameter "
                      "TotalSegments: Segment: %lld is not less than TotalSegments: %lld",
                      segment, total);
            goto out;
        }
    }
    if (compile(c, &q) != 0 || check_select(c, &q, false) != 0 || find_target(c, &q) != 0)
        goto out;
    struct ddb_cursor cur = {.t = q.t, .x = q.x, .scan = true, .forward = true};
    if (total <= 0)
        total = 1;
    cur.h_lo = (uint32_t)(((uint64_t)segment << 32) / (uint64_t)total);
    cur.h_hi = (uint32_t)((((uint64_t)segment + 1) << 32) / (uint64_t)total - 1);
    if (start_key(c, &q, &cur) != 0)
        goto out;
    run(c, &q, &cur);
out:
    qstate_free(&q);
    ddb__finish(c);
}

void ddb__op_query(struct ddb_call *c)
{
    if (c->op == DDB_OP_QUERY)
        op_query(c);
    else
        op_scan(c);
}
