/*
 * Unit tests: the worker and the producer functions. The worker's decision table as a
 * table; then both handlers in process against a scripted DynamoDB and SQS
 * (test_aws_fake.h): for each situation a record or event can meet (a task that runs, fails
 * and is retried, fails on its last delivery, was finished already, runs elsewhere, is gone,
 * has no time left, loses its lease...) what they write, in which order, and what they
 * report back (batchItemFailures; the producer's counts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fn_test.h"
#include "functions/producer/producer.h"
#include "functions/worker/worker.h"
#include "runtime/runtime_emf.h"
#include "runtime/runtime_log.h"

#define CCF                                                                                        \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","            \
    "\"message\":\"The conditional request failed\""

/* ---- the decision table ---- */

static void test_decisions(void **state)
{
    (void)state;
    static const struct {
        enum worker_event ev;
        bool last, mark_failed, report_failure;
    } CASES[] = {
        {WORKER_SUCCEEDED, false, false, false},     {WORKER_SUCCEEDED, true, false, false},
        {WORKER_FAILED_RETRY, false, false, true},   {WORKER_FAILED_RETRY, true, true, true},
        {WORKER_FAILED_FOREVER, false, true, false}, {WORKER_FAILED_FOREVER, true, true, false},
        {WORKER_DUPLICATE, false, false, false},     {WORKER_DUPLICATE, true, false, false},
        {WORKER_BUSY, false, false, true},           {WORKER_BUSY, true, false, true},
        {WORKER_MISSING, false, false, false},       {WORKER_MISSING, true, false, false},
        {WORKER_NO_TIME, false, false, true},        {WORKER_NO_TIME, true, true, true},
        {WORKER_STORE_ERROR, false, false, true},    {WORKER_STORE_ERROR, true, false, true},
        {WORKER_BAD_MESSAGE, false, false, true},    {WORKER_BAD_MESSAGE, true, false, true},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct worker_action a = worker_decide(CASES[i].ev, CASES[i].last);
        if (a.mark_failed != CASES[i].mark_failed || a.report_failure != CASES[i].report_failure)
            printf("case %zu: mark %d report %d\n", i, a.mark_failed, a.report_failure);
        assert_int_equal(a.mark_failed, CASES[i].mark_failed);
        assert_int_equal(a.report_failure, CASES[i].report_failure);
    }
    /* an event past the table keeps its message */
    assert_true(worker_decide((enum worker_event)99, false).report_failure);
}

/* ---- the handlers against scripted AWS ---- */

static int setup(void **state)
{
    static const char *const EXTRA[][2] = {
        {"MAX_RECEIVE_COUNT", "5"},
        {"SCHEDULE_RULE", "haar-test-schedule"},
        {"SCHEDULE_TASKS", "[{\"kind\":\"report\",\"payload\":{}}]"},
        {NULL, NULL}};
    fn_test_setup(state, EXTRA);
    struct fn_test_ctx *x = *state;
    assert_int_equal(x->app.env.max_receive_count, 5);
    return 0;
}

/* An SQS record naming task id (body as the api sends it, or `body` when not NULL). */
static json_t *record(const char *message_id, const char *id, int receive_count, const char *body)
{
    char b[256], count[16];
    snprintf(b, sizeof b, "{\"id\":\"%s\",\"kind\":\"x\"}", id);
    snprintf(count, sizeof count, "%d", receive_count);
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:s}", "messageId", message_id, "receiptHandle",
                     "rh", "body", body ? body : b, "attributes", "ApproximateReceiveCount", count,
                     "SentTimestamp", "1767225600000", "eventSource", "aws:sqs");
}

/* Runs the worker on the records (consumed); returns the message ids reported failed,
 * comma-joined, into failed. deadline_in_ms: the invocation's remaining time. */
static void run_worker(struct fn_test_ctx *x, json_t *records, int64_t deadline_in_ms, char *failed,
                       size_t cap)
{
    json_t *ev = json_pack("{s:o}", "Records", records);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    struct runtime_invocation inv = {
        .request_id = "w-1", .deadline_ms = runtime_now_ms() + deadline_in_ms, .user = &x->app};
    struct buf out;
    struct runtime_error err;
    buf_init(&out, 1 << 20);
    assert_int_equal(worker_handle(&inv, text, strlen(text), &out, &err), 0);
    free(text);
    json_t *res = json_loads(out.data, 0, NULL);
    json_t *list = json_object_get(res, "batchItemFailures");
    assert_true(json_is_array(list));
    size_t len = 0;
    failed[0] = '\0';
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *m =
            json_string_value(json_object_get(json_array_get(list, i), "itemIdentifier"));
        len += (size_t)snprintf(failed + len, cap - len, "%s%s", i ? "," : "", m);
    }
    json_decref(res);
    buf_destroy(&out);
}

/* An expression attribute value's S (or N) as text. */
static const char *value_of(json_t *req, const char *placeholder)
{
    json_t *v = json_object_get(json_object_get(req, "ExpressionAttributeValues"), placeholder);
    const char *s = json_string_value(json_object_get(v, "S"));
    return s ? s : json_string_value(json_object_get(v, "N"));
}

static const char *expr(json_t *req, const char *name)
{
    return json_string_value(json_object_get(req, name));
}

/* The start's answer: the task after the write. */
static void started(char *out, size_t cap, const char *kind, const char *payload, int attempts)
{
    json_t *a = json_pack("{s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}", "Attributes", "id", "S",
                          TID, "kind", "S", kind, "status", "S", "RUNNING", "payload", "S", payload,
                          "attempts", "N", "");
    char n[16];
    snprintf(n, sizeof n, "%d", attempts);
    json_object_set_new(json_object_get(json_object_get(a, "Attributes"), "attempts"), "N",
                        json_string(n));
    char *t = json_dumps(a, JSON_COMPACT);
    snprintf(out, cap, "%s", t);
    free(t);
    json_decref(a);
}

static void test_worker_success(void **state)
{
    struct fn_test_ctx *x = *state;
    char start[512], failed[256];
    started(start, sizeof start, "echo", "{\"a\":1}", 1);
    struct step s[] = {{200, start, NULL, 0, false}, {200, "{}", NULL, 0, false}};
    fake_script(&x->f, s, 2);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "");
    assert_int_equal(x->f.nreqs, 2);
    json_t *st = fn_test_sent(x, 0), *fin = fn_test_sent(x, 1);
    assert_string_equal(x->f.reqs[0].target, "DynamoDB_20120810.UpdateItem");
    assert_string_equal(expr(st, "ConditionExpression"),
                        "#s = :q OR (#s = :r AND lease_until < :nowms)");
    assert_string_equal(expr(st, "ReturnValues"), "ALL_NEW");
    assert_string_equal(expr(st, "ReturnValuesOnConditionCheckFailure"), "ALL_OLD");
    assert_string_equal(value_of(fin, ":done"), "SUCCEEDED");
    assert_string_equal(value_of(fin, ":res"), "{\"a\":1}");
    /* the finish is conditional on this run's id */
    assert_string_equal(value_of(fin, ":run"), value_of(st, ":run"));
    assert_string_equal(expr(fin, "ConditionExpression"), "#s = :r AND run_id = :run");
    /* the lease is the invocation's end */
    int64_t lease = strtoll(value_of(st, ":lease"), NULL, 10);
    assert_true(lease > runtime_now_ms() && lease <= runtime_now_ms() + 5000);
    json_decref(st);
    json_decref(fin);
}

/* A failed attempt: the task the start hands back (kind, payload, attempts so far), the
 * delivery's receive count, and what the worker must do — the ids it reports failed (the
 * message kept), and the finish it writes: the next status, the error code (NULL: not
 * checked), whether it sets finished_at (-1: not checked). */
static const struct attempt_case {
    const char *what, *kind, *payload;
    int attempts, receive_count;
    const char *failed, *next, *code;
    int finished;
} ATTEMPTS[] = {
    /* attempt 2 of a task failing 3 times, delivery 2 of 5: back to QUEUED, message kept */
    {"retried", "fail", "{\"times\":3}", 2, 2, "m-1", "QUEUED", "TaskFailed", 0},
    /* the last delivery (receive count = max receive count): FAILED first, the message kept
     * so the queue moves it to the dead-letter queue */
    {"last delivery", "fail", "{\"times\":9}", 5, 5, "m-1", "FAILED", NULL, 1},
    /* an attempt that cannot succeed (an unknown kind): FAILED at once, the message deleted */
    {"cannot succeed", "teleport", "{}", 1, 1, "", "FAILED", "UnknownKind", -1},
    /* a sleep that outlasts the invocation: failed cleanly (at once), not started */
    {"outlasts the invocation", "sleep", "{\"ms\":600000}", 1, 1, "m-1", "QUEUED",
     "DeadlineExceeded", -1},
};

/* True when got is want (got may be NULL: absent). */
static bool is(const char *got, const char *want)
{
    return got != NULL && strcmp(got, want) == 0;
}

static void test_worker_attempts(void **state)
{
    struct fn_test_ctx *x = *state;
    int failures = 0;
    for (size_t i = 0; i < sizeof ATTEMPTS / sizeof ATTEMPTS[0]; i++) {
        const struct attempt_case *c = &ATTEMPTS[i];
        char start[512], failed[256];
        started(start, sizeof start, c->kind, c->payload, c->attempts);
        struct step s[] = {{200, start, NULL, 0, false}, {200, "{}", NULL, 0, false}};
        fake_script(&x->f, s, 2);
        int64_t t0 = runtime_now_ms();
        run_worker(x, json_pack("[o]", record("m-1", TID, c->receive_count, NULL)), 5000, failed,
                   sizeof failed);
        int64_t took = runtime_now_ms() - t0;
        json_t *fin = fn_test_sent(x, 1);
        const char *update = expr(fin, "UpdateExpression");
        bool finished = update != NULL && strstr(update, "finished_at") != NULL;
        if (took >= 1000 || strcmp(failed, c->failed) != 0 ||
            !is(value_of(fin, ":next"), c->next) ||
            (c->code != NULL && !is(value_of(fin, ":code"), c->code)) ||
            (c->finished >= 0 && finished != (c->finished == 1))) {
            printf("FAIL %s: took %lld ms, failed '%s', update %s\n", c->what, (long long)took,
                   failed, update ? update : "(none)");
            failures++;
        }
        json_decref(fin);
    }
    assert_int_equal(failures, 0);
}

static void test_worker_not_started(void **state)
{
    struct fn_test_ctx *x = *state;
    char failed[256];
    /* finished already (a duplicate delivery): nothing runs, the message is deleted */
    struct step done[] = {
        {400, CCF ",\"Item\":{\"id\":{\"S\":\"" TID "\"},\"status\":{\"S\":\"SUCCEEDED\"}}}", NULL,
         0, false}};
    fake_script(&x->f, done, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 3, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "");
    assert_int_equal(x->f.nreqs, 1);
    /* running under another delivery's lease: kept for later */
    struct step busy[] = {
        {400, CCF ",\"Item\":{\"id\":{\"S\":\"" TID "\"},\"status\":{\"S\":\"RUNNING\"}}}", NULL, 0,
         false}};
    fake_script(&x->f, busy, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "m-1");
    /* gone: deleted */
    struct step gone[] = {{400, CCF "}", NULL, 0, false}};
    fake_script(&x->f, gone, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "");
    /* the table fails: kept */
    struct step err[] = {{500, "{\"__type\":\"InternalServerError\"}", NULL, 0, false}};
    fake_script(&x->f, err, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "m-1");
    /* a message that names no task: kept (for the dead-letter queue), nothing read */
    fake_script(&x->f, err, 1);
    run_worker(x,
               json_pack("[ooo]", record("m-1", TID, 1, "not json"),
                         record("m-2", TID, 1, "{\"kind\":\"echo\"}"),
                         record("m-3", TID, 1, "{\"id\":\"\\u0001\"}")),
               5000, failed, sizeof failed);
    assert_string_equal(failed, "m-1,m-2,m-3");
    assert_int_equal(x->f.nreqs, 0);
    /* an id of no task is looked up, and its message deleted */
    fake_script(&x->f, gone, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, "{\"id\":\"t1\",\"kind\":\"echo\"}")),
               5000, failed, sizeof failed);
    assert_string_equal(failed, "");
    assert_int_equal(x->f.nreqs, 1);
}

static void test_worker_no_time(void **state)
{
    struct fn_test_ctx *x = *state;
    char failed[256];
    struct step s[] = {{200, "{}", NULL, 0, false}};
    /* under a second left: not started; kept */
    fake_script(&x->f, s, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 500, failed, sizeof failed);
    assert_string_equal(failed, "m-1");
    assert_int_equal(x->f.nreqs, 0);
    /* ... and on the last delivery the task is failed (QUEUED → FAILED) before the DLQ */
    fake_script(&x->f, s, 1);
    run_worker(x, json_pack("[o]", record("m-1", TID, 5, NULL)), 800, failed, sizeof failed);
    assert_string_equal(failed, "m-1");
    assert_int_equal(x->f.nreqs, 1);
    json_t *u = fn_test_sent(x, 0);
    assert_string_equal(expr(u, "ConditionExpression"), "#s = :q");
    assert_string_equal(value_of(u, ":f"), "FAILED");
    assert_string_equal(value_of(u, ":code"), "DeadlineExceeded");
    json_decref(u);
}

static void test_worker_lease_lost(void **state)
{
    struct fn_test_ctx *x = *state;
    char start[512], failed[256];
    started(start, sizeof start, "echo", "{}", 1);
    /* the finish finds another run's id: that run owns the task, this message is done */
    struct step s[] = {{200, start, NULL, 0, false}, {400, CCF "}", NULL, 0, false}};
    fake_script(&x->f, s, 2);
    run_worker(x, json_pack("[o]", record("m-1", TID, 1, NULL)), 5000, failed, sizeof failed);
    assert_string_equal(failed, "");
    /* a batch: each record on its own */
    char start2[512];
    started(start2, sizeof start2, "fail", "{\"times\":1}", 1);
    struct step b[] = {{200, start, NULL, 0, false},  {200, "{}", NULL, 0, false},
                       {200, start2, NULL, 0, false}, {200, "{}", NULL, 0, false},
                       {200, start, NULL, 0, false},  {200, "{}", NULL, 0, false}};
    fake_script(&x->f, b, 6);
    run_worker(x,
               json_pack("[ooo]", record("m-1", TID, 1, NULL), record("m-2", TID, 1, NULL),
                         record("m-3", TID, 1, NULL)),
               5000, failed, sizeof failed);
    assert_string_equal(failed, "m-2");
    assert_int_equal(x->f.nreqs, 6);
}

static void test_worker_bad_events(void **state)
{
    struct fn_test_ctx *x = *state;
    struct runtime_invocation inv = {.request_id = "w", .user = &x->app};
    struct buf out;
    struct runtime_error err;
    buf_init(&out, 4096);
    assert_int_equal(worker_handle(&inv, "nope", 4, &out, &err), -1);
    assert_string_equal(err.type, "Handler.InvalidEvent");
    assert_int_equal(worker_handle(&inv, "{\"detail\":{}}", 13, &out, &err), -1);
    assert_int_equal(worker_handle(&inv, "{\"Records\":[{\"body\":\"x\"}]}", 26, &out, &err), -1);
    buf_reset(&out);
    assert_int_equal(worker_handle(&inv, "{\"Records\":[]}", 14, &out, &err), 0);
    assert_string_equal(out.data, "{\"batchItemFailures\":[]}");
    buf_destroy(&out);
}

/* ---- one line that is both a log line and metrics ---- */

static void test_log_with_metrics(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    runtime_log_set_context("req-1", "Root=1-abc", true);
    const char *kv[] = {"taskId", "t-1", "kind", "echo"};
    struct runtime_emf_dimension dims[] = {{"Environment", "dev"}, {"Kind", "echo"}};
    struct runtime_emf_metric m[] = {{"TasksSucceeded", "Count", 1},
                                     {"TaskDuration", "Milliseconds", 2.5}};
    assert_int_equal(runtime_emf_log_format(&b, RUNTIME_LOG_INFO, "task succeeded", kv, 2,
                                            "Haar/Tasks", 1767225600000, dims, 2, m, 2),
                     RUNTIME_EMF_OK);
    assert_int_equal(b.data[b.len - 1], '\n');
    assert_null(memchr(b.data, '\n', b.len - 1)); /* one line */
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "INFO");
    assert_string_equal(json_string_value(json_object_get(j, "message")), "task succeeded");
    assert_string_equal(json_string_value(json_object_get(j, "requestId")), "req-1");
    assert_string_equal(json_string_value(json_object_get(j, "taskId")), "t-1");
    assert_true(json_is_true(json_object_get(j, "coldStart")));
    json_t *aws = json_object_get(j, "_aws");
    assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")), 1767225600000);
    json_t *cwm = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    assert_string_equal(json_string_value(json_object_get(cwm, "Namespace")), "Haar/Tasks");
    assert_int_equal(json_array_size(json_object_get(cwm, "Metrics")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "Kind")), "echo");
    assert_true(json_real_value(json_object_get(j, "TaskDuration")) == 2.5);
    json_decref(j);
    /* a metric may not take a log member's name, nor a field's */
    struct runtime_emf_metric bad[] = {{"level", "Count", 1}};
    size_t len = b.len;
    assert_int_equal(
        runtime_emf_log_format(&b, RUNTIME_LOG_INFO, "x", kv, 2, "Haar/Tasks", 1, dims, 2, bad, 1),
        RUNTIME_EMF_EINVAL);
    struct runtime_emf_metric clash[] = {{"taskId", "Count", 1}};
    assert_int_equal(runtime_emf_log_format(&b, RUNTIME_LOG_INFO, "x", kv, 2, "Haar/Tasks", 1, dims,
                                            2, clash, 1),
                     RUNTIME_EMF_EINVAL);
    assert_int_equal(b.len, len); /* unchanged */
    runtime_log_set_context(NULL, NULL, false);
    buf_destroy(&b);
}

/* ---- the producer ---- */

static const char EVENT[] =
    "{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":\"Scheduled "
    "Event\",\"source\":\"aws.events\","
    "\"account\":\"000000000000\",\"time\":\"2026-01-01T00:05:00Z\",\"region\":\"eu-west-1\","
    "\"resources\":[\"arn:aws:events:eu-west-1:000000000000:rule/"
    "haar-test-schedule\"],\"detail\":{}}";

static json_t *run_producer(struct fn_test_ctx *x, const char *event, int *rc)
{
    struct runtime_invocation inv = {
        .request_id = "p-1", .deadline_ms = runtime_now_ms() + 5000, .user = &x->app};
    struct buf out;
    struct runtime_error err;
    buf_init(&out, 4096);
    *rc = producer_handle(&inv, event, strlen(event), &out, &err);
    json_t *res = *rc == 0 ? json_loads(out.data, 0, NULL) : NULL;
    buf_destroy(&out);
    return res;
}

static void test_producer_ids(void **state)
{
    (void)state;
    char a[TASK_ID_LEN + 1], b[TASK_ID_LEN + 1], c[TASK_ID_LEN + 1], d[TASK_ID_LEN + 1];
    assert_int_equal(producer_task_id("haar-dev-schedule", "2026-01-01T00:05:00Z", 0, a), 0);
    assert_int_equal(producer_task_id("haar-dev-schedule", "2026-01-01T00:05:00Z", 0, b), 0);
    assert_int_equal(producer_task_id("haar-dev-schedule", "2026-01-01T00:10:00Z", 0, c), 0);
    assert_int_equal(producer_task_id("haar-dev-schedule", "2026-01-01T00:05:00Z", 1, d), 0);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_int_equal(producer_task_id("other-rule", "2026-01-01T00:05:00Z", 0, b), 0);
    assert_string_not_equal(a, b);
}

static void test_producer(void **state)
{
    struct fn_test_ctx *x = *state;
    char id[TASK_ID_LEN + 1], ok[160];
    int rc;
    assert_int_equal(producer_task_id("haar-test-schedule", "2026-01-01T00:05:00Z", 0, id), 0);
    fn_test_send_answer(ok, sizeof ok, id, "report");
    const char *empty = "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}";
    struct step s[] = {{200, "{}", NULL, 0, false},
                       {200, ok, NULL, 0, false},
                       {200, empty, NULL, 0, false},
                       {200, empty, NULL, 0, false}};
    fake_script(&x->f, s, 4);
    json_t *res = run_producer(x, EVENT, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(res, "created")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "existing")), 0);
    json_decref(res);
    assert_int_equal(x->f.nreqs, 4);
    assert_string_equal(x->f.reqs[0].target, "DynamoDB_20120810.PutItem");
    json_t *put = fn_test_sent(x, 0);
    json_t *item = json_object_get(put, "Item");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "id"), "S")), id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "source"), "S")),
                        "schedule");
    json_decref(put);
    assert_string_equal(x->f.reqs[1].target, "AmazonSQS.SendMessage");
    /* the sweep looks for stuck QUEUED and RUNNING tasks */
    json_t *q1 = fn_test_sent(x, 2), *q2 = fn_test_sent(x, 3);
    assert_string_equal(value_of(q1, ":s"), "QUEUED");
    assert_string_equal(value_of(q2, ":s"), "RUNNING");
    assert_string_equal(expr(q2, "FilterExpression"), "lease_until < :lease");
    json_decref(q1);
    json_decref(q2);

    /* the same event again: its task exists, nothing is sent */
    struct step dup[] = {{400,
                          CCF ",\"Item\":{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"QUEUED\"}}}",
                          NULL, 0, false},
                         {200, empty, NULL, 0, false},
                         {200, empty, NULL, 0, false}};
    fake_script(&x->f, dup, 3);
    res = run_producer(x, EVENT, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(res, "created")), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "existing")), 1);
    json_decref(res);
    for (size_t i = 0; i < x->f.nreqs; i++)
        assert_string_not_equal(x->f.reqs[i].target, "AmazonSQS.SendMessage");

    /* the sweep sends a stuck task again */
    char stuck[512], ok2[160];
    snprintf(stuck, sizeof stuck,
             "{\"Items\":[{\"id\":{\"S\":\"%s\"},\"kind\":{\"S\":\"echo\"},\"status\":{\"S\":"
             "\"QUEUED\"}}],"
             "\"Count\":1,\"ScannedCount\":1}",
             TID);
    fn_test_send_answer(ok2, sizeof ok2, TID, "echo");
    struct step sw[] = {{400, CCF ",\"Item\":{\"id\":{\"S\":\"x\"}}}", NULL, 0, false},
                        {200, stuck, NULL, 0, false},
                        {200, ok2, NULL, 0, false},
                        {200, empty, NULL, 0, false}};
    fake_script(&x->f, sw, 4);
    res = run_producer(x, EVENT, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(res, "resent")), 1);
    json_decref(res);
    json_t *m = fn_test_sent(x, 2);
    assert_non_null(strstr(json_string_value(json_object_get(m, "MessageBody")), TID));
    json_decref(m);

    /* the send fails: the task is flagged and the invocation fails (delivered again) */
    struct step bad[] = {{200, "{}", NULL, 0, false},
                         {500, "{}", NULL, 0, false},
                         {200, "{}", NULL, 0, false},
                         {200, empty, NULL, 0, false},
                         {200, empty, NULL, 0, false}};
    fake_script(&x->f, bad, 5);
    res = run_producer(x, EVENT, &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(x->f.reqs[2].target, "DynamoDB_20120810.UpdateItem");

    /* not a scheduled event */
    res = run_producer(x, "{\"detail\":{}}", &rc);
    assert_int_equal(rc, -1);
    res = run_producer(x, "[]", &rc);
    assert_int_equal(rc, -1);
}

int main(void)
{
#define WITH_AWS(t) cmocka_unit_test_setup_teardown(t, setup, fn_test_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decisions),    WITH_AWS(test_worker_success),
        WITH_AWS(test_worker_attempts),      WITH_AWS(test_worker_not_started),
        WITH_AWS(test_worker_no_time),       WITH_AWS(test_worker_lease_lost),
        WITH_AWS(test_worker_bad_events),    cmocka_unit_test(test_log_with_metrics),
        cmocka_unit_test(test_producer_ids), WITH_AWS(test_producer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
