/* Unit tests: cloud/store (v2) — typed tables, atomic batches under group commit, commit
 * failures that keep nothing and acknowledge nothing, completions that never run inside the
 * call, reads of what is committed in one snapshot until the acknowledgement, reopening, and
 * a large table keeping its rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cloud/store/store.h"
#include "core/fs.h"

static char dir[128];

static const char *const steps[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL, n INTEGER) WITHOUT ROWID;",
    "CREATE TABLE q (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);",
    /* a statement that ends the whole transaction, as SQLITE_FULL or an I/O error does */
    "CREATE TRIGGER t_abort BEFORE INSERT ON t WHEN NEW.k = 'abort'"
    " BEGIN SELECT RAISE(ROLLBACK, 'rolled back'); END;",
};
static const struct store_schema schema = {"test", steps, 3};

struct fixture {
    struct store *st;
    struct store_stmt *put, *del, *get, *count, *qput, *bad;
};

static void open_fixture(struct fixture *f)
{
    char err[256];
    f->st = store_open(dir, err, sizeof err);
    assert_non_null(f->st);
    assert_int_equal(store_schema_apply(f->st, &schema, err, sizeof err), 0);
    f->put = store_prepare(f->st, "INSERT OR REPLACE INTO t VALUES (?1, ?2, ?3)", err, sizeof err);
    f->del = store_prepare(f->st, "DELETE FROM t WHERE k = ?1", err, sizeof err);
    f->get = store_prepare(f->st, "SELECT v, n FROM t WHERE k = ?1", err, sizeof err);
    f->count = store_prepare(f->st, "SELECT count(*) FROM t", err, sizeof err);
    f->qput = store_prepare(f->st, "INSERT INTO q (body) VALUES (?1)", err, sizeof err);
    /* violates NOT NULL when given NULL: a statement that fails inside a batch */
    f->bad = store_prepare(f->st, "INSERT INTO t VALUES (?1, NULL, 0)", err, sizeof err);
    assert_non_null(f->put);
    assert_non_null(f->bad);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/haar-test-store-%d", (int)getpid());
    fs_remove_tree(dir);
    assert_int_equal(fs_mkdir_p(dir, 0700), 0);
    *state = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs_remove_tree(dir);
    return 0;
}

struct done {
    int calls;
    int rc;
    int order;
};

static int order_counter;

static void on_done(void *arg, int rc)
{
    struct done *d = arg;
    d->calls++;
    d->rc = rc;
    d->order = ++order_counter;
}

static bool count_row(void *arg, const struct store_row *r)
{
    *(int64_t *)arg = store_row_int(r, 0);
    return false;
}

static int64_t count(struct fixture *f)
{
    int64_t n = -1;
    assert_true(store_query(f->st, f->count, NULL, 0, count_row, &n) >= 0);
    return n;
}

static void put(struct store_batch *b, struct fixture *f, const char *k, const char *v, int n)
{
    struct store_val vals[3] = {store_text(k), store_blob(v, strlen(v)), store_int(n)};
    assert_int_equal(store_batch_add(b, f->put, vals, 3), 0);
}

static void test_batches_commit_whole_and_later(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct done d1 = {0}, d2 = {0};
    struct store_batch *b = store_batch_new(f.st);
    put(b, &f, "a", "1", 1);
    put(b, &f, "b", "2", 2);
    store_batch_submit(f.st, b, on_done, &d1);
    assert_int_equal(d1.calls, 0); /* never from inside the call */
    struct store_val k = store_text("a");
    store_exec(f.st, f.del, &k, 1, on_done, &d2);
    store_flush(f.st);
    assert_int_equal(d1.calls, 1);
    assert_int_equal(d1.rc, 0);
    assert_int_equal(d2.rc, 0);
    assert_true(d1.order < d2.order); /* in submission order */
    assert_int_equal(count(&f), 1);
    store_close(f.st);
}

static void test_a_failing_batch_keeps_nothing_and_spares_the_others(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct done ok1 = {0}, bad = {0}, ok2 = {0};
    struct store_batch *b1 = store_batch_new(f.st), *b2 = store_batch_new(f.st),
                       *b3 = store_batch_new(f.st);
    put(b1, &f, "x", "1", 1);
    put(b2, &f, "y", "2", 2); /* this one must not survive its batch's failure */
    struct store_val k = store_text("z");
    store_batch_add(b2, f.bad, &k, 1);
    put(b3, &f, "w", "3", 3);
    /* submitted together so they share one group commit */
    store_hold(f.st, true);
    store_batch_submit(f.st, b1, on_done, &ok1);
    store_batch_submit(f.st, b2, on_done, &bad);
    store_batch_submit(f.st, b3, on_done, &ok2);
    store_hold(f.st, false);
    store_flush(f.st);
    assert_int_equal(ok1.rc, 0);
    assert_int_equal(bad.rc, -1);
    assert_int_equal(ok2.rc, 0);
    assert_int_equal(count(&f), 2);
    struct store_val y = store_text("y");
    assert_int_equal(store_query(f.st, f.get, &y, 1, NULL, NULL), 0);
    store_close(f.st);
}

static void test_failed_commits_acknowledge_nothing(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    store_fail_commits(f.st, 1);
    struct done d = {0}, after = {0};
    struct store_batch *b = store_batch_new(f.st);
    put(b, &f, "lost", "1", 1);
    store_batch_submit(f.st, b, on_done, &d);
    store_flush(f.st);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.rc, -1);
    assert_int_equal(count(&f), 0);
    /* the next commit works again */
    b = store_batch_new(f.st);
    put(b, &f, "kept", "2", 2);
    store_batch_submit(f.st, b, on_done, &after);
    store_flush(f.st);
    assert_int_equal(after.rc, 0);
    assert_int_equal(count(&f), 1);
    /* a batch that could not even be made completes as failed, later */
    struct done none = {0};
    store_batch_submit(f.st, NULL, on_done, &none);
    assert_int_equal(none.calls, 0);
    store_flush(f.st);
    assert_int_equal(none.rc, -1);
    store_close(f.st);
}

static bool has(struct fixture *f, const char *k)
{
    struct store_val v = store_text(k);
    return store_query(f->st, f->get, &v, 1, NULL, NULL) > 0;
}

/* A statement that rolls the whole transaction back (SQLITE_FULL, an I/O error) fails every
 * batch of its group, those before it included: none of them is kept, and none after it runs
 * on its own (which would commit it while it is reported failed). Single-statement batches run
 * without a savepoint, so both kinds are in the group. */
static void test_a_lost_transaction_fails_its_whole_group(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct done before = {0}, abort = {0}, after = {0}, after2 = {0}, next = {0};
    struct store_batch *b1 = store_batch_new(f.st), *b2 = store_batch_new(f.st),
                       *b3 = store_batch_new(f.st), *b4 = store_batch_new(f.st);
    put(b1, &f, "before", "1", 1);
    put(b2, &f, "abort", "2", 2);
    put(b3, &f, "after", "3", 3);
    put(b4, &f, "after2a", "4", 4);
    put(b4, &f, "after2b", "5", 5);
    store_hold(f.st, true);
    store_batch_submit(f.st, b1, on_done, &before);
    store_batch_submit(f.st, b2, on_done, &abort);
    store_batch_submit(f.st, b3, on_done, &after);
    store_batch_submit(f.st, b4, on_done, &after2);
    store_hold(f.st, false);
    store_flush(f.st);
    assert_int_equal(before.rc, -1);
    assert_int_equal(abort.rc, -1);
    assert_int_equal(after.rc, -1);
    assert_int_equal(after2.rc, -1);
    assert_int_equal(count(&f), 0);
    assert_false(has(&f, "after"));
    /* the next group commits as usual */
    struct store_batch *b = store_batch_new(f.st);
    put(b, &f, "next", "6", 6);
    store_batch_submit(f.st, b, on_done, &next);
    store_flush(f.st);
    assert_int_equal(next.rc, 0);
    assert_true(has(&f, "next"));
    store_close(f.st);
    /* and what was reported failed is not there after a reopen either */
    open_fixture(&f);
    assert_int_equal(count(&f), 1);
    store_close(f.st);
}

/* Waits until a completion is ready for store_poll, without running it. */
static void wait_committed(struct fixture *f)
{
    struct pollfd p = {.fd = store_notify_fd(f->st), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
}

/* Reads share one snapshot until store_read_end or store_poll: a write that committed
 * meanwhile is not seen until then (its callback has not run: an engine still holds it in
 * memory), and once its callback runs, every read sees it — also when the snapshot began
 * before the write was submitted. */
static void test_reads_share_a_snapshot_until_the_acknowledgement(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct done d = {0};
    struct store_batch *b = store_batch_new(f.st);
    put(b, &f, "seed", "0", 0);
    store_batch_submit(f.st, b, on_done, &d);
    store_flush(f.st);
    assert_int_equal(count(&f), 1); /* the snapshot begins here */

    b = store_batch_new(f.st);
    put(b, &f, "x", "1", 1);
    store_batch_submit(f.st, b, on_done, &d);
    wait_committed(&f);
    assert_int_equal(d.calls, 1);
    assert_false(has(&f, "x")); /* committed, not yet acknowledged: the snapshot holds */
    store_read_end(f.st);
    assert_true(has(&f, "x")); /* a new snapshot */
    assert_int_equal(store_poll(f.st), 1);
    assert_int_equal(d.calls, 2);

    b = store_batch_new(f.st);
    put(b, &f, "y", "2", 2);
    assert_int_equal(count(&f), 2); /* a snapshot begun before the write was submitted */
    store_batch_submit(f.st, b, on_done, &d);
    wait_committed(&f);
    assert_int_equal(store_poll(f.st), 1);
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.rc, 0);
    assert_true(has(&f, "y")); /* acknowledged, so seen */
    assert_int_equal(count(&f), 3);

    /* a snapshot does not outlive the store: closing checkpoints the whole WAL */
    store_close(f.st);
    open_fixture(&f);
    assert_int_equal(count(&f), 3);
    store_close(f.st);
}

struct row_copy {
    char v[64];
    int64_t n;
};

static bool copy_row(void *arg, const struct store_row *r)
{
    struct row_copy *c = arg;
    size_t len;
    const void *v = store_row_blob(r, 0, &len);
    snprintf(c->v, sizeof c->v, "%.*s", (int)len, (const char *)v);
    c->n = store_row_int(r, 1);
    return true;
}

static void test_reopen_keeps_what_was_committed(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct store_batch *b = store_batch_new(f.st);
    put(b, &f, "k", "bytes\0with nul", 7);
    store_batch_submit(f.st, b, NULL, NULL);
    store_close(f.st); /* commits what is queued */
    open_fixture(&f);  /* the schema is at its version: applied again, changes nothing */
    struct row_copy c = {0};
    struct store_val k = store_text("k");
    assert_int_equal(store_query(f.st, f.get, &k, 1, copy_row, &c), 1);
    assert_string_equal(c.v, "bytes");
    assert_int_equal(c.n, 7);
    struct stat st;
    char path[256];
    snprintf(path, sizeof path, "%s/haar.db", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* it holds secrets */
    store_close(f.st);
}

static void test_a_newer_schema_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    store_close(f.st);
    char err[256];
    struct store *st = store_open(dir, err, sizeof err);
    const struct store_schema older = {"test", steps, 1};
    assert_int_equal(store_schema_apply(st, &older, err, sizeof err), -1);
    assert_non_null(strstr(err, "newer"));
    store_close(st);
}

/* 200,000 rows in batches of 1,000 (the scale figures live in bench/store): every row is
 * there, and the queue table's rowid order is insertion order. */
static void test_many_rows(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    struct done d = {0};
    char body[32];
    for (int i = 0; i < 200; i++) {
        struct store_batch *b = store_batch_new(f.st);
        for (int k = 0; k < 1000; k++) {
            snprintf(body, sizeof body, "m%d", i * 1000 + k);
            struct store_val v = store_text(body);
            assert_int_equal(store_batch_add(b, f.qput, &v, 1), 0);
        }
        store_batch_submit(f.st, b, on_done, &d);
        if (i % 50 == 49)
            store_poll(f.st);
    }
    store_flush(f.st);
    assert_int_equal(d.calls, 200);
    assert_int_equal(d.rc, 0);
    char err[256];
    struct store_stmt *n = store_prepare(f.st, "SELECT count(*) FROM q", err, sizeof err);
    int64_t rows = 0;
    store_query(f.st, n, NULL, 0, count_row, &rows);
    assert_int_equal(rows, 200000);
    store_close(f.st);
}

static int64_t db_bytes(void)
{
    int64_t total = 0;
    const char *files[] = {"haar.db", "haar.db-wal"};
    for (int i = 0; i < 2; i++) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (stat(path, &st) == 0)
            total += st.st_size;
    }
    return total;
}

/* 32 MB written then deleted: the file and its WAL give the space back once the writer is
 * idle (it kept it: incremental vacuum of 8 MB every 256 commits, and Debian's secure_delete
 * rewrote every freed page into the WAL). */
static void test_deleted_space_goes_back(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f);
    char *blob = malloc(1 << 20);
    assert_non_null(blob);
    memset(blob, 'x', 1 << 20);
    struct done d = {0};
    for (int i = 0; i < 32; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        struct store_val vals[3] = {store_text(k), store_blob(blob, 1 << 20), store_int(i)};
        store_exec(f.st, f.put, vals, 3, on_done, &d);
    }
    store_flush(f.st);
    assert_true(db_bytes() > (int64_t)30 << 20);
    struct store_batch *b = store_batch_new(f.st);
    for (int i = 0; i < 32; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        struct store_val v = store_text(k);
        assert_int_equal(store_batch_add(b, f.del, &v, 1), 0);
    }
    store_batch_submit(f.st, b, on_done, &d);
    store_flush(f.st);
    for (int i = 0; i < 200 && db_bytes() > (int64_t)4 << 20; i++)
        usleep(10000);
    assert_true(db_bytes() < (int64_t)4 << 20);
    assert_int_equal(count(&f), 0);
    free(blob);
    store_close(f.st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_commit_whole_and_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_failing_batch_keeps_nothing_and_spares_the_others,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commits_acknowledge_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_lost_transaction_fails_its_whole_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reads_share_a_snapshot_until_the_acknowledgement,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_what_was_committed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_space_goes_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
