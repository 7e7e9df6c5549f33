/* Unit tests: cloud/store — records survive closing and reopening (what kill -9 relies on),
 * replace keeps order, delete of a missing key is fine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cloud/store.h"

struct seen {
    int n;
    char keys[8][32];
    char vals[8][32];
};

static void collect(void *arg, const char *key, const char *value, size_t len)
{
    struct seen *s = arg;
    if (s->n < 8) {
        snprintf(s->keys[s->n], 32, "%s", key);
        snprintf(s->vals[s->n], 32, "%.*s", (int)len, value);
        s->n++;
    }
}

static void test_records_persist_across_reopen(void **state)
{
    (void)state;
    char dir[64], err[256];
    snprintf(dir, sizeof(dir), "/tmp/haar-test-store-%d", (int)getpid());
    mkdir(dir, 0755);
    struct store *st = store_open(dir, err, sizeof(err));
    assert_non_null(st);
    assert_int_equal(store_put(st, "function", "a", "one", 3), 0);
    assert_int_equal(store_put(st, "function", "b", "two", 3), 0);
    assert_int_equal(store_put(st, "event", "e1", "x\n0\n{}", 6), 0);
    assert_int_equal(store_put(st, "function", "a", "uno", 3), 0); /* replace */
    assert_int_equal(store_delete(st, "function", "missing"), 0);
    store_close(st);

    st = store_open(dir, err, sizeof(err));
    assert_non_null(st);
    struct seen s = {0};
    assert_int_equal(store_each(st, "function", collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "a");
    assert_string_equal(s.vals[0], "uno");
    assert_string_equal(s.keys[1], "b");
    assert_int_equal(store_delete(st, "function", "a"), 0);
    memset(&s, 0, sizeof(s));
    store_each(st, "function", collect, &s);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof(s));
    store_each(st, "event", collect, &s);
    assert_int_equal(s.n, 1);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

struct acks {
    int n;
    bool all_ok;
};

static void on_commit(void *arg, int rc)
{
    struct acks *a = arg;
    a->all_ok = a->all_ok && rc == 0;
    a->n++;
}

static void test_group_commit_acknowledges_after_commit(void **state)
{
    (void)state;
    char dir[64], err[256];
    snprintf(dir, sizeof(dir), "/tmp/haar-test-store-gc-%d", (int)getpid());
    mkdir(dir, 0755);
    struct store *st = store_open(dir, err, sizeof(err));
    assert_non_null(st);
    assert_true(store_notify_fd(st) >= 0);
    struct acks a = {.all_ok = true};
    char key[32], val[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%03d", i);
        snprintf(val, sizeof(val), "v%d", i);
        assert_int_equal(store_submit_put(st, "event", key, val, strlen(val), on_commit, &a), 0);
    }
    assert_int_equal(store_submit_delete(st, "event", "k000", on_commit, &a), 0);
    assert_int_equal(store_submit_put(st, "event", "k001", "new", 3, NULL, NULL), 0);
    /* nothing is acknowledged before store_poll runs on this (the loop's) thread */
    assert_int_equal(a.n, 0);
    store_flush(st);
    assert_int_equal(a.n, 201);
    assert_true(a.all_ok);
    store_close(st);

    st = store_open(dir, err, sizeof(err));
    struct seen s = {0};
    store_each(st, "event", collect, &s);
    assert_int_equal(s.n, 8); /* collect keeps 8; the first ones in commit order */
    assert_string_equal(s.keys[0], "k001");
    assert_string_equal(s.vals[0], "new");
    assert_string_equal(s.keys[1], "k002");
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_open_failure_is_reported(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(store_open("/nonexistent/dir/for/haar", err, sizeof(err)));
    assert_true(strlen(err) > 0);
    store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_persist_across_reopen),
        cmocka_unit_test(test_group_commit_acknowledges_after_commit),
        cmocka_unit_test(test_open_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
