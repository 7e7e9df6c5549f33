/*
 * Unit tests: the api function. Request validation, routing and cursors as tables; task
 * ids and the task's JSON form; then the handler itself, in process, against a scripted
 * DynamoDB and SQS (test_aws_fake.h): what it sends them and what it answers — creation
 * (put, then send), idempotent replays, a key reused for another request, a failed enqueue
 * (flagged, 503) and its recovery by the client's retry, reads, lists, retries.
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

#include "aws/ddb.h"
#include "fn_test.h"
#include "functions/api/api.h"
#include "functions/common/task.h"

/* ---- POST /tasks bodies ---- */

struct create_case {
    const char *body;
    int status; /* 0: valid */
    const char *code;
    const char *message; /* a part of it */
};

static const struct create_case CREATE[] = {
    {"{\"kind\":\"echo\",\"payload\":{\"x\":1}}", 0, NULL, NULL},
    {"{\"kind\":\"echo\"}", 0, NULL, NULL},
    {"{\"payload\":{},\"kind\":\"sleep\"}", 0, NULL, NULL},
    {"{\"kind\":\"sha256\",\"payload\":{\"data\":\"a\\u0000b\"}}", 0, NULL, NULL},
    {"", 400, "InvalidRequest", "must be a JSON object"},
    {"{", 400, "InvalidJson", "not JSON"},
    {"{\"kind\":\"echo\"} trailing", 400, "InvalidJson", NULL},
    {"[]", 400, "InvalidRequest", "JSON object"},
    {"\"echo\"", 400, "InvalidRequest", NULL},
    {"{}", 400, "InvalidRequest", "kind is required: one of echo, sleep, fail, sha256, report"},
    {"{\"kind\":7}", 400, "InvalidRequest", "kind is required"},
    {"{\"kind\":\"nope\"}", 400, "UnknownKind", "kind 'nope' is not one of echo, sleep"},
    {"{\"kind\":\"ECHO\"}", 400, "UnknownKind", NULL},
    {"{\"kind\":\"echo\\u0000x\"}", 400, "UnknownKind", NULL},
    {"{\"kind\":\"echo\",\"payload\":[1]}", 400, "InvalidPayload", "payload must be a JSON object"},
    {"{\"kind\":\"echo\",\"payload\":null}", 400, "InvalidPayload", NULL},
    {"{\"kind\":\"echo\",\"priority\":1}", 400, "InvalidRequest", "'priority' is not a field"},
    {"{\"kind\":\"echo\",\"kind\":\"sleep\"}", 400, "InvalidJson", "duplicate"},
    {"{\"kind\":\"sleep\",\"payload\":{\"ms\":-5}}", 400, "InvalidPayload", "sleep: payload.ms"},
    {"{\"kind\":\"sha256\",\"payload\":{}}", 400, "InvalidPayload", "sha256: payload.data"},
    {"{\"kind\":\"fail\",\"payload\":{\"times\":\"2\"}}", 400, "InvalidPayload", "payload.times"},
    {"{\"kind\":\"report\",\"payload\":{\"x\":1}}", 400, "InvalidPayload", "payload.x"},
};

static void test_parse_create(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof CREATE / sizeof CREATE[0]; i++) {
        const struct create_case *c = &CREATE[i];
        struct api_create cr;
        struct api_problem p = {0};
        int rc = api_parse_create(c->body, strlen(c->body), &cr, &p);
        bool ok = c->status == 0
                      ? rc == 0
                      : rc == -1 && p.status == c->status && strcmp(p.code, c->code) == 0 &&
                            (c->message == NULL || strstr(p.message, c->message) != NULL);
        if (!ok) {
            printf("FAIL %s: rc %d status %d code %s message %s\n", c->body, rc, p.status, p.code,
                   p.message);
            failures++;
        }
        if (rc == 0) {
            char hash[65];
            assert_non_null(cr.payload_text);
            assert_int_equal(api_request_hash(&cr, hash), 0);
            assert_int_equal(strlen(hash), 64);
        }
        api_create_destroy(&cr);
    }
    assert_int_equal(failures, 0);
}

static void test_parse_create_sizes(void **state)
{
    (void)state;
    struct api_create c;
    struct api_problem p;
    /* a payload of exactly 256 KB of JSON passes; one byte more is 413 */
    size_t overhead = strlen("{\"data\":\"\"}");
    size_t n = TASK_MAX_PAYLOAD - overhead;
    char *body = malloc(n + 128);
    int len = snprintf(body, n + 128, "{\"kind\":\"sha256\",\"payload\":{\"data\":\"");
    memset(body + len, 'a', n);
    len += (int)n;
    len += snprintf(body + len, 128, "\"}}");
    assert_int_equal(api_parse_create(body, (size_t)len, &c, &p), 0);
    assert_int_equal(c.payload_len, TASK_MAX_PAYLOAD);
    api_create_destroy(&c);
    memmove(body + 40, body + 39, (size_t)len - 39);
    body[39] = 'a';
    assert_int_equal(api_parse_create(body, (size_t)len + 1, &c, &p), -1);
    assert_int_equal(p.status, 413);
    assert_string_equal(p.code, "PayloadTooLarge");
    free(body);
    /* a body far past the limit is refused before it is parsed */
    size_t big = API_MAX_BODY + 1;
    body = malloc(big);
    memset(body, ' ', big);
    assert_int_equal(api_parse_create(body, big, &c, &p), -1);
    assert_int_equal(p.status, 413);
    free(body);
}

static void test_request_hash(void **state)
{
    (void)state;
    struct api_create a, b, c;
    struct api_problem p;
    const char *x = "{\"kind\":\"echo\",\"payload\":{\"a\":1,\"b\":2}}";
    const char *y = "{\"payload\":{\"b\":2,\"a\":1},\"kind\":\"echo\"}";
    const char *z = "{\"kind\":\"echo\",\"payload\":{\"a\":1,\"b\":3}}";
    assert_int_equal(api_parse_create(x, strlen(x), &a, &p), 0);
    assert_int_equal(api_parse_create(y, strlen(y), &b, &p), 0);
    assert_int_equal(api_parse_create(z, strlen(z), &c, &p), 0);
    char ha[65], hb[65], hc[65];
    assert_int_equal(api_request_hash(&a, ha), 0);
    assert_int_equal(api_request_hash(&b, hb), 0);
    assert_int_equal(api_request_hash(&c, hc), 0);
    assert_string_equal(ha, hb); /* member order does not matter */
    assert_string_not_equal(ha, hc);
    api_create_destroy(&a);
    api_create_destroy(&b);
    api_create_destroy(&c);
}

static void test_idempotency_keys(void **state)
{
    (void)state;
    struct api_problem p;
    char k255[256], k256[257];
    memset(k255, 'k', 255);
    k255[255] = '\0';
    memset(k256, 'k', 256);
    k256[256] = '\0';
    assert_int_equal(api_check_idempotency_key("order-42", &p), 0);
    assert_int_equal(api_check_idempotency_key("with space", &p), 0);
    assert_int_equal(api_check_idempotency_key(k255, &p), 0);
    assert_int_equal(api_check_idempotency_key(k256, &p), -1);
    assert_string_equal(p.code, "InvalidIdempotencyKey");
    assert_int_equal(api_check_idempotency_key("", &p), -1);
    assert_int_equal(api_check_idempotency_key("tab\there", &p), -1);
    assert_int_equal(api_check_idempotency_key("caf\xc3\xa9", &p), -1);
    assert_int_equal(p.status, 400);
}

/* ---- cursors ---- */

static void test_cursors(void **state)
{
    (void)state;
    char c[400], id[TASK_ID_LEN + 1], created[32];
    struct api_problem p;
    const char *tid = "0b2f6a5e-2c1d-4e8f-9a7b-3c4d5e6f7a8b";
    assert_int_equal(
        api_cursor_encode(tid, "2026-01-01T00:00:00.123Z", TASK_SUCCEEDED, c, sizeof c), 0);
    assert_null(strpbrk(c, "+/=")); /* URL-safe, unpadded */
    assert_int_equal(api_cursor_decode(c, TASK_SUCCEEDED, id, created, &p), 0);
    assert_string_equal(id, tid);
    assert_string_equal(created, "2026-01-01T00:00:00.123Z");
    /* another status's cursor */
    assert_int_equal(api_cursor_decode(c, TASK_FAILED, id, created, &p), -1);
    assert_string_equal(p.code, "InvalidCursor");
    assert_non_null(strstr(p.message, "SUCCEEDED"));
    /* tampered, truncated, not base64url, empty */
    static const char *const BAD[] = {"", "!!!!", "eyJpZCI6MX0", "e30", "abc", "a+b/"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        assert_int_equal(api_cursor_decode(BAD[i], TASK_SUCCEEDED, id, created, &p), -1);
        assert_int_equal(p.status, 400);
    }
    char cut[400];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(c) - 3, c);
    assert_int_equal(api_cursor_decode(cut, TASK_SUCCEEDED, id, created, &p), -1);
    /* a cursor is never made of an id that is not one */
    assert_int_equal(api_cursor_encode("x", "2026", TASK_QUEUED, c, sizeof c), -1);
    assert_int_equal(api_cursor_encode(tid, "a\"b", TASK_QUEUED, c, sizeof c), -1);
}

/* ---- routes ---- */

struct route_case {
    const char *method, *path;
    int rc;
    enum api_route_id route;
    const char *id;    /* the {id} segment, or NULL */
    const char *allow; /* for 405 */
};

static const struct route_case ROUTES[] = {
    {"GET", "/health", 0, API_HEALTH, NULL, NULL},
    {"POST", "/tasks", 0, API_CREATE, NULL, NULL},
    {"GET", "/tasks", 0, API_LIST, NULL, NULL},
    {"GET", "/tasks/abc", 0, API_GET, "abc", NULL},
    {"POST", "/tasks/abc/retry", 0, API_RETRY, "abc", NULL},
    {"DELETE", "/health", 405, 0, NULL, "GET"},
    {"PUT", "/tasks", 405, 0, NULL, "POST, GET"},
    {"DELETE", "/tasks/abc", 405, 0, NULL, "GET"},
    {"GET", "/tasks/abc/retry", 405, 0, NULL, "POST"},
    {"get", "/health", 405, 0, NULL, "GET"},
    {"GET", "/", 404, 0, NULL, NULL},
    {"GET", "/nope", 404, 0, NULL, NULL},
    {"GET", "/tasks/", 404, 0, NULL, NULL},
    {"GET", "/tasks//retry", 404, 0, NULL, NULL},
    {"GET", "/health/", 404, 0, NULL, NULL},
    {"GET", "/tasks/a/b", 404, 0, NULL, NULL},
    {"POST", "/tasks/abc/retry/x", 404, 0, NULL, NULL},
    {"GET", "", 404, 0, NULL, NULL},
};

static void test_routes(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const struct route_case *c = &ROUTES[i];
        enum api_route_id route = API_ROUTE_COUNT;
        const char *id = NULL;
        size_t idlen = 0;
        char allow[64];
        int rc = api_route(c->method, c->path, &route, &id, &idlen, allow, sizeof allow);
        bool ok = rc == c->rc;
        if (ok && rc == 0)
            ok = route == c->route && (c->id == NULL ? id == NULL
                                                     : id != NULL && idlen == strlen(c->id) &&
                                                           memcmp(id, c->id, idlen) == 0);
        if (ok && rc == 405)
            ok = strcmp(allow, c->allow) == 0;
        if (!ok) {
            printf("FAIL %s %s: rc %d route %d allow '%s'\n", c->method, c->path, rc, route, allow);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- ids and the task's form ---- */

static void test_ids(void **state)
{
    (void)state;
    char a[TASK_ID_LEN + 1], b[TASK_ID_LEN + 1], c[TASK_ID_LEN + 1];
    assert_int_equal(task_id_derived("idempotency-key", "k1", 2, a), 0);
    assert_int_equal(task_id_derived("idempotency-key", "k1", 2, b), 0);
    assert_int_equal(task_id_derived("idempotency-key", "k2", 2, c), 0);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_true(task_id_valid(a, strlen(a)));
    assert_int_equal(a[14], '8'); /* UUID version 8 */
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_int_equal(task_id_derived("schedule", "k1", 2, c), 0);
    assert_string_not_equal(a, c); /* namespaces keep ids apart */
    task_id_random(c);
    assert_true(task_id_valid(c, strlen(c)));
    assert_int_equal(c[14], '4');
    assert_false(task_id_valid("0B2F6A5E-2C1D-4E8F-9A7B-3C4D5E6F7A8B", 36));
    assert_false(task_id_valid("0b2f6a5e-2c1d-4e8f-9a7b-3c4d5e6f7a8", 35));
    assert_false(task_id_valid("0b2f6a5e+2c1d-4e8f-9a7b-3c4d5e6f7a8b", 36));
    assert_false(task_id_valid(NULL, 0));
    /* the timestamps of the table: ISO-8601 with milliseconds, sorting as they read */
    char iso[25];
    fn_iso_ms(1796097600123LL, iso);
    assert_string_equal(iso, "2026-12-01T04:00:00.123Z");
    fn_iso_ms(1767225600000LL, iso);
    assert_string_equal(iso, "2026-01-01T00:00:00.000Z");
    fn_iso_ms(253402300799999LL, iso);
    assert_string_equal(iso, "9999-12-31T23:59:59.999Z");
    fn_iso_ms(-1, iso);
    assert_string_equal(iso, "1970-01-01T00:00:00.000Z");
    enum task_status s;
    assert_int_equal(task_status_parse("FAILED", &s), 0);
    assert_int_equal(s, TASK_FAILED);
    assert_int_equal(task_status_parse("failed", &s), -1);
    assert_string_equal(task_status_name(TASK_RUNNING), "RUNNING");
}

static void test_render(void **state)
{
    (void)state;
    const char *item =
        "{\"id\":{\"S\":\"0b2f6a5e-2c1d-4e8f-9a7b-3c4d5e6f7a8b\"},\"kind\":{\"S\":\"fail\"},"
        "\"status\":{\"S\":\"FAILED\"},\"payload\":{\"S\":\"{\\\"times\\\":9}\"},"
        "\"attempts\":{\"N\":\"5\"},\"error_code\":{\"S\":\"TaskFailed\"},"
        "\"error_message\":{\"S\":\"attempt 5 of 9 that fail on purpose\"},"
        "\"created_at\":{\"S\":\"2026-01-01T00:00:00.000Z\"},\"updated_at\":{\"S\":\"2026-01-01T00:"
        "01:00.000Z\"},"
        "\"finished_at\":{\"S\":\"2026-01-01T00:01:00.000Z\"},\"run_id\":{\"S\":\"x\"},"
        "\"request_hash\":{\"S\":\"h\"},\"expires_at\":{\"N\":\"1\"}}";
    struct aws_ddb_item *it = aws_ddb_item_parse(item, strlen(item));
    assert_non_null(it);
    struct buf b;
    struct jsonw w;
    buf_init(&b, 1 << 16);
    jw_init(&w, &b);
    assert_int_equal(task_render(it, &w), 0);
    json_t *got = json_loads(b.data, 0, NULL);
    json_t *want = json_loads(
        "{\"id\":\"0b2f6a5e-2c1d-4e8f-9a7b-3c4d5e6f7a8b\",\"kind\":\"fail\",\"status\":\"FAILED\","
        "\"payload\":{\"times\":9},\"attempts\":5,\"error\":{\"code\":\"TaskFailed\","
        "\"message\":\"attempt 5 of 9 that fail on "
        "purpose\"},\"created_at\":\"2026-01-01T00:00:00.000Z\","
        "\"updated_at\":\"2026-01-01T00:01:00.000Z\",\"finished_at\":\"2026-01-01T00:01:00.000Z\"}",
        0, NULL);
    if (!json_equal(got, want))
        printf("rendered %s\n", b.data);
    assert_true(json_equal(got, want)); /* internal attributes stay inside */
    json_decref(got);
    json_decref(want);
    aws_ddb_item_free(it);
    /* an item without a status is not a task */
    it = aws_ddb_item_parse("{\"id\":{\"S\":\"x\"},\"kind\":{\"S\":\"echo\"}}", 40);
    buf_reset(&b);
    jw_init(&w, &b);
    assert_int_equal(task_render(it, &w), -1);
    aws_ddb_item_free(it);
    buf_destroy(&b);
}

/* ---- the handler against scripted AWS ---- */

static int api_setup(void **state)
{
    static const char *const EXTRA[][2] = {{"HAAR_ENVIRONMENT", "test"}, {NULL, NULL}};
    return fn_test_setup(state, EXTRA);
}

/* Adds to obj the pairs of list (NULL: none): "name<eq>value" items joined by sep. */
static void add_pairs(json_t *obj, const char *list, char sep, const char *eq)
{
    for (const char *p = list; p != NULL && *p;) {
        const char *end = strchr(p, sep), *at = strchr(p, eq[0]);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *value = at + strlen(eq);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(at - p), p);
        json_object_set_new(obj, name, json_stringn(value, n - (size_t)(value - p)));
        p += n + (end != NULL);
    }
}

/* Invokes the handler with one gateway event; returns the proxy answer (caller frees).
 * headers: "name: value" lines separated by '\n' (lowercase names), or NULL. */
static json_t *call(struct fn_test_ctx *x, const char *method, const char *path, const char *query,
                    const char *headers, const char *body)
{
    json_t *h = json_object(), *q = json_object();
    json_object_set_new(h, "host", json_string("127.0.0.1:8080"));
    add_pairs(h, headers, '\n', ": ");
    add_pairs(q, query, '&', "=");
    json_t *ev =
        json_pack("{s:s,s:s,s:s,s:s,s:o,s:{s:{s:s,s:s}},s:b}", "version", "2.0", "routeKey",
                  "$default", "rawPath", path, "rawQueryString", query ? query : "", "headers", h,
                  "requestContext", "http", "method", method, "path", path, "isBase64Encoded", 0);
    if (json_object_size(q) > 0)
        json_object_set(ev, "queryStringParameters", q);
    json_decref(q);
    if (body != NULL)
        json_object_set_new(ev, "body", json_string(body));
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    struct runtime_invocation inv = {
        .request_id = "r-1", .deadline_ms = runtime_now_ms() + 5000, .user = &x->app};
    struct buf out;
    struct runtime_error err;
    buf_init(&out, RUNTIME_MAX_RESPONSE);
    int rc = api_handle(&inv, text, strlen(text), &out, &err);
    free(text);
    if (rc != 0)
        printf("handler failed: %s %s\n", err.type, err.message);
    assert_int_equal(rc, 0);
    json_t *res = json_loads(out.data, 0, NULL);
    buf_destroy(&out);
    assert_non_null(res);
    return res;
}

static int status_of(json_t *res)
{
    return (int)json_integer_value(json_object_get(res, "statusCode"));
}

static const char *header_of(json_t *res, const char *name)
{
    return json_string_value(json_object_get(json_object_get(res, "headers"), name));
}

/* The answer's body, parsed (caller frees). */
static json_t *body_of(json_t *res)
{
    json_t *b = json_loads(json_string_value(json_object_get(res, "body")), 0, NULL);
    assert_non_null(b);
    return b;
}

static const char *error_code(json_t *body)
{
    return json_string_value(json_object_get(json_object_get(body, "error"), "code"));
}

static void test_create(void **state)
{
    struct fn_test_ctx *x = *state;
    /* the id is random: the fake answers SendMessage with an MD5 it cannot know, so derive
     * the id from a key to know it in advance */
    char id[TASK_ID_LEN + 1], ok[160];
    task_id_derived("idempotency-key", "k-1", 3, id);
    fn_test_send_answer(ok, sizeof ok, id, "echo");
    struct step s[] = {{200, "{}", NULL, 0, false}, {200, ok, NULL, 0, false}};
    fake_script(&x->f, s, 2);
    json_t *res = call(x, "POST", "/tasks", NULL, "idempotency-key: k-1",
                       "{\"kind\":\"echo\",\"payload\":{\"hello\":\"world\"}}");
    assert_int_equal(status_of(res), 202);
    char loc[64];
    snprintf(loc, sizeof loc, "/tasks/%s", id);
    assert_string_equal(header_of(res, "location"), loc);
    assert_null(header_of(res, "idempotent-replayed"));
    json_t *b = body_of(res);
    assert_string_equal(json_string_value(json_object_get(b, "id")), id);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "QUEUED");
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "payload"), "hello")),
                        "world");
    json_decref(b);
    json_decref(res);
    /* the put came first, conditional, then the send */
    assert_int_equal(x->f.nreqs, 2);
    assert_string_equal(x->f.reqs[0].target, "DynamoDB_20120810.PutItem");
    assert_string_equal(x->f.reqs[1].target, "AmazonSQS.SendMessage");
    json_t *put = fn_test_sent(x, 0);
    assert_string_equal(json_string_value(json_object_get(put, "ConditionExpression")),
                        "attribute_not_exists(#id)");
    json_t *item = json_object_get(put, "Item");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "status"), "S")),
                        "QUEUED");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item, "idempotency_key"), "S")), "k-1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "payload"), "S")),
                        "{\"hello\":\"world\"}");
    json_decref(put);
    json_t *msg = fn_test_sent(x, 1);
    assert_string_equal(json_string_value(json_object_get(msg, "QueueUrl")),
                        "http://127.0.0.1:4566/000000000000/haar-test-tasks");
    json_decref(msg);

    /* without a key: a fresh random id each time */
    struct step fail_send[] = {
        {200, "{}", NULL, 0, false},
        {400, "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\"}", NULL, 0, false},
        {200, "{}", NULL, 0, false}};
    fake_script(&x->f, fail_send, 3);
    res = call(x, "POST", "/tasks", NULL, NULL, "{\"kind\":\"echo\"}");
    /* the send failed: 503, and the stored task flagged for the next replay */
    assert_int_equal(status_of(res), 503);
    b = body_of(res);
    assert_string_equal(error_code(b), "EnqueueFailed");
    json_decref(b);
    json_decref(res);
    assert_int_equal(x->f.nreqs, 3);
    assert_string_equal(x->f.reqs[2].target, "DynamoDB_20120810.UpdateItem");
    json_t *mark = fn_test_sent(x, 2);
    assert_non_null(
        strstr(json_string_value(json_object_get(mark, "UpdateExpression")), "enqueue_failed"));
    json_decref(mark);
}

/* A ConditionalCheckFailed answer carrying the stored task. */
static void replay_item(char *out, size_t cap, const char *id, const char *hash, const char *status,
                        const char *extra)
{
    snprintf(out, cap,
             "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
             "\"message\":\"The conditional request failed\",\"Item\":{\"id\":{\"S\":\"%s\"},"
             "\"kind\":{\"S\":\"echo\"},\"status\":{\"S\":\"%s\"},\"payload\":{\"S\":\"{}\"},"
             "\"attempts\":{\"N\":\"1\"},\"request_hash\":{\"S\":\"%s\"},"
             "\"created_at\":{\"S\":\"2999-01-01T00:00:00.000Z\"},"
             "\"updated_at\":{\"S\":\"2999-01-01T00:00:00.000Z\"}%s}}",
             id, status, hash, extra);
}

static void test_replay(void **state)
{
    struct fn_test_ctx *x = *state;
    char id[TASK_ID_LEN + 1], ok[160];
    task_id_derived("idempotency-key", "k-2", 3, id);
    struct api_create c;
    struct api_problem p;
    const char *req = "{\"kind\":\"echo\",\"payload\":{}}";
    assert_int_equal(api_parse_create(req, strlen(req), &c, &p), 0);
    char hash[65];
    assert_int_equal(api_request_hash(&c, hash), 0);
    /* the put fails its condition and hands back the task stored by the first request */
    char running[1200];
    replay_item(running, sizeof running, id, hash, "RUNNING", "");
    struct step s[] = {{400, running, NULL, 0, false}};
    fake_script(&x->f, s, 1);
    json_t *res = call(x, "POST", "/tasks", NULL, "idempotency-key: k-2", req);
    assert_int_equal(status_of(res), 202);
    assert_string_equal(header_of(res, "idempotent-replayed"), "true");
    json_t *b = body_of(res);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "RUNNING");
    json_decref(b);
    json_decref(res);
    assert_int_equal(x->f.nreqs, 1); /* nothing sent again */

    /* the same key, the members in another order: the same request */
    fake_script(&x->f, s, 1);
    res = call(x, "POST", "/tasks", NULL, "idempotency-key: k-2",
               "{\"payload\":{},\"kind\":\"echo\"}");
    assert_int_equal(status_of(res), 202);
    json_decref(res);

    /* a QUEUED task whose send failed before: the replay sends it */
    char flagged[1200];
    replay_item(flagged, sizeof flagged, id, hash, "QUEUED", ",\"enqueue_failed\":{\"BOOL\":true}");
    api_create_destroy(&c);
    fn_test_send_answer(ok, sizeof ok, id, "echo");
    struct step s2[] = {{400, flagged, NULL, 0, false}, {200, ok, NULL, 0, false}};
    fake_script(&x->f, s2, 2);
    res = call(x, "POST", "/tasks", NULL, "idempotency-key: k-2", req);
    assert_int_equal(status_of(res), 202);
    json_decref(res);
    assert_int_equal(x->f.nreqs, 2);
    assert_string_equal(x->f.reqs[1].target, "AmazonSQS.SendMessage");

    /* the key with another request: 409 */
    fake_script(&x->f, s, 1);
    res = call(x, "POST", "/tasks", NULL, "idempotency-key: k-2",
               "{\"kind\":\"echo\",\"payload\":{\"x\":1}}");
    assert_int_equal(status_of(res), 409);
    b = body_of(res);
    assert_string_equal(error_code(b), "IdempotencyKeyReused");
    json_decref(b);
    json_decref(res);
}

static void test_bad_requests(void **state)
{
    struct fn_test_ctx *x = *state;
    static const struct {
        const char *method, *path, *query, *headers, *body;
        int status;
        const char *code;
    } CASES[] = {
        {"POST", "/tasks", NULL, NULL, "not json", 400, "InvalidJson"},
        {"POST", "/tasks", NULL, NULL, "{\"kind\":\"teleport\"}", 400, "UnknownKind"},
        {"POST", "/tasks", NULL, "idempotency-key: ", "{\"kind\":\"echo\"}", 400,
         "InvalidIdempotencyKey"},
        {"GET", "/tasks/not-an-id", NULL, NULL, NULL, 404, "NotFound"},
        {"POST", "/tasks/not-an-id/retry", NULL, NULL, NULL, 404, "NotFound"},
        {"GET", "/tasks", NULL, NULL, NULL, 400, "InvalidStatus"},
        {"GET", "/tasks", "status=DONE", NULL, NULL, 400, "InvalidStatus"},
        {"GET", "/tasks", "status=QUEUED&limit=0", NULL, NULL, 400, "InvalidLimit"},
        {"GET", "/tasks", "status=QUEUED&limit=101", NULL, NULL, 400, "InvalidLimit"},
        {"GET", "/tasks", "status=QUEUED&limit=ten", NULL, NULL, 400, "InvalidLimit"},
        {"GET", "/tasks", "status=QUEUED&next=garbage", NULL, NULL, 400, "InvalidCursor"},
        {"DELETE", "/tasks", NULL, NULL, NULL, 405, "MethodNotAllowed"},
        {"PATCH", "/tasks/" TID, NULL, NULL, NULL, 405, "MethodNotAllowed"},
        {"GET", "/tasks/" TID "/x", NULL, NULL, NULL, 404, "NotFound"},
    };
    struct step none[] = {{500, "{}", NULL, 0, false}};
    fake_script(&x->f, none, 1);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        json_t *res = call(x, CASES[i].method, CASES[i].path, CASES[i].query, CASES[i].headers,
                           CASES[i].body);
        json_t *b = body_of(res);
        if (status_of(res) != CASES[i].status || strcmp(error_code(b), CASES[i].code) != 0)
            printf("case %zu: %d %s\n", i, status_of(res), error_code(b));
        assert_int_equal(status_of(res), CASES[i].status);
        assert_string_equal(error_code(b), CASES[i].code);
        assert_non_null(json_string_value(json_object_get(json_object_get(b, "error"), "message")));
        assert_string_equal(header_of(res, "content-type"), "application/json");
        json_decref(b);
        json_decref(res);
    }
    assert_int_equal(x->f.nreqs, 0); /* refused before touching AWS */
}

static void test_read_and_list(void **state)
{
    struct fn_test_ctx *x = *state;
    const char *item = "{\"Item\":{\"id\":{\"S\":\"" TID "\"},\"kind\":{\"S\":\"echo\"},"
                       "\"status\":{\"S\":\"SUCCEEDED\"},\"payload\":{\"S\":\"{\\\"a\\\":1}\"},"
                       "\"result\":{\"S\":\"{\\\"a\\\":1}\"},\"attempts\":{\"N\":\"1\"},"
                       "\"created_at\":{\"S\":\"2026-01-01T00:00:00.000Z\"},"
                       "\"updated_at\":{\"S\":\"2026-01-01T00:00:01.000Z\"}}}";
    struct step s[] = {{200, item, NULL, 0, false}, {200, "{}", NULL, 0, false}};
    fake_script(&x->f, s, 2);
    json_t *res = call(x, "GET", "/tasks/" TID, NULL, NULL, NULL);
    assert_int_equal(status_of(res), 200);
    json_t *b = body_of(res);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "result"), "a")), 1);
    json_decref(b);
    json_decref(res);
    json_t *get = fn_test_sent(x, 0);
    assert_true(json_is_true(json_object_get(get, "ConsistentRead")));
    json_decref(get);
    res = call(x, "GET", "/tasks/" TID, NULL, NULL, NULL);
    assert_int_equal(status_of(res), 404);
    json_decref(res);

    /* a page with a next cursor, then the page after it */
    const char *page =
        "{\"Items\":[{\"id\":{\"S\":\"" TID "\"},\"kind\":{\"S\":\"echo\"},"
        "\"status\":{\"S\":\"SUCCEEDED\"},\"payload\":{\"S\":\"{}\"},\"attempts\":{\"N\":\"1\"}}],"
        "\"Count\":1,\"ScannedCount\":1,\"LastEvaluatedKey\":{\"id\":{\"S\":\"" TID "\"},"
        "\"status\":{\"S\":\"SUCCEEDED\"},\"created_at\":{\"S\":\"2026-01-01T00:00:00.000Z\"}}}";
    struct step l[] = {{200, page, NULL, 0, false},
                       {200, "{\"Items\":[],\"Count\":0}", NULL, 0, false}};
    fake_script(&x->f, l, 2);
    res = call(x, "GET", "/tasks", "status=SUCCEEDED&limit=1", NULL, NULL);
    assert_int_equal(status_of(res), 200);
    b = body_of(res);
    assert_int_equal(json_array_size(json_object_get(b, "tasks")), 1);
    const char *next = json_string_value(json_object_get(b, "next"));
    assert_non_null(next);
    char q[512];
    snprintf(q, sizeof q, "status=SUCCEEDED&next=%s", next);
    json_decref(b);
    json_decref(res);
    json_t *query = fn_test_sent(x, 0);
    assert_int_equal(json_integer_value(json_object_get(query, "Limit")), 1);
    assert_true(json_is_false(json_object_get(query, "ScanIndexForward")));
    assert_string_equal(json_string_value(json_object_get(query, "IndexName")), "by-status");
    json_decref(query);
    res = call(x, "GET", "/tasks", q, NULL, NULL);
    assert_int_equal(status_of(res), 200);
    b = body_of(res);
    assert_int_equal(json_array_size(json_object_get(b, "tasks")), 0);
    assert_null(json_object_get(b, "next"));
    json_decref(b);
    json_decref(res);
    query = fn_test_sent(x, 1);
    json_t *esk = json_object_get(query, "ExclusiveStartKey");
    assert_string_equal(json_string_value(json_object_get(json_object_get(esk, "id"), "S")), TID);
    assert_int_equal(json_integer_value(json_object_get(query, "Limit")), API_DEFAULT_LIMIT);
    json_decref(query);
}

static void test_retry(void **state)
{
    struct fn_test_ctx *x = *state;
    char ok[160];
    fn_test_send_answer(ok, sizeof ok, TID, "fail");
    const char *updated =
        "{\"Attributes\":{\"id\":{\"S\":\"" TID "\"},\"kind\":{\"S\":\"fail\"},"
        "\"status\":{\"S\":\"QUEUED\"},\"payload\":{\"S\":\"{}\"},\"attempts\":{\"N\":\"5\"}}}";
    struct step s[] = {{200, updated, NULL, 0, false}, {200, ok, NULL, 0, false}};
    fake_script(&x->f, s, 2);
    json_t *res = call(x, "POST", "/tasks/" TID "/retry", NULL, NULL, NULL);
    assert_int_equal(status_of(res), 202);
    json_decref(res);
    json_t *u = fn_test_sent(x, 0);
    assert_string_equal(json_string_value(json_object_get(u, "ConditionExpression")), "#s = :f");
    json_decref(u);
    assert_string_equal(x->f.reqs[1].target, "AmazonSQS.SendMessage");
    /* not FAILED: 409 with its status; absent: 404 */
    const char *running =
        "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
        "\"Item\":{\"id\":{\"S\":\"" TID
        "\"},\"kind\":{\"S\":\"fail\"},\"status\":{\"S\":\"RUNNING\"}}}";
    const char *absent =
        "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"}";
    struct step c[] = {{400, running, NULL, 0, false}, {400, absent, NULL, 0, false}};
    fake_script(&x->f, c, 2);
    res = call(x, "POST", "/tasks/" TID "/retry", NULL, NULL, NULL);
    assert_int_equal(status_of(res), 409);
    json_t *b = body_of(res);
    assert_string_equal(error_code(b), "NotFailed");
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(b, "error"), "message")), "RUNNING"));
    json_decref(b);
    json_decref(res);
    res = call(x, "POST", "/tasks/" TID "/retry", NULL, NULL, NULL);
    assert_int_equal(status_of(res), 404);
    json_decref(res);
}

static void test_dependency_errors(void **state)
{
    struct fn_test_ctx *x = *state;
    struct step s[] = {
        {400,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}",
         NULL, 0, false},
        {500, "{\"__type\":\"InternalServerError\"}", NULL, 0, false},
    };
    fake_script(&x->f, s, 2);
    json_t *res = call(x, "GET", "/tasks/" TID, NULL, NULL, NULL);
    assert_int_equal(status_of(res), 429);
    json_decref(res);
    res = call(x, "POST", "/tasks", NULL, NULL, "{\"kind\":\"echo\"}");
    assert_int_equal(status_of(res), 503);
    json_t *b = body_of(res);
    assert_string_equal(error_code(b), "ServiceUnavailable");
    json_decref(b);
    json_decref(res);
}

static void test_health_and_events(void **state)
{
    struct fn_test_ctx *x = *state;
    json_t *res = call(x, "GET", "/health", NULL, NULL, NULL);
    assert_int_equal(status_of(res), 200);
    json_decref(res);
    struct runtime_invocation inv = {.request_id = "r", .user = &x->app};
    struct buf out;
    struct runtime_error err;
    buf_init(&out, 1 << 16);
    assert_int_equal(api_handle(&inv, "{", 1, &out, &err), -1);
    assert_string_equal(err.type, "Handler.InvalidEvent");
    assert_int_equal(api_handle(&inv, "{\"Records\":[]}", 14, &out, &err), -1);
    /* a base64 body is decoded first */
    const char *ev = "{\"version\":\"2.0\",\"rawPath\":\"/tasks\",\"requestContext\":{\"http\":"
                     "{\"method\":\"POST\"}},\"body\":\"bm90IGpzb24=\",\"isBase64Encoded\":true}";
    buf_reset(&out);
    assert_int_equal(api_handle(&inv, ev, strlen(ev), &out, &err), 0);
    assert_non_null(strstr(out.data, "InvalidJson"));
    buf_destroy(&out);
}

int main(void)
{
#define WITH_AWS(t) cmocka_unit_test_setup_teardown(t, api_setup, fn_test_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_create),
        cmocka_unit_test(test_parse_create_sizes),
        cmocka_unit_test(test_request_hash),
        cmocka_unit_test(test_idempotency_keys),
        cmocka_unit_test(test_cursors),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_render),
        WITH_AWS(test_create),
        WITH_AWS(test_replay),
        WITH_AWS(test_bad_requests),
        WITH_AWS(test_read_and_list),
        WITH_AWS(test_retry),
        WITH_AWS(test_dependency_errors),
        WITH_AWS(test_health_and_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
