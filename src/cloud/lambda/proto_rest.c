/*
 * proto_rest.c — the Lambda REST-JSON adapter (API 2015-03-31 and the paths of later API
 * dates): routes as data, the wire JSON of functions (FunctionConfiguration, GetFunction,
 * EventInvokeConfig), and AWS's error shapes (X-Amzn-ErrorType plus {"Type","message"}).
 * Commands that change state answer from the engine's completion, once durable.
 */
#include "cloud/lambda/proto_rest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/sigv4.h"
#include "core/url.h"
#include "core/work.h"

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
    OP_PUT_EVENT_CONFIG,
    OP_UPDATE_EVENT_CONFIG,
    OP_GET_EVENT_CONFIG,
    OP_DELETE_EVENT_CONFIG,
    OP_LIST_EVENT_CONFIGS,
    OP_ADD_PERMISSION,
    OP_GET_POLICY,
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
    {"PUT", "/2019-09-25/functions/", true, "/event-invoke-config", OP_PUT_EVENT_CONFIG},
    {"POST", "/2019-09-25/functions/", true, "/event-invoke-config", OP_UPDATE_EVENT_CONFIG},
    {"GET", "/2019-09-25/functions/", true, "/event-invoke-config", OP_GET_EVENT_CONFIG},
    {"DELETE", "/2019-09-25/functions/", true, "/event-invoke-config", OP_DELETE_EVENT_CONFIG},
    {"GET", "/2019-09-25/functions/", true, "/event-invoke-config/list", OP_LIST_EVENT_CONFIGS},
    {"POST", "/2015-03-31/functions/", true, "/policy", OP_ADD_PERMISSION},
    {"GET", "/2015-03-31/functions/", true, "/policy", OP_GET_POLICY},
};

#define TAGS_PREFIX "/2017-03-31/tags/"

static const struct proto_hdr ct_json = {"content-type", "application/json", 0};

static void send_json(struct proto_req *req, int status, json_t *j)
{
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct proto_hdr h[2] = {ct_json, {"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, status, h, 2, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

static void send_empty(struct proto_req *req, int status)
{
    struct proto_hdr h[1] = {{"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, status, h, 1, NULL, 0);
}

/* A throttle carries its Reason, as AWS sends it: {"Reason","Type","message"}. */
static void send_throttle(struct proto_req *req, const char *msg, const char *reason)
{
    struct buf b;
    buf_init(&b, 8192);
    json_t *j = json_pack("{s:s, s:s, s:s}", "Reason", reason, "Type", "User", "message",
                          msg ? msg : err_message(ERR_LAMBDA_TOO_MANY_REQUESTS));
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct proto_hdr h[4] = {ct_json,
                             {"x-amzn-errortype", err_code(ERR_LAMBDA_TOO_MANY_REQUESTS), 0},
                             {"retry-after", "1", 0},
                             {"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, 429, h, 4, b.data, b.len);
    buf_destroy(&b);
}

/* ---- wire JSON ---- */

static json_t *config_json(const struct lambda_fn *fn)
{
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    char lm_s[40], group[96];
    clock_format_lambda(i.last_modified, lm_s, sizeof lm_s);
    snprintf(group, sizeof group, "/aws/lambda/%s", i.name);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:[s],"
        " s:{s:s}, s:{s:s, s:s}, s:{s:i}, s:s}",
        "FunctionName", i.name, "FunctionArn", i.arn, "Runtime", i.runtime, "Role", i.role,
        "Handler", i.handler, "CodeSize", (json_int_t)i.code_size, "Description", i.description,
        "CodeSha256", i.code_sha256, "Timeout", i.timeout, "MemorySize", i.memory, "LastModified",
        lm_s, "Version", "$LATEST", "State", "Active", "LastUpdateStatus", "Successful",
        "PackageType", "Zip", "Architectures", i.arch, "TracingConfig", "Mode", "PassThrough",
        "LoggingConfig", "LogFormat", "Text", "LogGroup", group, "EphemeralStorage", "Size", 512,
        "RevisionId", i.code_sha256);
    if (i.env_vars != NULL)
        json_object_set_new(j, "Environment", json_pack("{s:O}", "Variables", i.env_vars));
    return j;
}

#define CODE_PATH       "/_haar/lambda/code/"
#define CODE_URL_EXPIRY 600

/* GetFunction: Code.Location is a presigned URL that expires, as AWS's. */
static json_t *get_function_json(const struct lambda_rest *rs, const struct lambda_fn *fn)
{
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    json_t *cfg = config_json(fn);
    char loc[2048] = "";
    if (i.code_zip != NULL) {
        char host[32], path[160];
        snprintf(host, sizeof host, "127.0.0.1:%u", rs->aws_port);
        snprintf(path, sizeof path, CODE_PATH "%s", i.name);
        struct buf q;
        buf_init(&q, 1024);
        if (sigv4_presign("GET", host, path, rs->presign_key, rs->presign_secret, rs->region,
                          "lambda", clock_real_now_ms(), CODE_URL_EXPIRY, &q) == 0)
            snprintf(loc, sizeof loc, "http://%s%s?%s", host, path, q.data);
        buf_destroy(&q);
    }
    json_t *j =
        json_pack("{s:o, s:{s:s, s:s}, s:o}", "Configuration", cfg, "Code", "RepositoryType", "S3",
                  "Location", loc, "Tags", i.tags ? json_copy(i.tags) : json_object());
    if (i.reserved >= 0)
        json_object_set_new(j, "Concurrency",
                            json_pack("{s:i}", "ReservedConcurrentExecutions", i.reserved));
    return j;
}

static json_t *event_config_json(const struct lambda_fn *fn)
{
    const struct lambda_event_config *c = lambda_fn_event_config(fn);
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    char arn[256];
    snprintf(arn, sizeof arn, "%s:$LATEST", i.arn);
    json_t *dest = c->destinations ? json_deep_copy(c->destinations)
                                   : json_pack("{s:{}, s:{}}", "OnSuccess", "OnFailure");
    return json_pack("{s:f, s:s, s:i, s:i, s:o}", "LastModified", (double)c->last_modified / 1000.0,
                     "FunctionArn", arn, "MaximumRetryAttempts", c->max_retries,
                     "MaximumEventAgeInSeconds", c->max_age_seconds, "DestinationConfig", dest);
}

/* ---- query strings and path segments ---- */

/* The decoded value of the first member called key: its length, or -1. */
static long query_param(const char *q, size_t ql, const char *key, char *out, size_t outlen)
{
    size_t pos = 0, kl = strlen(key);
    struct url_member m;
    while (url_query_next(q, ql, &pos, &m))
        if (m.key_len == kl && memcmp(m.key, key, kl) == 0)
            return url_decode(m.value, m.value_len, 0, out, outlen);
    return -1;
}

/* A path segment percent-decoded once, and again when an SDK double-encoded it (a '%' is
 * left): its length, or -1 when it does not decode into out (512 bytes). */
static long decode_segment(const char *seg, size_t len, char out[512])
{
    char twice[512];
    long n = url_decode(seg, len, 0, out, 512);
    if (n >= 0 && memchr(out, '%', (size_t)n) != NULL &&
        (n = url_decode(out, (size_t)n, 0, twice, sizeof twice)) >= 0)
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
static struct lambda_fn *find_or_404(struct lambda *lm, struct proto_req *req, const char *name)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL) {
        char msg[512];
        lambda_not_found_msg(lm, name, msg, sizeof msg);
        proto_error(req, ERR_LAMBDA_NOT_FOUND, msg);
    }
    return fn;
}

/* ---- the model's constraints on what travels outside the body ---- */

/*
 * Each route's operation in AWS's model, as lambda_validate_request knows it (NULL: none).
 * Operations the table does not hold are checked as one that has the same members:
 * Get/DeleteFunctionEventInvokeConfig take FunctionName + Qualifier like DeleteFunction;
 * GetFunctionCodeSigningConfig and ListFunctionEventInvokeConfigs take FunctionName (the
 * latter's MaxItems, 1..50, is not checked: it pages nothing here).
 */
static const char *const model_ops[] = {
    [OP_LIST] = "ListFunctions",
    [OP_GET] = "GetFunction",
    [OP_DELETE] = "DeleteFunction",
    [OP_GET_CONFIG] = "GetFunctionConfiguration",
    [OP_UPDATE_CONFIG] = "UpdateFunctionConfiguration",
    [OP_UPDATE_CODE] = "UpdateFunctionCode",
    [OP_INVOKE] = "Invoke",
    [OP_PUT_CONCURRENCY] = "PutFunctionConcurrency",
    [OP_GET_CONCURRENCY] = "GetFunctionConcurrency",
    [OP_DELETE_CONCURRENCY] = "DeleteFunctionConcurrency",
    [OP_LIST_VERSIONS] = "ListVersionsByFunction",
    [OP_GET_CODE_SIGNING] = "GetFunctionConcurrency",
    [OP_PUT_EVENT_CONFIG] = "PutFunctionEventInvokeConfig",
    [OP_UPDATE_EVENT_CONFIG] = "UpdateFunctionEventInvokeConfig",
    [OP_GET_EVENT_CONFIG] = "DeleteFunction",
    [OP_DELETE_EVENT_CONFIG] = "DeleteFunction",
    [OP_LIST_EVENT_CONFIGS] = "GetFunctionConcurrency",
};

/* Routes whose JSON body the model checks too (the others' bodies are ignored). */
static bool model_checks_body(enum op op)
{
    return op == OP_UPDATE_CODE || op == OP_PUT_CONCURRENCY || op == OP_PUT_EVENT_CONFIG ||
           op == OP_UPDATE_EVENT_CONFIG;
}

static const char *model_op(enum op op)
{
    return (size_t)op < sizeof model_ops / sizeof model_ops[0] ? model_ops[op] : NULL;
}

/* Messages echo what was sent (AWS shows whole values): room for the longest a path, query
 * and headers can carry, plus, when the body is checked too, its size up to a bound (longer
 * values are cut, "..."). */
static size_t message_room(const struct proto_req *req, bool with_body)
{
    size_t body = req->body_len < (8u << 20) ? req->body_len : (8u << 20);
    return 64 * 1024 + (with_body ? body : 0);
}

/* The members a request carries outside its body, decoded: FunctionName (the path segment
 * seg, or NULL), Resource (a tags path), Qualifier and the list query members, Invoke's
 * headers. Unknown members are ignored by the checker, so every route gives them all. */
struct model_params {
    struct lambda_param p[16];
    size_t n;
    char name[8192], qual[512], marker[1024], max[64], region[64], version[64];
};

/* A path segment decoded as decode_segment does, into the larger buffer a request line
 * allows (h2o takes at most 8 KB), NULs kept for the checker to refuse. Length or -1. */
static long decode_param(const char *seg, size_t len, char *out, size_t outlen)
{
    long n = url_decode(seg, len, URL_ALLOW_NUL, out, outlen);
    if (n >= 0 && memchr(out, '%', (size_t)n) != NULL) {
        char *twice = malloc((size_t)n + 1);
        long t = twice ? url_decode(out, (size_t)n, URL_ALLOW_NUL, twice, (size_t)n + 1) : -1;
        if (t >= 0)
            memcpy(out, twice, (size_t)t + 1);
        n = t >= 0 ? t : n;
        free(twice);
    }
    return n;
}

static void add_param(struct model_params *m, const char *member, const char *v, long len)
{
    if (len >= 0 && m->n < sizeof m->p / sizeof m->p[0])
        m->p[m->n++] = (struct lambda_param){member, v, (size_t)len};
}

static void gather_params(const struct proto_req *req, const char *seg, size_t segl,
                          const char *seg_member, struct model_params *m)
{
    static const struct {
        const char *member, *key;
        size_t off, cap;
    } queries[] = {
        {"Qualifier", "Qualifier", offsetof(struct model_params, qual), 512},
        {"Marker", "Marker", offsetof(struct model_params, marker), 1024},
        {"MaxItems", "MaxItems", offsetof(struct model_params, max), 64},
        {"MasterRegion", "MasterRegion", offsetof(struct model_params, region), 64},
        {"FunctionVersion", "FunctionVersion", offsetof(struct model_params, version), 64},
    };
    static const struct {
        const char *member, *header;
    } headers[] = {
        {"InvocationType", "x-amz-invocation-type"},
        {"LogType", "x-amz-log-type"},
        {"ClientContext", "x-amz-client-context"},
    };
    m->n = 0;
    if (seg != NULL)
        add_param(m, seg_member, m->name, decode_param(seg, segl, m->name, sizeof m->name));
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *out = (char *)m + queries[i].off;
        add_param(m, queries[i].member, out,
                  query_param(req->query, req->query_len, queries[i].key, out, queries[i].cap));
    }
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        size_t vl;
        const char *v = proto_header(req, headers[i].header, &vl);
        if (v != NULL)
            add_param(m, headers[i].member, v, (long)vl);
    }
}

/* Checks the request against op's model (body: the parsed JSON body or NULL; extra: more
 * params, e.g. UntagResource's TagKeys). Returns true, or false after answering AWS's error. */
static bool model_ok(const char *op, struct proto_req *req, const char *seg, size_t segl,
                     const char *seg_member, const json_t *body, const struct lambda_param *extra,
                     size_t nextra)
{
    struct model_params *m = calloc(1, sizeof *m);
    size_t room = message_room(req, body != NULL);
    char *msg = malloc(room);
    struct lambda_param *all = NULL;
    bool ok = false;
    if (m == NULL || msg == NULL ||
        (all = calloc(sizeof m->p / sizeof m->p[0] + nextra, sizeof *all)) == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        goto out;
    }
    gather_params(req, seg, segl, seg_member, m);
    memcpy(all, m->p, m->n * sizeof *all);
    if (nextra > 0)
        memcpy(all + m->n, extra, nextra * sizeof *all);
    enum err e = lambda_validate_request(op, body, all, m->n + nextra, msg, room);
    if (e != ERR_OK)
        proto_error(req, e, msg);
    ok = e == ERR_OK;
out:
    free(all);
    free(msg);
    free(m);
    return ok;
}

/* ---- commands answered from their completion ---- */

enum answer {
    ANSWER_CONFIG,
    ANSWER_CONFIG_201,
    ANSWER_EMPTY,
    ANSWER_CONCURRENCY,
    ANSWER_EVENT_CONFIG,
    ANSWER_STATEMENT
};

struct call {
    struct proto_req *req; /* NULL once the client went away */
    struct lambda *lm;
    enum answer answer;
    char name[80];
    int value;
    char *text; /* ANSWER_STATEMENT: the statement added */
};

static void call_gone(void *arg)
{
    struct call *c = arg;
    c->req = NULL;
}

static struct call *call_new(struct lambda *lm, struct proto_req *req, enum answer a,
                             const char *name)
{
    struct call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return NULL;
    }
    c->req = req;
    c->lm = lm;
    c->answer = a;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    proto_on_gone(req, call_gone, c);
    return c;
}

static void call_done(void *arg, enum err e, const char *msg)
{
    struct call *c = arg;
    struct proto_req *req = c->req;
    if (req == NULL) {
        free(c->text);
        free(c);
        return;
    }
    proto_on_gone(req, NULL, NULL);
    struct lambda_fn *fn = lambda_fn_find(c->lm, c->name);
    if (e != ERR_OK) {
        proto_error(req, e, msg);
    } else if (c->answer == ANSWER_EMPTY) {
        send_empty(req, 204);
    } else if (c->answer == ANSWER_STATEMENT) {
        send_json(req, 201, json_pack("{s:s}", "Statement", c->text));
    } else if (c->answer == ANSWER_CONCURRENCY) {
        send_json(req, 200, json_pack("{s:i}", "ReservedConcurrentExecutions", c->value));
    } else if (fn == NULL) { /* deleted in the meantime */
        char m[512];
        lambda_not_found_msg(c->lm, c->name, m, sizeof m);
        proto_error(req, ERR_LAMBDA_NOT_FOUND, m);
    } else if (c->answer == ANSWER_EVENT_CONFIG) {
        send_json(req, 200, event_config_json(fn));
    } else {
        send_json(req, c->answer == ANSWER_CONFIG_201 ? 201 : 200, config_json(fn));
    }
    free(c->text);
    free(c);
}

/* ---- ListFunctions ---- */

struct list_ctx {
    json_t *arr;
    const char *marker;
    long max;
    char next[80];
    bool more;
};

static bool list_cb(void *arg, struct lambda_fn *fn)
{
    struct list_ctx *c = arg;
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    if (c->marker[0] && strcmp(i.name, c->marker) <= 0)
        return true;
    if ((long)json_array_size(c->arr) >= c->max) {
        c->more = true;
        return false;
    }
    snprintf(c->next, sizeof c->next, "%s", i.name);
    json_array_append_new(c->arr, config_json(fn));
    return true;
}

static void op_list(struct lambda *lm, struct proto_req *req)
{
    char marker[256] = "", maxs[32];
    long max = 50;
    if (query_param(req->query, req->query_len, "Marker", marker, sizeof marker) < 0)
        marker[0] = '\0';
    if (query_param(req->query, req->query_len, "MaxItems", maxs, sizeof maxs) >= 0) {
        char *end;
        max = strtol(maxs, &end, 10);
        if (*end != '\0' || max < 1 || max > 10000) {
            proto_error(req, ERR_LAMBDA_VALIDATION,
                        "1 validation error detected: Value at 'maxItems' failed to satisfy "
                        "constraint: Member must have value between 1 and 10000");
            return;
        }
    }
    struct list_ctx c = {.arr = json_array(), .marker = marker, .max = max};
    lambda_fn_each(lm, list_cb, &c);
    json_t *j = json_pack("{s:o}", "Functions", c.arr);
    if (c.more)
        json_object_set_new(j, "NextMarker", json_string(c.next));
    send_json(req, 200, j);
}

/* ---- Invoke ---- */

struct invoke_ctx {
    struct proto_req *req;
    struct lambda_inv *inv;
};

static void invoke_done(void *arg, const struct lambda_result *r)
{
    struct invoke_ctx *c = arg;
    struct proto_req *req = c->req;
    free(c);
    proto_on_gone(req, NULL, NULL);
    if (r->err != ERR_OK) {
        if (r->throttle_reason)
            send_throttle(req, r->err_msg, r->throttle_reason);
        else
            proto_error(req, r->err, r->err_msg);
        return;
    }
    struct proto_hdr h[6];
    size_t n = 0;
    h[n++] = ct_json;
    h[n++] = (struct proto_hdr){"x-amzn-requestid", r->request_id, 0};
    h[n++] = (struct proto_hdr){"x-amz-executed-version", "$LATEST", 0};
    if (r->function_error)
        h[n++] = (struct proto_hdr){"x-amz-function-error", "Unhandled", 0};
    struct buf tail;
    buf_init(&tail, 8192);
    if (r->log_tail != NULL && r->log_tail_len > 0) {
        codec_b64_encode(r->log_tail, r->log_tail_len, &tail);
        h[n++] = (struct proto_hdr){"x-amz-log-result", tail.data ? tail.data : "", tail.len};
    }
    proto_respond(req, 200, h, n, r->body, r->len);
    buf_destroy(&tail);
}

static void invoke_gone(void *arg)
{
    struct invoke_ctx *c = arg;
    lambda_inv_detach(c->inv);
    free(c);
}

struct event_ctx {
    struct proto_req *req; /* NULL once the client went away */
};

static void event_acked(void *arg, const struct lambda_result *r)
{
    struct event_ctx *e = arg;
    if (e->req != NULL) {
        proto_on_gone(e->req, NULL, NULL);
        if (r->err != ERR_OK) {
            proto_error(e->req, r->err, r->err_msg);
        } else {
            struct proto_hdr h[1] = {{"x-amzn-requestid", r->request_id, 0}};
            proto_respond(e->req, 202, h, 1, NULL, 0);
        }
    }
    free(e);
}

static void event_gone(void *arg)
{
    struct event_ctx *e = arg;
    e->req = NULL; /* freed by event_acked, which always runs */
}

static void op_invoke(struct lambda *lm, struct proto_req *req, struct lambda_fn *fn)
{
    size_t tl = 0, ll = 0, ccl = 0;
    const char *type = proto_header(req, "x-amz-invocation-type", &tl);
    const char *logt = proto_header(req, "x-amz-log-type", &ll);
    const char *cc = proto_header(req, "x-amz-client-context", &ccl);
    const char *body = req->body;
    size_t bl = req->body_len;
    enum lambda_inv_type it = LAMBDA_INV_SYNC;
    bool dry = false;
    if (type == NULL || (tl == 15 && memcmp(type, "RequestResponse", 15) == 0)) {
        it = LAMBDA_INV_SYNC;
    } else if (tl == 5 && memcmp(type, "Event", 5) == 0) {
        it = LAMBDA_INV_EVENT;
    } else if (tl == 6 && memcmp(type, "DryRun", 6) == 0) {
        dry = true;
    } else {
        proto_error(req, ERR_LAMBDA_VALIDATION,
                    "1 validation error detected: Value at 'invocationType' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [Event, RequestResponse, "
                    "DryRun]");
        return;
    }
    if (it == LAMBDA_INV_EVENT && bl > LAMBDA_MAX_EVENT_PAYLOAD) {
        proto_errorf(req, ERR_LAMBDA_ENTITY_TOO_LARGE,
                     "%zu byte payload is too large for the Event invocation type (limit %d "
                     "bytes)",
                     bl, LAMBDA_MAX_EVENT_PAYLOAD);
        return;
    }
    if (bl > LAMBDA_MAX_SYNC_PAYLOAD) {
        proto_error(req, ERR_LAMBDA_ENTITY_TOO_LARGE, NULL);
        return;
    }
    if (bl == 0) {
        body = "{}";
        bl = 2;
    }
    char perr[200];
    json_t *parsed = jsonh_parse(body, bl, perr, sizeof perr);
    if (parsed == NULL) {
        proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json: %s",
                     perr);
        return;
    }
    json_decref(parsed);
    struct buf ccbuf;
    buf_init(&ccbuf, 8192);
    if (cc != NULL && lambda_decode_client_context(cc, ccl, &ccbuf) != ERR_OK) {
        buf_destroy(&ccbuf);
        proto_error(req, ERR_LAMBDA_INVALID_CONTENT,
                    "Client context must be a valid Base64-encoded JSON object.");
        return;
    }
    if (dry) {
        buf_destroy(&ccbuf);
        send_empty(req, 204);
        return;
    }
    bool want_tail = logt != NULL && ll == 4 && memcmp(logt, "Tail", 4) == 0;
    if (it == LAMBDA_INV_EVENT) {
        /* answered 202 once the event is durable (group commit) */
        struct event_ctx *e = calloc(1, sizeof *e);
        if (e == NULL) {
            buf_destroy(&ccbuf);
            proto_error(req, ERR_LAMBDA_SERVICE, NULL);
            return;
        }
        e->req = req;
        proto_on_gone(req, event_gone, e);
        if (lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, false, event_acked, e,
                          NULL) == NULL) {
            free(e);
            proto_on_gone(req, NULL, NULL);
            proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        }
        buf_destroy(&ccbuf);
        return;
    }
    struct invoke_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        buf_destroy(&ccbuf);
        proto_error(req, ERR_LAMBDA_SERVICE, NULL);
        return;
    }
    c->req = req;
    c->inv = lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, want_tail, invoke_done, c,
                           NULL);
    buf_destroy(&ccbuf);
    if (c->inv == NULL) {
        free(c);
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    proto_on_gone(req, invoke_gone, c);
}

/* ---- commands ---- */

static void op_create(struct lambda *lm, struct proto_req *req)
{
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    size_t room = message_room(req, true);
    char *msg = malloc(room);
    if (msg == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    enum err e =
        lambda_parse_fn_spec(req->body, req->body_len, false, &doc, &spec, &zip, msg, room);
    char name[80] = "";
    if (e == ERR_OK)
        e = lambda_resolve_name(spec.name, strlen(spec.name), name, sizeof name, msg, room);
    if (e != ERR_OK) {
        proto_error(req, e == ERR_LAMBDA_NOT_FOUND ? ERR_LAMBDA_VALIDATION : e, msg);
    } else {
        struct call *c = call_new(lm, req, ANSWER_CONFIG_201, name);
        if (c != NULL)
            lambda_fn_create(lm, &spec, call_done, c);
    }
    free(msg);
    json_decref(doc);
    buf_destroy(&zip);
}

/* doc: the body, parsed once by the dispatcher (NULL: empty or not JSON). */
static void op_update_code(struct lambda *lm, struct proto_req *req, const char *name,
                           const json_t *doc)
{
    const json_t *zf = json_object_get(doc, "ZipFile");
    if (!json_is_string(zf)) {
        proto_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                    doc ? "Only ZipFile code updates are supported by this endpoint"
                        : "Could not parse request body into json");
        return;
    }
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    /* the JSON string's own length: a decoded \u0000 must not end it early */
    if (codec_b64_decode(json_string_value(zf), json_string_length(zf), &zip) != BUF_OK) {
        proto_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                    "Could not unzip uploaded file. Please check your file, then try to upload "
                    "again.");
    } else {
        struct call *c = call_new(lm, req, ANSWER_CONFIG, name);
        if (c != NULL)
            lambda_fn_update_code(lm, name, zip.data ? zip.data : "", zip.len, call_done, c);
    }
    buf_destroy(&zip);
}

static void op_update_config(struct lambda *lm, struct proto_req *req, const char *name)
{
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    size_t room = message_room(req, true);
    char *msg = malloc(room);
    if (msg == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    enum err e = lambda_parse_fn_spec(req->body, req->body_len, true, &doc, &spec, NULL, msg, room);
    spec.name = name;
    if (e != ERR_OK) {
        proto_error(req, e, msg);
    } else {
        struct call *c = call_new(lm, req, ANSWER_CONFIG, name);
        if (c != NULL)
            lambda_fn_update_config(lm, &spec, call_done, c);
    }
    free(msg);
    json_decref(doc);
}

static void op_put_concurrency(struct lambda *lm, struct proto_req *req, const char *name)
{
    json_t *doc = jsonh_parse(req->body, req->body_len, NULL, 0);
    long long n;
    int rc = jsonh_int(doc, "ReservedConcurrentExecutions", &n);
    json_decref(doc);
    if (rc != 1 || n < 0 || n > 1000000) {
        proto_error(req, ERR_LAMBDA_VALIDATION,
                    "1 validation error detected: Value at 'reservedConcurrentExecutions' failed "
                    "to satisfy constraint: Member must have value greater than or equal to 0");
        return;
    }
    struct call *c = call_new(lm, req, ANSWER_CONCURRENCY, name);
    if (c == NULL)
        return;
    c->value = (int)n;
    lambda_fn_set_concurrency(lm, name, (int)n, call_done, c);
}

/* Put/UpdateFunctionEventInvokeConfig bodies, checked as AWS checks them. */
static void op_event_config(struct lambda *lm, struct proto_req *req, struct lambda_fn *fn,
                            bool merge)
{
    char perr[200];
    json_t *doc =
        req->body_len ? jsonh_parse(req->body, req->body_len, perr, sizeof perr) : json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json");
        return;
    }
    long long retries = -1, age = -1;
    int r1 = jsonh_int(doc, "MaximumRetryAttempts", &retries);
    int r2 = jsonh_int(doc, "MaximumEventAgeInSeconds", &age);
    json_t *dest = json_object_get(doc, "DestinationConfig");
    const char *err = NULL;
    char msg[512];
    if (r1 < 0 || (r1 == 1 && (retries < 0 || retries > 2))) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%lld' at 'maximumRetryAttempts' failed to "
                 "satisfy constraint: Member must have value %s",
                 retries, retries < 0 ? "greater than or equal to 0" : "less than or equal to 2");
        err = msg;
    } else if (r2 < 0 || (r2 == 1 && (age < 60 || age > 21600))) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%lld' at 'maximumEventAgeInSeconds' failed "
                 "to satisfy constraint: Member must have value %s",
                 age, age < 60 ? "greater than or equal to 60" : "less than or equal to 21600");
        err = msg;
    } else if (dest != NULL && !json_is_null(dest) && !json_is_object(dest)) {
        err = "DestinationConfig must be an object";
    }
    if (err != NULL) {
        json_decref(doc);
        proto_error(req, ERR_LAMBDA_VALIDATION, err);
        return;
    }
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    struct call *c = call_new(lm, req, ANSWER_EVENT_CONFIG, i.name);
    if (c != NULL)
        lambda_fn_put_event_config(lm, fn, merge, r1 == 1 ? (int)retries : -1,
                                   r2 == 1 ? (int)age : -1, json_is_object(dest) ? dest : NULL,
                                   call_done, c);
    json_decref(doc);
}

static void no_event_config(struct lambda *lm, struct proto_req *req, struct lambda_fn *fn)
{
    (void)lm;
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    proto_errorf(req, ERR_LAMBDA_NOT_FOUND,
                 "The function %s:$LATEST doesn't have an "
                 "EventInvokeConfig",
                 i.arn);
}

/* ---- tags: /2017-03-31/tags/{ARN} ----------------------------------------------------- */

/* The function a tags path names: its ARN, percent-encoded once or twice by SDKs. Only
 * function ARNs carry tags here. */
static struct lambda_fn *tags_target(struct lambda *lm, struct proto_req *req, const char *seg,
                                     size_t len)
{
    char arn[512], name[80], msg[512];
    long n = decode_segment(seg, len, arn);
    if (n < 0 || strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":function:") == NULL) {
        proto_errorf(req, ERR_LAMBDA_VALIDATION,
                     "1 validation error detected: Value '%.200s' at 'resource' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:"
                     "\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                     n < 0 ? "" : arn);
        return NULL;
    }
    enum err e = lambda_resolve_name(arn, (size_t)n, name, sizeof name, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(req, e, msg);
        return NULL;
    }
    return find_or_404(lm, req, name);
}

/* The non-empty tagKeys=... members of an UntagResource query, decoded, as a JSON array. */
static json_t *query_tag_keys(const char *q, size_t ql)
{
    json_t *keys = json_array();
    size_t pos = 0;
    struct url_member m;
    while (keys != NULL && url_query_next(q, ql, &pos, &m)) {
        char k[520];
        long n;
        if (m.key_len == 7 && memcmp(m.key, "tagKeys", 7) == 0 &&
            (n = url_decode(m.value, m.value_len, 0, k, sizeof k)) > 0)
            json_array_append_new(keys, json_stringn(k, (size_t)n));
    }
    return keys;
}

/* The TagKeys of an UntagResource as model params (borrowed from keys). NULL when none. */
static struct lambda_param *tag_key_params(const json_t *keys, size_t *n)
{
    *n = json_array_size(keys);
    struct lambda_param *p = *n ? calloc(*n, sizeof *p) : NULL;
    for (size_t i = 0; p != NULL && i < *n; i++) {
        const json_t *k = json_array_get(keys, i);
        p[i] = (struct lambda_param){"TagKeys", json_string_value(k), json_string_length(k)};
    }
    if (p == NULL)
        *n = 0;
    return p;
}

static void op_tags(struct lambda *lm, struct proto_req *req, const char *seg, size_t segl)
{
    bool get = proto_method_is(req, "GET"), post = proto_method_is(req, "POST"),
         del = proto_method_is(req, "DELETE");
    if (!get && !post && !del) {
        proto_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        return;
    }
    char perr[200], msg[512];
    json_t *doc = NULL, *keys = NULL;
    struct lambda_param *kp = NULL;
    size_t nk = 0;
    if (post) {
        doc = jsonh_parse(req->body, req->body_len, perr, sizeof perr);
        if (doc == NULL) {
            proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT,
                         "Could not parse request body into json: %s", perr);
            return;
        }
    }
    if (del) {
        keys = query_tag_keys(req->query, req->query_len);
        kp = tag_key_params(keys, &nk);
    }
    /* the model first: the resource ARN, the tags or tag keys */
    const char *op = get ? "ListTags" : post ? "TagResource" : "UntagResource";
    struct lambda_fn *fn = NULL;
    if (model_ok(op, req, seg, segl, "Resource", doc, kp, nk))
        fn = tags_target(lm, req, seg, segl);
    free(kp);
    if (fn == NULL)
        goto out;
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    if (get) {
        send_json(req, 200, json_pack("{s:o}", "Tags", i.tags ? json_copy(i.tags) : json_object()));
        goto out;
    }
    if (del) {
        if (keys == NULL || json_array_size(keys) == 0) {
            proto_error(req, ERR_LAMBDA_VALIDATION,
                        "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                        "constraint: Member must not be null");
            goto out;
        }
        struct call *c = call_new(lm, req, ANSWER_EMPTY, i.name);
        if (c != NULL)
            lambda_fn_untag(lm, fn, keys, call_done, c);
        goto out;
    }
    json_t *tags = json_object_get(doc, "Tags");
    enum err e = lambda_check_tags(tags, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(req, e, msg);
    } else {
        struct call *c = call_new(lm, req, ANSWER_EMPTY, i.name);
        if (c != NULL)
            lambda_fn_tag(lm, fn, tags, call_done, c);
    }
out:
    json_decref(keys);
    json_decref(doc);
}

/* ---- AddPermission / RemovePermission / GetPolicy ---- */

/* AddPermission's Principal as a policy's: a service, an account's root, an ARN, or "*". */
static json_t *principal_json(const char *p)
{
    size_t n = strlen(p);
    char root[64];
    if (strcmp(p, "*") == 0)
        return json_string("*");
    if (n == 12 && strspn(p, "0123456789") == 12) {
        snprintf(root, sizeof root, "arn:aws:iam::%s:root", p);
        return json_pack("{s:s}", "AWS", root);
    }
    return json_pack("{s:s}", strncmp(p, "arn:", 4) == 0 ? "AWS" : "Service", p);
}

/* The statement AWS stores for an AddPermission body. */
static json_t *statement_json(const json_t *doc, const char *fn_arn)
{
    static const struct {
        const char *member, *key;
    } equals[] = {{"SourceAccount", "AWS:SourceAccount"},
                  {"EventSourceToken", "lambda:EventSourceToken"},
                  {"PrincipalOrgID", "aws:PrincipalOrgID"},
                  {"FunctionUrlAuthType", "lambda:FunctionUrlAuthType"}};
    json_t *st = json_pack("{s:s, s:s, s:o, s:s, s:s}", "Sid", jsonh_str(doc, "StatementId", ""),
                           "Effect", "Allow", "Principal",
                           principal_json(jsonh_str(doc, "Principal", "")), "Action",
                           jsonh_str(doc, "Action", ""), "Resource", fn_arn);
    json_t *cond = json_object(), *eq = json_object();
    for (size_t i = 0; i < sizeof equals / sizeof equals[0]; i++)
        if (jsonh_str(doc, equals[i].member, NULL) != NULL)
            json_object_set_new(eq, equals[i].key,
                                json_string(jsonh_str(doc, equals[i].member, "")));
    if (json_object_size(eq) > 0)
        json_object_set(cond, "StringEquals", eq);
    if (jsonh_str(doc, "SourceArn", NULL) != NULL)
        json_object_set_new(cond, "ArnLike",
                            json_pack("{s:s}", "AWS:SourceArn", jsonh_str(doc, "SourceArn", "")));
    if (json_object_size(cond) > 0)
        json_object_set(st, "Condition", cond);
    json_decref(cond);
    json_decref(eq);
    return st;
}

static void op_add_permission(struct lambda *lm, struct proto_req *req, struct lambda_fn *fn,
                              const char *name)
{
    char msg[1024];
    json_t *doc = jsonh_parse(req->body, req->body_len, NULL, 0);
    struct lambda_param p = {"FunctionName", name, strlen(name)};
    enum err e = json_is_object(doc)
                     ? lambda_validate_request("AddPermission", doc, &p, 1, msg, sizeof msg)
                     : ERR_LAMBDA_INVALID_CONTENT;
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    json_t *st = e == ERR_OK ? statement_json(doc, i.arn) : NULL;
    struct call *c = NULL;
    if (e != ERR_OK)
        proto_error(req, e, e == ERR_LAMBDA_INVALID_CONTENT ? NULL : msg);
    else if (st == NULL || (c = call_new(lm, req, ANSWER_STATEMENT, name)) == NULL)
        ;
    else if ((c->text = json_dumps(st, JSON_COMPACT)) == NULL)
        call_done(c, ERR_LAMBDA_SERVICE, "out of memory");
    else
        lambda_fn_add_permission(lm, fn, st, jsonh_str(doc, "RevisionId", NULL), call_done, c);
    json_decref(st);
    json_decref(doc);
}

static void op_get_policy(struct proto_req *req, struct lambda_fn *fn)
{
    const char *rev;
    const json_t *pol = lambda_fn_policy(fn, &rev);
    char *text = pol ? json_dumps(pol, JSON_COMPACT) : NULL;
    if (text == NULL)
        proto_error(req, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
    else
        send_json(req, 200, json_pack("{s:s, s:s}", "Policy", text, "RevisionId", rev));
    free(text);
}

#define POLICY_PREFIX "/2015-03-31/functions/"

/* DELETE /2015-03-31/functions/{name}/policy/{sid}: true when the path is that (handled). */
static bool remove_permission(struct lambda *lm, struct proto_req *req)
{
    size_t pl = strlen(POLICY_PREFIX);
    const char *p = req->path + pl, *end = req->path + req->path_len;
    const char *mark = req->path_len > pl && memcmp(req->path, POLICY_PREFIX, pl) == 0
                           ? memmem(p, (size_t)(end - p), "/policy/", 8)
                           : NULL;
    if (mark == NULL || memchr(p, '/', (size_t)(mark - p)) != NULL || mark + 8 >= end ||
        memchr(mark + 8, '/', (size_t)(end - mark - 8)) != NULL)
        return false;
    if (!proto_method_is(req, "DELETE")) {
        proto_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        return true;
    }
    char name[80], sid[512], msg[1024], rev[128];
    long sl = decode_segment(mark + 8, (size_t)(end - mark - 8), sid);
    enum err e = path_name(p, (size_t)(mark - p), name, sizeof name, msg, sizeof msg);
    if (e == ERR_OK && sl < 0) {
        e = ERR_LAMBDA_VALIDATION;
        snprintf(msg, sizeof msg, "Invalid statement id encoding");
    }
    if (e == ERR_OK)
        e = lambda_validate_value("NamespacedStatementId", "statementId", sid, (size_t)sl, msg,
                                  sizeof msg);
    if (e == ERR_LAMBDA_SERVICE) /* no such shape in the table: the pattern AWS documents */
        e = ERR_OK;
    if (e != ERR_OK) {
        proto_error(req, e, msg);
        return true;
    }
    struct lambda_fn *fn = find_or_404(lm, req, name);
    struct call *c = fn ? call_new(lm, req, ANSWER_EMPTY, name) : NULL;
    bool has_rev = query_param(req->query, req->query_len, "RevisionId", rev, sizeof rev) >= 0;
    if (c != NULL)
        lambda_fn_remove_permission(lm, fn, sid, has_rev ? rev : NULL, call_done, c);
    return true;
}

/* ---- the dispatcher ----------------------------------------------------------------- */

static const struct route *match(const struct proto_req *req, const char **seg, size_t *segl,
                                 bool *path_known)
{
    const char *p = req->path;
    size_t pl = req->path_len;
    *path_known = false;
    /* longest suffix first: ".../event-invoke-config/list" before ".../event-invoke-config" */
    const struct route *hit = NULL;
    size_t best = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *r = &routes[i];
        size_t prl = strlen(r->prefix), sl = strlen(r->suffix);
        const char *s = NULL;
        size_t n = 0;
        if (pl < prl || memcmp(p, r->prefix, prl) != 0)
            continue;
        if (!r->has_name) {
            if (pl != prl)
                continue;
        } else {
            if (pl <= prl + sl || memcmp(p + pl - sl, r->suffix, sl) != 0)
                continue;
            s = p + prl;
            n = pl - prl - sl;
            if (n == 0 || memchr(s, '/', n) != NULL)
                continue;
        }
        *path_known = true;
        if (proto_method_is(req, r->method) && (hit == NULL || sl + 1 > best)) {
            hit = r;
            best = sl + 1;
            *seg = s;
            *segl = n;
        }
    }
    return hit;
}

static void handle(struct lambda_rest *rs, struct proto_req *req)
{
    struct lambda *lm = rs->lm;
    size_t tpl = strlen(TAGS_PREFIX);
    if (req->path_len > tpl && memcmp(req->path, TAGS_PREFIX, tpl) == 0 &&
        memchr(req->path + tpl, '/', req->path_len - tpl) == NULL) {
        op_tags(lm, req, req->path + tpl, req->path_len - tpl);
        return;
    }
    if (remove_permission(lm, req))
        return;
    const char *seg = NULL;
    size_t segl = 0;
    bool path_known;
    const struct route *hit = match(req, &seg, &segl, &path_known);
    if (hit == NULL) {
        if (path_known)
            proto_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        else
            proto_error(req, ERR_UNKNOWN_PATH,
                        "Unknown operation: no Lambda API answers this path");
        return;
    }
    if (hit->op == OP_CREATE) {
        op_create(lm, req);
        return;
    }
    /* the model first (every member, one message), then the service's own checks */
    const char *model = model_op(hit->op);
    json_t *doc = NULL;
    if (model != NULL && model_checks_body(hit->op) && req->body_len > 0)
        doc = jsonh_parse(req->body, req->body_len, NULL, 0); /* not JSON: the op says so */
    if (model != NULL && (req->body_len == 0 || !model_checks_body(hit->op) || doc != NULL) &&
        !model_ok(model, req, seg, segl, "FunctionName", doc, NULL, 0)) {
        json_decref(doc);
        return;
    }
    if (hit->op == OP_LIST) {
        op_list(lm, req);
        return;
    }
    char name[80], msg[1024];
    enum err e = path_name(seg, segl, name, sizeof name, msg, sizeof msg);
    char qual[512];
    if (e == ERR_OK &&
        query_param(req->query, req->query_len, "Qualifier", qual, sizeof qual) >= 0 &&
        strcmp(qual, "$LATEST") != 0) {
        e = ERR_LAMBDA_NOT_FOUND;
        snprintf(msg, sizeof msg,
                 "Function not found: arn:aws:lambda:%s:000000000000:function:%s:%s",
                 lambda_region(lm), name, qual);
    }
    if (e != ERR_OK) {
        proto_error(req, e, msg);
        json_decref(doc);
        return;
    }
    struct lambda_fn *fn = find_or_404(lm, req, name);
    if (fn == NULL) {
        json_decref(doc);
        return;
    }
    struct call *c = NULL;
    switch (hit->op) {
    case OP_GET:
        send_json(req, 200, get_function_json(rs, fn));
        break;
    case OP_GET_CONFIG:
        send_json(req, 200, config_json(fn));
        break;
    case OP_DELETE:
        if ((c = call_new(lm, req, ANSWER_EMPTY, name)) != NULL)
            lambda_fn_delete(lm, name, call_done, c);
        break;
    case OP_UPDATE_CONFIG:
        op_update_config(lm, req, name);
        break;
    case OP_UPDATE_CODE:
        op_update_code(lm, req, name, doc);
        break;
    case OP_INVOKE:
        op_invoke(lm, req, fn);
        break;
    case OP_PUT_CONCURRENCY:
        op_put_concurrency(lm, req, name);
        break;
    case OP_GET_CONCURRENCY: {
        struct lambda_fn_info i;
        lambda_fn_info(fn, &i);
        send_json(req, 200,
                  i.reserved >= 0 ? json_pack("{s:i}", "ReservedConcurrentExecutions", i.reserved)
                                  : json_object());
        break;
    }
    case OP_DELETE_CONCURRENCY:
        if ((c = call_new(lm, req, ANSWER_EMPTY, name)) != NULL)
            lambda_fn_set_concurrency(lm, name, -1, call_done, c);
        break;
    case OP_LIST_VERSIONS:
        /* no published versions here: $LATEST is the only one */
        send_json(req, 200, json_pack("{s:[o]}", "Versions", config_json(fn)));
        break;
    case OP_GET_CODE_SIGNING:
        send_json(req, 200,
                  json_pack("{s:s, s:s}", "CodeSigningConfigArn", "", "FunctionName", name));
        break;
    case OP_PUT_EVENT_CONFIG:
    case OP_UPDATE_EVENT_CONFIG:
        if (hit->op == OP_UPDATE_EVENT_CONFIG && !lambda_fn_event_config(fn)->set)
            no_event_config(lm, req, fn);
        else
            op_event_config(lm, req, fn, hit->op == OP_UPDATE_EVENT_CONFIG);
        break;
    case OP_GET_EVENT_CONFIG:
        if (!lambda_fn_event_config(fn)->set)
            no_event_config(lm, req, fn);
        else
            send_json(req, 200, event_config_json(fn));
        break;
    case OP_DELETE_EVENT_CONFIG:
        if (!lambda_fn_event_config(fn)->set)
            no_event_config(lm, req, fn);
        else if ((c = call_new(lm, req, ANSWER_EMPTY, name)) != NULL)
            lambda_fn_delete_event_config(lm, fn, call_done, c);
        break;
    case OP_ADD_PERMISSION:
        op_add_permission(lm, req, fn, name);
        break;
    case OP_GET_POLICY:
        op_get_policy(req, fn);
        break;
    case OP_LIST_EVENT_CONFIGS: {
        json_t *arr = json_array();
        if (lambda_fn_event_config(fn)->set)
            json_array_append_new(arr, event_config_json(fn));
        send_json(req, 200, json_pack("{s:o}", "FunctionEventInvokeConfigs", arr));
        break;
    }
    default:
        break;
    }
    json_decref(doc);
}

static void rest_handle(void *engine, struct proto_req *req)
{
    handle(engine, req);
}

static void rest_error_body(enum err e, const char *msg, struct buf *out)
{
    err_rest_json_body(e, msg, out);
}

void lambda_rest_init(struct lambda_rest *rs, struct lambda *lm, const char *region,
                      uint16_t aws_port)
{
    memset(rs, 0, sizeof *rs);
    rs->lm = lm;
    rs->region = region;
    rs->aws_port = aws_port;
    memcpy(rs->presign_key, "HAARCODE", 8);
    ids_alnum_upper(rs->presign_key + 8, 12);
    ids_secret(rs->presign_secret, 40);
}

/* ---- the presigned package download ---- */

struct download {
    struct work w;
    struct proto_req *req; /* NULL once the client went away */
    char path[4200];
    struct buf data;
    int rc;
};

static void download_gone(void *arg)
{
    struct download *d = arg;
    d->req = NULL;
}

static void download_run(struct work *w)
{
    struct download *d = w->data;
    FILE *f = fopen(d->path, "rb");
    d->rc = -1;
    if (f == NULL)
        return;
    char chunk[65536];
    size_t got;
    d->rc = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&d->data, chunk, got) != BUF_OK) {
            d->rc = -1;
            break;
        }
    fclose(f);
}

static void download_done(struct work *w)
{
    struct download *d = w->data;
    if (d->req != NULL) {
        proto_on_gone(d->req, NULL, NULL);
        if (d->rc != 0) {
            proto_error(d->req, ERR_LAMBDA_NOT_FOUND, "No deployment package for this function");
        } else {
            struct proto_hdr h[1] = {{"content-type", "application/zip", 0}};
            proto_respond(d->req, 200, h, 1, d->data.data ? d->data.data : "", d->data.len);
        }
    }
    buf_destroy(&d->data);
    free(d);
}

static const char *presign_secret(void *arg, const char *key, const char *token)
{
    const struct lambda_rest *rs = arg;
    return strcmp(key, rs->presign_key) == 0 && token[0] == '\0' ? rs->presign_secret : NULL;
}

void lambda_rest_code_download(void *arg, struct proto_req *req)
{
    struct lambda_rest *rs = arg;
    static const struct proto_service plain = {.name = "lambda", .protocol = PROTO_PLAIN};
    req->service = &plain;
    struct sigv4_header h = {"host", 4, req->authority, req->authority_len};
    struct sigv4_request sr = {.method = req->method,
                               .method_len = req->method_len,
                               .path = req->path,
                               .path_len = req->path_len,
                               .query = req->query,
                               .query_len = req->query_len,
                               .headers = &h,
                               .nheaders = 1};
    char msg[4096];
    if (!proto_method_is(req, "GET") ||
        sigv4_verify(&sr, rs->region, "lambda", true, clock_real_now_ms(), presign_secret, rs, msg,
                     sizeof msg) != SIGV4_OK) {
        struct proto_hdr ct = {"content-type", "application/xml", 0};
        static const char denied[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                                     "AccessDenied</Code><Message>Request has expired or its "
                                     "signature does not match</Message></Error>";
        proto_respond(req, 403, &ct, 1, denied, sizeof denied - 1);
        return;
    }
    char name[80];
    size_t pl = strlen(CODE_PATH);
    struct lambda_fn *fn = NULL;
    if (req->path_len > pl && req->path_len - pl < sizeof name) {
        memcpy(name, req->path + pl, req->path_len - pl);
        name[req->path_len - pl] = '\0';
        fn = lambda_fn_find(rs->lm, name);
    }
    struct lambda_fn_info i;
    if (fn != NULL)
        lambda_fn_info(fn, &i);
    struct download *d = fn && i.code_zip ? calloc(1, sizeof *d) : NULL;
    if (d == NULL) {
        proto_error(req, ERR_LAMBDA_NOT_FOUND, "No deployment package for this function");
        return;
    }
    snprintf(d->path, sizeof d->path, "%s", i.code_zip);
    buf_init(&d->data, 80u << 20);
    d->req = req;
    d->w = (struct work){.run = download_run, .done = download_done, .data = d};
    proto_on_gone(req, download_gone, d);
    work_submit(&d->w); /* reading up to 70 MB stays off the loop */
}

static const char *const paths[] = {"/2015-03-31/functions",
                                    "/2017-03-31/tags/",
                                    "/2017-10-31/functions/",
                                    "/2019-09-30/functions/",
                                    "/2020-06-30/functions/",
                                    "/2019-09-25/functions/",
                                    NULL};

void lambda_rest_service(struct lambda_rest *rs, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "lambda",
        .protocol = PROTO_REST_JSON,
        .paths = paths,
        .max_body = 72 * 1024 * 1024,
        .handle = rest_handle,
        .engine = rs,
        .rest_error_body = rest_error_body,
    };
}
