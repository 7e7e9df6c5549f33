/*
 * store.h — durable state under <state_dir>/haar.db (SQLite, WAL, synchronous=FULL: a commit
 * is on disk, not only in the OS, when it completes). DESIGN.md "Inside the daemon".
 *
 * Engines own typed tables: each declares its schema (store_schema_apply) and prepares its
 * statements (store_prepare) at start. Writes go in batches: store_batch_new, any number of
 * store_batch_add, then store_batch_submit. One persistence thread owns the writing
 * connection: it takes every batch queued so far and commits them in one transaction (group
 * commit: one fdatasync for all), each batch of several statements inside its own savepoint,
 * so a batch is all or nothing and one failing batch does not fail the others — unless its
 * failure ends the whole transaction (disk full, an I/O error), which fails the whole group and
 * runs none of it after. Batches commit in submission order.
 * Each batch's done callback runs later on the loop (store_poll, woken through
 * store_notify_fd) — never from inside store_batch_submit — with rc 0 once durable, or -1 when
 * the batch (or the whole commit) failed and nothing of it was kept. An acknowledgement goes
 * out only from that callback.
 *
 * Reads run on the loop's own read connection (store_query), all of them in one snapshot until
 * store_read_end (the daemon ends it after every turn of its loop; store_poll before it runs
 * the callbacks): they see everything whose callback has run, nothing still queued, and
 * perhaps not what committed during the snapshot — the callbacks of those have not run yet.
 * An engine that must read its own writes before their callback keeps those in memory.
 *
 * The database gives space back: it is kept in incremental auto-vacuum mode and the writer
 * returns free pages and truncates the WAL as it goes.
 *
 * Thread-safety: every function here is for the loop thread only; the persistence thread is
 * internal.
 */
#ifndef HAAR_CLOUD_STORE_H
#define HAAR_CLOUD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct store;
struct store_stmt;
struct store_batch;
struct store_row;

enum store_type { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT, STORE_BLOB };

/* A value bound to a statement's ?N parameter (N = its index + 1). Pointers are borrowed by
 * the call that takes the value; store_batch_add copies them. */
struct store_val {
    enum store_type type;
    int64_t i;
    double d;
    const void *p;
    size_t n;
};

static inline struct store_val store_int(int64_t v)
{
    return (struct store_val){.type = STORE_INT, .i = v};
}
static inline struct store_val store_real(double v)
{
    return (struct store_val){.type = STORE_REAL, .d = v};
}
static inline struct store_val store_textn(const char *s, size_t n)
{
    return (struct store_val){.type = STORE_TEXT, .p = s, .n = n};
}
static inline struct store_val store_text(const char *s)
{
    return s ? store_textn(s, strlen(s)) : (struct store_val){.type = STORE_NULL};
}
static inline struct store_val store_blob(const void *p, size_t n)
{
    return (struct store_val){.type = STORE_BLOB, .p = p, .n = n};
}
static inline struct store_val store_null(void)
{
    return (struct store_val){.type = STORE_NULL};
}

/* Opens or creates <dir>/haar.db (mode 0600) and starts the persistence thread. NULL with a
 * message in err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* Commits what is queued (running its callbacks), stops the thread, closes; accepts NULL. */
void store_close(struct store *st);

/* ---- schema ---- */

/* An engine's tables. steps[i] is SQL (several statements allowed) that moves the engine's
 * schema from version i to i + 1; steps[0] creates it. Versions are kept per name. */
struct store_schema {
    const char *name;
    const char *const *steps;
    int nsteps;
};

/* Brings the engine's schema up to date in one transaction (at start, before any batch).
 * Returns 0, or -1 with a message in err (nothing applied). */
int store_schema_apply(struct store *st, const struct store_schema *s, char *err, size_t errlen);

/* Prepares sql for batches and reads; checked at once. The statement lives until
 * store_close. NULL with SQLite's message in err. */
struct store_stmt *store_prepare(struct store *st, const char *sql, char *err, size_t errlen);

/* ---- writes ---- */

/* Starts an empty batch. NULL when out of memory. */
struct store_batch *store_batch_new(struct store *st);

/* Adds a statement with its values (copied). Returns 0, or -1 when out of memory: the batch
 * is then marked failed and its submission completes with rc -1. */
int store_batch_add(struct store_batch *b, struct store_stmt *stmt, const struct store_val *vals,
                    size_t nvals);

/* True when the batch holds no statement. */
bool store_batch_empty(const struct store_batch *b);

/* Completion of a batch: rc 0 once durable, -1 when nothing of it was kept. */
typedef void (*store_done_fn)(void *arg, int rc);

/* Queues the batch for group commit and takes it. done (may be NULL) runs from store_poll
 * after the commit, exactly once, never before this call returns. b may be NULL (the
 * result of a failed store_batch_new): done then runs with rc -1. */
void store_batch_submit(struct store *st, struct store_batch *b, store_done_fn done, void *arg);

/* Frees a batch that will not be submitted; accepts NULL. */
void store_batch_discard(struct store_batch *b);

/* One statement as its own batch (store_batch_new + add + submit). */
void store_exec(struct store *st, struct store_stmt *stmt, const struct store_val *vals,
                size_t nvals, store_done_fn done, void *arg);

/* ---- reads ---- */

/* Called per result row; return false to stop. */
typedef bool (*store_row_fn)(void *arg, const struct store_row *row);

/* Runs a query on the loop's read connection, calling cb for each row. Returns the number of
 * rows seen, or -1 on error. */
long store_query(struct store *st, struct store_stmt *stmt, const struct store_val *vals,
                 size_t nvals, store_row_fn cb, void *arg);

/* A row's column values (col from 0), valid during the callback. Text and blobs are not
 * NUL-terminated as far as the caller should assume; *len gets their length. */
int64_t store_row_int(const struct store_row *r, int col);
double store_row_real(const struct store_row *r, int col);
const char *store_row_text(const struct store_row *r, int col, size_t *len);
const void *store_row_blob(const struct store_row *r, int col, size_t *len);
bool store_row_is_null(const struct store_row *r, int col);

/* ---- the loop's side ---- */

/* The fd the loop watches: readable when completions wait for store_poll. Owned here. */
int store_notify_fd(const struct store *st);

/* Runs the callbacks of finished batches (ending the read snapshot first). Returns how many
 * ran. */
int store_poll(struct store *st);

/* Ends the reads' snapshot: the next store_query begins a new one. The daemon calls it after
 * every turn of its loop, so a snapshot lives no longer than one turn (it holds back the WAL's
 * checkpoint meanwhile); accepts NULL. */
void store_read_end(struct store *st);

/* Waits until everything submitted so far is committed, then runs the callbacks (start-up,
 * shutdown, tests). */
void store_flush(struct store *st);

/* Tests: the next n group commits fail (rolled back, every batch in them completes with -1). */
void store_fail_commits(struct store *st, int n);

/* Tests: while held, the persistence thread takes no batch, so those submitted meanwhile share
 * one group commit once released (release before store_flush, which would wait forever). */
void store_hold(struct store *st, bool held);

#endif
