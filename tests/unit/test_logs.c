/*
 * test_logs.c — the CloudWatch Logs engine (store.c) and its JSON 1.1 adapter
 * (proto_json.c): storage, durability across reopen, retention, hostile names, every
 * operation with its errors and paging tokens, log group tags (by ARN and by name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud/logs/logs_int.h"

#define T0 1764000000000LL /* 2025-11-24T16:00:00Z */

static int64_t fake_now;

static int64_t test_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

struct fix {
    char dir[128];
    struct logs *lg;
};

static void rm_rf(const char *path)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static struct logs *open_store(struct fix *f, int retention)
{
    char err[256] = "";
    struct logs *lg = logs_new(f->dir, retention, err, sizeof err);
    assert_non_null(lg);
    logs_set_clock(lg, test_clock, NULL);
    logs_set_region(lg, "eu-west-1");
    return lg;
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_logs.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    fake_now = T0;
    f->lg = open_store(f, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    logs_free(f->lg);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* Calls the API; returns the parsed answer and sets *status. */
static json_t *call(struct logs *lg, const char *op, const char *body, int *status)
{
    struct buf out;
    buf_init(&out, 4u << 20);
    assert_int_equal(logs_api_handle(lg, op, body, strlen(body), status, &out), 0);
    json_error_t jerr;
    json_t *j = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
    if (j == NULL)
        fail_msg("answer is not JSON: %s", out.data ? out.data : "(empty)");
    buf_destroy(&out);
    return j;
}

static void expect_ok(struct logs *lg, const char *op, const char *body)
{
    int st;
    json_t *j = call(lg, op, body, &st);
    if (st != 200)
        fail_msg("%s %s -> %d %s", op, body, st, json_dumps(j, 0));
    json_decref(j);
}

static void expect_err(struct logs *lg, const char *op, const char *body, const char *type,
                       const char *msg_part)
{
    int st;
    json_t *j = call(lg, op, body, &st);
    assert_int_equal(st, 400);
    const char *t = json_string_value(json_object_get(j, "__type"));
    const char *m = json_string_value(json_object_get(j, "message"));
    assert_non_null(t);
    assert_non_null(m);
    if (strcmp(t, type) != 0)
        fail_msg("%s %s: want %s, got %s (%s)", op, body, type, t, m);
    if (msg_part && strstr(m, msg_part) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", op, m, msg_part);
    json_decref(j);
}

/* Reads a whole stream through GetLogEvents from the head; returns the events array. */
static json_t *get_events(struct logs *lg, const char *group, const char *stream)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"%s\",\"logStreamName\":\"%s\",\"startFromHead\":true}", group,
             stream);
    int st;
    json_t *j = call(lg, "GetLogEvents", body, &st);
    assert_int_equal(st, 200);
    json_t *ev = json_incref(json_object_get(j, "events"));
    json_decref(j);
    return ev;
}

static const char *msg_at(json_t *events, size_t i)
{
    return json_string_value(json_object_get(json_array_get(events, i), "message"));
}

/* ---- engine ---- */

static void test_put_flush_read(void **state)
{
    struct fix *f = *state;
    assert_int_equal(logs_put(f->lg, "/aws/lambda/fn", "s1", T0 + 1, "START RequestId: 1\n", 19),
                     0);
    assert_int_equal(logs_put(f->lg, "/aws/lambda/fn", "s1", T0 + 2, "line\\with\\slashes", 17), 0);
    assert_int_equal(logs_put(f->lg, "/aws/lambda/fn", "s1", T0 + 3, "multi\nline\r\nmsg", 15), 0);
    assert_int_equal(logs_put(f->lg, "/aws/lambda/fn", "s1", T0 + 4, "nul\0byte", 8), 0);
    assert_int_equal(logs_flush(f->lg), 0);
    assert_int_equal(logs_flush(f->lg), 0); /* nothing pending: a no-op */
    json_t *ev = get_events(f->lg, "/aws/lambda/fn", "s1");
    assert_int_equal(json_array_size(ev), 4);
    assert_string_equal(msg_at(ev, 0), "START RequestId: 1"); /* trailing \n stripped */
    assert_string_equal(msg_at(ev, 1), "line\\with\\slashes");
    assert_string_equal(msg_at(ev, 2), "multi\nline\r\nmsg");
    json_t *m3 = json_object_get(json_array_get(ev, 3), "message");
    assert_int_equal(json_string_length(m3), 8);
    assert_memory_equal(json_string_value(m3), "nul\0byte", 8);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "timestamp")),
                     T0 + 1);
    json_decref(ev);
}

static void test_reopen_durability(void **state)
{
    struct fix *f = *state;
    for (int i = 0; i < 1000; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "event %d", i);
        assert_int_equal(logs_put(f->lg, "/g", "a", T0 + i, m, (size_t)n), 0);
        assert_int_equal(logs_put(f->lg, "/g", "b", T0 + i, m, (size_t)n), 0);
    }
    /* an event on another day goes to another segment */
    assert_int_equal(logs_put(f->lg, "/g", "a", T0 + LOGS_DAY_MS, "tomorrow", 8), 0);
    assert_int_equal(logs_flush(f->lg), 0);
    logs_free(f->lg);
    f->lg = open_store(f, 0);
    json_t *ev = get_events(f->lg, "/g", "a");
    assert_int_equal(json_array_size(ev), 1001);
    assert_string_equal(msg_at(ev, 0), "event 0");
    assert_string_equal(msg_at(ev, 999), "event 999");
    assert_string_equal(msg_at(ev, 1000), "tomorrow");
    json_decref(ev);
    ev = get_events(f->lg, "/g", "b");
    assert_int_equal(json_array_size(ev), 1000);
    json_decref(ev);
    /* appends after reopen go on from where the files ended */
    assert_int_equal(logs_put(f->lg, "/g", "b", T0 + 5000, "after", 5), 0);
    logs_free(f->lg); /* free flushes */
    f->lg = open_store(f, 0);
    ev = get_events(f->lg, "/g", "b");
    assert_int_equal(json_array_size(ev), 1001);
    assert_string_equal(msg_at(ev, 1000), "after");
    json_decref(ev);
}

static void test_many_streams_lru(void **state)
{
    struct fix *f = *state;
    /* more streams than open files allowed: the LRU closes and reopens */
    for (int round = 0; round < 3; round++) {
        for (int s = 0; s < 150; s++) {
            char name[32], m[32];
            snprintf(name, sizeof name, "stream-%d", s);
            int n = snprintf(m, sizeof m, "r%d", round);
            assert_int_equal(logs_put(f->lg, "/lru", name, T0 + round, m, (size_t)n), 0);
        }
        assert_int_equal(logs_flush(f->lg), 0);
    }
    json_t *ev = get_events(f->lg, "/lru", "stream-7");
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg_at(ev, 2), "r2");
    json_decref(ev);
}

/* Reads [start, end) of one stream through the engine and checks it is exactly
 * events want_first .. want_last of the "e%05d" series written at T0 + i. */
static void check_window(struct logs *lg, struct logs_stream *s, int64_t start, int64_t end,
                         int want_first, int want_last)
{
    struct logs_evset set = {0};
    assert_int_equal(logs__stream_read(lg, s, start, end, &set), 0);
    size_t want = want_last >= want_first ? (size_t)(want_last - want_first + 1) : 0;
    if (set.n != want)
        fail_msg("[%lld, %lld): %zu events, want %zu", (long long)(start - T0),
                 (long long)(end - T0), set.n, want);
    bool *hit = calloc(want + 1, 1);
    for (size_t i = 0; i < set.n; i++) {
        int k = (int)(set.v[i].ts - T0);
        char m[32];
        int n = snprintf(m, sizeof m, "e%05d", k);
        assert_true(k >= want_first && k <= want_last);
        assert_int_equal(set.v[i].len, 100);
        assert_memory_equal(set.v[i].msg, m, (size_t)n);
        assert_false(hit[k - want_first]);
        hit[k - want_first] = true;
    }
    free(hit);
    logs__evset_destroy(&set);
}

static void test_index_windows(void **state)
{
    struct fix *f = *state;
    /* 6000 events of 100 bytes (~700 KB): several index marks in one day segment */
    char m[101];
    for (int i = 0; i < 6000; i++) {
        memset(m, '.', 100);
        int n = snprintf(m, sizeof m, "e%05d", i);
        m[n] = ' ';
        assert_int_equal(logs_put(f->lg, "/ix", "s", T0 + i, m, 100), 0);
    }
    assert_int_equal(logs_flush(f->lg), 0);
    struct logs_group *g = logs__group_find(f->lg, "/ix");
    struct logs_stream *s = logs__stream_find(f->lg, g, "s");
    bool sorted;
    assert_true(logs__stream_marks(s, &sorted) >= 9); /* ~660 KB / 64 KB */
    assert_true(sorted);
    for (int pass = 0; pass < 3; pass++) {
        check_window(f->lg, s, T0, T0 + 6000, 0, 5999);
        check_window(f->lg, s, T0 + 1234, T0 + 4321, 1234, 4320);
        check_window(f->lg, s, T0 + 5999, T0 + 6000, 5999, 5999);
        check_window(f->lg, s, T0 + 6000, T0 + 6001, 0, -1);
        check_window(f->lg, s, T0, T0 + 1, 0, 0);
        check_window(f->lg, s, T0 + 3000, T0 + 3000, 0, -1);
        if (pass == 0) { /* reopen: the first read indexes the file again */
            logs_free(f->lg);
            f->lg = open_store(f, 0);
            g = logs__group_find(f->lg, "/ix");
            s = logs__stream_find(f->lg, g, "s");
            assert_int_equal(logs__stream_marks(s, &sorted), 0); /* not read yet */
        } else if (pass == 1) {
            assert_true(logs__stream_marks(s, &sorted) >= 9); /* rebuilt by the reads */
            assert_true(sorted);
            /* a late event out of order: the segment is no longer sorted, reads stay right */
            assert_int_equal(logs_put(f->lg, "/ix", "s", T0 + 6001, "late-first", 10), 0);
            assert_int_equal(logs_put(f->lg, "/ix", "s", T0 - 1, "early", 5), 0);
            assert_int_equal(logs_flush(f->lg), 0);
            struct logs_evset set = {0};
            assert_int_equal(logs__stream_read(f->lg, s, T0 - 1, T0, &set), 0);
            assert_int_equal(set.n, 1);
            assert_memory_equal(set.v[0].msg, "early", 5);
            logs__evset_destroy(&set);
            assert_int_equal(logs__stream_read(f->lg, s, T0 + 6001, INT64_MAX, &set), 0);
            assert_int_equal(set.n, 1);
            logs__evset_destroy(&set);
            logs__stream_marks(s, &sorted);
            assert_false(sorted);
            /* the checks below read [.., ..) windows that exclude those two */
        }
    }
}

static void test_torn_line_recovery(void **state)
{
    struct fix *f = *state;
    assert_int_equal(logs_put(f->lg, "/torn", "s", T0, "one", 3), 0);
    logs_free(f->lg);
    /* simulate a crash mid-write: a partial line at the end of the segment */
    char path[512];
    snprintf(path, sizeof path, "%s/logs/%%2Ftorn/s/%lld.log", f->dir, T0 / LOGS_DAY_MS);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("17640000", fp);
    fclose(fp);
    f->lg = open_store(f, 0);
    assert_int_equal(logs_put(f->lg, "/torn", "s", T0 + 1, "two", 3), 0);
    json_t *ev = get_events(f->lg, "/torn", "s");
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(msg_at(ev, 0), "one");
    assert_string_equal(msg_at(ev, 1), "two");
    json_decref(ev);
}

static void test_retention_expiry(void **state)
{
    struct fix *f = *state;
    logs_free(f->lg);
    f->lg = open_store(f, 1); /* groups made by logs_put keep 1 day */
    fake_now = T0 + 10 * LOGS_DAY_MS;
    for (int d = 0; d < 10; d++)
        for (int i = 0; i < 3; i++)
            assert_int_equal(logs_put(f->lg, "/ret", "s", T0 + d * LOGS_DAY_MS + i, "x", 1), 0);
    assert_int_equal(logs_put(f->lg, "/keep", "s", T0, "old but kept", 12), 0);
    expect_ok(f->lg, "DeleteRetentionPolicy", "{\"logGroupName\":\"/keep\"}");
    /* reads already hide events past retention */
    json_t *ev = get_events(f->lg, "/ret", "s");
    assert_int_equal(json_array_size(ev), 3);
    json_decref(ev);
    /* now = T0 + 10 d, retention 1 d: days 0..8 are wholly older than the cutoff */
    assert_int_equal(logs_expire(f->lg, fake_now), 27);
    assert_int_equal(logs_expire(f->lg, fake_now), 0); /* nothing left to drop */
    ev = get_events(f->lg, "/ret", "s");
    assert_int_equal(json_array_size(ev), 3);
    json_decref(ev);
    ev = get_events(f->lg, "/keep", "s");
    assert_int_equal(json_array_size(ev), 1);
    json_decref(ev);
    /* the files are gone, and a reopened store agrees */
    logs_free(f->lg);
    f->lg = open_store(f, 1);
    int st;
    json_t *j = call(f->lg, "DescribeLogStreams", "{\"logGroupName\":\"/ret\"}", &st);
    assert_int_equal(st, 200);
    json_t *s0 = json_array_get(json_object_get(j, "logStreams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "firstEventTimestamp")),
                     T0 + 9 * LOGS_DAY_MS);
    assert_int_equal(json_integer_value(json_object_get(s0, "storedBytes")) > 0, 1);
    json_decref(j);
    j = call(f->lg, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/ret\"}", &st);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(j, "logGroups"), 0), "retentionInDays")),
                     1);
    json_decref(j);
}

static void count_entries(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
            (*n)++;
    closedir(d);
}

static void test_hostile_names(void **state)
{
    struct fix *f = *state;
    const char *streams[] = {
        "2026/11/25/[$LATEST]0123456789abcdef",
        "..",
        "../../etc",
        "a/../../b",
        ".hidden",
        "%2F",
        "%2f",
        "back\\slash",
        "sp ace",
        "ünïcödé/名前",
        "~tilde",
    };
    size_t ns = sizeof streams / sizeof streams[0];
    for (size_t i = 0; i < ns; i++)
        assert_int_equal(logs_put(f->lg, "/aws/lambda/x#y.z_w-v", streams[i], T0, streams[i],
                                  strlen(streams[i])),
                         0);
    /* a long name is shortened on disk but kept whole in the metadata */
    char longname[513];
    memset(longname, 'L', 512);
    longname[512] = '\0';
    longname[100] = '/';
    assert_int_equal(logs_put(f->lg, "/long", longname, T0, "long", 4), 0);
    longname[511] = 'M'; /* same 180-byte head, different name */
    assert_int_equal(logs_put(f->lg, "/long", longname, T0, "long2", 5), 0);
    /* refused: bad group characters, empty, ':' and '*' in streams, too long */
    assert_int_equal(logs_put(f->lg, "/bad:group", "s", T0, "x", 1), -1);
    assert_int_equal(logs_put(f->lg, "", "s", T0, "x", 1), -1);
    assert_int_equal(logs_put(f->lg, "/ok", "a:b", T0, "x", 1), -1);
    assert_int_equal(logs_put(f->lg, "/ok", "a*b", T0, "x", 1), -1);
    assert_int_equal(logs_put(f->lg, "/ok", "", T0, "x", 1), -1);
    char toolong[514];
    memset(toolong, 'a', 513);
    toolong[513] = '\0';
    assert_int_equal(logs_put(f->lg, "/ok", toolong, T0, "x", 1), -1);
    assert_int_equal(logs_flush(f->lg), 0);

    /* nothing was written outside <dir>/logs */
    int n = 0;
    count_entries(f->dir, &n);
    assert_int_equal(n, 1); /* just "logs" */
    /* every name reads back, after a reopen too */
    logs_free(f->lg);
    f->lg = open_store(f, 0);
    for (size_t i = 0; i < ns; i++) {
        struct logs_group *g = logs__group_find(f->lg, "/aws/lambda/x#y.z_w-v");
        assert_non_null(g);
        struct logs_stream *s = logs__stream_find(f->lg, g, streams[i]);
        if (s == NULL)
            fail_msg("stream '%s' lost", streams[i]);
        struct logs_evset set = {0};
        assert_int_equal(logs__stream_read(f->lg, s, 0, INT64_MAX, &set), 0);
        assert_int_equal(set.n, 1);
        assert_memory_equal(set.v[0].msg, streams[i], strlen(streams[i]));
        logs__evset_destroy(&set);
    }
    struct logs_group *lgp = logs__group_find(f->lg, "/long");
    assert_non_null(lgp);
    size_t cnt;
    logs__group_streams(lgp, &cnt);
    assert_int_equal(cnt, 2);
    assert_non_null(logs__stream_find(f->lg, lgp, longname));
}

/* ---- the API ---- */

static void test_api_groups(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/aws/lambda/a\"}");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/aws/lambda/a\"}",
               "ResourceAlreadyExistsException", "already exists");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"bad name\"}", "InvalidParameterException",
               "logGroupName");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"\"}", "InvalidParameterException", NULL);
    expect_err(lg, "CreateLogGroup", "{}", "InvalidParameterException", "null");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":5}", "InvalidParameterException", "string");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":", "SerializationException", NULL);
    expect_err(lg, "CreateLogGroup", "[1]", "SerializationException", NULL);
    expect_err(lg, "NoSuchOp", "{}", "UnknownOperationException", NULL);
    for (int i = 0; i < 7; i++) {
        char body[100];
        snprintf(body, sizeof body, "{\"logGroupName\":\"/p/g%d\"}", i);
        expect_ok(lg, "CreateLogGroup", body);
    }
    expect_ok(lg, "PutRetentionPolicy", "{\"logGroupName\":\"/p/g1\",\"retentionInDays\":14}");
    expect_err(lg, "PutRetentionPolicy", "{\"logGroupName\":\"/p/g1\",\"retentionInDays\":13}",
               "InvalidParameterException", "enum value set");
    expect_err(lg, "PutRetentionPolicy", "{\"logGroupName\":\"/p/g1\"}",
               "InvalidParameterException", "retentionInDays");
    expect_err(lg, "PutRetentionPolicy", "{\"logGroupName\":\"/nope\",\"retentionInDays\":1}",
               "ResourceNotFoundException", "log group does not exist");

    /* paging: 3 + 3 + 1 under the prefix */
    int st;
    json_t *j = call(lg, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/p/\",\"limit\":3}", &st);
    assert_int_equal(st, 200);
    json_t *groups = json_object_get(j, "logGroups");
    assert_int_equal(json_array_size(groups), 3);
    json_t *g1 = json_array_get(groups, 1);
    assert_string_equal(json_string_value(json_object_get(g1, "logGroupName")), "/p/g1");
    assert_int_equal(json_integer_value(json_object_get(g1, "retentionInDays")), 14);
    assert_string_equal(json_string_value(json_object_get(g1, "arn")),
                        "arn:aws:logs:eu-west-1:000000000000:log-group:/p/g1:*");
    assert_int_equal(json_integer_value(json_object_get(g1, "creationTime")), T0);
    assert_non_null(json_object_get(g1, "storedBytes"));
    assert_null(json_object_get(json_array_get(groups, 0), "retentionInDays"));
    const char *tok = json_string_value(json_object_get(j, "nextToken"));
    assert_non_null(tok);
    char body[300];
    snprintf(body, sizeof body, "{\"logGroupNamePrefix\":\"/p/\",\"limit\":3,\"nextToken\":\"%s\"}",
             tok);
    json_decref(j);
    j = call(lg, "DescribeLogGroups", body, &st);
    groups = json_object_get(j, "logGroups");
    assert_int_equal(json_array_size(groups), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(groups, 0), "logGroupName")), "/p/g3");
    tok = json_string_value(json_object_get(j, "nextToken"));
    assert_non_null(tok);
    snprintf(body, sizeof body, "{\"logGroupNamePrefix\":\"/p/\",\"limit\":3,\"nextToken\":\"%s\"}",
             tok);
    json_decref(j);
    j = call(lg, "DescribeLogGroups", body, &st);
    assert_int_equal(json_array_size(json_object_get(j, "logGroups")), 1);
    assert_null(json_object_get(j, "nextToken"));
    json_decref(j);
    expect_err(lg, "DescribeLogGroups", "{\"limit\":0}", "InvalidParameterException", "limit");
    expect_err(lg, "DescribeLogGroups", "{\"limit\":51}", "InvalidParameterException", "limit");
    expect_err(lg, "DescribeLogGroups", "{\"limit\":\"5\"}", "InvalidParameterException",
               "integer");
    expect_err(lg, "DescribeLogGroups", "{\"nextToken\":\"zzz\"}", "InvalidParameterException",
               "nextToken");

    expect_ok(lg, "DeleteLogGroup", "{\"logGroupName\":\"/p/g0\"}");
    expect_err(lg, "DeleteLogGroup", "{\"logGroupName\":\"/p/g0\"}", "ResourceNotFoundException",
               NULL);
    /* an empty body is an empty request */
    j = call(lg, "DescribeLogGroups", "", &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "logGroups")), 7);
    json_decref(j);
    /* deleted groups stay deleted across reopen; can be made again */
    logs_free(f->lg);
    f->lg = lg = open_store(f, 0);
    assert_null(logs__group_find(lg, "/p/g0"));
    assert_non_null(logs__group_find(lg, "/p/g1"));
    assert_int_equal(logs__group_retention(logs__group_find(lg, "/p/g1")), 14);
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/p/g0\"}");
}

static void test_api_streams(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_err(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"x\"}",
               "ResourceNotFoundException", "log group");
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/s\"}");
    expect_ok(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"b\"}");
    expect_err(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"b\"}",
               "ResourceAlreadyExistsException", "log stream already exists");
    expect_err(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"a:b\"}",
               "InvalidParameterException", NULL);
    expect_err(lg, "CreateLogStream", "{\"logGroupName\":\"/s\"}", "InvalidParameterException",
               "logStreamName");
    expect_ok(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"a\"}");
    expect_ok(lg, "CreateLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"c\\\"q\"}");
    /* events: a at T0+5, b at T0+9; c none */
    logs_put(lg, "/s", "a", T0 + 5, "x", 1);
    fake_now = T0 + 100;
    logs_put(lg, "/s", "b", T0 + 9, "y", 1);
    int st;
    json_t *j = call(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\"}", &st);
    assert_int_equal(st, 200);
    json_t *v = json_object_get(j, "logStreams");
    assert_int_equal(json_array_size(v), 3);
    json_t *a = json_array_get(v, 0);
    assert_string_equal(json_string_value(json_object_get(a, "logStreamName")), "a");
    assert_int_equal(json_integer_value(json_object_get(a, "firstEventTimestamp")), T0 + 5);
    assert_int_equal(json_integer_value(json_object_get(a, "lastEventTimestamp")), T0 + 5);
    assert_int_equal(json_integer_value(json_object_get(a, "lastIngestionTime")), T0);
    assert_string_equal(json_string_value(json_object_get(a, "arn")),
                        "arn:aws:logs:eu-west-1:000000000000:log-group:/s:log-stream:a");
    json_t *c = json_array_get(v, 2);
    assert_string_equal(json_string_value(json_object_get(c, "logStreamName")), "c\"q");
    assert_string_equal(json_string_value(json_object_get(c, "arn")),
                        "arn:aws:logs:eu-west-1:000000000000:log-group:/s:log-stream:c\"q");
    assert_null(json_object_get(c, "firstEventTimestamp"));
    json_decref(j);

    j = call(lg, "DescribeLogStreams",
             "{\"logGroupName\":\"/s\",\"orderBy\":\"LastEventTime\",\"descending\":true}", &st);
    v = json_object_get(j, "logStreams");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "logStreamName")),
                        "b");
    json_decref(j);
    /* paging and prefix */
    j = call(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\",\"limit\":2}", &st);
    const char *tok = json_string_value(json_object_get(j, "nextToken"));
    assert_non_null(tok);
    char body[200];
    snprintf(body, sizeof body, "{\"logGroupName\":\"/s\",\"limit\":2,\"nextToken\":\"%s\"}", tok);
    json_decref(j);
    j = call(lg, "DescribeLogStreams", body, &st);
    v = json_object_get(j, "logStreams");
    assert_int_equal(json_array_size(v), 1);
    assert_null(json_object_get(j, "nextToken"));
    json_decref(j);
    j = call(lg, "DescribeLogStreams",
             "{\"logGroupIdentifier\":\"arn:aws:logs:eu-west-1:000000000000:log-group:/s\","
             "\"logStreamNamePrefix\":\"b\"}",
             &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "logStreams")), 1);
    json_decref(j);
    expect_err(
        lg, "DescribeLogStreams",
        "{\"logGroupName\":\"/s\",\"orderBy\":\"LastEventTime\",\"logStreamNamePrefix\":\"b\"}",
        "InvalidParameterException", "Cannot order by LastEventTime");
    expect_err(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\",\"orderBy\":\"Size\"}",
               "InvalidParameterException", "orderBy");
    expect_err(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\",\"nextToken\":\"s/x\"}",
               "InvalidParameterException", "nextToken");
    expect_err(lg, "DescribeLogStreams", "{\"logGroupName\":\"/none\"}",
               "ResourceNotFoundException", NULL);
    expect_err(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\",\"logGroupIdentifier\":\"/s\"}",
               "InvalidParameterException", "mutually exclusive");
    /* delete a stream */
    expect_ok(lg, "DeleteLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"a\"}");
    expect_err(lg, "DeleteLogStream", "{\"logGroupName\":\"/s\",\"logStreamName\":\"a\"}",
               "ResourceNotFoundException", "log stream does not exist");
    logs_free(f->lg);
    f->lg = lg = open_store(f, 0);
    j = call(lg, "DescribeLogStreams", "{\"logGroupName\":\"/s\"}", &st);
    assert_int_equal(json_array_size(json_object_get(j, "logStreams")), 2);
    json_decref(j);
}

static void test_api_put_log_events(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    char body[1024];
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/e\"}");
    expect_err(lg, "PutLogEvents",
               "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":"
               "[{\"timestamp\":1,\"message\":\"x\"}]}",
               "ResourceNotFoundException", "log stream does not exist");
    expect_ok(lg, "CreateLogStream", "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\"}");
    /* out of order in a batch: allowed, read back sorted */
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":["
             "{\"timestamp\":%lld,\"message\":\"second\"},{\"timestamp\":%lld,\"message\":"
             "\"first\"},{\"timestamp\":%lld,\"message\":\"too new\"},{\"timestamp\":%lld,"
             "\"message\":\"too old\"}]}",
             T0 + 2, T0 + 1, T0 + 3 * 3600 * 1000LL, T0 - 15 * LOGS_DAY_MS);
    int st;
    json_t *j = call(lg, "PutLogEvents", body, &st);
    assert_int_equal(st, 200);
    assert_non_null(json_string_value(json_object_get(j, "nextSequenceToken")));
    json_t *rej = json_object_get(j, "rejectedLogEventsInfo");
    assert_int_equal(json_integer_value(json_object_get(rej, "tooNewLogEventStartIndex")), 2);
    assert_int_equal(json_integer_value(json_object_get(rej, "tooOldLogEventEndIndex")), 4);
    json_decref(j);
    json_t *ev = get_events(lg, "/e", "s");
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(msg_at(ev, 0), "first");
    assert_string_equal(msg_at(ev, 1), "second");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "ingestionTime")),
                     T0);
    json_decref(ev);
    /* expired by retention */
    expect_ok(lg, "PutRetentionPolicy", "{\"logGroupName\":\"/e\",\"retentionInDays\":1}");
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":["
             "{\"timestamp\":%lld,\"message\":\"expired\"},{\"timestamp\":%lld,\"message\":"
             "\"ok\"}]}",
             T0 - 2 * LOGS_DAY_MS, T0);
    j = call(lg, "PutLogEvents", body, &st);
    assert_int_equal(st, 200);
    rej = json_object_get(j, "rejectedLogEventsInfo");
    assert_int_equal(json_integer_value(json_object_get(rej, "expiredLogEventEndIndex")), 1);
    json_decref(j);
    /* validation */
    expect_err(lg, "PutLogEvents", "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\"}",
               "InvalidParameterException", "logEvents");
    expect_err(lg, "PutLogEvents",
               "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":[]}",
               "InvalidParameterException", "length");
    expect_err(lg, "PutLogEvents",
               "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":{}}",
               "InvalidParameterException", "list");
    expect_err(lg, "PutLogEvents",
               "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":"
               "[{\"timestamp\":\"1\",\"message\":\"x\"}]}",
               "InvalidParameterException", "timestamp");
    expect_err(lg, "PutLogEvents",
               "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":"
               "[{\"timestamp\":1,\"message\":\"\"}]}",
               "InvalidParameterException", "message");
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"/e\",\"logStreamName\":\"s\",\"logEvents\":["
             "{\"timestamp\":%lld,\"message\":\"a\"},{\"timestamp\":%lld,\"message\":\"b\"}]}",
             T0 - 23 * 3600 * 1000LL, T0 + 5400 * 1000LL);
    expect_err(lg, "PutLogEvents", body, "InvalidParameterException", "24 hours");
    /* too many events and too many bytes */
    json_t *req =
        json_pack("{s:s,s:s,s:[]}", "logGroupName", "/e", "logStreamName", "s", "logEvents");
    json_t *arr = json_object_get(req, "logEvents");
    for (int i = 0; i < 10001; i++)
        json_array_append_new(arr,
                              json_pack("{s:I,s:s}", "timestamp", (json_int_t)T0, "message", "m"));
    char *big = json_dumps(req, JSON_COMPACT);
    expect_err(lg, "PutLogEvents", big, "InvalidParameterException", "10000");
    free(big);
    json_array_clear(arr);
    char *chunk = malloc(300001);
    memset(chunk, 'z', 300000);
    chunk[300000] = '\0';
    for (int i = 0; i < 4; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:s}", "timestamp", (json_int_t)T0, "message", chunk));
    big = json_dumps(req, JSON_COMPACT);
    expect_err(lg, "PutLogEvents", big, "InvalidParameterException", "Upload too large");
    free(big);
    /* exactly at the limit is accepted: 3 x 300000 + ... */
    json_array_clear(arr);
    for (int i = 0; i < 3; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:s}", "timestamp", (json_int_t)T0, "message", chunk));
    big = json_dumps(req, JSON_COMPACT);
    expect_ok(lg, "PutLogEvents", big);
    free(big);
    free(chunk);
    json_decref(req);
}

static void test_api_get_log_events_paging(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    for (int i = 0; i < 25; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "m%02d", i);
        logs_put(lg, "/p", "s", T0 + i, m, (size_t)n);
    }
    int st;
    char body[512];
    /* from the head, 10 at a time, forward tokens */
    const char *tok = NULL;
    char tokbuf[128] = "";
    int seen = 0;
    for (int page = 0; page < 5; page++) {
        if (tok)
            snprintf(body, sizeof body,
                     "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"limit\":10,"
                     "\"nextToken\":\"%s\"}",
                     tokbuf);
        else
            snprintf(body, sizeof body,
                     "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"limit\":10,"
                     "\"startFromHead\":true}");
        json_t *j = call(lg, "GetLogEvents", body, &st);
        assert_int_equal(st, 200);
        json_t *ev = json_object_get(j, "events");
        for (size_t i = 0; i < json_array_size(ev); i++) {
            char want[16];
            snprintf(want, sizeof want, "m%02d", seen++);
            assert_string_equal(msg_at(ev, i), want);
        }
        const char *ft = json_string_value(json_object_get(j, "nextForwardToken"));
        assert_non_null(ft);
        assert_memory_equal(ft, "f/", 2);
        assert_memory_equal(json_string_value(json_object_get(j, "nextBackwardToken")), "b/", 2);
        bool same = tok && strcmp(ft, tokbuf) == 0;
        snprintf(tokbuf, sizeof tokbuf, "%s", ft);
        tok = tokbuf;
        size_t got = json_array_size(ev);
        json_decref(j);
        if (got == 0) {
            assert_true(same); /* at the end the same token comes back */
            break;
        }
    }
    assert_int_equal(seen, 25);
    /* default (tail): the last `limit` events; then backward */
    json_t *j = call(lg, "GetLogEvents",
                     "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"limit\":10}", &st);
    json_t *ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 10);
    assert_string_equal(msg_at(ev, 0), "m15");
    assert_string_equal(msg_at(ev, 9), "m24");
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"limit\":10,\"nextToken\":\"%s\"}",
             json_string_value(json_object_get(j, "nextBackwardToken")));
    json_decref(j);
    j = call(lg, "GetLogEvents", body, &st);
    ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 10);
    assert_string_equal(msg_at(ev, 0), "m05");
    assert_string_equal(msg_at(ev, 9), "m14");
    json_decref(j);
    /* a time window: [T0+3, T0+6) */
    snprintf(
        body, sizeof body,
        "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"startTime\":%lld,\"endTime\":%lld}",
        T0 + 3, T0 + 6);
    j = call(lg, "GetLogEvents", body, &st);
    ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg_at(ev, 0), "m03");
    json_decref(j);
    /* errors */
    expect_err(lg, "GetLogEvents",
               "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"nextToken\":\"x/1_2\"}",
               "InvalidParameterException", "nextToken");
    expect_err(lg, "GetLogEvents",
               "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"nextToken\":\"f/1_\"}",
               "InvalidParameterException", "nextToken");
    expect_err(lg, "GetLogEvents",
               "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"limit\":10001}",
               "InvalidParameterException", "limit");
    expect_err(lg, "GetLogEvents",
               "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"startFromHead\":1}",
               "InvalidParameterException", "boolean");
    expect_err(lg, "GetLogEvents", "{\"logGroupName\":\"/p\",\"logStreamName\":\"nope\"}",
               "ResourceNotFoundException", "log stream does not exist");
    expect_err(lg, "GetLogEvents", "{\"logGroupName\":\"/q\",\"logStreamName\":\"s\"}",
               "ResourceNotFoundException", "log group does not exist");
    expect_err(lg, "GetLogEvents",
               "{\"logGroupName\":\"/p\",\"logStreamName\":\"s\",\"startTime\":-1}",
               "InvalidParameterException", "startTime");
}

static void test_api_get_log_events_1mb(void **state)
{
    struct fix *f = *state;
    char *m = malloc(200000);
    memset(m, 'q', 200000);
    for (int i = 0; i < 8; i++)
        logs_put(f->lg, "/big", "s", T0 + i, m, 200000);
    free(m);
    int st;
    json_t *j =
        call(f->lg, "GetLogEvents",
             "{\"logGroupName\":\"/big\",\"logStreamName\":\"s\",\"startFromHead\":true}", &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 5); /* ≤ 1 MB an answer */
    json_decref(j);
    /* FilterLogEvents too: pages of ≤ 1 MB, a nextToken while more remain */
    struct buf out;
    buf_init(&out, 8u << 20);
    const char *body = "{\"logGroupName\":\"/big\"}";
    assert_int_equal(logs_api_handle(f->lg, "FilterLogEvents", body, strlen(body), &st, &out), 0);
    assert_int_equal(st, 200);
    assert_true(out.len <= 1048576);
    json_error_t jerr;
    j = json_loadb(out.data, out.len, 0, &jerr);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 5);
    assert_non_null(json_string_value(json_object_get(j, "nextToken")));
    json_decref(j);
    buf_destroy(&out);
}

static void test_api_filter_log_events(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    /* three streams interleaved in time */
    const char *streams[] = {"2026/11/25/[$LATEST]aaa", "2026/11/25/[$LATEST]bbb", "other"};
    for (int i = 0; i < 30; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "%s event %d%s", i % 2 ? "ERROR" : "INFO", i,
                         i % 5 == 0 ? " \"quoted phrase\" here" : "");
        logs_put(lg, "/f", streams[i % 3], T0 + i, m, (size_t)n);
    }
    int st;
    json_t *j = call(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\"}", &st);
    assert_int_equal(st, 200);
    json_t *ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 30);
    for (size_t i = 0; i < 30; i++) { /* sorted by time across streams */
        json_t *e = json_array_get(ev, i);
        assert_int_equal(json_integer_value(json_object_get(e, "timestamp")), T0 + (int64_t)i);
        assert_string_equal(json_string_value(json_object_get(e, "logStreamName")), streams[i % 3]);
        assert_non_null(json_string_value(json_object_get(e, "eventId")));
        assert_int_equal(json_integer_value(json_object_get(e, "ingestionTime")), T0);
    }
    assert_int_equal(json_array_size(json_object_get(j, "searchedLogStreams")), 3);
    json_decref(j);
    /* patterns */
    struct {
        const char *body;
        size_t want;
    } cases[] = {
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"ERROR\"}", 15},
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"ERROR -event\"}", 0},
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"\\\"quoted phrase\\\"\"}", 6},
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"INFO \\\"quoted phrase\\\"\"}", 3},
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"?ERROR ?phrase\"}", 18},
        {"{\"logGroupName\":\"/f\",\"filterPattern\":\"error\"}", 0},
        {"{\"logGroupName\":\"/f\",\"logStreamNames\":[\"other\"]}", 10},
        {"{\"logGroupName\":\"/f\",\"logStreamNames\":[\"other\",\"missing\"]}", 10},
        {"{\"logGroupName\":\"/f\",\"logStreamNamePrefix\":\"2026/11/25/[$LATEST]\"}", 20},
        {"{\"logGroupName\":\"/f\",\"startTime\":1764000000010,\"endTime\":1764000000020}", 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        j = call(lg, "FilterLogEvents", cases[i].body, &st);
        assert_int_equal(st, 200);
        if (json_array_size(json_object_get(j, "events")) != cases[i].want)
            fail_msg("%s: %zu events, want %zu", cases[i].body,
                     json_array_size(json_object_get(j, "events")), cases[i].want);
        json_decref(j);
    }
    /* paging with nextToken: 7 + 7 + ... sees every event once, in order */
    char body[512] = "{\"logGroupName\":\"/f\",\"limit\":7}";
    int total = 0;
    for (int page = 0; page < 10; page++) {
        j = call(lg, "FilterLogEvents", body, &st);
        assert_int_equal(st, 200);
        ev = json_object_get(j, "events");
        for (size_t i = 0; i < json_array_size(ev); i++)
            assert_int_equal(
                json_integer_value(json_object_get(json_array_get(ev, i), "timestamp")),
                T0 + total++);
        const char *tok = json_string_value(json_object_get(j, "nextToken"));
        if (tok == NULL) {
            json_decref(j);
            break;
        }
        snprintf(body, sizeof body, "{\"logGroupName\":\"/f\",\"limit\":7,\"nextToken\":\"%s\"}",
                 tok);
        json_decref(j);
    }
    assert_int_equal(total, 30);
    /* errors */
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"filterPattern\":\"{ $.a = 1 }\"}",
               "InvalidParameterException", "not supported");
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"filterPattern\":\"\\\"open\"}",
               "InvalidParameterException", "unterminated");
    expect_err(lg, "FilterLogEvents",
               "{\"logGroupName\":\"/f\",\"logStreamNames\":[\"a\"],\"logStreamNamePrefix\":\"a\"}",
               "InvalidParameterException", "mutually exclusive");
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"logStreamNames\":[]}",
               "InvalidParameterException", "logStreamNames");
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"logStreamNames\":[1]}",
               "InvalidParameterException", "logStreamNames");
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"nextToken\":\"e/1_x_2\"}",
               "InvalidParameterException", "nextToken");
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/nope\"}", "ResourceNotFoundException",
               NULL);
    expect_err(lg, "FilterLogEvents", "{\"logGroupName\":\"/f\",\"limit\":0}",
               "InvalidParameterException", "limit");
}

static void test_api_invalid_utf8_message(void **state)
{
    struct fix *f = *state;
    logs_put(f->lg, "/u", "s", T0, "bad \xff\xfe utf8 \xc3\xa9", 14);
    int st;
    json_t *j = call(f->lg, "FilterLogEvents", "{\"logGroupName\":\"/u\"}", &st);
    assert_int_equal(st, 200);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "events"), 0), "message")),
                        "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xc3\xa9");
    json_decref(j);
}

static void test_api_small_out_buffer(void **state)
{
    struct fix *f = *state;
    for (int i = 0; i < 100; i++)
        logs_put(f->lg, "/small", "s", T0 + i, "0123456789012345678901234567890123456789", 40);
    struct buf out;
    buf_init(&out, 1000); /* the caller's cap is smaller than the answer */
    int st;
    const char *body = "{\"logGroupName\":\"/small\"}";
    assert_int_equal(logs_api_handle(f->lg, "FilterLogEvents", body, strlen(body), &st, &out), 0);
    assert_int_equal(st, 500);
    assert_non_null(strstr(out.data, "InternalFailure"));
    buf_destroy(&out);
}

/* ---- tags ---- */

#define ARN_A "arn:aws:logs:eu-west-1:000000000000:log-group:/t/a"

/* The tags an op answers, as "k=v,k=v" in key order (jansson sorts when dumping). */
static char *tags_of(struct logs *lg, const char *op, const char *body)
{
    int st;
    json_t *j = call(lg, op, body, &st);
    if (st != 200)
        fail_msg("%s %s -> %d %s", op, body, st, json_dumps(j, 0));
    json_t *tags = json_object_get(j, "tags");
    assert_true(json_is_object(tags));
    char *s = json_dumps(tags, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

static void expect_tags(struct logs *lg, const char *op, const char *body, const char *want)
{
    char *got = tags_of(lg, op, body);
    if (strcmp(got, want) != 0)
        fail_msg("%s %s: tags %s, want %s", op, body, got, want);
    free(got);
}

/* {"resourceArn":ARN,"tags":{"k0":"v",...,"k<n-1>":"v"}} with keys prefix<i>. */
static char *n_tags_body(const char *arn_or_name_member, const char *prefix, int n)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(buf_printf(&b, "{%s,\"tags\":{", arn_or_name_member), BUF_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(buf_printf(&b, "%s\"%s%d\":\"v\"", i ? "," : "", prefix, i), BUF_OK);
    assert_int_equal(buf_puts(&b, "}}"), BUF_OK);
    return b.data; /* the buffer's bytes are the caller's to free */
}

static void test_api_tags_by_arn(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\"}");
    const char *arn = "{\"resourceArn\":\"" ARN_A "\"}";
    expect_tags(lg, "ListTagsForResource", arn, "{}");
    expect_ok(lg, "TagResource",
              "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"env\":\"dev\",\"team\":\"core\"}}");
    expect_tags(lg, "ListTagsForResource", arn, "{\"env\":\"dev\",\"team\":\"core\"}");
    /* the ":*" form DescribeLogGroups' "arn" has; replacing a value; an empty value */
    expect_ok(lg, "TagResource",
              "{\"resourceArn\":\"" ARN_A ":*\",\"tags\":{\"env\":\"prod\",\"x\":\"\"}}");
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A ":*\"}",
                "{\"env\":\"prod\",\"team\":\"core\",\"x\":\"\"}");
    /* untag: unknown keys are no error; an empty list is allowed */
    expect_ok(lg, "UntagResource",
              "{\"resourceArn\":\"" ARN_A "\",\"tagKeys\":[\"team\",\"nope\"]}");
    expect_ok(lg, "UntagResource", "{\"resourceArn\":\"" ARN_A "\",\"tagKeys\":[]}");
    expect_tags(lg, "ListTagsForResource", arn, "{\"env\":\"prod\",\"x\":\"\"}");
    /* the by-name operations see the same tags */
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/a\"}",
                "{\"env\":\"prod\",\"x\":\"\"}");

    /* bad ARNs */
    expect_err(lg, "ListTagsForResource", "{\"resourceArn\":\"nope\"}", "InvalidParameterException",
               "resourceArn");
    expect_err(lg, "ListTagsForResource",
               "{\"resourceArn\":\"arn:aws:s3:eu-west-1:000000000000:log-group:/t/a\"}",
               "InvalidParameterException", "resourceArn");
    expect_err(lg, "ListTagsForResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:12:log-group:/t/a\"}",
               "InvalidParameterException", "resourceArn");
    expect_err(lg, "ListTagsForResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:000000000000:log-group:bad name\"}",
               "InvalidParameterException", "resourceArn");
    expect_err(lg, "ListTagsForResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:000000000000:log-group:\"}",
               "InvalidParameterException", "resourceArn");
    expect_err(lg, "ListTagsForResource", "{}", "InvalidParameterException", "null");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"nope\",\"tags\":{\"a\":\"b\"}}",
               "InvalidParameterException", "resourceArn");
    /* a group that is not there */
    expect_err(lg, "ListTagsForResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:000000000000:log-group:/t/none\"}",
               "ResourceNotFoundException", "The specified log group does not exist.");
    expect_err(lg, "TagResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:000000000000:log-group:/t/none:*\","
               "\"tags\":{\"a\":\"b\"}}",
               "ResourceNotFoundException", "log group does not exist");
    expect_err(lg, "UntagResource",
               "{\"resourceArn\":\"arn:aws:logs:eu-west-1:000000000000:log-group:/t/none\","
               "\"tagKeys\":[\"a\"]}",
               "ResourceNotFoundException", "log group does not exist");

    /* bad tags: nothing changes */
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{}}",
               "InvalidParameterException", "greater than or equal to 1");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\"}", "InvalidParameterException",
               "tags");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":[\"a\"]}",
               "InvalidParameterException", "map");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"a\":1}}",
               "InvalidParameterException", "string");
    expect_err(lg, "TagResource",
               "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"ok\":\"1\",\"aws:cf\":\"x\"}}",
               "InvalidParameterException", "aws:");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"AWS:x\":\"x\"}}",
               "InvalidParameterException", "aws:");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"\":\"x\"}}",
               "InvalidParameterException", "Map keys");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"a*b\":\"x\"}}",
               "InvalidParameterException", "Map keys");
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"a\":\"x\\ny\"}}",
               "InvalidParameterException", "Map value");
    char key[200], val[300], body[800];
    memset(key, 'k', 129);
    key[129] = '\0';
    snprintf(body, sizeof body, "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"%s\":\"v\"}}", key);
    expect_err(lg, "TagResource", body, "InvalidParameterException", "Map keys");
    key[128] = '\0'; /* 128 is fine */
    memset(val, 'v', 257);
    val[257] = '\0';
    snprintf(body, sizeof body, "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"%s\":\"%s\"}}", key,
             val);
    expect_err(lg, "TagResource", body, "InvalidParameterException", "Map value");
    val[256] = '\0';
    snprintf(body, sizeof body, "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"%s\":\"%s\"}}", key,
             val);
    expect_ok(lg, "TagResource", body);
    /* unicode letters count as one character each: 128 'é' is a 256-byte, valid key */
    char ukey[400] = "";
    for (int i = 0; i < 128; i++)
        memcpy(ukey + 2 * i, "\xC3\xA9", 3);
    snprintf(body, sizeof body, "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"%s\":\"\xC3\xA9 x\"}}",
             ukey);
    expect_ok(lg, "TagResource", body);
    expect_ok(lg, "UntagResource", "{\"resourceArn\":\"" ARN_A "\",\"tagKeys\":[\"no-such\"]}");
    expect_err(lg, "UntagResource", "{\"resourceArn\":\"" ARN_A "\",\"tagKeys\":[\"\"]}",
               "InvalidParameterException", "tagKeys");
    expect_err(lg, "UntagResource", "{\"resourceArn\":\"" ARN_A "\",\"tagKeys\":\"env\"}",
               "InvalidParameterException", "list");
    expect_err(lg, "UntagResource", "{\"resourceArn\":\"" ARN_A "\"}", "InvalidParameterException",
               "tagKeys");
    int st;
    json_t *j = call(lg, "ListTagsForResource", arn, &st);
    assert_int_equal(json_object_size(json_object_get(j, "tags")), 4);
    json_decref(j);
}

static void test_api_tags_limit(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\"}");
    const char *arn_member = "\"resourceArn\":\"" ARN_A "\"";
    /* 51 in one request: the model's limit on the map */
    char *b = n_tags_body(arn_member, "k", 51);
    expect_err(lg, "TagResource", b, "InvalidParameterException", "less than or equal to 50");
    free(b);
    b = n_tags_body(arn_member, "k", 50);
    expect_ok(lg, "TagResource", b);
    expect_ok(lg, "TagResource", b); /* the same 50 again: still 50 */
    free(b);
    /* one more than 50 after merging: TooManyTagsException, nothing added */
    expect_err(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"new\":\"v\"}}",
               "TooManyTagsException", "no more than 50 tags");
    expect_err(lg, "TagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"new\":\"v\"}}",
               "InvalidParameterException", "no more than 50 tags");
    int st;
    json_t *j = call(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}", &st);
    assert_int_equal(json_object_size(json_object_get(j, "tags")), 50);
    assert_null(json_object_get(json_object_get(j, "tags"), "new"));
    json_decref(j);
    /* replacing a value of one of the 50 is fine */
    expect_ok(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"k7\":\"w\"}}");
    /* CreateLogGroup: 50 are fine, 51 are refused and no group is made */
    b = n_tags_body("\"logGroupName\":\"/t/b\"", "k", 51);
    expect_err(lg, "CreateLogGroup", b, "InvalidParameterException", "less than or equal to 50");
    free(b);
    assert_null(logs__group_find(lg, "/t/b"));
    b = n_tags_body("\"logGroupName\":\"/t/b\"", "k", 50);
    expect_ok(lg, "CreateLogGroup", b);
    free(b);
    j = call(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/b\"}", &st);
    assert_int_equal(json_object_size(json_object_get(j, "tags")), 50);
    json_decref(j);
}

static void test_api_tags_by_name(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\"}");
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/a\"}", "{}");
    expect_ok(lg, "TagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"a\":\"1\",\"b\":\"2\"}}");
    expect_ok(lg, "TagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"c\":\"3\"}}");
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/a\"}",
                "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}");
    expect_ok(lg, "UntagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":[\"a\",\"zz\"]}");
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}",
                "{\"b\":\"2\",\"c\":\"3\"}");
    expect_err(lg, "UntagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":[]}",
               "InvalidParameterException", "greater than or equal to 1");
    expect_err(lg, "TagLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"aws:x\":\"1\"}}",
               "InvalidParameterException", "aws:");
    expect_err(lg, "TagLogGroup", "{\"logGroupName\":\"/t/none\",\"tags\":{\"a\":\"1\"}}",
               "ResourceNotFoundException", "log group does not exist");
    expect_err(lg, "UntagLogGroup", "{\"logGroupName\":\"/t/none\",\"tags\":[\"a\"]}",
               "ResourceNotFoundException", NULL);
    expect_err(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/none\"}",
               "ResourceNotFoundException", NULL);
    expect_err(lg, "ListTagsLogGroup", "{\"logGroupName\":\"bad name\"}",
               "InvalidParameterException", "logGroupName");
    expect_err(lg, "ListTagsLogGroup", "{}", "InvalidParameterException", "null");
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/a\"}", "{\"b\":\"2\",\"c\":\"3\"}");
}

static void test_api_create_with_tags_class_kms(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup",
              "{\"logGroupName\":\"/t/a\",\"tags\":{\"env\":\"dev\"},\"kmsKeyId\":"
              "\"arn:aws:kms:eu-west-1:000000000000:key/k1\",\"logGroupClass\":"
              "\"INFREQUENT_ACCESS\"}");
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/b\",\"tags\":{}}");
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}", "{\"env\":\"dev\"}");
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/b\"}", "{}");
    /* refused: no group is left behind */
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/c\",\"tags\":{\"aws:x\":\"1\"}}",
               "InvalidParameterException", "aws:");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/c\",\"logGroupClass\":\"COLD\"}",
               "InvalidParameterException", "enum value set");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/c\",\"kmsKeyId\":5}",
               "InvalidParameterException", "string");
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/c\",\"kmsKeyId\":\"a\\nb\"}",
               "InvalidParameterException", "kmsKeyId");
    assert_null(logs__group_find(lg, "/t/c"));
    /* an existing group keeps its tags */
    expect_err(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"x\":\"y\"}}",
               "ResourceAlreadyExistsException", NULL);
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/a\"}", "{\"env\":\"dev\"}");

    for (int pass = 0; pass < 2; pass++) { /* before and after a reopen */
        int st;
        json_t *j = call(lg, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/t/\"}", &st);
        json_t *groups = json_object_get(j, "logGroups");
        assert_int_equal(json_array_size(groups), 2);
        json_t *a = json_array_get(groups, 0), *b = json_array_get(groups, 1);
        assert_string_equal(json_string_value(json_object_get(a, "logGroupClass")),
                            "INFREQUENT_ACCESS");
        assert_string_equal(json_string_value(json_object_get(a, "kmsKeyId")),
                            "arn:aws:kms:eu-west-1:000000000000:key/k1");
        assert_string_equal(json_string_value(json_object_get(b, "logGroupClass")), "STANDARD");
        assert_null(json_object_get(b, "kmsKeyId"));
        json_decref(j);
        j = call(lg, "DescribeLogGroups", "{\"logGroupClass\":\"STANDARD\"}", &st);
        groups = json_object_get(j, "logGroups");
        assert_int_equal(json_array_size(groups), 1);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(groups, 0), "logGroupName")), "/t/b");
        json_decref(j);
        logs_free(f->lg);
        f->lg = lg = open_store(f, 0);
    }
}

static void test_tags_survive_reopen_and_die_with_group(void **state)
{
    struct fix *f = *state;
    struct logs *lg = f->lg;
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\",\"tags\":{\"k\":\"v\"}}");
    expect_ok(lg, "TagResource",
              "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"q\":\"\\u00e9 a/b=c+d@e:f\"}}");
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/b\",\"tags\":{\"b\":\"1\"}}");
    expect_ok(lg, "UntagLogGroup", "{\"logGroupName\":\"/t/b\",\"tags\":[\"b\"]}");
    logs_free(f->lg);
    f->lg = lg = open_store(f, 0);
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}",
                "{\"k\":\"v\",\"q\":\"\xC3\xA9 a/b=c+d@e:f\"}");
    expect_tags(lg, "ListTagsLogGroup", "{\"logGroupName\":\"/t/b\"}", "{}");
    /* no tags, no file; a damaged file costs the tags, not the group */
    char path[600];
    struct stat st;
    char fs[256];
    assert_int_equal(logs__fs_name("/t/b", 4, fs, sizeof fs), 0);
    snprintf(path, sizeof path, "%s/logs/%s/.tags", f->dir, fs);
    assert_int_not_equal(stat(path, &st), 0);
    assert_int_equal(logs__fs_name("/t/a", 4, fs, sizeof fs), 0);
    snprintf(path, sizeof path, "%s/logs/%s/.tags", f->dir, fs);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/logs/%s/.tags.tmp", f->dir, fs);
    assert_int_not_equal(stat(path, &st), 0); /* the temp file was renamed away */
    /* deleting the group drops its tags: made again, it has none, also after a reopen */
    expect_ok(lg, "DeleteLogGroup", "{\"logGroupName\":\"/t/a\"}");
    expect_ok(lg, "CreateLogGroup", "{\"logGroupName\":\"/t/a\"}");
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}", "{}");
    logs_free(f->lg);
    f->lg = lg = open_store(f, 0);
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}", "{}");
    /* a damaged .tags file */
    expect_ok(lg, "TagResource", "{\"resourceArn\":\"" ARN_A "\",\"tags\":{\"k\":\"v\"}}");
    snprintf(path, sizeof path, "%s/logs/%s/.tags", f->dir, fs);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"k\":", fp);
    fclose(fp);
    logs_free(f->lg);
    f->lg = lg = open_store(f, 0);
    assert_non_null(logs__group_find(lg, "/t/a"));
    expect_tags(lg, "ListTagsForResource", "{\"resourceArn\":\"" ARN_A "\"}", "{}");
}

static void test_cli_usage_and_unreachable(void **state)
{
    (void)state;
    char *a1[] = {"logs", NULL};
    assert_int_equal(logs_cli(1, a1), 2);
    char *a2[] = {"logs", "api", "--since", "yesterday", NULL};
    assert_int_equal(logs_cli(4, a2), 2);
    char *a3[] = {"logs", "api", "--bogus", NULL};
    assert_int_equal(logs_cli(3, a3), 2);
    char *a4[] = {"logs", "api", "--endpoint", "http://127.0.0.1:1", NULL};
    assert_int_equal(logs_cli(4, a4), 1);
    char *a5[] = {"logs", "/aws/lambda/x", "--endpoint", "http://127.0.0.1:1", "--follow", NULL};
    assert_int_equal(logs_cli(5, a5), 1);
    char *a6[] = {"logs", "--help", NULL};
    assert_int_equal(logs_cli(2, a6), 0);
    char *a7[] = {"logs", "a", "b", NULL};
    assert_int_equal(logs_cli(3, a7), 2);
    char *a8[] = {"logs", "a", "--format", "xml", NULL};
    assert_int_equal(logs_cli(4, a8), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_flush_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_durability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_streams_lru, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_line_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_put_log_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_get_log_events_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_get_log_events_1mb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_filter_log_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_invalid_utf8_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_small_out_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_tags_by_arn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_tags_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_tags_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_create_with_tags_class_kms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_survive_reopen_and_die_with_group, setup,
                                        teardown),
        cmocka_unit_test(test_cli_usage_and_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
