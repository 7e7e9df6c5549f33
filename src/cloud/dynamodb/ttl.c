/*
 * ttl.c — Time to Live: an item whose TTL attribute is a Number of epoch seconds in the past
 * is deleted (AWS takes up to a few days; haar deletes it when the time comes). Every
 * enabled table keeps its items' expiry times in ddb_ttl (time order, written with the item);
 * one CLOCK timer is due at the earliest, so under `haar up --clock manual`
 * POST /_haar/clock expires items deterministically.
 *
 * As on AWS: only Number values count; a value more than five years in the past is never
 * expired; a deletion by TTL is an ordinary delete (indexes and counters follow). The TTL
 * attribute's expiry is read in whole seconds (a fraction is dropped).
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

#define FIVE_YEARS_S (5LL * 365 * 86400)
#define SWEEP_MAX    10000

void *ddb__ttl_due(struct ddb *db, size_t max, int64_t now_s, size_t *n, int64_t *next_at);
int64_t ddb__ttl_row_at(const void *rows, size_t i, int64_t *tid, const struct ddb_skey **k);
int ddb__ttl_row_del(struct ddb_wb *wb, int64_t at, int64_t tid, const struct ddb_skey *k);

int64_t ddb__ttl_of(const struct ddb_table *t, const struct ddb_value *item)
{
    if (!t->ttl_enabled || t->ttl_attr == NULL || item == NULL || item->type != DDB_M)
        return -1;
    const struct ddb_value *v = ddb_map_get(item, t->ttl_attr, strlen(t->ttl_attr));
    if (v == NULL || v->type != DDB_N)
        return -1;
    const struct ddb_num *n = &v->u.num;
    if (n->neg || n->ndig == 0 || n->exp < 0 || n->exp > 15)
        return -1;
    int64_t s = 0;
    for (int i = 0; i <= n->exp; i++)
        s = s * 10 + (i < n->ndig ? n->dig[i] : 0);
    return s;
}

void ddb__ttl_schedule(struct ddb *db, int64_t at_s)
{
    int64_t due = at_s * 1000;
    if (db->ttl_due_ms >= 0 && db->ttl_due_ms <= due && timer_pending(&db->ttl_timer))
        return;
    db->ttl_due_ms = due;
    timer_start_epoch(&db->ttl_timer, due);
}

static struct ddb_table *table_by_tid(struct ddb *db, int64_t tid)
{
    for (size_t i = 0; i < db->ntables; i++)
        if (db->tables[i]->tid == tid)
            return db->tables[i];
    return NULL;
}

static void sweep_done(void *arg, int rc)
{
    struct ddb *db = arg;
    db->ttl_sweeping = false;
    if (rc != 0)
        LOG_ERROR("dynamodb", NULL, "TTL: a deletion batch failed to commit");
}

void ddb__ttl_fire(struct timer *tm);
void ddb__ttl_fire(struct timer *tm)
{
    struct ddb *db = tm->data;
    db->ttl_due_ms = -1;
    int64_t now_s = clock_now_ms() / 1000;
    size_t n = 0;
    int64_t next_at = -1;
    void *rows = ddb__ttl_due(db, SWEEP_MAX, now_s, &n, &next_at);
    struct ddb_wb *wb = n ? ddb__wb_new(db) : NULL;
    size_t deleted = 0;
    for (size_t i = 0; wb && i < n; i++) {
        int64_t tid;
        const struct ddb_skey *k;
        int64_t at = ddb__ttl_row_at(rows, i, &tid, &k);
        struct ddb_table *t = table_by_tid(db, tid);
        if (t == NULL || !t->ttl_enabled) {
            ddb__ttl_row_del(wb, at, tid, k);
            continue;
        }
        struct ddb_value item;
        bool found;
        if (ddb__get(db, t, k, &item, &found) != 0)
            continue;
        int64_t cur = found ? ddb__ttl_of(t, &item) : -1;
        if (cur != at) {
            /* the item is gone or expires at another time: a stale entry (a write still
             * committing removes it too; removing twice is harmless) */
            if (!found || t->pend == NULL || ddb__pend_find(db, t, k) == NULL)
                ddb__ttl_row_del(wb, at, tid, k);
        } else if (at < now_s - FIVE_YEARS_S) {
            ddb__ttl_row_del(wb, at, tid, k); /* never expired, as on AWS */
        } else if (ddb__wb_write(wb, t, k, &item, NULL, NULL, false) == 0) {
            deleted++;
        }
        ddb_value_destroy(&item);
    }
    free(rows);
    if (wb) {
        db->ttl_sweeping = true;
        ddb__wb_submit(wb, sweep_done, db);
    }
    if (deleted)
        LOG_DEBUG("dynamodb", NULL, "TTL: %zu items expired", deleted);
    if (n >= SWEEP_MAX)
        timer_start(&db->ttl_timer, 0);
    else if (next_at >= 0)
        ddb__ttl_schedule(db, next_at);
}

void ddb__ttl_start(struct ddb *db)
{
    size_t n = 0;
    int64_t next_at = -1;
    void *rows = ddb__ttl_due(db, 1, -1, &n, &next_at);
    free(rows);
    if (next_at >= 0)
        ddb__ttl_schedule(db, next_at);
}
