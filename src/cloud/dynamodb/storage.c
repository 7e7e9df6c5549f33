/*
 * storage.c — where items live: SQLite tables through the store, the overlay of writes still
 * being committed, ordered cursors over both, and write batches that keep items, index
 * entries, TTL entries and counters in step (see ddb.h, ddb_int.h).
 *
 * Tables (one set for every DynamoDB table; rows carry the table's or index's storage id):
 *   ddb_items  (tid, h, pk, sk, item)  with a unique index on (tid, h, pk, sk): a rowid
 *              table, so that an item of a few KB stays on its page (a WITHOUT ROWID row
 *              over ~1000 bytes spills to an overflow page of its own);
 *   ddb_index  (xid, h, ipk, isk, pk, sk, bh)  WITHOUT ROWID: an index entry holds keys only
 *              (its projection is made from the item when read), ordered as DynamoDB
 *              orders the index;
 *   ddb_ttl    (at, tid, h, pk, sk)  WITHOUT ROWID: expiry times in time order;
 *   ddb_tables (tid, name, meta) and ddb_counts (id, items, bytes): metadata and counters;
 *   ddb_purge  (id, index): storage ids whose rows are being removed in the background.
 * h is a 32-bit hash of the partition key's bytes, so a Scan walks partitions in hash order
 * (as DynamoDB does) and a parallel Scan segment is one contiguous range of h; pk and sk are
 * the key parts' order-preserving bytes (value.h: S and B raw, N ddb_num_key_encode), and
 * SQLite compares blobs as memcmp then length — DynamoDB's order. A Query is one index seek
 * and a range walk, whatever the table's size.
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store/store.h"
#include "core/log.h"

static const char *const steps[] = {
    "CREATE TABLE ddb_tables (tid INTEGER PRIMARY KEY, name TEXT NOT NULL, meta TEXT NOT NULL);"
    "CREATE TABLE ddb_counts (id INTEGER PRIMARY KEY, items INTEGER NOT NULL, bytes INTEGER NOT "
    "NULL);"
    "CREATE TABLE ddb_items (tid INTEGER NOT NULL, h INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB "
    "NOT NULL, item BLOB NOT NULL);"
    "CREATE UNIQUE INDEX ddb_items_key ON ddb_items (tid, h, pk, sk);"
    "CREATE TABLE ddb_index (xid INTEGER NOT NULL, h INTEGER NOT NULL, ipk BLOB NOT NULL, isk "
    "BLOB NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, bh INTEGER NOT NULL, PRIMARY KEY (xid, "
    "h, ipk, isk, pk, sk)) WITHOUT ROWID;"
    "CREATE TABLE ddb_ttl (at INTEGER NOT NULL, tid INTEGER NOT NULL, h INTEGER NOT NULL, pk "
    "BLOB NOT NULL, sk BLOB NOT NULL, PRIMARY KEY (at, tid, h, pk, sk)) WITHOUT ROWID;"
    "CREATE TABLE ddb_purge (id INTEGER PRIMARY KEY, is_index INTEGER NOT NULL);",
};
static const struct store_schema schema = {"dynamodb", steps, 1};

enum sql_id {
    Q_GET,
    Q_UPSERT,
    Q_DEL,
    Q_ASC,
    Q_DESC,
    Q_SCAN,
    Q_X_INS,
    Q_X_DEL,
    Q_X_ASC,
    Q_X_DESC,
    Q_X_SCAN,
    Q_TTL_INS,
    Q_TTL_DEL,
    Q_TTL_DUE,
    Q_COUNT_ADD,
    Q_COUNT_SET,
    Q_COUNT_DEL,
    Q_META_PUT,
    Q_META_DEL,
    Q_PURGE_ADD,
    Q_PURGE_DEL,
    Q_PURGE_ALL,
    Q_PURGE_ITEMS,
    Q_PURGE_INDEX,
    Q_HAS_ITEMS,
    Q_HAS_INDEX,
    Q_COUNT_INDEX,
    Q__COUNT
};

static const char *const sql_text[Q__COUNT] = {
    [Q_GET] = "SELECT item FROM ddb_items WHERE tid=?1 AND h=?2 AND pk=?3 AND sk=?4",
    [Q_UPSERT] = "INSERT INTO ddb_items (tid, h, pk, sk, item) VALUES (?1, ?2, ?3, ?4, ?5) ON "
                 "CONFLICT (tid, h, pk, sk) DO UPDATE SET item = excluded.item",
    [Q_DEL] = "DELETE FROM ddb_items WHERE tid=?1 AND h=?2 AND pk=?3 AND sk=?4",
    [Q_ASC] = "SELECT h, pk, sk, item FROM ddb_items WHERE tid=?1 AND h=?2 AND pk=?3 AND sk>=?4 "
              "ORDER BY sk",
    [Q_DESC] = "SELECT h, pk, sk, item FROM ddb_items WHERE tid=?1 AND h=?2 AND pk=?3 AND "
               "sk<=?4 ORDER BY sk DESC",
    [Q_SCAN] = "SELECT h, pk, sk, item FROM ddb_items WHERE tid=?1 AND (h, pk, sk) >= (?2, ?3, "
               "?4) AND h<=?5 ORDER BY h, pk, sk",
    [Q_X_INS] = "INSERT OR REPLACE INTO ddb_index (xid, h, ipk, isk, pk, sk, bh) VALUES (?1, ?2, "
                "?3, ?4, ?5, ?6, ?7)",
    [Q_X_DEL] = "DELETE FROM ddb_index WHERE xid=?1 AND h=?2 AND ipk=?3 AND isk=?4 AND pk=?5 AND "
                "sk=?6",
    [Q_X_ASC] = "SELECT x.h, x.ipk, x.isk, x.pk, x.sk, t.item FROM ddb_index x JOIN ddb_items t "
                "ON t.tid=?1 AND t.h=x.bh AND t.pk=x.pk AND t.sk=x.sk WHERE x.xid=?2 AND x.h=?3 "
                "AND x.ipk=?4 AND (x.isk, x.pk, x.sk) >= (?5, ?6, ?7) ORDER BY x.isk, x.pk, x.sk",
    [Q_X_DESC] = "SELECT x.h, x.ipk, x.isk, x.pk, x.sk, t.item FROM ddb_index x JOIN ddb_items t "
                 "ON t.tid=?1 AND t.h=x.bh AND t.pk=x.pk AND t.sk=x.sk WHERE x.xid=?2 AND "
                 "x.h=?3 AND x.ipk=?4 AND (x.isk, x.pk, x.sk) <= (?5, ?6, ?7) ORDER BY x.isk "
                 "DESC, x.pk DESC, x.sk DESC",
    [Q_X_SCAN] = "SELECT x.h, x.ipk, x.isk, x.pk, x.sk, t.item FROM ddb_index x JOIN ddb_items t "
                 "ON t.tid=?1 AND t.h=x.bh AND t.pk=x.pk AND t.sk=x.sk WHERE x.xid=?2 AND (x.h, "
                 "x.ipk, x.isk, x.pk, x.sk) >= (?3, ?4, ?5, ?6, ?7) AND x.h<=?8 ORDER BY x.h, "
                 "x.ipk, x.isk, x.pk, x.sk",
    [Q_TTL_INS] = "INSERT OR REPLACE INTO ddb_ttl (at, tid, h, pk, sk) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_TTL_DEL] = "DELETE FROM ddb_ttl WHERE at=?1 AND tid=?2 AND h=?3 AND pk=?4 AND sk=?5",
    [Q_TTL_DUE] = "SELECT at, tid, h, pk, sk FROM ddb_ttl ORDER BY at LIMIT ?1",
    [Q_COUNT_ADD] = "UPDATE ddb_counts SET items = items + ?2, bytes = bytes + ?3 WHERE id=?1",
    [Q_COUNT_SET] = "INSERT OR REPLACE INTO ddb_counts (id, items, bytes) VALUES (?1, ?2, ?3)",
    [Q_COUNT_DEL] = "DELETE FROM ddb_counts WHERE id=?1",
    [Q_META_PUT] = "INSERT OR REPLACE INTO ddb_tables (tid, name, meta) VALUES (?1, ?2, ?3)",
    [Q_META_DEL] = "DELETE FROM ddb_tables WHERE tid=?1",
    [Q_PURGE_ADD] = "INSERT OR REPLACE INTO ddb_purge (id, is_index) VALUES (?1, ?2)",
    [Q_PURGE_DEL] = "DELETE FROM ddb_purge WHERE id=?1",
    [Q_PURGE_ALL] = "SELECT id, is_index FROM ddb_purge",
    [Q_PURGE_ITEMS] = "DELETE FROM ddb_items WHERE rowid IN (SELECT rowid FROM ddb_items WHERE "
                      "tid=?1 LIMIT 2000)",
    [Q_PURGE_INDEX] = "DELETE FROM ddb_index WHERE (xid, h, ipk, isk, pk, sk) IN (SELECT xid, h, "
                      "ipk, isk, pk, sk FROM ddb_index WHERE xid=?1 LIMIT 2000)",
    [Q_HAS_ITEMS] = "SELECT 1 FROM ddb_items WHERE tid=?1 LIMIT 1",
    [Q_HAS_INDEX] = "SELECT 1 FROM ddb_index WHERE xid=?1 LIMIT 1",
    [Q_COUNT_INDEX] = "SELECT count(*) FROM ddb_index WHERE xid=?1",
};

struct ddb_sql {
    struct store_stmt *q[Q__COUNT];
    /* purges in progress */
    int64_t *purge;
    bool *purge_index;
    size_t npurge;
    bool bg_busy;
};

/* An encoded key part larger than any real one: the open end of a descending range. */
static uint8_t top_sentinel[DDB_KEY_BYTES + 1];

int ddb__storage_open(struct ddb *db, char *err, size_t errlen)
{
    memset(top_sentinel, 0xFF, sizeof top_sentinel);
    db->sql = calloc(1, sizeof *db->sql);
    if (db->sql == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (store_schema_apply(db->store, &schema, err, errlen) != 0)
        return -1;
    for (int i = 0; i < Q__COUNT; i++)
        if ((db->sql->q[i] = store_prepare(db->store, sql_text[i], err, errlen)) == NULL)
            return -1;
    return 0;
}

void ddb__storage_close(struct ddb *db)
{
    if (db->sql == NULL)
        return;
    free(db->sql->purge);
    free(db->sql->purge_index);
    free(db->sql);
    db->sql = NULL;
}

static struct store_stmt *S(struct ddb *db, enum sql_id id)
{
    return db->sql->q[id];
}

/* ---- keys ---- */

uint32_t ddb__hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a, then murmur3's finaliser */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static int part_bytes(const struct ddb_value *v, enum ddb_type want, uint8_t *out, uint16_t *len)
{
    if (v == NULL || v->type != want)
        return -1;
    if (v->type == DDB_N) {
        uint8_t k[DDB_NUM_KEY_MAX];
        size_t n = ddb_num_key_encode(&v->u.num, k);
        memcpy(out, k, n);
        *len = (uint16_t)n;
        return 0;
    }
    if (v->type != DDB_S && v->type != DDB_B)
        return -1;
    if (v->n > DDB_KEY_BYTES)
        return -1;
    memcpy(out, v->u.bytes, v->n);
    *len = (uint16_t)v->n;
    return 0;
}

int ddb__skey(const struct ddb_key_schema *ks, const struct ddb_value *m, struct ddb_skey *out)
{
    const struct ddb_value *hv = ddb_map_get(m, ks->hash_name, strlen(ks->hash_name));
    if (part_bytes(hv, ks->hash_type, out->pk, &out->pklen) != 0)
        return -1;
    out->sklen = 0;
    if (ks->range_name) {
        const struct ddb_value *rv = ddb_map_get(m, ks->range_name, strlen(ks->range_name));
        if (part_bytes(rv, ks->range_type, out->sk, &out->sklen) != 0)
            return -1;
    }
    out->h = ddb__hash(out->pk, out->pklen);
    return 0;
}

bool ddb__index_key(const struct ddb_index *x, const struct ddb_value *item, struct ddb_skey *out)
{
    if (item == NULL || item->type != DDB_M)
        return false;
    return ddb__skey(&x->ks, item, out) == 0;
}

/* ---- the overlay ---- */

static uint64_t pend_hash(int64_t tid, const uint8_t *pk, size_t pkl, const uint8_t *sk, size_t skl)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)tid;
    for (size_t i = 0; i < pkl; i++)
        h = (h ^ pk[i]) * 1099511628211ull;
    h = (h ^ 0x1ff) * 1099511628211ull;
    for (size_t i = 0; i < skl; i++)
        h = (h ^ sk[i]) * 1099511628211ull;
    return h;
}

struct ddb_pend *ddb__pend_find(struct ddb *db, const struct ddb_table *t, const struct ddb_skey *k)
{
    if (t->npend == 0 || db->overlay_cap == 0)
        return NULL;
    uint64_t h = pend_hash(t->tid, k->pk, k->pklen, k->sk, k->sklen);
    for (struct ddb_pend *p = db->overlay[h & (db->overlay_cap - 1)]; p; p = p->hnext)
        if (p->t == t && p->pklen == k->pklen && p->sklen == k->sklen &&
            memcmp(p->key, k->pk, k->pklen) == 0 && memcmp(p->key + k->pklen, k->sk, k->sklen) == 0)
            return p;
    return NULL;
}

static int overlay_grow(struct ddb *db)
{
    size_t cap = db->overlay_cap ? db->overlay_cap * 2 : 256;
    struct ddb_pend **nb = calloc(cap, sizeof *nb);
    if (nb == NULL)
        return -1;
    for (size_t i = 0; i < db->overlay_cap; i++) {
        struct ddb_pend *p = db->overlay[i];
        while (p) {
            struct ddb_pend *next = p->hnext;
            uint64_t h = pend_hash(p->t->tid, p->key, p->pklen, p->key + p->pklen, p->sklen);
            p->hnext = nb[h & (cap - 1)];
            nb[h & (cap - 1)] = p;
            p = next;
        }
    }
    free(db->overlay);
    db->overlay = nb;
    db->overlay_cap = cap;
    return 0;
}

/* The overlay entry for k (created when absent). NULL when out of memory. */
static struct ddb_pend *pend_get(struct ddb *db, struct ddb_table *t, const struct ddb_skey *k)
{
    struct ddb_pend *p = ddb__pend_find(db, t, k);
    if (p != NULL)
        return p;
    if (db->npend + 1 > db->overlay_cap && overlay_grow(db) != 0)
        return NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->key = malloc((size_t)k->pklen + k->sklen + 1)) == NULL) {
        free(p);
        return NULL;
    }
    p->t = t;
    p->h = k->h;
    p->pklen = k->pklen;
    p->sklen = k->sklen;
    memcpy(p->key, k->pk, k->pklen);
    memcpy(p->key + k->pklen, k->sk, k->sklen);
    uint64_t h = pend_hash(t->tid, k->pk, k->pklen, k->sk, k->sklen);
    p->hnext = db->overlay[h & (db->overlay_cap - 1)];
    db->overlay[h & (db->overlay_cap - 1)] = p;
    p->tnext = t->pend;
    if (t->pend)
        t->pend->tprev = p;
    t->pend = p;
    t->npend++;
    db->npend++;
    return p;
}

static void pend_remove(struct ddb *db, struct ddb_pend *p)
{
    uint64_t h = pend_hash(p->t->tid, p->key, p->pklen, p->key + p->pklen, p->sklen);
    struct ddb_pend **pp = &db->overlay[h & (db->overlay_cap - 1)];
    while (*pp && *pp != p)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = p->hnext;
    if (p->tprev)
        p->tprev->tnext = p->tnext;
    else
        p->t->pend = p->tnext;
    if (p->tnext)
        p->tnext->tprev = p->tprev;
    p->t->npend--;
    db->npend--;
    ddb_value_destroy(&p->item);
    free(p->key);
    free(p);
}

void ddb__pend_key(const struct ddb_pend *p, struct ddb_skey *k)
{
    k->h = p->h;
    k->pklen = p->pklen;
    k->sklen = p->sklen;
    memcpy(k->pk, p->key, p->pklen);
    memcpy(k->sk, p->key + p->pklen, p->sklen);
}

/* The key of a row whose columns col, col + 1, col + 2 are h, pk and sk. */
static void row_key(const struct store_row *row, int col, struct ddb_skey *k)
{
    size_t n;
    k->h = (uint32_t)store_row_int(row, col);
    const void *pk = store_row_blob(row, col + 1, &n);
    k->pklen = (uint16_t)(n > DDB_KEY_BYTES ? DDB_KEY_BYTES : n);
    memcpy(k->pk, pk, k->pklen);
    const void *sk = store_row_blob(row, col + 2, &n);
    k->sklen = (uint16_t)(n > DDB_KEY_BYTES ? DDB_KEY_BYTES : n);
    memcpy(k->sk, sk, k->sklen);
}

/* ---- point reads ---- */

struct get_ctx {
    struct ddb_value *out;
    bool found;
    bool bad;
};

static bool get_row(void *arg, const struct store_row *row)
{
    struct get_ctx *g = arg;
    size_t n, used;
    const void *p = store_row_blob(row, 0, &n);
    if (ddb_value_unpack(p, n, g->out, &used) != 0 || g->out->type != DDB_M)
        g->bad = true;
    else
        g->found = true;
    return false;
}

int ddb__get(struct ddb *db, struct ddb_table *t, const struct ddb_skey *k, struct ddb_value *out,
             bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    struct ddb_pend *p = ddb__pend_find(db, t, k);
    if (p != NULL) {
        if (p->item.type == DDB_NONE)
            return 0;
        if (ddb_value_copy(out, &p->item) != 0)
            return -1;
        *found = true;
        return 0;
    }
    struct store_val v[4] = {store_int(t->tid), store_int(k->h), store_blob(k->pk, k->pklen),
                             store_blob(k->sk, k->sklen)};
    struct get_ctx g = {out, false, false};
    if (store_query(db->store, S(db, Q_GET), v, 4, get_row, &g) < 0 || g.bad) {
        LOG_ERROR("dynamodb", NULL, "table %s: cannot read an item", t->name);
        ddb_value_destroy(out);
        return -1;
    }
    *found = g.found;
    return 0;
}

/* ---- projections ---- */

static bool proj_keeps(const struct ddb_table *t, const struct ddb_index *x, const char *name,
                       size_t len)
{
    if (x->proj == DDB_PROJ_ALL)
        return true;
    const char *keys[4] = {t->hash_name, t->range_name, x->hash_name, x->range_name};
    for (int i = 0; i < 4; i++)
        if (keys[i] && strlen(keys[i]) == len && memcmp(keys[i], name, len) == 0)
            return true;
    for (size_t i = 0; x->proj == DDB_PROJ_INCLUDE && i < x->nnonkey; i++)
        if (strlen(x->nonkey[i]) == len && memcmp(x->nonkey[i], name, len) == 0)
            return true;
    return false;
}

int ddb__index_project(const struct ddb_table *t, const struct ddb_index *x,
                       const struct ddb_value *item, struct ddb_value *out)
{
    if (x->proj == DDB_PROJ_ALL)
        return ddb_value_copy(out, item);
    ddb_value_set_map(out);
    for (uint32_t i = 0; i < item->n; i++) {
        const struct ddb_attr *a = &item->u.attrs[i];
        if (!proj_keeps(t, x, a->name, a->name_len))
            continue;
        struct ddb_value v;
        if (ddb_value_copy(&v, &a->value) != 0 || ddb_map_put(out, a->name, a->name_len, &v) != 0) {
            ddb_value_destroy(&v);
            ddb_value_destroy(out);
            return -1;
        }
    }
    return 0;
}

/* The size of item's projection into x (without building it). */
static size_t proj_size(const struct ddb_table *t, const struct ddb_index *x,
                        const struct ddb_value *item)
{
    if (x->proj == DDB_PROJ_ALL)
        return ddb_item_size(item);
    size_t n = 0;
    for (uint32_t i = 0; i < item->n; i++) {
        const struct ddb_attr *a = &item->u.attrs[i];
        if (proj_keeps(t, x, a->name, a->name_len))
            n += a->name_len + ddb_value_size(&a->value);
    }
    return n;
}

/* True when the projections of a and b into x are equal. */
static bool proj_equal(const struct ddb_table *t, const struct ddb_index *x,
                       const struct ddb_value *a, const struct ddb_value *b)
{
    if (x->proj == DDB_PROJ_ALL)
        return ddb_value_equal(a, b);
    const char *keys[4] = {t->hash_name, t->range_name, x->hash_name, x->range_name};
    for (int i = 0; i < 4; i++) {
        if (keys[i] == NULL)
            continue;
        const struct ddb_value *va = ddb_map_get(a, keys[i], strlen(keys[i]));
        const struct ddb_value *vb = ddb_map_get(b, keys[i], strlen(keys[i]));
        if ((va == NULL) != (vb == NULL) || (va && !ddb_value_equal(va, vb)))
            return false;
    }
    for (size_t i = 0; x->proj == DDB_PROJ_INCLUDE && i < x->nnonkey; i++) {
        const struct ddb_value *va = ddb_map_get(a, x->nonkey[i], strlen(x->nonkey[i]));
        const struct ddb_value *vb = ddb_map_get(b, x->nonkey[i], strlen(x->nonkey[i]));
        if ((va == NULL) != (vb == NULL) || (va && !ddb_value_equal(va, vb)))
            return false;
    }
    return true;
}

/* ---- write batches ---- */

struct delta {
    struct ddb_table *t;
    int64_t xid; /* 0: the table itself */
    int64_t items, bytes;
};

struct ddb_wb {
    struct ddb *db;
    struct store_batch *b;
    struct ddb_pend **touched;
    size_t ntouched, ctouched;
    struct delta *deltas;
    size_t ndeltas, cdeltas;
    struct ddb_table **tables; /* referenced tables (busy_ops held) */
    size_t ntables, ctables;
    int64_t ttl_min;
    bool failed;
    void (*done)(void *arg, int rc);
    void *arg;
};

struct ddb_wb *ddb__wb_new(struct ddb *db)
{
    struct ddb_wb *wb = calloc(1, sizeof *wb);
    if (wb == NULL)
        return NULL;
    wb->db = db;
    wb->ttl_min = -1;
    wb->b = store_batch_new(db->store);
    if (wb->b == NULL) {
        free(wb);
        return NULL;
    }
    return wb;
}

struct store_batch *ddb__wb_batch(struct ddb_wb *wb)
{
    return wb->b;
}

static void wb_release(struct ddb_wb *wb)
{
    for (size_t i = 0; i < wb->ntables; i++) {
        struct ddb_table *t = wb->tables[i];
        if (--t->busy_ops == 0 && t->status == DDB_DELETING)
            ddb__table_free(t);
    }
    free(wb->tables);
    free(wb->touched);
    free(wb->deltas);
    free(wb);
}

/* Takes back the batch's changes to the in-memory counters (it will not commit). */
static void wb_undo_counts(struct ddb_wb *wb)
{
    for (size_t i = 0; i < wb->ndeltas; i++) {
        struct delta *d = &wb->deltas[i];
        if (d->xid == 0) {
            d->t->items -= d->items;
            d->t->bytes -= d->bytes;
        }
        for (size_t j = 0; d->xid && j < d->t->nidx; j++)
            if (d->t->idx[j].xid == d->xid) {
                d->t->idx[j].items -= d->items;
                d->t->idx[j].bytes -= d->bytes;
            }
    }
}

void ddb__wb_free(struct ddb_wb *wb)
{
    if (wb == NULL)
        return;
    /* not submitted: undo what was applied to memory */
    wb_undo_counts(wb);
    for (size_t i = 0; i < wb->ntouched; i++)
        if (--wb->touched[i]->inflight == 0)
            pend_remove(wb->db, wb->touched[i]);
    store_batch_discard(wb->b);
    wb_release(wb);
}

static int wb_table_ref(struct ddb_wb *wb, struct ddb_table *t)
{
    for (size_t i = 0; i < wb->ntables; i++)
        if (wb->tables[i] == t)
            return 0;
    struct ddb_table **tables = ddb__grow(wb->tables, wb->ntables, &wb->ctables, sizeof *tables, 4);
    if (tables == NULL)
        return -1;
    wb->tables = tables;
    wb->tables[wb->ntables++] = t;
    t->busy_ops++;
    return 0;
}

static int wb_delta(struct ddb_wb *wb, struct ddb_table *t, int64_t xid, int64_t items,
                    int64_t bytes)
{
    if (items == 0 && bytes == 0)
        return 0;
    for (size_t i = 0; i < wb->ndeltas; i++)
        if (wb->deltas[i].t == t && wb->deltas[i].xid == xid) {
            wb->deltas[i].items += items;
            wb->deltas[i].bytes += bytes;
            return 0;
        }
    struct delta *deltas = ddb__grow(wb->deltas, wb->ndeltas, &wb->cdeltas, sizeof *deltas, 4);
    if (deltas == NULL)
        return -1;
    wb->deltas = deltas;
    wb->deltas[wb->ndeltas++] = (struct delta){t, xid, items, bytes};
    return 0;
}

static int wb_touch(struct ddb_wb *wb, struct ddb_pend *p)
{
    struct ddb_pend **touched =
        ddb__grow(wb->touched, wb->ntouched, &wb->ctouched, sizeof *touched, 4);
    if (touched == NULL)
        return -1;
    wb->touched = touched;
    wb->touched[wb->ntouched++] = p;
    p->inflight++;
    return 0;
}

static int add(struct ddb_wb *wb, enum sql_id id, const struct store_val *v, size_t n)
{
    if (store_batch_add(wb->b, S(wb->db, id), v, n) != 0) {
        wb->failed = true;
        return -1;
    }
    return 0;
}

/* The index entry of base key k under x, at index key xk. */
static int index_entry_add(struct ddb_wb *wb, const struct ddb_index *x, const struct ddb_skey *xk,
                           const struct ddb_skey *k)
{
    struct store_val v[7] = {store_int(x->xid),
                             store_int(xk->h),
                             store_blob(xk->pk, xk->pklen),
                             store_blob(xk->sk, xk->sklen),
                             store_blob(k->pk, k->pklen),
                             store_blob(k->sk, k->sklen),
                             store_int(k->h)};
    return add(wb, Q_X_INS, v, 7);
}

/* A TTL entry (at, tid, k) removed (Q_TTL_DEL) or added (Q_TTL_INS). */
static int ttl_entry(struct ddb_wb *wb, enum sql_id q, int64_t at, int64_t tid,
                     const struct ddb_skey *k)
{
    struct store_val v[5] = {store_int(at), store_int(tid), store_int(k->h),
                             store_blob(k->pk, k->pklen), store_blob(k->sk, k->sklen)};
    return add(wb, q, v, 5);
}

/* Removes a TTL entry (one whose item is gone or changed) in wb. */
int ddb__ttl_row_del(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k);
int ddb__ttl_row_del(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k)
{
    return ttl_entry(wb, Q_TTL_DEL, at, tid, k);
}

/* Adds a TTL entry in wb (the sweep is scheduled for it once wb commits). */
int ddb__ttl_row_add(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k);
int ddb__ttl_row_add(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k)
{
    if (wb->ttl_min < 0 || at < wb->ttl_min)
        wb->ttl_min = at;
    return ttl_entry(wb, Q_TTL_INS, at, tid, k);
}

static int index_write(struct ddb_wb *wb, struct ddb_table *t, struct ddb_index *x,
                       const struct ddb_skey *k, const struct ddb_value *old,
                       const struct ddb_value *newv, struct ddb_capacity *cap, bool tx)
{
    struct ddb_skey ok, nk;
    bool oin = old && ddb__index_key(x, old, &ok);
    bool nin = newv && ddb__index_key(x, newv, &nk);
    bool same = oin && nin && ddb__skey_equal(&ok, &nk);
    double units = 0;
    if (same) {
        if (!proj_equal(t, x, old, newv)) {
            size_t a = proj_size(t, x, old), b = proj_size(t, x, newv);
            units = ddb_write_units(a > b ? a : b, tx);
        }
    } else {
        if (oin) {
            struct store_val v[6] = {store_int(x->xid),           store_int(ok.h),
                                     store_blob(ok.pk, ok.pklen), store_blob(ok.sk, ok.sklen),
                                     store_blob(k->pk, k->pklen), store_blob(k->sk, k->sklen)};
            if (add(wb, Q_X_DEL, v, 6) != 0)
                return -1;
            units += ddb_write_units(proj_size(t, x, old), tx);
        }
        if (nin) {
            if (index_entry_add(wb, x, &nk, k) != 0)
                return -1;
            units += ddb_write_units(proj_size(t, x, newv), tx);
        }
    }
    if (cap && units > 0)
        ddb_capacity_add_index(cap, x->name, x->global, DDB_CAP_WRITE, units);
    if (x->status == DDB_CREATING)
        return 0; /* counted when the backfill ends */
    int64_t di = (int64_t)nin - (int64_t)oin;
    int64_t db_ =
        (nin ? (int64_t)proj_size(t, x, newv) : 0) - (oin ? (int64_t)proj_size(t, x, old) : 0);
    x->items += di;
    x->bytes += db_;
    return wb_delta(wb, t, x->xid, di, db_);
}

int ddb__wb_write(struct ddb_wb *wb, struct ddb_table *t, const struct ddb_skey *k,
                  const struct ddb_value *old, struct ddb_value *newv, struct ddb_capacity *cap,
                  bool transactional)
{
    struct ddb *db = wb->db;
    if (wb_table_ref(wb, t) != 0)
        goto oom;
    size_t osize = old ? ddb_item_size(old) : 0, nsize = newv ? ddb_item_size(newv) : 0;
    /* the item row */
    if (newv) {
        buf_reset(&db->scratch);
        if (ddb_value_pack(newv, &db->scratch) != BUF_OK)
            goto oom;
        struct store_val v[5] = {store_int(t->tid), store_int(k->h), store_blob(k->pk, k->pklen),
                                 store_blob(k->sk, k->sklen),
                                 store_blob(db->scratch.data, db->scratch.len)};
        if (add(wb, Q_UPSERT, v, 5) != 0)
            goto oom;
    } else if (old) {
        struct store_val v[4] = {store_int(t->tid), store_int(k->h), store_blob(k->pk, k->pklen),
                                 store_blob(k->sk, k->sklen)};
        if (add(wb, Q_DEL, v, 4) != 0)
            goto oom;
    }
    if (cap) {
        size_t big = osize > nsize ? osize : nsize;
        ddb_capacity_add_table(cap, DDB_CAP_WRITE, ddb_write_units(big, transactional));
    }
    /* index entries */
    for (size_t i = 0; i < t->nidx; i++) {
        struct ddb_index *x = &t->idx[i];
        if (x->status == DDB_DELETING)
            continue;
        if (index_write(wb, t, x, k, old, newv, cap, transactional) != 0)
            goto oom;
    }
    /* TTL entries */
    if (t->ttl_enabled) {
        int64_t oat = old ? ddb__ttl_of(t, old) : -1, nat = newv ? ddb__ttl_of(t, newv) : -1;
        if (oat != nat && oat >= 0 && ddb__ttl_row_del(wb, oat, t->tid, k) != 0)
            goto oom;
        if (oat != nat && nat >= 0 && ddb__ttl_row_add(wb, nat, t->tid, k) != 0)
            goto oom;
    }
    /* counters */
    int64_t di = (int64_t)(newv != NULL) - (int64_t)(old != NULL);
    int64_t dbytes = (int64_t)nsize - (int64_t)osize;
    t->items += di;
    t->bytes += dbytes;
    if (wb_delta(wb, t, 0, di, dbytes) != 0)
        goto oom;
    /* the overlay: the newest version of the item */
    struct ddb_pend *p = pend_get(db, t, k);
    if (p == NULL || wb_touch(wb, p) != 0)
        goto oom;
    ddb_value_destroy(&p->item);
    if (newv)
        ddb_value_move(&p->item, newv);
    return 0;
oom:
    if (newv)
        ddb_value_destroy(newv);
    wb->failed = true;
    return -1;
}

static void wb_done(void *arg, int rc)
{
    struct ddb_wb *wb = arg;
    struct ddb *db = wb->db;
    if (rc != 0) {
        wb_undo_counts(wb);
        LOG_ERROR("dynamodb", NULL, "a write batch failed to commit");
    }
    for (size_t i = 0; i < wb->ntouched; i++)
        if (--wb->touched[i]->inflight == 0)
            pend_remove(db, wb->touched[i]);
    if (rc == 0 && wb->ttl_min >= 0)
        ddb__ttl_schedule(db, wb->ttl_min);
    if (wb->done)
        wb->done(wb->arg, rc);
    wb_release(wb);
}

void ddb__wb_submit(struct ddb_wb *wb, void (*done)(void *arg, int rc), void *arg)
{
    wb->done = done;
    wb->arg = arg;
    for (size_t i = 0; i < wb->ndeltas; i++) {
        struct delta *d = &wb->deltas[i];
        struct store_val v[3] = {store_int(d->xid ? d->xid : d->t->tid), store_int(d->items),
                                 store_int(d->bytes)};
        add(wb, Q_COUNT_ADD, v, 3);
    }
    if (wb->failed) {
        /* a failed batch completes with -1 through the store, after this call */
        store_batch_discard(wb->b);
        wb->b = NULL;
    }
    struct store_batch *b = wb->b;
    wb->b = NULL;
    store_batch_submit(wb->db->store, b, wb_done, wb);
}

/* ---- metadata rows ---- */

int ddb__meta_put(struct ddb *db, struct store_batch *b, const struct ddb_table *t)
{
    json_t *m = json_object();
    json_object_set_new(m, "TableId", json_string(t->id));
    json_object_set_new(m, "CreatedMs", json_integer(t->created_ms));
    json_object_set(m, "AttributeDefinitions", t->attr_defs);
    json_object_set_new(m, "Hash", json_string(t->hash_name));
    if (t->range_name)
        json_object_set_new(m, "Range", json_string(t->range_name));
    json_t *xs = json_array();
    for (size_t i = 0; i < t->nidx; i++) {
        const struct ddb_index *x = &t->idx[i];
        json_t *nk = json_array();
        for (size_t j = 0; j < x->nnonkey; j++)
            json_array_append_new(nk, json_string(x->nonkey[j]));
        json_t *xj = json_pack("{s:s, s:b, s:I, s:s, s:i, s:o, s:I, s:I, s:i}", "Name", x->name,
                               "Global", x->global, "Xid", (json_int_t)x->xid, "Hash", x->hash_name,
                               "Proj", (int)x->proj, "NonKey", nk, "Rcu", (json_int_t)x->rcu, "Wcu",
                               (json_int_t)x->wcu, "Status", (int)x->status);
        if (x->range_name)
            json_object_set_new(xj, "Range", json_string(x->range_name));
        json_array_append_new(xs, xj);
    }
    json_object_set_new(m, "Indexes", xs);
    json_object_set_new(m, "Ppr", json_boolean(t->ppr));
    json_object_set_new(m, "Rcu", json_integer(t->rcu));
    json_object_set_new(m, "Wcu", json_integer(t->wcu));
    json_object_set_new(m, "PprSince", json_integer(t->ppr_since_ms));
    if (t->stream) {
        json_object_set(m, "Stream", t->stream);
        json_object_set_new(m, "StreamLabel", json_string(t->stream_label));
    }
    if (t->sse)
        json_object_set(m, "Sse", t->sse);
    if (t->table_class)
        json_object_set_new(m, "TableClass", json_string(t->table_class));
    json_object_set_new(m, "DeletionProtection", json_boolean(t->deletion_protection));
    json_object_set_new(m, "TtlEnabled", json_boolean(t->ttl_enabled));
    if (t->ttl_attr)
        json_object_set_new(m, "TtlAttr", json_string(t->ttl_attr));
    json_object_set_new(m, "Pitr", json_boolean(t->pitr));
    json_object_set_new(m, "PitrSince", json_integer(t->pitr_since_ms));
    json_object_set(m, "Tags", t->tags);
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (text == NULL)
        return -1;
    struct store_val v[3] = {store_int(t->tid), store_text(t->name), store_text(text)};
    int rc = store_batch_add(b, S(db, Q_META_PUT), v, 3);
    free(text);
    return rc;
}

int ddb__meta_del(struct ddb *db, struct store_batch *b, const struct ddb_table *t)
{
    struct store_val v[1] = {store_int(t->tid)};
    return store_batch_add(b, S(db, Q_META_DEL), v, 1);
}

int ddb__counts_set(struct ddb *db, struct store_batch *b, int64_t id, int64_t items,
                    int64_t bytes);
int ddb__counts_set(struct ddb *db, struct store_batch *b, int64_t id, int64_t items, int64_t bytes)
{
    struct store_val v[3] = {store_int(id), store_int(items), store_int(bytes)};
    return store_batch_add(b, S(db, Q_COUNT_SET), v, 3);
}

int ddb__counts_new(struct ddb *db, struct store_batch *b, int64_t id);
int ddb__counts_new(struct ddb *db, struct store_batch *b, int64_t id)
{
    return ddb__counts_set(db, b, id, 0, 0);
}

/* Loads the tables' metadata rows: load(arg, tid, meta text). */
struct meta_load {
    struct ddb *db;
    int (*fn)(struct ddb *db, int64_t tid, const char *name, size_t nl, const char *meta,
              size_t ml);
    int rc;
};

static bool meta_row(void *arg, const struct store_row *r)
{
    struct meta_load *m = arg;
    size_t nl, ml;
    const char *name = store_row_text(r, 1, &nl);
    const char *meta = store_row_text(r, 2, &ml);
    if (m->fn(m->db, store_row_int(r, 0), name, nl, meta, ml) != 0)
        m->rc = -1;
    return true;
}

int ddb__meta_load(struct ddb *db,
                   int (*fn)(struct ddb *db, int64_t tid, const char *name, size_t nl,
                             const char *meta, size_t ml),
                   char *err, size_t errlen);
int ddb__meta_load(struct ddb *db,
                   int (*fn)(struct ddb *db, int64_t tid, const char *name, size_t nl,
                             const char *meta, size_t ml),
                   char *err, size_t errlen)
{
    char e[256];
    struct store_stmt *all =
        store_prepare(db->store, "SELECT tid, name, meta FROM ddb_tables", e, sizeof e);
    if (all == NULL) {
        snprintf(err, errlen, "%s", e);
        return -1;
    }
    struct meta_load m = {db, fn, 0};
    if (store_query(db->store, all, NULL, 0, meta_row, &m) < 0 || m.rc != 0) {
        snprintf(err, errlen, "cannot load the DynamoDB tables");
        return -1;
    }
    return 0;
}

struct counts_ctx {
    struct ddb *db;
};

static bool counts_row(void *arg, const struct store_row *r)
{
    struct counts_ctx *c = arg;
    int64_t id = store_row_int(r, 0);
    for (size_t i = 0; i < c->db->ntables; i++) {
        struct ddb_table *t = c->db->tables[i];
        if (t->tid == id) {
            t->items = store_row_int(r, 1);
            t->bytes = store_row_int(r, 2);
        }
        for (size_t j = 0; j < t->nidx; j++)
            if (t->idx[j].xid == id) {
                t->idx[j].items = store_row_int(r, 1);
                t->idx[j].bytes = store_row_int(r, 2);
            }
    }
    return true;
}

int ddb__counts_load(struct ddb *db);
int ddb__counts_load(struct ddb *db)
{
    char e[256];
    struct store_stmt *all =
        store_prepare(db->store, "SELECT id, items, bytes FROM ddb_counts", e, sizeof e);
    struct counts_ctx c = {db};
    return all && store_query(db->store, all, NULL, 0, counts_row, &c) >= 0 ? 0 : -1;
}

/* ---- cursors ---- */

struct cand {
    uint32_t h;
    const uint8_t *part[4];
    uint16_t len[4];
    struct ddb_skey base, idx;
    const struct ddb_value *item;
};

struct run {
    struct ddb *db;
    const struct ddb_cursor *cur;
    ddb_cursor_fn fn;
    void *arg;
    struct cand *cands;
    size_t ncands, next;
    bool stopped;
    bool bad;
    bool check_pend;
    struct ddb_value item;
};

/* Order of two positions (h, parts…): index cursors compare 4 parts, base ones 2. */
static int pos_cmp(uint32_t ha, const uint8_t *const *pa, const uint16_t *la, uint32_t hb,
                   const uint8_t *const *pb, const uint16_t *lb, int nparts)
{
    if (ha != hb)
        return ha < hb ? -1 : 1;
    for (int i = 0; i < nparts; i++) {
        int c = ddb_bytes_cmp(pa[i], la[i], pb[i], lb[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

static int nparts_of(const struct ddb_cursor *cur)
{
    return cur->x ? 4 : 2;
}

static void cand_pos(const struct ddb_cursor *cur, struct cand *c)
{
    if (cur->x) {
        c->h = c->idx.h;
        c->part[0] = c->idx.pk;
        c->len[0] = c->idx.pklen;
        c->part[1] = c->idx.sk;
        c->len[1] = c->idx.sklen;
        c->part[2] = c->base.pk;
        c->len[2] = c->base.pklen;
        c->part[3] = c->base.sk;
        c->len[3] = c->base.sklen;
    } else {
        c->h = c->base.h;
        c->part[0] = c->base.pk;
        c->len[0] = c->base.pklen;
        c->part[1] = c->base.sk;
        c->len[1] = c->base.sklen;
    }
}

/* The start position of the cursor, as a candidate-shaped position. */
static void start_pos(const struct ddb_cursor *cur, struct cand *s)
{
    s->base = cur->start_base;
    s->idx = cur->start_idx;
    cand_pos(cur, s);
}

static int range_check(const struct ddb_cursor *cur, const uint8_t *rk, size_t rkl)
{
    /* -1: before the range (in walking order: skip), 1: past it (stop), 0: inside */
    if (cur->has_lo) {
        int c = ddb_bytes_cmp(rk, rkl, (const uint8_t *)cur->lo->data, cur->lo->len);
        if (c < 0 || (c == 0 && !cur->lo_incl))
            return cur->forward ? -1 : 1;
    }
    if (cur->has_hi) {
        int c = ddb_bytes_cmp(rk, rkl, (const uint8_t *)cur->hi->data, cur->hi->len);
        if (c > 0 || (c == 0 && !cur->hi_incl))
            return cur->forward ? 1 : -1;
    }
    return 0;
}

static const struct run *cmp_run; /* for qsort: cursors run one at a time on the loop */

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    int c = pos_cmp(x->h, x->part, x->len, y->h, y->part, y->len, nparts_of(cmp_run->cur));
    return cmp_run->cur->forward ? c : -c;
}

/* The pending items that belong in the cursor's walk, sorted in walking order. */
static int collect(struct run *r)
{
    const struct ddb_cursor *cur = r->cur;
    struct ddb_table *t = cur->t;
    if (t->npend == 0)
        return 0;
    r->check_pend = true;
    r->cands = calloc(t->npend, sizeof *r->cands);
    if (r->cands == NULL)
        return -1;
    struct cand st;
    if (cur->has_start)
        start_pos(cur, &st);
    for (struct ddb_pend *p = t->pend; p; p = p->tnext) {
        if (p->item.type != DDB_M)
            continue;
        struct cand *c = &r->cands[r->ncands];
        ddb__pend_key(p, &c->base);
        if (cur->x && !ddb__index_key(cur->x, &p->item, &c->idx))
            continue;
        const struct ddb_skey *part = cur->x ? &c->idx : &c->base;
        if (cur->scan) {
            if (part->h < cur->h_lo || part->h > cur->h_hi)
                continue;
        } else {
            if (part->h != cur->h || ddb_bytes_cmp(part->pk, part->pklen, cur->pk, cur->pklen) != 0)
                continue;
            if (range_check(cur, part->sk, part->sklen) != 0)
                continue;
        }
        c->item = &p->item;
        cand_pos(cur, c);
        if (cur->has_start) {
            int cmp = pos_cmp(c->h, c->part, c->len, st.h, st.part, st.len, nparts_of(cur));
            if (cur->forward ? cmp <= 0 : cmp >= 0)
                continue;
        }
        r->ncands++;
    }
    cmp_run = r;
    qsort(r->cands, r->ncands, sizeof *r->cands, cand_cmp);
    return 0;
}

/* Emits pending candidates that come before position (h, parts) (all when h_none). */
static bool emit_before(struct run *r, bool all, uint32_t h, const uint8_t *const *parts,
                        const uint16_t *lens)
{
    while (r->next < r->ncands && !r->stopped) {
        struct cand *c = &r->cands[r->next];
        if (!all) {
            int cmp = pos_cmp(c->h, c->part, c->len, h, parts, lens, nparts_of(r->cur));
            if (r->cur->forward ? cmp >= 0 : cmp <= 0)
                break;
        }
        r->next++;
        /* the pending version may have changed since collect() only through this walk's
         * own callbacks, which do not write: the pointer is still good */
        if (!r->fn(r->arg, &c->base, c->item))
            r->stopped = true;
    }
    return !r->stopped;
}

static bool row_cb(void *arg, const struct store_row *row)
{
    struct run *r = arg;
    const struct ddb_cursor *cur = r->cur;
    struct ddb_skey base;
    uint32_t h = (uint32_t)store_row_int(row, 0);
    const uint8_t *parts[4];
    uint16_t lens[4];
    int np = nparts_of(cur), col = 1;
    for (int i = 0; i < np; i++) {
        size_t n;
        parts[i] = store_row_blob(row, col++, &n);
        lens[i] = (uint16_t)(n > DDB_KEY_BYTES ? DDB_KEY_BYTES : n);
    }
    const uint8_t *bpk = parts[np - 2], *bsk = parts[np - 1];
    base.pklen = lens[np - 2];
    base.sklen = lens[np - 1];
    memcpy(base.pk, bpk, base.pklen);
    memcpy(base.sk, bsk, base.sklen);
    base.h = cur->x ? ddb__hash(base.pk, base.pklen) : h;
    /* the range part: bounds end the walk */
    if (!cur->scan) {
        int rc = range_check(cur, parts[1], lens[1]);
        if (rc > 0) {
            return false;
        }
        if (rc < 0)
            return true;
    }
    if (cur->has_start) {
        struct cand st;
        start_pos(cur, &st);
        if (pos_cmp(h, parts, lens, st.h, st.part, st.len, np) == 0)
            return true;
    }
    if (!emit_before(r, false, h, parts, lens))
        return false;
    if (r->check_pend && ddb__pend_find(r->db, cur->t, &base) != NULL)
        return true; /* its pending version is a candidate (or deleted) */
    size_t n, used;
    const void *blob = store_row_blob(row, np + 1, &n);
    ddb_value_destroy(&r->item);
    if (ddb_value_unpack(blob, n, &r->item, &used) != 0 || r->item.type != DDB_M) {
        r->bad = true;
        return false;
    }
    if (!r->fn(r->arg, &base, &r->item)) {
        r->stopped = true;
        return false;
    }
    return true;
}

int ddb__cursor_run(struct ddb *db, const struct ddb_cursor *cur, ddb_cursor_fn fn, void *arg)
{
    struct run r = {.db = db, .cur = cur, .fn = fn, .arg = arg};
    if (collect(&r) != 0)
        return -1;
    struct ddb_table *t = cur->t;
    struct store_val v[8];
    size_t nv = 0;
    enum sql_id q;
    /* the lower (forward) or upper (backward) bound of the walk */
    const uint8_t *b_isk = NULL, *b_pk = NULL, *b_sk = NULL;
    size_t l_isk = 0, l_pk = 0, l_sk = 0;
    bool top = false;
    if (cur->has_start) {
        const struct ddb_skey *s = cur->x ? &cur->start_idx : &cur->start_base;
        b_isk = s->sk;
        l_isk = s->sklen;
        b_pk = cur->start_base.pk;
        l_pk = cur->start_base.pklen;
        b_sk = cur->start_base.sk;
        l_sk = cur->start_base.sklen;
    } else if (!cur->scan && cur->forward && cur->has_lo) {
        b_isk = (const uint8_t *)cur->lo->data;
        l_isk = cur->lo->len;
    } else if (!cur->scan && !cur->forward && cur->has_hi) {
        b_isk = (const uint8_t *)cur->hi->data;
        l_isk = cur->hi->len;
        b_pk = b_sk = top_sentinel;
        l_pk = l_sk = sizeof top_sentinel;
    } else {
        top = !cur->forward;
    }
    if (top) {
        b_isk = b_pk = b_sk = top_sentinel;
        l_isk = l_pk = l_sk = sizeof top_sentinel;
    } else {
        if (b_isk == NULL)
            b_isk = (const uint8_t *)"", l_isk = 0;
        if (b_pk == NULL)
            b_pk = (const uint8_t *)"", l_pk = 0;
        if (b_sk == NULL)
            b_sk = (const uint8_t *)"", l_sk = 0;
    }
    if (cur->x == NULL && cur->scan) {
        q = Q_SCAN;
        uint32_t h0 = cur->has_start ? cur->start_base.h : cur->h_lo;
        v[nv++] = store_int(t->tid);
        v[nv++] = store_int(h0);
        v[nv++] = store_blob(cur->has_start ? cur->start_base.pk : (const uint8_t *)"",
                             cur->has_start ? cur->start_base.pklen : 0);
        v[nv++] = store_blob(cur->has_start ? cur->start_base.sk : (const uint8_t *)"",
                             cur->has_start ? cur->start_base.sklen : 0);
        v[nv++] = store_int(cur->h_hi);
    } else if (cur->x == NULL) {
        q = cur->forward ? Q_ASC : Q_DESC;
        v[nv++] = store_int(t->tid);
        v[nv++] = store_int(cur->h);
        v[nv++] = store_blob(cur->pk, cur->pklen);
        v[nv++] = store_blob(b_isk, l_isk);
    } else if (cur->scan) {
        q = Q_X_SCAN;
        v[nv++] = store_int(t->tid);
        v[nv++] = store_int(cur->x->xid);
        if (cur->has_start) {
            v[nv++] = store_int(cur->start_idx.h);
            v[nv++] = store_blob(cur->start_idx.pk, cur->start_idx.pklen);
            v[nv++] = store_blob(cur->start_idx.sk, cur->start_idx.sklen);
            v[nv++] = store_blob(cur->start_base.pk, cur->start_base.pklen);
            v[nv++] = store_blob(cur->start_base.sk, cur->start_base.sklen);
        } else {
            v[nv++] = store_int(cur->h_lo);
            v[nv++] = store_blob("", 0);
            v[nv++] = store_blob("", 0);
            v[nv++] = store_blob("", 0);
            v[nv++] = store_blob("", 0);
        }
        v[nv++] = store_int(cur->h_hi);
    } else {
        q = cur->forward ? Q_X_ASC : Q_X_DESC;
        v[nv++] = store_int(t->tid);
        v[nv++] = store_int(cur->x->xid);
        v[nv++] = store_int(cur->h);
        v[nv++] = store_blob(cur->pk, cur->pklen);
        v[nv++] = store_blob(b_isk, l_isk);
        v[nv++] = store_blob(b_pk, l_pk);
        v[nv++] = store_blob(b_sk, l_sk);
    }
    long n = store_query(db->store, S(db, q), v, nv, row_cb, &r);
    int rc = n < 0 || r.bad ? -1 : 0;
    if (rc == 0 && !r.stopped)
        emit_before(&r, true, 0, NULL, NULL);
    ddb_value_destroy(&r.item);
    free(r.cands);
    if (rc != 0)
        LOG_ERROR("dynamodb", NULL, "table %s: a read failed", t->name);
    return rc;
}

/* ---- background work: index backfills and purges ---- */

struct bf_ctx {
    struct ddb *db;
    struct ddb_table *t;
    int64_t xid;
    struct ddb_wb *wb;
    size_t rows;
    bool more;
    uint32_t last_h;
    struct ddb_skey last;
    int64_t added;
    int64_t bytes;
};

static bool bf_row(void *arg, const struct store_row *row)
{
    struct bf_ctx *b = arg;
    struct ddb_index *x = NULL;
    for (size_t i = 0; i < b->t->nidx; i++)
        if (b->t->idx[i].xid == b->xid)
            x = &b->t->idx[i];
    if (x == NULL)
        return false;
    if (b->rows == 1000) {
        b->more = true;
        return false;
    }
    b->rows++;
    struct ddb_skey k;
    size_t n;
    row_key(row, 0, &k);
    b->last = k;
    if (ddb__pend_find(b->db, b->t, &k) != NULL)
        return true; /* a pending write maintains its own entries */
    struct ddb_value item;
    size_t used;
    const void *blob = store_row_blob(row, 3, &n);
    if (ddb_value_unpack(blob, n, &item, &used) != 0)
        return true;
    struct ddb_skey xk;
    if (ddb__index_key(x, &item, &xk)) {
        index_entry_add(b->wb, x, &xk, &k);
        b->added++;
        b->bytes += (int64_t)proj_size(b->t, x, &item);
    }
    ddb_value_destroy(&item);
    return true;
}

struct bf_done_ctx {
    struct ddb *db;
    struct ddb_table *t;
    int64_t xid;
    bool more;
    struct ddb_skey last;
};

static void bg_next(struct ddb *db);

static bool count_row(void *arg, const struct store_row *row)
{
    *(int64_t *)arg = store_row_int(row, 0);
    return false;
}

static void bf_done(void *arg, int rc)
{
    struct bf_done_ctx *d = arg;
    struct ddb *db = d->db;
    struct ddb_index *x = NULL;
    for (size_t i = 0; d->t->status != DDB_DELETING && i < d->t->nidx; i++)
        if (d->t->idx[i].xid == d->xid)
            x = &d->t->idx[i];
    if (x != NULL && rc == 0) {
        x->bf_h = d->last.h;
        buf_reset(&x->bf_pk);
        buf_reset(&x->bf_sk);
        buf_append(&x->bf_pk, d->last.pk, d->last.pklen);
        buf_append(&x->bf_sk, d->last.sk, d->last.sklen);
        if (!d->more) {
            int64_t items = 0;
            struct store_val v[1] = {store_int(x->xid)};
            store_query(db->store, S(db, Q_COUNT_INDEX), v, 1, count_row, &items);
            x->items = items;
            x->bytes = d->t->items > 0 ? d->t->bytes / d->t->items * items : 0;
            x->status = DDB_ACTIVE;
            struct store_batch *b = store_batch_new(db->store);
            if (b) {
                ddb__meta_put(db, b, d->t);
                ddb__counts_set(db, b, x->xid, x->items, x->bytes);
            }
            store_batch_submit(db->store, b, NULL, NULL);
            LOG_INFO("dynamodb", NULL, "table %s: index %s is ACTIVE (%lld items)", d->t->name,
                     x->name, (long long)items);
        }
    }
    if (--d->t->busy_ops == 0 && d->t->status == DDB_DELETING)
        ddb__table_free(d->t);
    free(d);
    db->sql->bg_busy = false;
    bg_next(db);
}

void ddb__backfill_step(struct ddb *db, struct ddb_table *t, struct ddb_index *x)
{
    struct bf_ctx b = {.db = db, .t = t, .xid = x->xid};
    b.wb = ddb__wb_new(db);
    struct bf_done_ctx *d = calloc(1, sizeof *d);
    if (b.wb == NULL || d == NULL) {
        free(d);
        ddb__wb_free(b.wb);
        return;
    }
    bool first = !x->backfill_started;
    x->backfill_started = true;
    struct store_val v[5] = {store_int(t->tid), store_int(first ? 0 : x->bf_h),
                             store_blob(first ? "" : x->bf_pk.data, first ? 0 : x->bf_pk.len),
                             store_blob(first ? "" : x->bf_sk.data, first ? 0 : x->bf_sk.len),
                             store_int(UINT32_MAX)};
    b.last.h = first ? 0 : x->bf_h;
    b.last.pklen = b.last.sklen = 0;
    if (!first) {
        b.last.pklen = (uint16_t)x->bf_pk.len;
        memcpy(b.last.pk, x->bf_pk.data, x->bf_pk.len);
        b.last.sklen = (uint16_t)x->bf_sk.len;
        memcpy(b.last.sk, x->bf_sk.data, x->bf_sk.len);
    }
    /* the walk is inclusive of its start: the start row was done last time (harmless) */
    store_query(db->store, S(db, Q_SCAN), v, 5, bf_row, &b);
    *d = (struct bf_done_ctx){db, t, x->xid, b.more, b.last};
    t->busy_ops++;
    db->sql->bg_busy = true;
    store_batch_submit(db->store, b.wb->b, bf_done, d);
    b.wb->b = NULL;
    wb_release(b.wb);
}

struct purge_done {
    struct ddb *db;
    size_t i;
};

static void purge_done(void *arg, int rc)
{
    struct purge_done *p = arg;
    (void)rc;
    p->db->sql->bg_busy = false;
    bg_next(p->db);
    free(p);
}

static bool any_row(void *arg, const struct store_row *row)
{
    (void)row;
    *(bool *)arg = true;
    return false;
}

/* One purge step; false when there is none left. */
static bool purge_step(struct ddb *db)
{
    struct ddb_sql *s = db->sql;
    while (s->npurge > 0) {
        int64_t id = s->purge[0];
        bool idx = s->purge_index[0];
        bool has = false;
        struct store_val v[1] = {store_int(id)};
        store_query(db->store, S(db, idx ? Q_HAS_INDEX : Q_HAS_ITEMS), v, 1, any_row, &has);
        struct store_batch *b = store_batch_new(db->store);
        struct purge_done *pd = calloc(1, sizeof *pd);
        if (b == NULL || pd == NULL) {
            store_batch_discard(b);
            free(pd);
            return false;
        }
        pd->db = db;
        if (has) {
            store_batch_add(b, S(db, idx ? Q_PURGE_INDEX : Q_PURGE_ITEMS), v, 1);
        } else {
            store_batch_add(b, S(db, Q_PURGE_DEL), v, 1);
            store_batch_add(b, S(db, Q_COUNT_DEL), v, 1);
            memmove(s->purge, s->purge + 1, (s->npurge - 1) * sizeof *s->purge);
            memmove(s->purge_index, s->purge_index + 1, (s->npurge - 1) * sizeof *s->purge_index);
            s->npurge--;
        }
        s->bg_busy = true;
        store_batch_submit(db->store, b, purge_done, pd);
        return true;
    }
    return false;
}

/* The first index being created (its entries backfilled), or NULL; *tp its table. */
static struct ddb_index *creating_index(struct ddb *db, struct ddb_table **tp)
{
    for (size_t i = 0; i < db->ntables; i++) {
        struct ddb_table *t = db->tables[i];
        for (size_t j = 0; j < t->nidx; j++)
            if (t->idx[j].status == DDB_CREATING) {
                *tp = t;
                return &t->idx[j];
            }
    }
    return NULL;
}

static void bg_next(struct ddb *db)
{
    struct ddb_table *t;
    if (db->sql->bg_busy || !db->restored)
        return;
    if (creating_index(db, &t) != NULL || db->sql->npurge > 0)
        timer_start(&db->bg_timer, 0);
}

void ddb__bg_kick(struct ddb *db)
{
    bg_next(db);
}

void ddb__bg_run(struct ddb *db);
void ddb__bg_run(struct ddb *db)
{
    if (db->sql->bg_busy)
        return;
    struct ddb_table *t;
    struct ddb_index *x = creating_index(db, &t);
    if (x != NULL)
        ddb__backfill_step(db, t, x);
    else
        purge_step(db);
}

/* Appends a storage id to the purges in progress. Returns 0 or -1 (out of memory). */
static int purge_push(struct ddb_sql *s, int64_t id, bool index)
{
    int64_t *np = realloc(s->purge, (s->npurge + 1) * sizeof *np);
    if (np == NULL)
        return -1;
    s->purge = np;
    bool *ni = realloc(s->purge_index, (s->npurge + 1) * sizeof *ni);
    if (ni == NULL)
        return -1;
    s->purge_index = ni;
    s->purge[s->npurge] = id;
    s->purge_index[s->npurge] = index;
    s->npurge++;
    return 0;
}

int ddb__purge_add(struct ddb *db, struct store_batch *b, int64_t id, bool index)
{
    if (purge_push(db->sql, id, index) != 0)
        return -1;
    struct store_val v[2] = {store_int(id), store_int(index)};
    return store_batch_add(b, S(db, Q_PURGE_ADD), v, 2);
}

static bool purge_row(void *arg, const struct store_row *r)
{
    struct ddb *db = arg;
    return purge_push(db->sql, store_row_int(r, 0), store_row_int(r, 1) != 0) == 0;
}

int ddb__purge_load(struct ddb *db);
int ddb__purge_load(struct ddb *db)
{
    return store_query(db->store, S(db, Q_PURGE_ALL), NULL, 0, purge_row, db) >= 0 ? 0 : -1;
}

/* ---- TTL rows ---- */

struct ttl_row {
    int64_t at;
    int64_t tid;
    struct ddb_skey k;
};

struct ttl_ctx {
    struct ttl_row *rows;
    size_t n, cap;
    int64_t now_s;
    int64_t next_at; /* the first entry not yet due, or -1 */
};

static bool ttl_row_cb(void *arg, const struct store_row *row)
{
    struct ttl_ctx *c = arg;
    int64_t at = store_row_int(row, 0);
    if (at > c->now_s) {
        c->next_at = at;
        return false;
    }
    if (c->n == c->cap) {
        c->next_at = at;
        return false;
    }
    struct ttl_row *t = &c->rows[c->n++];
    t->at = at;
    t->tid = store_row_int(row, 1);
    row_key(row, 2, &t->k);
    return true;
}

/* The TTL entries due at now_s (at most max, earliest first) into a new array; *n their
 * count, *next_at the first entry left (-1: none). */
void *ddb__ttl_due(struct ddb *db, size_t max, int64_t now_s, size_t *n, int64_t *next_at);
void *ddb__ttl_due(struct ddb *db, size_t max, int64_t now_s, size_t *n, int64_t *next_at)
{
    struct ttl_ctx c = {calloc(max ? max : 1, sizeof(struct ttl_row)), 0, max, now_s, -1};
    *n = 0;
    *next_at = -1;
    if (c.rows == NULL)
        return NULL;
    struct store_val v[1] = {store_int((int64_t)max + 1)};
    store_query(db->store, S(db, Q_TTL_DUE), v, 1, ttl_row_cb, &c);
    *n = c.n;
    *next_at = c.next_at;
    return c.rows;
}

/* Accessors of one due TTL entry (for ttl.c). */
int64_t ddb__ttl_row_at(const void *rows, size_t i, int64_t *tid, const struct ddb_skey **k);
int64_t ddb__ttl_row_at(const void *rows, size_t i, int64_t *tid, const struct ddb_skey **k)
{
    const struct ttl_row *r = &((const struct ttl_row *)rows)[i];
    *tid = r->tid;
    *k = &r->k;
    return r->at;
}

/* Walks every committed item of t (TTL backfill): fn(arg, key, item). */
struct walk_ctx {
    struct ddb *db;
    struct ddb_table *t;
    bool (*fn)(void *arg, const struct ddb_skey *k, const struct ddb_value *item);
    void *arg;
};

static bool walk_row(void *arg, const struct store_row *row)
{
    struct walk_ctx *w = arg;
    struct ddb_skey k;
    size_t n, used;
    row_key(row, 0, &k);
    if (ddb__pend_find(w->db, w->t, &k) != NULL)
        return true;
    struct ddb_value item;
    const void *p = store_row_blob(row, 3, &n);
    if (ddb_value_unpack(p, n, &item, &used) != 0)
        return true;
    bool go = w->fn(w->arg, &k, &item);
    ddb_value_destroy(&item);
    return go;
}

int ddb__walk_committed(struct ddb *db, struct ddb_table *t,
                        bool (*fn)(void *arg, const struct ddb_skey *k,
                                   const struct ddb_value *item),
                        void *arg);
int ddb__walk_committed(struct ddb *db, struct ddb_table *t,
                        bool (*fn)(void *arg, const struct ddb_skey *k,
                                   const struct ddb_value *item),
                        void *arg)
{
    struct walk_ctx w = {db, t, fn, arg};
    struct store_val v[5] = {store_int(t->tid), store_int(0), store_blob("", 0), store_blob("", 0),
                             store_int(UINT32_MAX)};
    return store_query(db->store, S(db, Q_SCAN), v, 5, walk_row, &w) >= 0 ? 0 : -1;
}
