/*
 * store_scale.c — the store's cost per insert as a table grows (issue 6): 1,000,000 rows
 * inserted in batches of 1,000 (group commit, one fsync per batch), the time of each
 * 100,000; then 1,000 commits of one row each on the full table, against the same on a
 * table of 10,000 rows. Prints one JSON object. Usage: store_scale DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/fs.h"

static const char *const steps[] = {
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"};
static const struct store_schema schema = {"bench", steps, 1};

static int failures;

static void done(void *arg, int rc)
{
    (void)arg;
    if (rc != 0)
        failures++;
}

static double now_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

static void put_batch(struct store *st, struct store_stmt *put, long first, int n, char *value,
                      size_t vlen)
{
    struct store_batch *b = store_batch_new(st);
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key-%010ld", first + i);
        struct store_val v[2] = {store_text(key), store_blob(value, vlen)};
        store_batch_add(b, put, v, 2);
    }
    store_batch_submit(st, b, done, NULL);
}

/* 1,000 commits of one row each (each waits for its fsync), from key `first`. */
static double single_commits(struct store *st, struct store_stmt *put, long first, char *value,
                             size_t vlen)
{
    double t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        put_batch(st, put, first + i, 1, value, vlen);
        store_flush(st);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: store_scale DIR\n");
        return 2;
    }
    char err[256];
    fs_mkdir_p(argv[1], 0700);
    struct store *st = store_open(argv[1], err, sizeof err);
    if (st == NULL || store_schema_apply(st, &schema, err, sizeof err) != 0) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    struct store_stmt *put =
        store_prepare(st, "INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)", err, sizeof err);
    char value[100];
    memset(value, 'v', sizeof value);
    /* small table first: 10,000 rows, then 1,000 single commits on it */
    for (long i = 0; i < 10000; i += 1000)
        put_batch(st, put, 2000000 + i, 1000, value, sizeof value);
    store_flush(st);
    double small = single_commits(st, put, 3000000, value, sizeof value);
    printf("{\"rows_per_chunk\":100000,\"batch\":1000,\"chunk_seconds\":[");
    for (int chunk = 0; chunk < 10; chunk++) {
        double t0 = now_s();
        for (long i = 0; i < 100000; i += 1000) {
            put_batch(st, put, chunk * 100000L + i, 1000, value, sizeof value);
            if (i % 20000 == 0)
                store_poll(st);
        }
        store_flush(st);
        printf("%s%.3f", chunk ? "," : "", now_s() - t0);
        fflush(stdout);
    }
    double big = single_commits(st, put, 4000000, value, sizeof value);
    printf("],\"single_commits_1000_at_10k_rows_s\":%.3f,\"single_commits_1000_at_1m_rows_s\":%.3f,"
           "\"failures\":%d}\n",
           small, big, failures);
    store_close(st);
    return failures ? 1 : 0;
}
