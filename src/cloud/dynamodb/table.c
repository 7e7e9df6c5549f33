/*
 * table.c — table metadata and the control plane: CreateTable, DescribeTable, ListTables,
 * UpdateTable (billing mode, throughput, GSIs added and removed, streams, SSE, table class,
 * deletion protection), DeleteTable, Update/DescribeTimeToLive,
 * Update/DescribeContinuousBackups, Tag/Untag/ListTagsOfResource, DescribeLimits,
 * DescribeEndpoints. A change is answered once its metadata row is durable.
 *
 * Messages follow DynamoDB (AWS-RECORDED.md §2 and dynalite's tests, which ran against it).
 * A table is ACTIVE as soon as it exists (CreateTable still answers CREATING, as DynamoDB
 * does); a GSI added to a table with items is CREATING (Backfilling) until its entries
 * are written.
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/jsonw.h"
#include "core/log.h"

#define MAX_TAGS 50

int ddb__counts_new(struct ddb *db, struct store_batch *b, int64_t id);
int ddb__meta_load(struct ddb *db,
                   int (*fn)(struct ddb *db, int64_t tid, const char *name, size_t nl,
                             const char *meta, size_t ml),
                   char *err, size_t errlen);
int ddb__counts_load(struct ddb *db);
int ddb__purge_load(struct ddb *db);
int ddb__ttl_row_add(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k);
int ddb__walk_committed(struct ddb *db, struct ddb_table *t,
                        bool (*fn)(void *arg, const struct ddb_skey *k,
                                   const struct ddb_value *item),
                        void *arg);

/* ---- lookups ---- */

static long find_pos(const struct ddb *db, const char *name, bool *hit)
{
    size_t lo = 0, hi = db->ntables;
    *hit = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(db->tables[mid]->name, name);
        if (c == 0) {
            *hit = true;
            return (long)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo;
}

struct ddb_table *ddb__table(const struct ddb *db, const char *name)
{
    bool hit;
    long i = find_pos(db, name, &hit);
    return hit ? db->tables[i] : NULL;
}

struct ddb_index *ddb__index(const struct ddb_table *t, const char *name)
{
    for (size_t i = 0; i < t->nidx; i++)
        if (strcmp(t->idx[i].name, name) == 0)
            return &t->idx[i];
    return NULL;
}

static int table_insert(struct ddb *db, struct ddb_table *t)
{
    bool hit;
    long pos = find_pos(db, t->name, &hit);
    if (hit)
        return -1;
    struct ddb_table **tables =
        ddb__grow(db->tables, db->ntables, &db->ctables, sizeof *tables, 16);
    if (tables == NULL)
        return -1;
    db->tables = tables;
    memmove(&db->tables[pos + 1], &db->tables[pos],
            (db->ntables - (size_t)pos) * sizeof *db->tables);
    db->tables[pos] = t;
    db->ntables++;
    return 0;
}

static void table_remove(struct ddb *db, struct ddb_table *t)
{
    bool hit;
    long pos = find_pos(db, t->name, &hit);
    if (!hit || db->tables[pos] != t)
        return;
    memmove(&db->tables[pos], &db->tables[pos + 1],
            (db->ntables - (size_t)pos - 1) * sizeof *db->tables);
    db->ntables--;
}

static void index_destroy(struct ddb_index *x)
{
    free(x->name);
    free(x->hash_name);
    free(x->range_name);
    for (size_t i = 0; i < x->nnonkey; i++)
        free(x->nonkey[i]);
    free(x->nonkey);
    buf_destroy(&x->bf_pk);
    buf_destroy(&x->bf_sk);
}

void ddb__table_free(struct ddb_table *t)
{
    if (t == NULL)
        return;
    free(t->name);
    free(t->hash_name);
    free(t->range_name);
    json_decref(t->attr_defs);
    for (size_t i = 0; i < t->nidx; i++)
        index_destroy(&t->idx[i]);
    free(t->idx);
    json_decref(t->stream);
    json_decref(t->sse);
    free(t->table_class);
    free(t->ttl_attr);
    json_decref(t->tags);
    free(t);
}

void ddb__table_arn(const struct ddb *db, const struct ddb_table *t, char *out, size_t cap)
{
    snprintf(out, cap, "arn:aws:dynamodb:%s:%s:table/%s", db->region, db->account, t->name);
}

bool ddb__is_key_attr(const struct ddb_table *t, const char *name, size_t len)
{
    const char *keys[2] = {t->hash_name, t->range_name};
    for (int i = 0; i < 2; i++)
        if (keys[i] && strlen(keys[i]) == len && memcmp(keys[i], name, len) == 0)
            return true;
    return false;
}

static enum ddb_type def_type(const json_t *defs, const char *name)
{
    size_t i;
    const json_t *d;
    json_array_foreach(defs, i, d)
    {
        const char *n = json_string_value(json_object_get(d, "AttributeName"));
        const char *ty = json_string_value(json_object_get(d, "AttributeType"));
        if (n && ty && strcmp(n, name) == 0)
            return ddb_type_from_name(ty, strlen(ty));
    }
    return DDB_NONE;
}

static void index_set_schema(struct ddb_index *x, const json_t *defs)
{
    x->ks.hash_name = x->hash_name;
    x->ks.hash_type = def_type(defs, x->hash_name);
    x->ks.range_name = x->range_name;
    x->ks.range_type = x->range_name ? def_type(defs, x->range_name) : DDB_NONE;
}

static void table_set_schema(struct ddb_table *t)
{
    t->ks.hash_name = t->hash_name;
    t->ks.hash_type = def_type(t->attr_defs, t->hash_name);
    t->ks.range_name = t->range_name;
    t->ks.range_type = t->range_name ? def_type(t->attr_defs, t->range_name) : DDB_NONE;
    for (size_t i = 0; i < t->nidx; i++)
        index_set_schema(&t->idx[i], t->attr_defs);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- loading ---- */

static int load_one(struct ddb *db, int64_t tid, const char *name, size_t nl, const char *meta,
                    size_t ml)
{
    json_error_t je;
    json_t *m = json_loadb(meta, ml, JSON_ALLOW_NUL, &je);
    struct ddb_table *t = calloc(1, sizeof *t);
    if (m == NULL || t == NULL) {
        json_decref(m);
        free(t);
        return -1;
    }
    t->tid = tid;
    t->name = strndup(name, nl);
    snprintf(t->id, sizeof t->id, "%s", json_string_value(json_object_get(m, "TableId")));
    t->created_ms = json_integer_value(json_object_get(m, "CreatedMs"));
    t->attr_defs = json_incref(json_object_get(m, "AttributeDefinitions"));
    t->hash_name = dup_or_null(json_string_value(json_object_get(m, "Hash")));
    t->range_name = dup_or_null(json_string_value(json_object_get(m, "Range")));
    const json_t *xs = json_object_get(m, "Indexes");
    t->nidx = json_array_size(xs);
    t->idx = calloc(t->nidx ? t->nidx : 1, sizeof *t->idx);
    for (size_t i = 0; t->idx && i < t->nidx; i++) {
        const json_t *xj = json_array_get(xs, i);
        struct ddb_index *x = &t->idx[i];
        x->name = dup_or_null(json_string_value(json_object_get(xj, "Name")));
        x->global = json_is_true(json_object_get(xj, "Global"));
        x->xid = json_integer_value(json_object_get(xj, "Xid"));
        x->hash_name = dup_or_null(json_string_value(json_object_get(xj, "Hash")));
        x->range_name = dup_or_null(json_string_value(json_object_get(xj, "Range")));
        x->proj = (enum ddb_proj)json_integer_value(json_object_get(xj, "Proj"));
        const json_t *nk = json_object_get(xj, "NonKey");
        x->nnonkey = json_array_size(nk);
        x->nonkey = calloc(x->nnonkey ? x->nnonkey : 1, sizeof *x->nonkey);
        for (size_t j = 0; x->nonkey && j < x->nnonkey; j++)
            x->nonkey[j] = dup_or_null(json_string_value(json_array_get(nk, j)));
        x->rcu = json_integer_value(json_object_get(xj, "Rcu"));
        x->wcu = json_integer_value(json_object_get(xj, "Wcu"));
        x->status = (enum ddb_status)json_integer_value(json_object_get(xj, "Status"));
        buf_init(&x->bf_pk, DDB_KEY_BYTES + 1);
        buf_init(&x->bf_sk, DDB_KEY_BYTES + 1);
        if (db->next_id <= x->xid)
            db->next_id = x->xid + 1;
    }
    t->ppr = json_is_true(json_object_get(m, "Ppr"));
    t->rcu = json_integer_value(json_object_get(m, "Rcu"));
    t->wcu = json_integer_value(json_object_get(m, "Wcu"));
    t->ppr_since_ms = json_integer_value(json_object_get(m, "PprSince"));
    t->stream = json_incref(json_object_get(m, "Stream"));
    snprintf(t->stream_label, sizeof t->stream_label, "%s",
             json_string_value(json_object_get(m, "StreamLabel"))
                 ? json_string_value(json_object_get(m, "StreamLabel"))
                 : "");
    t->sse = json_incref(json_object_get(m, "Sse"));
    t->table_class = dup_or_null(json_string_value(json_object_get(m, "TableClass")));
    t->deletion_protection = json_is_true(json_object_get(m, "DeletionProtection"));
    t->ttl_enabled = json_is_true(json_object_get(m, "TtlEnabled"));
    t->ttl_attr = dup_or_null(json_string_value(json_object_get(m, "TtlAttr")));
    t->pitr = json_is_true(json_object_get(m, "Pitr"));
    t->pitr_since_ms = json_integer_value(json_object_get(m, "PitrSince"));
    t->tags = json_incref(json_object_get(m, "Tags"));
    if (t->tags == NULL)
        t->tags = json_array();
    json_decref(m);
    if (t->name == NULL || t->idx == NULL || t->hash_name == NULL || t->attr_defs == NULL ||
        table_insert(db, t) != 0) {
        ddb__table_free(t);
        return -1;
    }
    table_set_schema(t);
    if (db->next_id <= tid)
        db->next_id = tid + 1;
    return 0;
}

int ddb__tables_load(struct ddb *db, char *err, size_t errlen)
{
    db->next_id = 1;
    if (ddb__meta_load(db, load_one, err, errlen) != 0)
        return -1;
    if (ddb__counts_load(db) != 0 || ddb__purge_load(db) != 0) {
        snprintf(err, errlen, "cannot load the DynamoDB counters");
        return -1;
    }
    return 0;
}

/* ---- descriptions ---- */

static void w_time(struct jsonw *w, const char *key, int64_t ms)
{
    char num[64];
    int n =
        snprintf(num, sizeof num, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
    jw_key(w, key);
    jw_raw(w, num, (size_t)n);
}

static void w_key_schema(struct jsonw *w, const char *hash, const char *range)
{
    jw_key(w, "KeySchema");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "AttributeName", hash);
    jw_kstr(w, "KeyType", "HASH");
    jw_obj_end(w);
    if (range) {
        jw_obj(w);
        jw_kstr(w, "AttributeName", range);
        jw_kstr(w, "KeyType", "RANGE");
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void w_throughput(struct jsonw *w, int64_t rcu, int64_t wcu)
{
    jw_key(w, "ProvisionedThroughput");
    jw_obj(w);
    jw_kint(w, "NumberOfDecreasesToday", 0);
    jw_kint(w, "ReadCapacityUnits", rcu);
    jw_kint(w, "WriteCapacityUnits", wcu);
    jw_obj_end(w);
}

static void w_warm(struct jsonw *w, bool ppr, int64_t rcu, int64_t wcu)
{
    jw_key(w, "WarmThroughput");
    jw_obj(w);
    jw_kint(w, "ReadUnitsPerSecond", ppr ? 12000 : rcu);
    jw_kint(w, "WriteUnitsPerSecond", ppr ? 4000 : wcu);
    jw_kstr(w, "Status", "ACTIVE");
    jw_obj_end(w);
}

static const char *status_name(enum ddb_status s)
{
    static const char *const names[] = {"ACTIVE", "CREATING", "DELETING", "UPDATING"};
    return names[s];
}

static const char *proj_name(enum ddb_proj p)
{
    static const char *const names[] = {"ALL", "KEYS_ONLY", "INCLUDE"};
    return names[p];
}

enum desc_mode { DESC_CREATE, DESC_DESCRIBE, DESC_UPDATE, DESC_DELETE };

static void w_table(const struct ddb *db, const struct ddb_table *t, enum desc_mode mode,
                    struct jsonw *w)
{
    char arn[512];
    ddb__table_arn(db, t, arn, sizeof arn);
    jw_obj(w);
    if (mode == DESC_DELETE) {
        jw_kbool(w, "DeletionProtectionEnabled", false);
        jw_kint(w, "ItemCount", t->items);
        w_throughput(w, t->ppr ? 0 : t->rcu, t->ppr ? 0 : t->wcu);
        jw_kstr(w, "TableArn", arn);
        jw_kstr(w, "TableId", t->id);
        jw_kstr(w, "TableName", t->name);
        jw_kint(w, "TableSizeBytes", t->bytes);
        jw_kstr(w, "TableStatus", "DELETING");
        jw_obj_end(w);
        return;
    }
    jw_key(w, "AttributeDefinitions");
    jw_json(w, t->attr_defs);
    jw_kstr(w, "TableName", t->name);
    w_key_schema(w, t->hash_name, t->range_name);
    jw_kstr(w, "TableStatus",
            mode == DESC_CREATE   ? "CREATING"
            : mode == DESC_UPDATE ? "UPDATING"
                                  : "ACTIVE");
    w_time(w, "CreationDateTime", t->created_ms);
    w_throughput(w, t->ppr ? 0 : t->rcu, t->ppr ? 0 : t->wcu);
    jw_kint(w, "TableSizeBytes", t->bytes);
    jw_kint(w, "ItemCount", t->items);
    jw_kstr(w, "TableArn", arn);
    jw_kstr(w, "TableId", t->id);
    if (t->ppr) {
        jw_key(w, "BillingModeSummary");
        jw_obj(w);
        jw_kstr(w, "BillingMode", "PAY_PER_REQUEST");
        if (mode != DESC_CREATE)
            w_time(w, "LastUpdateToPayPerRequestDateTime", t->ppr_since_ms);
        jw_obj_end(w);
    }
    for (int global = 0; global < 2; global++) {
        bool any = false;
        for (size_t i = 0; i < t->nidx; i++)
            any = any || t->idx[i].global == (bool)global;
        if (!any)
            continue;
        jw_key(w, global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
        jw_arr(w);
        for (size_t i = 0; i < t->nidx; i++) {
            const struct ddb_index *x = &t->idx[i];
            if (x->global != (bool)global)
                continue;
            jw_obj(w);
            jw_kstr(w, "IndexName", x->name);
            w_key_schema(w, x->hash_name, x->range_name);
            jw_key(w, "Projection");
            jw_obj(w);
            jw_kstr(w, "ProjectionType", proj_name(x->proj));
            if (x->proj == DDB_PROJ_INCLUDE) {
                jw_key(w, "NonKeyAttributes");
                jw_arr(w);
                for (size_t j = 0; j < x->nnonkey; j++)
                    jw_str(w, x->nonkey[j]);
                jw_arr_end(w);
            }
            jw_obj_end(w);
            if (global) {
                enum ddb_status st = x->status;
                if (mode == DESC_CREATE && st == DDB_ACTIVE)
                    st = DDB_CREATING;
                jw_kstr(w, "IndexStatus", status_name(st));
                if (x->status == DDB_CREATING)
                    jw_kbool(w, "Backfilling", true);
                w_throughput(w, t->ppr ? 0 : x->rcu, t->ppr ? 0 : x->wcu);
            }
            jw_kint(w, "IndexSizeBytes", x->bytes);
            jw_kint(w, "ItemCount", x->items);
            char xarn[800];
            snprintf(xarn, sizeof xarn, "%s/index/%s", arn, x->name);
            jw_kstr(w, "IndexArn", xarn);
            if (global && mode == DESC_DESCRIBE)
                w_warm(w, t->ppr, x->rcu, x->wcu);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    if (t->stream && json_is_true(json_object_get(t->stream, "StreamEnabled"))) {
        jw_key(w, "StreamSpecification");
        jw_json(w, t->stream);
        jw_kstr(w, "LatestStreamLabel", t->stream_label);
        char sarn[900];
        snprintf(sarn, sizeof sarn, "%s/stream/%s", arn, t->stream_label);
        jw_kstr(w, "LatestStreamArn", sarn);
    }
    if (t->sse && json_is_true(json_object_get(t->sse, "Enabled"))) {
        jw_key(w, "SSEDescription");
        jw_obj(w);
        jw_kstr(w, "Status", "ENABLED");
        jw_kstr(w, "SSEType", "KMS");
        const char *key = json_string_value(json_object_get(t->sse, "KMSMasterKeyId"));
        char karn[600];
        if (key && strncmp(key, "arn:", 4) == 0)
            snprintf(karn, sizeof karn, "%s", key);
        else
            snprintf(karn, sizeof karn, "arn:aws:kms:%s:%s:key/%s", db->region, db->account,
                     key ? key : "aws/dynamodb");
        jw_kstr(w, "KMSMasterKeyArn", karn);
        jw_obj_end(w);
    }
    if (t->table_class) {
        jw_key(w, "TableClassSummary");
        jw_obj(w);
        jw_kstr(w, "TableClass", t->table_class);
        jw_obj_end(w);
    }
    jw_kbool(w, "DeletionProtectionEnabled", t->deletion_protection);
    if (mode == DESC_DESCRIBE)
        w_warm(w, t->ppr, t->rcu, t->wcu);
    jw_obj_end(w);
}

static void answer_table(struct ddb_call *c, const char *member, const struct ddb_table *t,
                         enum desc_mode mode)
{
    struct jsonw w;
    jw_init(&w, &c->out);
    jw_obj(&w);
    jw_key(&w, member);
    w_table(c->db, t, mode, &w);
    jw_obj_end(&w);
}

/* ---- committing a metadata change ---- */

struct meta_op {
    struct ddb_call *c;
    struct ddb_table *t; /* busy_ops held */
};

static void meta_done(void *arg, int rc)
{
    struct meta_op *m = arg;
    struct ddb_call *c = m->c;
    if (rc != 0) {
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    }
    if (--m->t->busy_ops == 0 && m->t->status == DDB_DELETING)
        ddb__table_free(m->t);
    free(m);
    struct ddb *db = c->db;
    ddb__reply(c);
    ddb__bg_kick(db);
}

/* Submits b for c (its answer already in c->out): answered when durable. */
static void commit(struct ddb_call *c, struct ddb_table *t, struct store_batch *b)
{
    struct meta_op *m = calloc(1, sizeof *m);
    if (m == NULL) {
        store_batch_discard(b);
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        ddb__finish(c);
        return;
    }
    m->c = c;
    m->t = t;
    t->busy_ops++;
    store_batch_submit(c->db->store, b, meta_done, m);
}

/* The metadata of t in a new batch, then commit. */
static void commit_meta(struct ddb_call *c, struct ddb_table *t)
{
    struct store_batch *b = store_batch_new(c->db->store);
    if (b != NULL && ddb__meta_put(c->db, b, t) != 0) {
        store_batch_discard(b);
        b = NULL;
    }
    commit(c, t, b);
}

/* ---- CreateTable ---- */

static void names_list(struct buf *b, const json_t *arr, const char *member)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *n = ddb__str(e, member);
        buf_printf(b, "%s%s", i ? ", " : "", n ? n : "null");
    }
}

static bool defined(const json_t *defs, const char *name)
{
    return name && def_type(defs, name) != DDB_NONE;
}

/* "Some index key attributes are not defined in AttributeDefinitions" (or, when unused,
 * "Some AttributeDefinitions are not used") with the names of KeySchema ks and of defs.
 * Returns -1. */
static int fail_key_names(struct ddb_call *c, const json_t *ks, const json_t *defs, bool unused)
{
    struct buf keys, ds;
    buf_init(&keys, 8192);
    buf_init(&ds, 8192);
    names_list(&keys, ks, "AttributeName");
    names_list(&ds, defs, "AttributeName");
    const char *k = keys.data ? keys.data : "", *d = ds.data ? ds.data : "";
    if (unused)
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: Some AttributeDefinitions are not "
                  "used. AttributeDefinitions: [%s], keys used: [%s]",
                  d, k);
    else
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: Some index key attributes are not "
                  "defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]",
                  k, d);
    buf_destroy(&keys);
    buf_destroy(&ds);
    return -1;
}

/* The names and types of KeySchema ks's elements (a HASH, then maybe a RANGE). */
static int check_key_types(struct ddb_call *c, const json_t *ks)
{
    const json_t *k0 = json_array_get(ks, 0), *k1 = json_array_get(ks, 1);
    const char *t0 = ddb__str(k0, "KeyType"), *t1 = ddb__str(k1, "KeyType");
    if (k1 && strcmp(ddb__str(k0, "AttributeName"), ddb__str(k1, "AttributeName")) == 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Both the Hash Key and the Range Key element in the KeySchema have the "
                         "same name");
    if (strcmp(t0 ? t0 : "", "HASH") != 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
    if (k1 && strcmp(t1 ? t1 : "", "RANGE") != 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
    return 0;
}

/* Checks an index's key schema and projection (CreateTable and UpdateTable). */
static int check_index(struct ddb_call *c, const json_t *xj, const json_t *defs, bool lsi,
                       const char *table_hash, bool ppr, bool provisioned_checks)
{
    const json_t *ks = json_object_get(xj, "KeySchema");
    const char *name = ddb__str(xj, "IndexName");
    bool all_defined = true;
    size_t i;
    const json_t *k;
    json_array_foreach(ks, i, k) all_defined =
        all_defined && defined(defs, ddb__str(k, "AttributeName"));
    if (!all_defined)
        return fail_key_names(c, ks, defs, false);
    if (check_key_types(c, ks) != 0)
        return -1;
    const json_t *k0 = json_array_get(ks, 0), *k1 = json_array_get(ks, 1);
    if (lsi) {
        if (k1 == NULL)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: Index KeySchema does not "
                             "have a range key for index: %s",
                             name);
        const char *ih = ddb__str(k0, "AttributeName");
        if (strcmp(ih, table_hash) != 0)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: Index KeySchema does not "
                             "have the same leading hash key as table KeySchema for index: %s. "
                             "index hash key: %s, table hash key: %s",
                             name, ih, table_hash);
    }
    const json_t *proj = json_object_get(xj, "Projection");
    const char *pt = ddb__str(proj, "ProjectionType");
    const json_t *nk = json_object_get(proj, "NonKeyAttributes");
    if (pt == NULL)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: Unknown ProjectionType: null");
    if (nk && !json_is_null(nk) && strcmp(pt, "INCLUDE") != 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: ProjectionType is %s, but "
                         "NonKeyAttributes is specified",
                         pt);
    if ((nk == NULL || json_is_null(nk)) && strcmp(pt, "INCLUDE") == 0)
        return ddb__fail(
            c, ERR_DDB_VALIDATION,
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
            "NonKeyAttributes is not specified");
    for (size_t a = 0; a < json_array_size(nk); a++)
        for (size_t b = 0; b < a; b++)
            if (json_equal(json_array_get(nk, a), json_array_get(nk, b)))
                return ddb__fail(c, ERR_DDB_VALIDATION,
                                 "One or more parameter values were invalid: Duplicate element in "
                                 "NonKeyAttributes: %s",
                                 json_string_value(json_array_get(nk, a)));
    if (!lsi && provisioned_checks) {
        const json_t *pt_j = ddb_member(xj, "ProvisionedThroughput");
        if (ppr && pt_j)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: ProvisionedThroughput "
                             "should not be specified for index: %s when BillingMode is "
                             "PAY_PER_REQUEST",
                             name);
        if (!ppr && pt_j == NULL)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: ProvisionedThroughput is "
                             "not specified for index: %s",
                             name);
    }
    return 0;
}

static int fill_index(struct ddb_index *x, const json_t *xj, bool global, int64_t xid,
                      const json_t *defs)
{
    const json_t *ks = json_object_get(xj, "KeySchema");
    x->name = strdup(ddb__str(xj, "IndexName"));
    x->global = global;
    x->xid = xid;
    x->hash_name = strdup(ddb__str(json_array_get(ks, 0), "AttributeName"));
    const char *r = ddb__str(json_array_get(ks, 1), "AttributeName");
    x->range_name = dup_or_null(r);
    const json_t *proj = json_object_get(xj, "Projection");
    const char *pt = ddb__str(proj, "ProjectionType");
    x->proj = strcmp(pt, "ALL") == 0         ? DDB_PROJ_ALL
              : strcmp(pt, "KEYS_ONLY") == 0 ? DDB_PROJ_KEYS_ONLY
                                             : DDB_PROJ_INCLUDE;
    const json_t *nk = json_object_get(proj, "NonKeyAttributes");
    x->nnonkey = json_array_size(nk);
    x->nonkey = calloc(x->nnonkey ? x->nnonkey : 1, sizeof *x->nonkey);
    if (x->nonkey == NULL)
        return -1;
    for (size_t i = 0; i < x->nnonkey; i++)
        x->nonkey[i] = strdup(json_string_value(json_array_get(nk, i)));
    const json_t *pt_j = ddb_member(xj, "ProvisionedThroughput");
    x->rcu = pt_j ? json_integer_value(json_object_get(pt_j, "ReadCapacityUnits")) : 0;
    x->wcu = pt_j ? json_integer_value(json_object_get(pt_j, "WriteCapacityUnits")) : 0;
    x->status = DDB_ACTIVE;
    buf_init(&x->bf_pk, DDB_KEY_BYTES + 1);
    buf_init(&x->bf_sk, DDB_KEY_BYTES + 1);
    index_set_schema(x, defs);
    return x->name && x->hash_name && (r == NULL || x->range_name) ? 0 : -1;
}

static int check_throughput_bounds(struct ddb_call *c, const json_t *pt, const char *index)
{
    static const char *const names[] = {"ReadCapacityUnits", "WriteCapacityUnits"};
    for (int i = 0; pt && i < 2; i++) {
        long long v = ddb__int(pt, names[i], 0);
        if (v > 1000000000000LL) {
            if (index)
                return ddb__fail(c, ERR_DDB_VALIDATION,
                                 "Given value %lld for %s is out of bounds for index %s", v,
                                 names[i], index);
            return ddb__fail(c, ERR_DDB_VALIDATION, "Given value %lld for %s is out of bounds", v,
                             names[i]);
        }
    }
    return 0;
}

static int check_stream(struct ddb_call *c, const json_t *s, bool create)
{
    if (s == NULL)
        return 0;
    bool on = ddb__bool(s, "StreamEnabled", false);
    bool view = ddb_member(s, "StreamViewType") != NULL;
    if (on && !view)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         create ? "One or more parameter values were invalid: Table is being "
                                  "created with a stream enabled, UpdateViewType is required"
                                : "One or more parameter values were invalid: If stream is being "
                                  "enabled then UpdateViewType is required");
    if (!on && view)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         create ? "One or more parameter values were invalid: Table is being "
                                  "created with a stream disabled, UpdateViewType should not be "
                                  "specified"
                                : "One or more parameter values were invalid: If stream is being "
                                  "disabled, then UpdateViewType must not be specified");
    return 0;
}

static int check_sse(struct ddb_call *c, const json_t *s)
{
    if (s == NULL)
        return 0;
    bool on = ddb__bool(s, "Enabled", false);
    const char *type = ddb__str(s, "SSEType");
    bool key = ddb_member(s, "KMSMasterKeyId") != NULL;
    if (!on && type)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: SSEType can not be specified "
                         "if Enabled is false");
    if (!on && key)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: KMSMasterKeyId can not be "
                         "specified if Enabled is false");
    if (type && strcmp(type, "AES256") == 0)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: SSEType AES256 is not "
                         "supported");
    if (key && type == NULL)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "One or more parameter values were invalid: SSEType KMS is required if "
                         "KMSMasterKeyId is specified");
    return 0;
}

/* Tag keys and values (CreateTable and TagResource). */
static int check_tags(struct ddb_call *c, const json_t *tags)
{
    size_t i;
    const json_t *tg;
    json_array_foreach(tags, i, tg)
    {
        const char *k = ddb__str(tg, "Key");
        if (k && strncmp(k, "aws:", 4) == 0)
            return ddb__fail(c, ERR_DDB_VALIDATION, "Tag Key cannot be prefixed with aws:, Key: %s",
                             k);
        for (size_t j = 0; j < i; j++) {
            const char *o = ddb__str(json_array_get(tags, j), "Key");
            if (k && o && strcmp(k, o) == 0)
                return ddb__fail(c, ERR_DDB_VALIDATION,
                                 "Duplicate Tag Keys provided as input: Duplicate Tag Key found %s",
                                 k);
        }
    }
    return 0;
}

static void set_tags(json_t *cur, const json_t *add)
{
    size_t i;
    const json_t *tg;
    json_array_foreach(add, i, tg)
    {
        const char *k = ddb__str(tg, "Key");
        const char *v = ddb__str(tg, "Value");
        bool done = false;
        size_t j;
        json_t *e;
        json_array_foreach(cur, j, e)
        {
            if (strcmp(ddb__str(e, "Key"), k) == 0) {
                json_object_set_new(e, "Value", json_string(v ? v : ""));
                done = true;
            }
        }
        if (!done)
            json_array_append_new(cur, json_pack("{s:s, s:s}", "Key", k, "Value", v ? v : ""));
    }
}

static size_t tags_after(const json_t *cur, const json_t *add)
{
    size_t n = json_array_size(cur);
    size_t i;
    const json_t *tg;
    json_array_foreach(add, i, tg)
    {
        bool found = false;
        size_t j;
        const json_t *e;
        json_array_foreach(cur, j, e) found =
            found || strcmp(ddb__str(e, "Key"), ddb__str(tg, "Key")) == 0;
        n += !found;
    }
    return n;
}

/* "Duplicate index name" when an index of list[0..n) has index xj's name. */
static int check_index_name(struct ddb_call *c, const json_t *xj, const json_t *list, size_t n)
{
    const char *name = ddb__str(xj, "IndexName");
    for (size_t j = 0; j < n; j++)
        if (strcmp(name, ddb__str(json_array_get(list, j), "IndexName")) == 0)
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: Duplicate index name: %s",
                             name);
    return 0;
}

/* The stream of t as StreamSpecification spec sets it (a new label from now_ms). */
static void set_stream(struct ddb_table *t, const json_t *spec, int64_t now_ms)
{
    json_decref(t->stream);
    t->stream = NULL;
    if (!ddb__bool(spec, "StreamEnabled", false))
        return;
    t->stream = json_pack("{s:b, s:s}", "StreamEnabled", 1, "StreamViewType",
                          ddb__str(spec, "StreamViewType"));
    clock_format_iso(now_ms, true, t->stream_label, sizeof t->stream_label);
    t->stream_label[23] = '\0';
}

static struct ddb_table *table_new(struct ddb *db, const char *name)
{
    struct ddb_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->name = strdup(name);
    t->tid = db->next_id++;
    ids_uuid4(t->id);
    t->created_ms = clock_now_ms();
    t->tags = json_array();
    return t;
}

static void op_create_table(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    const json_t *defs = json_object_get(req, "AttributeDefinitions");
    const json_t *ks = json_object_get(req, "KeySchema");
    const json_t *pt = ddb_member(req, "ProvisionedThroughput");
    const json_t *lsis = ddb_member(req, "LocalSecondaryIndexes");
    const json_t *gsis = ddb_member(req, "GlobalSecondaryIndexes");
    const char *billing = ddb__str(req, "BillingMode");
    const char *name = ddb__str(req, "TableName");
    bool ppr = billing && strcmp(billing, "PAY_PER_REQUEST") == 0;
    struct ddb_table *t = NULL;
    if (check_throughput_bounds(c, pt, NULL) != 0)
        goto out;
    if (ppr && pt)
        goto fail_ppr;
    if (!ppr && pt == NULL) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  billing ? "One or more parameter values were invalid: ReadCapacityUnits and "
                            "WriteCapacityUnits must both be specified when BillingMode is "
                            "PROVISIONED"
                          : "No provisioned throughput specified for the table");
        goto out;
    }
    /* attribute definitions */
    for (size_t i = 0; i < json_array_size(defs); i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(ddb__str(json_array_get(defs, i), "AttributeName"),
                       ddb__str(json_array_get(defs, j), "AttributeName")) == 0) {
                ddb__fail(c, ERR_DDB_VALIDATION, "Attribute Name is duplicated: %s",
                          ddb__str(json_array_get(defs, i), "AttributeName"));
                goto out;
            }
    size_t nk = json_array_size(ks);
    const char *k0 = ddb__str(json_array_get(ks, 0), "AttributeName");
    const char *k1 = nk > 1 ? ddb__str(json_array_get(ks, 1), "AttributeName") : NULL;
    if (nk == 2 && (!defined(defs, k0) || !defined(defs, k1) ||
                    (strcmp(k0, k1) == 0 && json_array_size(defs) == 1))) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Invalid KeySchema: Some index key attribute have no definition");
        goto out;
    }
    if ((nk == 1 && !defined(defs, k0) && fail_key_names(c, ks, defs, false) != 0) ||
        check_key_types(c, ks) != 0)
        goto out;
    if (lsis == NULL && gsis == NULL && nk != json_array_size(defs)) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: Number of attributes in KeySchema "
                  "does not exactly match number of attributes defined in AttributeDefinitions");
        goto out;
    }
    if (lsis) {
        if (json_array_size(lsis) == 0) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: List of LocalSecondaryIndexes is "
                      "empty");
            goto out;
        }
        if (nk != 2) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: Table KeySchema does not have a "
                      "range key, which is required when specifying a LocalSecondaryIndex");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(lsis); i++) {
            const json_t *x = json_array_get(lsis, i);
            if (check_index(c, x, defs, true, k0, ppr, false) != 0 ||
                check_index_name(c, x, lsis, i) != 0)
                goto out;
        }
        if (json_array_size(lsis) > DDB_MAX_LSI) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: Number of LocalSecondaryIndexes "
                      "exceeds per-table limit of %d",
                      DDB_MAX_LSI);
            goto out;
        }
    }
    if (gsis) {
        if (json_array_size(gsis) == 0) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: List of GlobalSecondaryIndexes "
                      "is empty");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(gsis); i++) {
            const json_t *x = json_array_get(gsis, i);
            if (check_index(c, x, defs, false, k0, ppr, true) != 0 ||
                check_throughput_bounds(c, ddb_member(x, "ProvisionedThroughput"),
                                        ddb__str(x, "IndexName")) != 0 ||
                check_index_name(c, x, lsis, json_array_size(lsis)) != 0 ||
                check_index_name(c, x, gsis, i) != 0)
                goto out;
        }
        if (json_array_size(gsis) > DDB_MAX_INDEXES) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: GlobalSecondaryIndex count "
                      "exceeds the per-table limit of %d",
                      DDB_MAX_INDEXES);
            goto out;
        }
    }
    /* every definition must be a key somewhere */
    for (size_t i = 0; i < json_array_size(defs); i++) {
        const char *d = ddb__str(json_array_get(defs, i), "AttributeName");
        bool used = strcmp(d, k0) == 0 || (k1 && strcmp(d, k1) == 0);
        const json_t *lists[2] = {lsis, gsis};
        for (int l = 0; l < 2 && !used; l++)
            for (size_t j = 0; j < json_array_size(lists[l]) && !used; j++) {
                const json_t *xks = json_object_get(json_array_get(lists[l], j), "KeySchema");
                for (size_t m = 0; m < json_array_size(xks); m++)
                    used =
                        used || strcmp(ddb__str(json_array_get(xks, m), "AttributeName"), d) == 0;
            }
        if (!used) {
            fail_key_names(c, ks, defs, true);
            goto out;
        }
    }
    if (check_stream(c, ddb_member(req, "StreamSpecification"), true) != 0 ||
        check_sse(c, ddb_member(req, "SSESpecification")) != 0 ||
        check_tags(c, ddb_member(req, "Tags")) != 0)
        goto out;
    if (json_array_size(ddb_member(req, "Tags")) > MAX_TAGS) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Number of Tags exceed the current limit for the provided ResourceArn");
        goto out;
    }
    if (ddb__table(db, name) != NULL) {
        ddb__fail(c, ERR_DDB_RESOURCE_IN_USE, "Table already exists: %s", name);
        goto out;
    }
    t = table_new(db, name);
    if (t == NULL)
        goto oom;
    t->attr_defs = json_deep_copy(defs);
    t->hash_name = strdup(k0);
    t->range_name = dup_or_null(k1);
    t->ppr = ppr;
    t->ppr_since_ms = ppr ? t->created_ms : 0;
    t->rcu = pt ? ddb__int(pt, "ReadCapacityUnits", 0) : 0;
    t->wcu = pt ? ddb__int(pt, "WriteCapacityUnits", 0) : 0;
    size_t nidx = json_array_size(lsis) + json_array_size(gsis);
    t->idx = calloc(nidx ? nidx : 1, sizeof *t->idx);
    if (t->idx == NULL || t->name == NULL || t->hash_name == NULL)
        goto oom;
    for (int g = 0; g < 2; g++) {
        const json_t *list = g ? gsis : lsis;
        for (size_t i = 0; i < json_array_size(list); i++) {
            struct ddb_index *x = &t->idx[t->nidx++];
            if (fill_index(x, json_array_get(list, i), g == 1, db->next_id++, defs) != 0)
                goto oom;
        }
    }
    const json_t *stream = ddb_member(req, "StreamSpecification");
    if (stream)
        set_stream(t, stream, t->created_ms);
    const json_t *sse = ddb_member(req, "SSESpecification");
    if (sse)
        t->sse = json_deep_copy(sse);
    if (ddb__str(req, "TableClass"))
        t->table_class = strdup(ddb__str(req, "TableClass"));
    t->deletion_protection = ddb__bool(req, "DeletionProtectionEnabled", false);
    if (ddb_member(req, "Tags"))
        set_tags(t->tags, ddb_member(req, "Tags"));
    table_set_schema(t);
    struct store_batch *b = store_batch_new(db->store);
    if (b == NULL || ddb__meta_put(db, b, t) != 0 || ddb__counts_new(db, b, t->tid) != 0) {
        store_batch_discard(b);
        goto oom;
    }
    for (size_t i = 0; i < t->nidx; i++)
        ddb__counts_new(db, b, t->idx[i].xid);
    if (table_insert(db, t) != 0) {
        store_batch_discard(b);
        goto oom;
    }
    answer_table(c, "TableDescription", t, DESC_CREATE);
    LOG_INFO("dynamodb", NULL, "table %s created", t->name);
    commit(c, t, b);
    return;
fail_ppr:
    ddb__fail(c, ERR_DDB_VALIDATION,
              "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
              "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    goto out;
oom:
    ddb__table_free(t);
    ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
out:
    ddb__finish(c);
}

/* ---- DescribeTable, ListTables, DeleteTable ---- */

static struct ddb_table *need_table(struct ddb_call *c)
{
    const char *name = ddb__str(c->req, "TableName");
    struct ddb_table *t = ddb__table(c->db, name);
    if (t == NULL)
        ddb__not_found(c, name, true);
    return t;
}

static void op_describe_table(struct ddb_call *c)
{
    struct ddb_table *t = need_table(c);
    if (t != NULL)
        answer_table(c, "Table", t, DESC_DESCRIBE);
    ddb__finish(c);
}

static void op_list_tables(struct ddb_call *c)
{
    struct ddb *db = c->db;
    long long limit = ddb__int(c->req, "Limit", 100);
    const char *start = ddb__str(c->req, "ExclusiveStartTableName");
    struct jsonw w;
    jw_init(&w, &c->out);
    jw_obj(&w);
    jw_key(&w, "TableNames");
    jw_arr(&w);
    size_t i = 0;
    if (start) {
        bool hit;
        i = (size_t)find_pos(db, start, &hit);
        if (hit)
            i++;
    }
    long long n = 0;
    const char *last = NULL;
    for (; i < db->ntables && n < limit; i++, n++) {
        jw_str(&w, db->tables[i]->name);
        last = db->tables[i]->name;
    }
    jw_arr_end(&w);
    if (i < db->ntables && last)
        jw_kstr(&w, "LastEvaluatedTableName", last);
    jw_obj_end(&w);
    ddb__finish(c);
}

static void op_delete_table(struct ddb_call *c)
{
    struct ddb *db = c->db;
    struct ddb_table *t = need_table(c);
    if (t == NULL)
        goto out;
    if (t->deletion_protection) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Resource cannot be deleted as it is currently protected against deletion. "
                  "Disable deletion protection first.");
        goto out;
    }
    struct store_batch *b = store_batch_new(db->store);
    if (b == NULL || ddb__meta_del(db, b, t) != 0 || ddb__purge_add(db, b, t->tid, false) != 0) {
        store_batch_discard(b);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    for (size_t i = 0; i < t->nidx; i++)
        ddb__purge_add(db, b, t->idx[i].xid, true);
    answer_table(c, "TableDescription", t, DESC_DELETE);
    table_remove(db, t);
    t->status = DDB_DELETING;
    LOG_INFO("dynamodb", NULL, "table %s deleted", t->name);
    commit(c, t, b);
    return;
out:
    ddb__finish(c);
}

/* ---- UpdateTable ---- */

static int gsi_create(struct ddb_call *c, struct ddb_table *t, const json_t *cr, const json_t *defs)
{
    const char *name = ddb__str(cr, "IndexName");
    if (ddb__index(t, name) != NULL)
        return ddb__fail(c, ERR_DDB_VALIDATION,
                         "Attempting to create an index which already exists");
    const json_t *ks = json_object_get(cr, "KeySchema");
    for (size_t i = 0; i < json_array_size(ks); i++) {
        const char *a = ddb__str(json_array_get(ks, i), "AttributeName");
        if (!defined(defs, a) && !defined(t->attr_defs, a))
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: AttributeDefinitions is "
                             "not specified for index: %s",
                             name);
    }
    json_t *merged = json_deep_copy(t->attr_defs);
    for (size_t i = 0; i < json_array_size(defs); i++) {
        const json_t *d = json_array_get(defs, i);
        enum ddb_type old = def_type(t->attr_defs, ddb__str(d, "AttributeName"));
        const char *ty = ddb__str(d, "AttributeType");
        if (old != DDB_NONE && old != ddb_type_from_name(ty, strlen(ty))) {
            json_decref(merged);
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "One or more parameter values were invalid: Cannot update attribute "
                             "%s. This attribute is part of the key",
                             ddb__str(d, "AttributeName"));
        }
        if (old == DDB_NONE)
            json_array_append(merged, (json_t *)d);
    }
    if (check_index(c, cr, merged, false, t->hash_name, t->ppr, true) != 0) {
        json_decref(merged);
        return -1;
    }
    size_t nglobal = 0;
    for (size_t i = 0; i < t->nidx; i++)
        nglobal += t->idx[i].global;
    if (nglobal >= DDB_MAX_INDEXES) {
        json_decref(merged);
        return ddb__fail(c, ERR_DDB_LIMIT_EXCEEDED,
                         "Subscriber limit exceeded: The number of global secondary indexes "
                         "exceeds the per-table limit of %d",
                         DDB_MAX_INDEXES);
    }
    struct ddb_index *n = realloc(t->idx, (t->nidx + 1) * sizeof *n);
    if (n == NULL) {
        json_decref(merged);
        return ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    }
    t->idx = n;
    struct ddb_index *x = &t->idx[t->nidx];
    memset(x, 0, sizeof *x);
    if (fill_index(x, cr, true, c->db->next_id++, merged) != 0) {
        index_destroy(x);
        json_decref(merged);
        return ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    }
    t->nidx++;
    json_decref(t->attr_defs);
    t->attr_defs = merged;
    table_set_schema(t);
    /* an empty table needs no backfill */
    x->status = t->items > 0 || t->npend > 0 ? DDB_CREATING : DDB_ACTIVE;
    return 0;
}

static void op_update_table(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    const json_t *pt = ddb_member(req, "ProvisionedThroughput");
    const json_t *gu = ddb_member(req, "GlobalSecondaryIndexUpdates");
    const json_t *defs = ddb_member(req, "AttributeDefinitions");
    const char *billing = ddb__str(req, "BillingMode");
    const json_t *stream = ddb_member(req, "StreamSpecification");
    const json_t *sse = ddb_member(req, "SSESpecification");
    const char *tclass = ddb__str(req, "TableClass");
    const json_t *dp = ddb_member(req, "DeletionProtectionEnabled");
    if (!pt && !billing && !stream && !gu && !sse && !dp && !tclass) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                  "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
                  "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
                  "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is "
                  "required");
        goto out;
    }
    if (check_throughput_bounds(c, pt, NULL) != 0)
        goto out;
    for (size_t i = 0; i < json_array_size(gu); i++) {
        const json_t *u = json_array_get(gu, i);
        const json_t *up = ddb_member(u, "Update"), *cr = ddb_member(u, "Create"),
                     *de = ddb_member(u, "Delete");
        if (!up && !cr && !de) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: One of "
                      "GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                      "GlobalSecondaryIndexUpdate.Delete must not be null");
            goto out;
        }
        if ((up != NULL) + (cr != NULL) + (de != NULL) > 1) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: Only one global secondary index "
                      "action is allowed per GlobalSecondaryIndexUpdate object");
            goto out;
        }
        const char *xn = ddb__str(up ? up : cr ? cr : de, "IndexName");
        for (size_t j = 0; j < i; j++) {
            const json_t *o = json_array_get(gu, j);
            const json_t *oo = ddb_member(o, "Update")   ? ddb_member(o, "Update")
                               : ddb_member(o, "Create") ? ddb_member(o, "Create")
                                                         : ddb_member(o, "Delete");
            if (oo && xn && strcmp(ddb__str(oo, "IndexName"), xn) == 0) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "One or more parameter values were invalid: Only one global secondary "
                          "index update per index is allowed simultaneously. Index: %s",
                          xn);
                goto out;
            }
        }
        if (up && check_throughput_bounds(c, ddb_member(up, "ProvisionedThroughput"), xn) != 0)
            goto out;
    }
    if (check_stream(c, stream, false) != 0 || check_sse(c, sse) != 0)
        goto out;
    struct ddb_table *t = need_table(c);
    if (t == NULL)
        goto out;
    bool to_ppr = billing && strcmp(billing, "PAY_PER_REQUEST") == 0;
    bool to_prov = billing && strcmp(billing, "PROVISIONED") == 0;
    if (to_ppr && pt) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                  "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
        goto out;
    }
    if (to_prov && t->ppr && pt == NULL) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: ProvisionedThroughput must be "
                  "specified when BillingMode is PROVISIONED");
        goto out;
    }
    if (!billing && t->ppr && pt) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "One or more parameter values were invalid: ProvisionedThroughput cannot be "
                  "specified when BillingMode is PAY_PER_REQUEST");
        goto out;
    }
    if (pt && !t->ppr && !to_prov && !gu && ddb__int(pt, "ReadCapacityUnits", 0) == t->rcu &&
        ddb__int(pt, "WriteCapacityUnits", 0) == t->wcu) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "The provisioned throughput for the table will not change. The requested value "
                  "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                  "%lld. Requested ReadCapacityUnits: %lld. Current WriteCapacityUnits provisioned "
                  "for the table: %lld. Requested WriteCapacityUnits: %lld. Refer to the Amazon "
                  "DynamoDB Developer Guide for current limits and how to request higher limits.",
                  (long long)t->rcu, (long long)t->rcu, (long long)t->wcu, (long long)t->wcu);
        goto out;
    }
    if (stream) {
        bool on = ddb__bool(stream, "StreamEnabled", false);
        bool has = t->stream && json_is_true(json_object_get(t->stream, "StreamEnabled"));
        if (on && has) {
            ddb__fail(c, ERR_DDB_VALIDATION, "Table already has an enabled stream: TableName: %s",
                      t->name);
            goto out;
        }
        if (!on && !has) {
            ddb__fail(c, ERR_DDB_VALIDATION, "Table has no stream to disable: TableName: %s",
                      t->name);
            goto out;
        }
    }
    /* index deletions and updates are checked before anything changes */
    for (size_t i = 0; i < json_array_size(gu); i++) {
        const json_t *u = json_array_get(gu, i);
        const json_t *op =
            ddb_member(u, "Update") ? ddb_member(u, "Update") : ddb_member(u, "Delete");
        if (op == NULL)
            continue;
        const char *xn = ddb__str(op, "IndexName");
        struct ddb_index *x = ddb__index(t, xn);
        if (x == NULL) {
            ddb__fail(c, ERR_DDB_RESOURCE_NOT_FOUND,
                      "Requested resource not found: Index: %s not found", xn);
            goto out;
        }
        if (!x->global) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "Cannot %s an index that is not a GlobalSecondaryIndex: %s",
                      ddb_member(u, "Update") ? "update" : "delete", xn);
            goto out;
        }
        if (ddb_member(u, "Update") && (t->ppr || to_ppr) &&
            ddb_member(op, "ProvisionedThroughput")) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "One or more parameter values were invalid: The only Updates for index: %s "
                      "when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, "
                      "WarmThroughput",
                      xn);
            goto out;
        }
    }
    if (to_prov && t->ppr) {
        for (size_t i = 0; i < t->nidx; i++) {
            const struct ddb_index *x = &t->idx[i];
            bool given = false;
            for (size_t j = 0; j < json_array_size(gu); j++) {
                const json_t *up = ddb_member(json_array_get(gu, j), "Update");
                given = given || (up && strcmp(ddb__str(up, "IndexName"), x->name) == 0 &&
                                  ddb_member(up, "ProvisionedThroughput"));
            }
            if (x->global && !given) {
                ddb__fail(c, ERR_DDB_VALIDATION,
                          "One or more parameter values were invalid: ProvisionedThroughput must "
                          "be specified for index: %s",
                          x->name);
                goto out;
            }
        }
    }
    /* apply */
    struct store_batch *b = store_batch_new(db->store);
    if (b == NULL)
        goto oom;
    if (to_ppr && !t->ppr) {
        t->ppr = true;
        t->ppr_since_ms = clock_now_ms();
    } else if (to_prov) {
        t->ppr = false;
    }
    if (pt) {
        t->rcu = ddb__int(pt, "ReadCapacityUnits", 0);
        t->wcu = ddb__int(pt, "WriteCapacityUnits", 0);
    }
    for (size_t i = 0; i < json_array_size(gu); i++) {
        const json_t *u = json_array_get(gu, i);
        const json_t *up = ddb_member(u, "Update"), *cr = ddb_member(u, "Create"),
                     *de = ddb_member(u, "Delete");
        if (up) {
            struct ddb_index *x = ddb__index(t, ddb__str(up, "IndexName"));
            const json_t *xpt = ddb_member(up, "ProvisionedThroughput");
            if (x && xpt) {
                x->rcu = ddb__int(xpt, "ReadCapacityUnits", 0);
                x->wcu = ddb__int(xpt, "WriteCapacityUnits", 0);
            }
        } else if (de) {
            struct ddb_index *x = ddb__index(t, ddb__str(de, "IndexName"));
            size_t at = (size_t)(x - t->idx);
            ddb__purge_add(db, b, x->xid, true);
            index_destroy(x);
            memmove(&t->idx[at], &t->idx[at + 1], (t->nidx - at - 1) * sizeof *t->idx);
            t->nidx--;
            table_set_schema(t);
        } else if (cr) {
            if (gsi_create(c, t, cr, defs ? defs : t->attr_defs) != 0) {
                store_batch_discard(b);
                goto out;
            }
            ddb__counts_new(db, b, t->idx[t->nidx - 1].xid);
        }
    }
    if (stream)
        set_stream(t, stream, clock_now_ms());
    if (sse) {
        json_decref(t->sse);
        t->sse = json_deep_copy(sse);
    }
    if (tclass) {
        free(t->table_class);
        t->table_class = strdup(tclass);
    }
    if (dp)
        t->deletion_protection = ddb__bool(req, "DeletionProtectionEnabled", false);
    if (ddb__meta_put(db, b, t) != 0) {
        store_batch_discard(b);
        goto oom;
    }
    answer_table(c, "TableDescription", t, DESC_UPDATE);
    commit(c, t, b);
    return;
oom:
    ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
out:
    ddb__finish(c);
}

/* ---- TTL ---- */

static void op_describe_ttl(struct ddb_call *c)
{
    struct ddb_table *t = need_table(c);
    if (t != NULL) {
        struct jsonw w;
        jw_init(&w, &c->out);
        jw_obj(&w);
        jw_key(&w, "TimeToLiveDescription");
        jw_obj(&w);
        if (t->ttl_enabled) {
            jw_kstr(&w, "TimeToLiveStatus", "ENABLED");
            jw_kstr(&w, "AttributeName", t->ttl_attr);
        } else {
            jw_kstr(&w, "TimeToLiveStatus", "DISABLED");
        }
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    ddb__finish(c);
}

struct ttl_fill {
    struct ddb_table *t;
    struct ddb_wb *wb;
};

static bool ttl_fill_row(void *arg, const struct ddb_skey *k, const struct ddb_value *item)
{
    struct ttl_fill *f = arg;
    int64_t at = ddb__ttl_of(f->t, item);
    if (at >= 0)
        ddb__ttl_row_add(f->wb, at, f->t->tid, k);
    return true;
}

static void op_update_ttl(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *spec = json_object_get(c->req, "TimeToLiveSpecification");
    const char *attr = ddb__str(spec, "AttributeName");
    bool on = ddb__bool(spec, "Enabled", false);
    struct ddb_table *t = need_table(c);
    if (t == NULL)
        goto out;
    if (on && t->ttl_enabled) {
        if (strcmp(t->ttl_attr, attr) != 0)
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "TimeToLive is active on a different AttributeName: current AttributeName "
                      "is %s",
                      t->ttl_attr);
        else
            ddb__fail(c, ERR_DDB_VALIDATION, "TimeToLive is already enabled");
        goto out;
    }
    if (!on && !t->ttl_enabled) {
        ddb__fail(c, ERR_DDB_VALIDATION, "TimeToLive is already disabled");
        goto out;
    }
    if (!on && strcmp(t->ttl_attr, attr) != 0) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "TimeToLive is active on a different AttributeName: current AttributeName is %s",
                  t->ttl_attr);
        goto out;
    }
    struct ddb_wb *wb = ddb__wb_new(db);
    if (wb == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    t->ttl_enabled = on;
    free(t->ttl_attr);
    t->ttl_attr = strdup(attr);
    if (on) {
        /* the table's existing items get their expiry entries (pending writes add theirs) */
        struct ttl_fill f = {t, wb};
        ddb__walk_committed(db, t, ttl_fill_row, &f);
        for (struct ddb_pend *p = t->pend; p; p = p->tnext) {
            struct ddb_skey k;
            if (p->item.type != DDB_M)
                continue;
            int64_t at = ddb__ttl_of(t, &p->item);
            ddb__pend_key(p, &k);
            if (at >= 0)
                ddb__ttl_row_add(wb, at, t->tid, &k);
        }
    }
    ddb__meta_put(db, ddb__wb_batch(wb), t);
    struct jsonw w;
    jw_init(&w, &c->out);
    jw_obj(&w);
    jw_key(&w, "TimeToLiveSpecification");
    jw_obj(&w);
    jw_kstr(&w, "AttributeName", attr);
    jw_kbool(&w, "Enabled", on);
    jw_obj_end(&w);
    jw_obj_end(&w);
    ddb__wb_submit(wb, ddb__write_done, c);
    return;
out:
    ddb__finish(c);
}

/* ---- continuous backups ---- */

static void w_backups(struct ddb_call *c, const struct ddb_table *t)
{
    struct jsonw w;
    jw_init(&w, &c->out);
    jw_obj(&w);
    jw_key(&w, "ContinuousBackupsDescription");
    jw_obj(&w);
    jw_kstr(&w, "ContinuousBackupsStatus", "ENABLED");
    jw_key(&w, "PointInTimeRecoveryDescription");
    jw_obj(&w);
    jw_kstr(&w, "PointInTimeRecoveryStatus", t->pitr ? "ENABLED" : "DISABLED");
    if (t->pitr) {
        int64_t now = clock_now_ms();
        int64_t earliest = t->pitr_since_ms;
        if (earliest < now - 35LL * 86400 * 1000)
            earliest = now - 35LL * 86400 * 1000;
        jw_kint(&w, "RecoveryPeriodInDays", 35);
        w_time(&w, "EarliestRestorableDateTime", earliest);
        w_time(&w, "LatestRestorableDateTime",
               now - 5 * 60 * 1000 > earliest ? now - 5 * 60 * 1000 : earliest);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
}

static struct ddb_table *need_backup_table(struct ddb_call *c)
{
    const char *name = ddb__str(c->req, "TableName");
    struct ddb_table *t = ddb__table(c->db, name);
    if (t == NULL)
        ddb__fail(c, ERR_DDB_TABLE_NOT_FOUND, "Table not found: %s", name);
    return t;
}

static void op_describe_backups(struct ddb_call *c)
{
    struct ddb_table *t = need_backup_table(c);
    if (t != NULL)
        w_backups(c, t);
    ddb__finish(c);
}

static void op_update_backups(struct ddb_call *c)
{
    const json_t *spec = json_object_get(c->req, "PointInTimeRecoverySpecification");
    bool on = ddb__bool(spec, "PointInTimeRecoveryEnabled", false);
    struct ddb_table *t = need_backup_table(c);
    if (t == NULL)
        goto out;
    if (!on && ddb_member(spec, "RecoveryPeriodInDays")) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling "
                  "point-in-time recovery.");
        goto out;
    }
    if (on && !t->pitr)
        t->pitr_since_ms = clock_now_ms();
    t->pitr = on;
    w_backups(c, t);
    commit_meta(c, t);
    return;
out:
    ddb__finish(c);
}

/* ---- tags ---- */

/* The table a ResourceArn names (ValidationException / ResourceNotFoundException). */
static struct ddb_table *arn_table(struct ddb_call *c, const char *arn)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "arn:aws:dynamodb:%s:%s:table/", c->db->region, c->db->account);
    size_t pl = strlen(prefix);
    bool shaped = strncmp(arn, "arn:aws:dynamodb:", 17) == 0 && strstr(arn, ":table/") != NULL;
    if (!shaped) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Invalid TableArn: Invalid ResourceArn provided as input %s", arn);
        return NULL;
    }
    const char *name = strncmp(arn, prefix, pl) == 0 ? arn + pl : NULL;
    struct ddb_table *t = name && strchr(name, '/') == NULL ? ddb__table(c->db, name) : NULL;
    if (t == NULL)
        ddb__fail(c, ERR_DDB_RESOURCE_NOT_FOUND,
                  "Requested resource not found: ResourcArn: %s not found", arn);
    return t;
}

static void op_tag_resource(struct ddb_call *c)
{
    const json_t *tags = json_object_get(c->req, "Tags");
    struct ddb_table *t = arn_table(c, ddb__str(c->req, "ResourceArn"));
    if (t == NULL)
        goto out;
    if (json_array_size(tags) == 0) {
        ddb__fail(c, ERR_DDB_VALIDATION, "Atleast one Tag needs to be provided as Input.");
        goto out;
    }
    if (check_tags(c, tags) != 0)
        goto out;
    if (tags_after(t->tags, tags) > MAX_TAGS) {
        ddb__fail(c, ERR_DDB_VALIDATION,
                  "Number of Tags exceed the current limit for the provided ResourceArn");
        goto out;
    }
    set_tags(t->tags, tags);
    buf_puts(&c->out, "{}");
    commit_meta(c, t);
    return;
out:
    ddb__finish(c);
}

static void op_untag_resource(struct ddb_call *c)
{
    const json_t *keys = json_object_get(c->req, "TagKeys");
    struct ddb_table *t = arn_table(c, ddb__str(c->req, "ResourceArn"));
    if (t == NULL)
        goto out;
    if (json_array_size(keys) == 0) {
        ddb__fail(c, ERR_DDB_VALIDATION, "Atleast one Tag Key needs to be provided as Input.");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        for (size_t j = 0; k && j < json_array_size(t->tags);) {
            if (strcmp(ddb__str(json_array_get(t->tags, j), "Key"), k) == 0)
                json_array_remove(t->tags, j);
            else
                j++;
        }
    }
    buf_puts(&c->out, "{}");
    commit_meta(c, t);
    return;
out:
    ddb__finish(c);
}

static void op_list_tags(struct ddb_call *c)
{
    struct ddb_table *t = arn_table(c, ddb__str(c->req, "ResourceArn"));
    if (t != NULL) {
        struct jsonw w;
        jw_init(&w, &c->out);
        jw_obj(&w);
        jw_key(&w, "Tags");
        jw_json(&w, t->tags);
        jw_obj_end(&w);
    }
    ddb__finish(c);
}

/* ---- account-level ---- */

static void op_describe_limits(struct ddb_call *c)
{
    buf_puts(&c->out, "{\"AccountMaxReadCapacityUnits\":80000,\"AccountMaxWriteCapacityUnits\":"
                      "80000,\"TableMaxReadCapacityUnits\":40000,\"TableMaxWriteCapacityUnits\":"
                      "40000}");
    ddb__finish(c);
}

static void op_describe_endpoints(struct ddb_call *c)
{
    buf_printf(
        &c->out,
        "{\"Endpoints\":[{\"Address\":\"dynamodb.%s.amazonaws.com\",\"CachePeriodInMinutes\":"
        "1440}]}",
        c->db->region);
    ddb__finish(c);
}

void ddb__op_table(struct ddb_call *c)
{
    switch (c->op) {
    case DDB_OP_CREATE_TABLE:
        op_create_table(c);
        return;
    case DDB_OP_DESCRIBE_TABLE:
        op_describe_table(c);
        return;
    case DDB_OP_LIST_TABLES:
        op_list_tables(c);
        return;
    case DDB_OP_DELETE_TABLE:
        op_delete_table(c);
        return;
    case DDB_OP_UPDATE_TABLE:
        op_update_table(c);
        return;
    case DDB_OP_DESCRIBE_TIME_TO_LIVE:
        op_describe_ttl(c);
        return;
    case DDB_OP_UPDATE_TIME_TO_LIVE:
        op_update_ttl(c);
        return;
    case DDB_OP_DESCRIBE_CONTINUOUS_BACKUPS:
        op_describe_backups(c);
        return;
    case DDB_OP_UPDATE_CONTINUOUS_BACKUPS:
        op_update_backups(c);
        return;
    case DDB_OP_TAG_RESOURCE:
        op_tag_resource(c);
        return;
    case DDB_OP_UNTAG_RESOURCE:
        op_untag_resource(c);
        return;
    case DDB_OP_LIST_TAGS_OF_RESOURCE:
        op_list_tags(c);
        return;
    case DDB_OP_DESCRIBE_LIMITS:
        op_describe_limits(c);
        return;
    case DDB_OP_DESCRIBE_ENDPOINTS:
        op_describe_endpoints(c);
        return;
    default:
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        ddb__finish(c);
    }
}
