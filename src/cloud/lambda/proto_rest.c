#include "cloud/lambda/proto_rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/http.h"
#include "cloud/lambda/lambda.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/log.h"

enum op {
    OP_CREATE,
    OP_LIST,
    OP_GET,
    OP_DELETE,
    OP_GET_CONFIG,
    OP_UPDATE_CONFIG,
    OP_UPDATE_CODE,
    OP_INVOKE,
    OP_PUT_CONCURRENCY,
    OP_GET_CONCURRENCY,
    OP_DELETE_CONCURRENCY,
    OP_LIST_VERSIONS,
    OP_GET_CODE_SIGNING,
};

/* The route table: method, version prefix, whether a {name} follows, the suffix after it. */
struct route {
    const char *method;
    const char *prefix;
    bool has_name;
    const char *suffix;
    enum op op;
};

static const struct route routes[] = {
    {"POST", "/2015-03-31/functions", false, "", OP_CREATE},
    {"POST", "/2015-03-31/functions/", false, "", OP_CREATE},
    {"GET", "/2015-03-31/functions/", false, "", OP_LIST},
    {"GET", "/2015-03-31/functions", false, "", OP_LIST},
    {"GET", "/2015-03-31/functions/", true, "", OP_GET},
    {"DELETE", "/2015-03-31/functions/", true, "", OP_DELETE},
    {"GET", "/2015-03-31/functions/", true, "/configuration", OP_GET_CONFIG},
    {"PUT", "/2015-03-31/functions/", true, "/configuration", OP_UPDATE_CONFIG},
    {"PUT", "/2015-03-31/functions/", true, "/code", OP_UPDATE_CODE},
    {"POST", "/2015-03-31/functions/", true, "/invocations", OP_INVOKE},
    {"PUT", "/2017-10-31/functions/", true, "/concurrency", OP_PUT_CONCURRENCY},
    {"GET", "/2019-09-30/functions/", true, "/concurrency", OP_GET_CONCURRENCY},
    {"DELETE", "/2017-10-31/functions/", true, "/concurrency", OP_DELETE_CONCURRENCY},
    {"GET", "/2015-03-31/functions/", true, "/versions", OP_LIST_VERSIONS},
    {"GET", "/2020-06-30/functions/", true, "/code-signing-config", OP_GET_CODE_SIGNING},
};

#define TAGS_PREFIX "/2017-03-31/tags/"

static const struct http_hdr ct_json = {"content-type", "application/json", 0};

static void send_json(struct http_req *req, int status, json_t *j)
{
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    http_respond(req, status, &ct_json, 1, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

static void send_error(struct http_req *req, enum err e, const char *msg, const char *reason)
{
    struct buf b;
    buf_init(&b, 8192);
    if (reason != NULL) {
        /* throttles carry Reason like AWS: {"Reason":...,"Type":"User","message":...} */
        json_t *j = json_pack("{s:s, s:s, s:s}", "Reason", reason, "Type", "User", "message",
                              msg ? msg : err_message(e));
        jsonh_dump_buf(j, JSON_COMPACT, &b);
        json_decref(j);
    } else {
        err_rest_json_body(e, msg, &b);
    }
    struct http_hdr h[3] = {ct_json, {"x-amzn-errortype", err_code(e), 0}, {"retry-after", "1", 0}};
    http_respond(req, err_status(e), h, reason ? 3 : 2, b.data, b.len);
    buf_destroy(&b);
}

/* Finds a query parameter's (decoded) value. Returns length or -1 when absent. */
/* The decoded value of the next member called key at or after *pos (which moves past it):
 * its length, or -1 when there is none (or it does not decode into out). */
static long query_next(const char *q, size_t ql, size_t *pos, const char *key, char *out,
                       size_t outlen)
{
    size_t kl = strlen(key);
    while (*pos < ql) {
        size_t i = *pos;
        const char *amp = memchr(q + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - q) : ql;
        const char *eqs = memchr(q + i, '=', end - i);
        size_t nl = eqs ? (size_t)(eqs - (q + i)) : end - i;
        *pos = end + 1;
        if (nl == kl && memcmp(q + i, key, kl) == 0) {
            const char *v = eqs ? eqs + 1 : q + end;
            return lambda_pct_decode(v, (size_t)(q + end - v), out, outlen);
        }
    }
    return -1;
}

/* The first member called key (see query_next). */
static long query_param(const char *q, size_t ql, const char *key, char *out, size_t outlen)
{
    size_t pos = 0;
    return query_next(q, ql, &pos, key, out, outlen);
}

/* A path segment percent-decoded once, and again when an SDK double-encoded it (a '%'
 * is left): its length, or -1 when it does not decode into out (512 bytes). */
static long decode_segment(const char *seg, size_t len, char out[512])
{
    char twice[512];
    long n = lambda_pct_decode(seg, len, out, 512);
    if (n >= 0 && memchr(out, '%', (size_t)n) != NULL &&
        (n = lambda_pct_decode(out, (size_t)n, twice, sizeof(twice))) >= 0)
        memcpy(out, twice, (size_t)n + 1);
    return n;
}

/* Decodes the {FunctionName} path segment and resolves it. */
static enum err path_name(const char *seg, size_t len, char *name, size_t namelen, char *msg,
                          size_t msglen)
{
    char a[512];
    long n = decode_segment(seg, len, a);
    if (n < 0) {
        snprintf(msg, msglen, "Invalid function name encoding");
        return ERR_LAMBDA_VALIDATION;
    }
    return lambda_resolve_name(a, (size_t)n, name, namelen, msg, msglen);
}

/* The function called name, or NULL after answering 404 ResourceNotFoundException. */
static struct lambda_fn *find_or_404(struct lambda *lm, struct http_req *req, const char *name)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL) {
        char msg[512];
        lambda_not_found_msg(lm, name, msg, sizeof(msg));
        send_error(req, ERR_LAMBDA_NOT_FOUND, msg, NULL);
    }
    return fn;
}

static json_t *get_function_json(struct lambda *lm, struct lambda_fn *fn, uint16_t aws_port)
{
    json_t *cfg = lambda_fn_config_json(lm, fn);
    char loc[256];
    snprintf(loc, sizeof(loc), "http://127.0.0.1:%u/_haar/lambda/code/%s", aws_port,
             json_string_value(json_object_get(cfg, "FunctionName")));
    json_t *tags = lambda_fn_tags(fn);
    json_t *j =
        json_pack("{s:o, s:{s:s, s:s}, s:o}", "Configuration", cfg, "Code", "RepositoryType", "S3",
                  "Location", loc, "Tags", tags ? json_copy(tags) : json_object());
    if (lambda_fn_reserved(fn) >= 0)
        json_object_set_new(
            j, "Concurrency",
            json_pack("{s:i}", "ReservedConcurrentExecutions", lambda_fn_reserved(fn)));
    return j;
}

/* ---- ListFunctions ------------------------------------------------------------------ */

struct list_ctx {
    struct lambda *lm;
    json_t *arr;
    const char *marker;
    long max;
    char next[80];
    bool more;
};

static bool list_cb(void *arg, struct lambda_fn *fn)
{
    struct list_ctx *c = arg;
    json_t *cfg = lambda_fn_config_json(c->lm, fn);
    const char *name = json_string_value(json_object_get(cfg, "FunctionName"));
    if (c->marker[0] && strcmp(name, c->marker) <= 0) {
        json_decref(cfg);
        return true;
    }
    if ((long)json_array_size(c->arr) >= c->max) {
        c->more = true;
        json_decref(cfg);
        return false;
    }
    snprintf(c->next, sizeof(c->next), "%s", name);
    json_array_append_new(c->arr, cfg);
    return true;
}

static void op_list(struct lambda *lm, struct http_req *req, const char *q, size_t ql)
{
    char marker[256] = "", maxs[32];
    long max = 50;
    if (query_param(q, ql, "Marker", marker, sizeof(marker)) < 0)
        marker[0] = '\0';
    if (query_param(q, ql, "MaxItems", maxs, sizeof(maxs)) >= 0) {
        char *end;
        max = strtol(maxs, &end, 10);
        if (*end != '\0' || max < 1 || max > 10000) {
            send_error(req, ERR_LAMBDA_VALIDATION,
                       "1 validation error detected: Value at 'maxItems' failed to satisfy "
                       "constraint: Member must have value between 1 and 10000",
                       NULL);
            return;
        }
    }
    struct list_ctx c = {.lm = lm, .arr = json_array(), .marker = marker, .max = max};
    lambda_fn_each(lm, list_cb, &c);
    json_t *j = json_pack("{s:o}", "Functions", c.arr);
    if (c.more)
        json_object_set_new(j, "NextMarker", json_string(c.next));
    send_json(req, 200, j);
}

/* ---- Invoke ------------------------------------------------------------------------- */

struct invoke_ctx {
    struct http_req *req;
    struct lambda_inv *inv;
    bool *alive;
};

static void invoke_done(void *arg, const struct lambda_result *r)
{
    struct invoke_ctx *c = arg;
    if (c->alive)
        *c->alive = false;
    if (r->err != ERR_OK) {
        send_error(c->req, r->err, r->err_msg, r->throttle_reason);
        free(c);
        return;
    }
    struct http_hdr h[5];
    size_t n = 0;
    h[n++] = ct_json;
    h[n++] = (struct http_hdr){"x-amzn-requestid", r->request_id, 0};
    h[n++] = (struct http_hdr){"x-amz-executed-version", "$LATEST", 0};
    if (r->function_error)
        h[n++] = (struct http_hdr){"x-amz-function-error", "Unhandled", 0};
    struct buf tail;
    buf_init(&tail, 8192);
    if (r->log_tail != NULL) {
        codec_b64_encode(r->log_tail, r->log_tail_len, &tail);
        h[n++] = (struct http_hdr){"x-amz-log-result", tail.data ? tail.data : "", tail.len};
        if (tail.len == 0)
            n--;
    }
    http_respond(c->req, 200, h, n, r->body, r->len);
    buf_destroy(&tail);
    free(c);
}

static void invoke_gone(void *arg)
{
    struct invoke_ctx *c = arg;
    lambda_inv_detach(c->inv);
    free(c);
}

struct event_ctx {
    struct http_req *req; /* NULL once the client went away */
};

static void event_acked(void *arg, const struct lambda_result *r)
{
    struct event_ctx *e = arg;
    if (e->req != NULL) {
        if (r->err != ERR_OK) {
            send_error(e->req, r->err, r->err_msg, NULL);
        } else {
            struct http_hdr h[1] = {{"x-amzn-requestid", r->request_id, 0}};
            http_respond(e->req, 202, h, 1, NULL, 0);
        }
    }
    free(e);
}

static void event_gone(void *arg)
{
    struct event_ctx *e = arg;
    e->req = NULL; /* freed by event_acked, which always runs */
}

static void op_invoke(struct lambda *lm, struct http_req *req, struct lambda_fn *fn)
{
    size_t tl = 0, ll = 0, ccl = 0, bl = 0;
    const char *type = http_req_header(req, "x-amz-invocation-type", &tl);
    const char *logt = http_req_header(req, "x-amz-log-type", &ll);
    const char *cc = http_req_header(req, "x-amz-client-context", &ccl);
    const char *body = http_req_body(req, &bl);
    enum lambda_inv_type it = LAMBDA_INV_SYNC;
    bool dry = false;
    if (type == NULL || (tl == 15 && memcmp(type, "RequestResponse", 15) == 0)) {
        it = LAMBDA_INV_SYNC;
    } else if (tl == 5 && memcmp(type, "Event", 5) == 0) {
        it = LAMBDA_INV_EVENT;
    } else if (tl == 6 && memcmp(type, "DryRun", 6) == 0) {
        dry = true;
    } else {
        send_error(req, ERR_LAMBDA_VALIDATION,
                   "1 validation error detected: Value at 'invocationType' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [Event, RequestResponse, "
                   "DryRun]",
                   NULL);
        return;
    }
    if (it == LAMBDA_INV_EVENT && bl > LAMBDA_MAX_EVENT_PAYLOAD) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "%zu byte payload is too large for the Event invocation type (limit %d bytes)", bl,
                 LAMBDA_MAX_EVENT_PAYLOAD);
        send_error(req, ERR_LAMBDA_ENTITY_TOO_LARGE, msg, NULL);
        return;
    }
    if (bl > LAMBDA_MAX_SYNC_PAYLOAD) {
        send_error(req, ERR_LAMBDA_ENTITY_TOO_LARGE, NULL, NULL);
        return;
    }
    if (bl == 0) {
        body = "{}";
        bl = 2;
    }
    char perr[200];
    json_t *parsed = jsonh_parse(body, bl, perr, sizeof(perr));
    if (parsed == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Could not parse request body into json: %s", perr);
        send_error(req, ERR_LAMBDA_INVALID_CONTENT, msg, NULL);
        return;
    }
    json_decref(parsed);
    struct buf ccbuf;
    buf_init(&ccbuf, 8192);
    if (cc != NULL && lambda_decode_client_context(cc, ccl, &ccbuf) != ERR_OK) {
        buf_destroy(&ccbuf);
        send_error(req, ERR_LAMBDA_INVALID_CONTENT,
                   "Client context must be a valid Base64-encoded JSON object.", NULL);
        return;
    }
    if (dry) {
        buf_destroy(&ccbuf);
        http_respond(req, 204, NULL, 0, NULL, 0);
        return;
    }
    bool want_tail = logt != NULL && ll == 4 && memcmp(logt, "Tail", 4) == 0;
    char rid[37];
    if (it == LAMBDA_INV_EVENT) {
        /* answered 202 once the event is durable (group commit) */
        struct event_ctx *e = calloc(1, sizeof(*e));
        if (e == NULL) {
            buf_destroy(&ccbuf);
            send_error(req, ERR_LAMBDA_SERVICE, NULL, NULL);
            return;
        }
        e->req = req;
        http_req_on_gone(req, event_gone, e);
        lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, false, event_acked, e, rid);
        buf_destroy(&ccbuf);
        return;
    }
    struct invoke_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        buf_destroy(&ccbuf);
        send_error(req, ERR_LAMBDA_SERVICE, NULL, NULL);
        return;
    }
    bool alive = true;
    c->req = req;
    c->alive = &alive;
    http_req_on_gone(req, invoke_gone, c);
    struct lambda_inv *inv =
        lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, want_tail, invoke_done, c, rid);
    buf_destroy(&ccbuf);
    if (alive) {
        c->alive = NULL;
        c->inv = inv;
    }
}

/* ---- the dispatcher ----------------------------------------------------------------- */

static void op_create(struct lambda *lm, struct http_req *req, uint16_t aws_port)
{
    size_t bl;
    const char *body = http_req_body(req, &bl);
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    char msg[1024];
    enum err e = lambda_parse_fn_spec(body, bl, false, &doc, &spec, &zip, msg, sizeof(msg));
    if (e == ERR_OK)
        e = lambda_fn_create(lm, &spec, msg, sizeof(msg));
    if (e != ERR_OK) {
        send_error(req, e, msg, NULL);
    } else {
        char name[80];
        lambda_resolve_name(spec.name, strlen(spec.name), name, sizeof(name), msg, sizeof(msg));
        struct lambda_fn *fn = lambda_fn_find(lm, name);
        (void)aws_port;
        send_json(req, 201, lambda_fn_config_json(lm, fn));
    }
    json_decref(doc);
    buf_destroy(&zip);
}

static void op_update_code(struct lambda *lm, struct http_req *req, const char *name)
{
    size_t bl;
    const char *body = http_req_body(req, &bl);
    char perr[200], msg[1024];
    json_t *doc = jsonh_parse(body, bl, perr, sizeof(perr));
    const char *zf = jsonh_str(doc, "ZipFile", NULL);
    if (doc == NULL || zf == NULL) {
        json_decref(doc);
        send_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                   doc ? "Only ZipFile code updates are supported by this endpoint"
                       : "Could not parse request body into json",
                   NULL);
        return;
    }
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    enum err e = ERR_OK;
    if (codec_b64_decode(zf, strlen(zf), &zip) != BUF_OK) {
        e = ERR_LAMBDA_INVALID_PARAMETER;
        snprintf(msg, sizeof(msg),
                 "Could not unzip uploaded file. Please check your file, then try to upload "
                 "again.");
    } else {
        e = lambda_fn_update_code(lm, name, zip.data, zip.len, NULL, msg, sizeof(msg));
    }
    if (e != ERR_OK)
        send_error(req, e, msg, NULL);
    else
        send_json(req, 200, lambda_fn_config_json(lm, lambda_fn_find(lm, name)));
    buf_destroy(&zip);
    json_decref(doc);
}

static void op_update_config(struct lambda *lm, struct http_req *req, const char *name)
{
    size_t bl;
    const char *body = http_req_body(req, &bl);
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    char msg[1024];
    enum err e = lambda_parse_fn_spec(body, bl, true, &doc, &spec, NULL, msg, sizeof(msg));
    spec.name = name;
    if (e == ERR_OK)
        e = lambda_fn_update_config(lm, &spec, msg, sizeof(msg));
    if (e != ERR_OK)
        send_error(req, e, msg, NULL);
    else
        send_json(req, 200, lambda_fn_config_json(lm, lambda_fn_find(lm, name)));
    json_decref(doc);
}

static void op_put_concurrency(struct lambda *lm, struct http_req *req, const char *name)
{
    size_t bl;
    const char *body = http_req_body(req, &bl);
    char msg[512];
    json_t *doc = jsonh_parse(body, bl, NULL, 0);
    long long n;
    if (jsonh_int(doc, "ReservedConcurrentExecutions", &n) != 1 || n < 0) {
        json_decref(doc);
        send_error(req, ERR_LAMBDA_VALIDATION,
                   "1 validation error detected: Value at 'reservedConcurrentExecutions' failed "
                   "to satisfy constraint: Member must have value greater than or equal to 0",
                   NULL);
        return;
    }
    json_decref(doc);
    enum err e = lambda_fn_set_concurrency(lm, name, (int)n, msg, sizeof(msg));
    if (e != ERR_OK) {
        send_error(req, e, msg, NULL);
        return;
    }
    send_json(req, 200, json_pack("{s:I}", "ReservedConcurrentExecutions", (json_int_t)n));
}

/* ---- tags: /2017-03-31/tags/{ARN} ----------------------------------------------------- */

/* The function a tags path names: its ARN, percent-encoded once or twice by SDKs. Only
 * function ARNs carry tags here (no layers or event source mappings). */
static struct lambda_fn *tags_target(struct lambda *lm, struct http_req *req, const char *seg,
                                     size_t len)
{
    char arn[512], name[80], msg[512];
    long n = decode_segment(seg, len, arn);
    if (n < 0 || strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":function:") == NULL) {
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value '%.200s' at 'resource' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:"
                 "\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                 n < 0 ? "" : arn);
        send_error(req, ERR_LAMBDA_VALIDATION, msg, NULL);
        return NULL;
    }
    enum err e = lambda_resolve_name(arn, (size_t)n, name, sizeof(name), msg, sizeof(msg));
    if (e != ERR_OK) {
        send_error(req, e, msg, NULL);
        return NULL;
    }
    return find_or_404(lm, req, name);
}

/* The non-empty tagKeys=... members of an UntagResource query, decoded, as a JSON array
 * (members that do not decode are skipped). */
static json_t *query_tag_keys(const char *q, size_t ql)
{
    json_t *keys = json_array();
    char k[520];
    size_t pos = 0;
    while (keys != NULL && pos < ql) {
        long n = query_next(q, ql, &pos, "tagKeys", k, sizeof(k));
        if (n > 0)
            json_array_append_new(keys, json_stringn(k, (size_t)n));
    }
    return keys;
}

static void op_tags(struct lambda *lm, struct http_req *req, const char *m, size_t ml,
                    const char *seg, size_t segl, const char *q, size_t ql)
{
    bool get = ml == 3 && memcmp(m, "GET", 3) == 0;
    bool post = ml == 4 && memcmp(m, "POST", 4) == 0;
    bool del = ml == 6 && memcmp(m, "DELETE", 6) == 0;
    if (!get && !post && !del) {
        http_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        return;
    }
    struct lambda_fn *fn = tags_target(lm, req, seg, segl);
    if (fn == NULL)
        return;
    if (get) {
        json_t *tags = lambda_fn_tags(fn);
        send_json(req, 200, json_pack("{s:o}", "Tags", tags ? json_copy(tags) : json_object()));
        return;
    }
    if (del) {
        json_t *keys = query_tag_keys(q, ql);
        if (keys == NULL || json_array_size(keys) == 0) {
            json_decref(keys);
            send_error(req, ERR_LAMBDA_VALIDATION,
                       "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                       "constraint: Member must not be null",
                       NULL);
            return;
        }
        lambda_fn_untag(lm, fn, keys);
        json_decref(keys);
        http_respond(req, 204, NULL, 0, NULL, 0);
        return;
    }
    size_t bl;
    const char *body = http_req_body(req, &bl);
    char perr[200], msg[512];
    json_t *doc = jsonh_parse(body, bl, perr, sizeof(perr));
    json_t *tags = json_object_get(doc, "Tags");
    enum err e = ERR_OK;
    if (doc == NULL) {
        e = ERR_LAMBDA_INVALID_CONTENT;
        snprintf(msg, sizeof(msg), "Could not parse request body into json: %s", perr);
    } else if (tags == NULL || json_is_null(tags)) {
        e = ERR_LAMBDA_VALIDATION;
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value null at 'tags' failed to "
                 "satisfy constraint: Member must not be null");
    } else {
        e = lambda_check_tags(tags, msg, sizeof(msg));
    }
    if (e == ERR_OK)
        e = lambda_fn_tag(lm, fn, tags, msg, sizeof(msg));
    json_decref(doc);
    if (e != ERR_OK)
        send_error(req, e, msg, NULL);
    else
        http_respond(req, 204, NULL, 0, NULL, 0);
}

bool lambda_rest_handle(struct lambda *lm, uint16_t aws_port, struct http_req *req)
{
    size_t ml, pl;
    const char *m = http_req_method(req, &ml);
    const char *p = http_req_path(req, &pl);
    const char *q = memchr(p, '?', pl);
    size_t ql = 0;
    if (q != NULL) {
        ql = pl - (size_t)(q - p) - 1;
        pl = (size_t)(q - p);
        q++;
    }
    size_t tpl = strlen(TAGS_PREFIX);
    if (pl > tpl && memcmp(p, TAGS_PREFIX, tpl) == 0 && memchr(p + tpl, '/', pl - tpl) == NULL) {
        op_tags(lm, req, m, ml, p + tpl, pl - tpl, q ? q : "", ql);
        return true;
    }
    if (pl < 21 || p[0] != '/' || p[5] != '-' || memcmp(p + 11, "/functions", 10) != 0)
        return false;
    const struct route *hit = NULL;
    const char *seg = NULL;
    size_t segl = 0;
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && hit == NULL; i++) {
        const struct route *r = &routes[i];
        size_t prl = strlen(r->prefix), sl = strlen(r->suffix);
        if (pl < prl || memcmp(p, r->prefix, prl) != 0)
            continue;
        if (!r->has_name) {
            if (pl != prl)
                continue;
        } else {
            if (pl <= prl + sl || memcmp(p + pl - sl, r->suffix, sl) != 0)
                continue;
            const char *s = p + prl;
            size_t n = pl - prl - sl;
            if (n == 0 || memchr(s, '/', n) != NULL)
                continue;
            seg = s;
            segl = n;
        }
        path_known = true;
        if (strlen(r->method) == ml && memcmp(r->method, m, ml) == 0)
            hit = r;
    }
    if (hit == NULL) {
        if (path_known) {
            http_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
            return true;
        }
        return false;
    }
    if (hit->op == OP_CREATE) {
        op_create(lm, req, aws_port);
        return true;
    }
    if (hit->op == OP_LIST) {
        op_list(lm, req, q ? q : "", ql);
        return true;
    }
    char name[80], msg[512];
    enum err e = path_name(seg, segl, name, sizeof(name), msg, sizeof(msg));
    if (e == ERR_OK && q != NULL) {
        char qual[80];
        if (query_param(q, ql, "Qualifier", qual, sizeof(qual)) >= 0 &&
            strcmp(qual, "$LATEST") != 0) {
            e = ERR_LAMBDA_NOT_FOUND;
            snprintf(msg, sizeof(msg), "Function not found: arn:aws:lambda:::function:%s:%s", name,
                     qual);
        }
    }
    if (e != ERR_OK) {
        send_error(req, e, msg, NULL);
        return true;
    }
    struct lambda_fn *fn = find_or_404(lm, req, name);
    if (fn == NULL)
        return true;
    switch (hit->op) {
    case OP_GET:
        send_json(req, 200, get_function_json(lm, fn, aws_port));
        break;
    case OP_GET_CONFIG:
        send_json(req, 200, lambda_fn_config_json(lm, fn));
        break;
    case OP_DELETE:
        lambda_fn_delete(lm, name);
        http_respond(req, 204, NULL, 0, NULL, 0);
        break;
    case OP_UPDATE_CONFIG:
        op_update_config(lm, req, name);
        break;
    case OP_UPDATE_CODE:
        op_update_code(lm, req, name);
        break;
    case OP_INVOKE:
        op_invoke(lm, req, fn);
        break;
    case OP_PUT_CONCURRENCY:
        op_put_concurrency(lm, req, name);
        break;
    case OP_GET_CONCURRENCY:
        if (lambda_fn_reserved(fn) >= 0)
            send_json(req, 200,
                      json_pack("{s:i}", "ReservedConcurrentExecutions", lambda_fn_reserved(fn)));
        else
            send_json(req, 200, json_object());
        break;
    case OP_LIST_VERSIONS:
        /* no published versions here: $LATEST is the only one */
        send_json(req, 200, json_pack("{s:[o]}", "Versions", lambda_fn_config_json(lm, fn)));
        break;
    case OP_GET_CODE_SIGNING:
        send_json(req, 200,
                  json_pack("{s:s, s:s}", "CodeSigningConfigArn", "", "FunctionName", name));
        break;
    case OP_DELETE_CONCURRENCY:
        lambda_fn_set_concurrency(lm, name, -1, msg, sizeof(msg));
        http_respond(req, 204, NULL, 0, NULL, 0);
        break;
    default:
        break;
    }
    return true;
}
