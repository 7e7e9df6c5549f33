/*
 * test_ddb_engine.c — the DynamoDB engine (src/cloud/dynamodb/ddb.h) on a temporary store
 * and the manual clock:
 *
 *   - the operation conformance cases of tests/data/dynamodb/ops_*.json, replayed by one
 *     driver (one cmocka test per file; the format is in tests/data/dynamodb/README.md):
 *     each case is a list of steps (request → expected answer or error, exact or as a
 *     subset, and clock moves), run on a fresh engine;
 *   - what data cannot say: the overlay (a condition sees a write still committing), a
 *     failed commit keeps nothing and answers InternalServerError, answers never come from
 *     inside the call, state survives reopening (items, indexes, counters, TTL), and the
 *     adapter's error bodies.
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
#include <unistd.h>

#include "cloud/dynamodb/ddb.h"
#include "cloud/dynamodb/proto_json.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/timer.h"

#define T0_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static char dir[128];

struct engine {
    struct store *st;
    struct ddb *db;
};

static void engine_open(struct engine *e)
{
    char err[512];
    e->st = store_open(dir, err, sizeof err);
    assert_non_null(e->st);
    struct ddb_options o = {"us-east-1", "000000000000"};
    e->db = ddb_new(e->st, &o, err, sizeof err);
    if (e->db == NULL)
        fprintf(stderr, "ddb_new: %s\n", err);
    assert_non_null(e->db);
    ddb_restore(e->db);
}

static void engine_close(struct engine *e)
{
    store_flush(e->st);
    timer_run_due();
    ddb_free(e->db);
    store_close(e->st);
    e->db = NULL;
    e->st = NULL;
}

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/haar-test-ddb-%d", (int)getpid());
    fs_remove_tree(dir);
    assert_int_equal(fs_mkdir_p(dir, 0700), 0);
}

/* An engine on an empty directory, the manual clock at T0. */
static void engine_start(struct engine *e)
{
    fresh_dir();
    clock_set_manual(T0_MS);
    engine_open(e);
}

/* ---- running one call to completion ---- */

struct answer {
    bool done;
    enum err err;
    char *message;
    json_t *body; /* the answer (or the error's extra members wrapped in an object) */
    char *raw;    /* the answer's text */
};

static void answer_clear(struct answer *a)
{
    free(a->message);
    free(a->raw);
    json_decref(a->body);
    memset(a, 0, sizeof *a);
}

static void on_answer(void *arg, const struct ddb_reply *rep)
{
    struct answer *a = arg;
    a->done = true;
    a->err = rep->err;
    a->message = rep->message ? strdup(rep->message) : NULL;
    if (rep->body && rep->len) {
        a->raw = strndup(rep->body, rep->len);
        if (rep->err == ERR_OK) {
            a->body = json_loadb(rep->body, rep->len, JSON_ALLOW_NUL, NULL);
        } else {
            /* ",\"Item\":{…}" → {"Item":{…}} */
            char *w = malloc(rep->len + 3);
            w[0] = '{';
            memcpy(w + 1, rep->body + 1, rep->len - 1);
            w[rep->len] = '}';
            w[rep->len + 1] = '\0';
            a->body = json_loads(w, JSON_ALLOW_NUL, NULL);
            free(w);
        }
    }
}

static void drive(struct engine *e, struct answer *a)
{
    for (int i = 0; i < 10000 && !a->done; i++) {
        store_flush(e->st);
        timer_run_due();
    }
    assert_true(a->done);
}

/* Runs op with a request given as JSON text; the answer in *a. */
static void run_call(struct engine *e, const char *op, json_t *req, struct answer *a)
{
    memset(a, 0, sizeof *a);
    enum ddb_op o = ddb_op_from_name(op, strlen(op));
    ddb_call(e->db, o, req, on_answer, a);
    assert_false(a->done); /* never from inside the call */
    drive(e, a);
}

static void run_text(struct engine *e, const char *op, const char *req_text, struct answer *a)
{
    json_error_t je;
    json_t *req = json_loads(req_text, 0, &je);
    if (req == NULL)
        fail_msg("bad request text %s: %s", req_text, je.text);
    run_call(e, op, req, a);
}

/* ---- comparing ---- */

static int failures;

static char *dump(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

/* want ⊆ got: objects member by member ("*" matches any value, null means "absent"),
 * arrays element by element with equal lengths, anything else equal. */
static bool subset(const json_t *want, const json_t *got)
{
    if (json_is_string(want) && strcmp(json_string_value(want), "*") == 0)
        return got != NULL;
    if (json_is_object(want)) {
        if (!json_is_object(got))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            json_t *g = json_object_get(got, k);
            if (json_is_null(v)) {
                if (g != NULL)
                    return false;
                continue;
            }
            if (g == NULL || !subset(v, g))
                return false;
        }
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
            return false;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!subset(json_array_get(want, i), json_array_get(got, i)))
                return false;
        return true;
    }
    if (json_is_number(want) && json_is_number(got))
        return json_number_value(want) == json_number_value(got);
    return json_equal(want, got);
}

static void case_fail(const char *file, const char *name, size_t step, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void case_fail(const char *file, const char *name, size_t step, const char *fmt, ...)
{
    fprintf(stderr, "FAIL %s [%s] step %zu: ", file, name, step);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failures++;
}

static void check_step(const char *file, const char *name, size_t i, const json_t *step,
                       const struct answer *a)
{
    const json_t *err = json_object_get(step, "error");
    if (err) {
        const char *type = json_is_string(err) ? json_string_value(err)
                                               : json_string_value(json_object_get(err, "type"));
        const char *msg = json_string_value(json_object_get(err, "message"));
        if (a->err == ERR_OK) {
            case_fail(file, name, i, "expected %s, got success %s", type, a->raw ? a->raw : "{}");
            return;
        }
        if (type && strcmp(type, err_code(a->err)) != 0)
            case_fail(file, name, i, "error type want %s got %s (%s)", type, err_code(a->err),
                      a->message ? a->message : "");
        else if (msg && strcmp(msg, a->message ? a->message : "") != 0)
            case_fail(file, name, i, "message\n   want: %s\n    got: %s", msg,
                      a->message ? a->message : "(none)");
        const json_t *extra = json_object_get(err, "body");
        json_t *none = a->body ? NULL : json_object();
        bool match = extra == NULL || subset(extra, a->body ? a->body : none);
        json_decref(none);
        if (!match) {
            char *w = dump(extra), *g = dump(a->body);
            case_fail(file, name, i, "error body\n   want: %s\n    got: %s", w, g);
            free(w);
            free(g);
        }
        return;
    }
    if (a->err != ERR_OK) {
        case_fail(file, name, i, "unexpected %s: %s", err_code(a->err),
                  a->message ? a->message : "");
        return;
    }
    const json_t *exact = json_object_get(step, "response");
    const json_t *part = json_object_get(step, "response_has");
    json_t *empty = a->body ? NULL : json_object();
    const json_t *got = a->body ? a->body : empty;
    if ((exact && !json_equal(exact, got)) || (part && !subset(part, got))) {
        char *w = dump(exact ? exact : part), *g = dump(got);
        case_fail(file, name, i, "response\n   want: %s\n    got: %s", w, g);
        free(w);
        free(g);
    }
    json_decref(empty);
}

/* ---- the data files ---- */

/*
 * A request with every {"$repeat": [text, n]} in it replaced by text written n times (the
 * 1 MB-page cases need items of hundreds of KB; the file says how they are made instead of
 * holding them). New reference.
 */
static json_t *expand(const json_t *v)
{
    const json_t *rep = json_object_get(v, "$repeat");
    if (json_is_object(v) && json_object_size(v) == 1 && json_is_array(rep)) {
        const char *text = json_string_value(json_array_get(rep, 0));
        json_int_t n = json_integer_value(json_array_get(rep, 1));
        size_t tl = text ? strlen(text) : 0;
        if (tl == 0 || n <= 0 || n > 4 * 1024 * 1024)
            fail_msg("$repeat wants [non-empty text, 1..4194304]");
        char *out = malloc(tl * (size_t)n + 1);
        assert_non_null(out);
        for (json_int_t i = 0; i < n; i++)
            memcpy(out + tl * (size_t)i, text, tl);
        out[tl * (size_t)n] = '\0';
        json_t *str = json_stringn_nocheck(out, tl * (size_t)n);
        free(out);
        return str;
    }
    json_t *copy = NULL;
    if (json_is_object(v)) {
        copy = json_object();
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) json_object_set_new(copy, k, expand(m));
    } else if (json_is_array(v)) {
        copy = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) json_array_append_new(copy, expand(m));
    } else {
        copy = json_deep_copy(v);
    }
    return copy;
}

static void run_case(const char *file, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    struct engine e;
    engine_start(&e);
    const json_t *steps = json_object_get(c, "steps");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        const json_t *step = json_array_get(steps, i);
        const json_t *adv = json_object_get(step, "advance_seconds");
        if (adv) {
            timer_advance(clock_now_ms() + (int64_t)(json_number_value(adv) * 1000));
            store_flush(e.st);
            timer_run_due();
            continue;
        }
        if (json_is_true(json_object_get(step, "reopen"))) {
            engine_close(&e);
            engine_open(&e);
            continue;
        }
        const char *op = json_string_value(json_object_get(step, "op"));
        json_t *req = json_object_get(step, "request");
        if (op == NULL || req == NULL) {
            case_fail(file, name ? name : "?", i, "a step needs op and request");
            continue;
        }
        struct answer a;
        run_call(&e, op, expand(req), &a);
        check_step(file, name ? name : "?", i, step, &a);
        answer_clear(&a);
        /* background work (index backfills) settles before the next step */
        for (int k = 0; k < 50; k++) {
            store_flush(e.st);
            timer_run_due();
        }
    }
    engine_close(&e);
}

static void run_file(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
    if (doc == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const json_t *cases = json_object_get(doc, "cases");
    assert_true(json_array_size(cases) > 0);
    int before = failures;
    for (size_t i = 0; i < json_array_size(cases); i++)
        run_case(file, json_array_get(cases, i));
    fprintf(stderr, "%s: %zu cases, %d failures\n", file, json_array_size(cases),
            failures - before);
    json_decref(doc);
}

static void test_data_files(void **state)
{
    (void)state;
    const char *src = getenv("HAAR_SOURCE_DIR");
    char d[4096];
    snprintf(d, sizeof d, "%s/tests/data/dynamodb", src && *src ? src : ".");
    DIR *dp = opendir(d);
    assert_non_null(dp);
    struct dirent *de;
    char *names[256];
    size_t n = 0;
    while ((de = readdir(dp)) != NULL && n < 256)
        if (strncmp(de->d_name, "ops_", 4) == 0 && strstr(de->d_name, ".json"))
            names[n++] = strdup(de->d_name);
    closedir(dp);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        run_file(p);
        free(names[i]);
    }
    assert_int_equal(failures, 0);
}

/* ---- what data cannot say ---- */

static const char *CREATE =
    "{\"TableName\":\"tbl\",\"BillingMode\":\"PAY_PER_REQUEST\",\"AttributeDefinitions\":"
    "[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},{\"AttributeName\":\"g\","
    "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}],"
    "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"gix\",\"KeySchema\":[{\"AttributeName\":\"g\","
    "\"KeyType\":\"HASH\"}],\"Projection\":{\"ProjectionType\":\"ALL\"}}]}";

/* engine_start with table tbl (CREATE) made. */
static void engine_start_with_table(struct engine *e)
{
    engine_start(e);
    struct answer a;
    run_text(e, "CreateTable", CREATE, &a);
    assert_int_equal(a.err, ERR_OK);
    answer_clear(&a);
}

static void test_overlay_conditions_see_pending_writes(void **state)
{
    (void)state;
    struct engine e;
    engine_start_with_table(&e);
    struct answer a;
    /* two conditional creates of one key, the second issued before the first commits */
    struct answer a1 = {0}, a2 = {0}, g = {0};
    const char *put = "{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"k\"},\"g\":{\"S\":\"x\"}},"
                      "\"ConditionExpression\":\"attribute_not_exists(pk)\"}";
    ddb_call(e.db, DDB_OP_PUT_ITEM, json_loads(put, 0, NULL), on_answer, &a1);
    ddb_call(e.db, DDB_OP_PUT_ITEM, json_loads(put, 0, NULL), on_answer, &a2);
    /* a read before the commit sees the pending version */
    ddb_call(e.db, DDB_OP_GET_ITEM,
             json_loads("{\"TableName\":\"tbl\",\"Key\":{\"pk\":{\"S\":\"k\"}}}", 0, NULL),
             on_answer, &g);
    drive(&e, &a1);
    drive(&e, &a2);
    drive(&e, &g);
    assert_int_equal(a1.err, ERR_OK);
    assert_int_equal(a2.err, ERR_DDB_CONDITIONAL_CHECK_FAILED);
    assert_non_null(json_object_get(g.body, "Item"));
    answer_clear(&a1);
    answer_clear(&a2);
    answer_clear(&g);
    /* a query of the index right after an update moving the item sees it moved */
    struct answer u = {0}, q = {0};
    ddb_call(
        e.db, DDB_OP_UPDATE_ITEM,
        json_loads("{\"TableName\":\"tbl\",\"Key\":{\"pk\":{\"S\":\"k\"}},\"UpdateExpression\":"
                   "\"SET g = :y\",\"ExpressionAttributeValues\":{\":y\":{\"S\":\"y\"}}}",
                   0, NULL),
        on_answer, &u);
    ddb_call(e.db, DDB_OP_QUERY,
             json_loads("{\"TableName\":\"tbl\",\"IndexName\":\"gix\",\"KeyConditionExpression\":"
                        "\"g = :y\",\"ExpressionAttributeValues\":{\":y\":{\"S\":\"y\"}}}",
                        0, NULL),
             on_answer, &q);
    drive(&e, &u);
    drive(&e, &q);
    assert_int_equal(q.err, ERR_OK);
    assert_int_equal(json_integer_value(json_object_get(q.body, "Count")), 1);
    answer_clear(&u);
    answer_clear(&q);
    run_text(&e, "Query",
             "{\"TableName\":\"tbl\",\"IndexName\":\"gix\",\"KeyConditionExpression\":\"g = :x\","
             "\"ExpressionAttributeValues\":{\":x\":{\"S\":\"x\"}}}",
             &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "Count")), 0);
    answer_clear(&a);
    engine_close(&e);
}

static void test_failed_commit_keeps_nothing(void **state)
{
    (void)state;
    struct engine e;
    engine_start_with_table(&e);
    struct answer a;
    store_fail_commits(e.st, 1);
    run_text(&e, "PutItem",
             "{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"k\"},\"g\":{\"S\":\"x\"}}}", &a);
    assert_int_equal(a.err, ERR_DDB_INTERNAL);
    answer_clear(&a);
    run_text(&e, "GetItem", "{\"TableName\":\"tbl\",\"Key\":{\"pk\":{\"S\":\"k\"}}}", &a);
    assert_int_equal(a.err, ERR_OK);
    assert_null(json_object_get(a.body, "Item"));
    answer_clear(&a);
    run_text(&e, "DescribeTable", "{\"TableName\":\"tbl\"}", &a);
    json_t *t = json_object_get(a.body, "Table");
    assert_int_equal(json_integer_value(json_object_get(t, "ItemCount")), 0);
    answer_clear(&a);
    /* a failed TransactWriteItems commit leaves both items absent */
    store_fail_commits(e.st, 1);
    run_text(
        &e, "TransactWriteItems",
        "{\"TransactItems\":[{\"Put\":{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"a\"}}}},"
        "{\"Put\":{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"b\"}}}}]}",
        &a);
    assert_int_equal(a.err, ERR_DDB_INTERNAL);
    answer_clear(&a);
    run_text(&e, "Scan", "{\"TableName\":\"tbl\"}", &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "Count")), 0);
    answer_clear(&a);
    engine_close(&e);
}

static void test_reopen_keeps_everything(void **state)
{
    (void)state;
    struct engine e;
    engine_start_with_table(&e);
    struct answer a;
    run_text(&e, "UpdateTimeToLive",
             "{\"TableName\":\"tbl\",\"TimeToLiveSpecification\":{\"AttributeName\":\"exp\","
             "\"Enabled\":true}}",
             &a);
    assert_int_equal(a.err, ERR_OK);
    answer_clear(&a);
    for (int i = 0; i < 50; i++) {
        char req[256];
        snprintf(req, sizeof req,
                 "{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"k%d\"},\"g\":{\"S\":\"g%d\"},"
                 "\"exp\":{\"N\":\"%lld\"}}}",
                 i, i % 5, (long long)(T0_MS / 1000 + 100 + i));
        run_text(&e, "PutItem", req, &a);
        assert_int_equal(a.err, ERR_OK);
        answer_clear(&a);
    }
    engine_close(&e);
    engine_open(&e);
    run_text(&e, "DescribeTable", "{\"TableName\":\"tbl\"}", &a);
    json_t *t = json_object_get(a.body, "Table");
    assert_int_equal(json_integer_value(json_object_get(t, "ItemCount")), 50);
    json_t *x = json_array_get(json_object_get(t, "GlobalSecondaryIndexes"), 0);
    assert_int_equal(json_integer_value(json_object_get(x, "ItemCount")), 50);
    answer_clear(&a);
    run_text(&e, "Query",
             "{\"TableName\":\"tbl\",\"IndexName\":\"gix\",\"KeyConditionExpression\":\"g = :g\","
             "\"ExpressionAttributeValues\":{\":g\":{\"S\":\"g3\"}}}",
             &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "Count")), 10);
    answer_clear(&a);
    /* the TTL entries survived too: 120 s later, the first 20 items are gone */
    timer_advance(T0_MS + 120 * 1000);
    store_flush(e.st);
    timer_run_due();
    run_text(&e, "Scan", "{\"TableName\":\"tbl\",\"Select\":\"COUNT\"}", &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "Count")), 29);
    answer_clear(&a);
    engine_close(&e);
}

static void test_error_bodies(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    ddb_error_body(ERR_DDB_VALIDATION, "x \"y\"", NULL, 0, &b);
    assert_string_equal(b.data,
                        "{\"__type\":\"com.amazon.coral.validate#ValidationException\",\"message\":"
                        "\"x \\\"y\\\"\"}");
    buf_reset(&b);
    ddb_error_body(ERR_DDB_SERIALIZATION, NULL, NULL, 0, &b);
    assert_string_equal(b.data, "{\"__type\":\"com.amazon.coral.service#SerializationException\"}");
    buf_reset(&b);
    const char *reasons = ",\"CancellationReasons\":[{\"Code\":\"None\"}]";
    ddb_error_body(ERR_DDB_TRANSACTION_CANCELED, "Transaction cancelled", reasons, strlen(reasons),
                   &b);
    assert_string_equal(b.data, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                                "TransactionCanceledException\",\"CancellationReasons\":[{\"Code\":"
                                "\"None\"}],\"Message\":\"Transaction cancelled\"}");
    buf_reset(&b);
    const char *item = ",\"Item\":{\"a\":{\"S\":\"b\"}}";
    ddb_error_body(ERR_DDB_CONDITIONAL_CHECK_FAILED, "The conditional request failed", item,
                   strlen(item), &b);
    assert_string_equal(b.data, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                                "ConditionalCheckFailedException\",\"message\":\"The conditional "
                                "request failed\",\"Item\":{\"a\":{\"S\":\"b\"}}}");
    buf_reset(&b);
    ddb_error_body(ERR_MISSING_AUTH, "Missing Authentication Token", NULL, 0, &b);
    assert_non_null(strstr(b.data, "com.amazon.coral.service#MissingAuthenticationTokenException"));
    buf_destroy(&b);
}

static void test_provision_keeps_items(void **state)
{
    (void)state;
    struct engine e;
    engine_start(&e);
    struct ddb_table_spec spec = {.name = "env-tasks",
                                  .hash_key = "id",
                                  .index_name = "by-status",
                                  .index_hash = "status",
                                  .index_range = "created_at",
                                  .ttl_attribute = "expires_at",
                                  .pitr = true,
                                  .deletion_protection = true};
    char err[256];
    assert_int_equal(ddb_provision(e.db, &spec, err, sizeof err), 0);
    struct answer a;
    run_text(&e, "PutItem",
             "{\"TableName\":\"env-tasks\",\"Item\":{\"id\":{\"S\":\"t1\"},\"status\":{\"S\":"
             "\"QUEUED\"},\"created_at\":{\"S\":\"2026\"}}}",
             &a);
    assert_int_equal(a.err, ERR_OK);
    answer_clear(&a);
    engine_close(&e);
    engine_open(&e);
    assert_int_equal(ddb_provision(e.db, &spec, err, sizeof err), 0);
    run_text(&e, "Query",
             "{\"TableName\":\"env-tasks\",\"IndexName\":\"by-status\",\"KeyConditionExpression\":"
             "\"#s = :s\",\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
             "\"ExpressionAttributeValues\":{\":s\":{\"S\":\"QUEUED\"}}}",
             &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "Count")), 1);
    answer_clear(&a);
    run_text(&e, "DescribeTimeToLive", "{\"TableName\":\"env-tasks\"}", &a);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(a.body, "TimeToLiveDescription"), "AttributeName")),
                        "expires_at");
    answer_clear(&a);
    run_text(&e, "DescribeContinuousBackups", "{\"TableName\":\"env-tasks\"}", &a);
    assert_non_null(strstr(a.raw, "\"PointInTimeRecoveryStatus\":\"ENABLED\""));
    answer_clear(&a);
    /* deletion protection as configured: DeleteTable refused, then lifted by config */
    run_text(&e, "DeleteTable", "{\"TableName\":\"env-tasks\"}", &a);
    assert_int_not_equal(a.err, ERR_OK);
    answer_clear(&a);
    spec.deletion_protection = false;
    assert_int_equal(ddb_provision(e.db, &spec, err, sizeof err), 0);
    run_text(&e, "DescribeTable", "{\"TableName\":\"env-tasks\"}", &a);
    assert_non_null(strstr(a.raw, "\"DeletionProtectionEnabled\":false"));
    answer_clear(&a);
    engine_close(&e);
}

static int teardown(void **state)
{
    (void)state;
    fs_remove_tree(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_data_files, teardown),
        cmocka_unit_test_teardown(test_overlay_conditions_see_pending_writes, teardown),
        cmocka_unit_test_teardown(test_failed_commit_keeps_nothing, teardown),
        cmocka_unit_test_teardown(test_reopen_keeps_everything, teardown),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test_teardown(test_provision_keeps_items, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
