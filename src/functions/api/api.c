/*
 * api.c — the HTTP API function (see api.h).
 */
#include "functions/api/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "functions/common/fn.h"
#include "functions/common/taskdb.h"
#include "functions/worker/tasks/kind.h"
#include "runtime/runtime_log.h"

/* ---- problems ------------------------------------------------------------------------- */

static int problem(struct api_problem *p, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int problem(struct api_problem *p, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    p->status = status;
    snprintf(p->code, sizeof p->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- POST /tasks: the body --------------------------------------------------------------- */

void api_create_destroy(struct api_create *c)
{
    if (c == NULL)
        return;
    json_decref(c->payload);
    free(c->payload_text);
    memset(c, 0, sizeof *c);
}

static const char *const CREATE_FIELDS[] = {"kind", "payload", NULL};

int api_parse_create(const char *body, size_t len, struct api_create *c, struct api_problem *p)
{
    json_error_t je;
    json_t *doc = NULL;
    char kinds[256], msg[TASK_KIND_MSG_MAX];
    int rc = -1;

    memset(c, 0, sizeof *c);
    if (len > API_MAX_BODY)
        return problem(p, 413, "PayloadTooLarge",
                       "the request body is %zu bytes; at most %d are accepted", len, API_MAX_BODY);
    if (len == 0)
        return problem(p, 400, "InvalidRequest",
                       "the body must be a JSON object: {\"kind\": ..., \"payload\": {...}}");
    doc = jsonh_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (doc == NULL) {
        problem(p, 400, "InvalidJson", "the body is not JSON: %s (line %d, column %d)", je.text,
                je.line, je.column);
        goto done;
    }
    if (!json_is_object(doc)) {
        problem(p, 400, "InvalidRequest",
                "the body must be a JSON object: {\"kind\": ..., \"payload\": {...}}");
        goto done;
    }
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value)
    {
        bool known = false;
        for (size_t i = 0; CREATE_FIELDS[i] != NULL && !known; i++)
            known = strcmp(key, CREATE_FIELDS[i]) == 0;
        if (!known) {
            problem(p, 400, "InvalidRequest", "'%.64s' is not a field of a task (kind, payload)",
                    key);
            goto done;
        }
    }
    json_t *kind = json_object_get(doc, "kind");
    task_kind_names(kinds, sizeof kinds);
    if (!json_is_string(kind)) {
        problem(p, 400, "InvalidRequest", "kind is required: one of %s", kinds);
        goto done;
    }
    c->kind = task_kind_find(json_string_value(kind));
    if (c->kind == NULL || strlen(json_string_value(kind)) != json_string_length(kind)) {
        problem(p, 400, "UnknownKind", "kind '%.64s' is not one of %s", json_string_value(kind),
                kinds);
        goto done;
    }
    json_t *payload = json_object_get(doc, "payload");
    if (payload == NULL) {
        c->payload = json_object();
    } else if (!json_is_object(payload)) {
        problem(p, 400, "InvalidPayload", "payload must be a JSON object");
        goto done;
    } else {
        c->payload = json_incref(payload);
    }
    c->payload_text = json_dumps(c->payload, JSON_COMPACT);
    if (c->payload == NULL || c->payload_text == NULL) {
        problem(p, 503, "OutOfMemory", "no memory for the payload");
        goto done;
    }
    c->payload_len = strlen(c->payload_text);
    if (c->payload_len > TASK_MAX_PAYLOAD) {
        problem(p, 413, "PayloadTooLarge",
                "the payload is %zu bytes of JSON; at most %d are accepted", c->payload_len,
                TASK_MAX_PAYLOAD);
        goto done;
    }
    if (c->kind->validate(c->payload, msg, sizeof msg) != 0) {
        problem(p, 400, "InvalidPayload", "%s: %s", c->kind->name, msg);
        goto done;
    }
    rc = 0;
done:
    json_decref(doc);
    if (rc != 0)
        api_create_destroy(c);
    return rc;
}

int api_request_hash(const struct api_create *c, char out[65])
{
    struct buf h;
    unsigned char d[32];
    int rc = -1;
    /* kind and payload, the payload's members sorted: the same request in another order */
    char *canon = json_dumps(c->payload, JSON_COMPACT | JSON_SORT_KEYS);
    buf_init(&h, TASK_MAX_PAYLOAD * 2 + TASK_KIND_MAX);
    if (canon != NULL && buf_puts(&h, c->kind->name) == BUF_OK &&
        buf_append(&h, "\n", 1) == BUF_OK && buf_puts(&h, canon) == BUF_OK) {
        codec_sha256(h.data, h.len, d);
        codec_hex(d, 32, out);
        rc = 0;
    }
    free(canon);
    buf_destroy(&h);
    return rc;
}

int api_check_idempotency_key(const char *key, struct api_problem *p)
{
    size_t n = strlen(key);
    if (n == 0 || n > API_MAX_KEY)
        return problem(p, 400, "InvalidIdempotencyKey",
                       "Idempotency-Key must be 1 to %d characters", API_MAX_KEY);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
            return problem(p, 400, "InvalidIdempotencyKey",
                           "Idempotency-Key must be printable ASCII");
    return 0;
}

/* ---- cursors ------------------------------------------------------------------------------ */

/* The cursors' alphabet (base64url, RFC 4648 §5), for reading them back. */
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int api_cursor_encode(const char *id, const char *created_at, enum task_status status, char *out,
                      size_t cap)
{
    char json[256];
    int n = snprintf(json, sizeof json, "{\"id\":\"%s\",\"created_at\":\"%s\",\"status\":\"%s\"}",
                     id, created_at, task_status_name(status));
    if (n < 0 || (size_t)n >= sizeof json || !task_id_valid(id, strlen(id)) ||
        strpbrk(created_at, "\"\\") != NULL)
        return -1;
    struct buf b;
    buf_init(&b, cap > 0 ? cap - 1 : 0); /* and the NUL */
    int rc = codec_b64url_encode(json, (size_t)n, &b) == BUF_OK && cap > 0 ? 0 : -1;
    if (rc == 0)
        memcpy(out, b.data, b.len + 1);
    buf_destroy(&b);
    return rc;
}

int api_cursor_decode(const char *cursor, enum task_status status, char id[TASK_ID_LEN + 1],
                      char created_at[32], struct api_problem *p)
{
    char json[256];
    size_t n = strlen(cursor), o = 0;
    unsigned v = 0;
    int bits = 0;
    if (n == 0 || n > 340)
        return problem(p, 400, "InvalidCursor", "next is not a cursor this API gave out");
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(B64URL, cursor[i]);
        if (at == NULL || cursor[i] == '\0')
            return problem(p, 400, "InvalidCursor", "next is not a cursor this API gave out");
        v = (v << 6) | (unsigned)(at - B64URL);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= sizeof json)
                return problem(p, 400, "InvalidCursor", "next is not a cursor this API gave out");
            json[o++] = (char)((v >> bits) & 0xff);
        }
    }
    json_t *doc = jsonh_loadb(json, o, JSON_REJECT_DUPLICATES, NULL);
    const char *i = json_string_value(json_object_get(doc, "id"));
    const char *c = json_string_value(json_object_get(doc, "created_at"));
    const char *s = json_string_value(json_object_get(doc, "status"));
    enum task_status cs;
    int rc = 0;
    if (i == NULL || c == NULL || s == NULL || json_object_size(doc) != 3 ||
        !task_id_valid(i, strlen(i)) || strlen(c) >= 32 ||
        c[strspn(c, "0123456789-T:.Z")] != '\0' || task_status_parse(s, &cs) != 0)
        rc = problem(p, 400, "InvalidCursor", "next is not a cursor this API gave out");
    else if (cs != status)
        rc = problem(p, 400, "InvalidCursor", "next continues a list of %s tasks, not %s", s,
                     task_status_name(status));
    else {
        memcpy(id, i, TASK_ID_LEN + 1);
        memcpy(created_at, c, strlen(c) + 1);
    }
    json_decref(doc);
    return rc;
}

/* ---- routes ------------------------------------------------------------------------------- */

static const struct {
    const char *method;
    const char *pattern; /* "{id}" matches one non-empty segment */
    enum api_route_id id;
} ROUTES[] = {
    {"GET", "/health", API_HEALTH},
    {"POST", "/tasks", API_CREATE},
    {"GET", "/tasks", API_LIST},
    {"GET", "/tasks/{id}", API_GET},
    {"POST", "/tasks/{id}/retry", API_RETRY},
};

/* Does path match pattern? Sets the {id} segment. */
static bool path_matches(const char *pattern, const char *path, const char **id, size_t *idlen)
{
    *id = NULL;
    *idlen = 0;
    while (*pattern != '\0' || *path != '\0') {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pl == 4 && memcmp(pattern, "{id}", 4) == 0) {
            if (sl == 0)
                return false;
            *id = path;
            *idlen = sl;
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl;
        path += sl;
    }
    return true;
}

int api_route(const char *method, const char *path, enum api_route_id *route, const char **id,
              size_t *idlen, char *allow, size_t allow_cap)
{
    size_t len = 0;
    if (allow_cap > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const char *rid;
        size_t rlen;
        if (!path_matches(ROUTES[i].pattern, path, &rid, &rlen))
            continue;
        if (strcmp(ROUTES[i].method, method) == 0) {
            *route = ROUTES[i].id;
            *id = rid;
            *idlen = rlen;
            return 0;
        }
        int n = snprintf(allow + len, allow_cap - len, "%s%s", len ? ", " : "", ROUTES[i].method);
        if (n > 0 && (size_t)n < allow_cap - len)
            len += (size_t)n;
    }
    return len > 0 ? 405 : 404;
}

/* ---- the answer --------------------------------------------------------------------------- */

struct reply {
    int status;
    const char *header_names[4]; /* static strings */
    char header_values[4][128];
    size_t nheaders;
    struct buf body;
    struct jsonw w; /* writes body */
};

static void reply_init(struct reply *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, RUNTIME_MAX_RESPONSE / 2);
    jw_init(&r->w, &r->body);
}

static void reply_header(struct reply *r, const char *name, const char *value)
{
    if (r->nheaders < 4) {
        r->header_names[r->nheaders] = name;
        snprintf(r->header_values[r->nheaders++], sizeof r->header_values[0], "%s", value);
    }
}

static void reply_problem(struct reply *r, const struct api_problem *p)
{
    r->status = p->status;
    buf_reset(&r->body);
    jw_init(&r->w, &r->body);
    jw_obj(&r->w);
    jw_key(&r->w, "error");
    jw_obj(&r->w);
    jw_kstr(&r->w, "code", p->code);
    jw_kstr(&r->w, "message", p->message);
    jw_obj_end(&r->w);
    jw_obj_end(&r->w);
}

/* The gateway's proxy answer: {"statusCode","headers":{...},"body":"<JSON text>"}. */
static int reply_emit(struct reply *r, struct buf *out)
{
    struct jsonw w;
    if (!jw_ok(&r->w))
        return -1;
    jw_init(&w, out);
    jw_obj(&w);
    jw_kint(&w, "statusCode", r->status);
    jw_key(&w, "headers");
    jw_obj(&w);
    jw_kstr(&w, "content-type", "application/json");
    for (size_t i = 0; i < r->nheaders; i++)
        jw_kstr(&w, r->header_names[i], r->header_values[i]);
    jw_obj_end(&w);
    jw_kstrn(&w, "body", r->body.data ? r->body.data : "", r->body.len);
    jw_kbool(&w, "isBase64Encoded", false);
    jw_obj_end(&w);
    return jw_ok(&w) ? 0 : -1;
}

static void reply_destroy(struct reply *r)
{
    buf_destroy(&r->body);
}

/* An AWS failure as the client sees it: throttling is 429, anything else 503. */
static void reply_dependency(struct reply *r, const char *what, const struct aws_error *err)
{
    struct api_problem p;
    runtime_log(RUNTIME_LOG_ERROR, what, "code", err->code[0] ? err->code : aws_strerror(err->rc),
                "detail", err->message, (const char *)NULL);
    if (err->rc == AWS_ESERVICE && aws_retry_is_throttling(err->code))
        problem(&p, 429, "Throttled", "%s: the service is busy; retry later", what);
    else
        problem(&p, 503, "ServiceUnavailable", "%s: a dependency failed; retry later", what);
    reply_problem(r, &p);
}

/* ---- handlers ------------------------------------------------------------------------------ */

struct request {
    const struct runtime_invocation *inv;
    struct fn_app *app;
    struct taskdb db;
    const char *method, *path;
    json_t *headers, *query;
    const char *body;
    size_t body_len;
    const char *id; /* the {id} segment, NUL-terminated copy */
    char idbuf[TASK_ID_LEN + 1];
    bool id_valid;
};

static const char *header(const struct request *q, const char *name)
{
    return json_string_value(json_object_get(q->headers, name));
}

static const char *query_param(const struct request *q, const char *name)
{
    return json_string_value(json_object_get(q->query, name));
}

static void handle_health(struct request *q, struct reply *r)
{
    (void)q;
    r->status = 200;
    jw_obj(&r->w);
    jw_kstr(&r->w, "status", "ok");
    jw_obj_end(&r->w);
}

/* Sends the task's message; a failure flags the task and answers 503. */
static bool enqueue(struct request *q, struct reply *r, const char *id, const char *kind)
{
    struct aws_error err;
    int64_t deadline = fn_deadline(q->inv, FN_RESERVE_MS);
    if (taskdb_enqueue(&q->db, id, kind, deadline, &err) == AWS_OK)
        return true;
    taskdb_mark_enqueue_failed(&q->db, id, runtime_now_ms(), deadline);
    runtime_log(RUNTIME_LOG_ERROR, "task stored but not enqueued", "taskId", id, "code",
                err.code[0] ? err.code : aws_strerror(err.rc), "detail", err.message,
                (const char *)NULL);
    struct api_problem p;
    problem(&p, err.rc == AWS_ESERVICE && aws_retry_is_throttling(err.code) ? 429 : 503,
            "EnqueueFailed",
            "task %s is stored but could not be queued; send the request again with the same "
            "Idempotency-Key to queue it",
            id);
    reply_problem(r, &p);
    return false;
}

static void reply_task(struct reply *r, int status, const struct aws_ddb_item *task)
{
    r->status = status;
    if (task_render(task, &r->w) != 0) {
        struct api_problem p;
        problem(&p, 503, "ServiceUnavailable", "the stored task is incomplete");
        reply_problem(r, &p);
    }
}

static void handle_create(struct request *q, struct reply *r)
{
    struct api_problem p;
    struct api_create c;
    struct aws_error err;
    struct aws_ddb_item *existing = NULL;
    char id[TASK_ID_LEN + 1], location[64], now_iso[25], hash_hex[65] = "";
    const char *key = header(q, "idempotency-key");

    if (key != NULL && api_check_idempotency_key(key, &p) != 0) {
        reply_problem(r, &p);
        return;
    }
    if (api_parse_create(q->body, q->body_len, &c, &p) != 0) {
        reply_problem(r, &p);
        return;
    }
    if (key != NULL) {
        if (api_request_hash(&c, hash_hex) != 0 ||
            task_id_derived("idempotency-key", key, strlen(key), id) != 0) {
            problem(&p, 503, "OutOfMemory", "no memory to derive the task id");
            reply_problem(r, &p);
            goto done;
        }
    } else {
        task_id_random(id);
    }
    int64_t now = runtime_now_ms();
    fn_iso_ms(now, now_iso);
    struct taskdb_new t = {.id = id,
                           .kind = c.kind->name,
                           .payload = c.payload_text,
                           .payload_len = c.payload_len,
                           .source = "api",
                           .idempotency_key = key,
                           .request_hash = key ? hash_hex : NULL,
                           .now_ms = now};
    snprintf(location, sizeof location, "/tasks/%s", id);
    int rc = taskdb_create(&q->db, &t, fn_deadline(q->inv, FN_RESERVE_MS), &existing, &err);
    if (rc == AWS_OK) {
        if (!enqueue(q, r, id, c.kind->name))
            goto done;
        r->status = 202;
        reply_header(r, "location", location);
        task_render_new(&r->w, id, c.kind->name, c.payload_text, c.payload_len, now_iso);
        const char *kv[] = {"taskId", id, "kind", c.kind->name};
        struct runtime_emf_metric m[] = {{"TasksCreated", "Count", 1}};
        fn_log_metrics(q->app, RUNTIME_LOG_INFO, "task created", kv, 2, c.kind->name, m, 1);
        goto done;
    }
    if (!aws_error_is(&err, "ConditionalCheckFailedException") || existing == NULL) {
        reply_dependency(r, "storing the task", &err);
        goto done;
    }
    /* the id exists: the Idempotency-Key was used before (or, without one, a UUID clash) */
    const char *hash = aws_ddb_item_s(existing, "request_hash", NULL);
    if (key == NULL || hash == NULL || strcmp(hash, hash_hex) != 0) {
        problem(&p, 409, "IdempotencyKeyReused",
                "Idempotency-Key '%.64s' was used for another request", key ? key : "");
        reply_problem(r, &p);
        goto done;
    }
    if (taskdb_needs_enqueue(existing, now) && !enqueue(q, r, id, c.kind->name))
        goto done;
    reply_header(r, "location", location);
    reply_header(r, "idempotent-replayed", "true");
    reply_task(r, 202, existing);
done:
    aws_ddb_item_free(existing);
    api_create_destroy(&c);
}

/* Answers 404 for the task id (a copy of at most TASK_ID_LEN bytes): no such task. */
static void reply_no_task(struct reply *r, const char *id)
{
    struct api_problem p;
    problem(&p, 404, "NotFound", "no task '%s'", id);
    reply_problem(r, &p);
}

static void handle_get(struct request *q, struct reply *r)
{
    struct aws_error err;
    struct aws_ddb_item *task = NULL;
    if (!q->id_valid) {
        reply_no_task(r, q->id);
        return;
    }
    if (taskdb_get(&q->db, q->id, fn_deadline(q->inv, FN_RESERVE_MS), &task, &err) != AWS_OK) {
        reply_dependency(r, "reading the task", &err);
        return;
    }
    if (task == NULL) {
        reply_no_task(r, q->id);
        return;
    }
    reply_task(r, 200, task);
    aws_ddb_item_free(task);
}

static void handle_list(struct request *q, struct reply *r)
{
    struct api_problem p;
    struct aws_error err;
    enum task_status status;
    long limit = API_DEFAULT_LIMIT;
    char start_id[TASK_ID_LEN + 1], start_created[32], next[400];
    const char *s = query_param(q, "status"), *l = query_param(q, "limit"),
               *n = query_param(q, "next");
    if (s == NULL || task_status_parse(s, &status) != 0) {
        problem(&p, 400, "InvalidStatus",
                "status is required: one of QUEUED, RUNNING, SUCCEEDED, FAILED");
        reply_problem(r, &p);
        return;
    }
    if (l != NULL) {
        char *end;
        errno = 0;
        limit = strtol(l, &end, 10);
        if (errno != 0 || *l == '\0' || *end != '\0' || limit < 1 || limit > API_MAX_LIMIT) {
            problem(&p, 400, "InvalidLimit", "limit must be a number from 1 to %d", API_MAX_LIMIT);
            reply_problem(r, &p);
            return;
        }
    }
    if (n != NULL && api_cursor_decode(n, status, start_id, start_created, &p) != 0) {
        reply_problem(r, &p);
        return;
    }
    struct aws_ddb_page page;
    if (taskdb_list(&q->db, status, (int)limit, n ? start_id : NULL, n ? start_created : NULL,
                    fn_deadline(q->inv, FN_RESERVE_MS), &page, &err) != AWS_OK) {
        aws_ddb_page_destroy(&page);
        reply_dependency(r, "listing tasks", &err);
        return;
    }
    r->status = 200;
    jw_obj(&r->w);
    jw_key(&r->w, "tasks");
    jw_arr(&r->w);
    for (size_t i = 0; i < page.count; i++)
        (void)task_render(page.items[i], &r->w);
    jw_arr_end(&r->w);
    const char *lid = aws_ddb_item_s(page.last_key, "id", NULL);
    const char *lcreated = aws_ddb_item_s(page.last_key, "created_at", NULL);
    if (lid != NULL && lcreated != NULL &&
        api_cursor_encode(lid, lcreated, status, next, sizeof next) == 0)
        jw_kstr(&r->w, "next", next);
    jw_obj_end(&r->w);
    aws_ddb_page_destroy(&page);
}

static void handle_retry(struct request *q, struct reply *r)
{
    struct api_problem p;
    struct aws_error err;
    struct aws_ddb_item *task = NULL;
    if (!q->id_valid) {
        reply_no_task(r, q->id);
        return;
    }
    int rc = taskdb_retry(&q->db, q->id, runtime_now_ms(), fn_deadline(q->inv, FN_RESERVE_MS),
                          &task, &err);
    if (rc == AWS_OK) {
        const char *kind = aws_ddb_item_s(task, "kind", NULL);
        if (enqueue(q, r, q->id, kind ? kind : "")) {
            char location[64];
            snprintf(location, sizeof location, "/tasks/%s", q->id);
            reply_header(r, "location", location);
            reply_task(r, 202, task);
            runtime_log(RUNTIME_LOG_INFO, "task retried", "taskId", q->id, "kind", kind,
                        (const char *)NULL);
        }
    } else if (aws_error_is(&err, "ConditionalCheckFailedException")) {
        const char *status = aws_ddb_item_s(task, "status", NULL);
        if (task == NULL || status == NULL) {
            reply_no_task(r, q->id);
        } else {
            problem(&p, 409, "NotFailed", "task %s is %s; only a FAILED task can be retried", q->id,
                    status);
            reply_problem(r, &p);
        }
    } else {
        reply_dependency(r, "retrying the task", &err);
    }
    aws_ddb_item_free(task);
}

typedef void (*api_handler)(struct request *q, struct reply *r);

static const api_handler HANDLERS[API_ROUTE_COUNT] = {
    [API_HEALTH] = handle_health, [API_CREATE] = handle_create, [API_LIST] = handle_list,
    [API_GET] = handle_get,       [API_RETRY] = handle_retry,
};

int api_init(void *user, struct runtime_error *err)
{
    return fn_app_init(user, err);
}

int api_handle(const struct runtime_invocation *inv, const char *event, size_t len, struct buf *out,
               struct runtime_error *err)
{
    json_error_t jerr;
    struct request q = {.inv = inv, .app = inv->user};
    struct reply r;
    struct api_problem p;
    struct buf decoded;
    char allow[64];
    enum api_route_id route;
    const char *id;
    size_t idlen;
    int rc = 0;

    /* of the event, what the handlers read: the rest is checked, not built */
    static const char *const used[] = {"requestContext.http.method",
                                       "rawPath",
                                       "headers",
                                       "queryStringParameters",
                                       "body",
                                       "isBase64Encoded",
                                       NULL};
    json_t *ev = jsonh_loadb_pick(event, len, 0, used, &jerr);
    if (ev == NULL)
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not JSON: %s", jerr.text);
    if (json_unpack(ev, "{s:{s:{s:s}}}", "requestContext", "http", "method", &q.method) != 0 ||
        json_unpack(ev, "{s:s}", "rawPath", &q.path) != 0) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent",
                                 "not an API Gateway HTTP API payload 2.0 event");
    }
    taskdb_init(&q.db, q.app);
    q.headers = json_object_get(ev, "headers");
    q.query = json_object_get(ev, "queryStringParameters");
    json_t *body = json_object_get(ev, "body");
    q.body = json_string_value(body) ? json_string_value(body) : "";
    q.body_len = json_string_value(body) ? json_string_length(body) : 0;
    buf_init(&decoded, API_MAX_BODY + 4);
    reply_init(&r);
    if (json_is_true(json_object_get(ev, "isBase64Encoded")) && q.body_len > 0) {
        int b = q.body_len / 4 * 3 > API_MAX_BODY + 3
                    ? BUF_ETOOBIG
                    : codec_b64_decode(q.body, q.body_len, &decoded);
        if (b != BUF_OK) {
            problem(&p, b == BUF_ETOOBIG ? 413 : 400,
                    b == BUF_ETOOBIG ? "PayloadTooLarge" : "InvalidRequest",
                    b == BUF_ETOOBIG ? "the request body is too large" : "the body is not base64");
            reply_problem(&r, &p);
            goto emit;
        }
        q.body = decoded.data ? decoded.data : "";
        q.body_len = decoded.len;
    }
    int m = api_route(q.method, q.path, &route, &id, &idlen, allow, sizeof allow);
    if (m == 405) {
        problem(&p, 405, "MethodNotAllowed", "%.16s is not allowed on %.256s (allowed: %s)",
                q.method, q.path, allow);
        reply_problem(&r, &p);
        reply_header(&r, "allow", allow);
    } else if (m == 404) {
        problem(&p, 404, "NotFound", "no route for %.16s %.256s", q.method, q.path);
        reply_problem(&r, &p);
    } else {
        q.id_valid = id != NULL && task_id_valid(id, idlen);
        if (id != NULL) {
            size_t n = idlen < TASK_ID_LEN ? idlen : TASK_ID_LEN;
            memcpy(q.idbuf, id, n);
            q.idbuf[n] = '\0';
            q.id = q.idbuf;
        }
        HANDLERS[route](&q, &r);
    }
emit:
    if (reply_emit(&r, out) != 0)
        rc = runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
    if (runtime_log_enabled(RUNTIME_LOG_DEBUG)) {
        char status[8];
        snprintf(status, sizeof status, "%d", r.status);
        runtime_log(RUNTIME_LOG_DEBUG, "request", "method", q.method, "path", q.path, "status",
                    status, (const char *)NULL);
    }
    reply_destroy(&r);
    buf_destroy(&decoded);
    json_decref(ev);
    return rc;
}
