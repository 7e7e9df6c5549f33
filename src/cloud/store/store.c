/*
 * store.c — see store.h. Two SQLite connections to one WAL database: `rd`, the loop's (reads,
 * schema at start), and `wr`, the persistence thread's (every write). Statements are prepared
 * on `rd` when declared and on `wr` lazily, by the thread itself, on first use. The loop's
 * reads share one read transaction until store_read_end: SQLite takes and drops its WAL read
 * lock (two fcntl calls) per transaction, which was half the system calls of a GetItem.
 */
#include "cloud/store/store.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

/* Free pages past VACUUM_MIN_FREE after a commit are given back to the file system while
 * the writer has nothing else to do, VACUUM_PAGES at a time (each step one short write). */
enum { MAX_STMTS = 256, VACUUM_MIN_FREE = 1024, VACUUM_PAGES = 4096, WAL_LIMIT = 64 << 20 };

struct store_stmt {
    char *sql;
    sqlite3_stmt *rd; /* loop thread */
    sqlite3_stmt *wr; /* persistence thread */
};

struct op {
    struct store_stmt *stmt;
    struct store_val *vals; /* copies; text and blobs in bytes */
    size_t nvals;
    char *bytes;
};

struct store_batch {
    struct store_batch *next;
    struct op *ops;
    size_t n, cap;
    bool failed; /* an add ran out of memory */
    int rc;
    store_done_fn done;
    void *arg;
};

/* The writer's transaction control, prepared once (sqlite3_exec would parse each time, and a
 * savepoint goes round every batch of several statements). */
enum ctl {
    CTL_BEGIN,
    CTL_COMMIT,
    CTL_ROLLBACK,
    CTL_SAVEPOINT,
    CTL_ROLLBACK_TO,
    CTL_RELEASE,
    CTL_N
};
static const char *const ctl_sql[CTL_N] = {"BEGIN IMMEDIATE", "COMMIT",        "ROLLBACK",
                                           "SAVEPOINT b",     "ROLLBACK TO b", "RELEASE b"};

struct store {
    sqlite3 *rd, *wr;
    sqlite3_stmt *ctl[CTL_N];        /* on wr */
    sqlite3_stmt *rd_begin, *rd_end; /* BEGIN and COMMIT on rd */
    bool reading;                    /* rd holds a read transaction (loop thread) */
    struct store_stmt *stmts[MAX_STMTS];
    int nstmts;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* work arrived, or stop */
    pthread_cond_t idle_cv; /* a group was committed */
    struct store_batch *queue_head, *queue_tail;
    struct store_batch *done_head, *done_tail;
    bool busy;
    bool stop;
    bool vacuum; /* free pages to give back (writer thread only) */
    int fail_commits;
    bool held;            /* tests: the writer leaves the queue alone */
    sqlite3_stmt *free_q; /* PRAGMA freelist_count on wr (writer thread only) */
    int efd;
};

struct store_row {
    sqlite3_stmt *q;
};

/* ---- values ---- */

static int bind_all(sqlite3_stmt *q, const struct store_val *v, size_t n)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        int col = (int)i + 1;
        switch (v[i].type) {
        case STORE_NULL:
            rc = sqlite3_bind_null(q, col);
            break;
        case STORE_INT:
            rc = sqlite3_bind_int64(q, col, v[i].i);
            break;
        case STORE_REAL:
            rc = sqlite3_bind_double(q, col, v[i].d);
            break;
        case STORE_TEXT:
            rc = sqlite3_bind_text64(q, col, v[i].p ? v[i].p : "", v[i].n, SQLITE_STATIC,
                                     SQLITE_UTF8);
            break;
        case STORE_BLOB:
            rc = sqlite3_bind_blob64(q, col, v[i].p ? v[i].p : "", v[i].n, SQLITE_STATIC);
            break;
        }
    }
    return rc == SQLITE_OK ? 0 : -1;
}

/* Runs a prepared statement that returns no rows to completion: a write, or one of the
 * transactions' BEGIN, COMMIT, SAVEPOINT... Returns 0, or -1. */
static int step_write(sqlite3_stmt *q, const struct store_val *v, size_t n)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    int rc = bind_all(q, v, n) == 0 ? sqlite3_step(q) : SQLITE_ERROR;
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- batches ---- */

static void batch_free(struct store_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->ops[i].vals);
        free(b->ops[i].bytes);
    }
    free(b->ops);
    free(b);
}

struct store_batch *store_batch_new(struct store *st)
{
    (void)st;
    return calloc(1, sizeof(struct store_batch));
}

void store_batch_discard(struct store_batch *b)
{
    batch_free(b);
}

bool store_batch_empty(const struct store_batch *b)
{
    return b == NULL || b->n == 0;
}

int store_batch_add(struct store_batch *b, struct store_stmt *stmt, const struct store_val *vals,
                    size_t nvals)
{
    if (b->failed)
        return -1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        struct op *ops = realloc(b->ops, cap * sizeof *ops);
        if (ops == NULL)
            goto fail;
        b->ops = ops;
        b->cap = cap;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < nvals; i++)
        if (vals[i].type == STORE_TEXT || vals[i].type == STORE_BLOB)
            bytes += vals[i].n;
    struct op op = {.stmt = stmt, .nvals = nvals};
    op.vals = nvals ? malloc(nvals * sizeof *op.vals) : NULL;
    op.bytes = bytes ? malloc(bytes) : NULL;
    if ((nvals && op.vals == NULL) || (bytes && op.bytes == NULL)) {
        free(op.vals);
        free(op.bytes);
        goto fail;
    }
    size_t off = 0;
    for (size_t i = 0; i < nvals; i++) {
        op.vals[i] = vals[i];
        if ((vals[i].type == STORE_TEXT || vals[i].type == STORE_BLOB) && vals[i].n > 0) {
            memcpy(op.bytes + off, vals[i].p, vals[i].n);
            op.vals[i].p = op.bytes + off;
            off += vals[i].n;
        }
    }
    b->ops[b->n++] = op;
    return 0;
fail:
    b->failed = true;
    return -1;
}

static void notify(struct store *st)
{
    uint64_t one = 1;
    ssize_t w = write(st->efd, &one, sizeof one);
    (void)w;
}

void store_batch_submit(struct store *st, struct store_batch *b, store_done_fn done, void *arg)
{
    if (b == NULL) {
        /* no memory for a batch: complete it as failed through the same path */
        b = calloc(1, sizeof *b);
        if (b == NULL) {
            /* not even that: the caller is told at once, the one exception to "later" */
            if (done)
                done(arg, -1);
            return;
        }
        b->failed = true;
    }
    b->done = done;
    b->arg = arg;
    b->next = NULL;
    pthread_mutex_lock(&st->mu);
    if (st->queue_tail)
        st->queue_tail->next = b;
    else
        st->queue_head = b;
    st->queue_tail = b;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

void store_exec(struct store *st, struct store_stmt *stmt, const struct store_val *vals,
                size_t nvals, store_done_fn done, void *arg)
{
    struct store_batch *b = store_batch_new(st);
    if (b != NULL)
        store_batch_add(b, stmt, vals, nvals);
    store_batch_submit(st, b, done, arg);
}

/* ---- the persistence thread ---- */

static sqlite3_stmt *writer_stmt(struct store *st, struct store_stmt *s)
{
    if (s->wr == NULL)
        sqlite3_prepare_v3(st->wr, s->sql, -1, SQLITE_PREPARE_PERSISTENT, &s->wr, NULL);
    return s->wr;
}

/* Runs one of the writer's transaction statements: 0, or -1 when it failed. */
static int ctl(struct store *st, enum ctl which)
{
    return step_write(st->ctl[which], NULL, 0);
}

/* Whether the writer's transaction is still open: an error such as SQLITE_FULL rolls the
 * whole of it back, after which a statement would run, and commit, on its own. */
static bool in_transaction(const struct store *st)
{
    return !sqlite3_get_autocommit(st->wr);
}

static int run_op(struct store *st, const struct op *op)
{
    sqlite3_stmt *q = writer_stmt(st, op->stmt);
    return q ? step_write(q, op->vals, op->nvals) : -1;
}

/* A batch of one statement needs no savepoint: a statement that fails leaves nothing of itself
 * (or ends the transaction, which the caller sees). */
static int run_batch(struct store *st, struct store_batch *b)
{
    if (b->failed)
        return -1;
    if (b->n <= 1)
        return b->n == 0 ? 0 : run_op(st, &b->ops[0]);
    if (ctl(st, CTL_SAVEPOINT) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = run_op(st, &b->ops[i]);
    if (rc != 0 && in_transaction(st))
        ctl(st, CTL_ROLLBACK_TO);
    if (in_transaction(st))
        ctl(st, CTL_RELEASE);
    return rc;
}

/* Free pages of the database (0 when it cannot tell). Writer thread. */
static long free_pages(struct store *st)
{
    if (st->free_q == NULL &&
        sqlite3_prepare_v2(st->wr, "PRAGMA freelist_count", -1, &st->free_q, NULL) != SQLITE_OK)
        return 0;
    long n = 0;
    sqlite3_reset(st->free_q);
    if (sqlite3_step(st->free_q) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st->free_q, 0);
    sqlite3_reset(st->free_q);
    return n;
}

/* One step of giving space back (incremental auto-vacuum moves the last pages into free
 * ones and truncates); once the free list is short, the WAL is truncated too, so a deleted
 * function's hundreds of MB of queued events do not stay on disk. Writer thread. */
static void vacuum_step(struct store *st)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%d)", VACUUM_PAGES);
    if (sqlite3_exec(st->wr, sql, NULL, NULL, NULL) != SQLITE_OK) {
        st->vacuum = false; /* try again after the next commit */
        return;
    }
    if (free_pages(st) < VACUUM_PAGES / 8) {
        st->vacuum = false;
        sqlite3_exec(st->wr, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while ((st->queue_head == NULL || st->held) && !st->stop) {
            if (st->vacuum) { /* only while no batch waits */
                pthread_mutex_unlock(&st->mu);
                vacuum_step(st);
                pthread_mutex_lock(&st->mu);
                continue;
            }
            pthread_cond_wait(&st->cv, &st->mu);
        }
        if (st->queue_head == NULL && st->stop)
            break;
        struct store_batch *group = st->queue_head, *last = st->queue_tail;
        st->queue_head = st->queue_tail = NULL;
        st->busy = true;
        bool fail = st->fail_commits > 0;
        if (fail)
            st->fail_commits--;
        pthread_mutex_unlock(&st->mu);

        int rc = ctl(st, CTL_BEGIN);
        for (struct store_batch *b = group; b; b = b->next) {
            b->rc = rc == 0 ? run_batch(st, b) : -1;
            if (rc == 0 && !in_transaction(st))
                rc = -1; /* rolled back whole: the batches after it must not commit alone */
        }
        if (rc == 0 && fail)
            rc = -1;
        if (rc == 0)
            rc = ctl(st, CTL_COMMIT);
        if (rc != 0) {
            if (in_transaction(st))
                ctl(st, CTL_ROLLBACK);
            for (struct store_batch *b = group; b; b = b->next)
                b->rc = -1;
        } else if (free_pages(st) > VACUUM_MIN_FREE) {
            st->vacuum = true;
        }

        pthread_mutex_lock(&st->mu);
        if (st->done_tail)
            st->done_tail->next = group;
        else
            st->done_head = group;
        st->done_tail = last;
        st->busy = false;
        pthread_cond_broadcast(&st->idle_cv);
        notify(st);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* ---- open / close ---- */

static int open_conn(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        return -1;
    }
    /* secure_delete FAST: Debian's SQLite zeroes every freed page by default, so deleting a
     * function's 500 MB of queued events wrote 500 MB of WAL; the freed pages go back to the
     * file system soon after anyway (vacuum_step), in a file only its owner can read */
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
             "PRAGMA journal_size_limit=%d; PRAGMA foreign_keys=OFF; PRAGMA secure_delete=FAST;",
             WAL_LIMIT);
    char *msg = NULL;
    if (sqlite3_exec(*db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot configure");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* A new database is made incremental-vacuum before any table exists; an older one is
 * converted once (VACUUM rewrites it). */
static int ensure_incremental(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int mode = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        mode = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (mode == 2)
        return 0;
    if (sqlite3_exec(db, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot set incremental vacuum: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/haar.db", dir);
    struct store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->efd = -1;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    pthread_cond_init(&st->idle_cv, NULL);
    /* the files hold secrets (function keys): readable by their owner only */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open", path);
        goto fail;
    }
    fchmod(fd, 0600);
    close(fd);
    if (open_conn(path, &st->rd, err, errlen) != 0 || ensure_incremental(st->rd, err, errlen) ||
        open_conn(path, &st->wr, err, errlen) != 0)
        goto fail;
    for (int i = 0; i < CTL_N; i++)
        if (sqlite3_prepare_v3(st->wr, ctl_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->ctl[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->wr));
            goto fail;
        }
    if (sqlite3_prepare_v3(st->rd, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &st->rd_begin, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(st->rd, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &st->rd_end, NULL) !=
            SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->rd));
        goto fail;
    }
    if (sqlite3_exec(st->rd,
                     "CREATE TABLE IF NOT EXISTS haar_schema (name TEXT PRIMARY KEY,"
                     " version INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->rd));
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
    store_read_end(st);
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
    for (int i = 0; i < st->nstmts; i++) {
        sqlite3_finalize(st->stmts[i]->rd);
        sqlite3_finalize(st->stmts[i]->wr);
        free(st->stmts[i]->sql);
        free(st->stmts[i]);
    }
    store_read_end(st);
    sqlite3_finalize(st->free_q);
    sqlite3_finalize(st->rd_begin);
    sqlite3_finalize(st->rd_end);
    for (int i = 0; i < CTL_N; i++)
        sqlite3_finalize(st->ctl[i]);
    if (st->wr)
        sqlite3_exec(st->wr, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(st->rd);
    sqlite3_close(st->wr);
    if (st->efd >= 0)
        close(st->efd);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    pthread_cond_destroy(&st->idle_cv);
    free(st);
}

/* ---- schema and statements ---- */

int store_schema_apply(struct store *st, const struct store_schema *s, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int version = 0;
    store_read_end(st);
    if (sqlite3_prepare_v2(st->rd, "SELECT version FROM haar_schema WHERE name=?1", -1, &q, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(st->rd));
        return -1;
    }
    sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (version > s->nsteps) {
        snprintf(err, errlen, "%s: the database has schema version %d, newer than this haar (%d)",
                 s->name, version, s->nsteps);
        return -1;
    }
    if (version == s->nsteps)
        return 0;
    char *msg = NULL;
    if (sqlite3_exec(st->rd, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    for (int v = version; v < s->nsteps; v++)
        if (sqlite3_exec(st->rd, s->steps[v], NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO haar_schema(name, version) VALUES('%s', %d)",
             s->name, s->nsteps);
    if (sqlite3_exec(st->rd, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->rd, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "%s schema: %s", s->name, msg ? msg : sqlite3_errmsg(st->rd));
    sqlite3_free(msg);
    sqlite3_exec(st->rd, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

struct store_stmt *store_prepare(struct store *st, const char *sql, char *err, size_t errlen)
{
    if (st->nstmts == MAX_STMTS) {
        snprintf(err, errlen, "too many statements");
        return NULL;
    }
    struct store_stmt *s = calloc(1, sizeof *s);
    if (s == NULL || (s->sql = strdup(sql)) == NULL) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(st->rd, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->rd, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(st->rd));
        free(s->sql);
        free(s);
        return NULL;
    }
    /* the writer's copy is prepared by the thread itself on first use; the list is only
     * appended to before that thread ever sees the statement (it arrives in a batch) */
    st->stmts[st->nstmts++] = s;
    return s;
}

/* ---- reads ---- */

void store_read_end(struct store *st)
{
    if (st == NULL || !st->reading)
        return;
    st->reading = false;
    if (!sqlite3_get_autocommit(st->rd) && step_write(st->rd_end, NULL, 0) != 0)
        sqlite3_exec(st->rd, "ROLLBACK", NULL, NULL, NULL);
}

long store_query(struct store *st, struct store_stmt *stmt, const struct store_val *vals,
                 size_t nvals, store_row_fn cb, void *arg)
{
    /* the snapshot begins with the turn's first read; should BEGIN fail, the query runs in
     * SQLite's implicit transaction of its own, and the next one tries BEGIN again */
    if (!st->reading)
        st->reading = step_write(st->rd_begin, NULL, 0) == 0;
    sqlite3_stmt *q = stmt->rd;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (bind_all(q, vals, nvals) != 0)
        return -1;
    long n = 0;
    int rc;
    struct store_row row = {q};
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        n++;
        if (cb != NULL && !cb(arg, &row)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? n : -1;
}

int64_t store_row_int(const struct store_row *r, int col)
{
    return sqlite3_column_int64(r->q, col);
}

double store_row_real(const struct store_row *r, int col)
{
    return sqlite3_column_double(r->q, col);
}

const char *store_row_text(const struct store_row *r, int col, size_t *len)
{
    const char *t = (const char *)sqlite3_column_text(r->q, col);
    *len = (size_t)sqlite3_column_bytes(r->q, col);
    return t ? t : "";
}

const void *store_row_blob(const struct store_row *r, int col, size_t *len)
{
    const void *b = sqlite3_column_blob(r->q, col);
    *len = (size_t)sqlite3_column_bytes(r->q, col);
    return b ? b : "";
}

bool store_row_is_null(const struct store_row *r, int col)
{
    return sqlite3_column_type(r->q, col) == SQLITE_NULL;
}

/* ---- the loop's side ---- */

int store_notify_fd(const struct store *st)
{
    return st->efd;
}

int store_poll(struct store *st)
{
    uint64_t v;
    ssize_t r = read(st->efd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&st->mu);
    struct store_batch *list = st->done_head;
    st->done_head = st->done_tail = NULL;
    pthread_mutex_unlock(&st->mu);
    if (list != NULL)
        store_read_end(st); /* what the callbacks acknowledge, the next read sees */
    int n = 0;
    while (list) {
        struct store_batch *next = list->next;
        if (list->done)
            list->done(list->arg, list->rc);
        batch_free(list);
        list = next;
        n++;
    }
    return n;
}

void store_fail_commits(struct store *st, int n)
{
    pthread_mutex_lock(&st->mu);
    st->fail_commits = n;
    pthread_mutex_unlock(&st->mu);
}

void store_hold(struct store *st, bool held)
{
    pthread_mutex_lock(&st->mu);
    st->held = held;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}
