#include "cloud/store.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sqlite3.h>

/* Prepared statements of one connection. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
    sqlite3_stmt *each;
};

struct op {
    struct op *next;
    bool is_delete;
    int rc;
    store_done_fn done;
    void *arg;
    char *kind, *key, *value;
    size_t len;
};

struct store {
    struct conn loop;   /* the loop thread's connection */
    struct conn writer; /* the persistence thread's connection */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* work arrived, or stop */
    pthread_cond_t idle_cv; /* the queue was committed */
    struct op *queue_head, *queue_tail;
    struct op *done_head, *done_tail;
    bool busy; /* the thread is committing a batch */
    bool stop;
    int efd;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"
    "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, key TEXT NOT NULL,"
    " value BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (kind, key));";

static int conn_open(struct conn *c, const char *path)
{
    if (sqlite3_open(path, &c->db) != SQLITE_OK)
        return -1;
    if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO records(kind,key,value,seq) VALUES(?1,?2,?3,"
                           "(SELECT IFNULL(MAX(seq),0)+1 FROM records)) ON CONFLICT(kind,key) "
                           "DO UPDATE SET value=excluded.value",
                           -1, &c->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "DELETE FROM records WHERE kind=?1 AND key=?2", -1, &c->del,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT key, value FROM records WHERE kind=?1 ORDER BY seq", -1,
                           &c->each, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static void conn_close(struct conn *c)
{
    sqlite3_finalize(c->put);
    sqlite3_finalize(c->del);
    sqlite3_finalize(c->each);
    sqlite3_close(c->db);
    memset(c, 0, sizeof(*c));
}

static int conn_put(struct conn *c, const char *kind, const char *key, const char *value,
                    size_t len)
{
    sqlite3_reset(c->put);
    sqlite3_bind_text(c->put, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->put, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(c->put, 3, value, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(c->put);
    sqlite3_reset(c->put);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int conn_delete(struct conn *c, const char *kind, const char *key)
{
    sqlite3_reset(c->del);
    sqlite3_bind_text(c->del, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->del, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(c->del);
    sqlite3_reset(c->del);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void op_free(struct op *o)
{
    if (o == NULL)
        return;
    free(o->kind);
    free(o->key);
    free(o->value);
    free(o);
}

/* The persistence thread: takes everything queued, commits it in one transaction. */
static void *writer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (st->queue_head == NULL && !st->stop)
            pthread_cond_wait(&st->cv, &st->mu);
        if (st->queue_head == NULL && st->stop)
            break;
        struct op *batch = st->queue_head, *last = st->queue_tail;
        st->queue_head = st->queue_tail = NULL;
        st->busy = true;
        pthread_mutex_unlock(&st->mu);

        int rc =
            sqlite3_exec(st->writer.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        for (struct op *o = batch; o && rc == 0; o = o->next)
            rc = o->is_delete ? conn_delete(&st->writer, o->kind, o->key)
                              : conn_put(&st->writer, o->kind, o->key, o->value, o->len);
        if (rc == 0)
            rc = sqlite3_exec(st->writer.db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        if (rc != 0)
            sqlite3_exec(st->writer.db, "ROLLBACK", NULL, NULL, NULL);
        for (struct op *o = batch; o; o = o->next)
            o->rc = rc;

        pthread_mutex_lock(&st->mu);
        if (st->done_tail)
            st->done_tail->next = batch;
        else
            st->done_head = batch;
        st->done_tail = last;
        st->busy = false;
        pthread_cond_broadcast(&st->idle_cv);
        uint64_t one = 1;
        ssize_t w = write(st->efd, &one, sizeof(one));
        (void)w;
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/haar.db", dir);
    struct store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->efd = -1;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    pthread_cond_init(&st->idle_cv, NULL);
    if (conn_open(&st->loop, path) != 0) {
        snprintf(err, errlen, "%s: %s", path,
                 st->loop.db ? sqlite3_errmsg(st->loop.db) : "cannot open");
        goto fail;
    }
    if (conn_open(&st->writer, path) != 0) {
        snprintf(err, errlen, "%s: %s", path,
                 st->writer.db ? sqlite3_errmsg(st->writer.db) : "cannot open");
        goto fail;
    }
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0) {
        snprintf(err, errlen, "eventfd failed");
        goto fail;
    }
    if (pthread_create(&st->thread, NULL, writer_main, st) != 0) {
        snprintf(err, errlen, "cannot start the persistence thread");
        goto fail;
    }
    st->thread_started = true;
    return st;
fail:
    store_close(st);
    return NULL;
}

void store_flush(struct store *st)
{
    if (st == NULL || !st->thread_started)
        return;
    pthread_mutex_lock(&st->mu);
    while (st->queue_head != NULL || st->busy)
        pthread_cond_wait(&st->idle_cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
    store_poll(st);
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->thread_started) {
        store_flush(st);
        pthread_mutex_lock(&st->mu);
        st->stop = true;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->thread, NULL);
        store_poll(st);
    }
    conn_close(&st->loop);
    conn_close(&st->writer);
    if (st->efd >= 0)
        close(st->efd);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    pthread_cond_destroy(&st->idle_cv);
    free(st);
}

int store_put(struct store *st, const char *kind, const char *key, const char *value, size_t len)
{
    return conn_put(&st->loop, kind, key, value, len);
}

int store_delete(struct store *st, const char *kind, const char *key)
{
    return conn_delete(&st->loop, kind, key);
}

int store_each(struct store *st, const char *kind,
               void (*cb)(void *arg, const char *key, const char *value, size_t len), void *arg)
{
    sqlite3_stmt *q = st->loop.each;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        const char *v = sqlite3_column_blob(q, 1);
        int n = sqlite3_column_bytes(q, 1);
        cb(arg, k ? k : "", v ? v : "", (size_t)n);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int submit(struct store *st, bool del, const char *kind, const char *key, const char *value,
                  size_t len, store_done_fn done, void *arg)
{
    struct op *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return -1;
    o->is_delete = del;
    o->done = done;
    o->arg = arg;
    o->kind = strdup(kind);
    o->key = strdup(key);
    if (!del) {
        o->value = malloc(len ? len : 1);
        if (o->value)
            memcpy(o->value, value, len);
        o->len = len;
    }
    if (o->kind == NULL || o->key == NULL || (!del && o->value == NULL)) {
        op_free(o);
        return -1;
    }
    pthread_mutex_lock(&st->mu);
    if (st->queue_tail)
        st->queue_tail->next = o;
    else
        st->queue_head = o;
    st->queue_tail = o;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

int store_submit_put(struct store *st, const char *kind, const char *key, const char *value,
                     size_t len, store_done_fn done, void *arg)
{
    return submit(st, false, kind, key, value, len, done, arg);
}

int store_submit_delete(struct store *st, const char *kind, const char *key, store_done_fn done,
                        void *arg)
{
    return submit(st, true, kind, key, NULL, 0, done, arg);
}

int store_notify_fd(const struct store *st)
{
    return st->efd;
}

int store_poll(struct store *st)
{
    uint64_t v;
    ssize_t r = read(st->efd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&st->mu);
    struct op *list = st->done_head;
    st->done_head = st->done_tail = NULL;
    pthread_mutex_unlock(&st->mu);
    int n = 0;
    while (list) {
        struct op *next = list->next;
        if (list->done)
            list->done(list->arg, list->rc);
        op_free(list);
        list = next;
        n++;
    }
    return n;
}
