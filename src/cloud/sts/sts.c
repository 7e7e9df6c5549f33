/*
 * sts.c — temporary credentials (see sts.h): a small open hash table by access key, a table
 * in the store, and a CLOCK timer that drops expired ones.
 */
#include "cloud/sts/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/timer.h"

enum { EXPIRE_CHECK_MS = 60000 };

struct entry {
    struct sts_creds c;
    struct entry *next;
};

struct sts {
    struct store *store;
    struct store_stmt *put, *del, *all;
    struct entry *buckets[256];
    size_t n;
    struct timer expire; /* TIMER_CLOCK */
};

static const char *const steps[] = {
    "CREATE TABLE IF NOT EXISTS sts_credentials (access_key TEXT PRIMARY KEY, secret TEXT NOT"
    " NULL, token TEXT NOT NULL, arn TEXT NOT NULL, user_id TEXT NOT NULL, expires_ms INTEGER"
    " NOT NULL) WITHOUT ROWID;",
};
static const struct store_schema schema = {"sts", steps, 1};

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h & 255;
}

static void insert(struct sts *s, struct entry *e)
{
    unsigned h = hash(e->c.access_key);
    e->next = s->buckets[h];
    s->buckets[h] = e;
    s->n++;
}

/* Drops expired credentials (and their rows). */
static void sweep(struct sts *s)
{
    int64_t now = clock_now_ms();
    for (int b = 0; b < 256; b++) {
        struct entry **pp = &s->buckets[b];
        while (*pp) {
            struct entry *e = *pp;
            if (e->c.expires_ms > now) {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            s->n--;
            if (s->store) {
                struct store_val k = store_text(e->c.access_key);
                store_exec(s->store, s->del, &k, 1, NULL, NULL);
            }
            free(e);
        }
    }
}

static void on_expire(struct timer *t)
{
    struct sts *s = t->data;
    sweep(s);
    if (s->n > 0)
        timer_start(t, EXPIRE_CHECK_MS);
}

struct sts *sts_new(struct store *store, char *err, size_t errlen)
{
    struct sts *s = calloc(1, sizeof *s);
    if (s == NULL || timer_init(&s->expire, TIMER_CLOCK, on_expire, s) != 0) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->store = store;
    if (store != NULL &&
        (store_schema_apply(store, &schema, err, errlen) != 0 ||
         (s->put = store_prepare(store,
                                 "INSERT OR REPLACE INTO sts_credentials VALUES (?1, ?2, ?3, ?4,"
                                 " ?5, ?6)",
                                 err, errlen)) == NULL ||
         (s->del = store_prepare(store, "DELETE FROM sts_credentials WHERE access_key = ?1", err,
                                 errlen)) == NULL ||
         (s->all = store_prepare(store, "SELECT * FROM sts_credentials", err, errlen)) == NULL)) {
        sts_free(s);
        return NULL;
    }
    return s;
}

static void copy_col(const struct store_row *r, int col, char *out, size_t cap)
{
    size_t n;
    const char *t = store_row_text(r, col, &n);
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), t);
}

static bool restore_row(void *arg, const struct store_row *r)
{
    struct sts *s = arg;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return false;
    copy_col(r, 0, e->c.access_key, sizeof e->c.access_key);
    copy_col(r, 1, e->c.secret, sizeof e->c.secret);
    copy_col(r, 2, e->c.token, sizeof e->c.token);
    copy_col(r, 3, e->c.arn, sizeof e->c.arn);
    copy_col(r, 4, e->c.user_id, sizeof e->c.user_id);
    e->c.expires_ms = store_row_int(r, 5);
    insert(s, e);
    return true;
}

void sts_restore(struct sts *s)
{
    if (s->store == NULL)
        return;
    store_query(s->store, s->all, NULL, 0, restore_row, s);
    sweep(s);
    if (s->n > 0)
        timer_start(&s->expire, EXPIRE_CHECK_MS);
}

void sts_free(struct sts *s)
{
    if (s == NULL)
        return;
    for (int b = 0; b < 256; b++) {
        struct entry *e = s->buckets[b];
        while (e) {
            struct entry *n = e->next;
            free(e);
            e = n;
        }
    }
    timer_destroy(&s->expire);
    free(s);
}

struct issue {
    struct sts *s;
    struct entry *e;
    sts_done_fn done;
    void *arg;
    struct timer t; /* TIMER_REAL: completion without a store */
};

static void issued(void *arg, int rc)
{
    struct issue *is = arg;
    if (rc == 0) {
        insert(is->s, is->e);
        if (!timer_pending(&is->s->expire))
            timer_start(&is->s->expire, EXPIRE_CHECK_MS);
    }
    is->done(is->arg, rc, rc == 0 ? &is->e->c : NULL);
    if (rc != 0)
        free(is->e);
    timer_destroy(&is->t);
    free(is);
}

static void issued_timer(struct timer *t)
{
    issued(t->data, 0);
}

void sts_issue(struct sts *s, const char *arn, const char *user_id, int duration_s,
               sts_done_fn done, void *arg)
{
    struct issue *is = calloc(1, sizeof *is);
    struct entry *e = calloc(1, sizeof *e);
    if (is == NULL || e == NULL || timer_init(&is->t, TIMER_REAL, issued_timer, is) != 0) {
        free(is);
        free(e);
        LOG_ERROR("sts", NULL, "out of memory");
        return;
    }
    memcpy(e->c.access_key, "ASIA", 4);
    ids_alnum_upper(e->c.access_key + 4, 16);
    ids_secret(e->c.secret, 40);
    /* session tokens are long opaque strings; SDKs pass them back as given */
    memcpy(e->c.token, "IQoJb3JpZ2luX2VjE", 17);
    ids_secret(e->c.token + 17, 300);
    snprintf(e->c.arn, sizeof e->c.arn, "%s", arn);
    snprintf(e->c.user_id, sizeof e->c.user_id, "%s", user_id);
    e->c.expires_ms = clock_now_ms() + (int64_t)duration_s * 1000;
    is->s = s;
    is->e = e;
    is->done = done;
    is->arg = arg;
    if (s->store == NULL) {
        timer_start(&is->t, 0);
        return;
    }
    struct store_val v[6] = {store_text(e->c.access_key), store_text(e->c.secret),
                             store_text(e->c.token),      store_text(e->c.arn),
                             store_text(e->c.user_id),    store_int(e->c.expires_ms)};
    store_exec(s->store, s->put, v, 6, issued, is);
}

const struct sts_creds *sts_lookup(struct sts *s, const char *access_key, const char *token)
{
    for (struct entry *e = s->buckets[hash(access_key)]; e; e = e->next)
        if (strcmp(e->c.access_key, access_key) == 0)
            return strcmp(e->c.token, token) == 0 && e->c.expires_ms > clock_now_ms() ? &e->c
                                                                                      : NULL;
    return NULL;
}

size_t sts_count(const struct sts *s)
{
    return s->n;
}
